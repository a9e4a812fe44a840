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

"""The annotated image and the RDK web display output, over real DDS."""

import time

import cv2
import numpy as np
import pytest
import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros import annotate
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class, wrap
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier, StartupError
from ros_support import closing_all, matched, SpunPair, wait_for
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Classification

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class Scene(SpunPair):
    """A classifier and a peer that publishes frames and collects every output."""

    def __init__(self, context, model, ns, input_type='image', **params):
        overrides = [Parameter('model_path', value=model),
                     Parameter('input_type', value=input_type),
                     Parameter('qos_reliability', value='reliable'),
                     Parameter('class_id_format', value='label')]
        overrides += [Parameter(k, value=v) for k, v in params.items()]
        self.node = RepVitClassifier(namespace=ns, context=context,
                                     parameter_overrides=overrides)
        self.peer = rclpy.create_node(f'peer_{ns}', context=context)
        self.ns = ns
        self.results, self.images, self.jpegs, self.targets = [], [], [], []
        self.peer.create_subscription(Classification, f'/{ns}/classification',
                                      self.results.append, RELIABLE)
        self.pub = self.peer.create_publisher(message_class(input_type), f'/{ns}/image',
                                              RELIABLE)
        self.spin(MultiThreadedExecutor(num_threads=3, context=context))
        assert wait_for(lambda: self.pub.get_subscription_count() > 0 and
                        matched(self.node, f'/{ns}/classification') > 0)

    def watch_images(self):
        self.peer.create_subscription(Image, f'/{self.ns}/annotated_image', self.images.append,
                                      RELIABLE)
        self.peer.create_subscription(CompressedImage, f'/{self.ns}/annotated_image/compressed',
                                      self.jpegs.append, RELIABLE)
        # The node sees both subscribers (it draws only for subscribers it knows of).
        assert wait_for(lambda: all(matched(self.node, t) > 0 for t in (
            f'/{self.ns}/annotated_image', f'/{self.ns}/annotated_image/compressed')))


@pytest.fixture
def scene(ros_context, synthetic_model):
    yield from closing_all(lambda ns, **kwargs: Scene(ros_context, synthetic_model('m0_9'),
                                                      ns, **kwargs))


@pytest.mark.parametrize('input_type, encoding, size', [
    ('image', 'bgr8', (640, 480)), ('image', 'nv12', (960, 544)), ('image', 'yuv422', (320, 240)),
    ('image', 'mono8', (320, 240)), ('compressed', 'jpeg', (1280, 720))])
