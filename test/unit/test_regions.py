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

"""Regions from detector boxes (no ROS): crops equal hand-cut slices, skips have reasons."""

import math

import cv2
from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from repvit_ros.layouts import image_view, RAW_ENCODINGS
from repvit_ros.preprocess import FrameError, to_nv12
from repvit_ros.regions import box_rect, count_skipped, crop_regions, SKIP_REASONS

H, W = 40, 60
SEMI_PLANAR = ('nv12', 'nv21')
PACKED_422 = ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv')
# One box: x 16.8..25.8 and y 12..19, padded by 0.9 and 0.7 on each side.
BOX = (21.3, 15.5, 9.0, 7.0)


def _random_frame(encoding, rng):
    channels, dtype = RAW_ENCODINGS[encoding]
    rows = H * 3 // 2 if encoding in SEMI_PLANAR else H
    shape = (rows, W) if channels == 1 else (rows, W, channels)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def _as_message_view(frame, encoding, pad, bigendian=False):
    """View the frame as frames.wrap would: in a message buffer with ``pad`` bytes a row."""
    if frame.dtype.itemsize > 1:
        frame = frame.astype('>u2' if bigendian else '<u2')
    rows = frame.shape[0]
    row = frame.reshape(rows, -1).view(np.uint8)
    buf = np.zeros((rows, row.shape[1] + pad), np.uint8)
    buf[:, :row.shape[1]] = row
    height = rows * 2 // 3 if encoding in SEMI_PLANAR else rows
    return image_view(height, frame.shape[1], buf.shape[1], encoding, buf.tobytes(),
                      is_bigendian=bigendian)


@pytest.mark.parametrize('pad', [0, 6])
@pytest.mark.parametrize('encoding', sorted(RAW_ENCODINGS))
def test_crop_is_the_hand_cut_slice_in_every_encoding(encoding, pad):
    frame = _random_frame(encoding, np.random.default_rng(len(encoding) + pad))
    view = _as_message_view(frame, encoding, pad, bigendian=pad > 0)
    (region,) = crop_regions(view, encoding, [BOX], padding=0.1, min_size=1)
    assert region.skipped is None and region.encoding == encoding
    if encoding in SEMI_PLANAR:  # x and y rounded out to even: 14..28, 10..20
        assert region.rect == (14, 10, 14, 10)
        expect = np.concatenate([frame[10:20, 14:28], frame[H + 5:H + 10, 14:28]])
    elif encoding in PACKED_422:  # x even only: 14..28, y 11..20
        assert region.rect == (14, 11, 14, 9)
        expect = frame[11:20, 14:28]
    else:  # 15.9 -> 15 .. 26.7 -> 27, 11.3 -> 11 .. 19.7 -> 20
        assert region.rect == (15, 11, 12, 9)
        expect = frame[11:20, 15:27]
    assert region.crop.shape == expect.shape and np.array_equal(region.crop, expect)
    assert to_nv12(region.crop, region.encoding).shape == (336, 224)
    if encoding not in SEMI_PLANAR:
        assert np.shares_memory(region.crop, view)  # a view, not a copy


