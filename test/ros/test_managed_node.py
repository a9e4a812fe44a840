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

"""The managed (lifecycle) classifier and switching the model at runtime, over real DDS."""

import threading
import time

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
import psutil
import pytest
import rclpy
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros import work
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.managed import ManagedRepVitClassifier
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier
from ros_support import matched, wait_for
from vision_msgs.msg import Classification

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE
LOAD_SEC = 1.5


class Bench:
    """A node under test, a camera publishing at a fixed rate, and the results it publishes."""

    def __init__(self, context, node, ns, executor=None):
        self.node, self.ns = node, ns
        self.peer = rclpy.create_node(f'bench_{ns}', context=context)
        self.results = []
        self.peer.create_subscription(Classification, f'/{ns}/classification',
                                      self.results.append, RELIABLE)
        self.pub = self.peer.create_publisher(message_class('image'), f'/{ns}/image', RELIABLE)
        self.executor = executor or MultiThreadedExecutor(num_threads=3, context=context)
        self.executor.add_node(node)
        self.executor.add_node(self.peer)
        self._spin = threading.Thread(target=self.executor.spin, daemon=True)
        self._spin.start()
        self.frame = make_message('image', sample_picture(160, 120), 'bgr8', 0)
        self.sent = 0
        self._camera = None
        self._stop = threading.Event()

    def subscribers(self):
        return self.peer.count_subscribers(f'/{self.ns}/image')

    def matched(self):
        """Subscriptions the camera's writer has matched: what a single frame needs to arrive."""
        return self.pub.get_subscription_count()

    def connected(self):
        """Tell whether a frame sent now arrives and so does its result (both writers matched)."""
        return self.matched() == 1 and matched(self.node, f'/{self.ns}/classification') == 1

    def publishers(self):
        return self.peer.count_publishers(f'/{self.ns}/classification')

    def send(self):
        self.sent += 1
        self.frame.header.stamp.sec, self.frame.header.stamp.nanosec = divmod(self.sent, 10**9)
        self.pub.publish(self.frame)

    def camera(self, rate=30.0):
        def run():
            while not self._stop.wait(1.0 / rate):
                self.send()
        self._camera = threading.Thread(target=run, daemon=True)
        self._camera.start()

    def stop_camera(self):
        self._stop.set()
        if self._camera is not None:
            self._camera.join(2)

    def close(self):
        self.stop_camera()
        self.executor.shutdown()
        self._spin.join(5)
        self.node.destroy_node()
        self.peer.destroy_node()


@pytest.fixture
def bench(ros_context):
    made = []

    def make(node, ns, executor=None):
        made.append(Bench(ros_context, node, ns, executor))
        return made[-1]
    yield make
    for b in made:
        b.close()


def _managed(ros_context, ns, model_path, **params):
    overrides = [Parameter('model_path', value=model_path),
                 Parameter('qos_reliability', value='reliable')]
    overrides += [Parameter(k, value=v) for k, v in params.items()]
    return ManagedRepVitClassifier(namespace=ns, context=ros_context,
                                   parameter_overrides=overrides)


def test_every_transition_and_its_effect_on_topics(ros_context, bench, synthetic_model,
                                                   tmp_path):
    node = _managed(ros_context, 'life', str(tmp_path / 'missing.onnx'))
    b = bench(node, 'life')
    time.sleep(0.5)
    assert b.publishers() == 0 and b.subscribers() == 0 and node.settings is None
    # A configure that fails says why and leaves the node unconfigured; it can be retried.
    assert node.trigger_configure() == FAILURE
    assert node.settings is None
    assert node.set_parameters([Parameter('model_path', value=synthetic_model('m0_9'))])[
        0].successful
    assert node.trigger_configure() == SUCCESS
    assert wait_for(lambda: b.publishers() == 1)
    time.sleep(0.5)
    assert b.subscribers() == 0  # configured: publishers present, no subscription
    b.send()
    time.sleep(0.5)
    assert b.results == []
    assert node.trigger_activate() == SUCCESS
    assert wait_for(lambda: b.subscribers() == 1 and b.connected())
    b.send()
    assert wait_for(lambda: len(b.results) == 1)
    assert node.trigger_deactivate() == SUCCESS
    assert wait_for(lambda: b.subscribers() == 0)
    assert b.publishers() == 1  # still there, silent
    b.send()
    time.sleep(0.5)
    assert len(b.results) == 1
    assert node.classifier.backend is not None  # the model stays loaded while inactive
    assert node.trigger_activate() == SUCCESS
    assert wait_for(lambda: b.subscribers() == 1 and b.connected())
    b.send()
    assert wait_for(lambda: len(b.results) == 2)
    assert node.trigger_deactivate() == SUCCESS
    assert node.trigger_cleanup() == SUCCESS
    assert wait_for(lambda: b.publishers() == 0) and node.settings is None
    assert node.trigger_configure() == SUCCESS  # configure again after cleanup
    assert node.trigger_activate() == SUCCESS
    assert node.trigger_shutdown() == SUCCESS  # from active
    assert wait_for(lambda: b.subscribers() == 0 and b.publishers() == 0)


