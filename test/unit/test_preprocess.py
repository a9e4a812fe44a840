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
Preprocessing against an independent reference written from the formulas.

The reference works in float64 with its own bilinear resampler (OpenCV's half-pixel-centre
convention), the BT.601 equations as published, and the geometry as specified; only the final
rounding happens at the end. The code under test resizes in uint8 with OpenCV first and converts
colour at model size, so the two can differ by rounding only.
"""

import os
import struct
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np
import pytest
from repvit_ros.layouts import image_view
from repvit_ros.preprocess import FrameError, nv12_to_rgb, to_nv12

H, W = 224, 224


# ---------------------------------------------------------------- reference implementation
def ref_resize(img, out_w, out_h):
    """Bilinear resampling with pixel centres at +0.5, edges clamped (float64)."""
    img = np.asarray(img, np.float64)
    in_h, in_w = img.shape[:2]

    def axis(n_out, n_in):
        s = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        s = np.clip(s, 0, n_in - 1)
        i0 = np.floor(s).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, s - i0

    y0, y1, fy = axis(out_h, in_h)
    x0, x1, fx = axis(out_w, in_w)
    if img.ndim == 3:
        fx = fx[:, None]
        fy = fy[:, None, None]
    else:
        fy = fy[:, None]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bot = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def ref_box(src_w, src_h, mode):
    """Spec: (src box, dst box) for a 224x224 output."""
    if mode == 'stretch':
        return (0, 0, src_w, src_h), (0, 0, W, H)
    if mode == 'center_crop':
        side = min(src_w, src_h)  # output is square
        return ((src_w - side) // 2, (src_h - side) // 2, side, side), (0, 0, W, H)
    s = min(W / src_w, H / src_h)
    nw = min(W, max(2, 2 * round(src_w * s / 2)))
    nh = min(H, max(2, 2 * round(src_h * s / 2)))
    return (0, 0, src_w, src_h), ((W - nw) // 2 // 2 * 2, (H - nh) // 2 // 2 * 2, nw, nh)


def ref_place(plane, mode, fill, sub=1, src_sub=(1, 1)):
    """Resize a (possibly subsampled) plane into its box of the output, pad with fill."""
    full_h, full_w = plane.shape[0] * src_sub[1], plane.shape[1] * src_sub[0]
    (sx, sy, sw, sh), (dx, dy, dw, dh) = ref_box(full_w, full_h, mode)
    sx, sw = sx // src_sub[0], max(1, sw // src_sub[0])
    sy, sh = sy // src_sub[1], max(1, sh // src_sub[1])
    shape = (H // sub, W // sub) + plane.shape[2:]
    out = np.full(shape, float(fill))
    region = ref_resize(plane[sy:sy + sh, sx:sx + sw], dw // sub, dh // sub)
    out[dy // sub:(dy + dh) // sub, dx // sub:(dx + dw) // sub] = region
    return out


def ref_rgb_to_yuv(rgb, yuv_range):
    r, g, b = (rgb[..., i] for i in range(3))
    if yuv_range == 'full':
        y = 0.299 * r + 0.587 * g + 0.114 * b
        u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
        v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
        u = u.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
        v = v.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
    else:
        y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        u = (128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255)[::2, ::2]
        v = (128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)[::2, ::2]
    return y, u, v


def ref_nv12(y, u, v):
    out = np.empty((H * 3 // 2, W), np.float64)
    out[:H] = y
    uv = out[H:].reshape(H // 2, W // 2, 2)
    uv[..., 0] = u
    uv[..., 1] = v
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def ref_from_rgb(rgb, mode, yuv_range='full'):
    return ref_nv12(*ref_rgb_to_yuv(ref_place(rgb, mode, 127), yuv_range))


def ref_from_planes(y_plane, u_plane, v_plane, mode, chroma_sub):
    return ref_nv12(ref_place(y_plane, mode, 127),
                    ref_place(u_plane, mode, 128, sub=2, src_sub=chroma_sub),
                    ref_place(v_plane, mode, 128, sub=2, src_sub=chroma_sub))


def ref_jpeg_factor(w, h, mode):
    (sx, sy, sw, sh), (dx, dy, dw, dh) = ref_box(w, h, mode)
    need_w, need_h = dw * w / sw, dh * h / sh
    for f in (8, 4, 2):
        if w // f >= need_w and h // f >= need_h:
            return f
    return 1


# ---------------------------------------------------------------- test images
def smooth_rgb(h, w, seed=0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    chans = []
    for _ in range(3):
        a, b, c = rng.uniform(0.5, 2.0, 3)
        chans.append(128 + 90 * np.sin(a * xx / w * np.pi + c) * np.cos(b * yy / h * np.pi))
    return np.clip(np.stack(chans, -1), 0, 255).round().astype(np.uint8)


def noisy_rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


IMAGES = {'smooth': smooth_rgb, 'noisy': noisy_rgb}
MODES = ('letterbox', 'center_crop', 'stretch')


def check(out, ref, kind):
    assert out.shape == (H * 3 // 2, W) and out.dtype == np.uint8 and out.flags.c_contiguous
    diff = np.abs(out.astype(int) - ref.astype(int))
    if kind == 'smooth':
        assert diff.max() <= 1, f'max diff {diff.max()}'
    else:
        assert diff.mean() <= 2, f'mean diff {diff.mean()}'


def yuv_planes(rgb):
    """Video-range-free YUV planes (full range, float) of an RGB image, per pixel."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    return [np.clip(np.round(p), 0, 255).astype(np.uint8) for p in (y, u, v)]


