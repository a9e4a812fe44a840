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
rdk_camera.launch.py web:=true, evaluated on the launch stand-ins (see launch_support).

The description is walked as ``ros2 launch`` would: conditions decide, launch configurations
set on the way are seen by later actions, and each include that runs is reported as the launch
file it names (package, file) with its arguments resolved.
"""

import pytest

CODEC = ('hobot_codec', 'hobot_codec_encode.launch.py')
WEBSOCKET = ('websocket', 'websocket.launch.py')
CLASSIFY = ('repvit_ros', 'classify.launch.py')


def _value(value, config):
    """
    Resolve a substitution as the stand-ins record it.

    A launch configuration gives its value, FindPackageShare(package) the package and
    PathJoinSubstitution([...]) the tuple of its resolved parts.
    """
    if type(value).__name__ == 'LaunchConfiguration':
        return config[value.args[0]]
    if hasattr(value, 'args') and isinstance(value.args[0], str):
        return value.args[0]
    if hasattr(value, 'args') and isinstance(value.args[0], list):
        return tuple(_value(v, config) for v in value.args[0])
    return value


def _holds(condition, config):
    if condition is None:
        return True
    kind = type(condition).__name__
    if kind == 'LaunchConfigurationEquals':
        name, expected = condition.args
        return config[name] == expected
    value = str(_value(condition.args[0], config)).lower()
    assert value in ('true', 'false', '1', '0'), f'not a boolean: {value!r}'
    return (value in ('true', '1')) == (kind == 'IfCondition')


def _run(actions, config):
    """Yield (package, launch file, resolved arguments) of every include that would run."""
    for action in actions:
        if not _holds(action.kwargs.get('condition'), config):
            continue
        kind = type(action).__name__
        if kind == 'DeclareLaunchArgument':
            config.setdefault(action.args[0], action.kwargs['default_value'])
        elif kind == 'SetLaunchConfiguration':
            config[action.args[0]] = _value(action.args[1], config)
        elif kind == 'GroupAction':
            yield from _run(action.args[0], dict(config))  # scoped, as by default
        elif kind == 'IncludeLaunchDescription':
            package, _, name = _value(action.args[0].args[0], config)
            args = {k: _value(v, config) for k, v in action.kwargs.get('launch_arguments', ())}
            yield package, name, args
        else:
            raise AssertionError(f'unexpected action {kind} in rdk_camera.launch.py')


@pytest.fixture
def started(launch_file):
    """Evaluate rdk_camera.launch.py for command-line arguments: {(package, file): args}."""
    def run(**given):
        module, declared, actions, nodes = launch_file('rdk_camera.launch.py', **given)
        assert nodes == []  # everything is started through includes
        runs = list(_run(actions, dict(given)))
        by_file = {(package, name): args for package, name, args in runs}
        assert len(by_file) == len(runs), f'a launch file is included twice: {runs}'
        return module, by_file
    return run


@pytest.mark.parametrize('camera', ['mipi_shm', 'mipi', 'usb_mjpeg'])
def test_web_false_starts_the_classifier_alone(started, camera):
    _, default = started(camera=camera)
    _, off = started(camera=camera, web='false')
    for runs in (default, off):
        assert set(runs) == {CLASSIFY}
        assert runs[CLASSIFY]['perception_topic'] == ''  # the params file decides: off


def test_web_true_on_mipi_shm_encodes_shared_memory_nv12(started):
    module, runs = started(camera='mipi_shm', web='true')
    assert set(runs) == {CLASSIFY, CODEC, WEBSOCKET}
    topic = runs[CLASSIFY]['perception_topic']
    assert topic == module.PERCEPTION_TOPIC == '/repvit/perception'
    assert runs[CLASSIFY]['image_topic'] == '/hbmem_img'
    assert runs[CODEC] == {'codec_in_mode': 'shared_mem', 'codec_in_format': 'nv12',
                           'codec_sub_topic': '/hbmem_img', 'codec_out_mode': 'ros',
                           'codec_out_format': 'jpeg', 'codec_pub_topic': '/image_jpeg'}
    assert runs[WEBSOCKET] == {'websocket_image_topic': '/image_jpeg',
                               'websocket_image_type': 'mjpeg',
                               'websocket_smart_topic': topic,
                               'websocket_only_show_image': 'False'}


def test_web_true_on_mipi_ros_mode_encodes_the_image_raw_topic(started):
    _, runs = started(camera='mipi', web='true')
    assert set(runs) == {CLASSIFY, CODEC, WEBSOCKET}
    assert runs[CODEC]['codec_in_mode'] == 'ros'
    assert runs[CODEC]['codec_in_format'] == 'nv12'
    assert runs[CODEC]['codec_sub_topic'] == runs[CLASSIFY]['image_topic'] == '/image_raw'
    assert runs[CODEC]['codec_pub_topic'] == runs[WEBSOCKET]['websocket_image_topic']
    assert runs[WEBSOCKET]['websocket_smart_topic'] == runs[CLASSIFY]['perception_topic']


def test_web_true_on_usb_mjpeg_shows_the_cameras_own_jpeg(started):
    _, runs = started(camera='usb_mjpeg', web='true')
    assert set(runs) == {CLASSIFY, WEBSOCKET}  # no re-encoding
    assert runs[WEBSOCKET]['websocket_image_topic'] == runs[CLASSIFY]['image_topic'] == '/image'
    assert runs[WEBSOCKET]['websocket_image_type'] == 'mjpeg'
    assert runs[WEBSOCKET]['websocket_smart_topic'] == runs[CLASSIFY]['perception_topic']


def test_web_argument_and_wiring_tables(started, launch_file):
    module, _ = started()
    _, declared, _, _ = launch_file('rdk_camera.launch.py')
    assert declared['web']['default_value'] == 'false'
    assert set(module.WEB_IMAGES) == set(module.CAMERAS)
    _, classify, _, _ = launch_file('classify.launch.py')
    assert 'perception_topic' in classify and classify['perception_topic']['default_value'] == ''
    for camera, (image_topic, codec) in module.WEB_IMAGES.items():
        if codec is None:  # the camera's own JPEG
            assert module.CAMERAS[camera]['input_type'] == 'compressed'
            assert image_topic == module.CAMERAS[camera]['image_topic']
        else:
            assert codec['codec_sub_topic'] == module.CAMERAS[camera]['image_topic']
            assert image_topic == codec['codec_pub_topic']
