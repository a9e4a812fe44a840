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
RDK camera paths: ros2 launch repvit_ros rdk_camera.launch.py camera:=mipi_shm.

camera:=mipi_shm   mipi_cam's default shared-memory topic hbmem_img (hbm_img_msgs/HbmMsg1080P,
                   best effort); start mipi_cam and this launch with the hobot_shm environment.
camera:=mipi       mipi_cam in ROS mode: sensor_msgs/Image nv12 on /image_raw.
camera:=usb_mjpeg  hobot_usb_cam MJPEG: sensor_msgs/CompressedImage (jpeg) on /image.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.conditions import LaunchConfigurationEquals
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

CAMERAS = {
    'mipi_shm': {'image_topic': '/hbmem_img', 'input_type': 'hbmem'},
    'mipi': {'image_topic': '/image_raw', 'input_type': 'image'},
    'usb_mjpeg': {'image_topic': '/image', 'input_type': 'compressed'},
}


def generate_launch_description():
    classify = PathJoinSubstitution([FindPackageShare('repvit_ros'), 'launch',
                                     'classify.launch.py'])
    actions = [
        DeclareLaunchArgument('camera', default_value='mipi_shm',
                              description='mipi_shm, mipi or usb_mjpeg'),
        # Empty: classify.launch.py then leaves these to its params_file.
        DeclareLaunchArgument('model', default_value='', description='RepViT size'),
        DeclareLaunchArgument('threads', default_value='', description='inference workers'),
    ]
    for camera, args in CAMERAS.items():
        launch_args = dict(args, model=LaunchConfiguration('model'),
                           threads=LaunchConfiguration('threads'))
        actions.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(classify), launch_arguments=launch_args.items(),
            condition=LaunchConfigurationEquals('camera', camera)))
    return LaunchDescription(actions)
