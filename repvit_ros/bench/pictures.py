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
Synthetic test pictures and hostile files (no ROS).

A picture is written in a camera's encoding by :func:`repvit_ros.layouts.encode`.
"""

import struct
from typing import List, Tuple
import zlib

import numpy as np


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


def png_declaring(width: int, height: int) -> bytes:
    """
    Build a small valid PNG whose header declares ``width`` x ``height`` (a decompression bomb).

    Only a few hundred bytes of image data follow: a decoder that trusts the header allocates
    the whole declared image before it finds out.

    :param width: declared columns.
    :param height: declared rows.
    :return: the PNG bytes.
    """
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + \
            struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + \
        chunk(b'IDAT', zlib.compress(bytes(4096), 9)) + chunk(b'IEND', b'')


def _segments(jpeg: bytes) -> List[Tuple[int, int, int]]:
    """List (marker, start, end) of a JPEG's segments before its scan data."""
    out, i = [], 2
    while i + 4 <= len(jpeg):
        marker = jpeg[i + 1]
        length = struct.unpack('>H', jpeg[i + 2:i + 4])[0]
        out.append((marker, i, i + 2 + length))
        if marker == 0xDA:
            break
        i += 2 + length
    return out


def jpeg_declaring(jpeg: bytes, width: int, height: int) -> bytes:
    """
    Patch a JPEG's frame header to declare another size (up to 65535 per side).

    :param jpeg: a valid JPEG.
    :param width: declared columns.
    :param height: declared rows.
    :return: the patched JPEG (a bomb when the size is huge).
    """
    start = next(s for m, s, _ in _segments(jpeg) if 0xC0 <= m <= 0xC3)
    return jpeg[:start + 5] + struct.pack('>HH', height, width) + jpeg[start + 9:]


def jpeg_cut_scan(jpeg: bytes, keep: int = 0) -> bytes:
    """
    Keep a JPEG's headers and the first ``keep`` bytes of its scan, then end it (FF D9).

    :param jpeg: a valid JPEG.
    :param keep: scan bytes kept (0: headers only).
    :return: a JPEG that still ends with the end-of-image marker but lacks its data.
    """
    scan = _segments(jpeg)[-1][2]
    return jpeg[:scan + keep] + b'\xff\xd9'


def jpeg_with_app_segments(jpeg: bytes, total: int = 200_000) -> bytes:
    """
    Insert EXIF-like and ICC-profile-like APP segments (``total`` bytes) after the start marker.

    :param jpeg: a valid JPEG.
    :param total: bytes of APP segments, in segments of at most 64 KB.
    :return: the JPEG, still valid.
    """
    parts, left = [], total
    tag = (0xE1, b'Exif\x00\x00')
    while left > 0:
        size = min(left, 65000)
        body = tag[1] + bytes(size)
        parts.append(bytes([0xFF, tag[0]]) + struct.pack('>H', len(body) + 2) + body)
        left -= size
        tag = (0xE2, b'ICC_PROFILE\x00')
    return jpeg[:2] + b''.join(parts) + jpeg[2:]


def mono16_big_endian(little_endian: bytes) -> bytes:
    """
    Swap the bytes of every 16-bit value (mono16 data for ``is_bigendian=1``).

    :param little_endian: mono16 data in little-endian order.
    :return: the same values in big-endian order.
    """
    return np.frombuffer(little_endian, '<u2').astype('>u2').tobytes()
