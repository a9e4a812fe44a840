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
Drive a classifier node in its own process over real DDS; shared by the benchmark and loadtest.

:class:`NodeProcess` starts the classifier (or, for measurements only, the same node on a
do-nothing backend, or a bare rclpy subscriber that just echoes each frame's header) and reads
its CPU time and resident memory. :class:`Feeder` publishes frames to it, either closed-loop
(a fixed number of frames in flight, the next one sent when a result comes back: "as fast as
the node takes them") or at a fixed rate, and times every Classification from the frame's stamp
to its arrival. It also reads the node's /diagnostics counters, so a run can check that every
frame sent was published, dropped or counted bad.
"""

import atexit
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
import weakref

import numpy as np

from repvit_ros.bench.frame_source import make_message, message_class, sample_picture

NODE_KINDS = ('classifier', 'fixed', 'bare')
PACKAGE_SHARE_PROFILE = os.path.join('config', 'fastdds_large_frames.xml')

# next_frame(i) -> (message, good): good frames are expected to come back as a Classification.
FrameSource = Callable[[int], Tuple[Any, bool]]


def large_frames_profile() -> Optional[str]:
    """
    Locate the shipped Fast DDS profile with a 16 MB shared-memory segment.

    :return: its path (installed share/ first, then the source tree), or None.
    """
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(os.path.join(get_package_share_directory('repvit_ros'),
                                       PACKAGE_SHARE_PROFILE))
    except Exception:  # noqa: B902 - not installed, or no ament index: try the source tree
        pass
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates.append(os.path.join(here, PACKAGE_SHARE_PROFILE))
    return next((c for c in candidates if os.path.isfile(c)), None)


def use_large_frames_profile(env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """
    Point Fast DDS at the large-frames profile in ``env`` (default: this process's environ).

    Call it before ``rclpy.init`` in this process; pass the result to child processes.

    :param env: the environment to change.
    :return: the environment.
    """
    env = os.environ if env is None else env
    profile = large_frames_profile()
    if profile:
        env['FASTDDS_DEFAULT_PROFILES_FILE'] = profile  # Fast DDS 3 (Jazzy and later)
        if env.get('ROS_DISTRO', '') in ('humble', 'iron'):
            env['FASTRTPS_DEFAULT_PROFILES_FILE'] = profile  # Fast DDS 2 reads this name
    return env


def classifier_params(threads: int, msg_type: str = 'image', queue_size: int = 1,
                      model_path: str = '', backend: str = 'onnxruntime',
                      ns: str = '', depth: int = 0) -> Dict[str, Any]:
    """
    Build the ROS parameters of a classifier fed by a :class:`Feeder` (reliable input).

    :param threads: inference workers.
    :param msg_type: ``image`` or ``compressed``.
    :param queue_size: frames waiting for a worker.
    :param model_path: the model; empty leaves model and backend out (the ``fixed`` node).
    :param backend: the backend kind for ``model_path``.
    :param ns: the node's namespace, needed with ``depth``.
    :param depth: DDS history of the frame subscription (0: the node's default).
    :return: the parameters.
    """
    params: Dict[str, Any] = {'threads': threads, 'input_type': msg_type,
                              'qos_reliability': 'reliable', 'queue_size': queue_size}
    if model_path:
        params.update({'model_path': model_path, 'backend': backend})
    if depth:
        params[f'qos_overrides.{ns}/image.subscription.depth'] = depth
    return params


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


_LIVE: 'weakref.WeakSet[NodeProcess]' = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    # A tool that dies between start and stop must not leave nodes running behind it.
    for proc in list(_LIVE):
        if proc.alive():
            proc.proc.kill()


class NodeProcess:
    """
    One node in its own process, with its output collected and its CPU and memory readable.

    :param kind: ``classifier`` (the product), ``fixed`` (the same node on a backend that
        returns fixed logits at once: the node's own ceiling) or ``bare`` (a plain rclpy
        subscriber that echoes each frame's header as an empty Classification: the Python-ROS
        limit).
    :param ns: namespace; the node reads ``<ns>/image`` and writes ``<ns>/classification``.
    :param params: ROS parameters.
    :param env: environment of the process.
    """

    def __init__(self, kind: str, ns: str, params: Optional[Dict[str, Any]] = None,
                 env: Optional[Dict[str, str]] = None):
        import psutil
        if kind not in NODE_KINDS:
            raise ValueError(f'unknown node kind {kind!r}')
        self.kind = kind
        self.ns = ns
        cmd = [sys.executable, '-m', 'repvit_ros.node'] if kind == 'classifier' else \
            [sys.executable, '-m', 'repvit_ros.bench.harness', f'_serve_{kind}']
        cmd += ['--ros-args', '-r', f'__ns:={ns}']
        for key, value in (params or {}).items():
            cmd += ['-p', f'{key}:={_param(value)}']
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self._lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._ps = psutil.Process(self.proc.pid)
        _LIVE.add(self)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        return ''.join(self._lines)

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far."""
        t = self._ps.cpu_times()
        return t.user + t.system

    def rss(self) -> int:
        """Resident memory in bytes."""
        return self._ps.memory_info().rss

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """
        Send ``sig`` and wait for the exit; kill after ``timeout`` seconds.

        :param sig: the signal.
        :param timeout: seconds to wait.
        :return: the exit code (-9 when it had to be killed).
        """
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode


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
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from diagnostic_msgs.msg import DiagnosticArray
        from vision_msgs.msg import Classification
        from repvit_ros.node import tune_allocator
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
        self.node.create_subscription(
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

    # ------------------------------------------------------------------ plumbing
    def _on_result(self, msg) -> None:
        now = time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        sent = self._sent.pop(stamp, None)
        if sent is None:
            return  # not ours (an earlier run's straggler)
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

    def wait_ready(self, proc: Optional[NodeProcess] = None, timeout: float = 60.0) -> None:
        """
        Wait until the node subscribes to the frames and its result publisher is matched.

        Reliable volatile topics deliver only what is written after discovery, so no frame may
        go out before both directions are matched.

        :param proc: the node's process, to fail fast when it exits.
        :param timeout: seconds at most.
        :raises RuntimeError: when the node does not come up.
        """
        ok = self.spin_until(lambda: (proc is not None and not proc.alive()) or (
            self.pub.get_subscription_count() > 0 and
            self.node.count_publishers(self.result_topic) > 0), timeout)
        if proc is not None and not proc.alive():
            proc.stop()
            raise RuntimeError(f'node on {self.ns} exited with code {proc.proc.returncode}:\n'
                               f'{proc.output}')
        if not ok:
            out = proc.output if proc is not None else ''
            raise RuntimeError(f'node on {self.ns} did not come up within {timeout:.0f} s\n'
                               f'{out}')
        self.spin_for(0.3)

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

    def _send(self, source: FrameSource, i: int) -> bool:
        msg, good = source(i)
        stamp = self.publish(msg)
        if good:
            self._sent[stamp] = (time.monotonic(), True)
        return good

    # ------------------------------------------------------------------ runs
    def run(self, source: Union[FrameSource, Sequence[Any]], *, window: int = 0,
            rate: float = 0.0, duration: float = 5.0, warmup: float = 1.0,
            count: int = 0, stall: float = 2.0, drain: float = 3.0,
            tick: Optional[Callable[[float], None]] = None,
            tick_period: float = 1.0) -> Dict[str, Any]:
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
        :return: sent, good, received, skipped (good frames overtaken by a later result:
            dropped by the node), stalls, max_gap_s (longest time without a result while
            feeding), throughput_fps, latency_median_ms,
            latency_p99_ms, latencies_ms (measured part), seconds.
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
        counters = {'sent': 0, 'good': 0, 'stalls': 0}
        t0 = time.monotonic()
        t_measure = t0 + warmup
        t_end = t_measure + duration
        state = {'inflight': 0, 'last_progress': t0, 'next_tick': t0}

        def feeding() -> bool:
            if count:
                return counters['sent'] < count
            return time.monotonic() < t_end

        def send_one() -> None:
            good = self._send(source, counters['sent'])
            counters['sent'] += 1
            if good:
                counters['good'] += 1
                state['inflight'] += 1

        def refill() -> None:
            while state['inflight'] < window and feeding():
                send_one()

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
            'skipped': self._lost,
            'throughput_fps': len(measured) / span,
            'latency_median_ms': float(np.median(lat_ms)) if lat_ms.size else float('nan'),
            'latency_p99_ms': float(np.percentile(lat_ms, 99)) if lat_ms.size else float('nan'),
            'latencies_ms': lat_ms.tolist(), 'seconds': t_stop - t0,
            'measured_from': t_measure, 'measured_to': min(t_end, t_stop)}

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        import rclpy
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def counts_between(before: Dict[str, str], after: Dict[str, str]) -> Dict[str, int]:
    """
    Turn two diagnostics readings of a node into what it counted in between.

    :param before: values from :meth:`Feeder.diagnostics` at the start.
    :param after: values at the end.
    :return: received, published, dropped, bad and failed frames in between, and frames the
        transport reported lost before they reached the node.
    """
    keys = ('received', 'published', 'dropped', 'bad', 'failed', 'lost')
    return {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in keys}


def frames(encoding: str, width: int, height: int, n: int = 4) -> List[Any]:
    """
    Build ``n`` different messages of one encoding and size (stamps are set when sent).

    :param encoding: a raw encoding, or ``jpeg``/``png`` (CompressedImage).
    :param width: columns.
    :param height: rows.
    :param n: how many different pictures.
    :return: the messages.
    """
    kind = 'compressed' if encoding in ('jpeg', 'png') else 'image'
    return [make_message(kind, sample_picture(width, height, s), encoding, 0) for s in range(n)]


def msg_type_of(encoding: str) -> str:
    """Return the node input type carrying ``encoding``."""
    return 'compressed' if encoding in ('jpeg', 'png') else 'image'


def _serve(node) -> int:
    import rclpy
    from repvit_ros.node import spin_until_shutdown
    try:
        spin_until_shutdown(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _serve_fixed(argv: List[str]) -> int:
    """Run the classifier node on the do-nothing backend (measurement only)."""
    import rclpy
    from repvit_ros.bench.fixed_backend import FixedBackend
    from repvit_ros.node import RepVitClassifier, tune_allocator
    tune_allocator()  # as the classifier executable does
    rclpy.init(args=argv)
    return _serve(RepVitClassifier(backend=FixedBackend()))


def _serve_bare(argv: List[str]) -> int:
    """Run a bare rclpy subscriber: each frame's header back as an empty Classification."""
    import rclpy
    from rclpy.qos import (qos_profile_sensor_data, QoSProfile, ReliabilityPolicy)
    from vision_msgs.msg import Classification
    from repvit_ros.node import tune_allocator
    tune_allocator()  # the same advantage as the node: the comparison is about the node's work
    rclpy.init(args=argv)
    node = rclpy.create_node('repvit_classifier')
    node.declare_parameter('input_type', 'image')
    kind = node.get_parameter('input_type').value
    pub = node.create_publisher(Classification, 'classification',
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    qos = QoSProfile(history=qos_profile_sensor_data.history,
                     depth=qos_profile_sensor_data.depth,
                     reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(message_class(kind), 'image',
                             lambda msg: pub.publish(Classification(header=msg.header)), qos)
    return _serve(node)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    servers = {'_serve_fixed': _serve_fixed, '_serve_bare': _serve_bare}
    if argv[:1] and argv[0] in servers:
        return servers[argv[0]](argv[1:])
    print('repvit_ros.bench.harness is a library: use `python -m repvit_ros.bench.benchmark` or '
          '`python -m repvit_ros.bench.loadtest`', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