def test_annotated_image_is_the_scaled_frame_with_a_band(scene, input_type, encoding, size):
    s = scene(f'pix_{encoding}', input_type=input_type)
    s.watch_images()
    msg = make_message(input_type, sample_picture(*size, seed=3), encoding, 123456789)
    s.pub.publish(msg)
    assert wait_for(lambda: s.images and s.jpegs and s.results)
    img, result = s.images[0], s.results[0]
    assert img.header == msg.header and img.encoding == 'bgr8'
    got = np.frombuffer(bytes(img.data), np.uint8).reshape(img.height, img.width, 3)
    frame = wrap(msg, input_type)
    scaled = annotate.colour_view(frame.image, frame.encoding, width=640)
    assert got.shape == scaled.shape and got.shape[1] == min(640, size[0])
    ranked = [(0, h.class_id, h.score) for h in result.results]
    x0, y0, x1, y1 = annotate.band_box(got.shape[1], got.shape[0], ranked)
    outside = np.ones(got.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(got[outside], scaled[outside])  # the frame itself, untouched
    assert not np.array_equal(got[y0:y1, x0:x1], scaled[y0:y1, x0:x1])  # the band is drawn
    jpeg = cv2.imdecode(np.frombuffer(bytes(s.jpegs[0].data), np.uint8), cv2.IMREAD_COLOR)
    assert s.jpegs[0].format == 'jpeg' and jpeg.shape == got.shape
    assert s.jpegs[0].header == msg.header
    assert np.abs(jpeg.astype(int) - got.astype(int)).mean() < 6


def test_nothing_is_drawn_without_a_subscriber_and_drawing_starts_when_one_comes(scene):
    s = scene('lazy')
    rgb = sample_picture(320, 240)
    for i in range(5):
        s.pub.publish(make_message('image', rgb, 'bgr8', 10 + i))
        assert wait_for(lambda: len(s.results) == i + 1)
    assert s.node.diagnostics()['annotated'] == 0
    started = time.monotonic()
    s.watch_images()
    n = len(s.results)
    # DDS discovery of the new subscriber takes a moment, longer on a loaded machine.
    while not s.images and time.monotonic() - started < 30.0:
        s.pub.publish(make_message('image', rgb, 'bgr8', 100 + n))
        n += 1
        time.sleep(0.05)
    assert s.images, 'no annotated image within 5 s of subscribing'
    assert s.node.diagnostics()['annotated'] >= 1


def test_malformed_frames_give_no_picture_and_exact_counts(scene):
    s = scene('bad_pics')
    s.watch_images()
    rgb = sample_picture(160, 120)
    good = make_message('image', rgb, 'bgr8', 1)
    bad = make_message('image', rgb, 'bgr8', 2)
    bad.step = 7
    unknown = make_message('image', rgb, 'bgr8', 3)
    unknown.encoding = 'bayer_grbg16'
    for msg in (bad, unknown, good, bad):
        s.pub.publish(msg)
    assert wait_for(lambda: s.node.diagnostics()['received'] == 4)
    assert wait_for(lambda: len(s.images) == 1)
    time.sleep(0.3)
    counts = s.node.diagnostics()
    assert (counts['bad'], counts['published'], len(s.images)) == (3, 1, 1)
    assert s.images[0].header.stamp == good.header.stamp


def test_web_display_targets_match_the_classification(scene):
    from ai_msgs.msg import PerceptionTargets
    s = scene('web', perception_topic='/web_test/perception')
    s.peer.create_subscription(PerceptionTargets, '/web_test/perception', s.targets.append,
                               RELIABLE)
    assert wait_for(lambda: s.peer.count_publishers('/web_test/perception') == 1 and
                    matched(s.node, '/web_test/perception') >= 1 and
                    matched(s.node, '/web/classification') >= 1)
    msg = make_message('image', sample_picture(640, 480), 'bgr8', 987654321)
    s.pub.publish(msg)
    assert wait_for(lambda: s.results and s.targets)
    result, web = s.results[0], s.targets[0]
    assert web.header == msg.header == result.header  # the page pairs by equal stamps
    (target,) = web.targets
    assert target.type == result.results[0].class_id
    assert [(a.type, round(a.value, 6)) for a in target.attributes] == \
        [(h.class_id, round(h.score, 6)) for h in result.results]
    (roi,) = target.rois
    r = roi.rect
    assert min(r.x_offset, r.y_offset, r.width, r.height) > 0
    assert r.x_offset + r.width <= 640 and r.y_offset + r.height <= 480
    assert [p.type.rsplit('_', 1)[-1] for p in web.perfs] == \
        ['preprocess', 'infer', 'postprocess', 'pipeline']
    assert all(p.time_ms_duration >= 0 for p in web.perfs)


def test_perception_topic_without_ai_msgs_is_one_clear_error(
        ros_context, synthetic_model, monkeypatch):
    import repvit_ros.outputs
    real = repvit_ros.outputs.importlib.import_module

    def no_ai_msgs(name, *args):
        if name.startswith('ai_msgs'):
            raise ImportError(name)
        return real(name, *args)
    monkeypatch.setattr(repvit_ros.outputs.importlib, 'import_module', no_ai_msgs)
    with pytest.raises(StartupError, match='perception_topic needs ai_msgs'):
        RepVitClassifier(context=ros_context, parameter_overrides=[
            Parameter('model_path', value=synthetic_model('m0_9')),
            Parameter('perception_topic', value='/p')])
