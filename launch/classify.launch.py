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
Start the RepViT classifier: ros2 launch repvit_ros classify.launch.py model:=m1_0.

Parameters come from ``params_file`` (default: the package's config/repvit.yaml). The launch
arguments that mirror parameters (model, model_path, threads, input_type, backend, image_topics,
detections_topic, ...) are empty by default and override the file only when given on the command
line: ``threads:=3`` wins over the file's ``threads``, and a file's ``threads: 4`` holds when
``threads:=`` is not given.

``composable:=true`` starts this package's component container (repvit_container in the
namespace) and loads the classifier into it; ``container:=NAME`` loads it into a running
container, e.g. one started by another launch file with other Python nodes. Either way every
other argument means what it means for the standalone node.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import ComposableNodeContainer, LoadComposableNodes, Node
from launch_ros.descriptions import ComposableNode


def _flag(text):
    """Read a launch argument as a bool, as launch does (true/false, 1/0)."""
    if text.lower() in ('true', '1'):
        return True
    if text.lower() in ('false', '0'):
        return False
    raise ValueError(text)


def _names(text):
    """Read a list launch argument: comma-separated names, or a YAML-style ['a', 'b']."""
    items = [t.strip().strip('\'"') for t in text.strip().strip('[]').split(',')]
    if any(not t for t in items):
        raise ValueError(text)
    return items


# How a launch argument's text becomes a parameter value, and what it must be, in words.
TEXT = (str, 'a string')
INTEGER = (int, 'int')
FLAG = (_flag, 'true or false')
NAMES = (_names, 'a comma-separated list of names')

# Launch arguments that set a node parameter when given: name -> (reading, description).
PARAMETER_ARGUMENTS = {
    'model': (TEXT, 'RepViT size: m0_9, m1_0 or m1_1'),
    'model_path': (TEXT, 'model file (.bin or .onnx), instead of model'),
    'labels_path': (TEXT, 'class names file, one per model output'),
    'threads': (INTEGER, 'inference workers'),
    'input_type': (TEXT, 'image, compressed or hbmem'),
    'backend': (TEXT, 'auto, hbm_runtime, pyeasy_dnn or onnxruntime'),
    'perception_topic': (TEXT, 'ai_msgs/PerceptionTargets topic for the RDK web display'),
    'image_topics': (NAMES, 'several cameras through one node: their topics, comma-separated '
                            '(image_topic is then unused)'),
    'camera_names': (NAMES, 'names of the image_topics cameras, comma-separated'),
    'detections_topic': (TEXT, 'classify the boxes of a Detection2DArray on this topic'),
    'autostart': (FLAG, 'with managed:=true, configure and activate at start'),
}


def parameter_overrides(given):
    """
    Turn the launch arguments given on the command line into parameter values.

    :param given: launch argument name -> its value ('' when not given).
    :return: parameter name -> typed value, for the arguments that were given.
    """
    overrides = {}
    for name, ((read, words), _) in PARAMETER_ARGUMENTS.items():
        value = given.get(name, '')
        if value == '':
            continue
        try:
            overrides[name] = read(value)
        except ValueError:
            raise RuntimeError(f'launch argument {name}:={value} is not {words}') from None
    return overrides


def _classifier(context):
    given = {name: LaunchConfiguration(name).perform(context) for name in PARAMETER_ARGUMENTS}
    overrides = parameter_overrides(given)
    managed = _flag(LaunchConfiguration('managed').perform(context))
    container = LaunchConfiguration('container').perform(context)
    composable = _flag(LaunchConfiguration('composable').perform(context))
    if not container and not composable:
        return [Node(
            package='repvit_ros',
            executable='classifier_managed' if managed else 'classifier',
            name='repvit_classifier',
            namespace=LaunchConfiguration('namespace'),
            parameters=[LaunchConfiguration('params_file')] + ([overrides] if overrides else []),
            remappings=[('image', LaunchConfiguration('image_topic'))],
            arguments=['--ros-args', '--log-level', LaunchConfiguration('log_level')],
            output='screen',
        )]
    if container and composable:
        raise RuntimeError('container:=NAME loads into a running container and composable:=true '
                           'starts one: give one of them')
    node = ComposableNode(
        package='repvit_ros',
        plugin=f'repvit_ros::{"ManagedRepVitClassifier" if managed else "RepVitClassifier"}',
        name='repvit_classifier',
        namespace=LaunchConfiguration('namespace'),
        parameters=[overrides] if overrides else None,
        remappings=[('image', LaunchConfiguration('image_topic'))],
        # The container's own: rcl reads the params file for the node as for a standalone one
        # (launch_ros would read it itself, and refuses its empty lists), and launch_ros sets
        # no log level in a load request.
        extra_arguments=[{'params_file': LaunchConfiguration('params_file'),
                          'log_level': LaunchConfiguration('log_level')}],
    )
    if container:
        return [LoadComposableNodes(target_container=container,
                                    composable_node_descriptions=[node])]
    return [ComposableNodeContainer(
        name='repvit_container',
        namespace=LaunchConfiguration('namespace'),
        package='repvit_ros',
        executable='component_container',
        composable_node_descriptions=[node],
        arguments=['--ros-args', '--log-level', LaunchConfiguration('log_level')],
        output='screen',
    )]


def generate_launch_description():
    share = get_package_share_directory('repvit_ros')
    args = [DeclareLaunchArgument(name, default_value='',
                                  description=f'{text} (default: from params_file)')
            for name, (_, text) in PARAMETER_ARGUMENTS.items()]
    args += [
        DeclareLaunchArgument('image_topic', default_value='/image_raw',
                              description='camera topic (mipi_cam ROS mode: /image_raw)'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'repvit.yaml'),
                              description='parameters YAML'),
        DeclareLaunchArgument('namespace', default_value='repvit',
                              description='namespace of the node and its topics'),
        DeclareLaunchArgument('log_level', default_value='info', description='log level'),
        DeclareLaunchArgument('managed', default_value='false',
                              description='true: the lifecycle node classifier_managed '
                                          '(configure and activate it, or autostart:=true)'),
        DeclareLaunchArgument('composable', default_value='false',
                              description='true: start a component container '
                                          '(<namespace>/repvit_container) and load the '
                                          'classifier into it'),
        DeclareLaunchArgument('container', default_value='',
                              description='load the classifier into this running component '
                                          'container (repvit_ros component_container)'),
    ]
    return LaunchDescription(args + [OpaqueFunction(function=_classifier)])
