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
Camera frames to the NV12 tensor a RepViT model takes, with numpy and OpenCV only.

The BPU builds of RepViT take a 224x224 NV12 image (Y plane, then interleaved U,V at half
resolution) in full-range BT.601; the board converts it to RGB itself. :func:`to_nv12` turns any
supported camera frame into exactly that tensor, :func:`nv12_to_rgb` is the conversion the board
applies (the ONNX backend uses it to reproduce the board off the board). Frames come in the
layouts of :mod:`repvit_ros.layouts` (:func:`~repvit_ros.layouts.image_view` wraps a
``sensor_msgs/Image``'s raw fields as a zero-copy numpy view).

Work is done at the model's size wherever possible: frames are resized before any colour
conversion, YUV frames are resized plane by plane with no colour maths at all, and JPEG frames
much larger than the model input are decoded at reduced scale.

Frames come from the network and are not trusted: compressed frames are checked from their
headers before any decoding (declared size against a pixel limit, JPEG structure), so memory and
time per frame stay bounded, and anything unusable raises :class:`FrameError` naming the cause.
"""

from dataclasses import dataclass
from typing import Tuple, Union

import cv2
import numpy as np

from repvit_ros.layouts import (check_frame, check_pixels, COMPRESSED_FORMATS, frame_size,
                                FrameError, mono16_to_8, normalize_encoding, PACKED_422,
                                pixel_pairs, quoted, SEMI_PLANAR)


RESIZE_MODES = ('letterbox', 'center_crop', 'stretch')
YUV_RANGES = ('full', 'video')
# Grey 127 in RGB terms, as the RDK model zoo pads its letterbox.
_PAD_RGB = 127
# Largest frame (width * height) accepted, raw or declared by a compressed header: 8K x 8K.
DEFAULT_MAX_INPUT_PIXELS = 8192 * 8192
#: What OpenCV and numpy raise on a frame they cannot convert (turned into FrameError).
CONVERSION_FAILURES = (cv2.error, ValueError, TypeError, IndexError, MemoryError, OverflowError)
# Markers a JPEG may have before its first scan (ICC profiles take up to 255 APP2 segments).
_MAX_JPEG_SEGMENTS = 1024
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


@dataclass(frozen=True)
class _Geometry:
    """Where the source region lands in the output: src box (x, y, w, h), dst box."""

    src: Tuple[int, int, int, int]
    dst: Tuple[int, int, int, int]


def _even(v: float) -> int:
    return max(2, 2 * int(round(v / 2.0)))


def geometry(src_w: int, src_h: int, dst_w: int, dst_h: int, mode: str) -> _Geometry:
    """
    Compute which part of the source goes where in the output image.

    All boxes in the output are even-aligned so that NV12 chroma stays aligned.

    :param src_w: source width.
    :param src_h: source height.
    :param dst_w: output width (even).
    :param dst_h: output height (even).
    :param mode: one of :data:`RESIZE_MODES`.
    :return: the source box and the output box.
    """
    if mode == 'stretch':
        return _Geometry((0, 0, src_w, src_h), (0, 0, dst_w, dst_h))
    if mode == 'center_crop':
        # Largest centred region with the output's aspect ratio.
        scale = min(src_w / dst_w, src_h / dst_h)
        cw = min(src_w, max(1, int(round(dst_w * scale))))
        ch = min(src_h, max(1, int(round(dst_h * scale))))
        return _Geometry(((src_w - cw) // 2, (src_h - ch) // 2, cw, ch), (0, 0, dst_w, dst_h))
    if mode == 'letterbox':
        scale = min(dst_w / src_w, dst_h / src_h)
        nw = min(dst_w, _even(src_w * scale))
        nh = min(dst_h, _even(src_h * scale))
        x0 = ((dst_w - nw) // 2) & ~1
        y0 = ((dst_h - nh) // 2) & ~1
        return _Geometry((0, 0, src_w, src_h), (x0, y0, nw, nh))
    raise FrameError(f'unknown resize mode {mode!r}; use one of {", ".join(RESIZE_MODES)}')


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    if img.shape[1] == w and img.shape[0] == h:
        return img
    if img.shape[:2] == (1, 1):
        # One pixel resizes to a uniform picture. OpenCV 4.5.4 (Ubuntu 22.04's, the board's)
        # refuses to resize a 1x1 multi-channel array ("_step >= minstep"), e.g. a 1x1 box.
        return np.array(np.broadcast_to(img[0, 0], (h, w) + img.shape[2:]))
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def _place(img: np.ndarray, geo: _Geometry, dst_w: int, dst_h: int,
           fill: Union[int, Tuple[int, ...]]) -> np.ndarray:
    """Resize the source box of ``img`` into the output box, padding the rest with fill."""
    sx, sy, sw, sh = geo.src
    dx, dy, dw, dh = geo.dst
    out = _resize(img[sy:sy + sh, sx:sx + sw], dw, dh)
    if (dw, dh) == (dst_w, dst_h):
        return out
    return cv2.copyMakeBorder(out, dy, dst_h - dh - dy, dx, dst_w - dw - dx,
                              cv2.BORDER_CONSTANT, value=fill)


def _scaled(geo: _Geometry, fx: int, fy: int) -> _Geometry:
    """Geometry of a plane subsampled by (fx, fy)."""
    sx, sy, sw, sh = geo.src
    dx, dy, dw, dh = geo.dst
    return _Geometry((sx // fx, sy // fy, max(1, sw // fx), max(1, sh // fy)),
                     (dx // 2, dy // 2, dw // 2, dh // 2))


def _pad_yuv(yuv_range: str) -> Tuple[int, int]:
    y = _PAD_RGB if yuv_range == 'full' else int(round(16 + 219 * _PAD_RGB / 255.0))
    return y, 128


def _pack(y: np.ndarray, uv: np.ndarray) -> np.ndarray:
    h, w = y.shape
    out = np.empty((h * 3 // 2, w), np.uint8)
    out[:h] = y
    out[h:] = uv.reshape(h // 2, w)
    return out


def _rgb_to_yuv(rgb: np.ndarray, yuv_range: str, bgr: bool, y_out: np.ndarray,
                uv_out: np.ndarray) -> None:
    """
    Convert even-sized RGB (or BGR) HxWx3 into a Y plane view and an interleaved UV view.

    The channel shuffles go through cv2.mixChannels, which writes into the (possibly strided)
    output views directly: numpy's strided channel copies cost more than the conversion.
    """
    h, w = rgb.shape[:2]
    if yuv_range == 'video':
        # OpenCV's I420 is BT.601 video range with chroma taken from each 2x2 block's top-left
        # pixel: what the RDK model zoo demo feeds its models.
        i420 = cv2.cvtColor(rgb, cv2.COLOR_BGR2YUV_I420 if bgr else cv2.COLOR_RGB2YUV_I420)
        y_out[...] = i420[:h]
        planes = i420[h:].reshape(2, h // 2, w // 2)
        cv2.mixChannels([planes[0], planes[1]], [uv_out], [0, 0, 1, 1])
        return
    # Full-range BT.601 (JFIF). Luma straight into the output: OpenCV's grey conversion uses the
    # same fixed-point BT.601 weights as its YCrCb one. Chroma from the 2x2 mean of RGB (the
    # conversion is affine, so this is the 2x2 mean of chroma) at a quarter of the pixels.
    cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY, dst=y_out)
    half = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ycrcb = cv2.cvtColor(half, cv2.COLOR_BGR2YCrCb if bgr else cv2.COLOR_RGB2YCrCb)
    cv2.mixChannels([ycrcb], [uv_out], [2, 0, 1, 1])  # (Y, Cr, Cb) -> (U=Cb, V=Cr)


def _rgb_to_nv12_into(rgb: np.ndarray, yuv_range: str, bgr: bool, geo: _Geometry, dst_w: int,
                      dst_h: int, pad: Tuple[int, int]) -> np.ndarray:
    """Convert model-size content into its box of an NV12 image padded with ``pad``."""
    dx, dy, dw, dh = geo.dst
    out = np.empty((dst_h * 3 // 2, dst_w), np.uint8)
    ys, uvs = out[:dst_h], out[dst_h:].reshape(dst_h // 2, dst_w // 2, 2)
    if (dw, dh) != (dst_w, dst_h):
        ys.fill(pad[0])
        uvs.fill(pad[1])
    _rgb_to_yuv(rgb, yuv_range, bgr, ys[dy:dy + dh, dx:dx + dw],
                uvs[dy // 2:(dy + dh) // 2, dx // 2:(dx + dw) // 2])
    return out


@dataclass(frozen=True)
class _JpegHeader:
    """What a JPEG's markers up to its first scan declare."""

    width: int
    height: int
    sof: int                            # the start-of-frame marker's second byte, 0xC0..0xCF
    sampling: Tuple[Tuple[int, int], ...]  # (horizontal, vertical) factor of each component
    restart: int                        # restart interval in MCUs (DRI), 0 without one
    scan_start: int                     # offset of the first entropy-coded byte
    scan_components: int                # components in the first scan


def _jpeg_header(buf: np.ndarray) -> _JpegHeader:
    """
    Walk a JPEG's marker segments by their lengths up to the first scan, without decoding.

    Segments of any size (ICC profiles, EXIF) are skipped by length, never read.
    """
    mv = memoryview(buf)
    n = len(mv)
    i, sof, restart = 2, None, 0
    for _ in range(_MAX_JPEG_SEGMENTS):
        if i + 4 > n:
            raise FrameError('truncated jpeg: data ends before the first scan')
        if mv[i] != 0xFF:
            raise FrameError(f'corrupt jpeg: no marker at byte {i}')
        marker = mv[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            raise FrameError('corrupt jpeg: headers only, no scan data')
        if marker in (0x00, 0xD8) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise FrameError(f'corrupt jpeg: marker 0xFF{marker:02X} before the first scan')
        length = (mv[i + 2] << 8) | mv[i + 3]
        end = i + 2 + length
        if length < 2 or end > n:
            raise FrameError(f'corrupt jpeg: segment 0xFF{marker:02X} at byte {i} has length '
                             f'{length}, {n - i - 2} bytes are left')
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if sof is not None:
                raise FrameError('corrupt jpeg: two frame headers')
            ncomp = mv[i + 9] if length >= 8 else 0
            if ncomp == 0 or length != 8 + 3 * ncomp:
                raise FrameError(f'corrupt jpeg: frame header with {ncomp} components and '
                                 f'length {length}')
            sampling = tuple((mv[i + 11 + 3 * c] >> 4, mv[i + 11 + 3 * c] & 15)
                             for c in range(ncomp))
            if not all(1 <= h <= 4 and 1 <= v <= 4 for h, v in sampling):
                raise FrameError(f'corrupt jpeg: sampling factors {sampling} outside 1..4')
            sof = (marker, (mv[i + 7] << 8) | mv[i + 8], (mv[i + 5] << 8) | mv[i + 6], sampling)
        elif marker == 0xDD and length == 4:
            restart = (mv[i + 4] << 8) | mv[i + 5]
        elif marker == 0xDA:
            if sof is None:
                raise FrameError('corrupt jpeg: scan before the frame header')
            marker, width, height, sampling = sof
            return _JpegHeader(width, height, marker, sampling, restart, end,
                               mv[i + 4] if length > 2 else 0)
        i = end
    raise FrameError(f'corrupt jpeg: more than {_MAX_JPEG_SEGMENTS} segments before the scan')


def _last_eoi(buf: np.ndarray, start: int, chunk: int = 4096) -> int:
    """
    Offset of the last end-of-image marker (FF D9) at or after ``start``, or -1.

    Searches backwards from the last non-zero byte in growing chunks: the marker is usually at
    the very end, after zero padding (fixed-size shared-memory messages) or a few stray bytes.
    """
    hi = _last_nonzero(buf) + 1
    while hi - start >= 2:
        lo = max(start, hi - chunk)
        pos = buf[lo:hi].tobytes().rfind(b'\xff\xd9')
        if pos >= 0:
            return lo + pos
        hi = lo + 1  # keep one byte of overlap: a marker may straddle two chunks
        chunk *= 4
    return -1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _check_jpeg_scan(buf: np.ndarray, hdr: _JpegHeader, eoi: int) -> None:
    """
    Refuse a JPEG whose entropy-coded data is visibly incomplete.

    Huffman coding spends at least 1 bit per code, so a sequential scan needs at least 2 bits
    (DC and end-of-block) for every 8x8 block, and the first (DC) scans of a progressive JPEG 1
    bit. When a restart interval is declared for a single sequential scan, every restart marker
    must be there, in cyclic order: a cut or spliced scan breaks their count or order.
    """
    scan_bytes = eoi - hdr.scan_start
    if scan_bytes <= 0:
        raise FrameError('corrupt jpeg: headers only, no scan data')
    hmax = max(h for h, _ in hdr.sampling)
    vmax = max(v for _, v in hdr.sampling)
    w, h = hdr.width, hdr.height
    blocks = sum(_ceil_div(_ceil_div(w * ch, hmax), 8) * _ceil_div(_ceil_div(h * cv, vmax), 8)
                 for ch, cv in hdr.sampling)
    bits = {0xC0: 2, 0xC1: 2, 0xC2: 1}.get(hdr.sof, 0)  # Huffman codes; arithmetic: no bound
    need = blocks * bits // 8
    if scan_bytes < need:
        raise FrameError(f'corrupt jpeg: {scan_bytes} bytes of scan data, a {w}x{h} image '
                         f'needs at least {need} (data missing)')
    if bits != 2 or not hdr.restart:
        return
    ncomp = len(hdr.sampling)
    if ncomp == 1:
        mcus = _ceil_div(w, 8) * _ceil_div(h, 8)
    elif hdr.scan_components == ncomp:
        mcus = _ceil_div(w, 8 * hmax) * _ceil_div(h, 8 * vmax)
    else:
        return  # one scan per component: restart counts differ per scan
    # Positions of all 0xFF bytes, then the byte after each: in entropy-coded data 0xFF is
    # always followed by 0x00 (stuffing) or a marker, so this finds every marker, in C.
    seg = buf[hdr.scan_start:eoi + 2]
    after = seg[np.flatnonzero(seg[:-1] == 0xFF) + 1]
    after = after[:int(np.argmax(after == 0xD9))]  # up to the first end-of-image marker
    if (after == 0xDA).any():
        return  # more than one scan
    rst = after[(after & 0xF8) == 0xD0]
    expected = _ceil_div(mcus, hdr.restart) - 1
    if rst.size != expected:
        raise FrameError(f'corrupt jpeg: {rst.size} restart markers, a {w}x{h} image with '
                         f'restart interval {hdr.restart} has {expected} (data missing)')
    if (rst != 0xD0 + (np.arange(expected) & 7)).any():
        raise FrameError('corrupt jpeg: restart markers out of order (data cut or spliced)')


def _needed_size(src_w: int, src_h: int, dst_w: int, dst_h: int, mode: str) -> Tuple[int, int]:
    """Smallest source resolution (w, h) that still covers every output pixel of the box."""
    geo = geometry(src_w, src_h, dst_w, dst_h, mode)
    sw, sh = geo.src[2], geo.src[3]
    dw, dh = geo.dst[2], geo.dst[3]
    return int(np.ceil(dw * src_w / sw)), int(np.ceil(dh * src_h / sh))


_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2))
_REDUCED_FLAG = dict(_REDUCED)


