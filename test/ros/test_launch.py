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
The launch files, evaluated on stand-ins for ``launch``/``launch_ros`` (see launch_support).

A real classifier is started with the parameters a launch description produces (params file
first, read by rcl as ``ros2 launch`` has it read, given arguments over it), standalone or as
the component container would load it.
"""

import os

from composition_interfaces.srv import LoadNode
import pytest
from rclpy.parameter import Parameter
from repvit_ros import container
from repvit_ros.node import RepVitClassifier
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _start(ros_context, node_kwargs, model_path):
    """Start the classifier with a launch Node's parameters: files read by rcl, then dicts."""
    args, overrides = ['--ros-args'], {}
    for item in node_kwargs['parameters']:
        if isinstance(item, str):  # as `ros2 launch` passes it: --params-file
            args += ['--params-file', item]
        else:
            overrides.update({k: Parameter(k, value=v) for k, v in item.items()})
    overrides['model_path'] = Parameter('model_path', value=model_path)
    return RepVitClassifier(context=ros_context, cli_args=args,
                            parameter_overrides=list(overrides.values()))


@pytest.mark.parametrize('given, workers', [({}, 4), ({'threads': '3'}, 3)])
def test_given_arguments_win_over_the_params_file_and_absent_ones_do_not(
        launch_file, ros_context, synthetic_model, tmp_path, given, workers):
    params = yaml.safe_load(open(os.path.join(ROOT, 'config', 'repvit.yaml')))
    params['/**']['ros__parameters'].update(threads=4, model='m0_9')
    path = tmp_path / 'mine.yaml'
    path.write_text(yaml.safe_dump(params))
    _, _, _, nodes = launch_file('classify.launch.py', params_file=str(path), **given)
    node = _start(ros_context, nodes[0], synthetic_model('m0_9'))
    try:
        assert node.settings.threads == workers
        assert node.settings.model == 'm0_9'  # from the file: no model:= given
    finally:
        node.destroy_node()


def test_classify_launch_arguments(launch_file):
    module, declared, _, nodes = launch_file('classify.launch.py')
    assert set(declared) == {'model', 'model_path', 'labels_path', 'threads', 'input_type',
                             'backend', 'perception_topic', 'autostart', 'image_topic',
                             'image_topics', 'camera_names', 'detections_topic',
                             'params_file', 'namespace', 'log_level', 'managed',
                             'composable', 'container'}
    for name in module.PARAMETER_ARGUMENTS:  # nothing overrides the file unless given
        assert declared[name]['default_value'] == ''
    assert declared['params_file']['default_value'].endswith('config/repvit.yaml')
    (node,) = nodes
    assert node['parameters'] == [declared['params_file']['default_value']]
    assert node['namespace'] == 'repvit' and node['remappings'] == [('image', '/image_raw')]
    assert node['executable'] == 'classifier'
    _, _, _, (node,) = launch_file('classify.launch.py', model='m0_9', threads='3',
                                   input_type='compressed')
    assert node['parameters'][1] == {'model': 'm0_9', 'threads': 3, 'input_type': 'compressed'}
    with pytest.raises(RuntimeError, match='threads:=many is not int'):
        launch_file('classify.launch.py', threads='many')


@pytest.mark.parametrize('given', ['/front/image_raw,/rear/image_raw',
                                   "['/front/image_raw', '/rear/image_raw']"])
def test_two_cameras_and_detector_regions_from_launch_arguments(launch_file, ros_context,
                                                                synthetic_model, given):
    _, _, _, (node_kwargs,) = launch_file('classify.launch.py', image_topics=given,
                                          detections_topic='detections')
    assert node_kwargs['parameters'][1] == {
        'image_topics': ['/front/image_raw', '/rear/image_raw'],
        'detections_topic': 'detections'}
    node = _start(ros_context, node_kwargs, synthetic_model('m0_9'))
    try:
        assert node.cameras == ('front', 'rear')
        assert node.settings.detections_topic == 'detections'
    finally:
        node.destroy_node()
    with pytest.raises(RuntimeError, match='image_topics:=a,,b is not a comma-separated'):
        launch_file('classify.launch.py', image_topics='a,,b')


@pytest.mark.parametrize('given, executable, autostart', [
    ({}, 'classifier', None), ({'managed': 'true'}, 'classifier_managed', None),
    ({'managed': 'true', 'autostart': 'true'}, 'classifier_managed', True)])
def test_managed_and_autostart(launch_file, given, executable, autostart):
    _, _, _, (node,) = launch_file('classify.launch.py', **given)
    assert node['executable'] == executable
    overrides = node['parameters'][1] if len(node['parameters']) > 1 else {}
    assert overrides.get('autostart') is autostart
    with pytest.raises(RuntimeError, match='autostart:=maybe is not true or false'):
        launch_file('classify.launch.py', managed='true', autostart='maybe')


def test_managed_autostart_from_the_launch_description_runs_like_the_plain_node(
        launch_file, ros_context, synthetic_model):
    from repvit_ros.managed import ManagedRepVitClassifier
    _, _, _, (node_kwargs,) = launch_file('classify.launch.py', managed='true',
                                          autostart='true')
    overrides = [Parameter(k, value=v) for k, v in node_kwargs['parameters'][1].items()]
    overrides.append(Parameter('model_path', value=synthetic_model('m0_9')))
    node = ManagedRepVitClassifier(context=ros_context, parameter_overrides=overrides)
    try:
        assert node.settings is not None and node.input_qos is None  # auto QoS: no camera yet
        assert node.classifier.backend.path == synthetic_model('m0_9')
    finally:
        node.destroy_node()


