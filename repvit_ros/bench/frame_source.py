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
--reliability best_effort``.
"""

import argparse
import sys
import time

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import INPUT_TYPES, message_class
from repvit_ros.layouts import encode
from repvit_ros.messages import make_message


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
