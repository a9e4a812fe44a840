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

"""The dev environment is real ROS 2: an Image crosses Fast DDS and vision_msgs is importable."""

from conftest import spin_until
import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification, LabelInfo, ObjectHypothesis, VisionClass


def test_image_round_trip_over_dds(ros_context, executor):
    node = rclpy.create_node('env_pub', context=ros_context)
    sub_node = rclpy.create_node('env_sub', context=ros_context)
    executor.add_node(node)
    executor.add_node(sub_node)
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    received = []
    pub = node.create_publisher(Image, 'env_image', qos)
    sub_node.create_subscription(Image, 'env_image', received.append, qos)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0)

    pixels = np.arange(64 * 48 * 3, dtype=np.uint32).astype(np.uint8)
    msg = Image(height=48, width=64, encoding='rgb8', step=64 * 3, data=pixels.tobytes())
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec = 42
    pub.publish(msg)
    assert spin_until(executor, lambda: received)
    got = received[0]
    assert (got.height, got.width, got.encoding, got.header.frame_id) == (48, 64, 'rgb8', 'camera')
    assert got.header.stamp.sec == 42
    assert np.array_equal(np.frombuffer(got.data, np.uint8), pixels)
    node.destroy_node()
    sub_node.destroy_node()


def test_vision_msgs_test_copy_has_upstream_fields():
    cls = Classification(results=[ObjectHypothesis(class_id='281', score=0.5)])
    assert cls.results[0].class_id == '281'
    assert set(Classification.get_fields_and_field_types()) == {'header', 'results'}
    assert ObjectHypothesis.get_fields_and_field_types() == {'class_id': 'string',
                                                             'score': 'double'}
    assert LabelInfo.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'class_map': 'sequence<vision_msgs/VisionClass>',
        'threshold': 'float'}
    assert VisionClass.get_fields_and_field_types() == {'class_id': 'uint16',
                                                        'class_name': 'string'}