def test_every_parameter_argument_is_a_node_parameter(launch_file, ros_context,
                                                      synthetic_model):
    module, _, _, _ = launch_file('classify.launch.py')
    node = RepVitClassifier(context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9'))])
    try:
        assert set(module.PARAMETER_ARGUMENTS) <= set(node.get_parameters_by_prefix(''))
    finally:
        node.destroy_node()


def test_rdk_camera_launch_passes_only_classify_arguments(launch_file):
    _, classify, _, _ = launch_file('classify.launch.py')
    module, declared, actions, _ = launch_file('rdk_camera.launch.py')
    assert set(module.CAMERAS) == {'mipi_shm', 'mipi', 'usb_mjpeg'}
    assert module.CAMERAS['mipi_shm'] == {'image_topic': '/hbmem_img', 'input_type': 'hbmem'}
    assert declared['camera']['default_value'] in module.CAMERAS
    assert declared['model']['default_value'] == declared['threads']['default_value'] == ''
    includes = [a for a in actions if type(a).__name__ == 'IncludeLaunchDescription']
    assert len(includes) == len(module.CAMERAS)
    for include in includes:
        passed = dict(include.kwargs['launch_arguments'])
        assert set(passed) <= set(classify)
        assert passed['input_type'] in ('image', 'compressed', 'hbmem')


def test_composable_starts_this_packages_container_with_the_classifier(launch_file):
    _, declared, _, (started,) = launch_file('classify.launch.py', composable='true')
    assert (started['package'], started['executable']) == ('repvit_ros', 'component_container')
    assert (started['name'], started['namespace']) == ('repvit_container', 'repvit')
    assert started['arguments'] == ['--ros-args', '--log-level', 'info']
    (node,) = started['composable_node_descriptions']
    assert (node['package'], node['plugin']) == ('repvit_ros', 'repvit_ros::RepVitClassifier')
    assert (node['name'], node['namespace']) == ('repvit_classifier', 'repvit')
    assert node['remappings'] == [('image', '/image_raw')]
    assert node['parameters'] is None  # nothing given: all from the params file
    assert node['extra_arguments'] == [{'params_file': declared['params_file']['default_value'],
                                        'log_level': 'info'}]
    _, _, _, (started,) = launch_file('classify.launch.py', composable='true', managed='true',
                                      threads='3', log_level='warn')
    (node,) = started['composable_node_descriptions']
    assert node['plugin'] == 'repvit_ros::ManagedRepVitClassifier'
    assert node['parameters'] == [{'threads': 3}]
    assert node['extra_arguments'][0]['log_level'] == 'warn'


def test_container_loads_into_a_running_container(launch_file):
    _, _, _, (load,) = launch_file('classify.launch.py', container='/robot/perception',
                                   image_topic='/front/image_raw')
    assert load['target_container'] == '/robot/perception'
    (node,) = load['composable_node_descriptions']
    assert node['plugin'] == 'repvit_ros::RepVitClassifier'
    assert node['remappings'] == [('image', '/front/image_raw')]
    with pytest.raises(RuntimeError, match='give one of them'):
        launch_file('classify.launch.py', container='/x', composable='true')


def _load_request(node):
    """Build the LoadNode request launch_ros sends for a ComposableNode (its evaluated kwargs)."""
    def params(items):
        return [Parameter(k, value=v).to_parameter_msg() for d in items or [] for k, v in
                d.items()]
    return LoadNode.Request(
        package_name=node['package'], plugin_name=node['plugin'], node_name=node['name'],
        node_namespace='/' + node['namespace'],
        remap_rules=[f'{a}:={b}' for a, b in node['remappings']],
        parameters=params(node['parameters']), extra_arguments=params(node['extra_arguments']))


@pytest.mark.parametrize('given, workers', [({}, 4), ({'threads': '3'}, 3)])
def test_composed_classifier_gets_what_the_standalone_one_gets(
        launch_file, ros_context, synthetic_model, tmp_path, given, workers):
    params = yaml.safe_load(open(os.path.join(ROOT, 'config', 'repvit.yaml')))
    params['/**']['ros__parameters'].update(threads=4, model='m0_9',
                                            model_path=synthetic_model('m0_9'))
    path = tmp_path / 'mine.yaml'
    path.write_text(yaml.safe_dump(params))
    _, _, _, (started,) = launch_file('classify.launch.py', composable='true',
                                      params_file=str(path), **given)
    request = _load_request(started['composable_node_descriptions'][0])
    options = container.NodeOptions.from_request(request)
    node = container.create_node(RepVitClassifier, {**options.kwargs, 'context': ros_context})
    try:
        assert node.get_fully_qualified_name() == '/repvit/repvit_classifier'
        assert node.settings.threads == workers
        assert node.settings.model == 'm0_9'  # from the file, read by rcl as for a process
        assert node.settings.image_topics == ()  # the file's [] (launch_ros refuses it)
        assert node.resolve_topic_name('image') == '/image_raw'
    finally:
        node.destroy_node()


def test_readme_shows_the_composed_launch_file():
    readme = open(os.path.join(ROOT, 'README.md')).read()
    block = readme.split('(`launch/composed.launch.py`')[1].split('```python\n')[1]
    lines = block.split('```')[0].rstrip('\n').split('\n')
    indented = [f'    {line}' if line else line for line in lines[1:]]
    shipped = '\n'.join(['    container = ' + lines[0]] + indented)
    assert shipped in open(os.path.join(ROOT, 'launch', 'composed.launch.py')).read()
