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
Camera messages from pictures: what a camera driver would publish, built in one call.

The inverse of :func:`repvit_ros.frames.wrap`: :func:`make_message` writes an RGB picture (or
bytes already encoded) as a ``sensor_msgs/Image``, ``sensor_msgs/CompressedImage`` or
``hbm_img_msgs/HbmMsg1080P`` in any supported encoding (:func:`repvit_ros.layouts.encode`).
The message classes are imported when asked for (:func:`repvit_ros.frames.message_class`), so
this module loads where ROS is absent.
"""

from typing import Optional

import numpy as np

from repvit_ros.frames import message_class, uint8_array
from repvit_ros.layouts import encode, row_step

HBMEM_BYTES = 6220800  # HbmMsg1080P's fixed data array


def make_message(msg_type: str, rgb: np.ndarray, encoding: str, stamp_ns: int,
                 frame_id: str = 'camera', data: Optional[bytes] = None, index: int = 0):
    """
    Build one ROS message carrying ``rgb``.

    :param msg_type: ``image``, ``compressed`` or ``hbmem``.
    :param rgb: HxWx3 uint8 RGB.
    :param encoding: the encoding (``jpeg``/``png`` for compressed).
    :param stamp_ns: header stamp in nanoseconds.
    :param frame_id: header frame id.
    :param data: pre-encoded bytes (skip encoding).
    :param index: the frame counter of an hbmem message.
    :return: the message.
    """
    h, w = rgb.shape[:2]
    data = encode(rgb, encoding) if data is None else data
    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    msg = message_class(msg_type)()
    if msg_type == 'hbmem':
        msg.index, msg.height, msg.width = index, h, w
        msg.step, msg.data_size = row_step(encoding, w), len(data)
        msg.time_stamp.sec, msg.time_stamp.nanosec = sec, nsec
        enc = np.zeros(12, np.uint8)
        enc[:len(encoding)] = np.frombuffer(encoding.encode(), np.uint8)
        msg.encoding = enc
        buf = np.zeros(HBMEM_BYTES, np.uint8)
        buf[:len(data)] = np.frombuffer(data, np.uint8)
        msg.data = buf
        return msg
    if msg_type == 'compressed':
        msg.format = encoding
    else:
        msg.height, msg.width, msg.encoding = h, w, encoding
        msg.step = row_step(encoding, w)
    msg.data = uint8_array(data)
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
    msg.header.frame_id = frame_id
    return msg