def test_autostart_behaves_like_the_plain_node(ros_context, bench, synthetic_model):
    node = _managed(ros_context, 'auto', synthetic_model('m0_9'), autostart=True)
    b = bench(node, 'auto')
    assert wait_for(lambda: b.subscribers() == 1 and b.connected())
    b.send()
    assert wait_for(lambda: len(b.results) == 1)


def test_twenty_deactivate_activate_cycles_under_load(ros_context, bench, synthetic_model):
    node = _managed(ros_context, 'cycles', synthetic_model('m0_9'), autostart=True)
    # One executor thread, as `ros2 run` spins the node: transitions (service callbacks) and
    # frame callbacks then never run at once.
    b = bench(node, 'cycles', SingleThreadedExecutor(context=ros_context))
    assert wait_for(lambda: b.subscribers() == 1)
    b.camera(30.0)
    assert wait_for(lambda: len(b.results) >= 5)

    # Transitions come through the lifecycle service, as `ros2 lifecycle set` sends them: they
    # then run in the node's executor, not beside it from another thread.
    client = b.peer.create_client(ChangeState, '/cycles/repvit_classifier/change_state')
    assert client.wait_for_service(timeout_sec=10)

    def change(transition):
        future = client.call_async(ChangeState.Request(transition=Transition(id=transition)))
        assert wait_for(future.done, 10) and future.result().success

    def cycle():
        change(Transition.TRANSITION_DEACTIVATE)
        time.sleep(0.05)
        change(Transition.TRANSITION_ACTIVATE)
        time.sleep(0.1)
    cycle()

    def threads():
        # The worker pool starts its threads as frames need them, up to `threads` (2): count
        # those apart, so that a second worker starting late is not taken for a leak.
        workers = [t for t in threading.enumerate() if t.name.startswith('repvit_worker')]
        return threading.active_count() - len(workers), len(workers)
    others, _ = threads()
    rss = psutil.Process().memory_info().rss
    for _ in range(20):
        cycle()
    got = len(b.results)
    assert wait_for(lambda: len(b.results) > got + 5, 30)  # still classifying
    assert threads()[0] == others and threads()[1] <= 2
    assert psutil.Process().memory_info().rss - rss < 50 * 2**20
    counts = node.diagnostics()
    assert counts['failed'] == 0 and counts['bad'] == 0
    stamps = [r.header.stamp.nanosec for r in b.results]
    assert stamps == sorted(stamps)


def test_model_switch_under_load_is_ordered_and_loses_nothing(ros_context, bench,
                                                              synthetic_model):
    node = RepVitClassifier(namespace='switch', context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9')),
        Parameter('qos_reliability', value='reliable')])
    b = bench(node, 'switch')
    assert wait_for(lambda: b.subscribers() == 1)
    b.camera(30.0)
    assert wait_for(lambda: len(b.results) >= 10)
    res = node.set_parameters([Parameter('model_path', value=synthetic_model('m1_1'))])[0]
    assert res.successful, res.reason
    assert wait_for(lambda: node.classifier.backend.path == synthetic_model('m1_1'), 30)
    switched_at = len(b.results)
    assert wait_for(lambda: len(b.results) >= switched_at + 15)
    # A failing switch: the reason, the old model (m1_1) keeps running, the parameter unchanged.
    res = node.set_parameters([Parameter('model_path', value='/nonexistent/model.onnx')])[0]
    assert not res.successful and 'model not switched' in res.reason, res.reason
    assert node.get_parameter('model_path').value == synthetic_model('m1_1')
    kept_at = len(b.results)
    assert wait_for(lambda: len(b.results) >= kept_at + 10)
    scores = [tuple(round(h.score, 6) for h in r.results) for r in b.results]
    stamps = [r.header.stamp.nanosec for r in b.results]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    # Every frame is the same picture: the scores change exactly once, at the switch.
    changes = [i for i in range(1, len(scores)) if scores[i] != scores[i - 1]]
    assert len(changes) == 1, changes
    assert scores[0] != scores[-1]
    counts = node.diagnostics()
    assert counts['failed'] == 0 and counts['bad'] == 0
    assert node.classifier.backend.path == synthetic_model('m1_1')


