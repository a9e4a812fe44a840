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

"""Backends: ONNX Runtime on the synthetic RepViT and an RGB ONNX, BPU backends on doubles."""

import platform
import sys
import threading
import types

import bpu_doubles
import numpy as np
import onnx
from onnx import helper, TensorProto
import onnxruntime as ort
import pytest
from repvit_ros.backends import BackendError, create_backend, resolve_kind
from repvit_ros.backends.onnxruntime_backend import MEAN, SCALE
from repvit_ros.preprocess import nv12_to_rgb, to_nv12
from test_preprocess import noisy_rgb, smooth_rgb


def _nv12(seed=0, smooth=True):
    img = smooth_rgb(480, 640, seed) if smooth else noisy_rgb(480, 640, seed)
    return to_nv12(img, 'rgb8')


# ------------------------------------------------------------------ ONNX Runtime
@pytest.mark.parametrize('name', ['m0_9', 'm1_0', 'm1_1'])
def test_onnx_backend_fidelity(synthetic_model, name):
    path = synthetic_model(name)
    backend = create_backend('auto', path)
    assert backend.name == 'onnxruntime' and backend.input_size == (224, 224)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for seed in range(2):
        nv12 = _nv12(seed, smooth=bool(seed))
        logits = backend.infer(nv12)
        assert logits.shape == (1000,) and logits.dtype == np.float32
        # By hand: the BPU's conversion, then mean/scale in float64, NCHW.
        rgb = nv12_to_rgb(nv12).astype(np.float64)
        mean = np.array([123.675, 116.28, 103.53])
        scale = np.array([0.01712475, 0.017507, 0.01742919])
        x = ((rgb - mean) * scale).transpose(2, 0, 1)[None].astype(np.float32)
        ref = session.run(None, {'data': x})[0].reshape(-1)
        assert np.allclose(logits, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    backend.close()
    with pytest.raises(BackendError, match='after close'):
        backend.infer(nv12)


def test_onnx_logits_differ_between_images(synthetic_model):
    backend = create_backend('onnxruntime', synthetic_model('m1_0'))
    a, b = backend.infer(_nv12(0)), backend.infer(_nv12(1, smooth=False))
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert np.abs(a - b).max() > 0.1
    assert np.array_equal(a, backend.infer(_nv12(0)))  # deterministic


def _tiny_model(path, input_shape, dtype=TensorProto.FLOAT, name='input', classes=1000):
    """Write a small classifier: global average pool over the input, then a Linear layer."""
    rng = np.random.default_rng(0)
    channels = 3
    w = rng.normal(0, 1, (classes, channels)).astype(np.float32)
    nodes = []
    x = name
    if dtype == TensorProto.UINT8:
        nodes.append(helper.make_node('Cast', [x], ['xf'], to=TensorProto.FLOAT))
        nodes.append(helper.make_node('Reshape', ['xf', 'shp'], ['x4']))
        x = 'x4'
    elif input_shape[-1] == 3:  # NHWC
        nodes.append(helper.make_node('Transpose', [x], ['xt'], perm=[0, 3, 1, 2]))
        x = 'xt'
    nodes += [helper.make_node('GlobalAveragePool', [x], ['p']),
              helper.make_node('Flatten', ['p'], ['f']),
              helper.make_node('Gemm', ['f', 'w'], ['logits'], transB=1)]
    inits = [onnx.numpy_helper.from_array(w, 'w')]
    if dtype == TensorProto.UINT8:
        inits.append(onnx.numpy_helper.from_array(np.array([1, 3, 112, 224], np.int64), 'shp'))
    graph = helper.make_graph(
        nodes, 'tiny', [helper.make_tensor_value_info(name, dtype, input_shape)],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, classes])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return w


@pytest.mark.parametrize('shape', [[1, 3, 224, 224], ['batch', 3, 224, 224], [1, 224, 224, 3]])
def test_onnx_backend_reads_input_name_and_layout(tmp_path, shape):
    path = tmp_path / 'rgb.onnx'
    w = _tiny_model(path, shape, name='pixels')
    backend = create_backend('onnxruntime', str(path))
    nv12 = _nv12(3)
    rgb = nv12_to_rgb(nv12).astype(np.float64)
    feats = ((rgb - MEAN) * SCALE).mean(axis=(0, 1))
    assert np.allclose(backend.infer(nv12), w @ feats, rtol=1e-4, atol=1e-4)


def test_onnx_backend_nv12_input_model(tmp_path):
    path = tmp_path / 'nv12.onnx'
    _tiny_model(path, [1, 336, 224], dtype=TensorProto.UINT8)
    backend = create_backend('onnxruntime', str(path))
    assert backend.input_size == (224, 224)
    assert backend.infer(_nv12(1)).shape == (1000,)


