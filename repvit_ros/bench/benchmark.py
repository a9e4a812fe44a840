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
Benchmarks: preprocessing, backends against the RDK X5 reference table, the node over DDS.

  benchmark preprocess          # to_nv12 vs the naive cv_bridge-style path
  benchmark backend             # latency and throughput per model, workers
  benchmark node --encoding bgr8 --threads 1,2  # end to end over DDS
  benchmark overhead            # node ceiling: do-nothing and emulated BPU backends; startup
  benchmark annotate            # throughput with the annotated picture watched, and without
  benchmark cameras             # 1, 2, 4 cameras: one node against one node per camera
  benchmark sweep               # most 30 Hz cameras one node (and separate nodes) serve
  benchmark regions             # a detector's 1, 5, 10 boxes per frame classified
  benchmark composition         # nodes in one component container against one process each
  benchmark all                 # every mode, short
(``ros2 run repvit_ros benchmark ...``, or ``python -m repvit_ros.bench.benchmark ...``.)
Add --json for JSON, --plot FILE.png for a plot of throughput and latency against workers
(backend mode). Times are medians of repeats
measured side by side in one run; on a shared machine compare ratios, not absolute times.
Without real model files the synthetic RepViT (same graph and parameter count, untrained) is used.
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
import json
import os
import statistics
import sys
import time
from typing import Any, Dict, List, Tuple

import cv2
import numpy as np

from repvit_ros import models
from repvit_ros.backends import Backend, bpu_runtime_available, create_backend, resolve_kind
from repvit_ros.bench import composition, render_cost, robot
from repvit_ros.bench.feeder import Feeder
from repvit_ros.bench.harness import (checkout_env, classifier_params, counts_between, frames,
                                      model_file, node_under_test, NodeProcess,
                                      use_large_frames_profile)
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import input_type_of
from repvit_ros.layouts import encode, image_view, row_step
from repvit_ros.preprocess import to_nv12

RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
PRE_ENCODINGS = ('rgb8', 'bgr8', 'mono8', 'nv12', 'nv21', 'yuv422', 'yuv422_yuy2', 'jpeg')
_NAIVE_CODES = {'rgb8': cv2.COLOR_RGB2BGR, 'mono8': cv2.COLOR_GRAY2BGR,
                'nv12': cv2.COLOR_YUV2BGR_NV12, 'nv21': cv2.COLOR_YUV2BGR_NV21,
                'yuv422': cv2.COLOR_YUV2BGR_UYVY, 'yuv422_yuy2': cv2.COLOR_YUV2BGR_YUYV}