# ---------------------------------------------------------------- per encoding, per mode
@pytest.mark.parametrize('kind', IMAGES)
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8'])
@pytest.mark.parametrize('yuv_range', ['full', 'video'])
def test_rgb_family(encoding, mode, kind, yuv_range):
    rgb = IMAGES[kind](480, 640)
    frame = {'rgb8': rgb, 'bgr8': rgb[..., ::-1],
             'rgba8': np.dstack([rgb, np.full(rgb.shape[:2], 9, np.uint8)]),
             'bgra8': np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 9, np.uint8)])}[encoding]
    out = to_nv12(np.ascontiguousarray(frame), encoding, mode=mode, yuv_range=yuv_range)
    check(out, ref_from_rgb(rgb, mode, yuv_range), kind)


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8'])
def test_a_one_pixel_frame_gives_a_uniform_picture(encoding, mode):
    # OpenCV 4.5.4, the board's, cannot resize a 1x1 multi-channel array: a 1x1 detector box
    # (or camera frame) was a conversion failure there.
    channels = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 0}[encoding]
    frame = np.full((1, 1, channels) if channels else (1, 1), 200, np.uint8)
    out = to_nv12(frame, encoding, (16, 16), mode=mode)
    assert out.shape == (24, 16) and (out[:16] == 200).all() and (out[16:] == 128).all()


@pytest.mark.parametrize('kind', IMAGES)
@pytest.mark.parametrize('mode', MODES)
def test_mono8_and_mono16(mode, kind):
    gray = IMAGES[kind](480, 640)[..., 1]
    ref = ref_from_planes(gray, np.full((240, 320), 128), np.full((240, 320), 128), mode, (2, 2))
    check(to_nv12(gray, 'mono8', mode=mode), ref, kind)
    mono16 = gray.astype(np.uint16) * 256 + 77
    check(to_nv12(mono16, 'mono16', mode=mode), ref, kind)


@pytest.mark.parametrize('kind', IMAGES)
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('encoding', ['nv12', 'nv21'])
def test_semi_planar(encoding, mode, kind):
    y, u, v = yuv_planes(IMAGES[kind](480, 640))
    u2, v2 = u[::2, ::2], v[::2, ::2]
    frame = np.empty((720, 640), np.uint8)
    frame[:480] = y
    inter = frame[480:].reshape(240, 320, 2)
    inter[..., 0], inter[..., 1] = (u2, v2) if encoding == 'nv12' else (v2, u2)
    check(to_nv12(frame, encoding, mode=mode), ref_from_planes(y, u2, v2, mode, (2, 2)), kind)


@pytest.mark.parametrize('kind', IMAGES)
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('encoding', ['yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv'])
def test_packed_422(encoding, mode, kind):
    y, u, v = yuv_planes(IMAGES[kind](480, 640))
    u2, v2 = u[:, ::2], v[:, ::2]
    quad = np.empty((480, 320, 4), np.uint8)
    if encoding in ('yuv422', 'uyvy'):
        quad[..., 0], quad[..., 1], quad[..., 2], quad[..., 3] = u2, y[:, 0::2], v2, y[:, 1::2]
    else:
        quad[..., 0], quad[..., 1], quad[..., 2], quad[..., 3] = y[:, 0::2], u2, y[:, 1::2], v2
    frame = quad.reshape(480, 640, 2)
    check(to_nv12(frame, encoding, mode=mode), ref_from_planes(y, u2, v2, mode, (2, 1)), kind)


