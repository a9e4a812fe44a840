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
The real-launch suite's tools: documented commands run by bash, and a ROS probe beside them.

:class:`Shell` runs a command line exactly as written (``bash -c``), in its own process group,
its output collected; :class:`Commands` hands out only the commands README and docs/ give
(see documented.py) and stops whatever is still running at the end of a test. :class:`Probe`
is a camera and a listener in this test process: it publishes frames on a named topic and
collects what the node under test publishes.
"""

import re
import signal
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import documented
import rclpy
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from repvit_ros.bench.harness import ChildProcess
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.messages import make_message
from vision_msgs.msg import Detection2D, Detection2DArray

# Start-up on a loaded 2-core machine (ros2 launch, the node's interpreter, the model) takes a
# few seconds here; CI may be slower.
START_TIMEOUT = 90.0


ANSI = re.compile(r'\x1b\[[0-9;]*m')
FAST_DDS_LOG = re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[\w+ (Error|Warning|Info)\]')


class Shell(ChildProcess):
    """
    One command line run by bash, in its own process group, its output collected.

    :param text: the command line.
    :param cwd: the working directory.
    :param env: the environment.
    """

    def __init__(self, text: str, cwd: str, env: Optional[Dict[str, str]] = None):
        self.text = text
        super().__init__(['bash', '-c', text], env=env, cwd=cwd, group=True)

    @property
    def answer(self) -> str:
        """
        Give what the command itself printed: the output without Fast DDS's own log lines.

        A CLI's participant may log a transport error before its answer, e.g. ``[RTPS_TRANSPORT_SHM
        Error] Failed init_port fastdds_port7002: open_and_lock_file failed`` when another
        process on the machine holds that shared-memory port (Fast DDS then uses another port).
        """
        return ''.join(line for line in self._lines
                       if not FAST_DDS_LOG.match(ANSI.sub('', line)))

    def running(self) -> bool:
        """Tell whether the command still runs."""
        return self.alive()

    def wait_output(self, pattern: str, timeout: float = START_TIMEOUT) -> Optional[str]:
        """
        Wait until the output matches a regular expression.

        :param pattern: the expression.
        :param timeout: seconds at most.
        :return: the first match, None when it did not come (or the command ended without it).
        """
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output)
            if found:
                return found.group(0)
            if time.monotonic() > deadline or not self.running():
                self._reader.join(1)
                found = re.search(pattern, self.output)
                return found.group(0) if found else None
            time.sleep(0.05)

    def wait(self, timeout: float = START_TIMEOUT) -> int:
        """
        Wait for the command to end; kill it after ``timeout``.

        :param timeout: seconds at most.
        :return: its exit code.
        """
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
        self._reader.join(5)
        return self.proc.returncode


class Commands:
    """
    The documented commands, run as written in ``cwd``.

    :param cwd: the working directory of every command.
    """

    def __init__(self, cwd: str):
        self.cwd = cwd
        self._documented = {c.text for c in documented.documented_commands()}
        self._started: List[Shell] = []

    def _check(self, text: str) -> None:
        assert text in self._documented, \
            f'not a command of README.md or docs/ (as written there): {text}'

    def documented_start(self, text: str, cwd: Optional[str] = None) -> Shell:
        """
        Start a documented command and leave it running.

        :param text: the command as written in README.md or docs/.
        :param cwd: where to run it (default: the suite's working directory).
        :return: the running command.
        """
        self._check(text)
        shell = Shell(text, cwd or self.cwd)
        self._started.append(shell)
        return shell

    def documented_run(self, text: str, timeout: float = START_TIMEOUT,
                       cwd: Optional[str] = None) -> Shell:
        """
        Run a documented command to its end.

        :param text: the command as written in README.md or docs/.
        :param timeout: seconds at most.
        :param cwd: where to run it (default: the suite's working directory).
        :return: the finished command (``proc.returncode``, ``output``).
        """
        shell = self.documented_start(text, cwd)
        shell.wait(timeout)
        return shell

    def start(self, text: str) -> Shell:
        """
        Start a command that README does not give (a check of the test's own).

        :param text: the command line.
        :return: the running command.
        """
        shell = Shell(text, self.cwd)
        self._started.append(shell)
        return shell

    def run(self, text: str, timeout: float = START_TIMEOUT) -> Shell:
        """
        Run a command that README does not give (a check of the test's own) to its end.

        :param text: the command line.
        :param timeout: seconds at most.
        :return: the finished command.
        """
        shell = self.start(text)
        shell.wait(timeout)
        return shell

    def wait_node(self, name: str, timeout: float = START_TIMEOUT) -> None:
        """
        Wait until ``ros2 node list`` shows a node, as a user would before ``ros2 param``.

        :param name: the node's full name.
        :param timeout: seconds at most.
        """
        deadline = time.monotonic() + timeout
        while True:
            listed = Shell('ros2 node list', self.cwd)
            listed.wait(30)
            if name in listed.answer.split():
                return
            assert time.monotonic() < deadline, f'{name} not found: {listed.output}'
            time.sleep(0.5)

    def stop_all(self) -> None:
        """Stop every command still running, newest first."""
        for shell in reversed(self._started):
            shell.stop()


class Listener:
    """Messages received on one topic."""

    def __init__(self):
        self.messages: List[Any] = []
        self._lock = threading.Lock()

    def add(self, msg: Any) -> None:
        with self._lock:
            self.messages.append(msg)

    def wait(self, count: int = 1, timeout: float = START_TIMEOUT) -> bool:
        """
        Wait until ``count`` messages came.

        :param count: how many.
        :param timeout: seconds at most.
        :return: whether they came.
        """
        return wait_until(lambda: len(self.messages) >= count, timeout)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def two_boxes(stamp_ns: int, width: int, height: int) -> Detection2DArray:
    """Build a detector's array of two boxes (left and right half) for a frame's stamp."""
    arr = Detection2DArray()
    arr.header.stamp.sec, arr.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    arr.header.frame_id = 'detector'
    for i in range(2):
        det = Detection2D()
        det.id = f'box{i}'
        det.bbox.center.position.x = float(width * (0.25 + 0.5 * i))
        det.bbox.center.position.y = float(height / 2)
        det.bbox.size_x, det.bbox.size_y = float(width / 3), float(height / 2)
        arr.detections.append(det)
    return arr


class Probe:
    """A camera and a listener in the test process, on their own context and executor."""

    def __init__(self):
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('launch_suite_probe', context=self.context)
        self._executor = MultiThreadedExecutor(num_threads=2, context=self.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        self._timers: List[Any] = []

    def _spin(self) -> None:
        try:
            self._executor.spin()
        except Exception:  # noqa: B902 - the context goes down at close
            pass

    def camera(self, topic: str, msg_type: str = 'image', encoding: str = 'bgr8',
               width: int = 320, height: int = 240, rate: float = 10.0,
               frame_id: str = 'camera', detections: Optional[str] = None) -> None:
        """
        Publish frames on ``topic`` until the probe closes (reliable, as a camera may).

        :param topic: the topic.
        :param msg_type: ``image``, ``compressed`` or ``hbmem``.
        :param encoding: the encoding (``jpeg`` for compressed).
        :param width: frame width.
        :param height: frame height.
        :param rate: frames per second.
        :param frame_id: the frames' header frame_id.
        :param detections: also publish, after each frame, a detector's Detection2DArray of
            two boxes with the frame's stamp on this topic.
        """
        reliable = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        pub = self.node.create_publisher(message_class(msg_type), topic, reliable)
        boxes = self.node.create_publisher(Detection2DArray, detections, reliable) \
            if detections else None
        pictures = [sample_picture(width, height, s) for s in range(3)]
        sent = [0]

        def tick():
            stamp = time.time_ns()
            pub.publish(make_message(msg_type, pictures[sent[0] % 3], encoding, stamp,
                                     frame_id=frame_id, index=sent[0]))
            if boxes is not None:
                boxes.publish(two_boxes(stamp, width, height))
            sent[0] += 1
        self._timers.append(self.node.create_timer(1.0 / rate, tick))

    def listen(self, topic: str, msg_class: type, latched: bool = False) -> Listener:
        """
        Collect the messages of a topic.

        :param topic: the topic.
        :param msg_class: its message class.
        :param latched: subscribe transient local (LabelInfo).
        :return: the listener.
        """
        listener = Listener()
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL if latched
                         else DurabilityPolicy.VOLATILE)
        self.node.create_subscription(msg_class, topic, listener.add, qos)
        return listener

    def close(self) -> None:
        """Stop publishing and shut the probe's context down."""
        self._executor.shutdown(timeout_sec=2)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(5)
