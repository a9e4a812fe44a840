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
Pictures of results: a colour view of a frame and the ranking drawn on it.

Everything here is numpy and OpenCV, no ROS. The pieces, in the order a node uses them:

- :func:`colour_view` turns a frame (as :func:`repvit_ros.preprocess.to_nv12` takes it) into
  BGR, already scaled to at most ``width`` pixels wide: raw frames are scaled before any colour
  conversion and JPEG is decoded at reduced scale, so the cost follows the output size.
- :func:`annotate` draws the top-k lines ("NN.N% name") in a translucent band in the top-left
  corner. Every pixel outside :func:`band_box` is left exactly as the input (scaled by
  :func:`scale_to_width`), so the scaled input of :func:`render` is
  ``colour_view(frame, encoding, width=width, ...)``.
- :func:`render_regions` is the picture of a detector's regions: the same colour view with each
  classified box outlined and labelled with its top class (:func:`draw_regions`).
- :func:`encode_jpeg` for ``sensor_msgs/CompressedImage``.

No side of a picture is longer than :data:`MAX_SIDE` (JPEG's limit), so a frame of any aspect
ratio, 1x100000 included, gives a picture that encodes.
"""

import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from repvit_ros.layouts import (check_frame, check_pixels, COMPRESSED_FORMATS, frame_size,
                                FrameError, mono16_to_8, normalize_encoding, PACKED_422,
                                pixel_pairs, SEMI_PLANAR)
from repvit_ros.preprocess import (check_settings, CONVERSION_FAILURES, declared_size, decode,
                                   DEFAULT_MAX_INPUT_PIXELS)

#: No side of a picture is longer: libjpeg encodes at most 65500 pixels a side, and the picture
#: goes out as JPEG too (``annotated_image/compressed``).
MAX_SIDE = 65500
#: Default JPEG quality of :func:`encode_jpeg` (OpenCV's default is 95; 80 is a third smaller).
JPEG_QUALITY = 80
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_DARKEN = 0.35  # the band keeps this fraction of the picture's brightness
_TEXT_BGR = (255, 255, 255)
_CONVERT_RGB = {'rgb8': cv2.COLOR_RGB2BGR, 'rgba8': cv2.COLOR_RGBA2BGR,
                'bgra8': cv2.COLOR_BGRA2BGR, 'mono8': cv2.COLOR_GRAY2BGR}


def scaled_size(width: int, height: int, max_width: int) -> Tuple[int, int]:
    """
    Size of an image scaled down to at most ``max_width`` pixels wide, aspect kept.

    Whatever ``max_width`` allows, neither side is longer than :data:`MAX_SIDE` (a 1x100000
    frame gives 1x65500), and neither is shorter than one pixel.

    :param width: image width.
    :param height: image height.
    :param max_width: the widest output; 0 (or less) keeps the native width. Never upscales.
    :return: (width, height), each rounded and at least 1.
    """
    if max_width > 0 and width > max_width:
        width, height = max_width, max(1, int(round(height * max_width / width)))
    longest = max(width, height)
    if longest <= MAX_SIDE:
        return width, height
    return (max(1, min(MAX_SIDE, int(round(width * MAX_SIDE / longest)))),
            max(1, min(MAX_SIDE, int(round(height * MAX_SIDE / longest)))))


def _check_width(width) -> int:
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 0:
        raise ValueError(f'width must be an integer >= 0 (0 = native), got {width!r}')
    return int(width)


def _fit(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize to ``size`` (w, h): INTER_AREA where it shrinks, INTER_LINEAR where it grows."""
    if (img.shape[1], img.shape[0]) == size:
        return img
    grows = size[0] > img.shape[1] or size[1] > img.shape[0]
    return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR if grows else cv2.INTER_AREA)


def scale_to_width(bgr: np.ndarray, width: int) -> np.ndarray:
    """
    Scale an image down to at most ``width`` pixels wide (INTER_AREA), aspect kept.

    See :func:`scaled_size` (no side above :data:`MAX_SIDE`).

    :param bgr: HxWxC uint8.
    :param width: the widest output; 0 keeps the native size. Never upscales.
    :return: the image itself when it is narrow enough, else a new scaled image.
    """
    width = _check_width(width)
    return _fit(bgr, scaled_size(bgr.shape[1], bgr.shape[0], width))


def _ycrcb_to_bgr(y: np.ndarray, cr: np.ndarray, cb: np.ndarray, yuv_range: str) -> np.ndarray:
    """BT.601 YCrCb planes (equal size) to BGR; video range is stretched to full first."""
    if yuv_range == 'video':
        y = cv2.convertScaleAbs(y, alpha=255.0 / 219.0, beta=-16.0 * 255.0 / 219.0)
        cr = cv2.convertScaleAbs(cr, alpha=255.0 / 224.0, beta=128.0 - 128.0 * 255.0 / 224.0)
        cb = cv2.convertScaleAbs(cb, alpha=255.0 / 224.0, beta=128.0 - 128.0 * 255.0 / 224.0)
    return cv2.cvtColor(cv2.merge([y, cr, cb]), cv2.COLOR_YCrCb2BGR)