@pytest.mark.parametrize('size', [(480, 640), (1080, 1920), (200, 300)])
@pytest.mark.parametrize('mode', MODES)
def test_jpeg_and_png(mode, size):
    rgb = smooth_rgb(*size)
    ok, jpeg = cv2.imencode('.jpg', rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    factor = ref_jpeg_factor(size[1], size[0], mode)
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
             4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
    decoded = cv2.imdecode(jpeg, flags[factor])[..., ::-1]
    check(to_nv12(jpeg.tobytes(), 'jpeg', mode=mode), ref_from_rgb(decoded, mode), 'smooth')
    # The reduced decode still sees the same picture as a full decode (within JPEG's blur).
    full = ref_from_rgb(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1], mode)
    assert np.abs(to_nv12(jpeg, 'jpeg', mode=mode).astype(int) - full).mean() < 2
    # A PNG is decoded at the same reduction (its decoder's peak memory is about half).
    ok, png = cv2.imencode('.png', rgb[..., ::-1])
    reduced = cv2.imdecode(png, flags[factor])[..., ::-1]
    check(to_nv12(png.tobytes(), 'png', mode=mode), ref_from_rgb(reduced, mode), 'smooth')
    assert np.abs(to_nv12(png, 'png', mode=mode).astype(int) -
                  ref_from_rgb(rgb, mode)).mean() < 1


def test_jpeg_is_decoded_reduced_for_large_frames():
    from repvit_ros.preprocess import jpeg_reduction
    assert jpeg_reduction(1920, 1080, 224, 224, 'letterbox') == 8
    assert jpeg_reduction(640, 480, 224, 224, 'letterbox') == 2
    assert jpeg_reduction(300, 200, 224, 224, 'letterbox') == 1


# ---------------------------------------------------------------- ranges and round trip
def test_full_and_video_range_differ_as_the_formulas_say():
    rgb = smooth_rgb(224, 224)
    full = to_nv12(rgb, 'rgb8', mode='stretch', yuv_range='full').astype(np.float64)
    video = to_nv12(rgb, 'rgb8', mode='stretch', yuv_range='video').astype(np.float64)
    # Y_video = 16 + 219/255 * Y_full
    assert np.abs(video[:H] - (16 + 219 / 255 * full[:H])).max() <= 1.5
    assert video[:H].min() >= 16 and video[:H].max() <= 235
    # Chroma: C_video - 128 = 224/255 * (C_full - 128), up to video's point sampling.
    fc, vc = full[H:] - 128, video[H:] - 128
    assert np.abs(vc - 224 / 255 * fc).mean() < 1.5
    assert np.abs(full - video).mean() > 3  # and they are really different


def test_round_trip_rgb_nv12_rgb():
    rgb = smooth_rgb(224, 224, seed=3)
    back = nv12_to_rgb(to_nv12(rgb, 'rgb8'))
    assert back.shape == (224, 224, 3)
    assert np.abs(back.astype(int) - rgb).mean() <= 3
    back_v = nv12_to_rgb(to_nv12(rgb, 'rgb8', yuv_range='video'), yuv_range='video')
    assert np.abs(back_v.astype(int) - rgb).mean() <= 3


def test_nv12_to_rgb_matches_the_bpu_formula():
    rng = np.random.default_rng(5)
    nv12 = rng.integers(0, 256, (336, 224), dtype=np.uint8)
    y = nv12[:224].astype(np.float64)
    uv = nv12[224:].reshape(112, 112, 2).astype(np.float64)
    u = np.repeat(np.repeat(uv[..., 0], 2, 0), 2, 1) - 128
    v = np.repeat(np.repeat(uv[..., 1], 2, 0), 2, 1) - 128
    ref = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], -1)
    ref = np.clip(np.round(ref), 0, 255)
    assert np.abs(nv12_to_rgb(nv12).astype(int) - ref).max() <= 1


# ---------------------------------------------------------------- zero copy and pass-through
def test_model_size_nv12_is_passed_through():
    nv12 = np.random.default_rng(1).integers(0, 256, (336, 224), dtype=np.uint8)
    out = to_nv12(nv12, 'nv12')
    assert np.array_equal(out, nv12)
    assert np.shares_memory(out, nv12)  # already contiguous: no copy at all
    padded = image_view(224, 224, 256, 'nv12', np.zeros(336 * 256, np.uint8))
    assert to_nv12(padded, 'nv12').flags.c_contiguous