def test_a_slow_model_switch_loses_no_frame_and_the_old_model_serves_meanwhile(
        ros_context, bench, synthetic_model, monkeypatch):
    """The new model loads beside the old one, which classifies every frame until the swap."""
    node = RepVitClassifier(namespace='slow_switch', context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9')),
        Parameter('qos_reliability', value='reliable'), Parameter('queue_size', value=10),
        # Every frame must reach the node, also when a loaded machine delays its taking them:
        # the sensor-data depth of 5 lets DDS replace a frame not taken within 5 frame times.
        Parameter('qos_overrides./slow_switch/image.subscription.depth', value=100)])
    b = bench(node, 'slow_switch')
    # Matched by the camera's writer, not only seen in the graph: a reliable writer delivers
    # only what it publishes after the match.
    assert wait_for(lambda: b.matched() == 1)
    load = work.load_classifier

    def slow_load(cfg, *args):
        time.sleep(LOAD_SEC)  # a model that takes its time to load (a big .bin, a slow disk)
        return load(cfg, *args)
    monkeypatch.setattr(work, 'load_classifier', slow_load)
    b.camera(30.0)
    assert wait_for(lambda: len(b.results) >= 10)
    rss = [psutil.Process().memory_info().rss]
    res = node.set_parameters([Parameter('model_path', value=synthetic_model('m1_1'))])[0]
    assert res.successful, res.reason
    asked, at_ask, sent_at_ask = time.monotonic(), len(b.results), b.sent
    # A second switch while one loads is refused with the reason.
    busy = node.set_parameters([Parameter('model', value='m1_1')])[0]
    assert not busy.successful and 'another model is still loading' in busy.reason
    assert node.get_parameter('model').value == 'm1_0'
    while node.classifier.backend.path != synthetic_model('m1_1'):
        rss.append(psutil.Process().memory_info().rss)
        assert time.monotonic() - asked < 30, 'never switched'
        time.sleep(0.02)
    took, served, sent = time.monotonic() - asked, len(b.results) - at_ask, b.sent - sent_at_ask
    # Results kept coming while the new model loaded: a node that stops taking frames during
    # the load serves none of them. Measured against what the camera sent in the same window,
    # not its nominal 30 Hz, which a loaded 2-core machine does not keep (CI: 17 results in
    # 1.76 s beside other work), with room for the new model's load taking a core meanwhile.
    assert took >= LOAD_SEC and served >= max(5, 0.25 * sent), (took, served, sent)
    b.stop_camera()
    assert wait_for(lambda: node.diagnostics()['received'] == b.sent, 10), (
        b.sent, node.diagnostics(),
        'not classified:',
        sorted(set(range(1, b.sent + 1)) - {r.header.stamp.sec for r in b.results}))
    assert node.wait_idle(10)
    counts = node.diagnostics()
    assert counts['received'] == b.sent  # every frame reached the node ...
    # ... and is classified by one of the two models or counted with a reason.
    assert counts['received'] == counts['published'] + counts['dropped'] + counts['bad'] + \
        counts['failed'] and counts['failed'] == counts['bad'] == 0, counts
    assert wait_for(lambda: len(b.results) == counts['published'], 30)
    print(f'switch: {took:.2f} s, {served} frames classified by the old model meanwhile, '
          f'peak RSS +{(max(rss) - rss[0]) / 2**20:.0f} MB')


def test_a_model_that_fails_to_load_later_leaves_the_old_one_and_its_parameters(
        ros_context, bench, synthetic_model, tmp_path, monkeypatch):
    load = work.load_classifier

    def slow_load(cfg, *args):
        # Long enough that the second request below finds the load running: ONNX Runtime
        # refuses the broken file in milliseconds (Jazzy's CI leg: the load was already over).
        time.sleep(1.0)
        return load(cfg, *args)
    monkeypatch.setattr(work, 'load_classifier', slow_load)
    broken = tmp_path / 'broken.onnx'
    broken.write_bytes(b'not an onnx file' * 1000)  # passes the quick checks, fails the load
    node = RepVitClassifier(namespace='bad_switch', context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9')),
        Parameter('qos_reliability', value='reliable')])
    b = bench(node, 'bad_switch')
    assert wait_for(lambda: b.subscribers() == 1)
    b.camera(30.0)
    res = node.set_parameters([Parameter('model_path', value=str(broken))])[0]
    assert res.successful, res.reason  # accepted: the file is there; the load decides
    busy = node.set_parameters([Parameter('model_path', value=synthetic_model('m1_1'))])[0]
    assert not busy.successful and 'another model is still loading' in busy.reason
    assert node.wait_for_switch(30)
    assert wait_for(lambda: node.get_parameter('model_path').value == synthetic_model('m0_9'))
    assert node.classifier.backend.path == synthetic_model('m0_9')
    got = len(b.results)
    assert wait_for(lambda: len(b.results) >= got + 5)  # the old model still classifies
    res = node.set_parameters([Parameter('model_path', value=str(tmp_path))])[0]
    assert not res.successful and 'is a directory' in res.reason, res.reason
