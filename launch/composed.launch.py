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
Two Python nodes in one process: a camera stand-in and the classifier in one component container.

ros2 launch repvit_ros composed.launch.py. The example of docs/composition.md: replace
the frame source with any Python node a package registers (or with a second classifier).
"""

from launch import LaunchDescription
from launch_ros.actions import ComposableNodeContainer
from launch_ros.descriptions import ComposableNode


def generate_launch_description():
    container = ComposableNodeContainer(
        name='perception', namespace='',
        package='repvit_ros', executable='component_container', output='screen',
        composable_node_descriptions=[
            ComposableNode(  # synthetic pictures, like the RDK camera's 960x544 NV12 frames
                package='repvit_ros', plugin='repvit_ros::FrameSource', name='camera',
                remappings=[('image', '/image_raw')],
                parameters=[{'encoding': 'nv12', 'width': 960, 'height': 544, 'rate': 30.0}]),
            ComposableNode(
                package='repvit_ros', plugin='repvit_ros::RepVitClassifier',
                name='repvit_classifier', namespace='repvit',
                remappings=[('image', '/image_raw')],
                parameters=[{'model': 'm1_0', 'threads': 2}]),
        ])
    return LaunchDescription([container])
