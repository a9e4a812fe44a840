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
Every runtime parameter takes effect, read in the output it shapes over DDS.

Each is changed through the node's set_parameters service (as ``ros2 param set`` does) while
it runs, and the next result or picture is read.

The model choice (model, model_path, backend, labels_path) is tested in test_managed_node.py.
Every other parameter is read-only at runtime, and its descriptor says so; a parameter made
runtime-changeable later fails :func:`test_the_runtime_parameters_are_exactly_these` until a
test here reads what it shapes.
"""

import time

import numpy as np
import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros import frames, parameters
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier
from repvit_ros.regions import crop_regions
from ros_support import closing_all, matched, SpunPair, wait_for
from sensor_msgs.msg import Image
from vision_msgs.msg import (Classification, Detection2D, Detection2DArray, ObjectHypothesis,
                             ObjectHypothesisWithPose)

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
W, H = 320, 240
MODEL_CHOICE = {'model', 'model_path', 'backend', 'labels_path'}
COVERED_HERE = {'top_k', 'min_score', 'max_rate', 'annotated_width', 'roi_padding',
                'roi_min_size', 'max_rois', 'keep_detector_hypotheses'}


def test_the_runtime_parameters_are_exactly_these(ros_context, synthetic_model):
    runtime = {s.name for s in parameters.PARAMETERS if s.runtime}
    assert runtime == MODEL_CHOICE | COVERED_HERE and len(runtime) == 12
    # The descriptors the node declares say so: read-only exactly where not runtime.
    node = RepVitClassifier(namespace='runtime_table', context=ros_context,
                            parameter_overrides=[Parameter('model_path',
                                                           value=synthetic_model('m0_9'))])
    try:
        writable = {s.name for s in parameters.PARAMETERS
                    if not node.describe_parameter(s.name).read_only}
        assert writable == runtime
    finally:
        node.destroy_node()


class Running(SpunPair):
    """A classifier running on its own executor, a peer that feeds it and changes parameters."""

    def __init__(self, context, model, ns, **params):
        overrides = [Parameter('model_path', value=model),
                     Parameter('qos_reliability', value='reliable'),
                     Parameter('class_id_format', value='label')]
        overrides += [Parameter(k, value=v) for k, v in params.items()]
        self.node = RepVitClassifier(namespace=ns, context=context,
                                     parameter_overrides=overrides)
        self.peer = rclpy.create_node(f'peer_{ns}', context=context)
        self.ns = ns
        self.out = {'classification': [], 'annotated_image': [], 'classified_detections': []}
        for topic, kind in (('classification', Classification), ('annotated_image', Image),
                            ('classified_detections', Detection2DArray)):
            self.peer.create_subscription(kind, f'/{ns}/{topic}', self.out[topic].append,
                                          RELIABLE)
        self.image = self.peer.create_publisher(Image, f'/{ns}/image', RELIABLE)
        self.dets = self.peer.create_publisher(Detection2DArray, f'/{ns}/detections', RELIABLE)
        self.client = self.peer.create_client(SetParameters,
                                              f'/{ns}/repvit_classifier/set_parameters')
        self.spin(MultiThreadedExecutor(num_threads=3, context=context))
        # Camera to node and node to this test matched (a regions node has no classification).
        assert wait_for(lambda: self.image.get_subscription_count() > 0 and (
            matched(self.node, f'/{ns}/classification') +
            matched(self.node, f'/{ns}/classified_detections')) > 0)
        assert self.client.wait_for_service(timeout_sec=10)
        self.stamp = 1_000

    def change(self, name, value):
        """Change a parameter through the node's service, as `ros2 param set` does."""
        msg = Parameter(name, value=value).to_parameter_msg()
        future = self.client.call_async(SetParameters.Request(parameters=[ParameterMsg(
            name=msg.name, value=msg.value)]))
        assert wait_for(future.done, 10)
        (result,) = future.result().results
        assert result.successful, result.reason
        assert self.node.get_parameter(name).value == value

    def frame(self, seed=3):
        """Publish one frame with a new stamp; return it."""
        self.stamp += 1_000
        msg = make_message('image', sample_picture(W, H, seed=seed), 'bgr8', self.stamp)
        self.image.publish(msg)
        return msg

    def next_on(self, topic, send=None, timeout=10):
        """Wait for the next message on a topic, after ``send()`` (default: a frame)."""
        n = len(self.out[topic])
        (send or self.frame)()
        assert wait_for(lambda: len(self.out[topic]) > n, timeout), topic
        return self.out[topic][n]


@pytest.fixture
def classifier(ros_context, synthetic_model):
    yield from closing_all(lambda ns, **params: Running(ros_context, synthetic_model('m0_9'),
                                                        ns, **params))


def test_top_k_and_min_score_shape_the_next_result(classifier):
    c = classifier('rt_rank')
    before = c.next_on('classification')
    assert len(before.results) == 5
    c.change('top_k', 3)
    assert len(c.next_on('classification').results) == 3
    # Between the best and the second best score of this very picture: one class is left.
    first, second = before.results[0].score, before.results[1].score
    c.change('min_score', (first + second) / 2)
    after = c.next_on('classification')
    assert [h.class_id for h in after.results] == [before.results[0].class_id]


