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

"""Camera messages as frames, on stand-in messages with the same fields (no ROS)."""

import types

import numpy as np
import pytest
from repvit_ros import frames, layouts
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.layouts import encode
from repvit_ros.preprocess import FrameError


def stamp(sec=1, nanosec=2):
    return types.SimpleNamespace(sec=sec, nanosec=nanosec)


def image(enc='bgr8', w=8, h=6, step=None, data=None):
    data = encode(sample_picture(w, h), enc) if data is None else data
    header = types.SimpleNamespace(stamp=stamp(), frame_id='cam')
    return types.SimpleNamespace(height=h, width=w, step=step or len(data) // h, encoding=enc,
                                 data=data, is_bigendian=0, header=header)


def test_image_is_viewed_not_copied():
    msg = image('bgr8', 8, 6)
    frame = frames.wrap(msg, 'image')
    assert frame.image.shape == (6, 8, 3) and frame.encoding == 'bgr8'
    assert frame.header is msg.header and frame.stamp is msg.header.stamp
    assert frame.index is None
    assert np.shares_memory(frame.image, np.frombuffer(msg.data, np.uint8))


def test_compressed_formats():
    jpeg = encode(sample_picture(16, 16), 'jpeg')
    msg = types.SimpleNamespace(format='bgr8; jpeg compressed bgr8', data=jpeg,
                                header=types.SimpleNamespace(stamp=stamp()))
    assert frames.wrap(msg, 'compressed').encoding == 'jpeg'
    msg.format = 'bgr8'
    with pytest.raises(FrameError, match="'bgr8' is a raw encoding: a CompressedImage carries"):
        frames.wrap(msg, 'compressed')
    msg.format = 'x' * 10000
    with pytest.raises(FrameError) as err:
        frames.wrap(msg, 'compressed')
    assert len(str(err.value)) < 200 and 'is unknown' in str(err.value)


def test_hbmem_frame_uses_data_size_and_time_stamp():
    nv12 = encode(sample_picture(16, 8), 'nv12')
    buf = np.zeros(4096, np.uint8)
    buf[:len(nv12)] = np.frombuffer(nv12, np.uint8)
    enc = np.zeros(12, np.uint8)
    enc[:4] = np.frombuffer(b'nv12', np.uint8)
    msg = types.SimpleNamespace(index=7, time_stamp=stamp(3, 4), height=8, width=16, step=16,
                                data_size=len(nv12), encoding=enc, data=buf)
    frame = frames.wrap(msg, 'hbmem')
    assert frame.encoding == 'nv12' and frame.image.shape == (12, 16)
    assert frame.header is None and frame.stamp.sec == 3 and frame.index == 7
    msg.data_size = 5000
    with pytest.raises(FrameError, match='exceeds the 4096-byte buffer'):
        frames.wrap(msg, 'hbmem')


def test_names_of_input_types():
    assert frames.INPUT_TYPES == ('image', 'compressed', 'hbmem')
    assert frames.type_name('image') == 'sensor_msgs/msg/Image'
    assert frames.type_name('hbmem') == 'hbm_img_msgs/msg/HbmMsg1080P'
    assert [frames.input_type_of(e) for e in ('jpeg', 'PNG', 'nv12', 'bgr8')] == \
        ['compressed', 'compressed', 'image', 'image']
    assert layouts.quoted('abc') == "'abc'"
    assert layouts.quoted('y' * 100) == repr('y' * layouts.LOG_TEXT_MAX) + '...'
