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
Feed several cameras at once, each at its own fixed rate, and time what comes back per camera.

:class:`StreamFeeder` is the robot side of a benchmark with several cameras, or with a detector:
one process publishes every camera's frames open-loop (each camera at ``rate`` Hz, phases
spread evenly over a period, as free-running cameras are), optionally each frame's
``vision_msgs/Detection2DArray`` right after it with the frame's stamp (a detector stand-in),
and matches every result on the camera's result topic to what was sent by stamp. The same
feeder serves one node with several ``image_topics`` and several nodes of one camera each, so
both are fed alike.
"""

import itertools
import os
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.frames import message_class
from repvit_ros.memory import tune_allocator
from vision_msgs.msg import Classification, Detection2D, Detection2DArray

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
RESULTS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


class StreamSpec(NamedTuple):
    """
    One camera's topics (absolute names).

    ``detections`` empty: whole frames, results are Classifications on ``results``; else each
    frame is followed by a Detection2DArray there and results are Detection2DArrays.
    """

    name: str
    image: str
    results: str
    detections: str = ''


class _Stream:
    """What the feeder knows of one camera during a run."""

    def __init__(self, spec: StreamSpec, node: Any, msg_type: str):
        self.spec = spec
        self.pub = node.create_publisher(message_class(msg_type), spec.image, RELIABLE)
        self.det_pub = node.create_publisher(Detection2DArray, spec.detections, RELIABLE) \
            if spec.detections else None
        result_type = Detection2DArray if spec.detections else Classification
        node.create_subscription(result_type, spec.results, self._on_result, RESULTS)
        self.reset()

    def reset(self) -> None:
        #: stamp (ns) -> monotonic time the frame (or its detections) was published
        self.sent: Dict[int, float] = {}
        #: stamp -> (arrival, latency s, items: 1 per Classification, classified regions)
        self.done: Dict[int, tuple] = {}

    def _on_result(self, msg: Any) -> None:
        now = time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        sent = self.sent.get(stamp)
        if sent is None or stamp in self.done:
            return  # not of this run
        items = sum(1 for d in msg.detections if d.results) if self.spec.detections else 1
        self.done[stamp] = (now, now - sent, items)


def detector_boxes(count: int, width: int, height: int, seed: int = 0,
                   sizes: Sequence[int] = (48, 256)) -> List[Detection2D]:
    """
    Make ``count`` detections with boxes inside a frame, of sizes between ``sizes``.

    :param count: boxes.
    :param width: frame columns.
    :param height: frame rows.
    :param seed: picks the boxes.
    :param sizes: smallest and largest side in pixels.
    :return: the detections (no hypotheses of their own).
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        sx, sy = (float(rng.integers(sizes[0], min(sizes[1], width, height) + 1))
                  for _ in range(2))
        det = Detection2D()
        det.bbox.center.position.x = float(rng.uniform(sx / 2, width - sx / 2))
        det.bbox.center.position.y = float(rng.uniform(sy / 2, height - sy / 2))
        det.bbox.size_x, det.bbox.size_y = sx, sy
        out.append(det)
    return out


