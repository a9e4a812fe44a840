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
The launch files' own behaviour under the real ``ros2 launch``.

Declared arguments and their defaults (``--show-args``), launch arguments over the params file
and the file over the node's defaults, refused arguments, list arguments, and which D-Robotics
launch files rdk_camera.launch.py includes with which arguments (their stand-ins record it).
launch_testing_classify.py runs under launch_testing's own command, ``launch_test``.
"""

import os

import pytest
from repvit_ros.parameters import SPECS
from vision_msgs.msg import Classification

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = '/repvit/repvit_classifier'
CLASSIFY = 'ros2 launch repvit_ros classify.launch.py'
RDK = 'ros2 launch repvit_ros rdk_camera.launch.py'
CODEC = ('hobot_codec', 'hobot_codec_encode.launch.py')
WEBSOCKET = ('websocket', 'websocket.launch.py')
MIPI = ('mipi_cam', 'mipi_cam.launch.py')
USB = ('hobot_usb_cam', 'hobot_usb_cam.launch.py')


def shown_arguments(commands, launch_file):
    """Read ``ros2 launch ... --show-args``: argument name -> default."""
    shown = commands.run(f'ros2 launch repvit_ros {launch_file} --show-args')
    assert shown.proc.returncode == 0, shown.output
    args, name = {}, None
    for line in shown.answer.splitlines():
        line = line.strip()
        if line.startswith("'") and line.endswith("':"):
            name = line[1:-2]
        elif name and line.startswith('(default: '):
            args[name] = line[len('(default: '):-1].strip("'")
    return args


def test_classify_launch_arguments(commands):
    args = shown_arguments(commands, 'classify.launch.py')
    given_only = {'model', 'model_path', 'labels_path', 'threads', 'input_type', 'backend',
                  'perception_topic', 'image_topics', 'camera_names', 'detections_topic',
                  'autostart'}
    assert set(args) == given_only | {'image_topic', 'params_file', 'namespace', 'log_level',
                                      'managed', 'composable', 'container'}
    assert given_only <= set(SPECS)  # each sets the node parameter of its name
    for name in given_only:  # nothing overrides the params file unless given
        assert args[name] == '', name
    assert args['params_file'].endswith('share/repvit_ros/config/repvit.yaml')
    assert args['image_topic'] == '/image_raw' and args['namespace'] == 'repvit'
    assert args['managed'] == args['composable'] == 'false' and args['container'] == ''


@pytest.mark.parametrize('given, threads, model', [('', 4, 'm0_9'), (' threads:=3', 3, 'm0_9'),
                                                   (' model:=m1_0', 4, 'm1_0')])
def test_given_arguments_win_over_the_params_file_and_absent_ones_do_not(
        commands, probe, user_home, given, threads, model):
    mine = user_home['work'] / 'mine.yaml'
    mine.write_text('/**:\n  ros__parameters:\n    threads: 4\n    model: m0_9\n')
    node = commands.start(f'{CLASSIFY} params_file:={mine}{given}')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    assert results.wait(2), node.output
    commands.wait_node(NODE)
    got = commands.run(f'ros2 param get {NODE} threads')
    assert f'Integer value is: {threads}' in got.output, got.output
    got = commands.run(f'ros2 param get {NODE} model')
    assert f'String value is: {model}' in got.output, got.output
    # Parameters the file does not set keep the node's defaults.
    got = commands.run(f'ros2 param get {NODE} top_k')
    assert f'Integer value is: {SPECS["top_k"].default}' in got.output, got.output
    assert node.stop() == 0, node.output


@pytest.mark.parametrize('given, words', [
    ('threads:=many', 'launch argument threads:=many is not int'),
    ('container:=/x composable:=true', 'give one of them'),
    ('image_topics:=a,,b', 'launch argument image_topics:=a,,b is not a comma-separated list'),
    ('managed:=true autostart:=maybe', 'launch argument autostart:=maybe is not true or false'),
])
def test_a_refused_launch_argument_is_one_error_line(commands, given, words):
    run = commands.run(f'{CLASSIFY} {given}', timeout=120)
    errors = [line for line in run.output.splitlines() if '[ERROR]' in line]
    assert len(errors) == 1 and words in errors[0], run.output
    assert 'process started' not in run.output


def test_a_yaml_style_list_argument(commands, probe):
    node = commands.start(
        f'{CLASSIFY} image_topics:="[\'/front/image_raw\', \'/rear/image_raw\']"')
    front = probe.listen('/repvit/front/classification', Classification)
    rear = probe.listen('/repvit/rear/classification', Classification)
    probe.camera('/front/image_raw')
    probe.camera('/rear/image_raw')
    assert front.wait(2) and rear.wait(2), node.output
    assert node.stop() == 0, node.output


@pytest.mark.parametrize('camera, codec, shown', [
    ('mipi_shm', {'codec_in_mode': 'shared_mem', 'codec_sub_topic': '/hbmem_img'}, '/image_jpeg'),
    ('mipi', {'codec_in_mode': 'ros', 'codec_in_format': 'nv12',
              'codec_sub_topic': '/image_raw'}, '/image_jpeg'),
    ('usb_mjpeg', None, '/image'),  # the camera's own JPEG: nothing to encode
])
def test_rdk_camera_web_choices(commands, stand_in_records, camera, codec, shown):
    run = commands.start(f'{RDK} camera:={camera} web:=true')
    assert run.wait_output(r'stand-in websocket websocket\.launch\.py'), run.output
    run.stop()
    records = stand_in_records()
    web = records[WEBSOCKET]
    assert web['websocket_image_topic'] == shown and web['websocket_image_type'] == 'mjpeg'
    assert web['websocket_smart_topic'] == '/repvit/perception'
    if codec is None:
        assert CODEC not in records
    else:
        got = records[CODEC]
        assert {k: got[k] for k in codec} == codec
        assert got['codec_pub_topic'] == shown and got['codec_out_format'] == 'jpeg'


@pytest.mark.parametrize('web', ['', ' web:=false'])
def test_rdk_camera_without_web_starts_no_web_display(commands, stand_in_records, web):
    run = commands.start(f'{RDK} camera:=mipi{web}')
    assert run.wait_output(r'input image on /image_raw'), run.output
    run.stop()
    assert set(stand_in_records()) == {MIPI}


@pytest.mark.parametrize('camera, launched, want', [
    ('mipi_shm', 'MIPI', {'mipi_io_method': 'shared_mem', 'mipi_out_format': 'nv12',
                          'mipi_frame_ts_type': 'realtime', 'mipi_video_device': 'F37'}),
    ('mipi', 'MIPI', {'mipi_io_method': 'ros', 'mipi_out_format': 'nv12',
                      'mipi_video_device': 'F37', 'mipi_image_width': '960'}),
    ('usb_mjpeg', 'USB', {'usb_pixel_format': 'mjpeg', 'usb_video_device': '/dev/video0',
                          'usb_image_width': '960'}),
])
def test_rdk_camera_starts_the_camera_its_own_launch_file_starts(
        commands, stand_in_records, camera, launched, want):
    # Arguments of the camera's launch file given to rdk_camera pass through to it.
    run = commands.start(f'{RDK} camera:={camera} mipi_video_device:=F37 '
                         f'usb_video_device:=/dev/video0')
    assert run.wait_output(r'stand-in (mipi_cam|hobot_usb_cam)'), run.output
    run.stop()
    records = stand_in_records()
    assert set(records) == {MIPI if launched == 'MIPI' else USB}
    got = records[MIPI if launched == 'MIPI' else USB]
    assert {k: got[k] for k in want} == want


def test_classify_launch_under_launch_testing(commands):
    run = commands.run(f'launch_test {os.path.join(HERE, "launch_testing_classify.py")}',
                       timeout=300)
    assert run.proc.returncode == 0, run.output
    assert run.output.count('\nOK') == 2, run.output  # the active and the post-shutdown tests


def test_composable_managed_classifier_gets_what_the_standalone_one_gets(commands, probe):
    launch = commands.start(f'{CLASSIFY} composable:=true managed:=true autostart:=true '
                            'threads:=3')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    assert results.wait(2), launch.output
    commands.wait_node(NODE)
    got = commands.run(f'ros2 param get {NODE} threads')
    assert 'Integer value is: 3' in got.output, got.output
    got = commands.run(f'ros2 param get {NODE} image_topics')  # the params file's []
    assert 'String values are: []' in got.output, got.output
    state = commands.run(f'ros2 lifecycle get {NODE}')
    assert state.answer.startswith('active'), state.output
    assert launch.stop() == 0, launch.output
