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
The ROS-free Classifier on a known-answer model: any class count, labels, every input kind.

:func:`write_colour_model` is the known-answer model the evaluation and quantization tests use
too: its logits are a linear function of the mean of each normalised colour plane, equal (up
to a per-image constant) to minus the squared distance to a prototype colour per class, so a
flat image of a prototype colour is classified as that class and the ranking of every other
class is known in advance.
"""

import os
import subprocess
import sys

import cv2
import numpy as np
import onnx
from onnx import helper, TensorProto
from onnx_models import feature_map_model
import pytest
from repvit_ros.backends import BackendError
from repvit_ros.classifier import Classifier, list_images, Prediction, read_image
from repvit_ros.labels import LabelError
from repvit_ros.models import COMPILE, ModelError
from repvit_ros.preprocess import FrameError, to_nv12

MEAN = np.array(COMPILE.mean)
SCALE = np.array(COMPILE.scale)


def colours(n, margin=10.0):
    """
    ``n`` prototype RGB colours, seeded, with robust top-1 and top-5 answers.

    Every pair is more than 60 RGB units apart, and seen from each prototype the 5th and 6th
    nearest prototypes (itself first) differ in distance by more than ``margin``, so NV12 and
    JPEG rounding (a few units) cannot move a class in or out of a top-5.

    :param n: number of classes.
    :param margin: smallest gap at the top-5 boundary.
    :return: n x 3 int array.
    """
    for seed in range(1000):
        p = np.random.default_rng(seed).integers(0, 256, (n, 3))
        d = np.sort(np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)), axis=1)
        if d[:, 1].min() > 60 and (n < 6 or (d[:, 5] - d[:, 4]).min() > margin):
            return p
    raise AssertionError(f'no robust set of {n} colours')


def expected_ranking(rgb, prototypes):
    """Classes by the known-answer model's logits for a flat RGB colour, best first."""
    x = (np.asarray(rgb, np.float64) - MEAN) * SCALE
    p = (np.asarray(prototypes, np.float64) - MEAN) * SCALE
    return [int(i) for i in np.argsort(((p - x) ** 2).sum(axis=1), kind='stable')]


