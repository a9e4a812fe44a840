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

"""ROS fixtures for the integration and bench tests: a private context, an executor, waits."""

import threading
import time
from typing import Callable, Iterator, List

from ament_index_python.packages import get_package_prefix
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from repvit_ros.bench.harness import use_large_frames_profile

# Fast DDS reads its XML profile once, when this process creates its first participant: set
# the shipped large-frames profile (16 MB shared-memory segment) before any test does, as
# docs/cameras.md tells camera publishers to. Tests that need the defaults clear it for their
# child.
use_large_frames_profile()

#: The colcon install space under test, the one tools/activate put first on the ament path:
#: build/install (Kilted, make test) or build/jazzy/install (make test-jazzy).
INSTALL_PREFIX = get_package_prefix('repvit_ros')


@pytest.fixture
def ros_context():
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.try_shutdown(context=context)


@pytest.fixture
def executor(ros_context):
    ex = SingleThreadedExecutor(context=ros_context)
    try:
        yield ex
    finally:
        ex.shutdown()


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Wait (while another thread spins) until ``predicate()`` holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def matched(node, topic: str) -> int:
    """
    Subscriptions matched by ``node``'s publishers on ``topic`` (a fully qualified name).

    What decides whether a message published now reaches a subscriber, and what the node's
    outputs look at before they draw: the graph (``count_subscribers``) shows a subscription
    before its publisher has matched it, a window a loaded machine makes long.
    """
    return sum(p.get_subscription_count() for p in list(node.publishers) if p.topic_name == topic)


def spin_until(executor, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.02)
    return predicate()


class SpunPair:
    """
    A node under test and a peer node spun together by one executor on a thread of their own.

    Subclasses create ``self.node`` and ``self.peer``, then call :meth:`spin`; :meth:`close`
    stops the executor and destroys both.
    """

    def spin(self, executor) -> None:
        """Add both nodes to ``executor`` and spin it on a daemon thread."""
        self.executor = executor
        executor.add_node(self.node)
        executor.add_node(self.peer)
        self.thread = threading.Thread(target=executor.spin, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop the executor and destroy both nodes."""
        self.executor.shutdown()
        self.thread.join(5)
        self.node.destroy_node()
        self.peer.destroy_node()


def closing_all(make: Callable[..., SpunPair]) -> Iterator[Callable[..., SpunPair]]:
    """Yield a maker of pairs for a fixture, and close every pair it made afterwards."""
    made: List[SpunPair] = []

    def remembered(*args, **kwargs):
        made.append(make(*args, **kwargs))
        return made[-1]
    yield remembered
    for pair in made:
        pair.close()
