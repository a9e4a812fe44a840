# Copyright 2026 repvit_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
The worker pipeline: a bounded newest-frame queue, N workers, results in input order.

No ROS here. The node submits frames from its subscription callback (never blocking), workers
from a :class:`concurrent.futures.ThreadPoolExecutor` run ``process`` on them, and ``deliver``
is called with each result in the order the frames were submitted. When the queue is full the
oldest waiting frame is dropped; every frame ends up counted exactly once as published,
dropped (with a reason), bad (its data could not be converted) or failed (anything else went
wrong: the backend raised, or publishing did). A worker survives whatever a frame throws.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional

import numpy as np

DROP_REASONS = ('queue_full', 'rate_limit', 'shutdown')


class DropFrame(Exception):
    """Raised by ``deliver`` to count a finished frame as dropped (with a reason) instead."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Job:
    """One frame on its way through the pipeline."""

    seq: int
    payload: Any
    received: float = field(default_factory=time.monotonic)


class LatencyWindow:
    """The last ``size`` samples of a latency, for median and p99."""

    def __init__(self, size: int = 300):
        self._samples: Deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)

    def summary(self) -> Dict[str, float]:
        """
        Median and p99 in milliseconds over the window.

        :return: ``{'median_ms': .., 'p99_ms': .., 'count': ..}`` (NaN when empty).
        """
        with self._lock:
            data = np.array(self._samples, np.float64)
        if data.size == 0:
            return {'median_ms': float('nan'), 'p99_ms': float('nan'), 'count': 0}
        return {'median_ms': float(np.median(data) * 1e3),
                'p99_ms': float(np.percentile(data, 99) * 1e3), 'count': int(data.size)}


class PipelineStats:
    """Counters and latency windows, safe to read from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.received = 0
        self.published = 0
        self.bad = 0
        self.failed = 0
        self.lost = 0  # reported lost by the transport before reaching the node: not received
        self.dropped = dict.fromkeys(DROP_REASONS, 0)
        self.max_queue = 0
        self.latency = {k: LatencyWindow() for k in ('preprocess', 'inference', 'end_to_end')}

    def count(self, what: str, reason: Optional[str] = None, n: int = 1) -> None:
        with self._lock:
            if what == 'dropped':
                self.dropped[reason] += n
            else:
                setattr(self, what, getattr(self, what) + n)

    def snapshot(self) -> Dict[str, Any]:
        """
        Read every counter at once.

        :return: a dict of the counters.
        """
        with self._lock:
            snap = {'received': self.received, 'published': self.published, 'bad': self.bad,
                    'failed': self.failed, 'lost': self.lost,
                    'max_queue': self.max_queue}
            snap.update({f'dropped_{k}': v for k, v in self.dropped.items()})
        snap['dropped'] = sum(snap[f'dropped_{k}'] for k in DROP_REASONS)
        return snap


