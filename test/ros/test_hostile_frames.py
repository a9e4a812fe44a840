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
Hostile frames over DDS to the classifier in its own process: exact counts, bounded memory.

Decompression bombs (a complete 109 KB PNG declaring 30000x30000 decodes to 2.7 GB and took
+5 GB peak resident memory and ~10 s of CPU in OpenCV here; a 10 KB JPEG declaring 60000x60000
+318 MB at 1/8 scale), JPEGs that end properly but lack their data, and raw encodings named as a
CompressedImage format must each be counted bad; valid but unusual frames (bytes after a JPEG's
end, large APP segments, big-endian 16-bit) must be classified. Memory is read as the node's
peak (VmHWM): a decoded bomb is freed at once, so resident memory afterwards would not show it.
"""

import os
import random

import pytest
from repvit_ros.bench import harness, loadtest
from repvit_ros.bench.pictures import (jpeg_cut_scan, jpeg_declaring, jpeg_with_app_segments,
                                       mono16_big_endian, sample_picture)
from repvit_ros.frames import uint8_array
from repvit_ros.layouts import encode
from repvit_ros.messages import make_message

MB = 2 ** 20
RAW = ('bgr8', 'rgb8', 'mono8', 'nv12', 'bgra8')  # named as a CompressedImage format


def _compressed(fmt, data):
    msg = make_message('compressed', sample_picture(8, 8), 'jpeg', 0)
    msg.format = fmt
    msg.data = uint8_array(data)
    return msg


def _run(msg_type, items, **extra):
    """Send (message, good) items closed-loop to a fresh node; return what it counted and used."""
    ns = f'/hostile_{os.getpid()}_{msg_type}'
    params = harness.classifier_params(1, msg_type, 4, harness.model_file('m0_9'), ns=ns,
                                       depth=50)
    params.update(extra)
    with harness.node_under_test('classifier', ns, params, msg_type, depth=50,
                                 prime=True) as (proc, feeder):
        pid = proc.proc.pid
        before = feeder.diagnostics()
        rss, peak, cpu = proc.rss(), loadtest.peak_rss(pid), proc.cpu_seconds()
        run = feeder.run(lambda i: items[i], window=1, count=len(items), warmup=0.0,
                         stall=10.0, drain=10.0)
        feeder.spin_for(1.0)
        out = {'counts': harness.counts_between(before, feeder.diagnostics()), 'run': run,
               'rss_growth': proc.rss() - rss, 'peak_growth': loadtest.peak_rss(pid) - peak,
               'cpu': proc.cpu_seconds() - cpu, 'alive': proc.alive(),
               'results': [msg for msg, _ in feeder.messages.values()]}
    out['output'] = proc.output
    return out


def test_bombs_and_broken_jpegs_are_bad_and_memory_stays_bounded():
    jpeg = encode(sample_picture(320, 240), 'jpeg')
    rng = random.Random(5)
    hostile = {  # 5 of each kind; the first frame of all is the 30000x30000 PNG bomb
        'png_bomb': [loadtest.png_bomb(*size) for size in
                     ((30000, 30000), (30000, 30000), (20000, 12000), (30000, 30000),
                      (8193, 8192))],
        'jpeg_bomb': [jpeg_declaring(jpeg, w, h) for w, h in
                      ((60000, 60000), (65535, 65535), (8193, 8192), (60000, 60000),
                       (40000, 30000))],
        'jpeg_headers_only': [jpeg_cut_scan(jpeg)] * 5,
        'jpeg_scan_missing': [jpeg_cut_scan(jpeg, keep) for keep in (1, 12, 100, 200, 400)],
        'jpeg_restart_cut': [loadtest.jpeg_restart_cut(sample_picture(320, 240, s), rng)
                             for s in range(5)],
        'raw_format': [encode(sample_picture(32, 24), enc) for enc in RAW],
    }
    formats = {'png_bomb': ['png'] * 5, 'raw_format': list(RAW)}
    bad = [_compressed(formats.get(kind, ['jpeg'] * 5)[r], hostile[kind][r])
           for r in range(5) for kind in hostile]  # round-robin over the kinds
    good = ([_compressed('jpeg', jpeg + bytes(n)) for n in (1, 100, 4096, 65536, 500_000)] +
            [_compressed('jpeg', jpeg + b'stale' + jpeg[:n]) for n in (2, 50, 600, 3000,
                                                                       len(jpeg))] +
            [_compressed('jpeg', jpeg_with_app_segments(jpeg, n))
             for n in (65_536, 70_000, 130_000, 200_000, 300_000)])
    items = []
    for i, frame in enumerate(good):  # two hostile frames, then a good one
        items += [(m, False) for m in bad[2 * i:2 * i + 2]] + [(frame, True)]
    assert len(bad) == 30 and len(items) == 45

    got = _run('compressed', items)
    counts, out = got['counts'], got['output']
    assert got['alive'], out[-3000:]
    assert (counts['received'], counts['bad'], counts['published']) == (45, 30, 15), counts
    assert counts['dropped'] == counts['failed'] == 0, counts
    assert got['run']['received'] == 15, got['run']
    assert got['peak_growth'] < 100 * MB, f'peak resident memory grew {got["peak_growth"] / MB}'
    assert got['rss_growth'] < 100 * MB, f'resident memory grew {got["rss_growth"] / MB} MB'
    assert got['cpu'] < 10.0, f'{got["cpu"]:.1f} s of CPU'  # one decoded PNG bomb: ~10 s
    assert 'png declares 30000x30000' in out, out[-3000:]  # the first bad frame is logged


def test_the_memory_measure_sees_a_bomb_the_limit_lets_through():
    # The control for the bound above: with max_input_pixels raised to exactly its size, the
    # 8193x8192 PNG bomb (8 KB) is decoded and classified, and the node's peak shows it.
    bomb = loadtest.png_bomb(8193, 8192)
    assert len(bomb) < 10_000
    got = _run('compressed', [(_compressed('png', bomb), True)], max_input_pixels=8193 * 8192)
    counts = got['counts']
    assert got['alive'] and (counts['published'], counts['bad']) == (1, 0), (counts,
                                                                             got['output'])
    assert got['peak_growth'] > 150 * MB, f'peak grew only {got["peak_growth"] / MB:.0f} MB'


@pytest.mark.parametrize('width, height', [(320, 240), (97, 61)])
def test_big_endian_16_bit_frames_are_classified_like_little_endian(width, height):
    items = []
    for seed in range(3):
        little = make_message('image', sample_picture(width, height, seed), 'mono16', 0)
        big = make_message('image', sample_picture(width, height, seed), 'mono16', 0)
        big.data = uint8_array(mono16_big_endian(bytes(big.data)))
        big.is_bigendian = 1
        items += [(little, True), (big, True)]
    got = _run('image', items)
    counts = got['counts']
    assert got['alive'] and (counts['published'], counts['bad']) == (6, 0), (counts,
                                                                             got['output'])
    ranked = [[(h.class_id, h.score) for h in msg.results] for msg in got['results']]
    assert len(ranked) == 6 and all(ranked)
    assert ranked[0::2] == ranked[1::2]  # each big-endian frame as its little-endian twin
