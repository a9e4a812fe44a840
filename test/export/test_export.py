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
export_model with real PyTorch and timm (make test-export, in .venv-export).

Checkpoints are timm RepViTs with random weights, BatchNorms included (their statistics set
from random batches, so that folding them is exercised and activations stay in range), saved as
users save theirs. The tool's own comparison is checked again here from outside: ONNX Runtime
on the written file against the PyTorch model the weights came from.
"""

import argparse
import os
import subprocess
import sys

import cv2
import documented
import numpy as np
import onnxruntime as ort
import pytest
from repvit_ros import models
from repvit_ros.classifier import Classifier
from repvit_ros.model_tools import export
from repvit_ros.model_tools.download import verify_file
from repvit_ros.model_tools.quantization import main as quantization_config
from repvit_ros.model_tools.quantization import prepare_main as prepare_calibration
import timm
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README_EXPORT = 'ros2 run repvit_ros export_model'

# The RepViT authors' architectures (THU-MIG/RepViT, model/repvit.py: the cfgs of repvit_m0_9,
# repvit_m1_0 and repvit_m1_1): stage widths, and how many rows the third stage has after its
# stride-2 row (squeeze-excite on alternate rows, none on the last). Every stage but the first
# starts with a stride-2 row without squeeze-excite; the other stages have three rows, SE on
# the first.
AUTHORS_WIDTHS = {'m0_9': (48, 96, 192, 384), 'm1_0': (56, 112, 224, 448),
                  'm1_1': (64, 128, 256, 512)}
AUTHORS_STAGE3_ROWS = {'m0_9': 15, 'm1_0': 15, 'm1_1': 13}


def _rows(size):
    """List (channels, squeeze-excite, stride) of each block, as in the authors' cfgs."""
    w = AUTHORS_WIDTHS[size]
    rows = [(w[0], 1, 1), (w[0], 0, 1), (w[0], 0, 1), (w[1], 0, 2), (w[1], 1, 1), (w[1], 0, 1),
            (w[1], 0, 1), (w[2], 0, 2)]
    rows += [(w[2], int(i % 2 == 0), 1) for i in range(AUTHORS_STAGE3_ROWS[size] - 1)]
    rows += [(w[2], 0, 1), (w[3], 0, 2), (w[3], 1, 1), (w[3], 0, 1)]
    return rows


def _bn(prefix, n):
    return [(f'{prefix}.{p}', [n]) for p in ('weight', 'bias', 'running_mean', 'running_var')] \
        + [(f'{prefix}.num_batches_tracked', [])]