class Pipeline:
    """Newest-frame queue, worker pool and in-order delivery."""

    def __init__(self, process: Callable[[Job], Any], deliver: Callable[[Job, Any], None],
                 on_error: Callable[[Job, Exception], None], workers: int = 1,
                 queue_size: int = 2, error_types: tuple = (Exception,),
                 name: str = ''):
        """
        Start the workers.

        :param process: turns a job into a result (runs on a worker thread).
        :param deliver: called with each job and result in submission order (any thread).
        :param on_error: called with a job and the exception its ``process`` (or ``deliver``)
            raised; ``error_types`` count as bad, anything else as failed.
        :param workers: number of worker threads.
        :param queue_size: frames that may wait for a worker; older ones are dropped.
        :param error_types: exceptions that mark a frame bad rather than failed.
        :param name: worker threads are named ``repvit_worker<name>``.
        """
        if workers < 1 or queue_size < 1:
            raise ValueError('workers and queue_size must be at least 1')
        self.stats = PipelineStats()
        self._process = process
        self._deliver = deliver
        self._on_error = on_error
        self._error_types = error_types
        self._workers = workers
        self._queue_size = queue_size
        self._queue: Deque[Job] = deque()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running_tasks = 0
        self._in_flight = 0
        self._next_seq = 0
        self._next_out = 0
        self._done: Dict[int, tuple] = {}
        self._out_lock = threading.Lock()
        self._closed = False
        self._abandoned = False
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix=f'repvit_worker{name}')

    @property
    def queue_depth(self) -> int:
        with self._lock:
            return len(self._queue)

    def report(self) -> Dict[str, Any]:
        """
        Read every counter, the queue depth, and the latency medians and p99s.

        :return: received, published, dropped (and by reason), bad, failed, lost, max_queue,
            queue_depth, and ``<stage>_median_ms``/``_p99_ms``/``_count`` for preprocess,
            inference and end_to_end.
        """
        snap = self.stats.snapshot()
        snap['queue_depth'] = self.queue_depth
        for name, window in self.stats.latency.items():
            for key, value in window.summary().items():
                snap[f'{name}_{key}'] = value
        return snap

    def submit(self, payload: Any) -> Optional[int]:
        """
        Queue a frame; never blocks on inference.

        :param payload: what ``process`` needs for this frame.
        :return: the frame's sequence number, or None after :meth:`close`.
        """
        dropped: List[Job] = []
        with self._lock:
            if self._closed:
                return None
            job = Job(self._next_seq, payload)
            self._next_seq += 1
            self.stats.count('received')
            self._in_flight += 1
            # A frame goes to a worker at once when one is free (it is claimed here, not when
            # the worker thread gets round to it); only frames no worker can take wait.
            start = self._running_tasks < self._workers
            if start:
                self._running_tasks += 1
            else:
                self._queue.append(job)
                while len(self._queue) > self._queue_size:
                    dropped.append(self._queue.popleft())
                self.stats.max_queue = max(self.stats.max_queue, len(self._queue))
        for old in dropped:
            self.stats.count('dropped', 'queue_full')
            self._complete(old, None, deliver=False)
        if start:
            self._pool.submit(self._work, job)
        return job.seq

    def _take(self) -> Optional[Job]:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            self._running_tasks -= 1
            return None

    def _work(self, job: Optional[Job]) -> None:
        while job is not None:
            try:
                result = self._process(job)
            except Exception as exc:  # noqa: B902 - a worker must outlive any frame
                if self._abandoned:
                    return
                self.stats.count('bad' if isinstance(exc, self._error_types) else 'failed')
                self._report(job, exc)
                result, ok = None, False
            else:
                ok = True
            # Take the next frame before publishing this result: whoever reacts to the result
            # (a closed-loop sender) must find this worker's queue slot free again, or a frame
            # sent at exactly the node's pace would push a waiting one out.
            nxt = self._take()
            self._complete(job, result, deliver=ok)
            job = nxt

    def _report(self, job: Job, exc: Exception) -> None:
        try:
            self._on_error(job, exc)
        except Exception:  # noqa: B902 - reporting must not take the worker down either
            pass

    def _complete(self, job: Job, result: Any, deliver: bool) -> None:
        # Deliver strictly in submission order; dropped and bad frames only advance the cursor.
        with self._out_lock:
            if self._abandoned:
                return  # close() gave up on this frame and counted it already
            self._done[job.seq] = (job, result, deliver)
            while self._next_out in self._done:
                j, r, d = self._done.pop(self._next_out)
                self._next_out += 1
                if d:
                    try:
                        self._deliver(j, r)
                    except DropFrame as drop:
                        self.stats.count('dropped', drop.reason)
                    except Exception as exc:  # noqa: B902 - counted and reported, not lost
                        self.stats.count('failed')
                        self._report(j, exc)
                    else:
                        self.stats.count('published')
                        self.stats.latency['end_to_end'].add(time.monotonic() - j.received)
                with self._lock:
                    self._in_flight -= 1
                    if self._in_flight == 0:
                        self._idle.notify_all()

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        """
        Wait until every submitted frame is delivered, dropped, or counted bad or failed.

        :param timeout: seconds, or None to wait for ever.
        :return: True when idle.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self, timeout: float = 2.0) -> int:
        """
        Stop taking frames, drop the waiting ones, and wait at most ``timeout`` for the rest.

        Frames still in a worker after ``timeout`` are abandoned: counted as dropped
        (``shutdown``) now, and whatever their worker does later is neither delivered nor
        counted again.

        :param timeout: seconds to wait for frames already being processed.
        :return: how many frames were abandoned in their workers.
        """
        with self._lock:
            self._closed = True
            waiting = list(self._queue)
            self._queue.clear()
        for job in waiting:
            self.stats.count('dropped', 'shutdown')
            self._complete(job, None, deliver=False)
        idle = self.wait_idle(timeout)
        abandoned = 0
        if not idle:
            with self._out_lock, self._lock:
                # Frames still out: in a worker, or finished but waiting for an earlier one.
                # Those waiting undelivered were counted already (dropped, bad, failed).
                counted = sum(1 for _, _, deliver in self._done.values() if not deliver)
                uncounted = self._in_flight - counted
                abandoned = self._in_flight - len(self._done)
                self._abandoned = True
                self._in_flight = 0
                self._done.clear()
            self.stats.count('dropped', 'shutdown', n=uncounted)
        self._pool.shutdown(wait=idle, cancel_futures=True)
        return abandoned
