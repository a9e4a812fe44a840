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

"""The classifier node over real DDS: frames in, Classification/LabelInfo/diagnostics out."""

import os
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from repvit_ros.backends import BackendError, create_backend
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.layouts import encode, image_view
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier
from repvit_ros.parameters import SPECS
from repvit_ros.postprocess import top_k
from repvit_ros.preprocess import to_nv12
from ros_support import matched, wait_for
from vision_msgs.msg import Classification, LabelInfo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class Harness:
    """A classifier node plus a test node on one executor spinning in a background thread."""

    def __init__(self, context, model_path, namespace='repvit', input_type='image',
                 extra=(), executor=None, **params):
        self.context = context
        overrides = [Parameter('model_path', value=model_path),
                     Parameter('backend', value='onnxruntime'),
                     Parameter('input_type', value=input_type),
                     Parameter('qos_reliability', value='reliable')]
        overrides += [Parameter(k, value=v) for k, v in params.items()] + list(extra)
        # A deep DDS history (through the QoS override parameters) so that DDS itself drops
        # nothing in a burst and every drop is the node's own, counted one.
        overrides.append(Parameter(f'qos_overrides./{namespace}/image.subscription.depth',
                                   value=100))
        self.namespace = namespace
        self.node = RepVitClassifier(namespace=namespace, context=context,
                                     parameter_overrides=overrides)
        self.peer = rclpy.create_node(f'peer_{namespace}', context=context)
        self.results = []
        self.peer.create_subscription(Classification, f'/{namespace}/classification',
                                      self.results.append, RELIABLE)
        self.pub = self.peer.create_publisher(message_class(input_type), f'/{namespace}/image',
                                              RELIABLE)
        # Its own executor spinning in a thread, or nodes added to one the caller spins.
        self._owns_executor = executor is None
        self.executor = executor or MultiThreadedExecutor(num_threads=4, context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.peer)
        self._closed = False
        if self._owns_executor:
            self._thread = threading.Thread(target=self.executor.spin, daemon=True)
            self._thread.start()
        assert wait_for(lambda: self.node.input_qos is not None and
                        self.pub.get_subscription_count() > 0 and
                        matched(self.node, f'/{namespace}/classification') > 0)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._owns_executor:
            self.executor.shutdown()
            self._thread.join(5)
        else:
            self.executor.remove_node(self.node)
            self.executor.remove_node(self.peer)
        self.node.destroy_node()
        self.peer.destroy_node()


@pytest.fixture
def harness(ros_context, synthetic_model):
    made = []

    def make(**kwargs):
        h = Harness(ros_context, synthetic_model('m0_9'), **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def expected_top(backend, frame, encoding, k=5):
    return top_k(backend.infer(to_nv12(frame, encoding)), k)


CASES = [('image', 'bgr8'), ('image', 'rgb8'), ('image', 'mono8'), ('image', 'nv12'),
         ('image', 'yuv422_yuy2'), ('image', 'yuv422'), ('image', 'rgba8'),
         ('compressed', 'jpeg'), ('compressed', 'png'), ('hbmem', 'nv12')]


@pytest.mark.parametrize('input_type, encoding', CASES)
def test_frame_yields_one_matching_classification(harness, synthetic_model, input_type,
                                                  encoding):
    h = harness(input_type=input_type)
    rgb = sample_picture(320, 240, seed=3)
    data = encode(rgb, encoding)
    msg = make_message(input_type, rgb, encoding, stamp_ns=1_234_567_890_123, data=data)
    h.pub.publish(msg)
    assert wait_for(lambda: len(h.results) == 1)
    time.sleep(0.2)
    assert len(h.results) == 1
    out = h.results[0]
    assert out.header.stamp.sec == 1234 and out.header.stamp.nanosec == 567_890_123
    assert out.header.frame_id == ('' if input_type == 'hbmem' else 'camera')
    scores = [r.score for r in out.results]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores) and sum(scores) <= 1.0 + 1e-9
    # The same frame through the backend directly gives the same classes and scores.
    backend = create_backend('onnxruntime', synthetic_model('m0_9'))
    if input_type == 'compressed':
        frame = np.frombuffer(data, np.uint8)
    else:
        frame = image_view(240, 320, len(data) // (360 if encoding.startswith('nv') else 240),
                           encoding, data)
    want = expected_top(backend, frame, encoding)
    assert [r.class_id for r in out.results] == [str(i) for i, _ in want]
    assert np.allclose(scores, [s for _, s in want], atol=1e-5)