def test_max_rate_drops_what_comes_sooner_than_it_allows(classifier):
    c = classifier('rt_rate')
    c.next_on('classification')
    c.change('max_rate', 0.5)  # one frame per 2 s
    time.sleep(2.1)
    n = len(c.out['classification'])
    dropped = c.node.diagnostics()['dropped_rate_limit']
    for _ in range(5):  # back to back, well within 2 s even on a loaded machine: the first is
        c.frame()       # classified, the other four dropped
    assert wait_for(lambda: c.node.diagnostics()['dropped_rate_limit'] == dropped + 4, 5)
    assert wait_for(lambda: len(c.out['classification']) == n + 1, 5)
    c.change('max_rate', 0.0)
    for _ in range(3):
        c.next_on('classification')


def test_annotated_width_shapes_the_next_picture(classifier):
    c = classifier('rt_width')
    assert wait_for(lambda: matched(c.node, f'/{c.ns}/annotated_image') > 0)
    first = c.next_on('annotated_image')
    assert (first.width, first.height) == (W, H)  # 640 by default: a 320 frame as it is
    c.change('annotated_width', 160)
    # A frame may find the render budget (a tenth of a core) spent and go undrawn: send one
    # every 0.1 s until the next picture comes.
    n = len(c.out['annotated_image'])
    deadline = time.monotonic() + 30
    while len(c.out['annotated_image']) == n and time.monotonic() < deadline:
        c.frame()
        time.sleep(0.1)
    assert len(c.out['annotated_image']) > n, 'no picture after the change'
    picture = c.out['annotated_image'][n]
    assert (picture.width, picture.height) == (160, 120)  # issue 25: it stayed 320 wide


# ------------------------------------------------------------------ a detector's regions
BOXES = [(160, 120, 120, 90), (60, 60, 40, 40), (260, 190, 80, 60)]


def detection(cx, cy, sx, sy):
    det = Detection2D()
    det.bbox.center.position.x, det.bbox.center.position.y = float(cx), float(cy)
    det.bbox.size_x, det.bbox.size_y = float(sx), float(sy)
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis = ObjectHypothesis(class_id='person', score=0.75)
    det.results.append(hyp)
    return det


def send_pair(c):
    """Publish a frame and its detector's boxes; return the frame."""
    msg = c.frame(seed=5)
    arr = Detection2DArray()
    arr.header.stamp = msg.header.stamp
    arr.detections = [detection(*b) for b in BOXES]
    c.dets.publish(arr)
    return msg


def crop_scores(c, msg, box, padding):
    """Classify one box's crop directly, as the node does with this padding."""
    frame = frames.wrap(msg, 'image')
    (region,) = crop_regions(frame.image, frame.encoding, [box], padding, 1, None)
    clf = c.node.classifier
    logits = clf.backend.infer(clf.to_nv12(region.crop, region.encoding))
    p = np.exp(logits - logits.max())
    return np.sort(p / p.sum())[::-1][:5]


def test_region_parameters_shape_the_next_classified_detections(classifier):
    c = classifier('rt_regions', detections_topic='detections', sync_timeout=10.0)
    assert wait_for(lambda: c.dets.get_subscription_count() > 0)
    pair = {}

    def send():
        pair['msg'] = send_pair(c)

    out = c.next_on('classified_detections', send)
    assert all(len(d.results) == 5 for d in out.detections)  # every box, the defaults
    scores = [h.hypothesis.score for h in out.detections[0].results]
    assert scores == pytest.approx(crop_scores(c, pair['msg'], BOXES[0], 0.1), abs=1e-5)

    c.change('roi_padding', 0.5)
    out = c.next_on('classified_detections', send)
    scores = [h.hypothesis.score for h in out.detections[0].results]
    assert scores == pytest.approx(crop_scores(c, pair['msg'], BOXES[0], 0.5), abs=1e-5)

    skipped = c.node.diagnostics()['roi_skipped_too_small']
    c.change('roi_min_size', 100)  # the 40-pixel box, padded to 80, is now too small
    out = c.next_on('classified_detections', send)
    assert [len(d.results) for d in out.detections] == [5, 0, 5]
    assert c.node.diagnostics()['roi_skipped_too_small'] == skipped + 1

    c.change('roi_min_size', 8)
    c.change('max_rois', 1)  # the largest box alone
    out = c.next_on('classified_detections', send)
    assert [len(d.results) for d in out.detections] == [5, 0, 0]

    c.change('keep_detector_hypotheses', True)  # the detector's own follow the classifier's
    out = c.next_on('classified_detections', send)
    ids = [[h.hypothesis.class_id for h in d.results] for d in out.detections]
    assert len(ids[0]) == 6 and ids[0][5] == 'person' and ids[1:] == [['person'], ['person']]
