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
Reliability over real DDS with the node in its own process (short versions of the loadtest).

The full-length figures in docs/reliability.md come from ``python -m repvit_ros.bench.loadtest
...``; these runs use the same code with CI-sized durations and the same pass criteria.
"""

import random

import cv2
import numpy as np
import pytest

from repvit_ros.bench import loadtest
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import uint8_array
from repvit_ros.frames import wrap
from repvit_ros.preprocess import FrameError, to_nv12


def _convert(msg, msg_type):
    # As the node does: the message's fields to a frame (a raw CompressedImage format is
    # refused here), then the preprocessing.
    frame = wrap(msg, msg_type)
    return to_nv12(frame.image, frame.encoding)


def _little_endian_copy(msg):
    values = np.frombuffer(bytes(msg.data), '>u2').astype('<u2')
    msg.data, msg.is_bigendian = uint8_array(values.tobytes()), 0
    return msg


@pytest.mark.parametrize('msg_type', ['image', 'compressed'])
def test_fuzz_frames_are_what_they_claim(msg_type):
    # The DDS fuzz counts on its generator: every "bad" frame must be rejected and every good
    # one accepted by the preprocessing, and no burst may overflow the node's queue.
    source = loadtest.FuzzFrames(seed=11, bad_share=0.5, msg_type=msg_type, max_burst=3)
    burst = longest = 0
    for i in range(400):
        msg, good = source(i)
        if good:
            nv12 = _convert(msg, msg_type)
            assert nv12.shape == (336, 224)
            if source.last_kind == 'good mono16_big_endian':  # the same as little-endian
                assert np.array_equal(nv12, _convert(_little_endian_copy(msg), msg_type))
            burst = 0
        else:
            with pytest.raises(FrameError):
                _convert(msg, msg_type)
            burst += 1
            longest = max(longest, burst)
    assert longest <= 3
    kinds = loadtest.BAD_RAW_KINDS if msg_type == 'image' else loadtest.BAD_COMPRESSED_KINDS
    assert set(kinds) <= set(source.kinds)
    good = loadtest.GOOD_RAW_EXTRA if msg_type == 'image' else loadtest.GOOD_COMPRESSED_KINDS
    assert {f'good {k}' for k in good} <= set(source.kinds)  # the unusual valid ones too


def test_fuzz_hostile_frames_would_cost_what_they_claim():
    # A bomb is only a test of the node's limit if decoding it really costs memory, and a cut
    # across a restart marker only if the decoder alone would accept it.
    small = loadtest.png_bomb(64, 48)  # the builder writes a complete, decodable PNG
    assert cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    big = loadtest.png_bomb(30000, 30000)
    assert len(big) < 120_000 and big[16:24] == (30000).to_bytes(4, 'big') * 2
    rng = random.Random(3)
    for _ in range(5):
        cut = loadtest.jpeg_restart_cut(sample_picture(160, 96), rng)
        assert cut.endswith(b'\xff\xd9')
        assert cv2.imdecode(np.frombuffer(cut, np.uint8), cv2.IMREAD_COLOR) is not None
        with pytest.raises(FrameError, match='restart markers'):
            to_nv12(np.frombuffer(cut, np.uint8), 'jpeg')


def test_fuzz_2000_frames_over_dds():
    report = loadtest.fuzz(2000, model='m0_9', threads=2)
    for msg_type, part in report['parts'].items():
        assert part['alive'] and part['exit_code'] == 0, part.get('log_tail')
        assert part['classified'] == part['good'], part
        assert part['node']['bad'] == part['bad'] > 0, part
        assert part['node']['received'] == part['sent'], part
        assert part['node']['dropped'] == 0 and part['node']['failed'] == 0, part
    assert sum(p['sent'] for p in report['parts'].values()) == 2000
    assert report['ok']


@pytest.mark.measuring
def test_overload_1080p_at_twice_capacity():
    # One worker: on this 2-core machine two inference threads plus a 3 MB x 100 Hz publisher
    # oversubscribe the CPU, and inference time itself then swings; docs/reliability.md has both.
    report = loadtest.overload(duration=30.0, encoding='nv12', width=1920, height=1080,
                               model='m0_9', threads=1, warmup=5.0)
    n = report['node']
    assert report['alive'] and report['exit_code'] == 0
    assert report['rate_hz'] == pytest.approx(2 * report['capacity_fps'])
    assert n['received'] == n['published'] + n['dropped'] + n['bad'] + n['failed']
    assert n['dropped'] > 0 and n['failed'] == 0 and n['published'] == report['classified']
    # Bounded, not tight: the newest-frame queue keeps p99 within a few single-frame latencies
    # (2.9-4.0 on a quiet machine, up to 5.6 beside other engineers' runs), where a queue that
    # kept every frame would grow without end (30 s at twice the capacity: hundreds). Memory
    # likewise: a frame leaked per iteration would be gigabytes; warm-up noise stays under 10 %.
    assert report['p99_to_single'] <= 8.0, report
    assert report['rss_growth'] is not None and report['rss_growth'] < 0.15, report


@pytest.mark.measuring
def test_soak_short():
    report = loadtest.soak(duration=16.0, rate=30.0, encoding='bgr8', width=640, height=480,
                           model='m0_9', threads=2, sample_every=2.0)
    assert report['alive'] and report['exit_code'] == 0
    assert len(report['rss_mb']) >= 8
    # What the soak shows is memory that does not grow and a node that keeps classifying; how
    # many of 30 frames/s a shared 2-core machine classifies varies (70 % beside a CPU hog).
    assert report['classified'] > 0.4 * report['sent'], report
    assert report['rss_growth'] < 0.15, report


def test_shutdown_under_load_sigint_and_sigterm():
    report = loadtest.shutdown(model='m0_9', threads=2)
    assert [r['signal'] for r in report['rows']] == ['SIGINT', 'SIGTERM', 'SIGINT x2']
    for r in report['rows']:
        assert r['frames_before_signal'] > 0
        assert r['exit_s'] <= 2.0 and r['exit_code'] == 0, r.get('log_tail')
        assert not r['traceback'] and r['released'], r.get('log_tail')
    assert report['ok']


def test_runtime_parameter_changes_under_load():
    report = loadtest.params(duration=5.0, model='m0_9', threads=2)
    assert report['changes'] >= 40
    assert report['valid_ok'] == report['valid_sent'] > 0, report
    assert report['invalid_rejected'] == report['invalid_sent'] > 0, report
    assert report['unanswered'] == 0 and report['max_gap_s'] < 2.0, report
    assert report['alive'] and report['fps_after'] > 0.7 * report['fps_before'], report
    assert report['ok']


def test_cli_reports_and_exit_code(capsys):
    assert loadtest.main(['params', '--duration', '2']) == 0
    out = capsys.readouterr().out
    assert '### params: PASS' in out and 'rejected with a reason' in out, out


def test_model_switches_under_a_camera_lose_no_frame():
    report = loadtest.switch(switches=2, every=2.5, rate=30.0)
    n = report['node']
    assert report['alive'] and report['exit_code'] == 0, report
    assert report['accepted'] == report['switched'] == 2, report
    # Every frame sent reached the node and was classified by one of the two models or
    # counted with a reason; results never stopped while the next model loaded.
    assert n['received'] == report['sent'], report
    assert n['received'] == n['published'] + n['dropped'] + n['bad'] + n['failed'], report
    assert n['failed'] == n['bad'] == 0 and n['published'] == report['classified'], report
    assert report['max_gap_s'] < 2.0, report
    assert all(g > 0 for g in report['switch_peak_growth_mb']), report
