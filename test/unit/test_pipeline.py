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

"""Worker pipeline (no ROS) and post-processing, plus fuzzing of the preprocessing."""

import random
import threading
import time

from hypothesis import given, settings, strategies as st
import numpy as np
from repvit_ros.pipeline import Pipeline
from repvit_ros.postprocess import softmax, top_k
from repvit_ros.preprocess import ENCODINGS, FrameError, image_view, to_nv12


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


def test_top_k_and_softmax():
    logits = np.array([1.0, 3.0, 2.0, 3.0, -1.0])
    p = softmax(logits)
    assert abs(p.sum() - 1) < 1e-12
    ranked = top_k(logits, 3)
    assert [i for i, _ in ranked] == [1, 3, 2]
    assert np.allclose([s for _, s in ranked], p[[1, 3, 2]])
    assert [i for i, _ in top_k(logits, 5, min_score=0.2)] == [1, 3]  # p[2] is 0.146
    assert top_k(logits, 10)[-1][0] == 4


@settings(max_examples=300, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS + ('bogus',)), height=st.integers(0, 40),
       width=st.integers(0, 40), pad=st.integers(-3, 8), extra=st.integers(-20, 20),
       seed=st.integers(0, 2**16), data=st.binary(max_size=512))
def test_preprocess_fuzz_only_frame_error_escapes(encoding, height, width, pad, extra, seed,
                                                  data):
    rng = np.random.default_rng(seed)
    try:
        if encoding in ('jpeg', 'png'):
            to_nv12(data, encoding)
            return
        rows = height * 3 // 2 if encoding in ('nv12', 'nv21') else height
        bpp = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2,
               'nv12': 1, 'nv21': 1}.get(encoding, 2)
        step = width * bpp + pad
        size = max(0, rows * step + extra)
        buf = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        frame = image_view(height, width, step, encoding, buf)
        out = to_nv12(frame, encoding, mode=rng.choice(['letterbox', 'center_crop', 'stretch']))
        assert out.shape == (336, 224) and out.dtype == np.uint8
    except FrameError:
        pass
