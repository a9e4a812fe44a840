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
from repvit_ros.layouts import ENCODINGS, image_view
from repvit_ros.pipeline import DEFAULT_SOURCE, DropFrame, Pipeline, Route
from repvit_ros.preprocess import DEFAULT_MAX_INPUT_PIXELS, FrameError, to_nv12


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


def _accounted(snap):
    return snap['published'] + snap['dropped'] + snap['bad'] + snap['failed']


def _check_invariants(pipe, sent):
    """Each source and the total: received = sent = published + dropped + bad + failed."""
    total = pipe.report()
    assert total['received'] == sum(sent.values()) == _accounted(total)
    keys = ('received', 'published', 'dropped', 'bad', 'failed', 'dropped_queue_full',
            'dropped_shutdown')
    sums = dict.fromkeys(keys, 0)
    for source, n in sent.items():
        snap = pipe.report(source)
        assert snap['received'] == n == _accounted(snap), (source, snap)
        for key in keys:
            sums[key] += snap[key]
    assert sums == {key: total[key] for key in keys}


def test_pipeline_orders_per_source_not_globally():
    gate, delivered, lock = threading.Event(), [], threading.Lock()

    def process(job):
        if job.payload == ('a', 0):
            assert gate.wait(5)  # camera a's first frame is slow
        return job.payload

    def deliver(job, result):
        assert job.source == result[0]
        with lock:
            delivered.append(result)

    pipe = Pipeline(process, deliver, lambda j, e: None, workers=2, queue_size=50)
    assert pipe.submit((DEFAULT_SOURCE, 0)) == 0 and pipe.wait_idle(5)  # as before
    assert pipe.submit(('a', 0), source='a') == 0
    assert [pipe.submit(('b', i), source='b') for i in range(20)] == list(range(20))
    assert [pipe.submit(('a', i), source='a') for i in range(1, 5)] == [1, 2, 3, 4]
    deadline = time.monotonic() + 5
    while sum(1 for r in delivered if r[0] == 'b') < 20 and time.monotonic() < deadline:
        time.sleep(0.001)
    with lock:  # b is through while a's first frame still holds a's results back
        assert [r for r in delivered if r[0] == 'a'] == []
        assert [r for r in delivered if r[0] == 'b'] == [('b', i) for i in range(20)]
    gate.set()
    assert pipe.wait_idle(5)
    assert [r for r in delivered if r[0] == 'a'] == [('a', i) for i in range(5)]
    assert pipe.sources == (DEFAULT_SOURCE, 'a', 'b')
    _check_invariants(pipe, {DEFAULT_SOURCE: 1, 'a': 5, 'b': 20})
    assert pipe.report('b')['published'] == 20 and pipe.report()['published'] == 26
    pipe.close()


def test_pipeline_takes_the_frame_that_waited_longest_across_sources():
    gate, order = threading.Event(), []

    def process(job):
        if job.source == 'first':
            assert gate.wait(5)
        order.append(job.payload)

    pipe = Pipeline(process, lambda j, r: None, lambda j, e: None, workers=1, queue_size=3)
    pipe.submit('first', source='first')  # claims the only worker, which blocks
    for i in range(10):
        pipe.submit(f'a{i}', source='a')  # a floods: only its newest 3 wait
    pipe.submit('b0', source='b')
    pipe.submit('b1', source='b')
    for i in range(10, 15):
        pipe.submit(f'a{i}', source='a')  # ... and its newest replace its older ones
    assert pipe.queue_depth == 5 and pipe.report('a')['queue_depth'] == 3
    gate.set()
    assert pipe.wait_idle(5)
    # b's frames waited longer than any of a's that are left: they go first.
    assert order == ['first', 'b0', 'b1', 'a12', 'a13', 'a14']
    assert pipe.report('a')['dropped_queue_full'] == 12 and pipe.report('b')['dropped'] == 0
    assert pipe.report()['max_queue'] == 3 == pipe.report('a')['max_queue']
    assert pipe.report('b')['max_queue'] == 2
    _check_invariants(pipe, {'first': 1, 'a': 15, 'b': 2})
    pipe.close()


