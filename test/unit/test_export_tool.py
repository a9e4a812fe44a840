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
export_model where PyTorch is absent: path refusals and the missing-PyTorch message.

The export itself needs PyTorch and timm and is tested in test/export (make test-export).
Here PyTorch and timm are made unimportable whatever the venv holds, so these tests say the
same in every environment.
"""

import os
import sys

import numpy as np
import pytest
from repvit_ros.model_tools import export


@pytest.fixture
def no_torch(monkeypatch):
    """Make `import torch` and `import timm` fail, as on a machine without them."""
    monkeypatch.setitem(sys.modules, 'torch', None)
    monkeypatch.setitem(sys.modules, 'timm', None)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'my_repvit.pth'
    path.write_bytes(b'PK\x03\x04' + bytes(2000))
    return str(path)


def _run(capsys, *args):
    rc = export.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def _leftovers(folder):
    return [f for f in os.listdir(folder) if f.endswith('.part') or f.endswith('.onnx')]


def test_without_pytorch_one_line_names_what_to_install(no_torch, checkpoint, tmp_path, capsys):
    rc, out, err = _run(capsys, '--checkpoint', checkpoint, '--size', 'm1_0',
                        '--output', str(tmp_path / 'my_repvit.onnx'))
    assert rc == 1 and out == ''
    assert err == ('export_model: error: export_model needs PyTorch and timm (pip install torch '
                   'timm); the node and the other tools do not (cannot import timm)\n')
    assert not _leftovers(tmp_path)


def test_help_works_without_pytorch(no_torch, capsys):
    with pytest.raises(SystemExit) as exit_:
        export.main(['--help'])
    assert exit_.value.code == 0
    assert '--checkpoint' in capsys.readouterr().out


def _unwritable_folder(tmp_path):
    if os.geteuid() != 0:
        folder = tmp_path / 'read_only'
        folder.mkdir()
        folder.chmod(0o500)
        return str(folder)
    if not os.path.isdir('/sys'):
        pytest.skip('running as root without /sys: no folder here refuses writing')
    return '/sys'  # root may write anywhere but in sysfs


@pytest.mark.parametrize('case, expected', [
    ('missing checkpoint', 'checkpoint {tmp}/nothing.pth does not exist'),
    ('checkpoint is a folder', 'checkpoint {tmp} is a folder, not a checkpoint file'),
    ('empty checkpoint', 'checkpoint {tmp}/empty.pth is empty'),
    ('output is a folder', 'output {tmp}/out is a folder; give the .onnx file to write'),
    ('output folder missing', 'output folder {tmp}/missing does not exist'),
    ('output folder unwritable', 'cannot write in output folder {ro}: Permission denied'),
    ('image folder missing', 'image folder {tmp}/pictures does not exist'),
])
def test_path_problems_are_one_line_before_any_work(case, expected, no_torch, checkpoint,
                                                    tmp_path, capsys):
    # PyTorch is absent: a path problem is reported before the tool even imports it.
    tmp = str(tmp_path)
    (tmp_path / 'out').mkdir()
    (tmp_path / 'empty.pth').write_bytes(b'')
    ro = _unwritable_folder(tmp_path) if case == 'output folder unwritable' else ''
    args = {
        'missing checkpoint': ['--checkpoint', f'{tmp}/nothing.pth'],
        'checkpoint is a folder': ['--checkpoint', tmp],
        'empty checkpoint': ['--checkpoint', f'{tmp}/empty.pth'],
        'output is a folder': ['--output', f'{tmp}/out'],
        'output folder missing': ['--output', f'{tmp}/missing/my.onnx'],
        'output folder unwritable': ['--output', f'{ro}/my.onnx'],
        'image folder missing': ['--images', f'{tmp}/pictures'],
    }[case]
    defaults = {'--checkpoint': checkpoint, '--output': f'{tmp}/my.onnx'}
    for option, value in defaults.items():
        if option not in args:
            args += [option, value]
    rc, out, err = _run(capsys, '--size', 'm1_0', *args)
    assert rc == 1 and out == ''
    assert err == f'export_model: error: {expected.format(tmp=tmp, ro=ro)}\n'
    assert not _leftovers(tmp_path)


def test_an_image_folder_without_pictures_is_refused(no_torch, checkpoint, tmp_path, capsys):
    (tmp_path / 'pictures').mkdir()
    (tmp_path / 'pictures' / 'notes.txt').write_text('no image here')
    rc, _, err = _run(capsys, '--checkpoint', checkpoint, '--size', 'm1_0', '--output',
                      str(tmp_path / 'my.onnx'), '--images', str(tmp_path / 'pictures'))
    assert rc == 1
    assert err == (f'export_model: error: no readable images (.jpg, .png, ...) in '
                   f'{tmp_path / "pictures"}\n')


def test_generated_pictures_differ_in_size_and_content():
    pictures = export.generated_pictures(4)
    assert [p[2] for p in pictures] == ['rgb8'] * 4
    assert len({p[1].shape for p in pictures}) == 4
    assert all(p[1].dtype == np.uint8 and p[1].std() > 20 for p in pictures)


def test_cosine():
    a = np.array([1.0, 2.0, 3.0], np.float32)
    assert export.cosine(a, 2 * a) == pytest.approx(1.0)
    assert export.cosine(a, -a) == pytest.approx(-1.0)
    assert export.cosine(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(0.0)
