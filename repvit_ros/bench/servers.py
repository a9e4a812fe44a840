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
Reference servers for measurements: the node on a do-nothing backend, and a bare subscriber.

``python -m repvit_ros.bench.servers fixed|bare --ros-args ...``; started by
:class:`~repvit_ros.bench.harness.NodeProcess`. ``fixed`` is the classifier node on
:class:`FixedBackend` (fixed logits, returned at once): what the node itself costs. ``bare`` is a
plain rclpy subscriber that echoes each frame's header as an empty Classification: the
Python-ROS limit.
"""

import sys
from typing import List, Optional

import numpy as np
import rclpy
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from repvit_ros.backends import Backend
from repvit_ros.frames import message_class
from repvit_ros.main import spin_until_shutdown
from repvit_ros.memory import tune_allocator
from repvit_ros.node import RepVitClassifier
from vision_msgs.msg import Classification


class FixedBackend(Backend):
    """Return the same logits for every frame, after checking the input like a real backend."""

    name = 'fixed'

    def __init__(self, num_classes: int = 1000):
        self.num_classes = num_classes
        self.path = '(none: fixed logits)'
        self._logits = np.linspace(-3.0, 3.0, num_classes, dtype=np.float32)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Check the frame and return the fixed logits."""
        self._check_input(nv12)
        return self._logits


def _serve(node) -> int:
    try:
        spin_until_shutdown(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def serve_fixed(argv: List[str]) -> int:
    """
    Run the classifier node on the do-nothing backend.

    :param argv: ROS arguments.
    :return: exit code.
    """
    rclpy.init(args=argv)
    return _serve(RepVitClassifier(backend=FixedBackend()))


def serve_bare(argv: List[str]) -> int:
    """
    Run a bare rclpy subscriber: each frame's header back as an empty Classification.

    :param argv: ROS arguments.
    :return: exit code.
    """
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


SERVERS = {'fixed': serve_fixed, 'bare': serve_bare}


def main(argv: Optional[List[str]] = None) -> int:
    """
    Run one reference server.

    :param argv: ``fixed`` or ``bare``, then ROS arguments.
    :return: exit code.
    """
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SERVERS:
        print(f'usage: python -m repvit_ros.bench.servers {{{",".join(SERVERS)}}} --ros-args ...',
              file=sys.stderr)
        return 2
    # The same allocator advantage as the classifier executable: the comparison is about the
    # node's own work.
    tune_allocator()
    return SERVERS[argv[0]](argv[1:])


if __name__ == '__main__':
    sys.exit(main())
