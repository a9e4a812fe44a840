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
The real-launch suite (``make test-launch``): README's commands under the real ``ros2`` CLI.

tools/run_launch_tests.sh builds the ``ros2`` CLI and launch system from ../shared/ros2cli and
the stand-ins of D-Robotics packages (tools/stand_ins), then runs this folder. The session gets
a ROS_HOME of its own with the synthetic RepViT models where ``download_models`` puts the real
ones ($ROS_HOME/repvit_ros/models), and a working directory for the commands.
"""

import json
import os
import shutil
import subprocess

import pytest
from repvit_ros.bench.harness import use_large_frames_profile
from repvit_ros.model_tools.synthetic import write_model
from repvit_ros.models import get_model, MODELS
from support import Commands, Probe

assert shutil.which('ros2'), 'the real-launch suite needs `ros2`: run it with make test-launch'


@pytest.fixture(scope='session', autouse=True)
def user_home(tmp_path_factory):
    """Give the session a ROS_HOME with the models in place and a working directory."""
    home = tmp_path_factory.mktemp('ros_home')
    models = home / 'repvit_ros' / 'models'
    models.mkdir(parents=True)
    for name in MODELS:
        write_model(name, str(models / get_model(name).onnx_file))
    os.environ['ROS_HOME'] = str(home)
    os.environ.pop('REPVIT_MODELS_DIR', None)
    os.environ['REPVIT_STAND_IN_RECORDS'] = str(home / 'stand_in_records')
    # Fast DDS reads its profile once, at this process's first participant; hbmem frames
    # (6 MB each) need the large-frames profile on the publishing side.
    use_large_frames_profile()
    # The first `ros2 node list` of a domain spawns the daemon and answers from a node of its
    # own; the next command asks the new daemon, which may not have discovered the node yet
    # (`ros2 param get` said 'Node not found' right after wait_node, on Kilted and Jazzy). With
    # the daemon up first, every command asks it: what wait_node saw, the next command sees.
    subprocess.run(['ros2', 'daemon', 'start'], capture_output=True, timeout=60)
    work = tmp_path_factory.mktemp('work')
    yield {'home': home, 'models': models, 'work': work}
    # `ros2 topic/param/lifecycle` start a daemon for this domain: leave nothing behind.
    subprocess.run(['ros2', 'daemon', 'stop'], capture_output=True, timeout=30)


@pytest.fixture
def commands(user_home):
    """Run documented commands as written; everything still running is stopped afterwards."""
    cmds = Commands(str(user_home['work']))
    try:
        yield cmds
    finally:
        cmds.stop_all()


@pytest.fixture
def probe():
    """Give a camera and listener in the test process."""
    p = Probe()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def stand_in_records(user_home):
    """Read what each stand-in launch file was given: (package, file) -> arguments."""
    folder = user_home['home'] / 'stand_in_records'
    shutil.rmtree(folder, ignore_errors=True)

    def read():
        found = {}
        for path in folder.glob('*.json') if folder.exists() else ():
            package, launch_file = path.name[:-len('.json')].split('.', 1)
            found[(package, launch_file)] = json.loads(path.read_text())
        return found
    return read