def test_image_view_honours_row_padding_without_copying():
    rgb = noisy_rgb(48, 64)
    step = 64 * 3 + 32
    buf = np.zeros((48, step), np.uint8)
    buf[:, :64 * 3] = rgb.reshape(48, -1)
    data = bytearray(buf.tobytes())
    view = image_view(48, 64, step, 'rgb8', data)
    assert view.shape == (48, 64, 3) and np.array_equal(view, rgb)
    assert np.shares_memory(view, np.frombuffer(data, np.uint8))
    check_out = to_nv12(view, 'rgb8')
    assert np.array_equal(check_out, to_nv12(rgb, 'rgb8'))


@pytest.mark.parametrize('encoding', ['yuv422', 'yuv422_yuy2'])
def test_padded_packed_yuv_matches_packed_and_is_viewed_in_place(encoding, monkeypatch):
    from repvit_ros import preprocess
    from repvit_ros.layouts import encode
    w, h, pad = 96, 64, 40
    packed = np.frombuffer(encode(noisy_rgb(h, w), encoding), np.uint8).reshape(h, w * 2)
    buf = np.zeros((h, w * 2 + pad), np.uint8)
    buf[:, :w * 2] = packed
    view = image_view(h, w, w * 2 + pad, encoding, buf.tobytes())
    assert not view.flags.c_contiguous
    copies = []
    original = np.ascontiguousarray

    def counting(a, *args, **kwargs):
        copies.append(a.nbytes)
        return original(a, *args, **kwargs)
    monkeypatch.setattr(preprocess.np, 'ascontiguousarray', counting)
    for mode in ('letterbox', 'center_crop', 'stretch'):
        expected = to_nv12(packed.reshape(h, w, 2), encoding, mode=mode)
        assert np.array_equal(to_nv12(view, encoding, mode=mode), expected)
    assert not [n for n in copies if n >= view.nbytes]  # no full-frame copy


def test_image_view_big_endian_mono16():
    values = np.arange(12, dtype=np.uint16).reshape(3, 4) * 4000
    view = image_view(3, 4, 8, 'mono16', values.astype('>u2').tobytes(), is_bigendian=True)
    assert np.array_equal(view, values)


def test_image_view_nv12_and_422_shapes():
    assert image_view(4, 6, 6, 'nv12', bytes(36)).shape == (6, 6)
    assert image_view(4, 6, 12, 'yuyv', bytes(48)).shape == (4, 6, 2)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize('args, words', [
    ((0, 64, 192, 'rgb8', b''), 'zero-size'),
    ((48, 0, 0, 'rgb8', b''), 'zero-size'),
    ((5, 4, 4, 'nv12', bytes(28)), 'even'),
    ((4, 5, 10, 'yuyv', bytes(40)), 'even'),
    ((48, 64, 192, 'rgb8', bytes(100)), 'needs 9216 bytes, got 100'),
    ((48, 64, 192, 'rgb8', bytes(9216 + 1)), 'needs 9216 bytes'),
    ((48, 64, 100, 'rgb8', bytes(4800)), 'step 100 is smaller'),
    ((48, 64, 64, 'rgb9', bytes(3072)), 'unknown encoding'),
    ((4, 4, 8, 'jpeg', bytes(32)), 'compressed'),
])
def test_image_view_rejects_bad_buffers(args, words):
    with pytest.raises(FrameError, match=words):
        image_view(*args)


@pytest.mark.parametrize('frame, encoding, words', [
    (np.zeros((10, 10, 3), np.uint8), 'xyz', 'unknown encoding'),
    (np.zeros((10, 10), np.uint8), 'rgb8', 'HxWx3'),
    (np.zeros((0, 10, 3), np.uint8), 'rgb8', 'zero-size'),
    (np.zeros((9, 5), np.uint8), 'nv12', 'even'),
    (np.zeros((10, 10), np.uint8), 'nv12', r'\(H\*3/2\)xW'),
    (np.zeros((10, 10, 3), np.float32), 'rgb8', 'uint8'),
    (b'', 'jpeg', 'empty'),
    (b'\xff\xd8garbage', 'jpeg', 'truncated jpeg'),
    (b'\x00\x01\x02\x03' * 20, 'jpeg', 'corrupt jpeg'),
    (b'\x89PNG\r\n\x1a\n' + bytes(40), 'png', 'corrupt png'),
    ('not an image', 'rgb8', 'numpy array'),
])
def test_to_nv12_rejects_bad_frames(frame, encoding, words):
    with pytest.raises(FrameError, match=words):
        to_nv12(frame, encoding)