def write_colour_model(path, prototypes, input_shape=(1, 3, 224, 224), output_shape=None,
                       input_name='data'):
    """
    Write the known-answer ONNX: logits_c = 2 p_c . m - |p_c|^2 with m the plane means.

    :param path: where to write it.
    :param prototypes: N x 3 RGB prototype colours (un-normalised), one per class.
    :param input_shape: the declared input shape.
    :param output_shape: the declared output shape (default [1, N]).
    :param input_name: the input's name.
    :return: the path.
    """
    p = (np.asarray(prototypes, np.float64) - MEAN) * SCALE
    n = len(p)
    w = (2 * p.T).astype(np.float32)            # 3 x N
    b = (-(p ** 2).sum(axis=1)).astype(np.float32)
    nodes = [helper.make_node('ReduceMean', [input_name], ['m'], axes=[2, 3], keepdims=0),
             helper.make_node('MatMul', ['m', 'w'], ['wm']),
             helper.make_node('Add', ['wm', 'b'], ['logits'])]
    graph = helper.make_graph(
        nodes, 'colour_prototypes',
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT,
                                       list(output_shape or [1, n]))],
        [onnx.numpy_helper.from_array(w, 'w'), onnx.numpy_helper.from_array(b, 'b')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def flat_image(rgb, size=(64, 64), fmt='png'):
    """Encode a flat colour image (given RGB) as PNG or JPEG bytes."""
    bgr = np.empty(size + (3,), np.uint8)
    bgr[:] = tuple(reversed(rgb))
    ok, buf = cv2.imencode('.' + fmt, bgr)
    assert ok
    return buf.tobytes()


@pytest.fixture
def model12(tmp_path):
    return write_colour_model(tmp_path / 'colours12.onnx', colours(12))


def _labels_file(tmp_path, names, name='labels.txt'):
    path = tmp_path / name
    path.write_text('\n'.join(names) + '\n', encoding='utf-8')
    return str(path)


NAMES12 = ['apple', 'banana', 'cherry', 'date', 'elderberry', 'fig', 'grape', 'honeydew',
           'kiwi', 'lemon', 'mango', 'nectarine']


# ------------------------------------------------------------------ class counts and labels
def test_any_class_count_with_its_labels(tmp_path, model12):
    clf = Classifier(model_path=model12, labels_path=_labels_file(tmp_path, NAMES12))
    assert clf.num_classes == 12 and clf.labels == NAMES12 and clf.warnings == []
    assert clf.index_ids == [str(i) for i in range(12)]
    assert clf.class_ids('index') == clf.index_ids and clf.class_ids('label') == NAMES12
    for c, rgb in enumerate(colours(12)):
        rgb = tuple(int(v) for v in rgb)
        top = clf.classify(np.full((64, 64, 3), rgb, np.uint8), encoding='rgb8', k=5)
        assert {p.index for p in top} == set(expected_ranking(rgb, colours(12))[:5])
        assert top[0] == Prediction(c, NAMES12[c], top[0].probability)
        assert top[0].probability > top[1].probability
    clf.close()


def test_without_labels_a_custom_count_gets_class_names_and_a_warning(model12):
    clf = Classifier(model_path=model12)
    assert clf.labels == [f'class_{i}' for i in range(12)]
    assert len(clf.warnings) == 1
    warning = clf.warnings[0]
    assert '12 classes' in warning and 'class_0..class_11' in warning and 'labels_path' in warning


def test_labels_count_must_match_the_model(tmp_path, model12):
    with pytest.raises(LabelError) as err:
        Classifier(model_path=model12, labels_path=_labels_file(tmp_path, NAMES12[:11]))
    assert '11 names' in str(err.value) and '12 classes' in str(err.value)


def test_a_1000_class_model_path_gets_imagenet_names(tmp_path):
    rng = np.random.default_rng(1)
    path = write_colour_model(tmp_path / 'c1000.onnx', rng.integers(0, 256, (1000, 3)))
    clf = Classifier(model_path=path)
    assert clf.num_classes == 1000 and clf.labels[0] == 'tench' and clf.warnings == []


def test_registry_models_keep_their_1000_class_check(tmp_path, monkeypatch, model12):
    # A registry-resolved file (no model_path) with 12 classes is refused...
    monkeypatch.setenv('REPVIT_MODELS_DIR', str(tmp_path))
    os.replace(model12, tmp_path / 'repvit_m1_0_deploy.onnx')
    with pytest.raises(BackendError, match='1000 classes'):
        Classifier('m1_0', backend='onnxruntime')
    # ...while the same file given by model_path is accepted.
    clf = Classifier(model_path=str(tmp_path / 'repvit_m1_0_deploy.onnx'))
    assert clf.num_classes == 12
    with pytest.raises(ModelError, match='unknown model'):
        Classifier('m2_0', backend='onnxruntime')


def test_a_non_classifier_onnx_is_refused(tmp_path):
    # A feature map, not logits: [1,3,224,224] -> [1,3,7,7].
    feature_map_model(tmp_path / 'map.onnx')
    with pytest.raises(BackendError, match='not a vector of class logits'):
        Classifier(model_path=str(tmp_path / 'map.onnx'))


class _LateShapeBackend:
    """A backend that, like the BPU runtimes, knows its output size only after a run."""

    name = 'late'
    input_size = (224, 224)
    num_classes = 0
    path = 'late.bin'
    metadata = {}
    synthetic = False

    def __init__(self, n):
        self.n = n
        self.runs = 0

    def infer(self, nv12):
        self.runs += 1
        return np.arange(self.n, dtype=np.float32)

    def probe_classes(self):
        from repvit_ros.backends.base import Backend
        return Backend.probe_classes(self)


def test_a_backend_without_a_declared_output_is_probed():
    backend = _LateShapeBackend(7)
    clf = Classifier(loaded=backend)
    assert clf.num_classes == 7 and backend.num_classes == 7 and backend.runs == 1
    assert clf.classify(np.zeros((10, 10, 3), np.uint8), k=1)[0].name == 'class_6'


class _TwoRowsBackend(_LateShapeBackend):
    """Declares 5 classes but answers two rows per frame (a batch of 2 baked in)."""

    def infer(self, nv12):
        return np.zeros(2 * self.n, np.float32)


class _NanBackend(_LateShapeBackend):

    def infer(self, nv12):
        return np.full(self.n, np.nan, np.float32)


def test_check_refuses_a_model_that_cannot_classify_one_frame():
    Classifier(loaded=_LateShapeBackend(5)).check()  # a good one passes (and warms up)
    two_rows = _TwoRowsBackend(5)
    two_rows.num_classes = 5
    with pytest.raises(BackendError, match='outputs 10 values for one frame, not one per class'):
        Classifier(loaded=two_rows).check()
    nan = _NanBackend(5)
    nan.num_classes = 5
    with pytest.raises(BackendError, match='cannot classify a frame: .*NaN'):
        Classifier(loaded=nan).check()


# ------------------------------------------------------------------ inputs
def test_every_input_kind_gives_the_same_answer(tmp_path, model12):
    clf = Classifier(model_path=model12, labels_path=_labels_file(tmp_path, NAMES12))
    protos = [tuple(int(v) for v in p) for p in colours(12)]
    c = 3
    rgb = protos[c]
    swapped = expected_ranking(tuple(reversed(rgb)), protos)[0]
    img_rgb = np.full((80, 80, 3), rgb, np.uint8)  # square: no letterbox padding
    png = flat_image(rgb, fmt='png')
    (tmp_path / 'x.png').write_bytes(png)
    (tmp_path / 'x.jpg').write_bytes(flat_image(rgb, fmt='jpg'))
    cv2.imwrite(str(tmp_path / 'x.bmp'), img_rgb[:, :, ::-1])
    answers = {
        'bgr array (default)': clf.classify(np.ascontiguousarray(img_rgb[:, :, ::-1])),
        'rgb array': clf.classify(img_rgb, encoding='rgb8'),
        'png path': clf.classify(str(tmp_path / 'x.png')),
        'jpeg path': clf.classify(tmp_path / 'x.jpg'),
        'bmp path': clf.classify(str(tmp_path / 'x.bmp')),
        'png bytes': clf.classify(png),
        'nv12': clf.classify(to_nv12(img_rgb, 'rgb8'), encoding='nv12'),
    }
    for kind, top in answers.items():
        assert top[0].index == c and top[0].name == NAMES12[c], kind
        assert len(top) == 5, kind
    # The same RGB array read as BGR is another colour, another class.
    assert clf.classify(img_rgb)[0].index == swapped != c
    with pytest.raises(FrameError, match='not a JPEG or PNG'):
        clf.classify(b'\x00' * 100)
    (tmp_path / 'broken.png').write_bytes(b'not an image')
    with pytest.raises(FrameError):
        clf.classify(str(tmp_path / 'broken.png'))
    with pytest.raises(FrameError, match='cannot read'):
        clf.classify(str(tmp_path / 'missing.png'))


def test_read_and_list_images(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'a' / 'one.PNG').write_bytes(flat_image((0, 0, 0)))
    (tmp_path / 'two.jpg').write_bytes(flat_image((0, 0, 0), fmt='jpg'))
    (tmp_path / 'notes.txt').write_text('x')
    (tmp_path / '.hidden.png').write_bytes(b'')
    expected = [str(tmp_path / 'a' / 'one.PNG'), str(tmp_path / 'two.jpg')]
    assert list_images(str(tmp_path)) == expected
    assert list_images(str(tmp_path), recursive=False) == [str(tmp_path / 'two.jpg')]
    assert read_image(str(tmp_path / 'two.jpg'))[1] == 'jpeg'
    assert read_image(str(tmp_path / 'a' / 'one.PNG'))[1] == 'png'


# ------------------------------------------------------------------ package import
def test_package_import_is_cheap_and_ros_free():
    code = ('import sys; sys.modules["rclpy"] = None\n'  # rclpy absent: importing it fails
            'import repvit_ros\n'
            'assert "cv2" not in sys.modules and "repvit_ros.classifier" not in sys.modules\n'
            'from repvit_ros import Classifier, Prediction\n'
            'assert Classifier.__module__ == "repvit_ros.classifier"\n'
            'print("ok")')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr


# ------------------------------------------------------------------ switching models
class _Closable:

    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def test_slot_swaps_between_frames_and_closes_the_old_model_when_its_frames_are_done():
    from repvit_ros.classifier import ClassifierSlot
    old, new = _Closable(), _Closable()
    slot = ClassifierSlot(old)
    with slot.use() as busy:
        assert busy is old
        assert slot.swap(new) is old
        assert slot.current is new and not old.closed  # a frame still runs on it
        with slot.use() as later:
            assert later is new
    assert old.closed and not new.closed
    newer = _Closable()
    slot.swap(newer)
    assert new.closed  # nobody used it: closed at once
    slot.close()
    assert newer.closed
    with pytest.raises(RuntimeError, match='after close'):
        slot.current