def test_label_info_reaches_a_late_subscriber(harness, ros_context):
    h = harness(min_score=0.001)
    time.sleep(0.5)
    got = []
    late = rclpy.create_node('late', context=ros_context)
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
    late.create_subscription(LabelInfo, '/repvit/label_info', got.append, qos)
    h.executor.add_node(late)
    assert wait_for(lambda: got)
    info = got[-1]
    assert len(info.class_map) == 1000
    assert info.class_map[281].class_id == 281 and info.class_map[281].class_name == 'tabby'
    assert abs(info.threshold - 0.001) < 1e-6
    late.destroy_node()


def test_vision_msgs_without_label_info_still_classifies(harness, monkeypatch):
    # Humble first shipped vision_msgs 4.0.0, before LabelInfo: the node runs without it.
    import repvit_ros.work
    monkeypatch.setattr(repvit_ros.work, 'LabelInfo', None)
    h = harness()
    assert not h.node.publishes_label_info
    h.pub.publish(make_message('image', sample_picture(160, 120), 'bgr8', 7))
    assert wait_for(lambda: h.results)
    assert len(h.results[0].results) == 5


def test_rmw_without_message_lost_events_still_classifies(harness, monkeypatch):
    # An RMW that cannot report lost messages: the node subscribes without counting them.
    import repvit_ros.camera

    class NoMessageLost(repvit_ros.camera.SubscriptionEventCallbacks):

        def create_event_handlers(self, *args, **kwargs):
            raise repvit_ros.camera.UnsupportedEventTypeError('message lost not supported')

    monkeypatch.setattr(repvit_ros.camera, 'SubscriptionEventCallbacks', NoMessageLost)
    h = harness()
    h.pub.publish(make_message('image', sample_picture(160, 120), 'bgr8', 8))
    assert wait_for(lambda: h.results)
    assert h.node.diagnostics()['lost'] == 0


def test_publishers_add_no_event_handlers_to_every_executor_wake_up(harness):
    # The executor rebuilds its wait set with every event handler on each wake-up, once per
    # frame: the node's publishers have none (a subscriber with incompatible QoS is told by its
    # own subscription), the camera subscription keeps its own, rclpy's /parameter_events
    # publisher is rclpy's.
    h = harness()
    node = h.node
    ours = [p for p in node.publishers if p.topic_name != '/parameter_events']
    assert {p.topic_name for p in ours} >= {f'/{h.namespace}/classification', '/diagnostics',
                                            f'/{h.namespace}/annotated_image'}
    assert all(p.event_handlers == [] for p in ours)
    camera = [s for s in node.subscriptions if s.topic_name == f'/{h.namespace}/image']
    assert len(camera) == 1 and len(camera[0].event_handlers) >= 1  # lost messages counted
    rclpy_own = [p for p in node.publishers if p.topic_name == '/parameter_events']
    assert len(list(node.waitables)) == \
        len(camera[0].event_handlers) + sum(len(p.event_handlers) for p in rclpy_own)


def test_diagnostics_report_the_counts(harness, ros_context):
    h = harness()
    diags = []
    h.peer.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    rgb = sample_picture(160, 120)
    for i in range(5):
        h.pub.publish(make_message('image', rgb, 'bgr8', i))
        assert wait_for(lambda: len(h.results) == i + 1)  # one at a time: nothing dropped
    bad = make_message('image', rgb, 'bgr8', 99)
    bad.step = 1  # inconsistent with width
    h.pub.publish(bad)
    unknown = make_message('image', rgb, 'bgr8', 100)
    unknown.encoding = '32FC7'
    h.pub.publish(unknown)
    assert wait_for(lambda: h.node.diagnostics()['received'] == 7)
    # One frame per 10 s at most: the next three come within it and are dropped by the limit.
    assert h.node.set_parameters([Parameter('max_rate', value=0.1)])[0].successful
    for i in range(3):
        h.pub.publish(make_message('image', rgb, 'bgr8', 200 + i))

    def values():
        for arr in reversed(diags):
            for st in arr.status:
                if 'repvit_classifier' in st.name:
                    return {kv.key: kv.value for kv in st.values}
        return {}

    assert wait_for(lambda: values().get('received') == '10', timeout=10)
    v = values()
    assert (v['published'], v['bad'], v['dropped'], v['lost']) == ('5', '2', '3', '0')
    assert (v['dropped_rate_limit'], v['dropped_queue_full'], v['failed']) == ('3', '0', '0')
    # The model named is the file loaded, not the `model` parameter (m1_0 by default).
    assert v['backend'] == 'onnxruntime' and v['model'] == 'repvit_m0_9_synthetic.onnx'
    assert float(v['inference_median_ms']) > 0 and 'end_to_end_p99_ms' in v
    assert len(h.results) == 5  # bad frames produce no output, and the node keeps running


