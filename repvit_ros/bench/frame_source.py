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
Camera-like frame publisher for tests, benchmarks and the demo.

Publishes ``sensor_msgs/Image``, ``sensor_msgs/CompressedImage`` or ``hbm_img_msgs/HbmMsg1080P``
messages (:func:`repvit_ros.messages.make_message`) in any supported encoding from a synthetic
picture, at a fixed rate or as fast as possible. As a command: ``python -m
repvit_ros.bench.frame_source --encoding bgr8 --width 640 --height 480 --rate 30 --count 100
--reliability best_effort``. As a node to compose with the classifier in one process:
:class:`FrameSource` (``repvit_ros::FrameSource``).
"""

import argparse
import sys
import time

from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import input_type_of, INPUT_TYPES, message_class
from repvit_ros.layouts import encode
from repvit_ros.messages import make_message


class FrameSource(Node):
    """
    Publish sample pictures on ``image`` like a camera: the classifier's input without one.

    A node for a component container (``repvit_ros::FrameSource``) or any executor. Read-only
    parameters: ``encoding`` (``bgr8``; ``jpeg``/``png`` publish CompressedImage), ``width``
    (640), ``height`` (480), ``rate`` (30 Hz), ``reliability`` (``reliable`` or
    ``best_effort``). The pictures are synthetic: a classifier's labels for them mean nothing.

    :param node_name: the node's name.
    :param kwargs: passed to :class:`rclpy.node.Node`.
    """

    def __init__(self, node_name: str = 'frame_source', **kwargs):
        super().__init__(node_name, **kwargs)
        fixed = ParameterDescriptor(read_only=True)
        self._encoding = self.declare_parameter('encoding', 'bgr8', fixed).value
        width = self.declare_parameter('width', 640, fixed).value
        height = self.declare_parameter('height', 480, fixed).value
        rate = self.declare_parameter('rate', 30.0, fixed).value
        reliable = self.declare_parameter('reliability', 'reliable', fixed).value == 'reliable'
        if rate <= 0 or width <= 0 or height <= 0:
            raise ValueError(f'frame source: rate {rate:g} Hz and size {width}x{height} must '
                             'be positive')
        self._msg_type = input_type_of(self._encoding)
        self._pictures = [sample_picture(width, height, s) for s in range(4)]
        self._payloads = [encode(p, self._encoding) for p in self._pictures]
        self._pub = self.create_publisher(
            message_class(self._msg_type), 'image', QoSProfile(
                depth=5, reliability=ReliabilityPolicy.RELIABLE if reliable
                else ReliabilityPolicy.BEST_EFFORT))
        self._sent = 0
        self._timer = self.create_timer(1.0 / rate, self._publish)
        self.get_logger().info(f'publishing {self._encoding} {width}x{height} at {rate:g} Hz '
                               f'on {self._pub.topic_name}')

    def _publish(self) -> None:
        i = self._sent % len(self._pictures)
        self._pub.publish(make_message(self._msg_type, self._pictures[i], self._encoding,
                                       time.time_ns(), data=self._payloads[i], index=self._sent))
        self._sent += 1

    @property
    def sent(self) -> int:
        """Count the frames published so far."""
        return self._sent

    def destroy_node(self) -> None:
        """Stop publishing; log how many frames went out."""
        logger = self.get_logger() if self.context.ok() else \
            rclpy.logging.get_logger(f'{self.get_logger().name}.shutdown')
        logger.info(f'stopped: published {self._sent} frames')
        super().destroy_node()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='frame_source', description=__doc__.split('\n\n')[1])
    parser.add_argument('--topic', default='/image_raw')
    parser.add_argument('--type', dest='msg_type', default='image',
                        choices=INPUT_TYPES)
    parser.add_argument('--encoding', default='bgr8')
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--rate', type=float, default=30.0, help='Hz; 0 = as fast as possible')
    parser.add_argument('--count', type=int, default=100, help='frames; 0 = until stopped')
    parser.add_argument('--reliability', default='reliable',
                        choices=('reliable', 'best_effort'))
    parser.add_argument('--wait-subscribers', type=float, default=10.0,
                        help='seconds to wait for a subscriber before publishing')
    args = parser.parse_args(argv)

    rclpy.init()
    node = rclpy.create_node('repvit_frame_source')
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE
                     if args.reliability == 'reliable' else ReliabilityPolicy.BEST_EFFORT)
    pub = node.create_publisher(message_class(args.msg_type), args.topic, qos)
    deadline = time.monotonic() + args.wait_subscribers
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    pictures = [sample_picture(args.width, args.height, s) for s in range(4)]
    payloads = [encode(p, args.encoding) for p in pictures]
    sent = 0
    period = 1.0 / args.rate if args.rate > 0 else 0.0
    next_t = time.monotonic()
    try:
        while rclpy.ok() and (args.count == 0 or sent < args.count):
            i = sent % len(pictures)
            pub.publish(make_message(args.msg_type, pictures[i], args.encoding,
                                     time.time_ns(), data=payloads[i]))
            sent += 1
            if period:
                next_t += period
                time.sleep(max(0.0, next_t - time.monotonic()))
        time.sleep(0.5)  # let reliable samples drain before the writer goes away
    except KeyboardInterrupt:
        pass
    finally:
        print(f'published {sent} frames', flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
