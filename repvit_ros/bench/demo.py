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
The demo (`make demo`): real photographs through the real node over DDS.

Picks the real m1_0 ONNX from the models directory when present, else builds the synthetic
RepViT (and says that its labels are meaningless), starts the classifier node on ONNX Runtime in
its own process, publishes scikit-image's bundled sample photographs as several encodings, prints
each Classification's top-5 with class names, then a summary, and exits 0.
"""

import os
import subprocess
import sys
import time

import cv2
import numpy as np

from repvit_ros import models
from repvit_ros.bench.frame_source import make_message, message_class
from repvit_ros.labels import load_labels

# (skimage.data function, encoding to send it as)
PHOTOS = (('chelsea', 'bgr8'), ('coffee', 'jpeg'), ('astronaut', 'rgb8'), ('rocket', 'nv12'),
          ('chelsea', 'yuv422_yuy2'), ('coffee', 'mono8'))


def load_photos():
    from skimage import data
    out = []
    for name, enc in PHOTOS:
        img = getattr(data, name)()
        if img.ndim == 2:
            img = np.dstack([img] * 3)
        h, w = img.shape[:2]
        out.append((name, enc, np.ascontiguousarray(img[:h // 2 * 2, :w // 2 * 2, :3])))
    return out


def main() -> int:
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from vision_msgs.msg import Classification

    try:
        model_path = models.resolve_model_path('m1_0', formats=('onnx',))
        print(f'[demo] using the real RepViT m1_0: {model_path}')
    except models.ModelError:
        from repvit_ros.bench.benchmark import model_file
        model_path = model_file('m1_0')
        print('[demo] no real m1_0 ONNX in the models directory '
              f'({models.models_dir()}); using the SYNTHETIC RepViT m1_0 with untrained '
              'weights: the labels below are MEANINGLESS. Fetch the real one with '
              '`python -m repvit_ros.models m1_0 --format onnx` on a connected machine.')
    labels = load_labels()
    ns = f'/repvit_demo_{os.getpid()}'
    node = subprocess.Popen(
        [sys.executable, '-m', 'repvit_ros.node', '--ros-args', '-r', f'__ns:={ns}', '-r',
         f'image:={ns}/image', '-p', f'model_path:={model_path}', '-p', 'backend:=onnxruntime',
         '-p', 'qos_reliability:=reliable', '-p', 'input_type:=image', '-p', 'threads:=2',
         '-p', 'queue_size:=10'])
    node_c = subprocess.Popen(
        [sys.executable, '-m', 'repvit_ros.node', '--ros-args', '-r', f'__ns:={ns}c', '-r',
         f'image:={ns}c/image', '-r', '__node:=repvit_classifier_jpeg', '-p',
         f'model_path:={model_path}', '-p', 'backend:=onnxruntime', '-p',
         'qos_reliability:=reliable', '-p', 'input_type:=compressed', '-p', 'queue_size:=10'])
    rclpy.init()
    peer = rclpy.create_node('repvit_demo')
    qos = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
    results = {}
    sent_at = {}
    for suffix in ('', 'c'):
        peer.create_subscription(Classification, f'{ns}{suffix}/classification',
                                 lambda m: results.setdefault(
                                     m.header.stamp.nanosec, (m, time.monotonic())), qos)
    pubs = {'image': peer.create_publisher(message_class('image'), f'{ns}/image', qos),
            'compressed': peer.create_publisher(message_class('compressed'), f'{ns}c/image',
                                                qos)}
    code = 0
    try:
        deadline = time.monotonic() + 60
        # Frames go out once both nodes subscribe and their result publishers are matched:
        # reliable volatile topics deliver only what is written after discovery.
        while time.monotonic() < deadline and not (
                all(p.get_subscription_count() for p in pubs.values()) and
                all(peer.count_publishers(f'{ns}{s}/classification') for s in ('', 'c'))):
            rclpy.spin_once(peer, timeout_sec=0.1)
        photos = load_photos()
        started = time.monotonic()
        for i, (name, enc, rgb) in enumerate(photos):
            kind = 'compressed' if enc == 'jpeg' else 'image'
            msg = make_message(kind, rgb, enc, stamp_ns=i + 1, frame_id=name)
            sent_at[i + 1] = time.monotonic()
            pubs[kind].publish(msg)
        while time.monotonic() < started + 60 and len(results) < len(photos):
            rclpy.spin_once(peer, timeout_sec=0.1)
        elapsed = time.monotonic() - started
        for i, (name, enc, rgb) in enumerate(photos):
            got = results.get(i + 1)
            h, w = rgb.shape[:2]
            if got is None:
                print(f'\n{name} ({w}x{h} {enc}): NO RESULT')
                code = 1
                continue
            msg, at = got
            print(f'\n{name} ({w}x{h} {enc}), {1e3 * (at - sent_at[i + 1]):.0f} ms:')
            for r in msg.results:
                print(f'  {r.score:6.3f}  {labels[int(r.class_id)]} ({r.class_id})')
        lat = [1e3 * (at - sent_at[k]) for k, (_, at) in results.items()]
        print(f'\n[demo] summary: {len(photos)} frames sent, {len(results)} classified, '
              f'{len(photos) - len(results)} dropped, {len(results) / elapsed:.1f} frames/s, '
              f'latency median {np.median(lat) if lat else float("nan"):.0f} ms '
              f'(max {max(lat) if lat else float("nan"):.0f} ms)')
    finally:
        for proc in (node, node_c):
            proc.send_signal(subprocess.signal.SIGINT)
        for proc in (node, node_c):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        peer.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    cv2.setNumThreads(1)
    sys.exit(main())
