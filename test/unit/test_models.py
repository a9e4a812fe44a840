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

"""Model registry, path resolution and sha256 pins."""

import pytest
from repvit_ros import models
from repvit_ros.models import ModelError


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
