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
The worker pipeline: newest-frame queues per source, N workers, results in input order.

No ROS here. The node submits frames from its subscription callbacks (never blocking), workers
from a :class:`concurrent.futures.ThreadPoolExecutor` run ``process`` on them, and ``deliver``
is called with each result in the order the frames of its source were submitted.

Frames carry a source key (a camera): each source has its own newest-frame queue, a free
worker takes the frame that has waited longest across sources so that a flooding camera cannot
starve a slow one, and the in-order guarantee holds per source, so one camera's slow frame
never holds back another camera's results. Without a source key everything is one source,
:data:`DEFAULT_SOURCE`.

A frame whose work splits into independent items (a detector's boxes) hands them out with
:meth:`Pipeline.spread`: workers with nothing else running take them before any new frame, so a
frame of N boxes takes about ceil(N / workers) inference times instead of N, and no more than
``workers`` threads ever run at once.

When a source's queue is full its oldest waiting frame is dropped; every frame ends up counted
exactly once, for its source and in the total, as published, dropped (with a reason), bad (its
data could not be converted) or failed (anything else went wrong: the backend raised, or
publishing did). A worker survives whatever a frame throws.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
import threading
import time
from typing import Any, Callable, Deque, Dict, Hashable, List, Optional, Tuple

import numpy as np

DROP_REASONS = ('queue_full', 'rate_limit', 'shutdown')
#: The source of frames submitted without one: a single camera.
DEFAULT_SOURCE = ''
LATENCY_STAGES = ('preprocess', 'inference', 'end_to_end')


class DropFrame(Exception):
    """Raised by ``deliver`` to count a finished frame as dropped (with a reason) instead."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Job:
    """One frame on its way through the pipeline; ``seq`` counts the frames of its source."""

    seq: int
    payload: Any
    received: float = field(default_factory=time.monotonic)
    source: Hashable = DEFAULT_SOURCE


class LatencyWindow:
    """The last ``size`` samples of a latency, for median and p99; feeds a total window too."""

    def __init__(self, size: int = 300, parent: Optional['LatencyWindow'] = None):
        self._samples: Deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._parent = parent

    def add(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)
        if self._parent is not None:
            self._parent.add(seconds)

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
    """
    Counters and latency windows, safe to read from any thread.

    A source's stats have the total as ``parent``: whatever is counted or timed for the source
    is counted or timed in the total too.
    """

    def __init__(self, parent: Optional['PipelineStats'] = None):
        self._lock = threading.Lock()
        self._parent = parent
        self.received = 0
        self.published = 0
        self.bad = 0
        self.failed = 0
        self.lost = 0  # reported lost by the transport before reaching the node: not received
        self.dropped = dict.fromkeys(DROP_REASONS, 0)
        self.max_queue = 0
        self.latency = {k: LatencyWindow(parent=parent.latency[k] if parent else None)
                        for k in LATENCY_STAGES}

    def count(self, what: str, reason: Optional[str] = None, n: int = 1) -> None:
        """
        Add to a counter, here and in the total.

        :param what: ``received``, ``published``, ``dropped``, ``bad``, ``failed`` or ``lost``.
        :param reason: for ``dropped``: one of :data:`DROP_REASONS`, or any other short key
            (reported as ``dropped_<reason>`` from its first count on; count ``n=0`` to list it
            from the start).
        :param n: how many.
        """
        with self._lock:
            if what == 'dropped':
                self.dropped[reason] = self.dropped.get(reason, 0) + n
            else:
                setattr(self, what, getattr(self, what) + n)
        if self._parent is not None:
            self._parent.count(what, reason, n)

    def refused(self, what: str, reason: Optional[str] = None) -> None:
        """
        Count a frame that never reaches a worker: received, then dropped or bad.

        :param what: ``dropped`` or ``bad``.
        :param reason: for ``dropped``, why (see :meth:`count`).
        """
        self._received()
        self.count(what, reason)

    # The two counts every frame makes, without count()'s generality (the hot path).
    def _received(self) -> None:
        with self._lock:
            self.received += 1
        parent = self._parent
        if parent is not None:
            with parent._lock:
                parent.received += 1

    def _published(self, seconds: float) -> None:
        with self._lock:
            self.published += 1
        self.latency['end_to_end'].add(seconds)
        parent = self._parent
        if parent is not None:
            with parent._lock:
                parent.published += 1

    def _queued(self, depth: int) -> None:
        # Called under the pipeline's lock, which serialises these updates.
        if depth > self.max_queue:
            self.max_queue = depth
            if self._parent is not None and depth > self._parent.max_queue:
                self._parent.max_queue = depth

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
            snap['dropped'] = sum(self.dropped.values())
        return snap


class _Source:
    """One source's queue, ordering cursor and stats."""

    __slots__ = ('key', 'queue', 'stats', 'next_seq', 'next_out', 'done', 'out_lock',
                 'in_flight')

    def __init__(self, key: Hashable, total: PipelineStats):
        self.key = key
        self.queue: Deque[Job] = deque()
        self.stats = PipelineStats(parent=total)
        self.next_seq = 0
        self.next_out = 0
        self.done: Dict[int, Tuple[Job, Any, bool]] = {}
        self.out_lock = threading.Lock()
        self.in_flight = 0


#: ``pipeline``: the pipeline whose worker this thread is now (None or absent: none).
_worker = threading.local()


def _oldest_waiting(src: _Source) -> float:
    return src.queue[0].received


class _Spread:
    """One frame's items handed out among the workers: which is next, how many are left."""

    __slots__ = ('fn', 'items', 'results', 'next', 'left', 'done', 'error')

    def __init__(self, fn: Callable[[Any], Any], items: List[Any]):
        self.fn = fn
        self.items = items
        self.results: List[Any] = [None] * len(items)
        self.next = 0  # the first item nobody has taken
        self.left = len(items)  # items not finished
        self.done = threading.Event()
        self.error: Optional[BaseException] = None


class Pipeline:
    """Newest-frame queues per source, one worker pool, in-order delivery per source."""

    def __init__(self, process: Callable[[Job], Any], deliver: Callable[[Job, Any], None],
                 on_error: Callable[[Job, Exception], None], workers: int = 1,
                 queue_size: int = 2, error_types: tuple = (Exception,),
                 name: str = ''):
        """
        Start the workers.

        :param process: turns a job into a result (runs on a worker thread).
        :param deliver: called with each job and result in submission order of the job's
            source (any thread; two sources may deliver at the same time).
        :param on_error: called with a job and the exception its ``process`` (or ``deliver``)
            raised; ``error_types`` count as bad, anything else as failed.
        :param workers: number of worker threads, shared by all sources.
        :param queue_size: frames of each source that may wait for a worker; older ones are
            dropped.
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
        self._sources: Dict[Hashable, _Source] = {}
        self._ready: Deque[_Source] = deque()  # sources with frames waiting
        self._spreads: Deque[_Spread] = deque()  # spreads with items nobody has taken yet
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running_tasks = 0
        self._in_flight = 0
        self._closed = False
        self._abandoned = False
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix=f'repvit_worker{name}')

    def _source(self, key: Hashable) -> _Source:
        # Called under self._lock.
        src = self._sources.get(key)
        if src is None:
            src = self._sources[key] = _Source(key, self.stats)
        return src

    @property
    def sources(self) -> Tuple[Hashable, ...]:
        """Give the source keys seen so far, in the order they first appeared."""
        with self._lock:
            return tuple(self._sources)

    def stats_of(self, source: Hashable = DEFAULT_SOURCE) -> PipelineStats:
        """
        Give a source's counters and latency windows, adding the source if it is new.

        Count and time through these (``stats_of(cam).count('dropped', 'rate_limit')``,
        ``stats_of(job.source).latency['inference'].add(s)``): they feed the total
        (:attr:`stats`) as well. Counting into :attr:`stats` directly reaches no source.

        :param source: the source key.
        :return: that source's stats.
        """
        with self._lock:
            return self._source(source).stats

    @property
    def queue_depth(self) -> int:
        """Give the number of frames waiting for a worker, all sources together."""
        with self._lock:
            return sum(len(src.queue) for src in self._sources.values())

    def report(self, source: Optional[Hashable] = None) -> Dict[str, Any]:
        """
        Read every counter, the queue depth, and the latency medians and p99s.

        :param source: a source key, or None for the total of all sources.
        :return: received, published, dropped (and by reason), bad, failed, lost, max_queue
            (the longest any one source's queue has been), queue_depth (frames waiting now),
            and ``<stage>_median_ms``/``_p99_ms``/``_count`` for preprocess, inference and
            end_to_end.
        """
        if source is None:
            stats, depth = self.stats, self.queue_depth
        else:
            with self._lock:
                src = self._source(source)
                stats, depth = src.stats, len(src.queue)
        snap = stats.snapshot()
        snap['queue_depth'] = depth
        for name, window in stats.latency.items():
            for key, value in window.summary().items():
                snap[f'{name}_{key}'] = value
        return snap

    def submit(self, payload: Any, source: Hashable = DEFAULT_SOURCE) -> Optional[int]:
        """
        Queue a frame; never blocks on inference.

        :param payload: what ``process`` needs for this frame.
        :param source: the frame's source (camera) key.
        :return: the frame's sequence number within its source, or None after :meth:`close`.
        """
        dropped = None
        with self._lock:
            if self._closed:
                return None
            src = self._sources.get(source)
            if src is None:
                src = self._source(source)
            seq = src.next_seq
            src.next_seq = seq + 1
            job = Job(seq, payload, time.monotonic(), source)
            src.stats._received()
            src.in_flight += 1
            self._in_flight += 1
            # A frame goes to a worker at once when one is free (it is claimed here, not when
            # the worker thread gets round to it); only frames no worker can take wait. A free
            # worker means no source has frames waiting.
            start = self._running_tasks < self._workers
            if start:
                self._running_tasks += 1
            else:
                queue = src.queue
                if not queue:
                    self._ready.append(src)
                queue.append(job)
                if len(queue) > self._queue_size:
                    dropped = queue.popleft()
                src.stats._queued(len(queue))
        if dropped is not None:
            src.stats.count('dropped', 'queue_full')
            self._complete(src, dropped, None, False)
        if start:
            self._pool.submit(self._work, job, src)
        return seq

    def spread(self, fn: Callable[[Any], Any], items: List[Any]) -> List[Any]:
        """
        Run ``fn`` on every item, sharing the items with the workers that are free.

        Called from a worker's ``process``: the calling worker runs items itself until none is
        left to take; workers that have no frame running (up to the pipeline's worker count,
        the caller included) take the rest, before any new frame. Any other thread runs them
        all itself. Returns once every item is finished.

        :param fn: what to run on one item (any worker thread).
        :param items: the items.
        :return: ``fn``'s results, in the items' order.
        :raises BaseException: the first exception an item raised, once every item finished.
        """
        items = list(items)
        if len(items) < 2 or self._workers == 1 or getattr(_worker, 'pipeline', None) is not self:
            # One item, one worker, or a caller that is not one of the workers (its own
            # thread is not counted among them): the caller runs them all.
            return [fn(item) for item in items]
        sp = _Spread(fn, items)
        with self._lock:
            helpers = 0 if self._closed else \
                min(self._workers - self._running_tasks, len(items) - 1)
            self._running_tasks += helpers
            self._spreads.append(sp)
        for _ in range(helpers):
            self._pool.submit(self._work, None, None)
        while True:
            with self._lock:
                i = self._claim(sp)
            if i is None:
                break
            self._run_item(sp, i)
        sp.done.wait()
        if sp.error is not None:
            raise sp.error
        return sp.results

    def _run_item(self, sp: _Spread, i: int) -> None:
        try:
            sp.results[i] = sp.fn(sp.items[i])
        except BaseException as exc:  # noqa: B902 - given to the frame's worker, which raises it
            with self._lock:
                if sp.error is None:
                    sp.error = exc
        finally:
            with self._lock:
                sp.left -= 1
                if sp.left == 0:
                    sp.done.set()

    def _claim(self, sp: _Spread) -> Optional[int]:
        # Called under self._lock: the next item of ``sp`` nobody has taken (None: none left);
        # a spread whose last item is taken leaves the spreads waiting for workers.
        if sp.next == len(sp.items):
            return None
        i = sp.next
        sp.next += 1
        if sp.next == len(sp.items):
            self._spreads.remove(sp)
        return i

    def _take_item(self) -> Optional[Tuple[_Spread, int]]:
        # Called under self._lock: the next item of the oldest spread, if any (a waiting
        # spread always has one).
        if not self._spreads:
            return None
        sp = self._spreads[0]
        return sp, self._claim(sp)

    def _run_items(self) -> None:
        while True:
            with self._lock:
                got = self._take_item()
            if got is None:
                return
            self._run_item(*got)

    def _take(self, leave: bool = True) -> Optional[Tuple[Job, _Source]]:
        # The next frame; None when none waits or other frames' items wait (they go first:
        # the frame stays queued for any worker that frees up meanwhile). With ``leave`` this
        # worker runs those items itself and looks again, and stops running when nothing waits.
        while True:
            with self._lock:
                if self._spreads:
                    if not leave:
                        return None
                    got = self._take_item()
                elif self._ready:
                    # The frame that has waited longest, whichever its source: a flooding
                    # camera's queue holds only its newest frames, so a slow camera's frame
                    # goes first. (By turns, a slow camera's frame waited behind one frame of
                    # every other source and was pushed out by its own next frame when the
                    # workers were slow: 2-30 % of a 5 Hz camera's frames beside a flood,
                    # measured in the executable.)
                    src = min(self._ready, key=_oldest_waiting)
                    self._ready.remove(src)
                    job = src.queue.popleft()
                    if src.queue:
                        self._ready.append(src)
                    return job, src
                elif not leave:
                    return None
                else:
                    self._running_tasks -= 1
                    return None
            self._run_item(*got)

    def _work(self, job: Optional[Job], src: Optional[_Source]) -> None:
        # A worker: frames (and other frames' items, first) until nothing is left to run.
        _worker.pipeline = self
        try:
            self._work_loop(job, src)
        finally:
            _worker.pipeline = None

    def _work_loop(self, job: Optional[Job], src: Optional[_Source]) -> None:
        while True:
            if job is not None:
                try:
                    result = self._process(job)
                except Exception as exc:  # noqa: B902 - a worker must outlive any frame
                    if self._abandoned:
                        return
                    src.stats.count('bad' if isinstance(exc, self._error_types) else 'failed')
                    self._report(job, exc)
                    result, ok = None, False
                else:
                    ok = True
                # Take the next frame before publishing this result: whoever reacts to the
                # result (a closed-loop sender) must find this worker's queue slot free again,
                # or a frame sent at exactly the node's pace would push a waiting one out.
                nxt = self._take(leave=False)
                self._complete(src, job, result, ok)
                job = None
                if nxt is not None:
                    job, src = nxt
            # Items of frames already running go before a new frame.
            self._run_items()
            if job is None:
                nxt = self._take()
                if nxt is None:
                    return
                job, src = nxt

    def _report(self, job: Job, exc: Exception) -> None:
        try:
            self._on_error(job, exc)
        except Exception:  # noqa: B902 - reporting must not take the worker down either
            pass

    def _complete(self, src: _Source, job: Job, result: Any, deliver: bool) -> None:
        # Deliver strictly in the source's submission order; dropped and bad frames only
        # advance its cursor. Each source has its own lock: sources never wait for each other.
        with src.out_lock:
            if self._abandoned:
                return  # close() gave up on this frame and counted it already
            done = src.done
            done[job.seq] = (job, result, deliver)
            finished = 0
            while src.next_out in done:
                j, r, d = done.pop(src.next_out)
                src.next_out += 1
                finished += 1
                if d:
                    try:
                        self._deliver(j, r)
                    except DropFrame as drop:
                        src.stats.count('dropped', drop.reason)
                    except Exception as exc:  # noqa: B902 - counted and reported, not lost
                        src.stats.count('failed')
                        self._report(j, exc)
                    else:
                        src.stats._published(time.monotonic() - j.received)
            if finished:
                with self._lock:
                    src.in_flight -= finished
                    self._in_flight -= finished
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
        (``shutdown``) for their source now, and whatever their worker does later is neither
        delivered nor counted again.

        :param timeout: seconds to wait for frames already being processed.
        :return: how many frames were abandoned in their workers.
        """
        with self._lock:
            self._closed = True
            sources = list(self._sources.values())
            waiting = [(src, job) for src in sources for job in src.queue]
            for src in sources:
                src.queue.clear()
            self._ready.clear()
        for src, job in waiting:
            src.stats.count('dropped', 'shutdown')
            self._complete(src, job, None, False)
        idle = self.wait_idle(timeout)
        abandoned = 0
        if not idle:
            uncounted: List[Tuple[_Source, int]] = []
            with ExitStack() as locks:
                for src in sources:  # always in this order; _complete holds one at a time
                    locks.enter_context(src.out_lock)
                locks.enter_context(self._lock)
                for src in sources:
                    # Frames still out: in a worker, or finished but waiting for an earlier
                    # one. Those waiting undelivered were counted already (dropped, bad,
                    # failed).
                    counted = sum(1 for _, _, deliver in src.done.values() if not deliver)
                    uncounted.append((src, src.in_flight - counted))
                    abandoned += src.in_flight - len(src.done)
                    src.in_flight = 0
                    src.done.clear()
                self._abandoned = True
                self._in_flight = 0
            for src, n in uncounted:
                if n:
                    src.stats.count('dropped', 'shutdown', n=n)
        self._pool.shutdown(wait=idle, cancel_futures=True)
        return abandoned


class Route:
    """
    What one source's frames go through: accepted, processed on a worker, published.

    Each camera of the node has one route, chosen once when the node is configured (whole
    frames, or a detector's regions). :meth:`accept` takes each frame and submits what is ready
    under the source's key; a worker runs :meth:`process` on it with the model in use;
    :meth:`publish` sends the result out, in the source's submission order. A frame the route
    gives up before the workers is counted with ``stats.refused``.
    """

    def __init__(self, pipeline: Pipeline, source: Hashable = DEFAULT_SOURCE):
        """
        Bind the route to its source in the pipeline.

        :param pipeline: the workers.
        :param source: the source key (the camera's name).
        """
        self._pipeline = pipeline
        self.source = source
        self.stats = pipeline.stats_of(source)

    def accept(self, frame: Any) -> None:
        """
        Take a frame; this route submits every frame to the workers as it is.

        :param frame: the wrapped frame.
        """
        self._pipeline.submit(frame, self.source)

    def process(self, payload: Any, classifier: Any, settings: Any) -> Any:
        """
        Turn a submitted payload into a result (on a worker thread).

        :param payload: what :meth:`accept` submitted.
        :param classifier: the model in use for this payload.
        :param settings: the node's settings now.
        :return: the result for :meth:`publish`.
        """
        raise NotImplementedError

    def publish(self, result: Any, labels: List[str]) -> None:
        """
        Send a result out.

        :param result: from :meth:`process`.
        :param labels: the class names of the model in use.
        """
        raise NotImplementedError

    def subscribe(self, node: Any) -> None:
        """
        Start the route's own inputs on a node (this route has none).

        :param node: the node.
        """

    def expire(self) -> None:
        """Drop what has waited too long (nothing waits on this route)."""

    def close(self) -> None:
        """Stop the route's own inputs; whatever waits is dropped and counted."""

    @property
    def publishers(self) -> List[Any]:
        """Give the route's own publishers, for the node to destroy."""
        return []

    def report(self) -> Dict[str, int]:
        """
        Read the route's own counters.

        :return: counter name -> value (none on this route).
        """
        return {}