def _conv_bn(prefix, cin, cout, k, groups=1):
    """List the tensors of the authors' Conv2d_BN: conv ``c`` without bias, BatchNorm ``bn``."""
    return [(f'{prefix}.c.weight', [cout, cin // groups, k, k])] + _bn(f'{prefix}.bn', cout)


def authors_layout(size, num_classes, distillation=True, legacy=False):
    """
    Name and shape of every tensor of the authors' RepViT, in their modules' order.

    From their model/repvit.py: ``features`` = [patch_embed (Conv2d_BN, GELU, Conv2d_BN), one
    RepViTBlock per cfg row]; a stride-1 block's token_mixer is [RepVGGDW(conv Conv2d_BN 3x3 dw,
    conv1 1x1 dw Conv2d with bias, bn BatchNorm), SqueezeExcite or Identity] (the first release:
    conv1 a Conv2d_BN, no bn); a stride-2 block's is [Conv2d_BN 3x3 dw stride 2, Identity,
    Conv2d_BN 1x1]; the channel_mixer is Residual(m=[Conv2d_BN 1x1 to 2x, GELU, Conv2d_BN 1x1
    back]); ``classifier`` holds ``classifier`` and ``classifier_dist`` (BN_Linear: bn, l).
    timm's SqueezeExcite (fc1, fc2 with bias) reduces to make_divisible(c / 4, 8) channels.
    """
    w = AUTHORS_WIDTHS[size]
    found = _conv_bn('features.0.0', 3, w[0] // 2, 3)
    found += _conv_bn('features.0.2', w[0] // 2, w[0], 3)
    inp = w[0]
    for i, (c, se, stride) in enumerate(_rows(size), 1):
        p = f'features.{i}'
        if stride == 1:
            found += _conv_bn(f'{p}.token_mixer.0.conv', inp, inp, 3, groups=inp)
            if legacy:
                found += _conv_bn(f'{p}.token_mixer.0.conv1', inp, inp, 1, groups=inp)
            else:
                found += [(f'{p}.token_mixer.0.conv1.weight', [inp, 1, 1, 1]),
                          (f'{p}.token_mixer.0.conv1.bias', [inp])]
                found += _bn(f'{p}.token_mixer.0.bn', inp)
            if se:
                rd = max(8, int(inp / 4 + 4) // 8 * 8)
                found += [(f'{p}.token_mixer.1.fc1.weight', [rd, inp, 1, 1]),
                          (f'{p}.token_mixer.1.fc1.bias', [rd]),
                          (f'{p}.token_mixer.1.fc2.weight', [inp, rd, 1, 1]),
                          (f'{p}.token_mixer.1.fc2.bias', [inp])]
        else:
            found += _conv_bn(f'{p}.token_mixer.0', inp, inp, 3, groups=inp)
            found += _conv_bn(f'{p}.token_mixer.2', inp, c, 1)
        found += _conv_bn(f'{p}.channel_mixer.m.0', c, 2 * c, 1)
        found += _conv_bn(f'{p}.channel_mixer.m.2', 2 * c, c, 1)
        inp = c
    for head in ('classifier', 'classifier_dist')[:2 if distillation else 1]:
        found += _bn(f'classifier.{head}.bn', inp)
        found += [(f'classifier.{head}.l.weight', [num_classes, inp]),
                  (f'classifier.{head}.l.bias', [num_classes])]
    return found


def random_model(size, num_classes=1000, seed=0, distillation=True, legacy=False):
    """
    Make a timm RepViT with random weights everywhere, BatchNorm statistics included.

    timm starts BatchNorms at weight 1 (0 for the last of each MLP), bias 0, mean 0, var 1, which
    would make folding them a no-op: their affine parameters are drawn at random and their
    running statistics are measured on random batches.
    """
    torch.manual_seed(seed)
    model = timm.create_model(f'repvit_{size}', pretrained=False, num_classes=num_classes,
                              distillation=distillation, legacy=legacy)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
                module.momentum = None  # running statistics: the average over the batches
                module.reset_running_stats()
        model.train()
        for _ in range(2):
            model(torch.randn(8, 3, 160, 160))
    return model.eval()


def torch_logits(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def onnx_logits(path, x):
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {'data': x})[0]


def normalised_batch(seed):
    """Make a random picture normalised with ImageNet mean/std, NCHW (what `data` takes)."""
    rgb = np.random.default_rng(seed).integers(0, 256, (224, 224, 3)).astype(np.float32)
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    return np.ascontiguousarray(((rgb - mean) / std).transpose(2, 0, 1)[None])


def run_tool(capsys, *args):
    """Run export_model's main in this process; show its output in the test log."""
    rc = export.main(list(args))
    out, err = capsys.readouterr()
    with capsys.disabled():
        sys.stdout.write(f'\n$ export_model {" ".join(args)}\n{out}{err}')
    return rc, out, err


@pytest.mark.parametrize('size', list(models.MODELS))
def test_each_size_exports_to_the_zoo_form_and_matches_pytorch(size, tmp_path, capsys):
    model = random_model(size, seed=len(size))
    torch.save(model.state_dict(), tmp_path / 'weights.pth')
    out = tmp_path / f'repvit_{size}.onnx'
    pictures = []
    if size == 'm1_1':  # compare on a folder of JPEGs, read as the node reads them
        (tmp_path / 'pictures').mkdir()
        for name, rgb, _ in export.generated_pictures(3):
            cv2.imwrite(str(tmp_path / 'pictures' / f'{name[-1]}.jpg'), rgb[:, :, ::-1])
        pictures = ['--images', str(tmp_path / 'pictures'), '--count', '5']
    rc, text, err = run_tool(capsys, '--checkpoint', str(tmp_path / 'weights.pth'),
                             '--size', size, '--output', str(out), *pictures)
    assert rc == 0, err
    assert f"{models.MODELS[size].params:,} parameters (the zoo's deploy {size}: " \
           f'{models.MODELS[size].params:,})' in text, text
    cosines = [float(line.split('cosine ')[1].split(' ')[0])
               for line in text.splitlines() if 'cosine ' in line and 'lowest' not in line]
    assert len(cosines) == (3 if pictures else 4) and min(cosines) >= 0.9999, text
    assert ('pictures' + os.sep + '1.jpg: cosine' in text) == bool(pictures)
    # The registry's own check of a downloaded zoo ONNX accepts it as this size.
    assert 'ONNX input data [1, 3, 224, 224], output [1, 1000]' in \
        verify_file(str(out), models.MODELS[size], 'onnx')
    # From outside the tool: the file against the model the weights came from.
    x = normalised_batch(1)
    assert export.cosine(onnx_logits(str(out), x), torch_logits(model, x)) >= 0.9999
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o666 & ~_umask())
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.part')]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readme_export_command():
    found = [c.text for c in documented.documented_commands()
             if c.text.startswith(README_EXPORT)]
    assert len(found) == 1, found
    return found[0]


def test_readme_command_exports_a_12_class_model_for_quantization_and_node(tmp_path, capsys):
    # docs/own-model.md's command as written, with `ros2 run repvit_ros export_model` (the ros2
    # CLI is not in this venv) replaced by the module it runs, in a folder holding the files it
    # names.
    text = _readme_export_command()
    assert text in documented.NOT_RUN_IN_CI
    model = random_model('m1_0', num_classes=12, seed=12)
    torch.save({'model': model.state_dict(), 'epoch': 299}, tmp_path / 'my_repvit.pth')
    command = text.replace(README_EXPORT, f'{sys.executable} -m repvit_ros.model_tools.export')
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run(['bash', '-c', command], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    with capsys.disabled():
        sys.stdout.write(f'\n$ {text}\n{run.stdout}{run.stderr}')
    assert run.returncode == 0, run.stdout + run.stderr
    assert "timm layout, entry 'model', RepViT m1_0, 12 classes" in run.stdout
    assert 'input data [1, 3, 224, 224] float32, output output [1, 12]' in run.stdout
    assert 'export_model: wrote my_repvit.onnx (lowest cosine' in run.stdout
    onnx_path = str(tmp_path / 'my_repvit.onnx')
    x = normalised_batch(2)
    assert export.cosine(onnx_logits(onnx_path, x), torch_logits(model, x)) >= 0.9999

    # own-model.md's next steps accept it: calibration files, the hb_mapper config ...
    pictures = tmp_path / 'my_train_sample'
    pictures.mkdir()
    for name, rgb, _ in export.generated_pictures(3):
        cv2.imwrite(str(pictures / f'{name.split("#")[1]}.png'), rgb[:, :, ::-1])
    cal = str(tmp_path / 'calibration_data_rgb_f32')
    assert prepare_calibration(['--images', str(pictures), '--output', cal]) == 0
    yaml_path = tmp_path / 'my_repvit.yaml'
    assert quantization_config(['--onnx', onnx_path, '--calibration-dir', cal,
                                '--output', str(yaml_path), '--size', 'm1_0']) == 0
    config = yaml_path.read_text()
    assert "input_name: 'data'" in config and "input_shape: '1x3x224x224'" in config, config
    assert '(RepViT m1_0, 12 classes)' in config

    # ... and the node's Classifier runs it with 12 labels.
    labels = [f'part_{i}' for i in range(12)]
    (tmp_path / 'my_labels.txt').write_text('\n'.join(labels) + '\n')
    clf = Classifier(model_path=onnx_path, labels_path=str(tmp_path / 'my_labels.txt'))
    assert clf.backend.num_classes == 12 and not clf.warnings
    rgb = export.generated_pictures(1)[0][1]
    ranked = clf.classify(np.ascontiguousarray(rgb[:, :, ::-1]), k=12)
    assert len(ranked) == 12 and {p.name for p in ranked} == set(labels)
    assert abs(sum(p.probability for p in ranked) - 1) < 1e-4


def _authors_checkpoint(model, size, num_classes, distillation, legacy):
    """Rename a timm state_dict to the authors' layout, checking the order tensor by tensor."""
    timm_items = list(model.state_dict().items())
    layout = authors_layout(size, num_classes, distillation, legacy)
    assert len(layout) == len(timm_items)
    renamed = {}
    for (name, shape), (timm_name, tensor) in zip(layout, timm_items):
        assert list(tensor.shape) == shape, (name, shape, timm_name, list(tensor.shape))
        assert name.rsplit('.', 1)[1] == timm_name.rsplit('.', 1)[1], (name, timm_name)
        renamed[name] = tensor
    return renamed


@pytest.mark.parametrize('size, distillation, legacy', [
    ('m1_1', True, False),    # the current release, distilled (as the authors publish them)
    ('m0_9', False, True),    # the first release (their repvit_m1), without the distillation head
])
def test_authors_checkpoint_exports_like_timms(size, distillation, legacy, tmp_path, capsys):
    model = random_model(size, num_classes=7, seed=3, distillation=distillation, legacy=legacy)
    renamed = _authors_checkpoint(model, size, 7, distillation, legacy)
    torch.save({'model': renamed}, tmp_path / 'authors.pth')
    out = str(tmp_path / 'authors.onnx')
    rc, text, err = run_tool(capsys, '--checkpoint', str(tmp_path / 'authors.pth'),
                             '--size', size, '--output', out, '--num-classes', '7')
    assert rc == 0, err
    assert f"RepViT authors' layout, entry 'model', RepViT {size}, 7 classes" in text
    assert ('distillation head' in text) == distillation
    assert ('first-release RepVGG branches' in text) == legacy
    x = normalised_batch(3)
    assert export.cosine(onnx_logits(out, x), torch_logits(model, x)) >= 0.9999


def test_checkpoints_that_do_not_fit_are_refused_on_one_line(tmp_path, capsys, monkeypatch):
    model = random_model('m0_9', num_classes=5, seed=5)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'm0_9.pth')
    out = tmp_path / 'out.onnx'

    def refused(*args):
        rc, text, err = run_tool(capsys, '--output', str(out), *args)
        assert rc == 1 and err.count('\n') == 1 and err.startswith('export_model: error: ')
        assert not os.path.exists(out)
        assert not [f for f in os.listdir(tmp_path) if f.endswith('.part')]
        return err

    err = refused('--checkpoint', str(tmp_path / 'm0_9.pth'), '--size', 'm1_0')
    assert 'does not fit RepViT m1_0' in err and 'export it with --size m0_9' in err, err
    err = refused('--checkpoint', str(tmp_path / 'm0_9.pth'), '--size', 'm0_9',
                  '--num-classes', '6')
    assert 'has a head of 5 classes, not 6' in err, err

    renamed = _authors_checkpoint(model, 'm0_9', 5, True, False)
    del renamed['features.3.channel_mixer.m.0.bn.bias']
    torch.save({'model': renamed}, tmp_path / 'authors_short.pth')
    err = refused('--checkpoint', str(tmp_path / 'authors_short.pth'), '--size', 'm0_9')
    assert f'{len(renamed)} tensors where the model has {len(renamed) + 1} (no other' in err

    # A training checkpoint that pickles more than tensors: weights_only=True refuses it.
    torch.save({'model': model.state_dict(), 'args': argparse.Namespace(lr=1)},
               tmp_path / 'with_args.pth')
    err = refused('--checkpoint', str(tmp_path / 'with_args.pth'), '--size', 'm0_9')
    assert 'holds more than tensors' in err and 'weights_only=False' in err, err

    (tmp_path / 'notes.pth').write_bytes(b'not a checkpoint at all' * 100)
    err = refused('--checkpoint', str(tmp_path / 'notes.pth'), '--size', 'm0_9')
    assert 'is not a PyTorch checkpoint (Unsupported operand' in err, err

    torch.save({'layer.weight': torch.zeros(3, 3)}, tmp_path / 'other.pth')
    err = refused('--checkpoint', str(tmp_path / 'other.pth'), '--size', 'm0_9')
    assert 'is not a RepViT state_dict of timm or the RepViT authors' in err, err

    # An export whose logits disagree is not written (made to fail by an impossible bar).
    monkeypatch.setattr(export, 'MIN_COSINE', 1.5)
    err = refused('--checkpoint', str(tmp_path / 'm0_9.pth'), '--size', 'm0_9')
    assert 'the ONNX logits differ from those of the PyTorch model: cosine' in err, err
    assert '< 1.5 on generated ' in err and err.endswith(f'; {out} not written\n'), err
