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

"""Start the RepViT classifier: ros2 launch repvit_ros classify.launch.py model:=m1_0."""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    share = get_package_share_directory('repvit_ros')
    args = [
        DeclareLaunchArgument('model', default_value='m1_0',
                              description='RepViT size: m0_9, m1_0 or m1_1'),
        DeclareLaunchArgument('threads', default_value='2', description='inference workers'),
        DeclareLaunchArgument('image_topic', default_value='/image_raw',
                              description='camera topic (mipi_cam ROS mode: /image_raw)'),
        DeclareLaunchArgument('input_type', default_value='image',
                              description='image, compressed or hbmem'),
        DeclareLaunchArgument('backend', default_value='auto',
                              description='auto, hbm_runtime, pyeasy_dnn or onnxruntime'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'repvit.yaml'),
                              description='parameters YAML'),
        DeclareLaunchArgument('namespace', default_value='repvit',
                              description='namespace of the node and its topics'),
        DeclareLaunchArgument('log_level', default_value='info', description='log level'),
    ]
    node = Node(
        package='repvit_ros',
        executable='classifier',
        name='repvit_classifier',
        namespace=LaunchConfiguration('namespace'),
        parameters=[
            LaunchConfiguration('params_file'),
            {
                'model': LaunchConfiguration('model'),
                'threads': ParameterValue(LaunchConfiguration('threads'), value_type=int),
                'input_type': LaunchConfiguration('input_type'),
                'backend': LaunchConfiguration('backend'),
            },
        ],
        remappings=[('image', LaunchConfiguration('image_topic'))],
        arguments=['--ros-args', '--log-level', LaunchConfiguration('log_level')],
        output='screen',
    )
    return LaunchDescription(args + [node])
