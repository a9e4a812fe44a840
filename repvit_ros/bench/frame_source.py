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

Builds ``sensor_msgs/Image``, ``sensor_msgs/CompressedImage`` or ``hbm_img_msgs/HbmMsg1080P``
messages in any supported encoding from an RGB picture, and publishes them at a fixed rate or as
fast as possible. As a command: ``python -m repvit_ros.bench.frame_source --encoding bgr8 --width 640
--height 480 --rate 30 --count 100 --reliability best_effort``.
"""

import argparse
import sys
import time
from typing import Optional

import cv2
import numpy as np

RAW_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', 'nv12', 'nv21',
                 'yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv')


def sample_picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """
    Make a smooth, colourful RGB picture that differs with ``seed``.

    :param width: columns.
    :param height: rows.
    :param seed: variation.
    :return: HxWx3 uint8 RGB.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    chans = [128 + 100 * np.sin(a * xx / width * 6 + c) * np.cos(b * yy / height * 6)
             for a, b, c in rng.uniform(0.3, 2.0, (3, 3))]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def encode(rgb: np.ndarray, encoding: str) -> bytes:
    """
    Encode an RGB picture as the raw bytes of an image encoding, or JPEG/PNG.

    :param rgb: HxWx3 uint8 RGB (even width and height for YUV encodings).
    :param encoding: a raw encoding, ``jpeg`` or ``png``.
    :return: the bytes, rows packed without padding.
    """
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if encoding in ('jpeg', 'png'):
        ok, buf = cv2.imencode('.jpg' if encoding == 'jpeg' else '.png', bgr)
        return buf.tobytes()
    if encoding == 'rgb8':
        return rgb.tobytes()
    if encoding == 'bgr8':
        return bgr.tobytes()
    if encoding in ('rgba8', 'bgra8'):
        src = rgb if encoding == 'rgba8' else bgr
        return np.dstack([src, np.full(src.shape[:2], 255, np.uint8)]).tobytes()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if encoding == 'mono8':
        return gray.tobytes()
    if encoding == 'mono16':
        return (gray.astype(np.uint16) * 257).astype('<u2').tobytes()
    h, w = rgb.shape[:2]
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    if encoding in ('nv12', 'nv21'):
        uv = np.stack([cb[::2, ::2], cr[::2, ::2]], -1)
        if encoding == 'nv21':
            uv = uv[..., ::-1]
        return np.concatenate([y.reshape(-1), uv.reshape(-1)]).tobytes()
    quad = np.empty((h, w // 2, 4), np.uint8)
    if encoding in ('yuv422', 'uyvy'):
        order = (cb[:, ::2], y[:, 0::2], cr[:, ::2], y[:, 1::2])
    else:
        order = (y[:, 0::2], cb[:, ::2], y[:, 1::2], cr[:, ::2])
    for i, plane in enumerate(order):
        quad[..., i] = plane
    return quad.tobytes()


def row_step(encoding: str, width: int) -> int:
    """
    Bytes per row of a packed raw image.

    :param encoding: a raw encoding.
    :param width: columns.
    :return: the step.
    """
    per_px = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2,
              'nv12': 1, 'nv21': 1}.get(encoding, 2)
    return width * per_px


def make_message(msg_type: str, rgb: np.ndarray, encoding: str, stamp_ns: int,
                 frame_id: str = 'camera', data: Optional[bytes] = None):
    """
    Build one ROS message carrying ``rgb``.

    :param msg_type: ``image``, ``compressed`` or ``hbmem``.
    :param rgb: HxWx3 uint8 RGB.
    :param encoding: the encoding (``jpeg``/``png`` for compressed).
    :param stamp_ns: header stamp in nanoseconds.
    :param frame_id: header frame id.
    :param data: pre-encoded bytes (skip encoding).
    :return: the message.
    """
    h, w = rgb.shape[:2]
    data = encode(rgb, encoding) if data is None else data
    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    if msg_type == 'hbmem':
        from hbm_img_msgs.msg import HbmMsg1080P
        msg = HbmMsg1080P(height=h, width=w, step=row_step(encoding, w), data_size=len(data))
        msg.time_stamp.sec, msg.time_stamp.nanosec = sec, nsec
        enc = np.zeros(12, np.uint8)
        enc[:len(encoding)] = np.frombuffer(encoding.encode(), np.uint8)
        msg.encoding = enc
        buf = np.zeros(6220800, np.uint8)
        buf[:len(data)] = np.frombuffer(data, np.uint8)
        msg.data = buf
        return msg
    if msg_type == 'compressed':
        from sensor_msgs.msg import CompressedImage
        msg = CompressedImage(format=encoding, data=data)
    else:
        from sensor_msgs.msg import Image
        msg = Image(height=h, width=w, encoding=encoding, step=row_step(encoding, w),
                    data=data)
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
    msg.header.frame_id = frame_id
    return msg


def message_class(msg_type: str):
    """
    Return the ROS message class of an input type.

    :param msg_type: ``image``, ``compressed`` or ``hbmem``.
    :return: the class.
    """
    if msg_type == 'hbmem':
        from hbm_img_msgs.msg import HbmMsg1080P
        return HbmMsg1080P
    from sensor_msgs.msg import CompressedImage, Image
    return CompressedImage if msg_type == 'compressed' else Image


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='frame_source', description=__doc__.split('\n\n')[1])
    parser.add_argument('--topic', default='/image_raw')
    parser.add_argument('--type', dest='msg_type', default='image',
                        choices=('image', 'compressed', 'hbmem'))
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

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
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
