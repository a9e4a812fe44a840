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

"""Model registry, path resolution, downloads with sha256 pinning, synthetic models."""

import os
import socket
import subprocess
import sys

import onnx
import pytest
from repvit_ros import models
from repvit_ros.models import ModelError
from repvit_ros.synthetic import build_model, is_synthetic, parameter_count


def test_registry_has_the_zoo_figures():
    assert list(models.MODELS) == ['m0_9', 'm1_0', 'm1_1']
    m = models.get_model('m1_0')
    assert (m.params, m.float_top1, m.int8_top1, m.latency_1t_ms, m.fps) == \
        (6_810_312, 76.75, 76.50, 1.97, 692.29)
    assert m.bin_file == 'RepViT_m1_0_224x224_nv12.bin'
    assert m.onnx_file == 'repvit_m1_0_deploy.onnx'
    assert m.url('bin').endswith('/rdk_x5/RepViT_m1_0_224x224_nv12.bin')
    assert m.url('onnx').endswith('/rdk_x5/repvit_m1_0_deploy.onnx')
    assert models.get_model('m0_9').params == 5_067_056
    with pytest.raises(ModelError, match='unknown model'):
        models.get_model('m3')


@pytest.mark.parametrize('name', ['m0_9', 'm1_0', 'm1_1'])
def test_synthetic_parameter_counts_are_exact(name):
    model = build_model(name)
    assert parameter_count(model) == models.get_model(name).params
    assert is_synthetic(model)
    assert model.graph.input[0].name == 'data'
    assert build_model(name).SerializeToString() == model.SerializeToString()  # deterministic


def test_make_synthetic_model_command(tmp_path):
    out = tmp_path / 'x.onnx'
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.synthetic', '--model', 'm0_9',
                           '--output', str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '5,067,056 parameters' in proc.stdout and 'meaningless' in proc.stdout
    assert parameter_count(onnx.load(str(out))) == 5_067_056


def test_models_dir_and_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv('REPVIT_MODELS_DIR', str(tmp_path))
    assert models.models_dir() == str(tmp_path)
    monkeypatch.delenv('REPVIT_MODELS_DIR')
    monkeypatch.setenv('ROS_HOME', '/tmp/roshome')
    assert models.models_dir() == '/tmp/roshome/repvit_ros/models'
    with pytest.raises(ModelError, match='download_models m1_0'):
        models.resolve_model_path('m1_0', directory=str(tmp_path))
    onnx_path = tmp_path / 'repvit_m1_0_deploy.onnx'
    onnx_path.write_bytes(b'x')
    assert models.resolve_model_path('m1_0', directory=str(tmp_path)) == str(onnx_path)
    bin_path = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    bin_path.write_bytes(b'x')
    assert models.resolve_model_path('m1_0', directory=str(tmp_path)) == str(bin_path)
    assert models.resolve_model_path('m1_0', formats=('onnx',),
                                     directory=str(tmp_path)) == str(onnx_path)
    explicit = tmp_path / 'mine.onnx'
    explicit.write_bytes(b'y')
    assert models.resolve_model_path('m1_0', str(explicit), directory=str(tmp_path)) == \
        str(explicit)
    with pytest.raises(ModelError, match='does not exist'):
        models.resolve_model_path('m1_0', str(tmp_path / 'nope.onnx'))
    assert models.candidate_paths('m0_9', 'bin', str(tmp_path))[1] == \
        '/opt/hobot/model/x5/basic/RepViT_m0_9_224x224_nv12.bin'


def _closed_port_url():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return f'http://127.0.0.1:{port}/repvit_m1_0_deploy.onnx'


def test_download_without_network_fails_cleanly(tmp_path):
    with pytest.raises(ModelError, match='cannot download'):
        models.download('m1_0', 'onnx', str(tmp_path), url=_closed_port_url(), timeout=5,
                        progress=False)
    assert os.listdir(tmp_path) == []  # nothing half-written


def test_download_command_without_network(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.models', 'm1_0', '--format',
                           'onnx', '--dir', str(tmp_path), '--url', _closed_port_url(),
                           '--timeout', '5'], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert 'download_models: error: cannot download' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert os.listdir(tmp_path) == []


def test_download_verifies_and_pins(tmp_path, synthetic_model):
    src = synthetic_model('m1_0')
    dest = tmp_path / 'models'
    path = models.download('m1_0', 'onnx', str(dest), url='file://' + src, progress=False)
    assert path == str(dest / 'repvit_m1_0_deploy.onnx')
    pins = models.read_pins(str(dest))
    assert pins == {'repvit_m1_0_deploy.onnx': models.sha256_of(src)}
    assert models.check_pin(path) == pins['repvit_m1_0_deploy.onnx']
    # Same content again: accepted. Changed content at the source: refused, file kept.
    models.download('m1_0', 'onnx', str(dest), url='file://' + src, progress=False)
    # A valid m1_0 (it passes verification) with other weights: only the pin refuses it.
    changed = tmp_path / 'changed.onnx'
    onnx.save(build_model('m1_0', seed=12345), str(changed))
    assert models.verify_file(str(changed), models.get_model('m1_0'), 'onnx')
    with pytest.raises(ModelError, match='refusing the changed file'):
        models.download('m1_0', 'onnx', str(dest), url='file://' + str(changed),
                        progress=False)
    assert models.sha256_of(path) == pins['repvit_m1_0_deploy.onnx']
    assert sorted(os.listdir(dest)) == ['repvit_m1_0_deploy.onnx', 'sha256.json']
    # A pinned file that changes on disk is refused at load time.
    with open(path, 'ab') as f:
        f.write(b'tampered')
    with pytest.raises(ModelError, match='changed since it was verified'):
        models.resolve_model_path('m1_0', directory=str(dest))


def test_download_command_shows_progress_and_pins(tmp_path, synthetic_model):
    src = synthetic_model('m0_9')
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.models', 'm0_9', '--format',
                           'onnx', '--dir', str(tmp_path), '--url', 'file://' + src],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    size_mb = os.path.getsize(src) / 1e6
    assert f'{size_mb:.1f} MB (100.0 %)' in proc.stderr, proc.stderr  # progress
    assert 'verified' in proc.stdout and models.sha256_of(src) in proc.stdout
    assert models.read_pins(str(tmp_path)) == {'repvit_m0_9_deploy.onnx': models.sha256_of(src)}


def test_download_refuses_a_file_that_is_not_the_model(tmp_path):
    page = tmp_path / 'page.html'
    page.write_text('<!DOCTYPE html><html>' + 'x' * 4000)
    with pytest.raises(ModelError, match='HTML'):
        models.download('m1_0', 'onnx', str(tmp_path / 'd'), url='file://' + str(page),
                        progress=False)
    junk = tmp_path / 'junk.onnx'
    junk.write_bytes(b'\x07' * 5000)
    with pytest.raises(ModelError, match='not a valid ONNX'):
        models.download('m1_0', 'onnx', str(tmp_path / 'd'), url='file://' + str(junk),
                        progress=False)
    assert os.listdir(tmp_path / 'd') == []
