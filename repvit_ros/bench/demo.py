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
import sys
import tempfile

import cv2
import numpy as np
from repvit_ros import models
from repvit_ros.annotate import annotate
from repvit_ros.bench.harness import classifier_params, model_file, node_under_test
from repvit_ros.frames import input_type_of
from repvit_ros.labels import load_labels
from repvit_ros.messages import make_message
from repvit_ros.model_tools.photos import load_rgb

# (skimage.data function, encoding to send it as)
DEMO_FRAMES = (('chelsea', 'bgr8'), ('coffee', 'jpeg'), ('astronaut', 'rgb8'),
               ('rocket', 'nv12'), ('chelsea', 'yuv422_yuy2'), ('coffee', 'mono8'))


def load_photos():
    """
    Load the demo's photographs (scikit-image's samples, see :mod:`repvit_ros.model_tools.photos`).

    :return: (name, encoding to send it as, HxWx3 RGB) per photo.
    """
    return [(name, enc, load_rgb(name)) for name, enc in DEMO_FRAMES]


def _classify(photos, msg_type: str, model_path: str, ns: str) -> dict:
    """Send the photos of one input type to a classifier; return result and latency by index."""
    params = {**classifier_params(2, msg_type, 10, model_path), 'queue_size': 10}
    out = {}
    with node_under_test('classifier', ns, params, msg_type, depth=20) as (_, feeder):
        sent = {}
        for i, (name, enc, rgb) in photos:
            sent[feeder.send(make_message(msg_type, rgb, enc, 0, frame_id=name))] = i
        feeder.spin_until(lambda: all(s in feeder.messages for s in sent), 60.0)
        for stamp, i in sent.items():
            if stamp in feeder.messages:
                out[i] = feeder.messages[stamp]
    return out


def main() -> int:
    """
    Classify the demo photos through the real node and print the results.

    :return: 0 when every photo was classified.
    """
    try:
        model_path = models.resolve_model_path('m1_0', formats=('onnx',))
        print(f'[demo] using the real RepViT m1_0: {model_path}')
    except models.ModelError:
        model_path = model_file('m1_0')
        print('[demo] no real m1_0 ONNX in the models directory '
              f'({models.models_dir()}); using the SYNTHETIC RepViT m1_0 with untrained '
              'weights: the labels below are MEANINGLESS. Fetch the real one with '
              '`ros2 run repvit_ros download_models m1_0 --format onnx` on a connected machine.')
    labels = load_labels()
    photos = list(enumerate(load_photos()))
    ns = f'/repvit_demo_{os.getpid()}'
    results = {}
    for msg_type in ('image', 'compressed'):
        mine = [p for p in photos if input_type_of(p[1][1]) == msg_type]
        results.update(_classify(mine, msg_type, model_path, f'{ns}_{msg_type}'))
    code = 0
    for i, (name, enc, rgb) in photos:
        h, w = rgb.shape[:2]
        if i not in results:
            print(f'\n{name} ({w}x{h} {enc}): NO RESULT')
            code = 1
            continue
        msg, latency = results[i]
        print(f'\n{name} ({w}x{h} {enc}), {1e3 * latency:.0f} ms:')
        for r in msg.results:
            print(f'  {r.score:6.3f}  {labels[int(r.class_id)]} ({r.class_id})')
    folder = _write_pictures(photos, results, labels)
    lat = [1e3 * latency for _, latency in results.values()]
    print(f'\n[demo] summary: {len(photos)} frames sent, {len(results)} classified, '
          f'{len(photos) - len(results)} dropped, latency median '
          f'{np.median(lat) if lat else float("nan"):.0f} ms '
          f'(max {max(lat) if lat else float("nan"):.0f} ms)')
    print(f'[demo] annotated images ({len(results)} PNG files, as the node draws them on '
          f'annotated_image): {folder}')
    return code


def _write_pictures(photos, results, labels) -> str:
    """Draw each classified photo with its top-5 and write it as PNG; return the folder."""
    folder = tempfile.mkdtemp(prefix='repvit_demo_')
    for i, (name, enc, rgb) in photos:
        if i in results:
            ranked = [(int(r.class_id), labels[int(r.class_id)], r.score)
                      for r in results[i][0].results]
            picture = annotate(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), ranked, width=480)
            cv2.imwrite(os.path.join(folder, f'{i + 1}_{name}_{enc}.png'), picture)
    return folder


if __name__ == '__main__':
    cv2.setNumThreads(1)
    sys.exit(main())