def _view(frame, encoding: str, width: int, bit_depth: int, max_input_pixels: int,
          yuv_range: str) -> np.ndarray:
    if encoding in COMPRESSED_FORMATS:
        # decode() picks the largest JPEG reduction that keeps `width` columns (stretch mode
        # needs exactly the output size; 1 row asks nothing of the height).
        want = width if width > 0 else 1 << 30
        bgr = decode(frame, encoding, (1, want), 'stretch', max_input_pixels=max_input_pixels)
        return _fit(bgr, scaled_size(bgr.shape[1], bgr.shape[0], width))
    frame = check_frame(frame, encoding)
    w, h = frame_size(frame, encoding)
    check_pixels('frame', w, h, max_input_pixels)
    size = scaled_size(w, h, width)
    if encoding in SEMI_PLANAR:
        y = _fit(frame[:h], size)
        uv = _fit(frame[h:].reshape(h // 2, w // 2, 2), size)
        u, v = SEMI_PLANAR[encoding]
        return _ycrcb_to_bgr(y, uv[:, :, v], uv[:, :, u], yuv_range)
    if encoding in PACKED_422:
        # As a 2-channel image the luma channel resamples like a Y plane; as 4-channel pixel
        # pairs, chroma is at half width already: scale both to the output, then convert.
        y_at, u_at, v_at = PACKED_422[encoding]
        y = _fit(frame, size)[:, :, y_at]
        pairs = _fit(pixel_pairs(frame), size)
        return _ycrcb_to_bgr(np.ascontiguousarray(y), np.ascontiguousarray(pairs[:, :, v_at]),
                             np.ascontiguousarray(pairs[:, :, u_at]), yuv_range)
    if encoding == 'mono16':
        return cv2.cvtColor(_fit(mono16_to_8(frame, bit_depth), size), cv2.COLOR_GRAY2BGR)
    small = _fit(frame, size)
    if encoding == 'bgr8':
        return np.ascontiguousarray(small)
    return cv2.cvtColor(np.ascontiguousarray(small), _CONVERT_RGB[encoding])


def colour_view(frame, encoding: str, bit_depth: int = 16,
                max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS, *, width: int = 0,
                yuv_range: str = 'full') -> np.ndarray:
    """
    Turn a camera frame into a BGR picture of the whole frame, at most ``width`` pixels wide.

    Takes every encoding :func:`repvit_ros.preprocess.to_nv12` takes, in the same layout (a
    numpy view from :func:`repvit_ros.layouts.image_view`, padded rows as strides, or the
    compressed bytes). Raw frames are scaled first (INTER_AREA; YUV plane by plane, chroma to
    the output size) and converted at the output size: YUV with BT.601 (``yuv_range`` full or
    video), mono16 keeping the top 8 of ``bit_depth`` bits. JPEG and PNG go through
    :func:`repvit_ros.preprocess.decode` (its ``max_input_pixels`` check before decoding); a
    JPEG at least twice ``width`` is decoded at 1/2, 1/4 or 1/8 scale (still at least ``width``
    wide) and then scaled, so its output height may differ by a pixel from a full decode's.

    :param frame: the frame in its encoding's layout.
    :param encoding: a sensor_msgs encoding, ``jpeg`` or ``png`` (format strings accepted).
    :param bit_depth: significant bits of mono16 frames (9..16).
    :param max_input_pixels: the largest frame (width * height) accepted.
    :param width: the widest output; 0 = the frame's own size. Never upscales.
    :param yuv_range: ``full`` or ``video`` range of YUV frames (as the classifier's setting).
    :return: HxWx3 BGR uint8, C-contiguous; for bgr8 frames narrow enough and without padded
        rows it may be the frame's own (read-only) memory.
    :raises FrameError: for anything malformed; no other exception escapes for a bad frame.
    :raises ValueError: for a bad ``width``, ``bit_depth``, ``max_input_pixels`` or range.
    """
    width = _check_width(width)
    limit, bit_depth = check_settings(max_input_pixels, bit_depth, yuv_range, ValueError)
    encoding = normalize_encoding(encoding)
    try:
        return _view(frame, encoding, width, bit_depth, limit, yuv_range)
    except FrameError:
        raise
    except CONVERSION_FAILURES as exc:
        raise FrameError(f'cannot show {encoding} frame: {exc}') from None


def _layout(image_width: int) -> Tuple[float, int, int, int, int]:
    """Font scale, thickness, cap height, line pitch and padding for an image width."""
    cap = max(9, min(40, int(round(image_width / 40))))
    (_, unit), _ = cv2.getTextSize('H', _FONT, 1.0, 1)
    thickness = max(1, int(round(cap / 14)))
    pad = max(3, int(round(cap * 0.45)))
    return cap / unit, thickness, cap, int(round(cap * 1.6)), pad


def label_lines(ranked: Sequence) -> List[str]:
    """
    Text of the lines drawn: ``NN.N% name``, most probable first (ASCII; others become ?).

    :param ranked: (index, name, probability) items, e.g. classifier Predictions.
    :return: one line per item.
    """
    lines = []
    for item in ranked:
        name, probability = str(item[1]), float(item[2])
        text = f'{probability * 100:.1f}% {name}'
        lines.append(text.encode('ascii', 'replace').decode('ascii'))
    return lines


def band_box(image_width: int, image_height: int,
             ranked: Sequence) -> Tuple[int, int, int, int]:
    """
    Where :func:`annotate` draws its band on an image of this size.

    :param image_width: width of the (scaled) image.
    :param image_height: height of the (scaled) image.
    :param ranked: the ranking drawn.
    :return: (x, y, w, h) in pixels, clipped to the image; (0, 0, 0, 0) for no ranking.
    """
    lines = label_lines(ranked)
    if not lines:
        return 0, 0, 0, 0
    scale, thickness, cap, pitch, pad = _layout(image_width)
    text_w = max(cv2.getTextSize(t, _FONT, scale, thickness)[0][0] for t in lines)
    descent = int(math.ceil(cap * 0.45))
    w = text_w + 2 * pad
    h = pad + cap + (len(lines) - 1) * pitch + descent + pad
    return 0, 0, min(w, image_width), min(h, image_height)


def annotate(bgr: np.ndarray, ranked: Sequence, width: int = 0) -> np.ndarray:
    """
    Scale an image to at most ``width`` wide and draw the ranking in a translucent band.

    The band (:func:`band_box` of the scaled size) sits in the top-left corner: its pixels are
    darkened and the lines written in white, sized to the image width (readable from 320 to
    1920 pixels). Every pixel outside the band equals ``scale_to_width(bgr, width)``.

    :param bgr: HxWx3 BGR uint8 (e.g. from :func:`colour_view`); not modified.
    :param ranked: (index, name, probability) items, most probable first; empty draws nothing.
    :param width: the widest output; 0 keeps the size. Never upscales.
    :return: a new HxWx3 BGR uint8 C-contiguous image.
    """
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8 or bgr.ndim != 3 \
            or bgr.shape[2] != 3 or bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f'annotate needs an HxWx3 uint8 image, got '
                         f'{getattr(bgr, "shape", type(bgr).__name__)}')
    scaled = scale_to_width(bgr, width)
    out = np.array(scaled, dtype=np.uint8, order='C', copy=True)
    x, y, w, h = band_box(out.shape[1], out.shape[0], ranked)
    if w == 0 or h == 0:
        return out
    band = cv2.convertScaleAbs(out[y:y + h, x:x + w], alpha=_DARKEN)
    scale, thickness, cap, pitch, pad = _layout(out.shape[1])
    for i, text in enumerate(label_lines(ranked)):
        cv2.putText(band, text, (pad, pad + cap + i * pitch), _FONT, scale, _TEXT_BGR,
                    thickness, cv2.LINE_AA)
    out[y:y + h, x:x + w] = band
    return out


def render(frame, encoding: str, ranked: Sequence, width: int = 640, bit_depth: int = 16,
           max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS,
           yuv_range: str = 'full') -> np.ndarray:
    """
    Annotated picture of a frame: :func:`colour_view` at ``width``, then :func:`annotate`.

    Outside :func:`band_box` the result equals ``colour_view(frame, encoding, bit_depth,
    max_input_pixels, width=width, yuv_range=yuv_range)`` exactly.

    :param frame: the frame in its encoding's layout (see :func:`colour_view`).
    :param encoding: its encoding or format.
    :param ranked: (index, name, probability) items, most probable first.
    :param width: the widest output; 0 = native.
    :param bit_depth: significant bits of mono16 frames.
    :param max_input_pixels: the largest frame accepted.
    :param yuv_range: range of YUV frames.
    :return: HxWx3 BGR uint8.
    :raises FrameError: for a malformed frame.
    """
    view = colour_view(frame, encoding, bit_depth, max_input_pixels, width=width,
                       yuv_range=yuv_range)
    return annotate(view, ranked)


#: Box colours of :func:`draw_regions` (BGR), one per box in turn: green, orange, cyan, magenta.
BOX_COLOURS = ((0, 200, 0), (0, 140, 255), (255, 200, 0), (200, 0, 200))
#: A box of :func:`draw_regions`: (x, y, width, height) in frame pixels, and its ranking.
Box = Tuple[Tuple[int, int, int, int], Sequence]


def _box_layout(image_width: int) -> Tuple[float, int, int, int]:
    """Font scale, text thickness, cap height and padding of box labels (half the band's)."""
    cap = max(8, min(24, int(round(image_width / 60))))
    (_, unit), _ = cv2.getTextSize('H', _FONT, 1.0, 1)
    return cap / unit, max(1, int(round(cap / 14))), cap, max(2, int(round(cap * 0.3)))


def draw_regions(bgr: np.ndarray, boxes: Sequence[Box],
                 frame_size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """
    Outline each box and write its top class (``NN.N% name``) on a label above it.

    Boxes are in frame pixels; ``frame_size`` says how large that frame was, so that a picture
    scaled from it gets the boxes scaled alike. Each box has a colour of :data:`BOX_COLOURS` in
    turn; its label is a filled strip of that colour with black text, above the box where it
    fits, else inside its top edge. A box whose ranking is empty is outlined without a label.

    :param bgr: HxWx3 BGR uint8 (e.g. from :func:`colour_view`); not modified.
    :param boxes: ((x, y, w, h), ranking) per box, the ranking's items (index, name,
        probability), most probable first.
    :param frame_size: (width, height) of the frame the boxes are in; None: the picture's.
    :return: a new HxWx3 BGR uint8 C-contiguous image.
    """
    if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8 or bgr.ndim != 3 \
            or bgr.shape[2] != 3 or bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f'draw_regions needs an HxWx3 uint8 image, got '
                         f'{getattr(bgr, "shape", type(bgr).__name__)}')
    out = np.array(bgr, dtype=np.uint8, order='C', copy=True)
    height, width = out.shape[:2]
    fw, fh = frame_size if frame_size else (width, height)
    sx, sy = width / max(1, fw), height / max(1, fh)
    scale, thickness, cap, pad = _box_layout(width)
    line = max(1, int(round(width / 320)))
    for n, (rect, ranked) in enumerate(boxes):
        colour = BOX_COLOURS[n % len(BOX_COLOURS)]
        x0, y0 = int(math.floor(rect[0] * sx)), int(math.floor(rect[1] * sy))
        x1 = max(x0, int(math.ceil((rect[0] + rect[2]) * sx)) - 1)
        y1 = max(y0, int(math.ceil((rect[1] + rect[3]) * sy)) - 1)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, line)
        lines = label_lines(list(ranked)[:1])
        if not lines:
            continue
        (text_w, _), _ = cv2.getTextSize(lines[0], _FONT, scale, thickness)
        label_h = cap + 2 * pad
        top = y0 - label_h if y0 - label_h >= 0 else y0
        cv2.rectangle(out, (x0, top), (x0 + text_w + 2 * pad - 1, top + label_h - 1), colour,
                      cv2.FILLED)
        cv2.putText(out, lines[0], (x0 + pad, top + pad + cap), _FONT, scale, (0, 0, 0),
                    thickness, cv2.LINE_AA)
    return out


