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
Camera messages as frames: a zero-copy view of the pixels, the encoding, and the stamp.

The three input types and their message classes are listed once here; :func:`wrap` reads only
the fields a frame needs, by name, so it works on any message that has them (and is tested
without ROS). Images and compressed images usually arrive serialized (the camera subscription
is raw, see :mod:`repvit_ros.camera`): :func:`wrap` then reads those fields in place from the
CDR bytes (:mod:`repvit_ros.cdr`), with the same checks. The message classes are imported where
they are asked for, so that the product's pure modules load where ROS is absent and
hbm_img_msgs is needed only by ``hbmem`` users.
"""

import array
import importlib
from typing import Any, NamedTuple, Optional

import numpy as np
from repvit_ros import cdr
from repvit_ros.layouts import (COMPRESSED_FORMATS, FrameError, image_view, normalize_encoding,
                                quoted)

#: input_type -> (module, message class) of the camera messages it subscribes to.
MESSAGE_TYPES = {
    'image': ('sensor_msgs.msg', 'Image'),
    'compressed': ('sensor_msgs.msg', 'CompressedImage'),
    'hbmem': ('hbm_img_msgs.msg', 'HbmMsg1080P'),
}
INPUT_TYPES = tuple(MESSAGE_TYPES)
#: input types whose messages are read serialized (hbmem frames live in shared memory)
SERIALIZED_TYPES = ('image', 'compressed')
_INSTALL_HINT = {'hbm_img_msgs.msg': 'hbm_img_msgs (TogetheROS)'}


class Frame(NamedTuple):
    """One camera frame, ready for :func:`repvit_ros.preprocess.to_nv12`."""

    image: Any                 # numpy view of the pixels, or the compressed bytes
    encoding: str
    header: Any                # the message's std_msgs/Header, None for hbmem
    stamp: Any                 # builtin_interfaces/Time
    index: Optional[int]       # the camera's frame counter where the message has one


def message_class(input_type: str) -> type:
    """
    Import the message class of an input type.

    :param input_type: one of :data:`INPUT_TYPES`.
    :return: the message class.
    :raises ImportError: naming the package to install when it is missing.
    """
    module, name = MESSAGE_TYPES[input_type]
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        hint = _INSTALL_HINT.get(module, module.split('.')[0])
        raise ImportError(f'input_type {input_type} needs {hint}; it is not installed') \
            from None


def type_name(input_type: str) -> str:
    """
    Give the ROS type name of an input type's messages, as graph queries report it.

    :param input_type: one of :data:`INPUT_TYPES`.
    :return: for example ``sensor_msgs/msg/Image``.
    """
    module, name = MESSAGE_TYPES[input_type]
    return f'{module.replace(".", "/")}/{name}'


def input_type_of(encoding: str) -> str:
    """
    Tell which input type carries frames of an encoding (tools choose publishers with it).

    :param encoding: a raw encoding, ``jpeg`` or ``png``.
    :return: ``compressed`` for JPEG/PNG, else ``image``.
    """
    return 'compressed' if normalize_encoding(encoding) in COMPRESSED_FORMATS else 'image'


def wrap(msg: Any, input_type: str) -> Frame:
    """
    Turn a camera message into a frame without copying its pixels.

    :param msg: a message of ``input_type``'s class, or (image, compressed) its serialized
        bytes as a raw subscription receives them.
    :param input_type: one of :data:`INPUT_TYPES`.
    :return: the frame.
    :raises FrameError: for fields that cannot describe an image, or bytes that cannot be read.
    """
    if type(msg) is bytes:
        return _wrap_serialized(msg, input_type)
    if input_type == 'image':
        return Frame(image_view(msg.height, msg.width, msg.step, msg.encoding, msg.data,
                                msg.is_bigendian),
                     msg.encoding, msg.header, msg.header.stamp, None)
    if input_type == 'compressed':
        return Frame(msg.data, _compressed_format(msg.format), msg.header, msg.header.stamp,
                     None)
    size = int(msg.data_size)
    if size > len(msg.data):
        raise FrameError(f'hbmem frame data_size {size} exceeds the {len(msg.data)}-byte buffer')
    encoding = bytes(msg.encoding).split(b'\0', 1)[0].decode('ascii', 'replace')
    return Frame(image_view(msg.height, msg.width, msg.step, encoding,
                            msg.data[:size]),
                 encoding, None, msg.time_stamp, int(msg.index))


def _compressed_format(text: str) -> str:
    try:
        fmt = normalize_encoding(text)
    except FrameError:
        raise FrameError(f'CompressedImage format {quoted(text)} is unknown; '
                         f'expected jpeg or png') from None
    if fmt not in COMPRESSED_FORMATS:
        raise FrameError(f'CompressedImage format {quoted(text)} is a raw encoding: '
                         f'a CompressedImage carries jpeg or png (publish raw frames as '
                         f'sensor_msgs/Image)')
    return fmt


_header_class: Optional[type] = None


def _header(sec: int, nanosec: int, frame_id: str) -> Any:
    """Build the std_msgs/Header a message with these fields would have had."""
    global _header_class
    if _header_class is None:
        _header_class = getattr(importlib.import_module('std_msgs.msg'), 'Header')
    header = _header_class(frame_id=frame_id)
    stamp = header.stamp
    stamp.sec, stamp.nanosec = sec, nanosec
    return header


def _wrap_serialized(buf: bytes, input_type: str) -> Frame:
    if input_type not in SERIALIZED_TYPES:
        raise FrameError(f'{input_type} frames are not read serialized')
    if input_type == 'image':
        f = cdr.read_image(buf)
        image = image_view(f.height, f.width, f.step, f.encoding, f.data, f.is_bigendian)
        encoding = f.encoding
    else:
        f = cdr.read_compressed(buf)
        encoding = _compressed_format(f.fmt)
        image = np.frombuffer(f.data, np.uint8)
    header = _header(f.sec, f.nanosec, f.frame_id)
    return Frame(image, encoding, header, header.stamp, None)


def uint8_array(data) -> array.array:
    """
    Copy bytes (or a C-contiguous uint8 array) for a ``uint8[]`` message field, in its own form.

    Humble's generated messages (and Kilted's with ROS_PYTHON_CHECK_FIELDS=1) check every element
    of anything else in Python: about a second for a 1080p frame.

    :param data: bytes-like pixels.
    :return: an ``array.array('B')`` copy, made in C.
    """
    out = array.array('B')
    out.frombytes(memoryview(data).cast('B') if not isinstance(data, bytes) else data)
    return out