def jpeg_decode_flag(factor: int) -> int:
    """
    Give the ``cv2.imdecode`` flag that decodes a JPEG reduced by ``factor``, in colour.

    :param factor: a :func:`jpeg_reduction` result (1, 2, 4 or 8).
    :return: the flag (``IMREAD_COLOR`` for 1).
    """
    return _REDUCED_FLAG.get(factor, cv2.IMREAD_COLOR)


def jpeg_reduction(src_w: int, src_h: int, dst_w: int, dst_h: int, mode: str) -> int:
    """
    Largest JPEG decode reduction (1, 2, 4 or 8) that keeps at least the output's resolution.

    :param src_w: JPEG width.
    :param src_h: JPEG height.
    :param dst_w: model input width.
    :param dst_h: model input height.
    :param mode: resize mode.
    :return: the reduction factor.
    """
    need_w, need_h = _needed_size(src_w, src_h, dst_w, dst_h, mode)
    for factor, _ in _REDUCED:
        if src_w // factor >= need_w and src_h // factor >= need_h:
            return factor
    return 1


def _last_nonzero(buf: np.ndarray, chunk: int = 4096) -> int:
    """Index of the last non-zero byte (zero padding after a JPEG is common), or -1."""
    end = buf.size
    while end > 0:
        start = max(0, end - chunk)
        nz = np.flatnonzero(buf[start:end])
        if nz.size:
            return start + int(nz[-1])
        end = start
        chunk *= 4
    return -1


