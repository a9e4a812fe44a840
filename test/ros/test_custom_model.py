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


"""A fine-tuned 12-class model with its 12-line labels file through the real node over DDS."""

import os
import sys

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_support import matched, spin_until
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification, LabelInfo

# The known-answer model and its helpers live with the unit tests (pure, no ROS).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'unit'))
from test_classifier import colours, NAMES12, write_colour_model  # noqa: E402, I100

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
PROTOS = [tuple(int(v) for v in p) for p in colours(12)]


def _node(context, model, labels, **params):
    # Imported here: the node module is being refactored and must not break collection.
    from repvit_ros.node import RepVitClassifier
    overrides = [Parameter('model_path', value=model), Parameter('labels_path', value=labels),
                 Parameter('backend', value='onnxruntime'),
                 Parameter('qos_reliability', value='reliable')]
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    return RepVitClassifier(namespace='custom', context=context, parameter_overrides=overrides)


def _image(rgb, stamp):
    msg = Image()
    msg.header.stamp.sec = stamp
    msg.header.frame_id = 'camera'
    msg.height, msg.width, msg.encoding, msg.step = 96, 96, 'bgr8', 96 * 3
    msg.data = np.full((96, 96, 3), rgb[::-1], np.uint8).tobytes()
    return msg


@pytest.fixture
def files(tmp_path):
    model = write_colour_model(tmp_path / 'fruit12.onnx', PROTOS)
    labels = tmp_path / 'fruit12.txt'
    labels.write_text('\n'.join(NAMES12) + '\n')
    return model, str(labels), tmp_path


def test_twelve_classes_publish_their_names(ros_context, executor, files):
    model, labels, _ = files
    node = _node(ros_context, model, labels, class_id_format='label')
    peer = rclpy.create_node('peer_custom', context=ros_context)
    results, infos = [], []
    peer.create_subscription(Classification, '/custom/classification', results.append, RELIABLE)
    peer.create_subscription(LabelInfo, '/custom/label_info', infos.append, LATCHED)
    pub = peer.create_publisher(Image, '/custom/image', RELIABLE)
    executor.add_node(node)
    executor.add_node(peer)
    try:
        assert spin_until(executor, lambda: pub.get_subscription_count() > 0 and infos and
                          matched(node, '/custom/classification') > 0)
        assert [(c.class_id, c.class_name) for c in infos[-1].class_map] == \
            list(enumerate(NAMES12))
        for c, rgb in enumerate(PROTOS):  # one at a time: the camera QoS keeps few frames
            pub.publish(_image(rgb, stamp=100 + c))
            assert spin_until(executor, lambda: len(results) == c + 1), c
        by_stamp = {r.header.stamp.sec: r for r in results}
        for c in range(12):
            top = by_stamp[100 + c].results
            assert top[0].class_id == NAMES12[c], c
            assert {r.class_id for r in top} <= set(NAMES12) and len(top) == 5
    finally:
        executor.remove_node(node)
        executor.remove_node(peer)
        node.destroy_node()
        peer.destroy_node()


def test_a_labels_file_of_the_wrong_length_stops_the_node(ros_context, files):
    model, _, tmp_path = files
    short = tmp_path / 'eleven.txt'
    short.write_text('\n'.join(NAMES12[:11]) + '\n')
    with pytest.raises(Exception, match='11 names but the model fruit12.onnx outputs 12 '
                                        'classes'):
        _node(ros_context, model, str(short))