def test_truncated_and_corrupted_jpeg():
    ok, jpeg = cv2.imencode('.jpg', noisy_rgb(480, 640))
    data = jpeg.tobytes()
    with pytest.raises(FrameError, match='truncated'):
        to_nv12(data[:len(data) // 2], 'jpeg')
    broken = bytearray(data)
    broken[2:200] = bytes(198)  # destroy the headers
    with pytest.raises(FrameError):
        to_nv12(bytes(broken), 'jpeg')


@pytest.mark.parametrize('padding', [0, 10, 5000, 100_000])
def test_zero_padded_jpeg_is_accepted_and_truncation_still_found(padding):
    # Fixed-size buffers (shared-memory camera messages) leave zeros after the JPEG.
    ok, jpeg = cv2.imencode('.jpg', smooth_rgb(480, 640))
    data = jpeg.tobytes()
    expected = to_nv12(data, 'jpeg')
    assert np.array_equal(to_nv12(data + bytes(padding), 'jpeg'), expected)
    with pytest.raises(FrameError, match='truncated'):
        to_nv12(data[:-2] + bytes(padding), 'jpeg')
    with pytest.raises(FrameError, match='truncated'):
        to_nv12(data[:2] + bytes(padding + 8), 'jpeg')


def test_bad_size_mode_and_range():
    rgb = smooth_rgb(32, 32)
    with pytest.raises(FrameError, match='even'):
        to_nv12(rgb, 'rgb8', size=(223, 224))
    with pytest.raises(FrameError, match='resize mode'):
        to_nv12(rgb, 'rgb8', mode='zoom')
    with pytest.raises(FrameError, match='yuv_range'):
        to_nv12(rgb, 'rgb8', yuv_range='pc')


def test_compressed_format_strings():
    from repvit_ros.layouts import normalize_encoding
    assert normalize_encoding('jpeg') == 'jpeg'
    assert normalize_encoding('JPG') == 'jpeg'
    assert normalize_encoding('bgr8; jpeg compressed bgr8') == 'jpeg'
    assert normalize_encoding('rgb8; png compressed rgb8') == 'png'
    assert normalize_encoding('BGR8') == 'bgr8'


# ---------------------------------------------------------------- hostile frames
def png_bytes(width, height):
    """Encode a real all-black 1-bit greyscale PNG (its rows compress about 1000:1)."""
    def chunk(kind, data):
        crc = struct.pack('>I', zlib.crc32(kind + data))
        return struct.pack('>I', len(data)) + kind + data + crc
    row = bytes(1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b''.join(packer.compress(row * min(1000, height - i)) for i in range(0, height, 1000))
    header = struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', idat + packer.flush())
            + chunk(b'IEND', b''))


def jpeg_bytes(rgb, *params):
    ok, data = cv2.imencode('.jpg', np.ascontiguousarray(rgb[..., ::-1]), list(params))
    assert ok
    return data.tobytes()


def jpeg_declaring(data, width, height):
    """Patch a JPEG's frame header to declare another size."""
    sof = data.index(b'\xff\xc0')
    return data[:sof + 5] + struct.pack('>HH', height, width) + data[sof + 9:]


def scan_start(data):
    sos = data.index(b'\xff\xda')
    return sos + 2 + int.from_bytes(data[sos + 2:sos + 4], 'big')


@pytest.fixture(scope='module')
def bombs():
    """Build a PNG of ~110 KB declaring 30000x30000 and a JPEG of <1 KB of 60000x60000."""
    png = png_bytes(30000, 30000)
    jpeg = jpeg_declaring(jpeg_bytes(smooth_rgb(16, 16)), 60000, 60000)
    assert len(png) < 400_000 and len(jpeg) < 1024
    assert png[12:24] == b'IHDR' + struct.pack('>II', 30000, 30000)
    return {'png': png, 'jpeg': jpeg}


def test_decompression_bombs_are_refused_from_the_header(bombs, monkeypatch):
    from repvit_ros import preprocess
    decoded = []
    monkeypatch.setattr(preprocess.cv2, 'imdecode', lambda *a: decoded.append(a))
    for fmt, side in (('png', 30000), ('jpeg', 60000)):
        start = time.process_time()  # this thread's CPU: another process's load adds nothing
        with pytest.raises(FrameError, match=f'{fmt} declares {side}x{side} is {side * side} '
                                             f'pixels, over the limit of {8192 * 8192}'):
            to_nv12(bombs[fmt], fmt)
        assert time.process_time() - start < 0.05
        with pytest.raises(FrameError, match='max_input_pixels'):
            to_nv12(bombs[fmt], fmt, max_input_pixels=side * side - 1)
    assert decoded == []  # OpenCV never saw them


def test_decompression_bombs_keep_resident_memory_bounded(bombs, tmp_path):
    from repvit_ros import preprocess
    for fmt, data in bombs.items():
        (tmp_path / f'bomb.{fmt}').write_bytes(data)
    script = (
        'import resource, sys, time\n'
        'from repvit_ros.preprocess import FrameError, to_nv12\n'
        'frames = [(open(p, "rb").read(), p.rsplit(".", 1)[1]) for p in sys.argv[1:]]\n'
        'base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n'
        'start, refused = time.process_time(), 0\n'
        'for _ in range(10):\n'
        '    for data, fmt in frames:\n'
        '        try:\n'
        '            to_nv12(data, fmt)\n'
        '        except FrameError:\n'
        '            refused += 1\n'
        'grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base\n'
        'print(refused, grown // 1024, time.process_time() - start)\n')
    root = os.path.dirname(os.path.dirname(os.path.abspath(preprocess.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run([sys.executable, '-c', script, str(tmp_path / 'bomb.png'),
                           str(tmp_path / 'bomb.jpeg')], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    refused, grown_mb, seconds = proc.stdout.split()
    assert int(refused) == 20
    assert int(grown_mb) < 64, f'peak resident memory grew by {grown_mb} MB'
    assert float(seconds) < 1.0


@pytest.mark.parametrize('encoding, frame', [
    ('rgb8', np.zeros((100, 101, 3), np.uint8)),
    ('mono16', np.zeros((101, 100), np.uint16)),
    ('nv12', np.zeros((150, 102), np.uint8)),
    ('yuyv', np.zeros((100, 102, 2), np.uint8)),
])
def test_raw_frames_over_the_pixel_limit_are_refused(encoding, frame):
    rows = frame.shape[0] * 2 // 3 if encoding == 'nv12' else frame.shape[0]
    pixels = rows * frame.shape[1]
    assert to_nv12(frame, encoding, max_input_pixels=pixels).shape == (336, 224)
    with pytest.raises(FrameError, match=f'{frame.shape[1]}x{rows} is {pixels} pixels'):
        to_nv12(frame, encoding, max_input_pixels=pixels - 1)


@pytest.mark.parametrize('limit', [0, -5, 2.5, None, True])
def test_bad_pixel_limit(limit):
    with pytest.raises(FrameError, match='max_input_pixels must be a positive integer'):
        to_nv12(smooth_rgb(32, 32), 'rgb8', max_input_pixels=limit)


@pytest.fixture(scope='module')
def camera_jpegs():
    """1080p JPEGs as cameras send them: plain, with restart markers, progressive."""
    rgb = smooth_rgb(1080, 1920, seed=4)
    rgb = np.clip(rgb + np.random.default_rng(4).normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    return {'plain': jpeg_bytes(rgb),
            'restart': jpeg_bytes(rgb, cv2.IMWRITE_JPEG_RST_INTERVAL, 4),
            'progressive': jpeg_bytes(rgb, cv2.IMWRITE_JPEG_PROGRESSIVE, 1)}


def cut_middle(data, n):
    mid = (scan_start(data) + len(data)) // 2
    return data[:mid] + data[mid + n:]


def keep_scan(data, fraction):
    start = scan_start(data)
    return data[:start + int((len(data) - start) * fraction)] + b'\xff\xd9'


def misorder_restart(data):
    pos = data.index(b'\xff\xd4', scan_start(data))
    return data[:pos + 1] + b'\xd6' + data[pos + 2:]


@pytest.mark.parametrize('kind, damage, words', [
    ('plain', lambda d: d[:scan_start(d)] + b'\xff\xd9', 'headers only, no scan data'),
    ('restart', lambda d: d[:scan_start(d)] + b'\xff\xd9', 'headers only, no scan data'),
    ('progressive', lambda d: d[:scan_start(d)] + b'\xff\xd9', 'headers only, no scan data'),
    ('plain', lambda d: keep_scan(d, 0.005), 'bytes of scan data, a 1920x1080 image needs'),
    ('progressive', lambda d: keep_scan(d, 0.005), 'bytes of scan data, a 1920x1080 image'),
    ('restart', lambda d: keep_scan(d, 0.5), 'restart markers, a 1920x1080 image with restart '
                                             'interval 4 has 2039'),
    ('restart', lambda d: cut_middle(d, 1000), 'restart markers.*data missing'),
    ('restart', misorder_restart, 'restart markers out of order'),
])
def test_corrupt_jpeg_with_end_marker_is_refused(camera_jpegs, kind, damage, words, monkeypatch):
    from repvit_ros import preprocess
    data = camera_jpegs[kind]
    assert to_nv12(data, 'jpeg').shape == (336, 224)
    decoded = []
    monkeypatch.setattr(preprocess.cv2, 'imdecode', lambda *a: decoded.append(a))
    broken = damage(data)
    assert broken.endswith(b'\xff\xd9')
    with pytest.raises(FrameError, match=words):
        to_nv12(broken, 'jpeg')
    assert decoded == []


def test_jpeg_corruption_that_the_structure_does_not_show_is_decoded(camera_jpegs):
    # What docs/reliability.md states as not refused: bytes cut from the middle of a scan
    # without restart markers, and most of one missing when what is left is still above 2 bits
    # per block. libjpeg decodes them, filling what it lacks with grey.
    clean = to_nv12(camera_jpegs['plain'], 'jpeg', mode='stretch')
    cut = to_nv12(cut_middle(camera_jpegs['plain'], 20_000), 'jpeg', mode='stretch')
    assert not np.array_equal(cut, clean)
    most = to_nv12(keep_scan(camera_jpegs['plain'], 0.2), 'jpeg', mode='stretch')
    assert (most[H // 2:H] == 128).all()  # the lower half is grey fill, and no error


def test_jpeg_with_trailing_bytes_is_accepted(camera_jpegs):
    for data in camera_jpegs.values():
        expected = to_nv12(data, 'jpeg')
        for tail in (b'\x00', b'garbage', b'\xff\xd9\xff\xd0\x00\xff', bytes(70_000) + b'\x01',
                     np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes(),
                     data):
            assert np.array_equal(to_nv12(data + tail, 'jpeg'), expected)
        with pytest.raises(FrameError, match='truncated'):
            to_nv12(data[:-2] + b'garbage', 'jpeg')


def test_jpeg_with_large_app_segments_is_accepted(camera_jpegs):
    exif = b'Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    exif += bytes(60_000 - len(exif))
    segments = b'\xff\xe1' + struct.pack('>H', len(exif) + 2) + exif
    for seq in range(1, 4):  # an ICC profile in three full 64 KB APP2 chunks
        icc = b'ICC_PROFILE\x00' + bytes([seq, 3]) + bytes([seq * 7 % 256]) * (65533 - 14)
        segments += b'\xff\xe2' + struct.pack('>H', len(icc) + 2) + icc
    segments += b'\xff\xff'  # fill bytes before the next marker are allowed too
    assert len(segments) > 250_000
    for data in camera_jpegs.values():
        big = data[:2] + segments + data[2:]
        assert np.array_equal(to_nv12(big, 'jpeg'), to_nv12(data, 'jpeg'))


def sof_segment(data):
    sof = data.index(b'\xff\xc0')
    return data[sof:sof + 2 + int.from_bytes(data[sof + 2:sof + 4], 'big')]


def segment(marker, payload):
    return b'\xff' + bytes([marker]) + struct.pack('>H', len(payload) + 2) + payload


@pytest.mark.parametrize('damage, words', [
    (lambda d: d[:2] + b'\xff\xe0\x00\x00' + d[2:], 'has length 0'),
    (lambda d: d[:2] + b'\xff\xe0\xff\xf0' + d[2:300] + b'\xff\xd9', 'has length 65520'),
    (lambda d: d[:2] + segment(0xFE, b'') * 2000 + d[2:], 'more than 1024 segments'),
    (lambda d: d[:2] + b'\xff\xd3' + d[2:], 'marker 0xFFD3 before the first scan'),
    (lambda d: d[:2] + b'\x00\x00' + d[2:], 'no marker at byte 2'),
    (lambda d: d[:2] + d[d.index(b'\xff\xda'):], 'scan before the frame header'),
    (lambda d: d.replace(b'\xff\xc0', sof_segment(d) + b'\xff\xc0', 1), 'two frame headers'),
    (lambda d: jpeg_declaring(d, 0, 16), 'zero size 0x16'),
])
def test_jpeg_structure_errors(damage, words):
    data = jpeg_bytes(smooth_rgb(16, 16))
    broken = damage(data)
    assert broken.endswith(b'\xff\xd9')
    with pytest.raises(FrameError, match=words):
        to_nv12(broken, 'jpeg')


def test_jpeg_bad_sampling_factors():
    data = bytearray(jpeg_bytes(smooth_rgb(16, 16)))
    sof = bytes(data).index(b'\xff\xc0')
    data[sof + 11] = 0x50  # first component: horizontal factor 5
    with pytest.raises(FrameError, match='sampling factors'):
        to_nv12(bytes(data), 'jpeg')


def test_png_without_header_or_size():
    png = png_bytes(40, 30)
    assert to_nv12(png, 'png').shape == (336, 224)
    with pytest.raises(FrameError, match='no IHDR'):
        to_nv12(png[:12] + b'IHDX' + png[16:], 'png')
    with pytest.raises(FrameError, match='zero size 0x30'):
        to_nv12(png[:16] + bytes(4) + png[20:], 'png')


# ---------------------------------------------------------------- 16-bit frames
@pytest.mark.parametrize('mode', MODES)
def test_mono16_big_and_little_endian_give_the_same_nv12(mode):
    values = (noisy_rgb(48, 64)[..., 0].astype(np.uint16) << 8) | 0x5A
    step = 64 * 2 + 6
    little, big = bytearray(48 * step), bytearray(48 * step)
    for r in range(48):
        little[r * step:r * step + 128] = values[r].astype('<u2').tobytes()
        big[r * step:r * step + 128] = values[r].astype('>u2').tobytes()
    lv = image_view(48, 64, step, 'mono16', bytes(little))
    bv = image_view(48, 64, step, 'mono16', bytes(big), is_bigendian=True)
    assert bv.dtype.byteorder == '>' and np.array_equal(lv, bv)
    expected = to_nv12((values >> 8).astype(np.uint8), 'mono8', mode=mode)
    assert np.array_equal(to_nv12(lv, 'mono16', mode=mode), expected)
    assert np.array_equal(to_nv12(bv, 'mono16', mode=mode), expected)


@pytest.mark.parametrize('bit_depth', [10, 12, 16])
def test_mono16_bit_depth_scales_to_the_8_bit_image(bit_depth):
    gray = IMAGES['noisy'](480, 640)[..., 1]
    low = np.random.default_rng(2).integers(0, 1 << (bit_depth - 8), gray.shape, np.uint16)
    deep = (gray.astype(np.uint16) << (bit_depth - 8)) | low  # same picture, more bits
    expected = to_nv12(gray, 'mono8')
    assert np.array_equal(to_nv12(deep, 'mono16', bit_depth=bit_depth), expected)
    assert np.array_equal(to_nv12(deep.astype('>u2'), 'mono16', bit_depth=bit_depth), expected)
    if bit_depth == 12:  # read as 16-bit, 12-bit data is a near-black image
        assert to_nv12(deep, 'mono16', mode='stretch')[:H].max() <= 16


def test_mono16_values_above_the_bit_depth_are_clipped():
    frame = np.array([[4095, 4096], [65535, 256]], np.uint16)
    y = to_nv12(frame, 'mono16', size=(2, 2), mode='stretch', bit_depth=12)[:2]
    assert y.tolist() == [[255, 255], [255, 16]]  # 4096 >> 4 would wrap to 0


@pytest.mark.parametrize('bit_depth', [8, 17, 0, 12.0, None])
def test_bad_bit_depth(bit_depth):
    with pytest.raises(FrameError, match='bit_depth must be an integer in 9..16'):
        to_nv12(np.zeros((4, 4), np.uint16), 'mono16', bit_depth=bit_depth)


# ---------------------------------------------------------------- messages
def test_long_unknown_encoding_is_cut_in_the_message():
    with pytest.raises(FrameError) as info:
        to_nv12(np.zeros((4, 4, 3), np.uint8), 'x' * 5000)
    message = str(info.value)
    assert "'" + 'x' * 40 + "'..." in message and len(message) < 300
    with pytest.raises(FrameError, match='encoding must be a string'):
        to_nv12(np.zeros((4, 4, 3), np.uint8), b'rgb8')
