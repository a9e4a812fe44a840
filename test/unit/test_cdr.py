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
Serialized images read in place, on CDR written here by hand (no ROS).

test/ros/test_serialized_frames.py checks the same reader against rclpy's own serialisation.
"""

import random
import struct

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from repvit_ros import cdr
from repvit_ros.preprocess import FrameError


class Writer:
    """Plain CDR with the alignment rules of XCDR1, after a 4-byte encapsulation header."""

    def __init__(self, order='<', kind=None):
        self.order = order
        kind = (1 if order == '<' else 0) if kind is None else kind
        self.head = bytes([0, kind, 0, 0])
        self.body = bytearray()

    def _align(self, n):
        while len(self.body) % n:
            self.body.append(0xAA)  # padding is never read: make it visible if it were

    def u32(self, value, fmt='I'):
        self._align(4)
        self.body += struct.pack(self.order + fmt, value)

    def u8(self, value):
        self.body.append(value)

    def string(self, raw: bytes, terminate=True, length=None):
        raw = raw + (b'\0' if terminate else b'')
        self.u32(len(raw) if length is None else length)
        self.body += raw

    def octets(self, data: bytes, length=None):
        self.u32(len(data) if length is None else length)
        self.body += data

    def serialized(self):
        return self.head + bytes(self.body)


def image_cdr(order='<', kind=None, sec=1_700_000_000, nanosec=123_456_789, frame_id=b'cam',
              height=2, width=3, encoding=b'rgb8', is_bigendian=0, step=9, data=None,
              lengths=None):
    lengths = lengths or {}
    w = Writer(order, kind)
    w.u32(sec, 'i')
    w.u32(nanosec)
    w.string(frame_id, length=lengths.get('frame_id'))
    w.u32(height)
    w.u32(width)
    w.string(encoding, length=lengths.get('encoding'))
    w.u8(is_bigendian)
    w.u32(step)
    w.octets(bytes(range(step * height)) if data is None else data, lengths.get('data'))
    return w.serialized()


def compressed_cdr(order='<', frame_id=b'cam', fmt=b'jpeg', data=b'\xff\xd8\xff\xd9',
                   lengths=None):
    lengths = lengths or {}
    w = Writer(order)
    w.u32(-5, 'i')
    w.u32(7)
    w.string(frame_id, length=lengths.get('frame_id'))
    w.string(fmt, length=lengths.get('format'))
    w.octets(data, lengths.get('data'))
    return w.serialized()


@pytest.mark.parametrize('order, kind', [('<', 1), ('>', 0), ('<', 7), ('>', 6)])
@pytest.mark.parametrize('id_len', range(6))  # every alignment after the strings
def test_image_fields_in_either_byte_order_and_any_alignment(order, kind, id_len):
    frame_id = b'abcdef'[:id_len]
    for enc in (b'rgb8', b'bgr8', b'mono16', b'yuv422_yuy2', b'nv12'):
        data = bytes(random.Random(id_len).randrange(256) for _ in range(4 * 5))
        buf = image_cdr(order, kind, frame_id=frame_id, height=4, width=2, encoding=enc,
                        is_bigendian=1, step=5, data=data)
        f = cdr.read_image(buf)
        assert (f.sec, f.nanosec, f.frame_id) == (1_700_000_000, 123_456_789, frame_id.decode())
        assert (f.height, f.width, f.encoding) == (4, 2, enc.decode())
        assert (f.is_bigendian, f.step) == (1, 5)
        assert bytes(f.data) == data
        # The pixels are a view of the message, not a copy.
        assert np.shares_memory(np.frombuffer(f.data, np.uint8), np.frombuffer(buf, np.uint8))


def test_negative_seconds_and_large_values_keep_their_types():
    f = cdr.read_image(image_cdr(sec=-2, nanosec=999_999_999, height=1, width=1, step=2**31,
                                 data=b'', lengths={'data': 0}))
    assert (f.sec, f.nanosec, f.step) == (-2, 999_999_999, 2**31)


def test_strings_read_as_rclpy_reads_them():
    # Up to the first NUL, undecodable bytes replaced, a missing terminator tolerated.
    f = cdr.read_image(image_cdr(frame_id=b'left\0right', encoding=b'rgb8'))
    assert f.frame_id == 'left'
    f = cdr.read_image(image_cdr(frame_id=b'caf\xc3\xa9 \xff', encoding=b'rgb8'))
    assert f.frame_id == 'caf\u00e9 \ufffd'
    w = Writer()
    w.u32(1, 'i')
    w.u32(2)
    w.string(b'', terminate=False)  # length 0: an empty string without its NUL
    w.string(b'png', terminate=False)
    w.octets(b'\x89PNG')
    f = cdr.read_compressed(w.serialized())
    assert (f.frame_id, f.fmt, bytes(f.data)) == ('', 'png', b'\x89PNG')


@pytest.mark.parametrize('order', '<>')
def test_compressed_fields(order):
    for id_len in range(5):
        buf = compressed_cdr(order, frame_id=b'xyzw'[:id_len], fmt=b'bgr8; jpeg compressed bgr8',
                             data=b'\xff\xd8' + bytes(50) + b'\xff\xd9')
        f = cdr.read_compressed(buf)
        assert (f.sec, f.nanosec, f.frame_id) == (-5, 7, 'xyzw'[:id_len])
        assert f.fmt == 'bgr8; jpeg compressed bgr8' and len(f.data) == 54
        assert np.shares_memory(np.frombuffer(f.data, np.uint8), np.frombuffer(buf, np.uint8))


def test_trailing_bytes_are_ignored():
    # Middlewares pad a serialized message to a multiple of 4; what follows the data is unread.
    buf = image_cdr()
    assert cdr.read_image(buf + b'\0\0\0') == cdr.read_image(buf)


@pytest.mark.parametrize('make, read', [(image_cdr, cdr.read_image),
                                        (compressed_cdr, cdr.read_compressed)])
def test_every_truncation_is_a_frame_error(make, read):
    buf = make()
    for cut in range(len(buf)):
        with pytest.raises(FrameError):
            read(buf[:cut])


@pytest.mark.parametrize('field', ['frame_id', 'encoding', 'data'])
@pytest.mark.parametrize('length', [0xFFFFFFFF, 2**31, 10_000])
def test_lying_lengths_are_frame_errors(field, length):
    with pytest.raises(FrameError, match=f'truncated message: {field}' if field != 'encoding'
                       else 'truncated message'):
        cdr.read_image(image_cdr(lengths={field: length}))
    cfield = 'format' if field == 'encoding' else field
    with pytest.raises(FrameError, match='truncated message'):
        cdr.read_compressed(compressed_cdr(lengths={cfield: length}))


def test_other_data_representations_are_told_apart():
    buf = image_cdr()
    for head in (b'\x00\x02', b'\x00\x03', b'\x00\x09', b'\x00\x0b', b'\x01\x01'):
        with pytest.raises(cdr.UnknownEncapsulation, match='not plain CDR'):
            cdr.read_image(head + buf[2:])
    assert issubclass(cdr.UnknownEncapsulation, FrameError)  # counted bad if nobody reads it
    assert cdr.is_plain(buf) and cdr.is_plain(image_cdr('>')) and cdr.is_plain(b'\0\x07\0\0')
    heads = (b'\x00\x02', b'\x00\x09', b'\x01\x01')
    assert not any(cdr.is_plain(head + buf[2:]) for head in heads)
    assert not cdr.is_plain(b'\0\x01\0')  # too short to be anything


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_messages_raise_only_frame_errors(data):
    buf = bytearray(image_cdr(frame_id=b'camera', data=bytes(range(9)) * 2)
                    if data.draw(st.booleans()) else compressed_cdr())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    read = data.draw(st.sampled_from([cdr.read_image, cdr.read_compressed]))
    try:
        fields = read(bytes(buf))
    except FrameError:
        return
    assert len(fields.data) <= len(buf)
