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

"""Synthetic test pictures and their raw or compressed encodings (no ROS)."""

import cv2
import numpy as np

from repvit_ros.preprocess import RAW_ENCODINGS


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
    channels, dtype = RAW_ENCODINGS[encoding]
    if encoding in ('nv12', 'nv21'):
        return width
    return width * channels * np.dtype(dtype).itemsize
