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
Regions of a frame from a detector's boxes, cropped in the frame's own encoding.

No ROS here. The node hands over a frame as :func:`repvit_ros.frames.wrap` made it and the boxes
of the matching ``vision_msgs/Detection2DArray`` as (center x, center y, size x, size y) in
pixels; :func:`crop_regions` pads each box, clamps it to the frame and cuts it out without
converting the whole frame, so that each crop goes through
:func:`repvit_ros.preprocess.to_nv12` like a frame of its own. Raw frames give views (NV12/NV21
crops are a small copy: their Y rows, then their UV rows); JPEG and PNG frames are decoded once
and give BGR views. A box that cannot be cropped is skipped with a short reason, never an
exception.
"""

import math
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from repvit_ros.layouts import (check_frame, COMPRESSED_FORMATS, frame_size, normalize_encoding,
                                PACKED_422, SEMI_PLANAR)
from repvit_ros.preprocess import decode, DEFAULT_MAX_INPUT_PIXELS

#: Why a box gave no crop: a NaN, infinite or non-numeric value; zero or negative size; no
#: overlap with the frame; under ``min_size`` pixels after padding and clamping; beyond
#: ``max_rois`` (the largest boxes are kept).
SKIP_REASONS = ('invalid', 'empty', 'outside', 'too_small', 'over_max_rois')
# decode() picks a reduced JPEG scale for small outputs; crops need the full resolution.
_FULL_SCALE = (1 << 30, 1 << 30)


class Region(NamedTuple):
    """What became of one box: a crop ready for ``to_nv12``, or the reason it was skipped."""

    crop: Optional[np.ndarray]            # None when skipped
    encoding: Optional[str]               # the crop's encoding (bgr8 for jpeg/png frames)
    rect: Optional[Tuple[int, int, int, int]]  # x, y, width, height in the frame
    skipped: Optional[str]                # one of SKIP_REASONS, None when cropped
    #: the box itself, unpadded, clamped to the frame (x, y, width, height): where it is drawn
    box: Optional[Tuple[int, int, int, int]] = None


def box_rect(box: Sequence[float], width: int, height: int, padding: float = 0.1,
             even_x: bool = False, even_y: bool = False):
    """
    Turn a box into the integer rectangle to crop, or the reason there is none.

    The box covers [cx - sx/2, cx + sx/2) x [cy - sy/2, cy + sy/2) in pixel coordinates (pixel
    i spans [i, i+1)). Each side grows by ``padding`` times the box's size on that axis (0.1
    turns a 100-pixel box into 120 pixels), then the rectangle is rounded outwards to whole
    pixels, to even coordinates where asked (chroma alignment), and clamped to the frame.

    :param box: (center x, center y, size x, size y) in pixels.
    :param width: frame width.
    :param height: frame height.
    :param padding: fraction of the box's size added on each side (0 or more).
    :param even_x: make x and width even.
    :param even_y: make y and height even.
    :return: ``(x, y, w, h)``, or a reason of :data:`SKIP_REASONS` (``invalid``, ``empty``,
        ``outside``).
    """
    try:
        cx, cy, sx, sy = (float(v) for v in box)
    except (TypeError, ValueError, OverflowError):
        return 'invalid'
    if not all(math.isfinite(v) for v in (cx, cy, sx, sy)):
        return 'invalid'
    if not sx > 0.0 or not sy > 0.0:
        return 'empty'
    x0, x1, y0, y1 = cx - sx / 2, cx + sx / 2, cy - sy / 2, cy + sy / 2
    if x1 <= 0.0 or y1 <= 0.0 or x0 >= width or y0 >= height:
        return 'outside'
    px, py = sx * padding, sy * padding
    # Clamped as floats first: a huge finite box padded may overflow to infinity.
    left = math.floor(max(x0 - px, 0.0))
    top = math.floor(max(y0 - py, 0.0))
    right = math.ceil(min(x1 + px, float(width)))
    bottom = math.ceil(min(y1 + py, float(height)))
    if even_x:
        left, right = left & ~1, min(width & ~1, right + (right & 1))
    if even_y:
        top, bottom = top & ~1, min(height & ~1, bottom + (bottom & 1))
    if right <= left or bottom <= top:
        return 'outside'  # a sliver at the frame's edge that rounds to nothing
    return left, top, right - left, bottom - top


def _cut(image: np.ndarray, encoding: str, rect: Tuple[int, int, int, int],
         height: int) -> np.ndarray:
    x, y, w, h = rect
    if encoding not in SEMI_PLANAR:
        return image[y:y + h, x:x + w]
    # The crop's own (h*3/2)xw NV12/NV21: its Y rows, then its interleaved chroma rows.
    out = np.empty((h * 3 // 2, w), np.uint8)
    out[:h] = image[y:y + h, x:x + w]
    out[h:] = image[height + y // 2:height + (y + h) // 2, x:x + w]
    return out


def crop_regions(image, encoding: str, boxes: Iterable[Sequence[float]], padding: float = 0.1,
                 min_size: int = 8, max_rois: Optional[int] = 16, *,
                 max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> List[Region]:
    """
    Crop each box of a detector from a frame, in the frame's own encoding.

    :param image: the frame as ``frames.wrap`` gives it: a numpy view (padded rows allowed) or
        the compressed bytes of a jpeg/png.
    :param encoding: the frame's encoding (as in ``Frame.encoding``).
    :param boxes: (center x, center y, size x, size y) per box, in pixels.
    :param padding: fraction of a box's size added on each side before clamping.
    :param min_size: boxes whose cropped width or height is under this many pixels are skipped.
    :param max_rois: at most this many crops, the largest (by cropped area; earlier first on a
        tie); None for no limit.
    :param max_input_pixels: the largest jpeg/png (width * height) decoded.
    :return: one :class:`Region` per box, in the input order (``box``: the box unpadded and
        clamped, for pictures).
    :raises FrameError: only when the frame itself is unusable (unknown encoding, corrupt or
        too large compressed data, an array that is no frame of its encoding).
    """
    if max_rois is not None and max_rois < 0:
        raise ValueError(f'max_rois must be 0 or more, or None; got {max_rois}')
    if not padding >= 0.0 or not math.isfinite(padding):
        raise ValueError(f'padding must be a finite fraction of 0 or more, got {padding}')
    encoding = normalize_encoding(encoding)
    boxes = list(boxes)
    if encoding in COMPRESSED_FORMATS:
        if not boxes:
            return []
        image = decode(image, encoding, _FULL_SCALE, 'stretch',
                       max_input_pixels=max_input_pixels)
        encoding = 'bgr8'
    image = check_frame(image, encoding)
    width, height = frame_size(image, encoding)
    even_x = encoding in SEMI_PLANAR or encoding in PACKED_422
    even_y = encoding in SEMI_PLANAR
    rects = [box_rect(box, width, height, padding, even_x, even_y) for box in boxes]
    for i, rect in enumerate(rects):
        if not isinstance(rect, str) and min(rect[2], rect[3]) < min_size:
            rects[i] = 'too_small'
    if max_rois is not None:
        kept = [i for i, rect in enumerate(rects) if not isinstance(rect, str)]
        kept.sort(key=lambda i: -rects[i][2] * rects[i][3])  # stable: earlier first on ties
        for i in kept[max_rois:]:
            rects[i] = 'over_max_rois'
    return [Region(None, None, None, rect) if isinstance(rect, str)
            else Region(_cut(image, encoding, rect, height), encoding, rect, None,
                        _clamped(box, width, height, rect))
            for box, rect in zip(boxes, rects)]


def _clamped(box: Sequence[float], width: int, height: int,
             crop: Tuple[int, int, int, int]) -> Tuple[int, int, int, int]:
    """Give a cropped box unpadded, clamped to the frame; a sliver that rounds away: its crop."""
    rect = box_rect(box, width, height, 0.0)
    return crop if isinstance(rect, str) else rect


def count_skipped(regions: Iterable[Region]) -> Dict[str, int]:
    """
    Count the skipped boxes by reason.

    :param regions: what :func:`crop_regions` returned.
    :return: every reason of :data:`SKIP_REASONS` with its count (0 included).
    """
    counts = dict.fromkeys(SKIP_REASONS, 0)
    for region in regions:
        if region.skipped is not None:
            counts[region.skipped] += 1
    return counts
