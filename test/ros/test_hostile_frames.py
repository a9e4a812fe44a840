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

Decompression bombs (a PNG of 83 bytes declaring 30000x30000 would need 2.7 GB decoded), JPEGs
that end properly but lack their data, and raw encodings named as a CompressedImage format must
each be counted bad; valid but unusual frames (bytes after a JPEG's end, large APP segments,
big-endian 16-bit) must be classified.
"""

import os

from repvit_ros.bench import harness
from repvit_ros.bench.frame_source import make_message
from repvit_ros.bench.pictures import (encode, jpeg_cut_scan, jpeg_declaring,
                                       jpeg_with_app_segments, mono16_big_endian,
                                       png_declaring, sample_picture)
from repvit_ros.frames import uint8_array


def _compressed(fmt, data):
    msg = make_message('compressed', sample_picture(8, 8), 'jpeg', 0)
    msg.format = fmt
    msg.data = uint8_array(data)
    return msg


def _run(msg_type, items):
    """Send (message, good) items closed-loop to a fresh node; return counts, RSS, process."""
    ns = f'/hostile_{os.getpid()}_{msg_type}'
    params = harness.classifier_params(1, msg_type, 4, harness.model_file('m0_9'), ns=ns,
                                       depth=50)
    with harness.node_under_test('classifier', ns, params, msg_type, depth=50) as (proc,
                                                                                   feeder):
        before = feeder.diagnostics()
        rss_before = proc.rss()
        run = feeder.run(lambda i: items[i], window=1, count=len(items), warmup=0.0,
                         stall=10.0, drain=10.0)
        feeder.spin_for(1.0)
        counts = harness.counts_between(before, feeder.diagnostics())
        rss_after = proc.rss()
        alive = proc.alive()
    return counts, run, rss_after - rss_before, alive, proc


def test_bombs_and_broken_jpegs_are_bad_and_memory_stays_bounded():
    jpeg = encode(sample_picture(320, 240), 'jpeg')
    bad = ([_compressed('png', png_declaring(30000, 30000))] * 5 +
           [_compressed('jpeg', jpeg_declaring(jpeg, 60000, 60000))] * 5 +
           [_compressed('jpeg', jpeg_cut_scan(jpeg))] * 5 +
           [_compressed('jpeg', jpeg_cut_scan(jpeg, 12))] * 5 +
           [_compressed('bgr8', encode(sample_picture(32, 24), 'bgr8'))] * 5)
    good = ([_compressed('jpeg', jpeg + bytes(2000) + b'stale\xff\xd8')] * 5 +
            [_compressed('jpeg', jpeg_with_app_segments(jpeg, 200_000))] * 5)
    items = [(m, False) for m in bad] + [(m, True) for m in good]
    items = [items[(8 * i) % len(items)] for i in range(len(items))]  # interleaved (8, 35 coprime)
    counts, run, growth, alive, proc = _run('compressed', items)
    assert alive, proc.output[-3000:]
    assert (counts['received'], counts['bad'], counts['published']) == (35, 25, 10), counts
    assert counts['dropped'] == counts['failed'] == 0, counts
    assert run['received'] == 10, run
    assert growth < 100 * 2**20, f'resident memory grew {growth / 2**20:.0f} MB'
    out = proc.output
    assert 'declares 30000x30000' in out or 'declares 60000x60000' in out, out[-3000:]


def test_big_endian_16_bit_frames_are_classified():
    little = make_message('image', sample_picture(320, 240), 'mono16', 0)
    big = make_message('image', sample_picture(320, 240), 'mono16', 0)
    big.data = uint8_array(mono16_big_endian(bytes(big.data)))
    big.is_bigendian = 1
    counts, run, _, alive, proc = _run('image', [(little, True), (big, True)] * 3)
    assert alive and counts['published'] == 6 and counts['bad'] == 0, (counts, proc.output)