def test_pipeline_flooding_source_does_not_starve_another():
    delivered = {'flood': 0, 'calm': 0}

    def process(job):
        time.sleep(0.002)

    def deliver(job, result):
        delivered[job.source] += 1

    pipe = Pipeline(process, deliver, lambda j, e: None, workers=2, queue_size=2)
    for _ in range(100):  # flood: 10 frames per calm frame, twice what two workers can take
        for _ in range(10):
            pipe.submit(None, source='flood')
        pipe.submit(None, source='calm')
        time.sleep(0.005)
    assert pipe.wait_idle(5)
    calm, flood = pipe.report('calm'), pipe.report('flood')
    assert delivered['calm'] == calm['published'] == 100 and calm['dropped'] == 0
    assert flood['dropped_queue_full'] > 0 and delivered['flood'] == flood['published']
    _check_invariants(pipe, {'flood': 1000, 'calm': 100})
    pipe.close()


@settings(max_examples=40, deadline=None)
@given(workers=st.integers(1, 4), queue_size=st.integers(1, 3), seed=st.integers(0, 2**16),
       frames=st.lists(st.sampled_from(['a', 'b', 'c', DEFAULT_SOURCE]), min_size=1,
                       max_size=60))
def test_pipeline_accounting_per_source_under_random_errors(workers, queue_size, seed, frames):
    rng = random.Random(seed)
    fate = [rng.choice(['ok'] * 6 + ['bad', 'failed', 'drop', 'deliver_fails', 'slow'])
            for _ in frames]
    delivered, lock = {}, threading.Lock()

    def process(job):
        what = fate[job.payload]
        if what == 'bad':
            raise FrameError('bad')
        if what == 'failed':
            raise RuntimeError('backend')
        if what == 'slow':
            time.sleep(0.001)
        return job.payload

    def deliver(job, result):
        if fate[result] == 'drop':
            raise DropFrame('rate_limit')
        if fate[result] == 'deliver_fails':
            raise OSError('publish')
        with lock:
            delivered.setdefault(job.source, []).append(result)

    def on_error(job, exc):
        raise KeyError('the error reporter fails too')

    pipe = Pipeline(process, deliver, on_error, workers=workers, queue_size=queue_size,
                    error_types=(FrameError,))
    for i, source in enumerate(frames):
        pipe.submit(i, source=source)
    assert pipe.wait_idle(10)
    sent = {s: frames.count(s) for s in set(frames)}
    _check_invariants(pipe, sent)
    for source, got in delivered.items():
        assert got == sorted(got) and all(frames[i] == source for i in got)
        assert pipe.report(source)['published'] == len(got)
    total = pipe.report()
    expect = {'bad': fate.count('bad'),
              'failed': fate.count('failed') + fate.count('deliver_fails'),
              'dropped_rate_limit': fate.count('drop'),
              'published': fate.count('ok') + fate.count('slow')}
    for key, n in expect.items():  # exact when no frame was pushed out of a queue
        assert total[key] <= n and (total['dropped_queue_full'] > 0 or total[key] == n)
    pipe.close()
    _check_invariants(pipe, sent)


def test_pipeline_close_with_several_sources_counts_each_frame_once():
    gate, delivered = threading.Event(), []
    inside, left = threading.Semaphore(0), threading.Semaphore(0)

    def process(job):
        inside.release()
        try:
            gate.wait(5)
        finally:
            left.release()
    pipe = Pipeline(process, lambda j, r: delivered.append(j.payload),
                    lambda j, e: None, workers=2, queue_size=4)
    sent = {'a': 6, 'b': 3, 'c': 1}
    for i in range(6):
        for source, n in sent.items():
            if i < n:
                pipe.submit((source, i), source=source)
    assert inside.acquire(timeout=10) and inside.acquire(timeout=10)  # both workers busy
    assert pipe.close(timeout=0.05) == 2  # the two frames in the workers are abandoned
    _check_invariants(pipe, sent)
    total = pipe.report()
    # a0 and b0 in the workers; waiting a2..a5 (a1 pushed out), b1, b2, c0
    assert total['published'] == 0 and total['dropped_shutdown'] == 9
    assert total['dropped_queue_full'] == 1 == pipe.report('a')['dropped_queue_full']
    assert pipe.submit(('a', 9), source='a') is None
    gate.set()  # the abandoned workers finish now: neither delivered nor counted again
    assert left.acquire(timeout=10) and left.acquire(timeout=10)
    time.sleep(0.05)
    assert delivered == []
    _check_invariants(pipe, sent)


