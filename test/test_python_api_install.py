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
The Python API installs with pip in a fresh venv, without ROS, and classifies.

docs/models.md gives ``python3 -m pip install ".[onnxruntime]"`` from a clone: the extra
brings numpy, OpenCV and ONNX Runtime, which a plain ``pip install .`` leaves out (a ROS
install gets them from rosdep and apt), and ``from repvit_ros import Classifier`` must work.
"""

import os
import shutil
import subprocess
import sys

import documented

CHECK = """
import sys
from repvit_ros import Classifier
import numpy as np
clf = Classifier(model_path=sys.argv[1])
picture = np.zeros((120, 160, 3), np.uint8)
picture[:, :80] = (30, 120, 200)
top = clf.classify(picture, k=3)
assert len(top) == 3 and top[0].probability >= top[1].probability, top
print('classified:', top[0].index, top[0].name, round(top[0].probability, 3))
try:
    import rclpy  # noqa: F401
    print('rclpy importable')
except ImportError:
    print('no rclpy')
"""


def test_pip_install_with_the_onnxruntime_extra_gives_a_working_classifier(tmp_path,
                                                                           synthetic_model):
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, timeout=300)
    python = str(venv / 'bin' / 'python')
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'AMENT_PREFIX_PATH',
                                                            'VIRTUAL_ENV')}
    # As docs/models.md says, from the folder holding the clone (a copy of its files here,
    # so that pip's build leaves nothing in the working tree).
    clone = tmp_path / 'repvit_ros'
    shutil.copytree(documented.ROOT, clone, ignore=shutil.ignore_patterns(
        '.git', '.venv*', 'build', 'install', 'log', '__pycache__', '*.onnx', '*.bin'))
    install = subprocess.run([python, '-m', 'pip', 'install', '--quiet',
                              '--disable-pip-version-check', '.[onnxruntime]'],
                             cwd=str(clone), env=env, capture_output=True, text=True,
                             timeout=1200)
    assert install.returncode == 0, install.stdout + install.stderr
    run = subprocess.run([python, '-c', CHECK, synthetic_model('m0_9')], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'classified:' in run.stdout and 'no rclpy' in run.stdout, run.stdout
    docs = open(os.path.join(documented.ROOT, 'docs', 'models.md'), encoding='utf-8').read()
    assert 'python3 -m pip install ".[onnxruntime]"' in docs
