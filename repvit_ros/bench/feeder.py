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
Feed frames to a classifier over DDS and time what comes back.

:class:`Feeder` publishes frames to ``<ns>/image``, either closed-loop (a fixed number of frames
in flight, the next one sent when a result comes back: "as fast as the node takes them") or at a
fixed rate, and times every Classification from the frame's stamp to its arrival. It also reads
the node's /diagnostics counters, so a run can check that every frame sent was published,
dropped or counted bad.
"""

import itertools
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.frames import message_class
from repvit_ros.memory import tune_allocator
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Classification

# next_frame(i) -> (message, good): good frames are expected to come back as a Classification.
FrameSource = Callable[[int], Tuple[Any, bool]]
KEEP_RESULTS = 1000


class Feeder:
    """
    Publish frames to ``<ns>/image`` and time the Classifications on ``<ns>/classification``.

    Owns an rclpy context of its own, so it can live next to other rclpy users in a process.

    :param ns: the node's namespace.
    :param msg_type: ``image`` or ``compressed``.
    :param node_name: the node's name, to find its diagnostics.
    :param depth: depth of the frame publisher's history (reliable, keep-last).
    """

    _ids = itertools.count()

    def __init__(self, ns: str, msg_type: str = 'image', node_name: str = 'repvit_classifier',
                 depth: int = 10):
        tune_allocator()  # a camera publishing frames gains from it like the node
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(f'repvit_feeder_{os.getpid()}_{next(self._ids)}',
                                      context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.ns = ns
        self.msg_type = msg_type
        self.result_topic = f'{ns}/classification'
        self.pub = self.node.create_publisher(
            message_class(msg_type), f'{ns}/image',
            QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE))
        self.results_sub = self.node.create_subscription(
            Classification, self.result_topic, self._on_result,
            QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diag, 50)
        self._diag_name = f'{ns}/{node_name}: classifier'
        self._diag: Dict[str, str] = {}
        self._diag_at = 0.0
        self._sent: Dict[int, Tuple[float, bool]] = {}
        self._results: List[Tuple[float, float]] = []
        self._last_stamp = 0
        self._on_good_result: Optional[Callable[[int], None]] = None
        self._lost = 0
        #: the Classification and its latency (s) per frame stamp (ns), newest KEEP_RESULTS
        self.messages: Dict[int, Tuple[Any, float]] = {}

    # ------------------------------------------------------------------ plumbing
    def _on_result(self, msg) -> None:
        now = time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        sent = self._sent.pop(stamp, None)
        if sent is None:
            return  # not ours (an earlier run's straggler)
        self.messages[stamp] = (msg, now - sent[0])
        if len(self.messages) > KEEP_RESULTS:
            del self.messages[next(iter(self.messages))]
        self._results.append((now, now - sent[0]))
        # Results come in input order, so every earlier frame still outstanding was dropped.
        lost = list(itertools.takewhile(lambda s: s < stamp, self._sent))
        for s in lost:
            del self._sent[s]
        self._lost += len(lost)
        if self._on_good_result is not None:
            self._on_good_result(1 + len(lost))

    def _on_diag(self, msg) -> None:
        for status in msg.status:
            if status.name == self._diag_name:
                self._diag = {kv.key: kv.value for kv in status.values}
                self._diag_at = time.monotonic()

    def watch_pictures(self) -> List[Any]:
        """
        Subscribe to the node's annotated image and its JPEG, as a viewer would.

        :return: the two subscriptions (destroy them to stop watching).
        """
        qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        subs = [self.node.create_subscription(Image, f'{self.ns}/annotated_image',
                                              lambda _: None, qos),
                self.node.create_subscription(CompressedImage,
                                              f'{self.ns}/annotated_image/compressed',
                                              lambda _: None, qos)]
        self.spin_until(lambda: all(self.node.count_publishers(t) for t in (
            f'{self.ns}/annotated_image', f'{self.ns}/annotated_image/compressed')), 5.0)
        self.spin_for(0.5)  # the node's side learns of them too
        return subs

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.05, max(0.0, end - time.monotonic())))

    def spin_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """
        Process callbacks until ``predicate()`` holds.

        :param predicate: the condition.
        :param timeout: seconds at most.
        :return: whether it holds.
        """
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.02)
        return predicate()

    def wait_ready(self, proc: Optional[Any] = None, timeout: float = 60.0) -> None:
        """
        Wait until the node subscribes to the frames and its result publisher is matched.

        Reliable volatile topics deliver only what is written after discovery, so no frame may
        go out before both directions are matched.

        :param proc: the node's :class:`~repvit_ros.bench.harness.NodeProcess`, to fail fast
            when it exits.
        :param timeout: seconds at most.
        :raises RuntimeError: when the node does not come up.
        """
        ok = self.spin_until(lambda: (proc is not None and not proc.alive()) or (
            self.pub.get_subscription_count() > 0 and self._results_matched()), timeout)
        if proc is not None and not proc.alive():
            proc.stop()
            raise RuntimeError(f'node on {self.ns} exited with code {proc.proc.returncode}:\n'
                               f'{proc.output}')
        if not ok:
            out = proc.output if proc is not None else ''
            raise RuntimeError(f'node on {self.ns} did not come up within {timeout:.0f} s\n'
                               f'{out}')
        self.spin_for(0.3)

    def prime(self, msg, timeout: float = 60.0, every: float = 1.0) -> None:
        """
        Send ``msg`` (again every ``every`` seconds) until a result comes back; forget them.

        Endpoints matched on this side are not yet a path through the node: the node's result
        writer, in its own process, may match this reader later (a loaded machine widens the
        gap), and a result written before then is lost. One result back proves both ways.
        Returns once none of these frames is in flight any more, so a run that follows starts
        with the node idle. They count in the node's diagnostics: read those as differences.

        :param msg: a frame the node classifies.
        :param timeout: seconds at most.
        :raises RuntimeError: when no result comes back in time.
        """
        deadline = time.monotonic() + timeout
        stamps: List[int] = []
        while not any(s in self.messages for s in stamps):
            if time.monotonic() >= deadline:
                raise RuntimeError(f'no result on {self.result_topic} within {timeout:.0f} s')
            stamps.append(self.send(msg))
            self.spin_until(lambda: any(s in self.messages for s in stamps),
                            min(every, max(0.0, deadline - time.monotonic())))
        # Results come in input order: every earlier one is answered or given up by now; wait
        # for the later ones.
        self.spin_until(lambda: not any(s in self._sent for s in stamps),
                        max(0.0, deadline - time.monotonic()))
        for s in stamps:
            self._sent.pop(s, None)
            self.messages.pop(s, None)

    def _results_matched(self) -> bool:
        # The node's result writer matched by this reader where rclpy says so (Subscription.
        # get_publisher_count, rclpy PR 1089, not in Humble); else seen in the graph, which can
        # come first, hence the short wait after it in wait_ready.
        count = getattr(self.results_sub, 'get_publisher_count', None)
        if count is not None:
            return count() > 0
        return self.node.count_publishers(self.result_topic) > 0

    def diagnostics(self, timeout: float = 5.0) -> Dict[str, str]:
        """
        Wait for a diagnostics message newer than now and return its key/values.

        :param timeout: seconds at most.
        :return: the node's diagnostic values (empty when none came).
        """
        asked = time.monotonic()
        self.spin_until(lambda: self._diag_at > asked, timeout)
        return dict(self._diag) if self._diag_at > asked else {}

    def publish(self, msg) -> int:
        """
        Stamp ``msg`` now (strictly increasing) and publish it.

        :param msg: an Image or CompressedImage.
        :return: the stamp in nanoseconds.
        """
        stamp = max(time.time_ns(), self._last_stamp + 1)  # unique: results are matched by it
        self._last_stamp = stamp
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        self.pub.publish(msg)
        return stamp

    def send(self, msg) -> int:
        """
        Publish a frame that should come back classified: its result lands in :attr:`messages`.

        :param msg: an Image or CompressedImage.
        :return: its stamp in nanoseconds.
        """
        stamp = self.publish(msg)
        self._sent[stamp] = (time.monotonic(), True)
        return stamp

    def _send(self, source: FrameSource, i: int) -> bool:
        msg, good = source(i)
        if good:
            self.send(msg)
        else:
            self.publish(msg)
        return good

    # ------------------------------------------------------------------ runs
    def run(self, source: Union[FrameSource, Sequence[Any]], *, window: int = 0,
            rate: float = 0.0, duration: float = 5.0, warmup: float = 1.0,
            count: int = 0, stall: float = 2.0, drain: float = 3.0,
            tick: Optional[Callable[[float], None]] = None,
            tick_period: float = 1.0,
            until: Optional[Callable[[], bool]] = None) -> Dict[str, Any]:
        """
        Feed frames and collect the results.

        Exactly one of ``window`` (closed loop: that many good frames in flight) and ``rate``
        (Hz, fixed) is set.

        :param source: a list of messages (all good, cycled) or ``next_frame(i)``.
        :param window: good frames in flight for the closed loop.
        :param rate: publishing rate for the open loop.
        :param duration: measured seconds (after ``warmup``).
        :param warmup: seconds fed but not measured.
        :param count: stop after this many frames instead (0: run for the duration).
        :param stall: closed loop: seconds without a result before the window is refilled.
        :param drain: seconds to wait for the last results after feeding stops.
        :param tick: called with the seconds since the start every ``tick_period`` while
            feeding (memory sampling, parameter changes, signals).
        :param until: feeding stops early once this returns True (checked as often as the
            loop turns).
        :return: sent, good, received, skipped (good frames overtaken by a later result:
            dropped by the node), stalls, publish_failed (frames the feeder's own DDS writer
            refused, e.g. when a reader on a starved machine acknowledged too late; not sent,
            not counted in sent), max_gap_s (longest time without a result while
            feeding), throughput_fps, latency_median_ms,
            latency_p99_ms, latencies_ms (measured part), seconds, first_result_at
            (``time.monotonic()`` when the first result came, NaN without one).
        """
        if (window > 0) == (rate > 0):
            raise ValueError('set exactly one of window and rate')
        t_stop = time.monotonic()
        if not callable(source):
            msgs = list(source)
            source = (lambda i: (msgs[i % len(msgs)], True))  # noqa: E731
        self._results = []
        self._sent = {}
        self._lost = 0
        counters = {'sent': 0, 'good': 0, 'stalls': 0, 'publish_failed': 0}
        t0 = time.monotonic()
        t_measure = t0 + warmup
        t_end = t_measure + duration
        state = {'inflight': 0, 'last_progress': t0, 'next_tick': t0}

        def feeding() -> bool:
            if until is not None and until():
                return False
            if count:
                return counters['sent'] < count
            return time.monotonic() < t_end

        def send_one() -> bool:
            try:
                good = self._send(source, counters['sent'])
            except RuntimeError:  # rclpy's RCLError: the DDS writer gave up on this frame
                counters['publish_failed'] += 1
                return False
            counters['sent'] += 1
            if good:
                counters['good'] += 1
                state['inflight'] += 1
            return True

        def refill() -> None:
            # After a failed publish the next result, or the stall timer, refills.
            while state['inflight'] < window and feeding() and send_one():
                pass

        def on_good_result(done: int) -> None:
            state['inflight'] = max(0, state['inflight'] - done)
            state['last_progress'] = time.monotonic()
            if window:
                refill()

        self._on_good_result = on_good_result
        try:
            if window:
                refill()
            period = 1.0 / rate if rate else 0.0
            next_t = time.monotonic()
            while feeding():
                now = time.monotonic()
                if tick is not None and now >= state['next_tick']:
                    tick(now - t0)
                    state['next_tick'] = now + tick_period
                if window:
                    if now - state['last_progress'] > stall:
                        counters['stalls'] += 1
                        state['inflight'] = 0
                        state['last_progress'] = now
                        refill()
                    self.executor.spin_once(timeout_sec=0.05)
                    continue
                if now >= next_t:
                    send_one()
                    # Keep the schedule, but never try to catch up more than one period.
                    next_t = max(next_t + period, now - period)
                self.executor.spin_once(timeout_sec=max(0.0, min(0.005, next_t - now)))
            t_stop = time.monotonic()
            self.spin_until(lambda: not self._sent, drain)
        finally:
            self._on_good_result = None
        if count:
            t_measure, t_end = t0 + warmup, t_stop
        measured = [lat for at, lat in self._results if t_measure <= at <= t_end]
        span = max(1e-9, min(t_end, t_stop) - t_measure)
        lat_ms = np.array(measured, np.float64) * 1e3
        arrivals = [t0] + [at for at, _ in self._results] + [t_stop]
        return {
            'max_gap_s': float(np.max(np.diff(arrivals))),
            'sent': counters['sent'], 'good': counters['good'], 'bad': counters['sent'] -
            counters['good'], 'received': len(self._results), 'stalls': counters['stalls'],
            'skipped': self._lost, 'publish_failed': counters['publish_failed'],
            'throughput_fps': len(measured) / span,
            'latency_median_ms': float(np.median(lat_ms)) if lat_ms.size else float('nan'),
            'latency_p99_ms': float(np.percentile(lat_ms, 99)) if lat_ms.size else float('nan'),
            'latencies_ms': lat_ms.tolist(), 'seconds': t_stop - t0,
            'first_result_at': self._results[0][0] if self._results else float('nan'),
            'measured_from': t_measure, 'measured_to': min(t_end, t_stop)}

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
