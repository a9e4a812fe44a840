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
Serialized camera messages read in place: the few fields a frame needs, straight from the CDR.

A subscription made with ``raw=True`` hands its callback each message as the bytes the
middleware received: a 4-byte encapsulation header, then the fields in order. rclpy would
otherwise copy the pixels a second time and build a Python object for every field; the node
needs only a view of the pixels, their layout and the header. :func:`read_image` and
:func:`read_compressed` read ``sensor_msgs/Image`` and ``sensor_msgs/CompressedImage`` so, with
:mod:`struct` and slices, and return the pixel bytes as a view of the message's own buffer.

The layout is plain CDR (XCDR1, and XCDR2's plain form, which is the same for these types: none
of their fields is 8 bytes wide), in either byte order; offsets are aligned relative to the end
of the encapsulation header. Strings read as rclpy reads them: up to their first NUL, UTF-8 with
undecodable bytes replaced. The bytes come from the network and are not trusted: every length
is checked against what is left, and anything that cannot be read raises
:class:`~repvit_ros.preprocess.FrameError`.
"""

import struct
from typing import NamedTuple

from repvit_ros.layouts import FrameError

#: Encapsulation identifiers (second byte; the first is 0) of the plain CDR forms read here:
#: CDR_BE, CDR_LE (XCDR1) and PLAIN_CDR2_BE, PLAIN_CDR2_LE (XCDR2), to their byte order.
ENCAPSULATIONS = {0x00: '>', 0x01: '<', 0x06: '>', 0x07: '<'}
_ORIGIN = 4  # CDR alignment counts from the end of the encapsulation header
_HEAD = {order: struct.Struct(order + 'iII') for order in '<>'}   # sec, nanosec, len(frame_id)
_DIMS = {order: struct.Struct(order + 'III') for order in '<>'}   # height, width, len(encoding)
_TAIL = {order: struct.Struct(order + 'II') for order in '<>'}    # step, len(data)
_U32 = {order: struct.Struct(order + 'I') for order in '<>'}


class UnknownEncapsulation(FrameError):
    """The bytes are not plain CDR (another data representation): the middleware must read them."""


class ImageFields(NamedTuple):
    """What a frame needs of a ``sensor_msgs/Image``, as rclpy would give it."""

    sec: int
    nanosec: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview           # the pixel bytes, a view of the message buffer


class CompressedFields(NamedTuple):
    """What a frame needs of a ``sensor_msgs/CompressedImage``."""

    sec: int
    nanosec: int
    frame_id: str
    fmt: str                   # the message's ``format`` field
    data: memoryview           # the compressed bytes, a view of the message buffer


def is_plain(buf: bytes) -> bool:
    """
    Tell whether serialized bytes are plain CDR, which :func:`read_image` reads.

    :param buf: a serialized message.
    :return: False for another data representation (and for fewer than 4 bytes).
    """
    return len(buf) >= 4 and buf[0] == 0 and buf[1] in ENCAPSULATIONS


def _order(buf: bytes) -> str:
    if len(buf) < 4:
        raise FrameError(f'serialized message of {len(buf)} bytes: shorter than its header')
    order = ENCAPSULATIONS.get(buf[1]) if buf[0] == 0 else None
    if order is None:
        raise UnknownEncapsulation(f'serialized message with encapsulation '
                                   f'0x{buf[0]:02X}{buf[1]:02X} (not plain CDR)')
    return order


def _align4(offset: int) -> int:
    return offset + (-(offset - _ORIGIN) & 3)


def _data(buf: bytes, offset: int, length: int, name: str = 'data') -> memoryview:
    if length > len(buf) - offset:
        raise FrameError(f'truncated message: {name} of {length} bytes at byte {offset}, '
                         f'{len(buf) - offset} are left')
    return memoryview(buf)[offset:offset + length]


def _string(buf: bytes, offset: int, length: int, name: str) -> str:
    raw = bytes(_data(buf, offset, length, name))
    end = raw.find(b'\0')
    return (raw if end < 0 else raw[:end]).decode('utf-8', 'replace')


def _unpack(fmt: struct.Struct, buf: bytes, offset: int, what: str) -> tuple:
    if offset + fmt.size > len(buf):
        raise FrameError(f'truncated message: ends at byte {len(buf)}, before its {what}')
    return fmt.unpack_from(buf, offset)


def _header(buf: bytes, order: str):
    sec, nanosec, length = _unpack(_HEAD[order], buf, _ORIGIN, 'header')
    offset = _ORIGIN + 12
    frame_id = _string(buf, offset, length, 'frame_id')
    return sec, nanosec, frame_id, _align4(offset + length)


def read_image(buf: bytes) -> ImageFields:
    """
    Read a serialized ``sensor_msgs/Image`` in place.

    :param buf: the message as a raw subscription receives it.
    :return: its fields; ``data`` is a view of ``buf``, not a copy.
    :raises UnknownEncapsulation: when the bytes are not plain CDR.
    :raises FrameError: when they end before a field, or a length runs past their end.
    """
    order = _order(buf)
    sec, nanosec, frame_id, offset = _header(buf, order)
    height, width, length = _unpack(_DIMS[order], buf, offset, 'size')
    offset += 12
    encoding = _string(buf, offset, length, 'encoding')
    offset += length
    if offset >= len(buf):
        raise FrameError(f'truncated message: ends at byte {len(buf)}, before is_bigendian')
    is_bigendian = buf[offset]
    step, length = _unpack(_TAIL[order], buf, _align4(offset + 1), 'step and data')
    data = _data(buf, _align4(offset + 1) + 8, length)
    return ImageFields(sec, nanosec, frame_id, height, width, encoding, is_bigendian, step,
                       data)


def read_compressed(buf: bytes) -> CompressedFields:
    """
    Read a serialized ``sensor_msgs/CompressedImage`` in place.

    :param buf: the message as a raw subscription receives it.
    :return: its fields; ``data`` is a view of ``buf``, not a copy.
    :raises UnknownEncapsulation: when the bytes are not plain CDR.
    :raises FrameError: when they end before a field, or a length runs past their end.
    """
    order = _order(buf)
    sec, nanosec, frame_id, offset = _header(buf, order)
    (length,) = _unpack(_U32[order], buf, offset, 'format')
    offset += 4
    fmt = _string(buf, offset, length, 'format')
    offset = _align4(offset + length)
    (length,) = _unpack(_U32[order], buf, offset, 'data')
    return CompressedFields(sec, nanosec, frame_id, fmt, _data(buf, offset + 4, length))
