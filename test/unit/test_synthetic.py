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

"""The synthetic RepViT: exact parameter counts, deterministic, and its command."""

import os
import subprocess
import sys

import onnx
import pytest
from repvit_ros import models
from repvit_ros.model_tools import synthetic
from repvit_ros.model_tools.synthetic import build_model, is_synthetic, parameter_count


@pytest.mark.parametrize('name', ['m0_9', 'm1_0', 'm1_1'])
def test_synthetic_parameter_counts_are_exact(name):
    model = build_model(name)
    assert parameter_count(model) == models.get_model(name).params
    assert is_synthetic(model)
    assert model.graph.input[0].name == 'data'
    assert build_model(name).SerializeToString() == model.SerializeToString()  # deterministic


def test_make_synthetic_model_command(tmp_path):
    out = tmp_path / 'x.onnx'
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.model_tools.synthetic', '--model',
                           'm0_9', '--output', str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '5,067,056 parameters' in proc.stdout and 'meaningless' in proc.stdout
    assert parameter_count(onnx.load(str(out))) == 5_067_056


@pytest.mark.parametrize('case', ['missing_folder', 'folder', 'under_file'])
def test_output_path_problems_are_one_line_before_building(tmp_path, capsys, case, monkeypatch):
    # The graph is not even built: a path problem is found first.
    monkeypatch.setattr(synthetic, 'build_model', lambda *a: pytest.fail('built'))
    (tmp_path / 'file.txt').write_text('a file')
    output, message = {
        # a traceback before; the folder is not created, as no model tool creates one
        'missing_folder': (tmp_path / 'models' / 'x.onnx',
                           f'--output folder {tmp_path}/models does not exist'),
        'folder': (tmp_path, f'--output {tmp_path} is a folder; give the .onnx file to write'),
        'under_file': (tmp_path / 'file.txt' / 'x.onnx', 'file.txt is a file, not a folder'),
    }[case]
    assert synthetic.main(['--output', str(output)]) == 1
    out, err = capsys.readouterr()
    assert out == '' and err.startswith('make_synthetic_model: error: ') and message in err
    assert err.count('\n') == 1, err
    assert sorted(os.listdir(tmp_path)) == ['file.txt']


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def half(model, path):
        with open(path, 'wb') as f:
            f.write(b'half a model')
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(synthetic.onnx, 'save', half)
    with pytest.raises(OSError):
        synthetic.write_model('m0_9', str(tmp_path / 'x.onnx'))
    assert os.listdir(tmp_path) == []
