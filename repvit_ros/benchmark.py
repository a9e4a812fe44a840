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

  python -m repvit_ros.benchmark preprocess          # to_nv12 vs the naive cv_bridge-style path
  python -m repvit_ros.benchmark backend             # latency and throughput per model, workers
  python -m repvit_ros.benchmark node --encoding bgr8 --threads 1   # end to end over DDS
  python -m repvit_ros.benchmark overhead            # node ceiling with a do-nothing backend
Add --json for JSON, --plot FILE.png for a plot (backend mode). Times are medians of repeats
measured side by side in one run; on a shared machine compare ratios, not absolute times.
Without real model files the synthetic RepViT (same graph and parameter count, untrained) is used.
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import cv2
import numpy as np

from repvit_ros import models
from repvit_ros.backends import Backend, create_backend
from repvit_ros.frame_source import encode, sample_picture
from repvit_ros.preprocess import image_view, to_nv12

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


def model_file(name: str, directory: str = '') -> str:
    """
    Find the ONNX of ``name``, or build the synthetic one into a temporary directory.

    :param name: model size.
    :param directory: where to build synthetic models.
    :return: the path.
    """
    try:
        return models.resolve_model_path(name, formats=('onnx',))
    except models.ModelError:
        import onnx
        from repvit_ros.synthetic import build_model
        directory = directory or os.path.join(tempfile.gettempdir(), 'repvit_ros_synthetic')
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f'repvit_{name}_synthetic.onnx')
        if not os.path.exists(path):
            onnx.save(build_model(name), path + '.part')
            os.replace(path + '.part', path)
        return path


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


def bench_preprocess(repeats: int = 30) -> Dict:
    backend = create_backend('onnxruntime', model_file('m1_0'))
    probe = to_nv12(sample_picture(224, 224), 'rgb8')
    infer_s = _median_time(lambda: backend.infer(probe), max(10, repeats // 2))
    rows = []
    for w, h in RESOLUTIONS:
        rgb = sample_picture(w, h)
        for enc in PRE_ENCODINGS:
            data = encode(rgb, enc)
            if enc == 'jpeg':
                frame = np.frombuffer(data, np.uint8)
            else:
                rows_n = h * 3 // 2 if enc in ('nv12', 'nv21') else h
                frame = image_view(h, w, len(data) // rows_n, enc, data)
            t_fast = _median_time(lambda: to_nv12(frame, enc), repeats)
            t_naive = _median_time(lambda: naive_path(frame, enc), repeats)
            rows.append({'encoding': enc, 'resolution': f'{w}x{h}', 'to_nv12_ms': t_fast * 1e3,
                         'naive_ms': t_naive * 1e3, 'speedup': t_naive / t_fast,
                         'fraction_of_inference': t_fast / infer_s})
    return {'mode': 'preprocess', 'inference_m1_0_ms': infer_s * 1e3, 'rows': rows}


def _throughput(backend: Backend, frames: List[np.ndarray], workers: int, n: int) -> float:
    def run(i):
        backend.infer(frames[i % len(frames)])
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(min(n, 2 * workers))))  # warm up
        t = time.perf_counter()
        list(pool.map(run, range(n)))
        return n / (time.perf_counter() - t)


def bench_backend(names=('m0_9', 'm1_0', 'm1_1'), workers=(1, 2, 4, 8), repeats: int = 30,
                  kind: str = 'onnxruntime') -> Dict:
    frames = [to_nv12(sample_picture(640, 480, s), 'rgb8') for s in range(4)]
    rows = []
    for name in names:
        path = model_file(name)
        backend = create_backend(kind, path)
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
               'fps': {str(w): _throughput(backend, frames, w, max(repeats, 4 * w))
                       for w in workers},
               'x5_reference': {'latency_1t_ms': ref.latency_1t_ms,
                                'latency_4t_ms': ref.latency_4t_ms, 'fps': ref.fps,
                                'float_top1': ref.float_top1, 'int8_top1': ref.int8_top1}}
        rows.append(row)
        backend.close()
    return {'mode': 'backend', 'cpu_count': os.cpu_count(), 'rows': rows}


