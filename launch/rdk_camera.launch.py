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
The camera and the classifier on the RDK: ros2 launch repvit_ros rdk_camera.launch.py.

camera:=mipi_shm   mipi_cam in shared memory: hbmem_img (hbm_img_msgs/HbmMsg1080P, NV12);
                   run it in the hobot_shm environment, as D-Robotics' examples do.
camera:=mipi       mipi_cam in ROS mode: sensor_msgs/Image nv12 on /image_raw.
camera:=usb_mjpeg  hobot_usb_cam MJPEG: sensor_msgs/CompressedImage (jpeg) on /image.

The camera is started through its own package's launch file (mipi_cam's mipi_cam.launch.py or
hobot_usb_cam's hobot_usb_cam.launch.py), as D-Robotics' examples start it; any argument of
that file given here passes through (mipi_video_device:=F37, usb_video_device:=/dev/video0,
mipi_image_width:=1920 ...). start_camera:=false classifies a camera that already runs.

web:=true also starts the RDK web display (http://<board-ip>:8000): the classifier publishes
ai_msgs/PerceptionTargets on /repvit/perception, D-Robotics' hobot_codec encodes the camera's
NV12 to JPEG on /image_jpeg (a USB MJPEG camera's own JPEG is shown as it comes, no codec), and
D-Robotics' websocket serves both to the browser.
"""

from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, GroupAction, IncludeLaunchDescription,
                            SetLaunchConfiguration)
from launch.conditions import IfCondition, LaunchConfigurationEquals
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

CAMERAS = {
    'mipi_shm': {'image_topic': '/hbmem_img', 'input_type': 'hbmem'},
    'mipi': {'image_topic': '/image_raw', 'input_type': 'image'},
    'usb_mjpeg': {'image_topic': '/image', 'input_type': 'compressed'},
}
# The camera's own launch file per choice: (package, launch file, arguments). Argument names
# as declared in D-Robotics/hobot_mipi_cam launch/mipi_cam.launch.py and
# HorizonRDK/hobot_usb_cam launch/hobot_usb_cam.launch.py; realtime stamps as in hobot_dnn's
# examples (dnn_node_example.launch.py), so results carry wall-clock stamps.
CAMERA_LAUNCH = {
    'mipi_shm': ('mipi_cam', 'mipi_cam.launch.py', {
        'mipi_io_method': 'shared_mem', 'mipi_out_format': 'nv12',
        'mipi_frame_ts_type': 'realtime'}),
    'mipi': ('mipi_cam', 'mipi_cam.launch.py', {
        'mipi_io_method': 'ros', 'mipi_out_format': 'nv12', 'mipi_frame_ts_type': 'realtime'}),
    'usb_mjpeg': ('hobot_usb_cam', 'hobot_usb_cam.launch.py', {'usb_pixel_format': 'mjpeg'}),
}
# The classifier's ai_msgs/PerceptionTargets topic when web:=true (namespace repvit).
PERCEPTION_TOPIC = '/repvit/perception'
# JPEG the web page shows, per camera: (websocket image_topic, hobot_codec_encode.launch.py
# arguments, or None where the camera's own JPEG is shown). Argument names as declared in
# HorizonRDK/hobot_codec launch/hobot_codec_encode.launch.py (codec_in_mode: ros or
# shared_mem, codec_in_format, codec_out_mode, codec_out_format, codec_sub_topic,
# codec_pub_topic); its defaults are shared-mem nv12 from /hbmem_img to ros jpeg /image_jpeg.
_JPEG_OUT = {'codec_out_mode': 'ros', 'codec_out_format': 'jpeg',
             'codec_pub_topic': '/image_jpeg'}
WEB_IMAGES = {
    'mipi_shm': ('/image_jpeg', dict(_JPEG_OUT, codec_in_mode='shared_mem',
                                     codec_in_format='nv12', codec_sub_topic='/hbmem_img')),
    'mipi': ('/image_jpeg', dict(_JPEG_OUT, codec_in_mode='ros', codec_in_format='nv12',
                                 codec_sub_topic='/image_raw')),
    'usb_mjpeg': ('/image', None),
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
        DeclareLaunchArgument('start_camera', default_value='true',
                              description='start the camera (false: it already runs)'),
        DeclareLaunchArgument('web', default_value='false',
                              description='also start the RDK web display (port 8000)'),
        DeclareLaunchArgument('managed', default_value='false',
                              description='true: the lifecycle node classifier_managed'),
        DeclareLaunchArgument('autostart', default_value='',
                              description='with managed:=true, configure and activate at start'),
        # Empty (the params_file's value) unless web:=true.
        SetLaunchConfiguration('repvit_perception_topic', ''),
        SetLaunchConfiguration('repvit_perception_topic', PERCEPTION_TOPIC,
                               condition=IfCondition(LaunchConfiguration('web'))),
    ]
    for camera, args in CAMERAS.items():
        launch_args = dict(args, model=LaunchConfiguration('model'),
                           threads=LaunchConfiguration('threads'),
                           managed=LaunchConfiguration('managed'),
                           autostart=LaunchConfiguration('autostart'),
                           perception_topic=LaunchConfiguration('repvit_perception_topic'))
        actions.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(classify), launch_arguments=launch_args.items(),
            condition=LaunchConfigurationEquals('camera', camera)))
    actions.append(GroupAction(_cameras(), condition=IfCondition(
        LaunchConfiguration('start_camera'))))
    actions.append(GroupAction(_web_display(), condition=IfCondition(LaunchConfiguration('web'))))
    return LaunchDescription(actions)


def _cameras():
    """Include the camera's own launch file, one per choice, each only for its choice."""
    return [IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare(package), 'launch', launch_file])),
        launch_arguments=arguments.items(), condition=LaunchConfigurationEquals('camera', camera))
        for camera, (package, launch_file, arguments) in CAMERA_LAUNCH.items()]


def _web_display():
    """JPEG encoder (where the camera gives NV12) and websocket, one group per camera."""
    groups = []
    for camera, (image_topic, codec_args) in WEB_IMAGES.items():
        started = []
        if codec_args is not None:
            started.append(IncludeLaunchDescription(
                PythonLaunchDescriptionSource(PathJoinSubstitution(
                    [FindPackageShare('hobot_codec'), 'launch', 'hobot_codec_encode.launch.py'])),
                launch_arguments=codec_args.items()))
        # websocket's own launch file (D-Robotics/hobot_websocket launch/websocket.launch.py)
        # also starts the nginx that serves the page on port 8000; its arguments set the
        # node's image_topic, image_type (mjpeg: sensor_msgs/CompressedImage JPEG),
        # smart_topic and only_show_image parameters.
        started.append(IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution(
                [FindPackageShare('websocket'), 'launch', 'websocket.launch.py'])),
            launch_arguments={'websocket_image_topic': image_topic,
                              'websocket_image_type': 'mjpeg',
                              'websocket_smart_topic': PERCEPTION_TOPIC,
                              'websocket_only_show_image': 'False'}.items()))
        groups.append(GroupAction(started, condition=LaunchConfigurationEquals('camera', camera)))
    return groups
