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
classify.launch.py under launch_testing, the ROS 2 way to test a launch file.

Run by ``launch_test`` (test_launch_files.py does): the launch file is included as a user's
own launch file would include it, a camera in the test publishes frames, the results are read
back, and after shutdown every process must have exited cleanly (exit code 0 after SIGINT).
"""

import os
import time
import unittest

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare
import launch_testing
import launch_testing.actions
import launch_testing.asserts
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.messages import make_message
from vision_msgs.msg import Classification

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def generate_test_description():
    classify = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('repvit_ros'), 'launch', 'classify.launch.py'])),
        launch_arguments={'model': 'm0_9', 'namespace': 'included',
                          'image_topic': '/included_camera'}.items())
    return LaunchDescription([classify, launch_testing.actions.ReadyToTest()])


class TestTheIncludedClassifier(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('launch_testing_camera')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_frames_in_results_out(self, proc_output):
        results = []
        self.node.create_subscription(Classification, '/included/classification',
                                      results.append, RELIABLE)
        pub = self.node.create_publisher(message_class('image'), '/included_camera', RELIABLE)
        frame = make_message('image', sample_picture(160, 120), 'bgr8', 0, frame_id='lt')
        deadline = time.monotonic() + float(os.environ.get('LAUNCH_TEST_TIMEOUT', '90'))
        while len(results) < 3 and time.monotonic() < deadline:
            pub.publish(frame)
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertGreaterEqual(len(results), 3)
        self.assertEqual(results[0].header.frame_id, 'lt')
        proc_output.assertWaitFor('repvit_m0_9_deploy.onnx', timeout=10)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exited_cleanly(self, proc_info, proc_output):
        launch_testing.asserts.assertExitCodes(proc_info)
        for line in proc_output:
            self.assertNotIn('Traceback', line.text.decode())