def test_pipeline_source_stats_feed_the_total():
    pipe = Pipeline(lambda job: None, lambda j, r: None, lambda j, e: None)
    cam = pipe.stats_of('cam')
    cam.count('received')
    cam.count('dropped', 'rate_limit')
    cam.count('lost', n=3)
    cam.latency['inference'].add(0.002)
    assert pipe.sources == ('cam',)
    for snap in (pipe.report('cam'), pipe.report()):
        assert (snap['received'], snap['dropped_rate_limit'], snap['lost']) == (1, 1, 3)
        assert snap['inference_count'] == 1 and abs(snap['inference_median_ms'] - 2.0) < 1e-9
    cam.count('dropped', 'unmatched', n=0)  # a reason of the node's own, listed at 0
    assert pipe.report('cam')['dropped_unmatched'] == 0
    cam.count('dropped', 'unmatched', n=2)
    for snap in (pipe.report('cam'), pipe.report()):
        assert snap['dropped_unmatched'] == 2 and snap['dropped'] == 3
    pipe.stats.count('lost')  # the total alone (a single-camera node's counts)
    assert pipe.report()['lost'] == 4 and pipe.report('cam')['lost'] == 3
    pipe.close()


def test_a_route_submits_under_its_source_and_counts_refused_frames_in_one_call():
    delivered = []
    pipe = Pipeline(lambda job: job.source.upper() + job.payload,
                    lambda j, r: delivered.append(r), lambda j, e: None)
    route = Route(pipe, 'cam')
    route.accept('1')
    route.stats.refused('dropped', 'rate_limit')
    route.stats.refused('bad')
    assert pipe.wait_idle(5.0) and delivered == ['CAM1']
    for snap in (pipe.report('cam'), pipe.report()):
        assert (snap['received'], snap['published'], snap['dropped_rate_limit'], snap['bad']) \
            == (3, 1, 1, 1)
    assert (route.publishers, route.report()) == ([], {})
    pipe.close()


