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
README's node commands, run as written with the shipped params file.

The ``ros2 launch``, ``ros2 run``, ``ros2 topic``, ``ros2 param`` and ``ros2 lifecycle`` lines
classify frames fed to the topics they name; results are read on the documented topics.
"""

import shutil
import time

from ai_msgs.msg import PerceptionTargets
import pytest
from repvit_ros.model_tools.synthetic import write_model
from support import Shell
from vision_msgs.msg import Classification, Detection2DArray

HEADLINE = 'ros2 launch repvit_ros classify.launch.py model:=m1_0'
NODE = '/repvit/repvit_classifier'


def classifies(node: Shell, listener, count: int = 3) -> None:
    """Assert that results arrive and the node did not refuse to start."""
    assert listener.wait(count), f'no results; the command printed:\n{node.output}'
    assert 'cannot start' not in node.output and 'Traceback' not in node.output, node.output


def stops_cleanly(node: Shell) -> None:
    """Assert that Ctrl-C ends the command with exit code 0 and no traceback."""
    code = node.stop()
    assert code == 0, f'exit {code}:\n{node.output}'
    assert 'Traceback' not in node.output and 'process has died' not in node.output, node.output


@pytest.fixture
def my_model(user_home):
    """Give the file README calls my_repvit.onnx, in the commands' working directory."""
    path = user_home['work'] / 'my_repvit.onnx'
    if not path.exists():
        write_model('m1_0', str(path))
    return path


def test_headline_command_and_topic_echo(commands, probe):
    node = commands.documented_start(HEADLINE)
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    classifies(node, results)
    assert results.messages[0].header.frame_id == 'camera'
    assert len(results.messages[0].results) == 5  # top_k of the shipped params file
    assert node.wait_output('synthetic RepViT', 10), node.output  # where download_models puts it
    echo = commands.documented_start('ros2 topic echo /repvit/classification')
    assert echo.wait_output(r"class_id: '\d+'"), echo.output
    echo.stop()
    # README's troubleshooting: the node's status on /diagnostics, and the topics there are.
    diagnostics = commands.documented_start('ros2 topic echo /diagnostics')
    assert diagnostics.wait_output("name: '/repvit/repvit_classifier: classifier'"), \
        diagnostics.output
    diagnostics.stop()
    listed = commands.documented_run('ros2 topic list')
    assert listed.proc.returncode == 0, listed.output
    assert '/repvit/classification' in listed.output and '/image_raw' in listed.output, \
        listed.output
    stops_cleanly(node)


def test_model_threads_and_image_topic_arguments(commands, probe):
    node = commands.documented_start(
        'ros2 launch repvit_ros classify.launch.py model:=m0_9 threads:=4 '
        'image_topic:=/camera/image')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/camera/image')
    classifies(node, results)
    assert node.wait_output(r'repvit_m0_9_deploy\.onnx .*; 4 worker\(s\)', 10), node.output
    commands.wait_node(NODE)
    got = commands.run(f'ros2 param get {NODE} threads')
    assert 'Integer value is: 4' in got.output, got.output
    stops_cleanly(node)


def test_ros2_run_with_a_model_file(commands, probe, my_model):
    node = commands.documented_start(
        'ros2 run repvit_ros classifier --ros-args -p model_path:=my_repvit.onnx '
        '-r image:=/image_raw')
    results = probe.listen('/classification', Classification)
    probe.camera('/image_raw')
    classifies(node, results)
    assert node.wait_output('RepViT my_repvit.onnx', 10), node.output
    stops_cleanly(node)


@pytest.mark.parametrize('text, topic, msg_type, encoding, camera', [
    ('ros2 launch repvit_ros rdk_camera.launch.py camera:=mipi_shm', '/hbmem_img', 'hbmem',
     'nv12', ('mipi_cam', 'mipi_cam.launch.py', 'mipi_io_method', 'shared_mem')),
    ('ros2 launch repvit_ros rdk_camera.launch.py camera:=usb_mjpeg', '/image', 'compressed',
     'jpeg', ('hobot_usb_cam', 'hobot_usb_cam.launch.py', 'usb_pixel_format', 'mjpeg')),
])
def test_rdk_cameras(commands, probe, stand_in_records, text, topic, msg_type, encoding,
                     camera):
    node = commands.documented_start(text)
    results = probe.listen('/repvit/classification', Classification)
    # The stand-in camera records its arguments; this test's camera publishes its frames.
    probe.camera(topic, msg_type, encoding, width=640, height=480, rate=5.0)
    classifies(node, results)
    assert node.wait_output(f'input {msg_type} on {topic}', 10), node.output
    stops_cleanly(node)
    package, launch_file, key, value = camera
    records = stand_in_records()
    assert records[(package, launch_file)][key] == value, records
    assert not any(pkg in ('hobot_codec', 'websocket') for pkg, _ in records)


