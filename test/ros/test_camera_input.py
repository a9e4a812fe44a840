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

"""The camera subscription follows its publishers, and frames that never came are counted."""

import threading
import time

import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.executor import FrameExecutor
from repvit_ros.frames import message_class
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier
from ros_support import matched, wait_for
from vision_msgs.msg import Classification

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT


# A publisher's arrival or departure reaches the node through DDS discovery, which a loaded
# 2-core machine slows down by seconds (a clean-clone run once took longer than 15 s).
DISCOVERY = 60.0


@pytest.fixture
def running(ros_context, synthetic_model):
    """Start a classifier (auto QoS) and a peer node on a spinning executor."""
    made = []

    def start(ns, input_type='image'):
        node = RepVitClassifier(namespace=ns, context=ros_context, parameter_overrides=[
            Parameter('model_path', value=synthetic_model('m0_9')),
            Parameter('input_type', value=input_type)])
        peer = rclpy.create_node(f'peer_{ns}', context=ros_context)
        results = []
        peer.create_subscription(Classification, f'/{ns}/classification', results.append,
                                 QoSProfile(depth=50, reliability=RELIABLE))
        # The executables' executor: the node resubscribes in its own callbacks, which on
        # rclpy's MultiThreadedExecutor races rclpy's wait set (rclpy issues 1142, 1284: an
        # InvalidHandle that ends the spin, seen once in CI).
        executor = FrameExecutor(context=ros_context)
        executor.add_node(node)
        executor.add_node(peer)
        thread = threading.Thread(target=executor.spin, daemon=True)
        thread.start()
        made.append((node, peer, executor, thread))
        return node, peer, results

    yield start
    for node, peer, executor, thread in made:
        executor.shutdown()
        thread.join(5)
        node.destroy_node()
        peer.destroy_node()


def _send_until_classified(pub, results, stamp, timeout=DISCOVERY):
    msg = make_message('image', sample_picture(160, 120), 'bgr8', stamp)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pub.publish(msg)
        if wait_for(lambda: any(r.header.stamp.nanosec == stamp for r in results), 0.3):
            return True
    return False


def test_auto_qos_follows_a_camera_that_restarts_with_the_other_reliability(running):
    node, peer, results = running('qos_follow')
    image = message_class('image')
    cam = peer.create_publisher(image, '/qos_follow/image',
                                QoSProfile(depth=5, reliability=RELIABLE))
    assert wait_for(lambda: node.input_qos is not None and
                    node.input_qos.reliability == RELIABLE, DISCOVERY)
    assert _send_until_classified(cam, results, 1)
    # The camera restarts best effort: a reliable subscription would never hear it again.
    peer.destroy_publisher(cam)
    cam = peer.create_publisher(image, '/qos_follow/image',
                                QoSProfile(depth=5, reliability=BEST_EFFORT))
    assert wait_for(lambda: node.input_qos.reliability == BEST_EFFORT, DISCOVERY)
    assert _send_until_classified(cam, results, 2)
    # A second, reliable camera joins: best effort hears both.
    other = peer.create_publisher(image, '/qos_follow/image',
                                  QoSProfile(depth=5, reliability=RELIABLE))
    assert wait_for(lambda: other.get_subscription_count() > 0, DISCOVERY)
    assert node.input_qos.reliability == BEST_EFFORT
    assert _send_until_classified(other, results, 3)
    assert _send_until_classified(cam, results, 4)
    # Both gone, a reliable one back: reliable again.
    peer.destroy_publisher(cam)
    peer.destroy_publisher(other)
    cam = peer.create_publisher(image, '/qos_follow/image',
                                QoSProfile(depth=5, reliability=RELIABLE))
    assert wait_for(lambda: node.input_qos.reliability == RELIABLE, DISCOVERY)
    assert _send_until_classified(cam, results, 5)


def test_gaps_in_the_camera_frame_counter_are_counted_lost(running):
    node, peer, results = running('hbm_gaps', 'hbmem')
    cam = peer.create_publisher(message_class('hbmem'), '/hbm_gaps/image',
                                QoSProfile(depth=10, reliability=RELIABLE))
    assert wait_for(lambda: cam.get_subscription_count() > 0 and node.input_qos is not None and
                    matched(node, '/hbm_gaps/classification') > 0)
    rgb = sample_picture(64, 48)
    # 1, 2, then 5 (3 and 4 never came), then a restart at 0 (not a loss), then 1, then a jump
    # no camera makes in the time since the last frame (not two billion lost), then the next.
    indices = (1, 2, 5, 0, 1, 2**31 - 2, 2**31 - 1)
    for i, index in enumerate(indices):
        cam.publish(make_message('hbmem', rgb, 'nv12', 100 + i, index=index))
        assert wait_for(lambda: len(results) == i + 1), i
    counts = node.diagnostics()
    assert counts['received'] == counts['published'] == len(indices)
    assert counts['lost'] == 2


@pytest.mark.parametrize('input_type, encoding, raw', [
    ('image', 'nv12', True), ('compressed', 'jpeg', True), ('hbmem', 'nv12', False)])
def test_frames_are_received_serialized_and_keep_their_header(running, input_type, encoding,
                                                              raw):
    # Images and compressed images come serialized and are read in place (frames.wrap); the
    # result still carries the input's header exactly: stamp and frame id, any characters.
    ns = f'raw_{input_type}'
    node, peer, results = running(ns, input_type)
    cam = peer.create_publisher(message_class(input_type), f'/{ns}/image',
                                QoSProfile(depth=10, reliability=RELIABLE))
    assert wait_for(lambda: cam.get_subscription_count() > 0 and node.input_qos is not None and
                    matched(node, f'/{ns}/classification') > 0)
    assert node._cameras[''].input._sub.raw is raw
    frame_id = 'left/caf\u00e9 \u5de6'
    for i in range(3):
        msg = make_message(input_type, sample_picture(98, 62, i), encoding, 0,
                           frame_id=frame_id, index=i + 1)
        stamp = msg.time_stamp if input_type == 'hbmem' else msg.header.stamp
        stamp.sec, stamp.nanosec = 2**31 - 1 - i, 999_999_999 - i
        cam.publish(msg)
        assert wait_for(lambda: len(results) == i + 1), i
        out = results[i].header
        assert (out.stamp.sec, out.stamp.nanosec) == (2**31 - 1 - i, 999_999_999 - i)
        assert out.frame_id == ('' if input_type == 'hbmem' else frame_id)
    assert node.diagnostics()['published'] == 3