def render_regions(frame, encoding: str, boxes: Sequence[Box], width: int = 640,
                   bit_depth: int = 16, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS,
                   yuv_range: str = 'full') -> np.ndarray:
    """
    Annotated picture of a detector's regions: :func:`colour_view`, then :func:`draw_regions`.

    :param frame: the frame in its encoding's layout (see :func:`colour_view`).
    :param encoding: its encoding or format.
    :param boxes: ((x, y, w, h) in frame pixels, ranking) per classified box.
    :param width: the widest output; 0 = native.
    :param bit_depth: significant bits of mono16 frames.
    :param max_input_pixels: the largest frame accepted.
    :param yuv_range: range of YUV frames.
    :return: HxWx3 BGR uint8.
    :raises FrameError: for a malformed frame.
    """
    view = colour_view(frame, encoding, bit_depth, max_input_pixels, width=width,
                       yuv_range=yuv_range)
    encoding = normalize_encoding(encoding)
    if encoding in COMPRESSED_FORMATS:
        size = declared_size(frame, encoding)  # readable: colour_view decoded it
    else:
        size = frame_size(check_frame(frame, encoding), encoding)
    return draw_regions(view, boxes, size)


def encode_jpeg(bgr: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """
    Encode a BGR image as JPEG.

    :param bgr: HxWx3 BGR uint8.
    :param quality: 0..100.
    :return: the JPEG file bytes.
    """
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) \
            or not 0 <= quality <= 100:
        raise ValueError(f'JPEG quality must be an integer in 0..100, got {quality!r}')
    ok, buf = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError('OpenCV could not encode the image as JPEG')
    return buf.tobytes()