def _check_limit(max_input_pixels, error: type = FrameError) -> int:
    if isinstance(max_input_pixels, bool) or not isinstance(max_input_pixels, (int, np.integer)) \
            or max_input_pixels <= 0:
        raise error(f'max_input_pixels must be a positive integer, got {max_input_pixels!r}')
    return int(max_input_pixels)


def check_settings(max_input_pixels, bit_depth, yuv_range: str,
                   error: type = FrameError) -> Tuple[int, int]:
    """
    Check the settings a frame is converted with, as :func:`to_nv12` and the annotation take them.

    :param max_input_pixels: the largest frame (width * height) accepted, a positive integer.
    :param bit_depth: significant bits of mono16 frames, an integer in 9..16.
    :param yuv_range: ``full`` or ``video``.
    :param error: the exception to raise (the annotation raises ValueError).
    :return: (max_input_pixels, bit_depth) as ints.
    :raises FrameError: (or ``error``) naming the setting.
    """
    limit = _check_limit(max_input_pixels, error)
    if isinstance(bit_depth, bool) or not isinstance(bit_depth, (int, np.integer)) \
            or not 9 <= bit_depth <= 16:
        raise error(f'bit_depth must be an integer in 9..16, got {bit_depth!r}')
    if yuv_range not in YUV_RANGES:
        raise error(f'unknown yuv_range {yuv_range!r}; use full or video')
    return limit, int(bit_depth)