def _median_time(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def backend_model(kind: str, name: str) -> Tuple[str, str]:
    """
    Resolve the backend kind and model file for a benchmark run.

    :param kind: ``onnxruntime``, ``hbm_runtime``, ``pyeasy_dnn`` or ``auto`` (a BPU runtime
        with the .bin when one is importable, else ONNX Runtime).
    :param name: model size.
    :return: (backend kind, model path); ONNX falls back to the synthetic model.
    """
    if kind == 'auto':
        kind = 'onnxruntime'
        if bpu_runtime_available():
            path = models.resolve_model_path(name, formats=('bin',))
            return resolve_kind('auto', path), path
    if kind == 'onnxruntime':
        return kind, model_file(name)
    return kind, models.resolve_model_path(name, formats=('bin',))


def naive_path(frame: np.ndarray, encoding: str, size=(224, 224)) -> np.ndarray:
    """
    Run the path a typical Python node takes: whole frame to BGR (as cv_bridge), resize, I420.

    :param frame: the frame as :func:`to_nv12` takes it.
    :param encoding: its encoding.
    :param size: model input (height, width).
    :return: I420 bytes of the model input.
    """
    if encoding == 'jpeg':
        bgr = cv2.imdecode(frame, cv2.IMREAD_COLOR)
    elif encoding == 'bgr8':
        bgr = frame
    else:
        bgr = cv2.cvtColor(np.ascontiguousarray(frame), _NAIVE_CODES[encoding])
    small = cv2.resize(bgr, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(small, cv2.COLOR_BGR2YUV_I420)


def bench_preprocess(repeats: int = 30, resolutions=RESOLUTIONS,
                     encodings=PRE_ENCODINGS) -> Dict:
    """
    Time to_nv12 against the naive path per encoding and resolution, and one m1_0 inference.

    For JPEG also the entropy-decoding floor: a 1/8-scale greyscale decode, the least work
    libjpeg can do to read the file; no decoder-based path can beat naive / floor.
    """
    backend = create_backend('onnxruntime', model_file('m1_0'))
    probe = to_nv12(sample_picture(224, 224), 'rgb8')
    infer_s = _median_time(lambda: backend.infer(probe), max(10, repeats // 2))
    rows = []
    for w, h in resolutions:
        rgb = sample_picture(w, h)
        for enc in encodings:
            data = encode(rgb, enc)
            if enc == 'jpeg':
                frame = np.frombuffer(data, np.uint8)
            else:
                frame = image_view(h, w, row_step(enc, w), enc, data)
            t_fast = _median_time(lambda: to_nv12(frame, enc), repeats)
            t_naive = _median_time(lambda: naive_path(frame, enc), repeats)
            row = {'encoding': enc, 'resolution': f'{w}x{h}', 'to_nv12_ms': t_fast * 1e3,
                   'naive_ms': t_naive * 1e3, 'speedup': t_naive / t_fast,
                   'fraction_of_inference': t_fast / infer_s}
            if enc == 'jpeg':
                floor = _median_time(lambda: cv2.imdecode(frame, cv2.IMREAD_REDUCED_GRAYSCALE_8),
                                     repeats)
                row.update({'decode_floor_ms': floor * 1e3, 'max_speedup': t_naive / floor})
            rows.append(row)
    return {'mode': 'preprocess', 'inference_m1_0_ms': infer_s * 1e3, 'rows': rows}


def _throughput(backend: Backend, frames: List[np.ndarray], workers: int,
                n: int) -> Tuple[float, float]:
    """Frames per second with ``workers`` threads, and the median seconds of one call."""
    lat = []

    def run(i):
        t = time.perf_counter()
        backend.infer(frames[i % len(frames)])
        lat.append(time.perf_counter() - t)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(min(n, 2 * workers))))  # warm up
        lat.clear()
        t = time.perf_counter()
        list(pool.map(run, range(n)))
        return n / (time.perf_counter() - t), statistics.median(lat)


def bench_backend(names=('m0_9', 'm1_0', 'm1_1'), workers=(1, 2, 4, 8), repeats: int = 30,
                  kind: str = 'onnxruntime') -> Dict:
    frames = [to_nv12(sample_picture(640, 480, s), 'rgb8') for s in range(4)]
    rows = []
    for name in names:
        kind_used, path = backend_model(kind, name)
        backend = create_backend(kind_used, path)
        lat = []
        for i in range(repeats + 3):
            t = time.perf_counter()
            backend.infer(frames[i % 4])
            lat.append(time.perf_counter() - t)
        lat = lat[3:]
        ref = models.get_model(name)
        row = {'model': name, 'backend': backend.name, 'params': ref.params,
               'synthetic': 'synthetic' in os.path.basename(path),
               'latency_median_ms': float(np.median(lat) * 1e3),
               'latency_p90_ms': float(np.percentile(lat, 90) * 1e3),
               'fps': {}, 'latency_ms_by_workers': {},
               'x5_reference': {'latency_1t_ms': ref.latency_1t_ms,
                                'latency_4t_ms': ref.latency_4t_ms, 'fps': ref.fps,
                                'float_top1': ref.float_top1, 'int8_top1': ref.int8_top1}}
        for w in workers:
            fps, lat_w = _throughput(backend, frames, w, max(repeats, 4 * w))
            row['fps'][str(w)] = fps
            row['latency_ms_by_workers'][str(w)] = lat_w * 1e3
        rows.append(row)
        backend.close()
    return {'mode': 'backend', 'cpu_count': os.cpu_count(), 'rows': rows}


# ------------------------------------------------------------------ node over DDS
def _frame_cost(msg, encoding: str) -> float:
    """Median seconds of the node's own per-frame work before inference: wrap and to_nv12."""
    if encoding in ('jpeg', 'png'):
        return _median_time(lambda: to_nv12(msg.data, encoding), 20)

    def work():
        frame = image_view(msg.height, msg.width, msg.step, encoding, msg.data)
        return to_nv12(frame, encoding)
    return _median_time(work, 20)


def bench_node(encoding: str = 'bgr8', width: int = 640, height: int = 480,
               threads=(1, 2), rate: float = 30.0, duration: float = 10.0,
               model: str = 'm1_0', warmup: float = 2.0, kind: str = 'onnxruntime') -> Dict:
    """
    Run the classifier and this process's frame publisher over DDS, closed loop and fixed rate.

    For each worker count: the raw backend throughput with as many threads (this process, node
    idle), then the node fed closed-loop (workers + 1 frames in flight, the next sent when a
    result arrives: as fast as it takes them) and at ``rate`` Hz.
    """
    kind, path = backend_model(kind, model)
    msgs = frames(encoding, width, height)
    msg_type = input_type_of(encoding)
    backend = create_backend(kind, path)
    nv12 = [to_nv12(sample_picture(width, height, s), 'rgb8') for s in range(4)]
    infer_s = _median_time(lambda: backend.infer(nv12[0]), 20)
    pre_s = _frame_cost(msgs[0], encoding)
    rows = []
    for t in threads:
        raw_fps, _ = _throughput(backend, nv12, t, max(40, 20 * t))
        ns = f'/repvit_bench_{os.getpid()}_{t}'
        params = classifier_params(t, msg_type, 1, path, kind)
        with node_under_test('classifier', ns, params, msg_type, prime=True) as (_, feeder):
            before = feeder.diagnostics()
            loops = (('max', feeder.run(msgs, window=t + 1, duration=duration, warmup=warmup)),
                     (f'{rate:g} Hz', feeder.run(msgs, rate=rate, duration=duration,
                                                 warmup=warmup)))
            after = feeder.diagnostics()
        for loop, run in loops:
            run.pop('latencies_ms')
            row = {'encoding': encoding, 'resolution': f'{width}x{height}', 'threads': t,
                   'loop': loop, **run, 'raw_backend_fps': raw_fps,
                   'inference_ms': infer_s * 1e3, 'preprocess_ms': pre_s * 1e3}
            if loop == 'max':
                row['node_to_raw'] = run['throughput_fps'] / raw_fps
            else:
                row['latency_to_budget'] = run['latency_median_ms'] / (row['inference_ms'] +
                                                                       row['preprocess_ms'])
            rows.append(row)
        counts = counts_between(before, after) if after else {'dropped': -1, 'bad': -1}
        rows[-1]['node_dropped'] = counts['dropped']
        rows[-1]['node_bad'] = counts['bad']
    backend.close()
    return {'mode': 'node', 'model': model, 'backend': kind, 'synthetic': 'synthetic' in path,
            'rows': rows}


OVERHEAD_ENCODINGS = ('bgr8', 'rgb8', 'mono8', 'nv12', 'yuv422', 'yuv422_yuy2', 'jpeg')
OVERHEAD_RESOLUTIONS = ((640, 480), (960, 544), (1920, 1080))
#: worker counts of the overhead benchmark's emulated-BPU rows
EMULATED_WORKERS = (1, 2, 4)
#: the label of a JPEG row compared with the bare subscriber that decodes too
BARE_DECODES = 'jpeg (bare decodes)'
#: the startup runs' node: model (ONNX Runtime), workers, and its camera's rate (Hz)
STARTUP_MODEL, STARTUP_THREADS, STARTUP_RATE = 'm1_0', 2, 30.0


def _closed_loop(proc: NodeProcess, feeder: Feeder, msgs: List[Any], window: int,
                 duration: float, warmup: float) -> Dict[str, float]:
    """Feed ``proc`` closed-loop: throughput, CPU ms per classified frame, stalls, refusals."""
    cpu0 = proc.cpu_seconds()
    run = feeder.run(msgs, window=window, duration=duration, warmup=warmup)
    cpu = proc.cpu_seconds() - cpu0
    return {'fps': run['throughput_fps'], 'cpu_ms_per_frame': 1e3 * cpu / max(1, run['received']),
            'stalls': run['stalls'], 'publish_failed': run['publish_failed']}


def _compared(node: Dict[str, float], bare: Dict[str, float], **row: Any) -> Dict[str, Any]:
    """Put a node's and a bare subscriber's :func:`_closed_loop` figures side by side."""
    for k, fig in (('node', node), ('bare', bare)):
        row.update({f'{k}_{key}': value for key, value in fig.items()})
    row['node_to_bare'] = row['node_fps'] / max(row['bare_fps'], 1e-9)
    row['cpu_ratio'] = row['node_cpu_ms_per_frame'] / max(row['bare_cpu_ms_per_frame'], 1e-9)
    return row


def _with_floor(row: Dict[str, Any], serial: Dict[str, float]) -> Dict[str, Any]:
    """Add the serial subscriber's figures (the floor) to a :func:`_compared` row."""
    row.update({f'serial_{key}': value for key, value in serial.items()})
    row['serial_to_bare'] = serial['fps'] / max(row['bare_fps'], 1e-9)
    serial_cpu = max(serial['cpu_ms_per_frame'], 1e-9)
    row['serial_cpu_ratio'] = serial_cpu / max(row['bare_cpu_ms_per_frame'], 1e-9)
    row['node_to_serial'] = row['node_fps'] / max(serial['fps'], 1e-9)
    row['node_cpu_to_serial'] = row['node_cpu_ms_per_frame'] / serial_cpu
    return row


def bench_overhead(encodings=OVERHEAD_ENCODINGS, resolutions=OVERHEAD_RESOLUTIONS,
                   duration: float = 4.0, threads: int = 2, window: int = 4,
                   warmup: float = 1.0, emulated_workers=EMULATED_WORKERS,
                   emulated_ms: float = robot.EMULATED_MS,
                   emulated_size: Tuple[int, int] = robot.CAMERA_SIZE, startup_runs: int = 3,
                   startup_size: Tuple[int, int] = robot.CAMERA_SIZE,
                   startup_follow: float = 3.0, emulated_runs: int = 1,
                   baseline: str = '') -> Dict:
    """
    Measure the node's own ceiling (do-nothing backend) beside a bare rclpy subscriber.

    Both are fed closed-loop with ``window`` frames in flight, alternately, per encoding and
    resolution; CPU milliseconds per frame come from each process's CPU time. A JPEG case is
    compared twice: with the plain bare subscriber and with one that also decodes each JPEG at
    the node's reduced scale (``bare_jpeg``, the row labelled :data:`BARE_DECODES`; same node
    run). Every case also runs the ``serial`` subscriber, the node's per-frame work inside one
    callback (the floor of any Python subscriber doing this job; ``serial_*`` figures). Then
    the emulated-BPU rows (:func:`bench_emulated`, none when ``emulated_workers`` is empty) and
    the startup runs (:func:`bench_startup`, none when ``startup_runs`` is 0).

    :return: ``rows``, ``emulated_rows`` and ``startup`` with their settings.
    """
    rows = []
    for msg_type in ('image', 'compressed'):
        cases = [(e, w, h) for e in encodings for (w, h) in resolutions
                 if input_type_of(e) == msg_type]
        if not cases:
            continue
        base = f'/repvit_overhead_{os.getpid()}_{msg_type}'
        kinds = ['node', 'bare', 'serial'] + \
            (['bare_jpeg'] if any(c[0] == 'jpeg' for c in cases) else [])
        params = classifier_params(threads, msg_type, window)
        with ExitStack() as stack:
            rigs = {'node': stack.enter_context(node_under_test(
                'fixed', base + '_node', params, msg_type))}
            for k in kinds[1:]:
                rigs[k] = stack.enter_context(node_under_test(
                    k, f'{base}_{k}', params if k == 'serial' else {'input_type': msg_type},
                    msg_type))
            for enc, w, h in cases:
                msgs = frames(enc, w, h)
                figs = {k: _closed_loop(*rigs[k], msgs, window, duration, warmup)
                        for k in kinds if k != 'bare_jpeg' or enc == 'jpeg'}
                row = _compared(figs['node'], figs['bare'], encoding=enc,
                                resolution=f'{w}x{h}', frame_bytes=len(msgs[0].data),
                                bare_kind='bare')
                row['cameras_30hz'] = int(row['node_fps'] // 30)
                rows.append(_with_floor(row, figs['serial']))
                if 'bare_jpeg' in figs:
                    rows.append(_compared(figs['node'], figs['bare_jpeg'],
                                          encoding=BARE_DECODES, resolution=row['resolution'],
                                          frame_bytes=row['frame_bytes'],
                                          cameras_30hz=row['cameras_30hz'],
                                          bare_kind='bare_jpeg'))
    return {'mode': 'overhead', 'threads': threads, 'window': window, 'rows': rows,
            'emulated': {'inference_ms': emulated_ms, 'encoding': robot.CAMERA_ENCODING,
                         'resolution': '{}x{}'.format(*emulated_size)},
            'baseline': baseline,
            'emulated_rows': bench_emulated(emulated_workers, emulated_ms, *emulated_size,
                                            duration=duration, warmup=warmup,
                                            runs=emulated_runs, baseline=baseline),
            'startup_setting': {'model': STARTUP_MODEL, 'backend': 'onnxruntime',
                                'threads': STARTUP_THREADS, 'rate': STARTUP_RATE,
                                'encoding': robot.CAMERA_ENCODING,
                                'resolution': '{}x{}'.format(*startup_size),
                                'follow_s': startup_follow,
                                'synthetic': 'synthetic' in model_file(STARTUP_MODEL)},
            'startup': bench_startup(startup_runs, *startup_size, follow=startup_follow)}


def bench_emulated(workers=EMULATED_WORKERS, inference_ms: float = robot.EMULATED_MS,
                   width: int = robot.CAMERA_SIZE[0], height: int = robot.CAMERA_SIZE[1],
                   duration: float = 4.0, warmup: float = 1.0, runs: int = 1,
                   baseline: str = '') -> List[Dict[str, Any]]:
    """
    Measure the node's ceiling on the emulated BPU per worker count, beside a bare subscriber.

    The classifier on the ``emulated`` backend (each inference ``inference_ms`` with the GIL
    released, as on the RDK X5), the bare subscriber and the ``serial_emulated`` one (the node's
    per-frame work, inference included, inside one callback) are fed nv12 frames closed-loop
    with max(4, 2 x workers) frames in flight (the node's queue holds them all), alternately.

    :param workers: worker counts, one node process each.
    :param inference_ms: the emulated inference time.
    :param width: frame columns.
    :param height: frame rows.
    :param duration: measured seconds per run.
    :param warmup: seconds fed before.
    :param runs: runs of every process per worker count, in turn; each figure is the median.
    :param baseline: a checkout of another commit of this package (a folder holding its
        ``repvit_ros``): its node runs too, fed in turn with the others (``before_*`` figures,
        ``fps_to_before`` and ``cpu_to_before``).
    :return: per worker count: workers, window, node_/bare_ fps, cpu_ms_per_frame and stalls,
        node_to_bare, cpu_ratio, ideal_fps (workers / inference time) and the ``serial_*``
        figures (see :func:`_with_floor`).
    """
    if not workers:
        return []
    msgs = frames(robot.CAMERA_ENCODING, width, height)
    base = f'/repvit_overhead_{os.getpid()}_emulated'
    rows = []
    with ExitStack() as stack:
        bare = stack.enter_context(node_under_test('bare', base + '_bare',
                                                   {'input_type': 'image'}))
        serial = stack.enter_context(node_under_test(
            'serial_emulated', base + '_serial', robot.emulated_params(1, inference_ms)))
        for n in workers:
            window = max(4, 2 * n)
            params = {**robot.emulated_params(n, inference_ms), 'queue_size': window}
            with ExitStack() as nodes:
                rigs = [nodes.enter_context(node_under_test('emulated', f'{base}_{n}', params)),
                        bare, serial]
                if baseline:
                    rigs.append(nodes.enter_context(node_under_test(
                        'emulated', f'{base}_{n}_before', params, env=checkout_env(baseline),
                        cwd=baseline)))
                figs = _median_figures([[_closed_loop(*rig, msgs, window, duration, warmup)
                                         for rig in rigs] for _ in range(max(1, runs))])
            row = _with_floor(_compared(*figs[:2], workers=n, window=window,
                                        ideal_fps=n * 1e3 / inference_ms), figs[2])
            if baseline:
                row.update({f'before_{key}': value for key, value in figs[3].items()})
                row['fps_to_before'] = row['node_fps'] / max(row['before_fps'], 1e-9)
                row['cpu_to_before'] = (row['node_cpu_ms_per_frame']
                                        / max(row['before_cpu_ms_per_frame'], 1e-9))
            rows.append(row)
    return rows


def _median_figures(runs: List[List[Dict[str, float]]]) -> List[Dict[str, float]]:
    """Per process, the median of each figure over the runs (lists of per-process figures)."""
    return [{key: statistics.median(run[i][key] for run in runs) for key in runs[0][i]}
            for i in range(len(runs[0]))]


def startup_once(ns: str, params: Dict[str, Any], msgs: List[Any], rate: float = 30.0,
                 follow: float = 3.0, timeout: float = 120.0) -> Dict[str, Any]:
    """
    Start the classifier while frames arrive at ``rate``; time its first result and the next.

    A :class:`Feeder` publishes before the process exists (and goes on until ``follow``
    seconds after the first result), so the node classifies the first frame it can receive.

    :param ns: the node's namespace.
    :param params: its parameters.
    :param msgs: frames.
    :param rate: Hz.
    :param follow: seconds of results after the first one.
    :param timeout: seconds at most to wait for the first result.
    :return: start_to_first_result_s (process start to the first result's arrival),
        first_latency_ms (that frame's publication to its result), median_latency_ms (of the
        results in the ``follow`` seconds after), ratio (first / median), results (after the
        first), skipped (frames sent but not classified, most before the node was up).
    :raises RuntimeError: when no result comes or the node exits.
    """
    box: Dict[str, Any] = {}
    feeder = Feeder(ns, 'image')
    try:
        def start(_t: float) -> None:
            if 'proc' not in box:
                box['t'] = time.monotonic()
                box['proc'] = NodeProcess('classifier', ns, params)

        def done() -> bool:
            if 'proc' in box and not box['proc'].alive():
                return True
            if feeder.messages and 'first' not in box:
                box['first'] = time.monotonic()
            return 'first' in box and time.monotonic() - box['first'] >= follow

        run = feeder.run(msgs, rate=rate, duration=timeout, warmup=0.0, tick=start,
                         tick_period=2 * timeout, until=done, drain=1.0)
    finally:
        feeder.close()
        code = box['proc'].stop() if 'proc' in box else None
    lat = run['latencies_ms']
    if len(lat) < 2:
        raise RuntimeError(f'classifier on {ns} gave {len(lat)} result(s) (exit code {code}):\n'
                           + (box['proc'].output[-3000:] if 'proc' in box else ''))
    median = statistics.median(lat[1:])
    return {'start_to_first_result_s': run['first_result_at'] - box['t'],
            'first_latency_ms': lat[0], 'median_latency_ms': median,
            'ratio': lat[0] / max(median, 1e-9), 'results': len(lat) - 1,
            'skipped': run['skipped']}


def bench_startup(runs: int = 3, width: int = robot.CAMERA_SIZE[0],
                  height: int = robot.CAMERA_SIZE[1], follow: float = 3.0,
                  rate: float = STARTUP_RATE) -> List[Dict[str, Any]]:
    """
    Start the classifier ``runs`` times under a camera at ``rate``: :func:`startup_once` each.

    The product node (``python -m repvit_ros.main``) on ONNX Runtime with
    :data:`STARTUP_MODEL` (the synthetic model without the real one), :data:`STARTUP_THREADS`
    workers; nv12 frames.

    :return: one :func:`startup_once` result per start, with its number as ``run``.
    """
    if runs <= 0:
        return []
    msgs = frames(robot.CAMERA_ENCODING, width, height)
    params = classifier_params(STARTUP_THREADS, 'image', 1, model_file(STARTUP_MODEL),
                               'onnxruntime')
    return [{'run': i + 1, **startup_once(f'/repvit_startup_{os.getpid()}_{i}', params, msgs,
                                          rate, follow)} for i in range(runs)]


ANNOTATE_RESOLUTIONS = ((640, 480), (1920, 1080))


def bench_annotate(resolutions=ANNOTATE_RESOLUTIONS, encoding: str = 'bgr8', threads: int = 2,
                   duration: float = 8.0, warmup: float = 2.0, model: str = 'm1_0',
                   repeats: int = 3, width: int = 640) -> Dict:
    """
    Classification throughput with the annotated image subscribed, beside without, same node.

    The classifier (ONNX Runtime, ``model``) is fed closed-loop (workers + 1 frames in flight);
    runs without and with a subscriber to ``annotated_image`` and its JPEG alternate,
    ``repeats`` times each; the medians are compared. The render cost per frame (colour view,
    band, JPEG) is timed in this process beside.
    """
    kind, path = backend_model('onnxruntime', model)
    rows = []
    for w, h in resolutions:
        msgs = frames(encoding, w, h)
        ns = f'/repvit_annotate_{os.getpid()}_{w}'
        params = {**classifier_params(threads, 'image', 1, path, kind), 'annotated_width': width}
        fps: Dict[bool, List[float]] = {False: [], True: []}
        with node_under_test('classifier', ns, params) as (proc, feeder):
            before = feeder.diagnostics()
            for _ in range(repeats):
                for watched in (False, True):
                    subs = feeder.watch_pictures() if watched else []
                    run = feeder.run(msgs, window=threads + 1, duration=duration,
                                     warmup=warmup)
                    fps[watched].append(run['throughput_fps'])
                    for sub in subs:
                        feeder.node.destroy_subscription(sub)
            after = feeder.diagnostics()
        image = render_cost.frame(w, h, encoding)
        drawn = int(after.get('annotated', 0)) - int(before.get('annotated', 0))
        skipped = int(after.get('annotation_skipped', 0)) - \
            int(before.get('annotation_skipped', 0))
        plain, annotated = statistics.median(fps[False]), statistics.median(fps[True])
        rows.append({'encoding': encoding, 'resolution': f'{w}x{h}', 'fps_plain': plain,
                     'fps_annotated': annotated, 'ratio': annotated / max(plain, 1e-9),
                     'render_ms': render_cost.cost(image, encoding, width, 15),
                     'pictures_drawn': drawn, 'pictures_skipped': skipped})
    return {'mode': 'annotate', 'model': model, 'threads': threads, 'width': width,
            'repeats': repeats, 'synthetic': 'synthetic' in path, 'rows': rows}


def _overhead_markdown(result: Dict) -> List[str]:
    """Render the overhead tables: node against bare, emulated BPU, startup."""
    lines = [f'Do-nothing backend, {result["threads"]} workers, {result["window"]} frames in '
             f'flight; bare = plain rclpy subscriber echoing each header ({BARE_DECODES}: '
             f'one that decodes each JPEG first at the reduced scale the node uses; same '
             'node run)',
             '',
             '| encoding | resolution | node fps | node CPU ms/frame | bare fps | '
             'bare CPU ms/frame | node/bare | node CPU / bare CPU | 30 Hz cameras per node |',
             '|---' * 9 + '|']
    for r in result['rows']:
        lines.append(f'| {r["encoding"]} | {r["resolution"]} | {_node_and_bare(r)} | '
                     f'{r["cameras_30hz"]} |')
    floors = [r for r in result['rows'] if 'serial_fps' in r]
    if floors:
        lines += ['', "The floor: serial = the node's per-frame work (raw take, frame reading, "
                  'NV12, inference, ranking, the Classification) inside one rclpy subscription '
                  'callback, nothing else; same cases, same run', '',
                  '| encoding | resolution | serial fps | serial CPU ms/frame | serial/bare | '
                  'serial CPU / bare CPU | node/serial | node CPU / serial CPU |',
                  '|---' * 8 + '|']
        for r in floors:
            lines.append(f'| {r["encoding"]} | {r["resolution"]} | {_floor_cells(r)} |')
    emu = result.get('emulated_rows', [])
    if emu:
        e = result['emulated']
        lines += ['', f'Emulated BPU backend ({e["inference_ms"]:g} ms per inference, GIL '
                  f'released), {e["encoding"]} {e["resolution"]}, closed loop with '
                  f'max(4, 2 x workers) frames in flight; bare = plain rclpy subscriber, '
                  f"serial = the node's work with the same emulated inference in one "
                  f'callback; same frames and window', '',
                  '| workers | frames in flight | node fps | node CPU ms/frame | bare fps | '
                  'bare CPU ms/frame | node/bare | node CPU / bare CPU | ideal fps '
                  f'(workers / {e["inference_ms"]:g} ms) | serial fps | serial CPU ms/frame | '
                  'node/serial |', '|---' * 12 + '|']
        for r in emu:
            lines.append(f'| {r["workers"]} | {r["window"]} | {_node_and_bare(r)} | '
                         f'{r["ideal_fps"]:.0f} | {r["serial_fps"]:.0f} | '
                         f'{r["serial_cpu_ms_per_frame"]:.2f} | {r["node_to_serial"]:.2f} |')
        if 'before_fps' in emu[0]:
            lines += ['', f'The same rows beside the node of `{result["baseline"]}` (before), '
                      'fed in turn in the same window', '',
                      '| workers | node fps | before fps | node/before fps | node / ideal | '
                      'before / ideal | node CPU ms/frame | before CPU ms/frame | '
                      'node/before CPU |', '|---' * 9 + '|']
            for r in emu:
                lines.append(f'| {r["workers"]} | {r["node_fps"]:.0f} | {r["before_fps"]:.0f} | '
                             f'{r["fps_to_before"]:.2f} | '
                             f'{r["node_fps"] / r["ideal_fps"]:.2f} | '
                             f'{r["before_fps"] / r["ideal_fps"]:.2f} | '
                             f'{r["node_cpu_ms_per_frame"]:.2f} | '
                             f'{r["before_cpu_ms_per_frame"]:.2f} | {r["cpu_to_before"]:.2f} |')
    starts = result.get('startup', [])
    if starts:
        s = result['startup_setting']
        weights = 'synthetic' if s['synthetic'] else 'real'
        lines += ['', f'Startup: the classifier (RepViT {s["model"]}, {weights} weights, '
                  f'{s["backend"]}, {s["threads"]} workers) started while {s["encoding"]} '
                  f'{s["resolution"]} frames arrive at {s["rate"]:g} Hz; latency from the '
                  f'publication of a frame to its result; median over the '
                  f'{s["follow_s"]:g} s after the first result', '',
                  '| start | process start to first result s | first result latency ms | '
                  'median latency after ms (results) | first / median |', '|---' * 5 + '|']
        for r in starts:
            lines.append(f'| {r["run"]} | {r["start_to_first_result_s"]:.2f} | '
                         f'{r["first_latency_ms"]:.1f} | {r["median_latency_ms"]:.1f} '
                         f'({r["results"]}) | {r["ratio"]:.2f} |')
    return lines


# ------------------------------------------------------------------ output
def _node_and_bare(r: Dict) -> str:
    """Give the node-beside-bare cells of an overhead row: fps, CPU per frame, both ratios."""
    return (f'{r["node_fps"]:.0f} | {r["node_cpu_ms_per_frame"]:.2f} | {r["bare_fps"]:.0f} | '
            f'{r["bare_cpu_ms_per_frame"]:.2f} | {r["node_to_bare"]:.2f} | {r["cpu_ratio"]:.2f}')


def _floor_cells(r: Dict) -> str:
    """Give the serial-subscriber cells of an overhead row: its figures, beside bare and node."""
    return (f'{r["serial_fps"]:.0f} | {r["serial_cpu_ms_per_frame"]:.2f} | '
            f'{r["serial_to_bare"]:.2f} | {r["serial_cpu_ratio"]:.2f} | '
            f'{r["node_to_serial"]:.2f} | {r["node_cpu_to_serial"]:.2f}')


def to_markdown(result: Dict) -> str:
    mode = result['mode']
    if mode in ('cameras', 'sweep', 'regions'):
        return robot.to_markdown(result)
    if mode == 'composition':
        return composition.to_markdown(result)
    lines = []
    if mode == 'preprocess':
        lines.append(f'One RepViT m1_0 ONNX Runtime inference (same run): '
                     f'{result["inference_m1_0_ms"]:.2f} ms')
        lines.append('')
        lines.append('| encoding | resolution | to_nv12 ms | naive ms | speed-up | '
                     'share of one inference |')
        lines.append('|---|---|---|---|---|---|')
        for r in result['rows']:
            lines.append(f'| {r["encoding"]} | {r["resolution"]} | {r["to_nv12_ms"]:.3f} | '
                         f'{r["naive_ms"]:.3f} | {r["speedup"]:.1f}x | '
                         f'{r["fraction_of_inference"]:.3f} |')
        floors = [r for r in result['rows'] if 'decode_floor_ms' in r]
        if floors:
            lines.append('')
            lines.append('JPEG entropy-decoding floor (1/8-scale greyscale decode) and the best '
                         'speed-up any decoding path could reach: ' +
                         ', '.join(f'{r["resolution"]} {r["decode_floor_ms"]:.2f} ms, '
                                   f'{r["max_speedup"]:.1f}x' for r in floors))
    elif mode == 'backend':
        workers = list(result['rows'][0]['fps'])
        lines.append('| Model | Params | backend | 1-worker latency median / p90 ms | ' +
                     ' | '.join(f'FPS {w}w' for w in workers) +
                     ' | RDK X5: 1-thread ms / 4-thread ms / FPS | X5 int8 top-1 |')
        lines.append('|---' * (6 + len(workers)) + '|')
        for r in result['rows']:
            ref = r['x5_reference']
            name = f'RepViT_{r["model"]}' + (' (synthetic)' if r['synthetic'] else '')
            lines.append(f'| {name} | {r["params"]:,} | {r["backend"]} | '
                         f'{r["latency_median_ms"]:.2f} / {r["latency_p90_ms"]:.2f} | ' +
                         ' | '.join(f'{r["fps"][w]:.1f}' for w in workers) +
                         f' | {ref["latency_1t_ms"]} / {ref["latency_4t_ms"]} / {ref["fps"]} | '
                         f'{ref["int8_top1"]} |')
        lines.append('')
        lines.append(f'This machine: {result["cpu_count"]} CPU(s). RDK X5 columns: the RDK '
                     f'model zoo table (BPU), for reference.')
    elif mode == 'node':
        kind = 'synthetic' if result['synthetic'] else 'real'
        lines.append(f'RepViT {result["model"]} ({kind} weights), {result["backend"]}, node and '
                     f'frame publisher in separate processes over DDS')
        lines.append('')
        lines.append('| encoding | resolution | workers | input | sent | classified | '
                     'throughput fps | raw backend fps | node/raw | latency median / p99 ms | '
                     'inference + preprocess ms | latency / (inference + preprocess) |')
        lines.append('|---' * 12 + '|')
        for r in result['rows']:
            ratio = f'{r["node_to_raw"]:.2f}' if 'node_to_raw' in r else ''
            budget = f'{r["latency_to_budget"]:.2f}' if 'latency_to_budget' in r else ''
            lines.append(f'| {r["encoding"]} | {r["resolution"]} | {r["threads"]} | '
                         f'{r["loop"]} | {r["sent"]} | {r["received"]} | '
                         f'{r["throughput_fps"]:.1f} | {r["raw_backend_fps"]:.1f} | {ratio} | '
                         f'{r["latency_median_ms"]:.1f} / {r["latency_p99_ms"]:.1f} | '
                         f'{r["inference_ms"]:.1f} + {r["preprocess_ms"]:.2f} | {budget} |')
        drops = [(r['threads'], r['node_dropped'], r['node_bad']) for r in result['rows']
                 if 'node_dropped' in r]
        lines.append('')
        lines.append('Dropped by the node (queue full, newest frame kept) / bad, per worker '
                     'count, from its /diagnostics: ' +
                     ', '.join(f'{t} worker(s): {d} / {b}' for t, d, b in drops))
    elif mode == 'annotate':
        kind = 'synthetic' if result['synthetic'] else 'real'
        lines.append(f'RepViT {result["model"]} ({kind} weights) on ONNX Runtime, '
                     f'{result["threads"]} workers, closed loop; annotated_width '
                     f'{result["width"]}; medians of {result["repeats"]} runs each, alternating')
        lines.append('')
        lines.append('| encoding | resolution | fps, nobody watching | fps, annotated image '
                     'and JPEG subscribed | ratio | render + JPEG ms per picture | pictures '
                     'drawn / skipped |')
        lines.append('|---' * 7 + '|')
        for r in result['rows']:
            lines.append(f'| {r["encoding"]} | {r["resolution"]} | {r["fps_plain"]:.1f} | '
                         f'{r["fps_annotated"]:.1f} | {r["ratio"]:.2f} | '
                         f'{r["render_ms"]:.2f} | {r["pictures_drawn"]} / '
                         f'{r["pictures_skipped"]} |')
    elif mode == 'overhead':
        lines += _overhead_markdown(result)
    return '\n'.join(lines)


def plot(result: Dict, path: str) -> None:
    """Write a PNG of backend throughput and per-frame latency against workers."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit('--plot needs matplotlib (pip install matplotlib, or apt install '
                         'python3-matplotlib)') from None
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for r in result['rows']:
        ws = [int(w) for w in r['fps']]
        ax[0].plot(ws, list(r['fps'].values()), marker='o', label=r['model'])
        ax[1].plot(ws, list(r['latency_ms_by_workers'].values()), marker='o', label=r['model'])
    for a, label in zip(ax, ('throughput, frames/s', 'latency of one frame, ms (median)')):
        a.set_xlabel('workers')
        a.set_ylabel(label)
        a.set_xticks(ws)
        a.legend()
    fig.suptitle(f'RepViT on {result["rows"][0]["backend"]}, {result["cpu_count"]} CPUs')
    fig.tight_layout()
    fig.savefig(path)


def robot_modes(args: argparse.Namespace) -> List[Dict]:
    """
    Run the cameras, sweep and regions modes the arguments ask for.

    ``all`` runs cameras and regions, shortened like overhead.

    :param args: the parsed command line.
    :return: their results.
    """
    w, h = (int(v) for v in (args.resolution or 'x'.join(map(str, robot.CAMERA_SIZE)))
            .split('x'))
    threads = [int(t) for t in (args.threads or '2').split(',')]
    if len(threads) != 1:
        raise SystemExit('cameras/sweep/regions take one worker count (--threads N)')
    duration = min(args.duration, 4.0) if args.mode == 'all' else args.duration
    common = {'rate': args.rate, 'encoding': args.encoding or robot.CAMERA_ENCODING,
              'width': w, 'height': h, 'threads': threads[0], 'repeats': args.runs,
              'inference_ms': args.inference_ms}
    results = []
    if args.mode in ('cameras', 'all'):
        results.append(robot.bench_cameras([int(n) for n in args.cameras.split(',')],
                                           duration=duration, model=args.hold_model,
                                           **common))
    if args.mode == 'sweep':
        layouts = [lay.strip() for lay in args.layouts.split(',') if lay.strip()]
        unknown = sorted(set(layouts) - set(robot.LAYOUTS))
        if unknown or not layouts:
            raise SystemExit(f'--layouts: {", ".join(unknown) or "none given"}; choose from '
                             f'{", ".join(robot.LAYOUTS)}')
        results.append(robot.bench_sweep(args.max_cameras, duration=duration / 2,
                                         layouts=layouts, baseline=args.baseline, **common))
    if args.mode in ('regions', 'all'):
        results.append(robot.bench_regions([int(n) for n in args.detections.split(',')],
                                           duration=duration,
                                           baseline=args.baseline if args.mode == 'regions'
                                           else '', **common))
    return results


def composition_mode(args: argparse.Namespace) -> Dict:
    """
    Run the composition mode as the arguments ask (``all``: shortened, one run).

    :param args: the parsed command line.
    :return: its result.
    """
    w, h = (int(v) for v in (args.resolution or 'x'.join(map(str, robot.CAMERA_SIZE)))
            .split('x'))
    threads = [int(t) for t in (args.threads or '2').split(',')]
    if len(threads) != 1:
        raise SystemExit('composition takes one worker count (--threads N)')
    short = args.mode == 'all'
    return composition.bench_composition(
        [int(n) for n in args.classifiers.split(',') if n], threads[0],
        args.encoding or robot.CAMERA_ENCODING, w, h, args.rate,
        min(args.duration, 4.0) if short else args.duration, runs=1 if short else args.runs,
        backends=[b for b in args.composition_backends.split(',') if b],
        inference_ms=args.inference_ms)


def main(argv=None) -> int:
    # Raw: the examples keep their lines (argparse would reflow them into one paragraph).
    parser = argparse.ArgumentParser(prog='benchmark', description=__doc__.split('\n\n')[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('mode', choices=('preprocess', 'backend', 'node', 'overhead', 'annotate',
                                         'cameras', 'sweep', 'regions', 'composition', 'all'))
    parser.add_argument('--repeats', type=int, default=30, help='preprocess/backend repeats')
    parser.add_argument('--models', default='m0_9,m1_0,m1_1', help='backend mode')
    parser.add_argument('--backends', default='onnxruntime',
                        help='backend/node modes: comma-separated onnxruntime, hbm_runtime, '
                             'pyeasy_dnn, auto (BPU runtime with the .bin if importable)')
    parser.add_argument('--model', default='m1_0', help='node mode')
    parser.add_argument('--workers', default='1,2,4,8', help='backend mode')
    parser.add_argument('--encoding', default='',
                        help='node mode (default bgr8); cameras/sweep/regions/composition '
                             '(default nv12)')
    parser.add_argument('--encodings', default='',
                        help='preprocess/overhead: comma-separated (default: all of the mode)')
    parser.add_argument('--resolution', default='',
                        help='node mode (default 640x480); cameras/sweep/regions/composition '
                             "(default 960x544, the RDK camera's)")
    parser.add_argument('--resolutions', default='',
                        help='preprocess/overhead: e.g. 640x480,1920x1080 (default: all)')
    parser.add_argument('--threads', default='',
                        help='node mode: worker counts (default 1,2); cameras/sweep/regions/'
                             'composition: workers of every node (default 2)')
    parser.add_argument('--rate', type=float, default=30.0,
                        help='node mode: fixed rate; cameras/sweep/regions: rate of each '
                             'camera, Hz; composition: frame source and latency runs')
    parser.add_argument('--duration', type=float, default=10.0,
                        help='node/overhead/cameras/regions/composition: measured seconds per '
                             'run (sweep: half of it)')
    parser.add_argument('--runs', type=int, default=3,
                        help='cameras/sweep/regions/composition: runs of each case (medians '
                             'reported)')
    parser.add_argument('--cameras', default='1,2,4', help='cameras mode: camera counts')
    parser.add_argument('--max-cameras', type=int, default=8, help='sweep: most cameras tried')
    parser.add_argument('--detections', default='1,5,10',
                        help='regions mode: detections per frame')
    parser.add_argument('--classifiers', default='1,2,4',
                        help='composition: classifier counts of the memory rows ("" none)')
    parser.add_argument('--composition-backends', default='onnxruntime,emulated',
                        help='composition: backends of the throughput rows ("" none)')
    parser.add_argument('--inference-ms', type=float, default=robot.EMULATED_MS,
                        help='cameras/sweep/regions/overhead/composition: time of one '
                             'emulated BPU inference, ms')
    parser.add_argument('--emulated-workers', default=','.join(map(str, EMULATED_WORKERS)),
                        help='overhead: worker counts of the emulated-BPU rows (nv12 960x544, '
                             'closed loop, max(4, 2 x workers) frames in flight)')
    parser.add_argument('--emulated-runs', type=int, default=1,
                        help='overhead: runs of every emulated-BPU process per worker count, '
                             'in turn (medians reported)')
    parser.add_argument('--baseline', default='',
                        help='overhead/sweep/regions: a checkout of another commit (e.g. `git '
                             'worktree add /tmp/before main`): its node is fed in turn beside '
                             'this one on the emulated BPU (before columns or rows)')
    parser.add_argument('--layouts', default=','.join(robot.LAYOUTS),
                        help='sweep: the layouts tried (comma-separated: ' +
                             ', '.join(robot.LAYOUTS) + ')')
    parser.add_argument('--no-emulated', action='store_true',
                        help='overhead: skip the emulated-BPU rows')
    parser.add_argument('--startup-runs', type=int, default=3,
                        help='overhead: starts of the classifier (m1_0 on ONNX Runtime, 2 '
                             'workers) under a 30 Hz nv12 960x544 camera, each timed to its '
                             'first result, whose latency is set against the median of the '
                             'next 3 s (all mode: at most 1 start, 2 s)')
    parser.add_argument('--no-startup', action='store_true',
                        help='overhead: skip the startup runs')
    parser.add_argument('--hold-model', default='m1_0',
                        help='cameras mode: the ONNX model each node process holds in memory, '
                             'unused, for realistic memory figures ("" none)')
    parser.add_argument('--no-large-frames-profile', action='store_true',
                        help='node/overhead: keep Fast DDS defaults instead of the shipped '
                             '16 MB shared-memory profile')
    parser.add_argument('--json', action='store_true', help='JSON instead of markdown')
    parser.add_argument('--plot', default='', help='backend mode: write a PNG here')
    args = parser.parse_args(argv)
    if args.mode not in ('preprocess', 'backend') and not args.no_large_frames_profile:
        use_large_frames_profile()
    results = []

    def listed(text: str, default):
        return text.split(',') if text else list(default)

    def sizes(text: str, default):
        return [tuple(int(v) for v in r.split('x')) for r in text.split(',')] if text \
            else list(default)
    if args.mode in ('preprocess', 'all'):
        results.append(bench_preprocess(args.repeats, sizes(args.resolutions, RESOLUTIONS),
                                        listed(args.encodings, PRE_ENCODINGS)))
    if args.mode in ('backend', 'all'):
        for kind in args.backends.split(','):
            res = bench_backend(args.models.split(','),
                                [int(w) for w in args.workers.split(',')], args.repeats, kind)
            results.append(res)
            if args.plot:
                root, ext = os.path.splitext(args.plot)
                plot(res, args.plot if kind == args.backends.split(',')[0] else
                     f'{root}_{kind}{ext or ".png"}')
    if args.mode in ('node', 'all'):
        w, h = (int(v) for v in (args.resolution or '640x480').split('x'))
        for kind in args.backends.split(','):
            results.append(bench_node(args.encoding or 'bgr8', w, h,
                                      [int(t) for t in (args.threads or '1,2').split(',')],
                                      args.rate, args.duration, args.model, kind=kind))
    if args.mode in ('overhead', 'all'):
        short = args.mode == 'all'
        results.append(bench_overhead(
            listed(args.encodings, OVERHEAD_ENCODINGS),
            sizes(args.resolutions, OVERHEAD_RESOLUTIONS),
            min(args.duration, 4.0) if short else args.duration,
            emulated_workers=[] if args.no_emulated else
            [int(n) for n in args.emulated_workers.split(',') if n],
            emulated_ms=args.inference_ms,
            startup_runs=0 if args.no_startup else
            min(args.startup_runs, 1) if short else args.startup_runs,
            startup_follow=2.0 if short else 3.0,
            emulated_runs=args.emulated_runs, baseline=args.baseline))
    if args.mode in ('annotate', 'all'):
        results.append(bench_annotate(sizes(args.resolutions, ANNOTATE_RESOLUTIONS),
                                      duration=min(args.duration, 4.0) if args.mode == 'all'
                                      else args.duration, model=args.model))
    if args.mode in ('cameras', 'sweep', 'regions', 'all'):
        results += robot_modes(args)
    if args.mode in ('composition', 'all'):
        results.append(composition_mode(args))
    for res in results:
        print(json.dumps(res, indent=2) if args.json else to_markdown(res))
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
