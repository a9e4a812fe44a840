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
README's and docs/' tool commands run as written: own-model steps, the self-check, make targets.

The own-model steps run in the suite's working directory on the files docs/own-model.md names
(my_repvit.onnx: a synthetic RepViT; my_labels.txt; my_val/ and my_train_sample/ of sample
pictures); the self-check finds only the synthetic models where download_models puts the
real ones, so it reports that there is nothing real to check.
"""

import json
import os
import shutil

import cv2
import pytest
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.labels import load_labels
from repvit_ros.model_tools.synthetic import write_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def own_model_files(user_home):
    """Write the files the own-model steps name into the commands' working directory."""
    work = user_home['work']
    if not (work / 'my_repvit.onnx').exists():
        write_model('m1_0', str(work / 'my_repvit.onnx'))
    (work / 'my_labels.txt').write_text('\n'.join(load_labels('')) + '\n')
    for folder, classes, per_class in (('my_val', 2, 3), ('my_train_sample', 1, 6)):
        shutil.rmtree(work / folder, ignore_errors=True)
        for c in range(classes):
            (work / folder / str(c)).mkdir(parents=True)
            for i in range(per_class):
                rgb = sample_picture(200 + 10 * i, 150, seed=c * 10 + i)
                cv2.imwrite(str(work / folder / str(c) / f'{i}.jpg'), rgb[:, :, ::-1])
    return work


def test_own_model_evaluate_calibrate_and_configure(commands, own_model_files):
    work = own_model_files
    ev = commands.documented_run('ros2 run repvit_ros evaluate --images my_val/ '
                                 '--model-path my_repvit.onnx --labels-path my_labels.txt')
    assert ev.proc.returncode == 0, ev.output
    assert 'evaluate: 6 images in my_val/' in ev.output, ev.output
    assert 'top-1' in ev.output and 'my_repvit.onnx' in ev.output

    shutil.rmtree(work / 'calibration_data_rgb_f32', ignore_errors=True)
    cal = commands.documented_run(
        'ros2 run repvit_ros prepare_calibration --images my_train_sample/ '
        '--output calibration_data_rgb_f32 --count 100 --resize-mode letterbox')
    assert cal.proc.returncode == 0, cal.output
    files = sorted(os.listdir(work / 'calibration_data_rgb_f32'))
    assert len(files) == 6 and all(f.endswith('.rgb') for f in files), files
    assert all(os.path.getsize(work / 'calibration_data_rgb_f32' / f) == 3 * 224 * 224 * 4
               for f in files)

    (work / 'my_repvit.yaml').unlink(missing_ok=True)
    cfg = commands.documented_run(
        'ros2 run repvit_ros quantization_config --onnx my_repvit.onnx '
        '--calibration-dir calibration_data_rgb_f32 --output my_repvit.yaml --size m1_0')
    assert cfg.proc.returncode == 0, cfg.output
    text = (work / 'my_repvit.yaml').read_text()
    assert "march: 'bayes-e'" in text and "cal_data_dir: 'calibration_data_rgb_f32'" in text, text


@pytest.mark.parametrize('text, cwd', [
    ('ros2 run repvit_ros self_check', None),
    ('python -m repvit_ros.model_tools.self_check', None),
    ('make self-check', ROOT),
])
def test_self_check_finds_nothing_real_to_check(commands, text, cwd):
    run = commands.documented_run(text, timeout=300, cwd=cwd)
    assert run.proc.returncode == 2, run.output  # docs/self-check.md: 2 = nothing real to check
    assert 'RESULT: NOTHING REAL TO CHECK' in run.output, run.output
    assert 'repvit_m1_0_deploy.onnx' in run.output  # looked where download_models puts it


def test_self_check_json(commands, user_home):
    run = commands.documented_run(
        'ros2 run repvit_ros self_check --json --output self_check.json', timeout=300)
    assert run.proc.returncode == 2, run.output
    report = json.loads((user_home['work'] / 'self_check.json').read_text())
    assert report['exit_code'] == 2 and report['status'] == 'nothing_real', report


def test_make_env_and_demo(commands):
    env = commands.documented_run('make env', timeout=600, cwd=ROOT)
    assert env.proc.returncode == 0, env.output
    assert '[setup_env] ready' in env.output
    demo = commands.documented_run('make demo', timeout=600, cwd=ROOT)
    assert demo.proc.returncode == 0, demo.output
    assert '[demo] summary: 6 frames sent, 6 classified, 0 dropped' in demo.output, demo.output