def test_rdk_camera_that_already_runs(commands, probe, stand_in_records):
    node = commands.documented_start(
        'ros2 launch repvit_ros rdk_camera.launch.py camera:=mipi start_camera:=false')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw', 'image', 'nv12', width=640, height=480, rate=5.0)
    classifies(node, results)
    stops_cleanly(node)
    assert stand_in_records() == {}  # no camera started, no web display


def test_rdk_web_display(commands, probe, stand_in_records):
    node = commands.documented_start('ros2 launch repvit_ros rdk_camera.launch.py web:=true')
    results = probe.listen('/repvit/classification', Classification)
    targets = probe.listen('/repvit/perception', PerceptionTargets)
    probe.camera('/hbmem_img', 'hbmem', 'nv12', width=640, height=480, rate=5.0)
    classifies(node, results)
    assert targets.wait(2), node.output
    assert targets.messages[0].targets[0].type  # the top class's name, as the web page shows
    records = stand_in_records()
    assert records[('mipi_cam', 'mipi_cam.launch.py')]['mipi_io_method'] == 'shared_mem'
    assert records[('hobot_codec', 'hobot_codec_encode.launch.py')] == dict(
        records[('hobot_codec', 'hobot_codec_encode.launch.py')],
        codec_in_mode='shared_mem', codec_in_format='nv12', codec_sub_topic='/hbmem_img',
        codec_out_mode='ros', codec_out_format='jpeg', codec_pub_topic='/image_jpeg')
    assert records[('websocket', 'websocket.launch.py')] == dict(
        records[('websocket', 'websocket.launch.py')],
        websocket_image_topic='/image_jpeg', websocket_image_type='mjpeg',
        websocket_smart_topic='/repvit/perception', websocket_only_show_image='False')
    stops_cleanly(node)


@pytest.mark.parametrize('text, cameras', [
    ('ros2 run repvit_ros classifier --ros-args -r __ns:=/repvit -p model:=m1_0 '
     '-p image_topics:="[\'/front/image_raw\', \'/rear/image_raw\']"',
     {'/front/image_raw': 'front', '/rear/image_raw': 'rear'}),
    ('ros2 run repvit_ros classifier --ros-args -r __ns:=/repvit '
     '-p image_topics:="[\'/cam0/image_raw\', \'/cam1/image_raw\']" '
     '-p camera_names:="[\'left\', \'right\']"',
     {'/cam0/image_raw': 'left', '/cam1/image_raw': 'right'}),
    ('ros2 launch repvit_ros classify.launch.py model:=m1_0 '
     'image_topics:=/front/image_raw,/rear/image_raw',
     {'/front/image_raw': 'front', '/rear/image_raw': 'rear'}),
])
def test_several_cameras(commands, probe, text, cameras):
    node = commands.documented_start(text)
    listeners = {}
    for topic, name in cameras.items():
        listeners[name] = probe.listen(f'/repvit/{name}/classification', Classification)
        probe.camera(topic, frame_id=name)
    for name, listener in listeners.items():
        classifies(node, listener, 2)
        assert {m.header.frame_id for m in listener.messages} == {name}
    stops_cleanly(node)


@pytest.mark.parametrize('text, feeds', [
    ('ros2 launch repvit_ros classify.launch.py model:=m1_0 image_topic:=/image_raw '
     'detections_topic:=/detector/detections',
     {'/image_raw': ('/detector/detections', '/repvit/classified_detections')}),
    ('ros2 launch repvit_ros classify.launch.py image_topics:=/front/image_raw,/rear/image_raw '
     'detections_topic:=detections',
     {'/front/image_raw': ('/repvit/front/detections',
                           '/repvit/front/classified_detections'),
      '/rear/image_raw': ('/repvit/rear/detections', '/repvit/rear/classified_detections')}),
])
def test_detector_regions(commands, probe, text, feeds):
    node = commands.documented_start(text)
    listeners = []
    for image_topic, (detections, output) in feeds.items():
        listeners.append(probe.listen(output, Detection2DArray))
        probe.camera(image_topic, detections=detections)
    for listener in listeners:
        classifies(node, listener, 2)
        arr = listener.messages[0]
        assert [d.id for d in arr.detections] == ['box0', 'box1']
        assert all(len(d.results) == 5 for d in arr.detections)
    stops_cleanly(node)