# ------------------------------------------------------------------ node over DDS
def _receiver_run(topic: str, publisher_cmd: List[str], node_cmd: List[str], duration: float,
                  env) -> Dict:
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from vision_msgs.msg import Classification
    rclpy.init()
    peer = rclpy.create_node('repvit_benchmark')
    lat, times = [], []

    def on_result(msg):
        now = time.time_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        lat.append((now - stamp) / 1e9)
        times.append(time.monotonic())

    peer.create_subscription(Classification, topic, on_result,
                             QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    node = subprocess.Popen(node_cmd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    time.sleep(3.0)  # model load
    pub = subprocess.Popen(publisher_cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + duration + 15
    try:
        while pub.poll() is None and time.monotonic() < end:
            rclpy.spin_once(peer, timeout_sec=0.05)
        drain = time.monotonic() + 2
        while time.monotonic() < drain:
            rclpy.spin_once(peer, timeout_sec=0.05)
    finally:
        for proc in (pub, node):
            if proc.poll() is None:
                proc.send_signal(subprocess.signal.SIGINT)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        pub_out = pub.stdout.read()
        peer.destroy_node()
        rclpy.try_shutdown()
    sent = next((int(w) for ln in pub_out.splitlines() if ln.startswith('published')
                 for w in ln.split()[1:2]), 0)
    steady = lat[len(lat) // 10:] or lat
    span = (times[-1] - times[len(times) // 10]) if len(times) > 10 else 0
    return {'sent': sent, 'received': len(lat),
            'throughput_fps': ((len(times) - len(times) // 10 - 1) / span) if span else 0.0,
            'latency_median_ms': float(np.median(steady) * 1e3) if steady else float('nan'),
            'latency_p99_ms': float(np.percentile(steady, 99) * 1e3) if steady else float('nan')}


def bench_node(encoding='bgr8', width=640, height=480, threads=1, rate=0.0, duration=10.0,
               model='m1_0', fixed=False) -> Dict:
    path = model_file(model)
    ns = f'/bench_{os.getpid()}'
    env = os.environ.copy()
    msg_type = 'compressed' if encoding in ('jpeg', 'png') else 'image'
    if fixed:
        node_cmd = [sys.executable, '-m', 'repvit_ros.benchmark', '_serve_fixed']
    else:
        node_cmd = [sys.executable, '-m', 'repvit_ros.node']
    node_cmd += ['--ros-args', '-r', f'__ns:={ns}', '-r', f'image:={ns}/image', '-p',
                 f'model_path:={path}', '-p', 'backend:=onnxruntime', '-p',
                 f'threads:={threads}', '-p', f'input_type:={msg_type}', '-p',
                 'qos_reliability:=reliable', '-p', 'queue_size:=2']
    count = int(duration * (rate if rate > 0 else 400))
    pub_cmd = [sys.executable, '-m', 'repvit_ros.frame_source', '--topic', f'{ns}/image',
               '--type', msg_type, '--encoding', encoding, '--width', str(width), '--height',
               str(height), '--rate', str(rate), '--count', str(count), '--reliability',
               'reliable']
    result = _receiver_run(f'{ns}/classification', pub_cmd, node_cmd, duration, env)
    result.update({'encoding': encoding, 'resolution': f'{width}x{height}', 'threads': threads,
                   'rate': rate, 'fixed_backend': fixed})
    if not fixed:
        backend = create_backend('onnxruntime', path)
        frames = [to_nv12(sample_picture(width, height, s), 'rgb8') for s in range(4)]
        raw = _throughput(backend, frames, threads, 60)
        one = _median_time(lambda: backend.infer(frames[0]), 20)
        pre = _median_time(lambda: to_nv12(sample_picture(width, height), 'rgb8'), 10)
        result.update({'raw_backend_fps': raw, 'node_to_raw': result['throughput_fps'] / raw,
                       'inference_ms': one * 1e3, 'preprocess_ms': pre * 1e3})
    return result


class FixedBackend(Backend):
    """Do-nothing backend (fixed logits at once) that measures the node's own ceiling."""

    name = 'fixed'
    parallel = True

    def __init__(self):
        self._logits = np.linspace(-3, 3, 1000, dtype=np.float32)
        self.path = 'fixed'

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        self._check_input(nv12)
        return self._logits


def _serve_fixed(argv) -> int:
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from repvit_ros.node import RepVitClassifier
    rclpy.init(args=argv)
    node = RepVitClassifier(backend=FixedBackend())
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


# ------------------------------------------------------------------ output
def to_markdown(result: Dict) -> str:
    mode = result['mode']
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
    else:
        for r in result['rows']:
            lines.append(json.dumps(r))
    return '\n'.join(lines)


def plot(result: Dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for r in result['rows']:
        ws = [int(w) for w in r['fps']]
        ax[0].plot(ws, list(r['fps'].values()), marker='o', label=r['model'])
        ax[1].bar(r['model'], r['latency_median_ms'])
    ax[0].set_xlabel('workers')
    ax[0].set_ylabel('frames/s')
    ax[0].legend()
    ax[1].set_ylabel('1-worker latency, ms (median)')
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['_serve_fixed']:
        return _serve_fixed(argv[1:])
    parser = argparse.ArgumentParser(prog='benchmark', description=__doc__.split('\n\n')[1])
    parser.add_argument('mode', choices=('preprocess', 'backend', 'node', 'overhead', 'all'))
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--models', default='m0_9,m1_0,m1_1')
    parser.add_argument('--workers', default='1,2,4,8')
    parser.add_argument('--encoding', default='bgr8')
    parser.add_argument('--resolution', default='640x480')
    parser.add_argument('--threads', default='1,2')
    parser.add_argument('--rate', type=float, default=0.0, help='node mode: Hz, 0 = max')
    parser.add_argument('--duration', type=float, default=10.0)
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--plot', default='')
    args = parser.parse_args(argv)
    results = []
    if args.mode in ('preprocess', 'all'):
        results.append(bench_preprocess(args.repeats))
    if args.mode in ('backend', 'all'):
        res = bench_backend(args.models.split(','), [int(w) for w in args.workers.split(',')],
                            args.repeats)
        results.append(res)
        if args.plot:
            plot(res, args.plot)
    if args.mode in ('node', 'overhead'):
        w, h = (int(v) for v in args.resolution.split('x'))
        rows = [bench_node(args.encoding, w, h, int(t), args.rate, args.duration,
                           fixed=args.mode == 'overhead') for t in args.threads.split(',')]
        results.append({'mode': args.mode, 'rows': rows})
    for res in results:
        print(json.dumps(res, indent=2) if args.json else to_markdown(res))
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