def _png_size(buf: np.ndarray) -> Tuple[int, int]:
    if buf.size < 24 or buf[:8].tobytes() != _PNG_SIGNATURE:
        raise FrameError('corrupt png: bad signature')
    if buf[12:16].tobytes() != b'IHDR':
        raise FrameError('corrupt png: no IHDR header')
    return (int.from_bytes(buf[16:20].tobytes(), 'big'),
            int.from_bytes(buf[20:24].tobytes(), 'big'))


def declared_size(data, fmt: str) -> Tuple[int, int]:
    """
    Read the size a JPEG or PNG declares in its header, without decoding it.

    :param data: the compressed bytes.
    :param fmt: ``jpeg`` or ``png``.
    :return: (width, height).
    :raises FrameError: when the header cannot be read.
    """
    buf = np.frombuffer(data, dtype=np.uint8).reshape(-1) if not isinstance(data, np.ndarray) \
        else data.reshape(-1)
    if fmt == 'png':
        return _png_size(buf)
    hdr = _jpeg_header(buf)
    return hdr.width, hdr.height


def decode(data, fmt: str, size: Tuple[int, int] = (224, 224), mode: str = 'letterbox', *,
           max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> np.ndarray:
    """
    Decode a JPEG or PNG to BGR, at reduced scale when the output does not need full size.

    The header is read first: an image that declares more than ``max_input_pixels`` pixels
    (a decompression bomb) and a JPEG whose structure shows missing data are refused without
    being decoded. Bytes after a JPEG's end-of-image marker (padding, stray data) are ignored.

    :param data: the compressed bytes.
    :param fmt: ``jpeg`` or ``png``.
    :param size: the model input (height, width) the image is decoded for.
    :param mode: resize mode, which decides how much resolution is needed.
    :param max_input_pixels: the largest width * height accepted.
    :return: HxWx3 BGR uint8.
    :raises FrameError: for empty, truncated, corrupt or too large data.
    """
    limit = _check_limit(max_input_pixels)
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    if buf.dtype != np.uint8 or buf.size == 0:
        raise FrameError(f'empty or non-byte {fmt} data')
    buf = np.ascontiguousarray(buf.reshape(-1))
    flag = cv2.IMREAD_COLOR
    if fmt == 'jpeg':
        if buf.size < 4 or buf[0] != 0xFF or buf[1] != 0xD8:
            raise FrameError('corrupt jpeg: no start-of-image marker')
        # libjpeg fills a truncated image with grey and only warns: refuse it instead.
        eoi = _last_eoi(buf, 2)
        if eoi < 0:
            raise FrameError('truncated jpeg: no end-of-image marker')
        hdr = _jpeg_header(buf)
        if hdr.width == 0 or hdr.height == 0:
            raise FrameError(f'corrupt jpeg: zero size {hdr.width}x{hdr.height}')
        check_pixels('jpeg declares', hdr.width, hdr.height, limit)
        if eoi < hdr.scan_start:
            raise FrameError('truncated jpeg: no end-of-image marker after the scan')
        _check_jpeg_scan(buf, hdr, eoi)
        buf = buf[:eoi + 2]
        factor = jpeg_reduction(hdr.width, hdr.height, size[1], size[0], mode)
        flag = jpeg_decode_flag(factor)
    else:
        width, height = _png_size(buf)
        if width == 0 or height == 0:
            raise FrameError(f'corrupt png: zero size {width}x{height}')
        check_pixels('png declares', width, height, limit)
        # OpenCV decodes a PNG at full size and then reduces it, but its peak is about half
        # the full decode's (an 8192x8192 PNG: +206 MB at 1/4, +386 MB at full size).
        flag = jpeg_decode_flag(jpeg_reduction(width, height, size[1], size[0], mode))
    try:
        img = cv2.imdecode(buf, flag)
    except cv2.error as exc:
        raise FrameError(f'corrupt {fmt}: {exc}') from None
    if img is None or img.size == 0:
        raise FrameError(f'corrupt {fmt}: OpenCV could not decode {buf.size} bytes')
    return img


def to_nv12(frame, encoding: str, size: Tuple[int, int] = (224, 224), mode: str = 'letterbox',
            yuv_range: str = 'full', *, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS,
            bit_depth: int = 16) -> np.ndarray:
    """
    Turn one camera frame into the model's NV12 input.

    RGB-family frames are resized first and converted at model size. YUV frames (nv12, nv21,
    yuv422 variants) are resized plane by plane and keep their own YUV values: they are taken to
    be in the range the model expects already. mono16 (either byte order) keeps its 8 most
    significant bits of ``bit_depth``; larger values are clipped to the depth's maximum.

    :param frame: the image in its own layout: HxWx3 (rgb8, bgr8), HxWx4 (rgba8, bgra8), HxW
        (mono8, mono16), (H*3/2)xW (nv12, nv21), HxWx2 (yuv422/uyvy, yuv422_yuy2/yuyv), or 1-D
        bytes (jpeg, png). Row padding may be present as array strides (see
        :func:`repvit_ros.layouts.image_view`).
    :param encoding: one of :data:`repvit_ros.layouts.ENCODINGS` (CompressedImage format strings
        are accepted).
    :param size: model input (height, width), both even.
    :param mode: ``letterbox`` (fit, centre, pad grey 127), ``center_crop`` or ``stretch``.
    :param yuv_range: ``full`` (BT.601 full range, what the .bin models were compiled for) or
        ``video`` (16..235, what the RDK model zoo's OpenCV demo produces).
    :param max_input_pixels: the largest frame (width * height) accepted; compressed frames are
        checked against the size their header declares, before decoding.
    :param bit_depth: significant bits of mono16 frames (9..16; e.g. 10 or 12 for such sensors).
    :return: (H*3/2)xW uint8, C-contiguous: the Y plane, then interleaved U,V.
    :raises FrameError: for anything that cannot be converted; no other exception escapes.
    """
    try:
        return _to_nv12(frame, encoding, size, mode, yuv_range, max_input_pixels, bit_depth)
    except FrameError:
        raise
    except CONVERSION_FAILURES as exc:
        raise FrameError(f'cannot convert {quoted(encoding)} frame: {exc}') from None


def _to_nv12(frame, encoding, size, mode, yuv_range, max_input_pixels, bit_depth) -> np.ndarray:
    encoding = normalize_encoding(encoding)
    limit, bit_depth = check_settings(max_input_pixels, bit_depth, yuv_range)
    dst_h, dst_w = int(size[0]), int(size[1])
    if dst_h <= 0 or dst_w <= 0 or dst_h % 2 or dst_w % 2:
        raise FrameError(f'model input size must be positive and even, got {dst_w}x{dst_h}')
    if mode not in RESIZE_MODES:
        raise FrameError(f'unknown resize mode {mode!r}; use one of {", ".join(RESIZE_MODES)}')

    if encoding in COMPRESSED_FORMATS:
        frame = decode(frame, encoding, (dst_h, dst_w), mode, max_input_pixels=limit)
        encoding = 'bgr8'
    frame = check_frame(frame, encoding)
    w, h = frame_size(frame, encoding)
    check_pixels(f'{encoding} frame', w, h, limit)
    pad_y, pad_c = _pad_yuv(yuv_range)

    if encoding in SEMI_PLANAR:
        if (h, w) == (dst_h, dst_w) and encoding == 'nv12':
            return np.ascontiguousarray(frame)
        geo = geometry(w, h, dst_w, dst_h, mode)
        y = _place(frame[:h], geo, dst_w, dst_h, pad_y)
        uv_in = frame[h:].reshape(h // 2, w // 2, 2)
        uv = _place(uv_in, _scaled(geo, 2, 2), dst_w // 2, dst_h // 2, (pad_c, pad_c))
        if SEMI_PLANAR[encoding] != (0, 1):  # nv21: V first
            uv = uv[:, :, ::-1]
        return _pack(y, uv)

    if encoding in PACKED_422:
        y_at, u_at, v_at = PACKED_422[encoding]
        geo = geometry(w, h, dst_w, dst_h, mode)
        # Resize the packed frame as it lies, with no copy and no colour maths: as a 2-channel
        # image its luma channel resamples exactly like a Y plane (the other channel, mixed
        # U/V, is discarded), and as a 4-channel image of pixel pairs, chroma is already at half
        # width, so one resize also halves its height.
        y = _place(frame, geo, dst_w, dst_h, (pad_y, pad_y))[:, :, y_at]
        quads = _place(pixel_pairs(frame), _scaled(geo, 2, 1), dst_w // 2, dst_h // 2,
                       (pad_c,) * 4)
        out = np.empty((dst_h * 3 // 2, dst_w), np.uint8)
        out[:dst_h] = y
        uv = out[dst_h:].reshape(dst_h // 2, dst_w // 2, 2)
        uv[:, :, 0] = quads[:, :, u_at]
        uv[:, :, 1] = quads[:, :, v_at]
        return out

    if encoding in ('mono8', 'mono16'):
        if encoding == 'mono16':
            frame = mono16_to_8(frame, int(bit_depth))
        geo = geometry(frame.shape[1], frame.shape[0], dst_w, dst_h, mode)
        y = _place(np.ascontiguousarray(frame), geo, dst_w, dst_h, _PAD_RGB)
        if yuv_range == 'video':
            y = cv2.convertScaleAbs(y, alpha=219.0 / 255.0, beta=16.0)
        return _pack(y, np.full((dst_h // 2, dst_w // 2, 2), pad_c, np.uint8))

    # rgb8, bgr8, rgba8, bgra8: resize the source box alone, convert only that content (a
    # letterboxed 16:9 frame is 56 % of the output), then write it into constant padding.
    geo = geometry(frame.shape[1], frame.shape[0], dst_w, dst_h, mode)
    sx, sy, sw, sh = geo.src
    small = _resize(frame[sy:sy + sh, sx:sx + sw], geo.dst[2], geo.dst[3])
    if encoding in ('rgba8', 'bgra8'):
        small = cv2.cvtColor(small, cv2.COLOR_RGBA2RGB)  # drops alpha, keeps channel order
    return _rgb_to_nv12_into(np.ascontiguousarray(small), yuv_range,
                             encoding in ('bgr8', 'bgra8'), geo, dst_w, dst_h, (pad_y, pad_c))


def nv12_to_rgb(nv12: np.ndarray, yuv_range: str = 'full') -> np.ndarray:
    """
    Convert NV12 to RGB as the BPU's input node does (nearest-neighbour chroma).

    Full range: R = Y + 1.402(V-128), G = Y - 0.344136(U-128) - 0.714136(V-128),
    B = Y + 1.772(U-128). Video range uses BT.601's 16..235 scaling.

    :param nv12: (H*3/2)xW uint8.
    :param yuv_range: ``full`` or ``video``.
    :return: HxWx3 uint8 RGB.
    """
    if nv12.ndim != 2 or nv12.dtype != np.uint8 or nv12.shape[0] % 3:
        raise FrameError(f'NV12 must be a (H*3/2)xW uint8 array, got {nv12.shape} {nv12.dtype}')
    h, w = nv12.shape[0] * 2 // 3, nv12.shape[1]
    if yuv_range == 'video':
        return cv2.cvtColor(np.ascontiguousarray(nv12), cv2.COLOR_YUV2RGB_NV12)
    if yuv_range != 'full':
        raise FrameError(f'unknown yuv_range {yuv_range!r}; use full or video')
    uv = nv12[h:].reshape(h // 2, w // 2, 2)
    crcb = cv2.resize(np.ascontiguousarray(uv[:, :, ::-1]), (w, h),
                      interpolation=cv2.INTER_NEAREST)
    ycrcb = cv2.merge([nv12[:h], crcb[:, :, 0], crcb[:, :, 1]])
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)