def test_burst_with_four_workers_keeps_order_and_accounts_for_every_frame(harness):
    h = harness(threads=4, queue_size=3)
    assert h.node.input_qos.depth == 100
    rgb = [sample_picture(320, 240, s) for s in range(3)]
    n = 60
    for i in range(n):
        h.pub.publish(make_message('image', rgb[i % 3], 'bgr8', 1000 + i))
    assert wait_for(lambda: h.node.diagnostics()['received'] == n)
    assert h.node.wait_idle(20)
    d = h.node.diagnostics()
    assert d['received'] == d['published'] + d['dropped'] + d['bad'] == n, d
    assert d['max_queue'] <= 3
    assert d['dropped_queue_full'] > 0  # the burst was faster than inference
    # Every published result reaches the peer (however slowly a loaded machine delivers them),
    # in stamp order.
    assert wait_for(lambda: len(h.results) >= d['published'], 10)
    time.sleep(0.2)  # nothing more comes
    assert len(h.results) == d['published']
    stamps = [r.header.stamp.nanosec for r in h.results]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_runtime_parameters(harness):
    h = harness()
    node = h.node
    rgb = sample_picture(160, 120)
    assert node.set_parameters([Parameter('top_k', value=3)])[0].successful
    h.pub.publish(make_message('image', rgb, 'bgr8', 1))
    assert wait_for(lambda: len(h.results) == 1)
    assert len(h.results[0].results) == 3
    assert node.set_parameters([Parameter('min_score', value=1.0)])[0].successful
    h.pub.publish(make_message('image', rgb, 'bgr8', 2))
    assert wait_for(lambda: len(h.results) == 2)
    assert h.results[1].results == []  # nothing is certain
    for name, value in (('min_score', 1.5), ('top_k', 0), ('max_rate', -1.0),
                        ('top_k', 'five')):
        assert not node.set_parameters([Parameter(name, value=value)])[0].successful
    res = node.set_parameters([Parameter('threads', value=8)])[0]
    assert not res.successful and 'read-only' in res.reason.lower()
    # One frame per 5 s: ten frames back to back reach the node well within that, even on a
    # loaded machine, so at most one (the first, if the last result is 5 s old) is classified.
    assert node.set_parameters([Parameter('max_rate', value=0.2)])[0].successful
    for i in range(10):
        h.pub.publish(make_message('image', rgb, 'bgr8', 10 + i))
    assert wait_for(lambda: node.diagnostics()['received'] == 12)
    assert node.diagnostics()['dropped_rate_limit'] >= 9


def test_two_instances_in_one_process(harness, ros_context):
    # rclpy's composition: several nodes in one process, spun by one executor.
    executor = MultiThreadedExecutor(num_threads=4, context=ros_context)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    a = harness(namespace='cam_a', executor=executor)
    b = harness(namespace='cam_b', class_id_format='label', executor=executor)
    rgb = sample_picture(160, 120)
    a.pub.publish(make_message('image', rgb, 'bgr8', 1))
    b.pub.publish(make_message('image', rgb, 'bgr8', 2))
    assert wait_for(lambda: a.results and b.results)
    assert a.results[0].results[0].class_id.isdigit()
    assert not b.results[0].results[0].class_id.isdigit()
    assert a.node.get_fully_qualified_name() == '/cam_a/repvit_classifier'
    # Destroying one releases its workers and backend; the other keeps working.
    backend = a.node.classifier.backend
    workers = [t for t in threading.enumerate() if t.name.startswith('repvit_worker/cam_a/')]
    assert workers  # named after their node
    a.close()
    with pytest.raises(BackendError, match='after close'):
        backend.infer(np.zeros((336, 224), np.uint8))
    assert not any(t.is_alive() for t in workers)
    b.pub.publish(make_message('image', rgb, 'bgr8', 3))
    assert wait_for(lambda: len(b.results) == 2)
    b.close()
    executor.shutdown()
    spinner.join(5)


# ------------------------------------------------------------------ YAML and README
def test_readme_and_node_parameters_agree(ros_context, synthetic_model):
    # The shipped params file against the table: test_params_file (through rcl's parser).
    node = RepVitClassifier(context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9'))])
    builtin = {'use_sim_time', 'start_type_description_service'}  # rclpy's own
    declared = {n for n in node.get_parameters_by_prefix('') if n not in builtin
                and not n.startswith('qos_overrides')}
    assert declared == set(SPECS)
    readme = open(os.path.join(ROOT, 'README.md')).read()
    for name in declared:
        assert f'`{name}`' in readme, f'{name} missing from README'
    node.destroy_node()