def test_onnx_backend_rejects_wrong_models(tmp_path):
    path = tmp_path / 'wrong.onnx'
    _tiny_model(path, [1, 3, 224, 224], classes=10)
    with pytest.raises(BackendError, match='1000 classes'):
        create_backend('onnxruntime', str(path))
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'this is not a model' * 100)
    with pytest.raises(BackendError, match='cannot load'):
        create_backend('onnxruntime', str(bad))
    gray = tmp_path / 'gray.onnx'
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, 8, 8]) for n in 'xy']
    graph = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g', io[:1], io[1:])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(gray))
    with pytest.raises(BackendError, match='unsupported input'):
        create_backend('onnxruntime', str(gray))


def test_onnx_backend_checks_input(synthetic_model):
    backend = create_backend('onnxruntime', synthetic_model('m0_9'))
    with pytest.raises(BackendError, match=r'\(336, 224\) uint8'):
        backend.infer(np.zeros((224, 224), np.uint8))


# ------------------------------------------------------------------ auto and errors
def test_auto_resolution(monkeypatch):
    monkeypatch.setitem(sys.modules, 'hbm_runtime', None)  # None makes the import fail
    assert resolve_kind('auto', 'x.onnx') == 'onnxruntime'
    assert resolve_kind('auto', '/opt/x/RepViT.bin') == 'pyeasy_dnn'
    monkeypatch.setitem(sys.modules, 'hbm_runtime', bpu_doubles.hbm_runtime_module)
    assert resolve_kind('auto', 'model.BIN') == 'hbm_runtime'
    assert resolve_kind('pyeasy_dnn', 'model.onnx') == 'pyeasy_dnn'
    with pytest.raises(BackendError, match='unknown backend'):
        resolve_kind('tensorrt', 'x.onnx')
    with pytest.raises(BackendError, match='cannot tell'):
        resolve_kind('auto', 'x.tflite')