def lifecycle_state(commands, attempts: int = 30) -> str:
    """Read the node's state with README's command, once the node can be found."""
    commands.wait_node(NODE)
    for _ in range(attempts):
        got = commands.documented_run('ros2 lifecycle get /repvit/repvit_classifier')
        if got.proc.returncode == 0:
            return got.answer.split()[0]
        time.sleep(1.0)  # not discovered yet
    raise AssertionError(got.output)


def test_managed_node_through_its_lifecycle(commands, probe):
    node = commands.documented_start(
        'ros2 run repvit_ros classifier_managed --ros-args -r __ns:=/repvit -p model:=m1_0')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/repvit/image')
    assert lifecycle_state(commands) == 'unconfigured'
    done = commands.documented_run('ros2 lifecycle set /repvit/repvit_classifier configure')
    assert 'Transitioning successful' in done.output, done.output + node.output
    assert lifecycle_state(commands) == 'inactive'
    done = commands.documented_run('ros2 lifecycle set /repvit/repvit_classifier activate')
    assert 'Transitioning successful' in done.output, done.output + node.output
    assert lifecycle_state(commands) == 'active'
    classifies(node, results)
    done = commands.documented_run('ros2 lifecycle set /repvit/repvit_classifier deactivate')
    assert 'Transitioning successful' in done.output, done.output
    assert lifecycle_state(commands) == 'inactive'
    for words in ('configured in', 'activated in', 'deactivated in'):
        assert node.wait_output(words, 10), node.output
    stops_cleanly(node)


def test_managed_launch_waits_for_a_lifecycle_manager(commands, probe):
    node = commands.documented_start('ros2 launch repvit_ros classify.launch.py managed:=true')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    assert lifecycle_state(commands) == 'unconfigured'
    assert not results.wait(1, timeout=2)
    commands.wait_node(NODE)  # README: "then ros2 lifecycle set ..."
    for done in (commands.documented_run('ros2 lifecycle set /repvit/repvit_classifier '
                                         'configure'),
                 commands.documented_run('ros2 lifecycle set /repvit/repvit_classifier '
                                         'activate')):
        assert 'Transitioning successful' in done.output, done.output + node.output
    classifies(node, results)
    stops_cleanly(node)


@pytest.mark.parametrize('text, topic, msg_type, encoding', [
    ('ros2 launch repvit_ros classify.launch.py managed:=true autostart:=true', '/image_raw',
     'image', 'bgr8'),
    ('ros2 launch repvit_ros rdk_camera.launch.py camera:=mipi_shm managed:=true '
     'autostart:=true', '/hbmem_img', 'hbmem', 'nv12'),
])
def test_managed_autostart(commands, probe, text, topic, msg_type, encoding):
    node = commands.documented_start(text)
    results = probe.listen('/repvit/classification', Classification)
    probe.camera(topic, msg_type, encoding, width=640, height=480, rate=5.0)
    classifies(node, results)
    assert lifecycle_state(commands) == 'active'
    stops_cleanly(node)


def test_model_switch_at_runtime(commands, probe, user_home):
    node = commands.documented_start(HEADLINE)
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    classifies(node, results)
    commands.wait_node(NODE)
    done = commands.documented_run('ros2 param set /repvit/repvit_classifier model m1_1')
    assert 'Set parameter successful' in done.output, done.output + node.output
    assert node.wait_output('repvit_m1_1_deploy.onnx'), node.output
    count = len(results.messages)
    assert results.wait(count + 3), node.output
    refused = commands.documented_run(
        'ros2 param set /repvit/repvit_classifier model_path /path/other.onnx')
    assert 'Setting parameter failed: model not switched, the old one keeps running: model ' \
           'file /path/other.onnx does not exist' in refused.output, refused.output
    count = len(results.messages)
    assert results.wait(count + 3), node.output  # the old model still classifies
    stops_cleanly(node)


def test_no_model_file_is_one_line(commands, user_home, tmp_path):
    """Without the model where download_models puts it, the headline says how to get it."""
    moved = tmp_path / 'models'
    shutil.move(str(user_home['models']), str(moved))
    try:
        node = commands.documented_start(HEADLINE)
        assert node.wait_output(r'cannot start: no m1_0 model file found .*download_models'), \
            node.output
        node.stop()
    finally:
        shutil.move(str(moved), str(user_home['models']))
