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
Frames read from serialized messages equal the frames of rclpy's own messages, bit for bit.

The camera subscription is raw (:mod:`repvit_ros.camera`): its callback gets the CDR bytes and
:func:`repvit_ros.frames.wrap` reads them in place (:mod:`repvit_ros.cdr`). Here rclpy serialises
messages of every encoding, with odd widths, padded rows and awkward frame ids, and the frame
read in place must equal the frame of the message rclpy deserialises from the same bytes; bad
fields must fail the same way on both paths.
"""

import threading

import numpy as np
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from repvit_ros import cdr, frames
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.camera import CameraInput
from repvit_ros.layouts import encode, RAW_ENCODINGS, row_step
from repvit_ros.messages import make_message
from repvit_ros.preprocess import FrameError
from ros_support import wait_for
from sensor_msgs.msg import CompressedImage, Image

FRAME_IDS = ['camera', '', 'a', 'abc', 'caf\u00e9/\u5de6', 'x' * 301]
STAMPS = [(0, 0), (1_700_000_000, 999_999_999), (-1, 5), (2**31 - 1, 1)]


def sizes(encoding):
    """(width, height) pairs the encoding allows, odd ones where it allows them."""
    if encoding in ('nv12', 'nv21'):
        return [(2, 2), (64, 48), (98, 62)]
    if encoding in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv'):
        return [(2, 1), (64, 48), (98, 61)]
    return [(1, 1), (64, 48), (97, 61)]


def image_message(encoding, width, height, pad=0, frame_id='camera', stamp=(1, 2), seed=0):
    """Build an Image of a sample picture with ``pad`` junk bytes after each row."""
    data = encode(sample_picture(width, height, seed), encoding)
    packed = row_step(encoding, width)
    rows = len(data) // packed
    if pad:
        junk = np.full((rows, pad), 0xEE, np.uint8)
        data = np.hstack([np.frombuffer(data, np.uint8).reshape(rows, packed), junk]).tobytes()
    msg = make_message('image', sample_picture(width, height, seed), encoding, 0,
                       frame_id=frame_id, data=data)
    msg.step = packed + pad
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    return msg


def assert_same_frame(got, want):
    assert got.encoding == want.encoding
    assert got.header == want.header and got.stamp == want.stamp and got.index is None
    a, b = np.asarray(got.image), np.asarray(want.image)
    assert a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
    assert np.array_equal(a, b)


@pytest.mark.parametrize('encoding', sorted(RAW_ENCODINGS))
def test_raw_encodings_equal_rclpys_deserialisation(encoding):
    checked = 0
    for width, height in sizes(encoding):
        for pad in (0, 2, 4, 64) if encoding == 'mono16' else (0, 1, 3, 64):
            for i, frame_id in enumerate(FRAME_IDS):
                msg = image_message(encoding, width, height, pad, frame_id,
                                    STAMPS[i % len(STAMPS)], seed=i)
                buf = serialize_message(msg)
                got = frames.wrap(buf, 'image')
                assert_same_frame(got, frames.wrap(deserialize_message(buf, Image), 'image'))
                assert got.header.frame_id == frame_id
                assert (got.stamp.sec, got.stamp.nanosec) == STAMPS[i % len(STAMPS)]
                # A view of the received bytes, not a copy.
                assert np.shares_memory(got.image, np.frombuffer(buf, np.uint8))
                checked += 1
    assert checked == 3 * 4 * len(FRAME_IDS)


def test_big_endian_16_bit_frames_equal_rclpys_deserialisation():
    for width, height in ((97, 61), (64, 48)):
        msg = image_message('mono16', width, height, pad=2)
        msg.is_bigendian = 1
        buf = serialize_message(msg)
        got = frames.wrap(buf, 'image')
        assert got.image.dtype == np.dtype('>u2')
        assert_same_frame(got, frames.wrap(deserialize_message(buf, Image), 'image'))


@pytest.mark.parametrize('fmt', ['jpeg', 'png', 'bgr8; jpeg compressed bgr8', 'PNG'])
def test_compressed_frames_equal_rclpys_deserialisation(fmt):
    encoding = 'png' if 'png' in fmt.lower() else 'jpeg'
    for i, frame_id in enumerate(FRAME_IDS):
        msg = make_message('compressed', sample_picture(97, 61, i), encoding, 0,
                           frame_id=frame_id)
        msg.format = fmt
        msg.header.stamp.sec, msg.header.stamp.nanosec = STAMPS[i % len(STAMPS)]
        buf = serialize_message(msg)
        got = frames.wrap(buf, 'compressed')
        want = frames.wrap(deserialize_message(buf, CompressedImage), 'compressed')
        assert got.encoding == want.encoding == encoding
        assert got.header == want.header and got.stamp == want.stamp
        assert bytes(got.image) == bytes(want.image) == bytes(msg.data)
        assert np.shares_memory(got.image, np.frombuffer(buf, np.uint8))


def _bad_images():
    def changed(**fields):
        msg = image_message('bgr8', 8, 6)
        for k, v in fields.items():
            setattr(msg, k, v)
        return msg
    yield changed(step=23)                          # smaller than a row
    yield changed(step=25)                          # rows * step != len(data)
    yield changed(height=7)
    yield changed(width=0, step=0)
    yield changed(encoding='bgr9')
    yield changed(encoding='jpeg')
    nv12 = image_message('nv12', 8, 6)
    nv12.width, nv12.step = 7, 7
    yield nv12
    mono16 = image_message('mono16', 8, 6, pad=1)   # odd step for 16-bit samples
    yield mono16


def _same_error_on_both_paths(msg, msg_type, input_type):
    buf = serialize_message(msg)
    with pytest.raises(FrameError) as from_bytes:
        frames.wrap(buf, input_type)
    with pytest.raises(FrameError) as from_message:
        frames.wrap(deserialize_message(buf, msg_type), input_type)
    assert str(from_bytes.value) == str(from_message.value)


def test_bad_fields_fail_the_same_way_on_both_paths():
    n = 0
    for msg in _bad_images():
        _same_error_on_both_paths(msg, Image, 'image')
        n += 1
    assert n == 8
    for fmt in ('bgr8', 'gif', 'x' * 5000):
        msg = make_message('compressed', sample_picture(8, 8), 'jpeg', 0)
        msg.format = fmt
        _same_error_on_both_paths(msg, CompressedImage, 'compressed')


def test_truncated_and_lying_messages_are_frame_errors():
    buf = serialize_message(image_message('rgb8', 5, 3, frame_id='cam'))
    for cut in range(0, len(buf) - 1):
        with pytest.raises(FrameError):
            frames.wrap(buf[:cut], 'image')
    data_len = len(buf) - 4 - 45  # 4-byte length before the 45 pixel bytes, at the end
    lying = buf[:data_len] + (2**32 - 1).to_bytes(4, 'little') + buf[data_len + 4:]
    with pytest.raises(FrameError, match='truncated message: data of 4294967295 bytes'):
        frames.wrap(lying, 'image')
    with pytest.raises(FrameError, match='not read serialized'):
        frames.wrap(buf, 'hbmem')


def test_other_representations_go_through_the_middleware(ros_context, monkeypatch):
    # Bytes the reader does not know (another data representation) are deserialised by rclpy
    # in the camera input, before wrap(); bytes rclpy cannot read either go on as they came
    # and wrap() counts them bad.
    node = rclpy.create_node('other_representation', context=ros_context)
    got = []
    cam = CameraInput(node, 'image', 'reliable', got.append, lambda n, why: None, lambda: 0,
                      'other_representation')
    try:
        msg = image_message('bgr8', 9, 5, pad=3, frame_id='far')
        buf = serialize_message(msg)
        cam._receive(buf)
        assert got[-1] is buf  # plain CDR: read in place
        monkeypatch.setattr(cdr, 'ENCAPSULATIONS', {})
        with pytest.raises(cdr.UnknownEncapsulation):
            frames.wrap(buf, 'image')
        cam._receive(buf)
        assert isinstance(got[-1], Image) and got[-1] == msg
        assert_same_frame(frames.wrap(got[-1], 'image'), frames.wrap(msg, 'image'))
        cam._receive(buf[:30])
        assert got[-1] == buf[:30]
        with pytest.raises(FrameError):
            frames.wrap(got[-1], 'image')
    finally:
        cam.close()
        node.destroy_node()


def test_a_raw_subscription_hands_its_callback_bytes(ros_context, executor):
    # What wrap() relies on, as on Humble: rclpy's take_message(raw=True) returns the
    # serialized message as a bytes object (rclpy/src/rclpy/subscription.cpp, py::bytes).
    node = rclpy.create_node('raw_probe', context=ros_context)
    got = []
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    sub = node.create_subscription(Image, 'raw_probe', got.append, qos, raw=True)
    pub = node.create_publisher(Image, 'raw_probe', qos)
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        msg = image_message('rgb8', 7, 3, pad=1, frame_id='probe')
        assert sub.raw
        assert wait_for(lambda: pub.get_subscription_count() > 0)
        pub.publish(msg)
        assert wait_for(lambda: got)
        assert type(got[0]) is bytes
        assert deserialize_message(got[0], Image) == msg
        assert_same_frame(frames.wrap(got[0], 'image'), frames.wrap(msg, 'image'))
    finally:
        executor.shutdown()
        thread.join(5)
        node.destroy_node()