@pytest.mark.parametrize('fmt', ['png', 'jpeg'])
def test_compressed_frame_is_decoded_once_and_cut(fmt):
    bgr = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
    data = cv2.imencode('.' + fmt, bgr)[1].tobytes()
    full = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if fmt == 'png':
        assert np.array_equal(full, bgr)
    regions = crop_regions(data, fmt, [BOX, (30.0, 20.0, 60.0, 40.0)], min_size=1)
    assert [r.rect for r in regions] == [(15, 11, 12, 9), (0, 0, W, H)]
    assert all(r.encoding == 'bgr8' for r in regions)
    assert np.array_equal(regions[0].crop, full[11:20, 15:27])
    assert np.array_equal(regions[1].crop, full)  # full resolution, not a reduced decode
    assert crop_regions(data, fmt, []) == []
    with pytest.raises(FrameError, match='max_input_pixels'):
        crop_regions(data, fmt, [BOX], max_input_pixels=H * W - 1)
    with pytest.raises(FrameError):
        crop_regions(data[:len(data) // 2], fmt, [BOX])


def test_border_clamping_and_bad_boxes_have_exact_reasons():
    frame = _random_frame('rgb8', np.random.default_rng(2))
    boxes = [
        (2.0, 3.0, 10.0, 10.0),       # top-left corner: x -4..8, y -3..9, clamped
        (58.0, 38.0, 10.0, 10.0),     # bottom-right corner: x 52..64, y 32..44, clamped
        (10.0, 10.0, 0.0, 5.0),       # zero size
        (10.0, 10.0, -4.0, 5.0),      # negative size
        (math.nan, 10.0, 4.0, 4.0),
        (10.0, 10.0, math.inf, 4.0),
        (100.0, 10.0, 10.0, 10.0),    # beyond the right edge
        (-20.0, -20.0, 10.0, 10.0),   # beyond the top-left corner
        (-5.0, 10.0, 10.0, 4.0),      # ends exactly at x = 0: padding does not pull it in
        (10.0, 10.0, 2.0, 2.0),       # 8.8..11.2 -> 4 pixels, under min_size
        ('a', 1, 2, 3),               # not numbers
        (1.0, 2.0, 3.0),              # too few values
        None,
    ]
    regions = crop_regions(frame, 'rgb8', boxes, padding=0.1, min_size=8)
    assert len(regions) == len(boxes)
    assert regions[0].rect == (0, 0, 8, 9) and np.array_equal(regions[0].crop, frame[0:9, 0:8])
    assert regions[1].rect == (52, 32, 8, 8) and np.array_equal(regions[1].crop, frame[32:, 52:])
    assert [r.skipped for r in regions[2:]] == [
        'empty', 'empty', 'invalid', 'invalid', 'outside', 'outside', 'outside', 'too_small',
        'invalid', 'invalid', 'invalid']
    assert count_skipped(regions) == {'invalid': 5, 'empty': 2, 'outside': 3, 'too_small': 1,
                                      'over_max_rois': 0}
    assert all(r.crop is None and r.rect is None for r in regions[2:])
    # The box itself, unpadded and clamped, is what pictures draw (x -3..7, y -2..8).
    assert regions[0].box == (0, 0, 7, 8) and regions[1].box == (53, 33, 7, 7)
    assert all(r.box is None for r in regions[2:])


def test_max_rois_keeps_the_largest_and_reports_in_input_order():
    frame = _random_frame('bgr8', np.random.default_rng(3))
    boxes = [(10, 10, 10, 10), (30, 20, 30, 30), (20, 20, 16, 16), (1, 1, math.nan, 1),
             (30, 20, 40, 30), (45, 10, 10, 10)]
    regions = crop_regions(frame, 'bgr8', boxes, padding=0.0, max_rois=2)
    assert [r.skipped for r in regions] == ['over_max_rois', None, 'over_max_rois', 'invalid',
                                            None, 'over_max_rois']
    assert [r.rect for r in regions if r.rect] == [(15, 5, 30, 30), (10, 5, 40, 30)]
    # equal areas: the earlier box wins
    tie = crop_regions(frame, 'bgr8', boxes[5:] + boxes[:1], padding=0.0, max_rois=1)
    assert [r.skipped for r in tie] == [None, 'over_max_rois']
    assert all(r.skipped is None
               for r in crop_regions(frame, 'bgr8', boxes[:3], max_rois=None))
    assert [r.skipped for r in crop_regions(frame, 'bgr8', boxes[:2], max_rois=0)] == \
        ['over_max_rois'] * 2


def _smooth_rgb(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([60 + 120 * x / w + 20 * np.sin(y / 9), 200 - 100 * y / h,
                    80 + 60 * np.cos((x + y) / 14)], axis=2)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _yuv_frame(rgb, encoding):
    """Give the RGB picture in a YUV encoding (full-range BT.601, chroma block means)."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float64)
    y, v, u = ycrcb[:, :, 0], ycrcb[:, :, 1], ycrcb[:, :, 2]
    h, w = y.shape
    if encoding in SEMI_PLANAR:
        def sub(c):
            return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        pair = (sub(u), sub(v)) if encoding == 'nv12' else (sub(v), sub(u))
        uv = np.stack(pair, axis=2).reshape(h // 2, w)
        return np.round(np.concatenate([y, uv])).astype(np.uint8)

    def half(c):
        return np.repeat(c.reshape(h, w // 2, 2).mean(axis=2), 2, axis=1)
    chroma = np.where(np.arange(w) % 2 == 0, half(u), half(v))  # U on even columns, V on odd
    pixels = (chroma, y) if encoding in ('yuv422', 'uyvy') else (y, chroma)
    return np.round(np.stack(pixels, axis=2)).astype(np.uint8)


@pytest.mark.parametrize('encoding', SEMI_PLANAR + PACKED_422)
def test_to_nv12_of_a_yuv_crop_matches_the_rgb_region(encoding):
    rgb = _smooth_rgb(96, 128)
    frame = _as_message_view(_yuv_frame(rgb, encoding), encoding, pad=4)
    boxes = [(64.0, 48.0, 50.0, 40.0), (20.0, 70.0, 30.0, 44.0), (120.0, 10.0, 30.0, 30.0)]
    for region in crop_regions(frame, encoding, boxes):
        x, y, w, h = region.rect
        got = to_nv12(region.crop, region.encoding).astype(np.int16)
        want = to_nv12(np.ascontiguousarray(rgb[y:y + h, x:x + w]), 'rgb8').astype(np.int16)
        diff = np.abs(got - want)
        assert diff.mean() < 0.5 and diff.max() <= 4, (region.rect, diff.mean(), diff.max())


def test_a_frame_that_is_no_frame_is_a_frame_error_not_a_box_problem():
    with pytest.raises(FrameError):
        crop_regions(np.zeros((31, 20), np.uint8), 'nv12', [BOX])
    with pytest.raises(FrameError):
        crop_regions(np.zeros((10, 20, 3), np.uint8), 'rgba8', [BOX])
    with pytest.raises(FrameError):
        crop_regions(np.zeros((10, 20), np.uint8), 'no_such_encoding', [BOX])
    with pytest.raises(ValueError):
        crop_regions(np.zeros((10, 20), np.uint8), 'mono8', [BOX], max_rois=-1)
    assert crop_regions(np.zeros((10, 20), np.uint8), 'mono8', []) == []


finite = st.floats(-1e6, 1e6)
anything = st.one_of(finite, st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([0.0, -0.0, 1e308, -1e308]))


@settings(max_examples=200, deadline=None)
@given(encoding=st.sampled_from(sorted(RAW_ENCODINGS)),
       boxes=st.lists(st.tuples(anything, anything, anything, anything), max_size=6),
       padding=st.floats(0.0, 2.0), min_size=st.integers(0, 12),
       max_rois=st.one_of(st.none(), st.integers(0, 6)))
def test_any_box_gives_a_valid_crop_or_a_reason(encoding, boxes, padding, min_size, max_rois):
    frame = _random_frame(encoding, np.random.default_rng(0))
    regions = crop_regions(frame, encoding, boxes, padding, min_size, max_rois)
    assert len(regions) == len(boxes)
    kept = [r for r in regions if r.skipped is None]
    assert max_rois is None or len(kept) <= max_rois
    for box, region in zip(boxes, regions):
        assert region.skipped is None or region.skipped in SKIP_REASONS
        if region.skipped is None:
            x, y, w, h = region.rect
            assert 0 <= x < x + w <= W and 0 <= y < y + h <= H and min(w, h) >= min_size
            assert box_rect(box, W, H, padding, encoding in SEMI_PLANAR + PACKED_422,
                            encoding in SEMI_PLANAR) == region.rect
            assert to_nv12(region.crop, region.encoding, (16, 16)).shape == (24, 16)