@pytest.mark.parametrize('backend', ['auto', 'hbm_runtime', 'pyeasy_dnn'])
def test_a_bin_off_the_board_says_it_runs_on_the_board_only(tmp_path, monkeypatch, backend):
    model = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    model.write_bytes(b'\0' * 4096)
    for mod in ('hbm_runtime', 'hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, mod, None)
    monkeypatch.setattr(platform, 'machine', lambda: 'x86_64')
    with pytest.raises(BackendError) as off:
        create_backend(backend, str(model))
    text = str(off.value)
    assert 'a .bin runs on the RDK board only (this machine is x86_64)' in text, text
    assert 'download_models m1_0 --format onnx' in text and 'module' not in text, text
    # An ARM machine may be a board whose runtime is missing: both next steps.
    monkeypatch.setattr(platform, 'machine', lambda: 'aarch64')
    with pytest.raises(BackendError) as arm:
        create_backend(backend, str(model))
    assert 'install the hbm_runtime' in str(arm.value) and '--format onnx' in str(arm.value)
    with pytest.raises(BackendError, match='does not exist'):
        create_backend('onnxruntime', str(tmp_path / 'missing.onnx'))


def test_the_other_runtime_missing_on_the_board_says_what_to_install(tmp_path, monkeypatch):
    model = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    model.write_bytes(b'\0' * 4096)
    _install_pyeasy(monkeypatch)  # the board has hobot_dnn, not hbm_runtime
    monkeypatch.setitem(sys.modules, 'hbm_runtime', None)
    with pytest.raises(BackendError, match='backend hbm_runtime is not available .*install '
                                           'the hbm_runtime'):
        create_backend('hbm_runtime', str(model))


# ------------------------------------------------------------------ BPU backends on doubles
@pytest.fixture
def bin_file(tmp_path):
    path = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    path.write_bytes(b'\x01' * 4096)
    return str(path)


def test_hbm_runtime_backend_on_double(bin_file, monkeypatch):
    monkeypatch.setitem(sys.modules, 'hbm_runtime', bpu_doubles.hbm_runtime_module)
    backend = create_backend('auto', bin_file, priority=7)
    assert backend.name == 'hbm_runtime' and backend.input_size == (224, 224)
    rt = bpu_doubles.HB_HBMRuntime.instances[-1]
    assert rt.sched['priority'] == {bpu_doubles.MODEL_NAME: 7}
    assert rt.sched['bpu_cores'] == {bpu_doubles.MODEL_NAME: [0]}
    nv12 = _nv12(2)
    view = np.asfortranarray(nv12)  # not C-contiguous: the backend must fix that
    logits = backend.infer(view)
    # The zoo demo's NV12 shape (1, H*3/2, W, 1); the double refuses any other.
    assert rt.calls[-1] == (np.dtype(np.uint8), True, (1, 336, 224, 1))
    # Integer output dequantised with output_quants' scale.
    assert np.allclose(logits, bpu_doubles.expected_logits(nv12), atol=1 / 256)
    with pytest.raises(BackendError, match='expects'):
        backend.infer(nv12[:300])
    backend.close()
    with pytest.raises(BackendError, match='after close'):
        backend.infer(nv12)


def test_hbm_runtime_double_refuses_other_nv12_shapes(bin_file):
    # The real runtime raises ValueError on a mismatched input; the double pins the zoo's shape.
    rt = bpu_doubles.HB_HBMRuntime(bin_file)
    nv12 = _nv12(1)
    fed = nv12.reshape(1, 336, 224, 1)
    for wrong in (nv12, nv12.reshape(-1), nv12.reshape(1, 336, 224), fed[:, ::2],
                  np.asfortranarray(fed), fed.astype(np.int8)):
        with pytest.raises(ValueError):
            rt.run({bpu_doubles.MODEL_NAME: {'images': wrong}})
    out = rt.run({bpu_doubles.MODEL_NAME: {'images': nv12.reshape(1, 336, 224, 1)}})
    assert out[bpu_doubles.MODEL_NAME]['output'].shape == (1, 1000, 1, 1)


def test_hbm_runtime_load_failure(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'hbm_runtime', bpu_doubles.hbm_runtime_module)
    path = tmp_path / 'x.bin'
    path.write_bytes(b'1')
    path.unlink()
    with pytest.raises(BackendError, match='does not exist'):
        create_backend('hbm_runtime', str(path))


def _install_pyeasy(monkeypatch, package='hobot_dnn', forward_seconds=0.0, holds_gil=True):
    dnn = bpu_doubles.PyEasyDnn(forward_seconds, holds_gil)
    pkg = types.ModuleType(package)
    pkg.pyeasy_dnn = dnn
    monkeypatch.setitem(sys.modules, 'hbm_runtime', None)
    monkeypatch.setitem(sys.modules, package, pkg)
    monkeypatch.setitem(sys.modules, package + '.pyeasy_dnn', dnn)
    return dnn


@pytest.mark.parametrize('package', ['hobot_dnn', 'hobot_dnn_rdkx5'])
def test_pyeasy_dnn_backend_on_double(bin_file, monkeypatch, package):
    if package == 'hobot_dnn_rdkx5':
        monkeypatch.setitem(sys.modules, 'hobot_dnn', None)
        monkeypatch.setitem(sys.modules, 'hobot_dnn.pyeasy_dnn', None)
    dnn = _install_pyeasy(monkeypatch, package)
    backend = create_backend('auto', bin_file)
    assert backend.name == 'pyeasy_dnn' and backend.input_size == (224, 224)
    nv12 = _nv12(4)
    logits = backend.infer(nv12[::1])
    call = dnn.loaded[0].calls[-1]
    assert call[:3] == (np.dtype(np.uint8), True, (75264,))  # flat, as the RDK demos pass it
    assert dnn.loaded[0].scheduling == (None, None)  # forward(nv12) alone, as the demos call it
    assert np.allclose(logits, bpu_doubles.expected_logits(nv12), atol=1 / 256)


def test_pyeasy_dnn_double_refuses_other_nv12_shapes(bin_file, monkeypatch):
    dnn = _install_pyeasy(monkeypatch)
    model = dnn.load(bin_file)[0]
    nv12 = _nv12(5)
    for wrong in (nv12, nv12.reshape(1, 336, 224, 1), nv12.reshape(-1)[:-2],
                  nv12.reshape(-1).astype(np.float32)):
        with pytest.raises(SystemError):
            model.forward(wrong)
    assert model.forward(nv12.reshape(-1))[0].buffer.shape == (1, 1000, 1, 1)


def test_pyeasy_dnn_passes_scheduling_when_set(bin_file, monkeypatch):
    dnn = _install_pyeasy(monkeypatch)
    backend = create_backend('pyeasy_dnn', bin_file, priority=9)
    nv12 = _nv12(6)
    assert np.allclose(backend.infer(nv12), bpu_doubles.expected_logits(nv12), atol=1 / 256)
    assert dnn.loaded[0].scheduling == (0, 9)


def test_pyeasy_dnn_errors_become_backend_errors(bin_file, monkeypatch):
    _install_pyeasy(monkeypatch)
    backend = create_backend('pyeasy_dnn', bin_file, core_id=3)
    with pytest.raises(BackendError, match='inference failed'):
        backend.infer(_nv12(0))  # the double raises SystemError for core 3
    with pytest.raises(BackendError, match='does not exist'):
        create_backend('pyeasy_dnn', bin_file + '.missing')


def test_pyeasy_dnn_lock_keeps_outputs_apart(bin_file, monkeypatch):
    # The model has one output buffer; without the lock concurrent forwards mix results up.
    # The double lets go of the GIL here so that the race window is the whole run and a
    # missing lock shows every time (with the GIL held it is the few bytecodes before .buffer).
    _install_pyeasy(monkeypatch, forward_seconds=0.005, holds_gil=False)
    backend = create_backend('pyeasy_dnn', bin_file)
    frames = [_nv12(i) for i in range(4)]
    expected = [bpu_doubles.expected_logits(f) for f in frames]
    errors = []

    def work(i):
        for _ in range(5):
            if not np.allclose(backend.infer(frames[i]), expected[i], atol=1 / 256):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
