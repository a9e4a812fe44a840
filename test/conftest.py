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
Fixtures every test folder may use; nothing here imports ROS.

``test/unit`` runs where rclpy is absent; ROS fixtures live in ``ros_support`` and are pulled in
by the conftest of ``test/ros`` and ``test/bench``.
"""

import os

import pytest
from repvit_ros.model_tools.synthetic import write_model

# test/launch needs the real `ros2` CLI, which a plain clone does not have: it runs only in
# its own suite (make test-launch, tools/run_launch_tests.sh), never inside `make test`.
collect_ignore = [] if os.environ.get('REPVIT_LAUNCH_SUITE') == '1' else ['launch']
# test/export needs PyTorch and timm, which only the export venv has: it runs only in its own
# suite (make test-export, tools/run_export_tests.sh), never inside `make test`.
if os.environ.get('REPVIT_EXPORT_SUITE') != '1':
    collect_ignore.append('export')


@pytest.fixture(scope='session')
def synthetic_model(tmp_path_factory):
    """Path of a synthetic RepViT ONNX of a given size, built once per test session."""
    cache = {}
    base = tmp_path_factory.mktemp('models')

    def get(name='m1_0'):
        if name not in cache:
            path = os.path.join(str(base), f'repvit_{name}_synthetic.onnx')
            write_model(name, path)
            cache[name] = path
        return cache[name]

    return get