class _Running:
    """Counts the threads inside a frame's process or one of its items; keeps the most."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def test_a_frames_items_run_on_every_free_worker_and_come_back_in_order():
    together = threading.Barrier(4, timeout=10)  # broken unless 4 items run at the same time
    threads = set()

    def item(x):
        threads.add(threading.get_ident())
        if x < 4:
            together.wait()
        return x * x

    delivered = []
    pipe = Pipeline(lambda job: pipe.spread(item, range(job.payload)),
                    lambda j, r: delivered.append(r), lambda j, e: delivered.append(e),
                    workers=4)
    pipe.submit(9)
    assert pipe.wait_idle(10)
    assert delivered == [[x * x for x in range(9)]] and len(threads) == 4
    pipe.close()


def test_spread_items_never_run_on_more_threads_than_workers():
    running = _Running()

    def item(x):
        with running:
            time.sleep(0.002)
        return x

    def process(job):
        with running:
            pass
        return sum(pipe.spread(item, range(job.payload)))

    delivered = []
    pipe = Pipeline(process, lambda j, r: delivered.append(r), lambda j, e: None,
                    workers=3, queue_size=50)
    for n in [8, 1, 5, 0, 12, 3, 7, 2] * 4:
        pipe.submit(n)
    assert pipe.wait_idle(20)
    assert delivered == [sum(range(n)) for n in [8, 1, 5, 0, 12, 3, 7, 2] * 4]
    assert running.most == 3  # all three busy at some point, never a fourth thread
    pipe.close()


def test_a_frames_items_go_before_the_next_frame():
    started = []
    first_item = threading.Event()

    def item(x):
        started.append(('item', x))
        if x == 0:
            first_item.set()
            time.sleep(0.05)  # the other worker finishes its frame meanwhile
        return x

    def process(job):
        started.append(('frame', job.payload))
        if job.payload == 'spread':
            return pipe.spread(item, range(4))
        first_item.wait(5)
        return job.payload

    pipe = Pipeline(process, lambda j, r: None, lambda j, e: None, workers=2, queue_size=5)
    pipe.submit('short', 'a')
    pipe.submit('spread', 'b')
    pipe.submit('waiting', 'a')  # queued: both workers are busy
    assert pipe.wait_idle(10)
    # The worker freed by 'short' helps with the spread items before taking 'waiting'.
    assert started.index(('frame', 'waiting')) > max(
        started.index(('item', x)) for x in range(4))
    pipe.close()


def test_a_waiting_frame_goes_to_the_first_free_worker_while_another_runs_items():
    gates = {name: threading.Event() for name in ('long', 'short', 'items')}
    item0_running, f_started = threading.Event(), threading.Event()

    def item(x):
        if x == 0:
            item0_running.set()
        gates['items'].wait(10)
        return x

    def process(job):
        if job.payload == 'spread':
            return pipe.spread(item, range(2))
        if job.payload == 'F':
            f_started.set()
            return 'F'
        gates[job.payload].wait(10)
        return job.payload

    pipe = Pipeline(process, lambda j, r: None, lambda j, e: None, workers=3, queue_size=5)
    pipe.submit('long', 'a')
    pipe.submit('short', 'b')
    pipe.submit('spread', 'c')  # item 1 waits: no worker is free
    assert item0_running.wait(5)
    pipe.submit('F', 'd')  # queued: all three busy
    gates['short'].set()  # that worker takes item 1, which blocks
    time.sleep(0.1)
    gates['long'].set()  # that worker is free: F must start now, not after the items
    try:
        assert f_started.wait(5)
    finally:
        gates['items'].set()
    assert pipe.wait_idle(5)
    pipe.close()


def test_spread_from_a_thread_that_is_not_a_worker_runs_every_item_itself():
    running, threads = _Running(), []
    gate = threading.Event()

    def item(x):
        threads.append(threading.get_ident())
        with running:
            time.sleep(0.01)
        return x

    def process(job):
        with running:
            gate.wait(5)
        return job.payload

    pipe = Pipeline(process, lambda j, r: None, lambda j, e: None, workers=2)
    pipe.submit(1)  # one worker busy, one free: still no helper for a caller from outside
    assert pipe.spread(item, range(4)) == [0, 1, 2, 3]
    gate.set()
    assert pipe.wait_idle(5)
    assert set(threads) == {threading.get_ident()} and running.most == 2
    pipe.close()


def test_an_item_that_raises_a_base_exception_fails_its_frame_and_frees_the_worker():
    class Stop(BaseException):
        pass

    def item(x):
        if x == 1:
            time.sleep(0.02)  # on a helper, while the caller runs the others
            raise Stop('item 1')
        return x

    errors, delivered = [], []

    def process(job):
        try:
            return pipe.spread(item, range(4))
        except Stop as stop:
            raise RuntimeError(str(stop)) from None

    pipe = Pipeline(process, lambda j, r: delivered.append(r),
                    lambda j, e: errors.append(str(e)), workers=2)
    pipe.submit(0)
    assert pipe.wait_idle(5)
    assert (delivered, errors) == ([], ['item 1'])
    assert pipe.stats.snapshot()['bad'] == 1  # error_types: every Exception
    pipe.submit(1)  # both workers are there again
    pipe.submit(2)
    assert pipe.wait_idle(5) and len(errors) == 3
    pipe.close()


def test_an_item_that_raises_makes_its_frame_bad_after_every_item_finished():
    finished = []

    def item(x):
        if x == 2:
            raise FrameError('crop 2')
        time.sleep(0.01)
        finished.append(x)
        return x

    errors, delivered = [], []
    pipe = Pipeline(lambda job: pipe.spread(item, range(6)), lambda j, r: delivered.append(r),
                    lambda j, e: errors.append((list(finished), str(e))), workers=3,
                    error_types=(FrameError,))
    pipe.submit(0)
    assert pipe.wait_idle(10)
    assert delivered == [] and len(errors) == 1
    assert sorted(errors[0][0]) == [0, 1, 3, 4, 5] and errors[0][1] == 'crop 2'
    assert pipe.stats.snapshot()['bad'] == 1
    pipe.close()


def test_spread_with_one_worker_runs_the_items_in_the_callers_thread():
    threads = []
    pipe = Pipeline(lambda job: (threading.get_ident(), pipe.spread(
        lambda x: threads.append(threading.get_ident()) or x + 1, [1, 2, 3])),
        lambda j, r: threads.append(r), lambda j, e: None, workers=1)
    pipe.submit(0)
    assert pipe.wait_idle(5)
    caller, results = threads[-1]
    assert results == [2, 3, 4] and threads[:3] == [caller] * 3
    pipe.close()


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
