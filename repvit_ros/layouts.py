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
Pixel layouts of camera frames: how each encoding lies in memory, written once.

No ROS here. A raw frame is the numpy view :func:`image_view` makes of a message's bytes: HxWxC
(rgb8, bgr8, rgba8, bgra8), HxW (mono8, mono16), (H*3/2)xW (nv12, nv21: the Y plane, then
interleaved chroma at half resolution) or HxWx2 (packed 4:2:2), padded rows as strides. The
tables of the semi-planar and packed encodings, the frame checks, the frame size (always
width, height), the mono16 reduction and the pixel-pair view of packed frames are here, for the
preprocessing, the annotated picture and the detector regions alike; :func:`encode` writes a
picture in any encoding, the way a camera sends it.
"""

from typing import Any, Tuple

import cv2
import numpy as np


class FrameError(ValueError):
    """A frame that cannot be turned into model input; the message names the problem."""


#: encoding -> (channels, dtype) of its array; packed 4:2:2 is 2 bytes per pixel.
RAW_ENCODINGS = {
    'rgb8': (3, np.uint8),
    'bgr8': (3, np.uint8),
    'rgba8': (4, np.uint8),
    'bgra8': (4, np.uint8),
    'mono8': (1, np.uint8),
    'mono16': (1, np.uint16),
    'yuv422': (2, np.uint8),       # UYVY, the sensor_msgs name
    'uyvy': (2, np.uint8),
    'yuv422_yuy2': (2, np.uint8),  # YUYV, the sensor_msgs name
    'yuyv': (2, np.uint8),
    'nv12': (1, np.uint8),         # (H*3/2) x W bytes
    'nv21': (1, np.uint8),
}
COMPRESSED_FORMATS = ('jpeg', 'png')
ENCODINGS = tuple(RAW_ENCODINGS) + COMPRESSED_FORMATS
#: Semi-planar 4:2:0 -> (index of U, index of V) in each interleaved chroma pair.
SEMI_PLANAR = {'nv12': (0, 1), 'nv21': (1, 0)}
#: Packed 4:2:2 -> (index of Y in each 2-byte pixel, indices of U and V in each 4-byte pair).
PACKED_422 = {'yuv422': (1, 0, 2), 'uyvy': (1, 0, 2), 'yuv422_yuy2': (0, 1, 3),
              'yuyv': (0, 1, 3)}
LOG_TEXT_MAX = 40  # characters of a message's own strings quoted in a log line or error


def quoted(text: Any) -> str:
    """
    Quote a string from a message for a log line, cut to :data:`LOG_TEXT_MAX` characters.

    :param text: the string.
    :return: its repr, shortened with ``...`` when long.
    """
    text = str(text)
    return repr(text) if len(text) <= LOG_TEXT_MAX else repr(text[:LOG_TEXT_MAX]) + '...'


def normalize_encoding(encoding: str) -> str:
    """
    Map an encoding or CompressedImage format string to one of :data:`ENCODINGS`.

    CompressedImage formats look like ``jpeg``, ``jpg``, ``png`` or
    ``bgr8; jpeg compressed bgr8``; sensor_msgs encodings are matched case-insensitively.

    :param encoding: the encoding or format string from the message.
    :return: the canonical encoding name.
    :raises FrameError: for an unknown encoding.
    """
    if encoding is not None and not isinstance(encoding, str):
        raise FrameError(f'encoding must be a string, got {type(encoding).__name__}')
    enc = (encoding or '').strip().lower()
    if ';' in enc:  # image_transport's "<raw>; <codec> compressed <raw>"
        enc = enc.split(';', 1)[1]
    for word in enc.replace(',', ' ').split():
        if word in ('jpeg', 'jpg', 'mjpeg'):
            return 'jpeg'
        if word == 'png':
            return 'png'
    if enc in ENCODINGS:
        return enc
    raise FrameError(f'unknown encoding {quoted(encoding)}; supported: {", ".join(ENCODINGS)}')


def rows(encoding: str, height: int) -> int:
    """
    Count the rows of a raw frame's buffer.

    :param encoding: a raw encoding.
    :param height: the frame's height in pixels.
    :return: ``height``, or ``height * 3 / 2`` for the semi-planar encodings.
    """
    return height * 3 // 2 if encoding in SEMI_PLANAR else height


def row_step(encoding: str, width: int) -> int:
    """
    Count the bytes of one row of a raw frame without padding.

    :param encoding: a raw encoding.
    :param width: columns.
    :return: the step.
    """
    channels, dtype = RAW_ENCODINGS[encoding]
    return width * channels * np.dtype(dtype).itemsize


def check_dims(encoding: str, height: int, width: int) -> None:
    """
    Refuse a size that a raw frame of ``encoding`` cannot have.

    :param encoding: a raw encoding.
    :param height: pixels.
    :param width: pixels.
    :raises FrameError: for a zero size, an odd semi-planar size or an odd packed width.
    """
    if height <= 0 or width <= 0:
        raise FrameError(f'zero-size {encoding} frame ({width}x{height})')
    if encoding in SEMI_PLANAR and (height % 2 or width % 2):
        raise FrameError(f'{encoding} frame needs even width and height, got {width}x{height}')
    if encoding in PACKED_422 and width % 2:
        raise FrameError(f'{encoding} frame needs an even width, got {width}')


def check_pixels(kind: str, width: int, height: int, max_input_pixels: int) -> None:
    """
    Refuse a frame with more pixels than ``max_input_pixels``.

    :param kind: what the size belongs to, for the message (``bgr8 frame``, ``jpeg declares``).
    :param width: pixels.
    :param height: pixels.
    :param max_input_pixels: the limit.
    :raises FrameError: naming the size and the limit.
    """
    if width * height > max_input_pixels:
        raise FrameError(f'{kind} {width}x{height} is {width * height} pixels, over the limit '
                         f'of {max_input_pixels} (max_input_pixels)')


def image_view(height: int, width: int, step: int, encoding: str, data,
               is_bigendian: bool = False) -> np.ndarray:
    """
    Wrap a raw image buffer as a numpy array without copying it.

    Honours row padding (``step`` larger than the pixel bytes of a row) with a strided view.

    :param height: rows of the image.
    :param width: columns of the image.
    :param step: bytes from the start of one row to the next.
    :param encoding: a raw encoding of :data:`RAW_ENCODINGS`.
    :param data: the buffer (``bytes``, ``array.array``, numpy array, memoryview).
    :param is_bigendian: byte order of 16-bit encodings.
    :return: an array in the layout of its encoding (HxWxC, HxW, or (H*3/2)xW for nv12).
    :raises FrameError: for a zero-size, odd-sized, short or inconsistent buffer.
    """
    encoding = normalize_encoding(encoding)
    if encoding not in RAW_ENCODINGS:
        raise FrameError(f'{encoding} is a compressed format, not a raw image encoding')
    height, width, step = int(height), int(width), int(step)
    check_dims(encoding, height, width)
    n_rows, row_bytes = rows(encoding, height), row_step(encoding, width)
    if step < row_bytes:
        raise FrameError(f'{encoding} {width}x{height}: step {step} is smaller than the '
                         f'{row_bytes} bytes of a row')
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size != n_rows * step:
        raise FrameError(f'{encoding} {width}x{height} with step {step} needs '
                         f'{n_rows * step} bytes, got {buf.size}')
    channels, dtype = RAW_ENCODINGS[encoding]
    itemsize = np.dtype(dtype).itemsize
    if itemsize > 1:
        dtype = np.dtype(dtype).newbyteorder('>' if is_bigendian else '<')
        if step % itemsize:
            raise FrameError(f'{encoding}: step {step} is not a multiple of {itemsize}')
        buf = buf.view(dtype)
    if channels == 1:
        shape, strides = (n_rows, width), (step, itemsize)
    else:
        shape, strides = (n_rows, width, channels), (step, channels * itemsize, itemsize)
    return np.lib.stride_tricks.as_strided(buf, shape=shape, strides=strides, writeable=False)


def check_frame(frame, encoding: str) -> np.ndarray:
    """
    Check a raw frame's type, dtype, shape and size against its encoding.

    :param frame: the frame in its encoding's layout (see :func:`image_view`).
    :param encoding: a raw encoding, normalised (:func:`normalize_encoding`).
    :return: the frame; a one-channel HxWx1 array as HxW.
    :raises FrameError: naming what does not fit.
    """
    if not isinstance(frame, np.ndarray):
        raise FrameError(f'{encoding} frame must be a numpy array, got {type(frame).__name__}')
    channels, dtype = RAW_ENCODINGS[encoding]
    if frame.dtype.newbyteorder('=') != dtype:  # 16-bit frames come in either byte order
        raise FrameError(f'{encoding} frame must be {np.dtype(dtype).name}, got {frame.dtype}')
    if encoding in SEMI_PLANAR:
        if frame.ndim != 2 or frame.shape[0] % 3:
            raise FrameError(f'{encoding} frame must be (H*3/2)xW, got shape {frame.shape}')
        check_dims(encoding, frame.shape[0] * 2 // 3, frame.shape[1])
        return frame
    if channels == 1:
        if frame.ndim == 3 and frame.shape[2] == 1:
            frame = frame[:, :, 0]
        if frame.ndim != 2:
            raise FrameError(f'{encoding} frame must be HxW, got shape {frame.shape}')
    elif frame.ndim != 3 or frame.shape[2] != channels:
        raise FrameError(f'{encoding} frame must be HxWx{channels}, got shape {frame.shape}')
    check_dims(encoding, frame.shape[0], frame.shape[1])
    return frame


def frame_size(frame: np.ndarray, encoding: str) -> Tuple[int, int]:
    """
    Give the size of a raw frame in pixels: (width, height), as everywhere in the package.

    :param frame: the frame in its encoding's layout, checked (:func:`check_frame`).
    :param encoding: a raw encoding, normalised.
    :return: (width, height).
    """
    height = frame.shape[0] * 2 // 3 if encoding in SEMI_PLANAR else frame.shape[0]
    return frame.shape[1], height


def pixel_pairs(frame: np.ndarray) -> np.ndarray:
    """
    View a packed 4:2:2 HxWx2 frame as (H, W/2, 4) pixel pairs, padded rows included.

    :param frame: the packed frame.
    :return: a view where the bytes of each row are contiguous, else a compact copy.
    """
    h, w = frame.shape[:2]
    if frame.strides[1:] == (2, 1):  # bytes contiguous within each row: no copy needed
        return np.lib.stride_tricks.as_strided(frame, (h, w // 2, 4),
                                               (frame.strides[0], 4, 1), writeable=False)
    return np.ascontiguousarray(frame).reshape(h, w // 2, 4)


def mono16_to_8(frame: np.ndarray, bit_depth: int) -> np.ndarray:
    """
    Keep the 8 most significant of ``bit_depth`` bits; values above the depth saturate.

    :param frame: HxW uint16, either byte order.
    :param bit_depth: significant bits, 9..16.
    :return: HxW uint8.
    """
    if bit_depth < 16:
        frame = np.minimum(frame, np.uint16((1 << bit_depth) - 1))
    return (frame >> np.uint16(bit_depth - 8)).astype(np.uint8)


def encode(rgb: np.ndarray, encoding: str) -> bytes:
    """
    Encode an RGB picture as the bytes a camera sends: a raw encoding's rows, or JPEG/PNG.

    YUV encodings are full-range BT.601 (chroma of each 2x2 or 2x1 block from its top-left
    pixel); mono16 spreads mono8 over 16 bits (little-endian).

    :param rgb: HxWx3 uint8 RGB (even width and height for YUV encodings).
    :param encoding: a raw encoding, ``jpeg`` or ``png``.
    :return: the bytes, rows packed without padding.
    """
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if encoding in COMPRESSED_FORMATS:
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
    if encoding in SEMI_PLANAR:
        u_at, v_at = SEMI_PLANAR[encoding]
        uv = np.empty((h // 2, w // 2, 2), np.uint8)
        uv[..., u_at], uv[..., v_at] = cb[::2, ::2], cr[::2, ::2]
        return np.concatenate([y.reshape(-1), uv.reshape(-1)]).tobytes()
    y_at, u_at, v_at = PACKED_422[encoding]
    pairs = np.empty((h, w // 2, 4), np.uint8)
    pairs[..., y_at], pairs[..., y_at + 2] = y[:, 0::2], y[:, 1::2]
    pairs[..., u_at], pairs[..., v_at] = cb[:, ::2], cr[:, ::2]
    return pairs.tobytes()
