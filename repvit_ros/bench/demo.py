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

Picks the m1_0 ONNX from the models directory when present, else builds the synthetic RepViT,
and says whether the model is a synthetic one (untrained weights, meaningless labels) as the
node does (``Classifier.synthetic``). It starts the classifier node on ONNX Runtime in its own
process, publishes scikit-image's bundled sample photographs as several encodings, prints each
Classification's top-5 with class names, then a summary, and exits 0. Each result is drawn as
the node draws it on ``annotated_image`` (:func:`repvit_ros.annotate.render` of the frame as
sent, at the node's default ``annotated_width``: a mono8 frame stays grey) and written as PNG;
with a synthetic model every picture carries a strip below it that says so, and its file name
ends in ``_synthetic``.

``python -m repvit_ros.bench.demo --regions-example FILE`` writes the picture of detector
regions in docs/detector-regions.md instead (made-up boxes and rankings, drawn by
:func:`repvit_ros.annotate.render_regions`) and exits.
"""

import os
import sys
import tempfile
from typing import Tuple

import cv2
import numpy as np
from repvit_ros import models
from repvit_ros.annotate import render, render_regions
from repvit_ros.bench import render_cost
from repvit_ros.bench.harness import classifier_params, model_file, node_under_test
from repvit_ros.classifier import Classifier
from repvit_ros.frames import input_type_of, wrap
from repvit_ros.labels import load_labels
from repvit_ros.layouts import encode, image_view, row_step
from repvit_ros.messages import make_message
from repvit_ros.model_tools.photos import load_rgb
from repvit_ros.parameters import Settings

# (skimage.data function, encoding to send it as)
DEMO_FRAMES = (('chelsea', 'bgr8'), ('coffee', 'jpeg'), ('astronaut', 'rgb8'),
               ('rocket', 'nv12'), ('chelsea', 'yuv422_yuy2'), ('coffee', 'mono8'))
#: The node's defaults, with which it draws its pictures (annotated_width, bit depth, range).
NODE_DEFAULTS = Settings()
SYNTHETIC_NOTE = 'SYNTHETIC RepViT, untrained weights: labels are meaningless'
#: The picture of detector regions in docs/detector-regions.md: a detector's boxes (x, y, w, h)
#: on the astronaut photo, each with a made-up ranking (no real weights exist where it was drawn).
REGIONS_EXAMPLE = (
    ((355, 0, 125, 290), ((812, 'space shuttle', 0.912), (908, 'wing', 0.031))),
    ((278, 342, 234, 170), ((518, 'crash helmet', 0.487), (560, 'football helmet', 0.214))),
    ((0, 0, 96, 512), ((557, 'flagpole', 0.635), (403, 'aircraft carrier', 0.022))),
)


def load_photos():
    """
    Load the demo's photographs (scikit-image's samples, see :mod:`repvit_ros.model_tools.photos`).

    :return: (name, encoding to send it as, HxWx3 RGB) per photo.
    """
    return [(name, enc, load_rgb(name)) for name, enc in DEMO_FRAMES]


def _classify(photos, msg_type: str, model_path: str, ns: str) -> Tuple[dict, dict]:
    """
    Send the photos of one input type to a classifier.

    :return: result and latency by index, and the message sent by index.
    """
    params = {**classifier_params(2, msg_type, 10, model_path), 'queue_size': 10}
    out, msgs = {}, {}
    with node_under_test('classifier', ns, params, msg_type, depth=20) as (_, feeder):
        sent = {}
        for i, (name, enc, rgb) in photos:
            msgs[i] = make_message(msg_type, rgb, enc, 0, frame_id=name)
            sent[feeder.send(msgs[i])] = i
        feeder.spin_until(lambda: all(s in feeder.messages for s in sent), 60.0)
        for stamp, i in sent.items():
            if stamp in feeder.messages:
                out[i] = feeder.messages[stamp]
    return out, msgs


def model_is_synthetic(model_path: str) -> bool:
    """
    Tell whether a model is a synthetic RepViT, reading its flag as the node does.

    :param model_path: the ONNX file.
    :return: ``Classifier.synthetic`` of the model.
    """
    clf = Classifier(model_path=model_path, backend='onnxruntime')
    try:
        return clf.synthetic
    finally:
        clf.close()


def mark_synthetic(picture: np.ndarray) -> np.ndarray:
    """
    Add a strip below a picture saying that its labels come from meaningless weights.

    The picture itself is kept as it is, pixel for pixel (the node's drawing above the strip).

    :param picture: HxWx3 BGR.
    :return: the picture with the strip, taller by the strip.
    """
    w = picture.shape[1]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = 1.0
    (text_w, text_h), _ = cv2.getTextSize(SYNTHETIC_NOTE, font, scale, 1)
    scale = min(1.0, (w - 8) / text_w) * 0.9
    (text_w, text_h), base = cv2.getTextSize(SYNTHETIC_NOTE, font, scale, 1)
    strip = np.zeros((text_h + base + 10, w, 3), np.uint8)
    strip[:] = (0, 0, 170)  # red: not a result to believe
    cv2.putText(strip, SYNTHETIC_NOTE, (4, 5 + text_h), font, scale, (255, 255, 255), 1,
                cv2.LINE_AA)
    return np.vstack([picture, strip])


def main() -> int:
    """
    Classify the demo photos through the real node and print the results.

    :return: 0 when every photo was classified.
    """
    try:
        model_path = models.resolve_model_path('m1_0', formats=('onnx',))
        where = f'the m1_0 ONNX in the models directory, {model_path}'
    except models.ModelError:
        model_path = model_file('m1_0')
        where = f'no m1_0 ONNX in the models directory ({models.models_dir()}), so the ' \
                f'synthetic one built in {model_path}'
    synthetic = model_is_synthetic(model_path)
    if synthetic:
        print(f'[demo] {where}: the SYNTHETIC RepViT m1_0 with untrained weights: the labels '
              'below are MEANINGLESS. Fetch the real one with `ros2 run repvit_ros '
              'download_models m1_0 --format onnx` on a connected machine.')
    else:
        print(f'[demo] using the real RepViT m1_0: {model_path}')
    labels = load_labels()
    photos = list(enumerate(load_photos()))
    ns = f'/repvit_demo_{os.getpid()}'
    results, sent = {}, {}
    for msg_type in ('image', 'compressed'):
        mine = [p for p in photos if input_type_of(p[1][1]) == msg_type]
        got, msgs = _classify(mine, msg_type, model_path, f'{ns}_{msg_type}')
        results.update(got)
        sent.update(msgs)
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
    folder = _write_pictures(photos, results, sent, labels, synthetic)
    lat = [1e3 * latency for _, latency in results.values()]
    print(f'\n[demo] summary: {len(photos)} frames sent, {len(results)} classified, '
          f'{len(photos) - len(results)} dropped, latency median '
          f'{np.median(lat) if lat else float("nan"):.0f} ms '
          f'(max {max(lat) if lat else float("nan"):.0f} ms)')
    print(f'[demo] annotated images ({len(results)} PNG files, as the node draws them on '
          f'annotated_image): {folder}')
    return code


def _write_pictures(photos, results, sent, labels, synthetic: bool) -> str:
    """Draw each classified frame as the node draws it and write it as PNG; return the folder."""
    folder = tempfile.mkdtemp(prefix='repvit_demo_')
    cfg = NODE_DEFAULTS
    for i, (name, enc, rgb) in photos:
        if i not in results:
            continue
        ranked = [(int(r.class_id), labels[int(r.class_id)], r.score)
                  for r in results[i][0].results]
        frame = wrap(sent[i], input_type_of(enc))  # the frame as the node received it
        picture = render(frame.image, frame.encoding, ranked, cfg.annotated_width,
                         cfg.bit_depth, cfg.max_input_pixels, cfg.yuv_range)
        if synthetic:
            picture = mark_synthetic(picture)
        suffix = '_synthetic' if synthetic else ''
        cv2.imwrite(os.path.join(folder, f'{i + 1}_{name}_{enc}{suffix}.png'), picture)
    return folder


def write_regions_example(path: str, width: int = 480) -> Tuple[int, int, int]:
    """
    Write the picture of docs/detector-regions.md: :data:`REGIONS_EXAMPLE` on the astronaut.

    Drawn by :func:`repvit_ros.annotate.render_regions` from the photo as a bgr8 frame, as the
    node draws its annotated_image in regions mode, then reduced to a palette of 64 colours
    (k-means, fixed seed) to keep the PNG small.

    :param path: the PNG file.
    :param width: the picture's width (annotated_width).
    :return: (width, height, file bytes).
    """
    rgb = load_rgb('astronaut')
    h, w = rgb.shape[:2]
    frame = image_view(h, w, row_step('bgr8', w), 'bgr8', encode(rgb, 'bgr8'))
    picture = render_regions(frame, 'bgr8', REGIONS_EXAMPLE, width=width)
    cv2.setRNGSeed(0)
    pixels = picture.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, indices, centres = cv2.kmeans(pixels, 64, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    palette = np.clip(np.round(centres), 0, 255)[:, ::-1]  # BGR centres, an RGB palette
    data = render_cost.palette_png(indices.reshape(picture.shape[:2]), palette)
    with open(path, 'wb') as f:
        f.write(data)
    return picture.shape[1], picture.shape[0], len(data)


if __name__ == '__main__':
    cv2.setNumThreads(1)
    if sys.argv[1:2] == ['--regions-example'] and len(sys.argv) == 3:
        print('%s: %dx%d, %d bytes' % (sys.argv[2], *write_regions_example(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
