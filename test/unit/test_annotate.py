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
The annotated image, without ROS.

Frames are built the way cameras send them (repvit_ros.layouts.encode, then
layouts.image_view as the node wraps a message); the colour view is checked against the
picture they were made from, and the annotation pixel by pixel against the scaled input.
"""

import struct
import zlib

import cv2
import numpy as np
import pytest
from repvit_ros.annotate import (annotate, band_box, BOX_COLOURS, colour_view, draw_regions,
                                 encode_jpeg, label_lines, MAX_SIDE, render, render_regions,
                                 scale_to_width, scaled_size)
from repvit_ros.bench import render_cost
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.labels import load_labels
from repvit_ros.layouts import encode, image_view, RAW_ENCODINGS, row_step
from repvit_ros.preprocess import FrameError

RANKED = [(281, 'tabby, tabby cat', 0.625), (282, 'tiger cat', 0.25),
          (285, 'Egyptian cat', 0.0625), (287, 'lynx, catamount', 0.03125),
          (283, 'Persian cat', 0.015625)]
RAW = tuple(RAW_ENCODINGS)


def frame_of(rgb, encoding, pad=0, big_endian=False):
    """Make a frame as the node holds it: a view of message bytes, rows padded by ``pad``."""
    h, w = rgb.shape[:2]
    data = encode(rgb, encoding)
    if encoding in ('jpeg', 'png'):
        return data
    if big_endian:
        data = np.frombuffer(data, '<u2').astype('>u2').tobytes()
    step = row_step(encoding, w)
    rows = np.frombuffer(data, np.uint8).reshape(-1, step)
    padded = np.full((rows.shape[0], step + pad), 0xEE, np.uint8)
    padded[:, :step] = rows
    return image_view(h, w, step + pad, encoding, padded.tobytes(), big_endian)


def bgr_of(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def grey_of(rgb):
    return cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2BGR)


def outside(img, box):
    """Boolean mask of the pixels outside a band box."""
    x, y, w, h = box
    mask = np.ones(img.shape[:2], bool)
    mask[y:y + h, x:x + w] = False
    return mask


# ------------------------------------------------------------------------ the colour view
@pytest.mark.parametrize('encoding', ['bgr8', 'rgb8', 'rgba8', 'bgra8', 'png'])
def test_colour_encodings_are_shown_exactly(encoding):
    rgb = sample_picture(64, 48, seed=1)
    view = colour_view(frame_of(rgb, encoding), encoding)
    assert view.shape == (48, 64, 3) and view.dtype == np.uint8
    assert np.array_equal(view, bgr_of(rgb))


@pytest.mark.parametrize('encoding', ['mono8', 'mono16'])
def test_mono_is_shown_as_grey(encoding):
    rgb = sample_picture(64, 48, seed=2)
    view = colour_view(frame_of(rgb, encoding), encoding)
    assert np.array_equal(view, grey_of(rgb))


def test_mono16_big_endian_shows_like_little_endian_and_keeps_the_top_bits():
    rgb = sample_picture(64, 48, seed=3)
    little = colour_view(frame_of(rgb, 'mono16'), 'mono16')
    big = colour_view(frame_of(rgb, 'mono16', big_endian=True), 'mono16')
    assert np.array_equal(big, little)
    # 12 significant bits: 4095 is white, 2048 is 128, anything above 4095 saturates.
    depth12 = np.array([[4095, 2048, 5000, 0]], '>u2')
    view = colour_view(depth12, 'mono16', bit_depth=12)
    assert view[0, :, 0].tolist() == [255, 128, 255, 0]


@pytest.mark.parametrize('encoding', ['nv12', 'nv21', 'yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv',
                                      'jpeg'])
def test_yuv_and_jpeg_frames_show_the_picture(encoding):
    # Chroma subsampling and JPEG loss: close to the picture, not equal.
    rgb = sample_picture(96, 64, seed=4)
    view = colour_view(frame_of(rgb, encoding), encoding)
    assert view.shape == (64, 96, 3)
    diff = np.abs(view.astype(int) - bgr_of(rgb).astype(int))
    assert diff.mean() < 3.0, diff.mean()
    assert np.percentile(diff, 99) < 16


def test_nv21_and_4_2_2_orders_are_not_confused():
    # A picture whose red and blue differ a lot: a swapped U/V would swap them.
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 220
    rgb[..., 2] = 30
    for encoding in ('nv12', 'nv21', 'uyvy', 'yuyv'):
        b, _, r = colour_view(frame_of(rgb, encoding), encoding)[8, 8]
        assert r > 200 and b < 50, (encoding, r, b)


def test_video_range_yuv_is_stretched_to_full_range():
    y = np.full((8, 8), 235, np.uint8)
    nv12 = np.vstack([y, np.full((4, 8), 128, np.uint8)])
    assert colour_view(nv12, 'nv12', yuv_range='video').min() == 255
    assert colour_view(nv12, 'nv12').max() == 235


@pytest.mark.parametrize('encoding', RAW)
def test_padded_rows_show_like_packed_rows(encoding):
    rgb = sample_picture(40, 30, seed=5)
    packed = colour_view(frame_of(rgb, encoding), encoding)
    padded = colour_view(frame_of(rgb, encoding, pad=6), encoding)
    assert np.array_equal(padded, packed)
    # ... also when scaled down.
    assert np.array_equal(colour_view(frame_of(rgb, encoding, pad=6), encoding, width=20),
                          colour_view(frame_of(rgb, encoding), encoding, width=20))


@pytest.mark.parametrize('encoding', RAW + ('jpeg', 'png'))
def test_width_scales_down_never_up_and_zero_is_native(encoding):
    rgb = sample_picture(160, 120, seed=6)
    frame = frame_of(rgb, encoding)
    assert colour_view(frame, encoding).shape == (120, 160, 3)
    assert colour_view(frame, encoding, width=0).shape == (120, 160, 3)
    assert colour_view(frame, encoding, width=1000).shape == (120, 160, 3)
    assert colour_view(frame, encoding, width=80).shape == (60, 80, 3)
    assert colour_view(frame, encoding, width=50).shape == (38, 50, 3)  # 37.5 rounds to 38


def test_scaled_view_is_the_scaled_picture():
    rgb = sample_picture(320, 240, seed=7)
    want = cv2.resize(bgr_of(rgb), (80, 60), interpolation=cv2.INTER_AREA)
    assert np.array_equal(colour_view(frame_of(rgb, 'bgr8', pad=3), 'bgr8', width=80), want)
    nv12 = colour_view(frame_of(rgb, 'nv12'), 'nv12', width=80)
    assert np.abs(nv12.astype(int) - want.astype(int)).mean() < 3.0


def test_large_jpeg_is_decoded_at_reduced_scale_close_to_a_full_decode():
    rgb = sample_picture(1280, 720, seed=8)
    data = frame_of(rgb, 'jpeg')
    view = colour_view(data, 'jpeg', width=320)  # decoded at 1/4: 320x180, no resize
    assert view.shape == (180, 320, 3)
    full = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    ref = cv2.resize(full, (320, 180), interpolation=cv2.INTER_AREA)
    assert np.abs(view.astype(int) - ref.astype(int)).mean() < 3.0
    reduced = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_4)
    assert np.array_equal(view, reduced)


def _png_header(width, height):
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + ihdr
            + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr)))


@pytest.mark.parametrize('frame, encoding', [
    (np.zeros((4, 4, 3), np.uint16), 'bgr8'),              # wrong dtype
    (np.zeros((4, 4), np.uint8), 'rgb8'),                  # wrong shape
    (np.zeros((4, 4, 3), np.uint8), 'rgba8'),              # wrong channel count
    (np.zeros((0, 4, 3), np.uint8), 'bgr8'),               # zero size
    (np.zeros((7, 4), np.uint8), 'nv12'),                  # rows not H*3/2
    (np.zeros((6, 5), np.uint8), 'nv12'),                  # odd width
    (np.zeros((4, 5, 2), np.uint8), 'uyvy'),               # odd width
    (np.zeros((4, 4, 2), np.uint8), 'mono8'),              # not HxW
    (b'\x00' * 48, 'bgr8'),                                # bytes for a raw encoding
    (b'', 'jpeg'),                                         # empty
    (b'\xff\xd8\xff\xe0' + b'\x00' * 20, 'jpeg'),          # truncated
    (b'not a picture at all', 'png'),                      # bad signature
    (_png_header(100000, 100000) + b'\x00' * 32, 'png'),   # decompression bomb
    (np.zeros((4, 4, 3), np.uint8), 'yuv420'),             # unknown encoding
])
def test_malformed_frames_raise_frame_error(frame, encoding):
    with pytest.raises(FrameError):
        colour_view(frame, encoding)


def test_truncated_jpeg_and_oversized_frames_raise_frame_error():
    data = frame_of(sample_picture(64, 48), 'jpeg')
    with pytest.raises(FrameError):
        colour_view(data[:len(data) // 2], 'jpeg')
    with pytest.raises(FrameError, match='max_input_pixels'):
        colour_view(data, 'jpeg', max_input_pixels=64 * 48 - 1)
    with pytest.raises(FrameError, match='max_input_pixels'):
        colour_view(np.zeros((48, 64, 3), np.uint8), 'bgr8', max_input_pixels=100)


def test_bad_settings_raise_value_error():
    frame = np.zeros((4, 4, 3), np.uint8)
    for kwargs in ({'width': -1}, {'width': 1.5}, {'bit_depth': 8}, {'yuv_range': 'studio'},
                   {'max_input_pixels': 0}):
        with pytest.raises(ValueError):
            colour_view(frame, 'bgr8', **kwargs)


# ------------------------------------------------------------------------ the annotation
@pytest.mark.parametrize('encoding, width', [('bgr8', 320), ('bgr8', 0), ('nv12', 320),
                                             ('yuv422', 200), ('mono16', 320), ('jpeg', 320),
                                             ('jpeg', 0), ('rgba8', 1000)])
def test_annotated_image_is_the_scaled_input_outside_the_band(encoding, width):
    rgb = sample_picture(640, 480, seed=9)
    frame = frame_of(rgb, encoding, pad=0 if encoding == 'jpeg' else 4)
    scaled_input = colour_view(frame, encoding, width=width)
    out = render(frame, encoding, RANKED, width=width)
    assert out.shape == scaled_input.shape and out.dtype == np.uint8
    assert out.shape[1] == (min(width, 640) if width else 640)
    box = band_box(out.shape[1], out.shape[0], RANKED)
    mask = outside(out, box)
    assert np.array_equal(out[mask], scaled_input[mask])
    x, y, w, h = box
    assert w > 0 and h > 0
    inside = np.any(out[y:y + h, x:x + w] != scaled_input[y:y + h, x:x + w], axis=-1)
    assert inside.mean() > 0.9  # the band darkens, the text brightens


def test_annotate_scales_first_and_leaves_its_input_alone():
    img = bgr_of(sample_picture(800, 600, seed=10))
    before = img.copy()
    out = annotate(img, RANKED, width=400)
    assert np.array_equal(img, before)
    scaled = scale_to_width(img, 400)
    assert scaled.shape == out.shape == (300, 400, 3)
    mask = outside(out, band_box(400, 300, RANKED))
    assert np.array_equal(out[mask], scaled[mask])
    assert not mask.all()


def test_annotate_never_upscales_and_width_0_is_native():
    img = bgr_of(sample_picture(200, 100, seed=11))
    assert annotate(img, RANKED, width=640).shape == (100, 200, 3)
    assert annotate(img, RANKED, width=0).shape == (100, 200, 3)
    assert scale_to_width(img, 640) is img
    assert scaled_size(200, 100, 0) == (200, 100)
    assert scaled_size(200, 101, 100) == (100, 50)


def test_empty_ranking_draws_nothing():
    img = bgr_of(sample_picture(320, 240, seed=12))
    assert band_box(320, 240, []) == (0, 0, 0, 0)
    assert np.array_equal(annotate(img, []), img)


def test_text_is_sized_to_the_image_width():
    small = band_box(320, 240, RANKED)
    large = band_box(1920, 1080, RANKED)
    # Readable at 320 (lines at least 12 px apart), not swamping 1920, growing in between.
    assert small[3] >= 12 * len(RANKED)
    assert small[2] <= 320 and small[3] <= 240
    assert large[2] > 3 * small[2] and large[3] > 3 * small[3]
    assert large[3] < 1080 // 2
    # A tiny image still gets a band clipped to it.
    assert band_box(40, 30, RANKED) == (0, 0, 40, 30)


def test_band_text_is_drawn_as_the_lines_say():
    assert label_lines(RANKED)[:2] == ['62.5% tabby, tabby cat', '25.0% tiger cat']
    assert label_lines([(0, 'caf\u00e9', 1.0)]) == ['100.0% caf?']
    # More text, wider band.
    wide = band_box(640, 480, [(0, 'a much longer class name than any other', 0.5)])
    assert wide[2] > band_box(640, 480, [(0, 'cat', 0.5)])[2]


def test_annotate_refuses_what_is_not_a_bgr_image():
    for bad in (np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                np.zeros((0, 4, 3), np.uint8), 'picture'):
        with pytest.raises(ValueError):
            annotate(bad, RANKED)


def test_encode_jpeg_round_trips():
    img = annotate(bgr_of(sample_picture(320, 240, seed=13)), RANKED)
    data = encode_jpeg(img)
    assert isinstance(data, bytes) and data[:2] == b'\xff\xd8'
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert back.shape == img.shape
    assert np.abs(back.astype(int) - img.astype(int)).mean() < 4.0
    assert len(encode_jpeg(img, quality=20)) < len(data) < len(encode_jpeg(img, quality=100))
    with pytest.raises(ValueError):
        encode_jpeg(img, quality=101)


# ------------------------------------------------------------------------ the cost tool
def test_render_cost_tool_times_frames_and_writes_the_small_example(tmp_path):
    nv12 = render_cost.frame(64, 48, 'nv12')
    assert nv12.shape == (72, 64)
    assert render_cost.cost(nv12, 'nv12', 32, repeat=3) > 0
    width, height, size = render_cost.write_example(str(tmp_path / 'example.png'))
    back = cv2.imread(str(tmp_path / 'example.png'))
    assert (width, height) == (480, 320) and back.shape == (320, 480, 3)
    assert size <= 60 * 1024
    # Darkened band top-left, the photo elsewhere.
    box = band_box(480, 320, render_cost.RANKING)
    assert back[box[3] // 2, 2].mean() < back[300, 240].mean()
    # The picture in README shows the names the node would publish: the bundled labels'.
    names = load_labels()
    assert [name for _, name, _ in render_cost.RANKING] == \
        [names[index] for index, _, _ in render_cost.RANKING]


@pytest.mark.parametrize('w, h, width, size', [
    (1, 100000, 640, (1, 65500)), (1, 100000, 0, (1, 65500)), (100000, 1, 640, (640, 1)),
    (100000, 1, 0, (65500, 1)), (70000, 900, 0, (65500, 842)), (3, 70000, 2, (2, 46667))])
def test_extreme_aspect_ratios_give_a_picture_that_encodes(w, h, width, size):
    assert scaled_size(w, h, width) == size and max(size) <= MAX_SIDE
    frame = np.full((h, w, 3), 90, np.uint8)
    out = render(frame, 'bgr8', RANKED, width=width)
    assert (out.shape[1], out.shape[0]) == size
    back = cv2.imdecode(np.frombuffer(encode_jpeg(out), np.uint8), cv2.IMREAD_COLOR)
    assert back.shape == out.shape


def test_regions_are_outlined_and_labelled_with_their_top_class():
    rgb = sample_picture(640, 480, seed=14)
    boxes = [((100, 120, 200, 160), RANKED[:2]), ((400, 0, 240, 100), [])]
    out = render_regions(frame_of(rgb, 'nv12'), 'nv12', boxes, width=320)
    plain = colour_view(frame_of(rgb, 'nv12'), 'nv12', width=320)
    assert out.shape == plain.shape == (240, 320, 3)
    # The boxes at half scale: the border in the box's colour, its inside untouched below the
    # label; the label (filled, box colour) above the first box, none for the second.
    assert (out[60:140, 50] == BOX_COLOURS[0]).all() and (out[139, 50:150] == BOX_COLOURS[0]).all()
    assert np.array_equal(out[80:138, 52:148], plain[80:138, 52:148])
    label = np.all(out[45:60, 50:100] == BOX_COLOURS[0], axis=-1)
    assert 0.3 < label.mean() < 1.0  # filled strip with text in it
    assert (out[0:50, 200] == BOX_COLOURS[1]).all()  # the second box's left side
    assert np.array_equal(out[5:45, 205:310], plain[5:45, 205:310])  # no label: untouched
    assert np.array_equal(out[150:, :40], plain[150:, :40])
    # Drawing on a picture of another size scales the boxes to it.
    scaled = draw_regions(plain, boxes, (640, 480))
    assert np.array_equal(scaled, out)
    assert np.array_equal(draw_regions(plain, []), plain)
    with pytest.raises(ValueError):
        draw_regions(np.zeros((4, 4), np.uint8), boxes)
