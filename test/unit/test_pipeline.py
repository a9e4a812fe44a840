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

"""Worker pipeline (no ROS), plus fuzzing of the preprocessing."""

import random
import re
import struct
import threading
import time

import cv2
from hypothesis import given, settings, strategies as st
import numpy as np
from repvit_ros.pipeline import Pipeline
from repvit_ros.preprocess import (DEFAULT_MAX_INPUT_PIXELS, ENCODINGS, FrameError, image_view,
                                   to_nv12)


def test_pipeline_order_drops_and_accounting():
    delivered, lock = [], threading.Lock()

    def process(job):
        if job.payload % 7 == 3:
            raise FrameError('bad')
        time.sleep(random.uniform(0, 0.004))
        return job.payload

    def deliver(job, result):
        with lock:
            delivered.append(result)

    pipe = Pipeline(process, deliver, lambda job, exc: None, workers=4, queue_size=3,
                    error_types=(FrameError,))
    for i in range(300):
        pipe.submit(i)
        if i % 50 == 0:
            time.sleep(0.01)
    assert pipe.wait_idle(10)
    snap = pipe.stats.snapshot()
    assert delivered == sorted(delivered)  # input order
    assert snap['received'] == 300 == snap['published'] + snap['dropped'] + snap['bad']
    assert snap['max_queue'] <= 3 and snap['dropped_queue_full'] > 0
    assert snap['published'] == len(delivered)
    pipe.close()
    assert pipe.submit(1) is None


def test_pipeline_close_drops_waiting_frames():
    gate = threading.Event()
    pipe = Pipeline(lambda job: gate.wait(5), lambda j, r: None, lambda j, e: None,
                    workers=1, queue_size=10)
    for i in range(5):
        pipe.submit(i)
    time.sleep(0.05)
    gate.set()
    pipe.close()
    snap = pipe.stats.snapshot()
    assert snap['received'] == snap['published'] + snap['dropped'] == 5


def _compressed_samples():
    """Small valid frames to mutate, so that the fuzzer gets past the signatures."""
    rgb = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    out = {}
    for fmt, params in (('jpeg', []), ('jpeg', [cv2.IMWRITE_JPEG_RST_INTERVAL, 1]),
                        ('jpeg', [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]), ('png', [])):
        out.setdefault(fmt, []).append(cv2.imencode('.' + fmt, rgb, params)[1].tobytes())
    return out


COMPRESSED = _compressed_samples()


def _mutate(data, rng, how):
    """Cut, overwrite, extend, or patch the declared size (a bomb) of a valid frame."""
    n = len(data)
    i, j = sorted(int(v) for v in rng.integers(0, n, 2))
    if how == 'cut':
        return data[:i] + data[j:]
    if how == 'overwrite':
        return data[:i] + rng.integers(0, 256, j - i, dtype=np.uint8).tobytes() + data[j:]
    if how == 'extend':
        return data + rng.integers(0, 256, i, dtype=np.uint8).tobytes()
    if data[:2] == b'\xff\xd8':
        at = re.search(b'\xff[\xc0-\xc2]', data).start() + 5  # baseline or progressive
        side = struct.pack('>HH', *rng.integers(0, 65536, 2))
    else:
        at, side = 16, struct.pack('>II', *rng.integers(0, 2**31, 2))
    return data[:at] + side + data[at + len(side):]


@settings(max_examples=300, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS + ('bogus',)), height=st.integers(0, 40),
       width=st.integers(0, 40), pad=st.integers(-3, 8), extra=st.integers(-20, 20),
       seed=st.integers(0, 2**16), data=st.binary(max_size=512),
       how=st.sampled_from(['random', 'cut', 'overwrite', 'extend', 'declare']),
       bigendian=st.booleans(), bit_depth=st.sampled_from([16, 16, 12, 10, 9, 8, 17]),
       limit=st.sampled_from([DEFAULT_MAX_INPUT_PIXELS, 1, 500, 100_000]))
def test_preprocess_fuzz_only_frame_error_escapes(encoding, height, width, pad, extra, seed,
                                                  data, how, bigendian, bit_depth, limit):
    rng = np.random.default_rng(seed)
    try:
        if encoding in ('jpeg', 'png'):
            if how != 'random':
                samples = COMPRESSED[encoding]
                data = _mutate(samples[seed % len(samples)], rng, how)
            out = to_nv12(data, encoding, max_input_pixels=limit)
            assert out.shape == (336, 224) and out.dtype == np.uint8
            return
        rows = height * 3 // 2 if encoding in ('nv12', 'nv21') else height
        bpp = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2,
               'nv12': 1, 'nv21': 1}.get(encoding, 2)
        step = width * bpp + pad
        size = max(0, rows * step + extra)
        buf = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        frame = image_view(height, width, step, encoding, buf, is_bigendian=bigendian)
        out = to_nv12(frame, encoding, mode=rng.choice(['letterbox', 'center_crop', 'stretch']),
                      max_input_pixels=limit, bit_depth=bit_depth)
        assert out.shape == (336, 224) and out.dtype == np.uint8
    except FrameError:
        pass
