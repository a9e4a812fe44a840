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
Names and command lines a user gets wrong: one line naming what and why, exit 1, no traceback.

Topic names are checked with ROS's own rules (rcl's, through rclpy) before anything uses them;
camera names are ROS name tokens; the same camera topic twice is refused; a bad ``-r`` remap,
an unknown ``--ros-args`` flag, a missing or broken ``--params-file`` and an invalid remapped
namespace are refused by rcl, and each becomes one line naming the argument.
"""

import os
import subprocess

from ament_index_python.packages import get_package_prefix
import pytest

MODEL = '-p model_path:={model}'


def run(executable, *ros_args, timeout=120):
    path = os.path.join(get_package_prefix('repvit_ros'), 'lib', 'repvit_ros', executable)
    return subprocess.run([path, '--ros-args', *ros_args], capture_output=True, text=True,
                          timeout=timeout)


def one_line_exit_1(done, words):
    out = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1, out
    assert len(out) == 1, out
    assert 'cannot start: ' in out[0] and words in out[0], out[0]


@pytest.mark.parametrize('executable', ['classifier', 'classifier_managed',
                                        'component_container'])
@pytest.mark.parametrize('args, words', [
    (['-r', 'a:=b:=c'], "Couldn't parse remap rule: '-r a:=b:=c'"),
    (['--params-file', '/nonexistent/mine.yaml'],
     "Couldn't parse params file: '--params-file /nonexistent/mine.yaml'. Error: Error opening "
     'YAML file'),
    (['--bogus'], "unknown ROS arguments: ['--bogus']"),
])
def test_a_command_line_rcl_refuses_is_one_line(tmp_path, executable, args, words):
    one_line_exit_1(run(executable, *args), words)


def test_a_broken_params_file_is_one_line(tmp_path):
    path = tmp_path / 'broken.yaml'
    path.write_text('/**:\n  ros__parameters:\n    image_topics: [a\n')
    one_line_exit_1(run('classifier', '--params-file', str(path)),
                    f"Couldn't parse params file: '--params-file {path}'")


@pytest.mark.parametrize('executable', ['classifier', 'classifier_managed'])
@pytest.mark.parametrize('args, words', [
    (['-p', "image_topics:=['/front/image raw']"],
     "parameter image_topics: '/front/image raw' is not a valid ROS topic name: topic name must "
     "not contain characters other than alphanumerics, '_', '~', '{', or '}'"),
    (['-p', "image_topics:=['/cam/9front']"],
     "parameter image_topics: '/cam/9front' is not a valid ROS topic name: topic name token must "
     'not start with a number'),
    (['-p', 'detections_topic:=a//b'],
     "parameter detections_topic: 'a//b' is not a valid ROS topic name: topic name must not "
     "contain repeated '/'"),
    (['-p', 'perception_topic:=/web/'],
     "parameter perception_topic: '/web/' is not a valid ROS topic name: topic name must not "
     'end with a forward slash'),
    (['-p', "image_topics:=['/a/image_raw', '/a/image_raw']"],
     'parameter image_topics lists /a/image_raw more than once'),
    (['-p', "image_topics:=['/x/image_raw']", '-p', "camera_names:=['caméra']"],
     'camera names must be ROS name tokens (ASCII letters, digits and _, not starting with a '
     "digit): 'caméra'"),
    (['-p', "image_topics:=['/x/image_raw']", '-p', "camera_names:=['猫']"], "'猫'"),
    # rcl's own reason follows (Kilted: "namespace must not end with a '/'"; Jazzy's rcl names
    # the wrong rule: "node name must not start with a number"), so only the part that is ours.
    (['-r', '__ns:=/robot/'], 'error creating node: invalid node namespace: '),
])
def test_a_bad_name_is_one_line_naming_the_parameter_and_the_rule(
        synthetic_model, executable, args, words):
    one_line_exit_1(run(executable, '-p', f'model_path:={synthetic_model("m0_9")}', *args),
                    words)
