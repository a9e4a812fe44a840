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

"""Downloads: verified by loading, sha256-pinned, nothing half-written (download_models)."""

import os
import socket
import subprocess
import sys

import onnx
import pytest
from repvit_ros import models
from repvit_ros.model_tools import download
from repvit_ros.model_tools.synthetic import build_model
from repvit_ros.models import ModelError


def _closed_port_url():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return f'http://127.0.0.1:{port}/repvit_m1_0_deploy.onnx'


def test_download_without_network_fails_cleanly(tmp_path):
    with pytest.raises(ModelError, match='cannot download'):
        download.download('m1_0', 'onnx', str(tmp_path), url=_closed_port_url(), timeout=5,
                          progress=False)
    assert os.listdir(tmp_path) == []  # nothing half-written


def test_download_command_without_network(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.model_tools.download', 'm1_0',
                           '--format', 'onnx', '--dir', str(tmp_path), '--url',
                           _closed_port_url(), '--timeout', '5'], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert 'download_models: error: cannot download' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert os.listdir(tmp_path) == []


def test_download_verifies_and_pins(tmp_path, synthetic_model):
    src = synthetic_model('m1_0')
    dest = tmp_path / 'models'
    path = download.download('m1_0', 'onnx', str(dest), url='file://' + src, progress=False)
    assert path == str(dest / 'repvit_m1_0_deploy.onnx')
    pins = models.read_pins(str(dest))
    assert pins == {'repvit_m1_0_deploy.onnx': models.sha256_of(src)}
    assert models.check_pin(path) == pins['repvit_m1_0_deploy.onnx']
    # Same content again: accepted. Changed content at the source: refused, file kept.
    download.download('m1_0', 'onnx', str(dest), url='file://' + src, progress=False)
    # A valid m1_0 (it passes verification) with other weights: only the pin refuses it.
    changed = tmp_path / 'changed.onnx'
    onnx.save(build_model('m1_0', seed=12345), str(changed))
    assert download.verify_file(str(changed), models.get_model('m1_0'), 'onnx')
    with pytest.raises(ModelError, match='refusing the changed file'):
        download.download('m1_0', 'onnx', str(dest), url='file://' + str(changed),
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
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.model_tools.download', 'm0_9',
                           '--format', 'onnx', '--dir', str(tmp_path), '--url', 'file://' + src],
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
        download.download('m1_0', 'onnx', str(tmp_path / 'd'), url='file://' + str(page),
                          progress=False)
    junk = tmp_path / 'junk.onnx'
    junk.write_bytes(b'\x07' * 5000)
    with pytest.raises(ModelError, match='not a valid ONNX'):
        download.download('m1_0', 'onnx', str(tmp_path / 'd'), url='file://' + str(junk),
                          progress=False)
    assert os.listdir(tmp_path / 'd') == []


@pytest.mark.timeout(60)
def test_download_path_problems_are_one_line(tmp_path, synthetic_model, monkeypatch):
    src = 'file://' + synthetic_model('m0_9')
    (tmp_path / 'file.txt').write_text('a file')
    os.mkfifo(tmp_path / 'fifo.onnx')
    cases = [(str(tmp_path / 'file.txt' / 'models'), src, 'cannot create models directory'),
             (str(tmp_path / 'd'), 'file://' + str(tmp_path / 'fifo.onnx'),
              f'file {tmp_path}/fifo.onnx is a FIFO (named pipe), not a regular file')]
    if os.path.isdir('/sys/kernel'):  # exists, takes no new file even from root: a traceback
        cases.append(('/sys/kernel', src, 'cannot write in models directory /sys/kernel: '))
    for directory, url, message in cases:
        with pytest.raises(ModelError) as exc:
            download.download('m0_9', 'onnx', directory, url=url, progress=False)
        assert message in str(exc.value) and '\n' not in str(exc.value)
    # A source larger than any RepViT is refused, nothing kept.
    monkeypatch.setattr(download, 'MAX_MODEL_BYTES', 1000)
    with pytest.raises(ModelError, match='bytes or more, over the 1,000 a RepViT model file'):
        download.download('m0_9', 'onnx', str(tmp_path / 'd'), url=src, progress=False)
    assert os.listdir(tmp_path / 'd') == []