class StreamFeeder:
    """
    Publish several cameras' frames at a fixed rate each and time the results per camera.

    Owns an rclpy context of its own, so it can live next to other rclpy users in a process.

    :param streams: the cameras.
    :param msg_type: ``image`` or ``compressed``.
    """

    _ids = itertools.count()

    def __init__(self, streams: Sequence[StreamSpec], msg_type: str = 'image'):
        tune_allocator()
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(f'repvit_streams_{os.getpid()}_{next(self._ids)}',
                                      context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.streams = [_Stream(s, self.node, msg_type) for s in streams]
        self._last_stamp = 0

    def _matched(self) -> bool:
        for s in self.streams:
            if s.pub.get_subscription_count() == 0 or \
                    self.node.count_publishers(s.spec.results) == 0:
                return False
            if s.det_pub is not None and s.det_pub.get_subscription_count() == 0:
                return False
        return True

    def wait_ready(self, procs: Sequence[Any] = (), timeout: float = 120.0) -> None:
        """
        Wait until every camera's frames (and detections) are subscribed and results matched.

        :param procs: the nodes' :class:`~repvit_ros.bench.harness.NodeProcess` es, to fail
            fast when one exits.
        :param timeout: seconds at most.
        :raises RuntimeError: when a node exits or they do not come up.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self._matched() and all(p.alive() for p in procs):
            self.executor.spin_once(timeout_sec=0.05)
        dead = [p for p in procs if not p.alive()]
        if dead or not self._matched():
            outputs = '\n'.join(p.output[-3000:] for p in (dead or procs))
            why = f'{len(dead)} node(s) exited' if dead else f'not ready in {timeout:.0f} s'
            raise RuntimeError(f'streams {[s.spec.name for s in self.streams]}: {why}\n'
                               f'{outputs}')
        self.spin_for(0.3)

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.05, max(0.0, end - time.monotonic())))

    def _stamp(self) -> int:
        stamp = max(time.time_ns(), self._last_stamp + 1)  # unique: results are matched by it
        self._last_stamp = stamp
        return stamp

    def _send(self, stream: _Stream, msg: Any, dets: Optional[Detection2DArray]) -> None:
        sec, nanosec = divmod(self._stamp(), 1_000_000_000)
        msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
        msg.header.frame_id = stream.spec.name
        stamp = sec * 1_000_000_000 + nanosec
        if dets is None:
            stream.sent[stamp] = time.monotonic()
            stream.pub.publish(msg)
            return
        stream.pub.publish(msg)
        dets.header.stamp.sec, dets.header.stamp.nanosec = sec, nanosec
        dets.header.frame_id = stream.spec.name
        stream.sent[stamp] = time.monotonic()  # latency counts from the detections
        stream.det_pub.publish(dets)

    def run(self, msgs: Sequence[Any], rate: float, duration: float, warmup: float = 1.0,
            detections: Sequence[Detection2DArray] = (), drain: float = 3.0,
            on_window: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
        """
        Feed every camera at ``rate`` Hz for ``warmup`` + ``duration`` seconds.

        Camera ``i`` of ``n`` starts ``i / n`` of a period late; each cycles through ``msgs``
        from its own offset, so cameras publishing close together carry different pictures.

        :param msgs: the frames (stamps and frame ids are set when sent).
        :param rate: frames per second of each camera.
        :param duration: measured seconds, after ``warmup``.
        :param warmup: seconds fed but not measured.
        :param detections: with detections topics: the array sent after ``msgs[i]`` is
            ``detections[i % len(detections)]``.
        :param drain: seconds to wait for the last results after feeding stops.
        :param on_window: called with ``'start'`` and ``'end'`` as the measured window opens
            and closes (to read the nodes' CPU time there).
        :return: ``seconds`` (the measured window) and ``cameras``: per camera ``sent`` (frames
            published in the window), ``delivered`` (of them, those with a result),
            ``items`` (their classified regions, or 1 per frame) and ``latencies_ms``.
        """
        if rate <= 0:
            raise ValueError('rate must be positive')
        for s in self.streams:
            s.reset()
        n, period = len(self.streams), 1.0 / rate
        t0 = time.monotonic()
        t_measure, t_end = t0 + warmup, t0 + warmup + duration
        next_t = [t0 + i * period / n for i in range(n)]
        count = list(range(n))
        window = {'start': None, 'end': None}
        firsts: List[Optional[float]] = [None] * n  # send time of the first measured frame

        def mark(which: str, now: float) -> None:
            if window[which] is None:
                window[which] = now
                if on_window is not None:
                    on_window(which)
        while True:
            now = time.monotonic()
            if now >= t_measure:
                mark('start', now)
            if now >= t_end:
                mark('end', now)
                break
            for i, s in enumerate(self.streams):
                if now >= next_t[i]:
                    k = count[i]
                    count[i] += 1
                    dets = detections[k % len(detections)] if s.det_pub is not None else None
                    if firsts[i] is None and now >= t_measure:
                        firsts[i] = self._last_stamp + 1
                    self._send(s, msgs[k % len(msgs)], dets)
                    # Keep the schedule, but never catch up more than one period.
                    next_t[i] = max(next_t[i] + period, now - period)
            wait = min(next_t) - time.monotonic()
            self.executor.spin_once(timeout_sec=max(0.0, min(0.005, wait)))
        last_stamp = self._last_stamp
        end = time.monotonic() + drain
        while time.monotonic() < end and any(len(s.done) < len(s.sent) for s in self.streams):
            self.executor.spin_once(timeout_sec=0.02)
        cameras = []
        for i, s in enumerate(self.streams):
            first = firsts[i] if firsts[i] is not None else last_stamp + 1
            # Stamps are set just before sending, so the measured frames are a stamp range.
            measured = [st for st in s.sent if first <= st <= last_stamp]
            done = [s.done[st] for st in measured if st in s.done]
            cameras.append({'name': s.spec.name, 'sent': len(measured), 'delivered': len(done),
                            'items': sum(d[2] for d in done),
                            'latencies_ms': [1e3 * d[1] for d in done]})
        return {'seconds': window['end'] - window['start'], 'cameras': cameras}

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
