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
FrameExecutor keeps every guarantee of rclpy's executor that the node relies on, over real DDS.

Each test fails with a cache that is not rebuilt when it must be (a new subscription, service,
timer or guard condition never woken; a destroyed one still used), with a fast path that took
what rclpy must run (timers, services, guard conditions, tasks), and with a shutdown that does
not end the spin. The last tests pin the rclpy names it relies on (see repvit_ros/executor.py).
"""

import inspect
import threading
import time
import types

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import pytest
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from rclpy.waitable import Waitable
from repvit_ros import executor as executor_module
from repvit_ros.executor import FrameExecutor
from repvit_ros.frames import message_class
from repvit_ros.process import executor_for, spin_until_shutdown
from ros_support import wait_for
from std_msgs.msg import String
from test_camera_input import _send_until_classified, DISCOVERY
from test_managed_node import _managed, Bench

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


class Spinning:
    """A node on a FrameExecutor spun by a thread, and a peer (on its own executor) feeding it."""

    def __init__(self, context, name):
        self.node = Node(name, context=context)
        self.peer = Node(f'{name}_peer', context=context)
        self.executor = FrameExecutor(context=context)
        self.executor.add_node(self.node)
        self.peer_executor = SingleThreadedExecutor(context=context)
        self.peer_executor.add_node(self.peer)
        self.error = []
        self.threads = [threading.Thread(target=self._spin, daemon=True),
                        threading.Thread(target=self.peer_executor.spin, daemon=True)]

    def _spin(self):
        try:
            self.executor.spin()
        except ExternalShutdownException:
            pass
        except Exception as exc:  # noqa: B902 - reported by the test
            self.error.append(exc)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def feed(self, topic, got, n=50):
        """Publish n strings on topic once the node hears it; wait until ``got`` has them."""
        pub = self.peer.create_publisher(String, topic, RELIABLE)
        assert wait_for(lambda: pub.get_subscription_count() > 0, DISCOVERY)
        base = len(got)
        for i in range(n):  # in bursts the histories (depth 100) hold
            pub.publish(String(data=str(i)))
            if i % 50 == 49:
                assert wait_for(lambda: len(got) >= base + i + 1, 10), (topic, len(got) - base)
        assert wait_for(lambda: len(got) >= base + n, 10), (topic, len(got) - base)
        self.peer.destroy_publisher(pub)

    def close(self):
        self.executor.shutdown()
        self.peer_executor.shutdown()
        for t in self.threads:
            t.join(5)
        self.node.destroy_node()
        self.peer.destroy_node()
        assert not self.error, self.error


@pytest.fixture
def spinning(ros_context):
    made = []

    def make(name):
        made.append(Spinning(ros_context, name))
        return made[-1]
    yield make
    for s in made:
        s.close()


def test_frames_take_the_fast_path_and_the_wait_set_is_not_rebuilt_for_them(spinning):
    s = spinning('fx_fast')
    got = []
    s.node.create_subscription(String, 'fx_fast_in', got.append, RELIABLE, raw=True)
    s.start()
    s.feed('fx_fast_in', got, 200)
    rebuilds = s.executor.rebuilds
    s.feed('fx_fast_in', got, 200)
    assert s.executor.rebuilds == rebuilds  # 200 frames, no new entity: no rebuild
    assert s.executor.fast_calls >= 350  # a few may share a wake-up with a timer, say
    assert all(isinstance(m, bytes) for m in got)  # raw stays raw


def test_parameters_timers_and_services_run_while_frames_flow(spinning):
    s = spinning('fx_params')
    s.node.declare_parameter('x', 1)
    ticks, got = [], []
    s.node.create_timer(0.02, lambda: ticks.append(1))
    s.node.create_subscription(String, 'fx_params_in', got.append, RELIABLE)
    s.start()
    client = AsyncParameterClient(s.peer, 'fx_params')
    assert client.wait_for_services(10)
    stop = threading.Event()
    feeder = threading.Thread(target=lambda: [s.feed('fx_params_in', got, 20)
                                              for _ in iter(stop.is_set, True)], daemon=True)
    feeder.start()
    try:
        for value in range(2, 7):
            future = client.set_parameters([Parameter('x', value=value)])
            assert wait_for(future.done, 10)
            assert s.node.get_parameter('x').value == value
        t0 = len(ticks)
        assert wait_for(lambda: len(ticks) >= t0 + 10, 5)
    finally:
        stop.set()
        feeder.join(30)
    assert s.executor.fast_calls > 0


def test_entities_created_and_destroyed_while_spinning_are_waited_on_and_left(spinning):
    s = spinning('fx_change').start()
    first, second = [], []
    # A subscription created after the spin began: only a rebuilt wait set hears it.
    sub = s.node.create_subscription(String, 'fx_change_a', first.append, RELIABLE)
    s.feed('fx_change_a', first, 20)
    # Destroyed: its handle leaves the cached wait set; a new one on another topic is heard.
    s.node.destroy_subscription(sub)
    s.node.create_subscription(String, 'fx_change_b', second.append, RELIABLE)
    s.feed('fx_change_b', second, 20)
    assert len(first) == 20

    # A service and a timer created now run.
    def answer(_request, response):
        response.current_state.label = 'served'
        return response
    s.node.create_service(GetState, 'fx_change_srv', answer)
    client = s.peer.create_client(GetState, 'fx_change_srv')
    assert client.wait_for_service(10)
    future = client.call_async(GetState.Request())
    assert wait_for(future.done, 10) and future.result().current_state.label == 'served'
    ticks = []
    timer = s.node.create_timer(0.01, lambda: ticks.append(1))
    assert wait_for(lambda: len(ticks) >= 5, 5)
    s.node.destroy_timer(timer)
    time.sleep(0.1)
    n = len(ticks)
    time.sleep(0.2)
    assert len(ticks) == n
    # A guard condition of the node, triggered from another thread, runs its callback.
    fired = []
    gc = s.node.create_guard_condition(lambda: fired.append(1))
    time.sleep(0.1)
    gc.trigger()
    assert wait_for(lambda: fired, 5)
    s.feed('fx_change_b', second, 20)  # frames still on the fast path afterwards
    assert s.executor.rebuilds >= 4


def test_tasks_and_coroutine_callbacks_are_rclpy_s(spinning):
    s = spinning('fx_tasks')
    got = []

    async def on_msg(msg):
        got.append(msg)
    s.node.create_subscription(String, 'fx_tasks_in', on_msg, RELIABLE)
    s.start()
    task = s.executor.create_task(lambda: 42)
    assert wait_for(task.done, 5) and task.result() == 42
    s.feed('fx_tasks_in', got, 20)
    assert s.executor.fast_calls == 0  # a coroutine callback is never called on the fast path


def test_a_callback_that_raises_ends_the_spin_with_its_exception(ros_context):
    node = Node('fx_raise', context=ros_context)
    peer = Node('fx_raise_peer', context=ros_context)

    def boom(_msg):
        raise ValueError('boom')
    node.create_subscription(String, 'fx_raise_in', boom, RELIABLE)
    pub = peer.create_publisher(String, 'fx_raise_in', RELIABLE)
    executor = FrameExecutor(context=ros_context)
    executor.add_node(node)
    try:
        assert wait_for(lambda: pub.get_subscription_count() > 0, DISCOVERY)
        pub.publish(String(data='x'))
        with pytest.raises(ValueError, match='boom'):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.1)
    finally:
        executor.shutdown()
        node.destroy_node()
        peer.destroy_node()


def test_spin_once_times_out_and_shutdown_ends_the_spin(ros_context):
    node = Node('fx_stop', context=ros_context)
    node.create_subscription(String, 'fx_stop_in', lambda m: None, RELIABLE)
    executor = FrameExecutor(context=ros_context)
    executor.add_node(node)
    t0 = time.monotonic()
    executor.spin_once(timeout_sec=0.2)
    assert 0.15 <= time.monotonic() - t0 < 2
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    executor.shutdown()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - t0 < 2
    node.destroy_node()


def _own_context():
    """Give a context of the test's own."""
    from rclpy.context import Context
    context = Context()
    rclpy.init(context=context)
    return context


def _executor_of(node):
    """Give the executor the executables spin ``node`` on, with the node."""
    executor = executor_for(node)
    executor.add_node(node)
    return executor


@pytest.mark.parametrize('setting', [None, '1', '0'])
def test_context_shutdown_ends_spin_until_shutdown(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv('REPVIT_FRAME_EXECUTOR', raising=False)
    else:
        monkeypatch.setenv('REPVIT_FRAME_EXECUTOR', setting)
    context = _own_context()
    node = Node('fx_ctx', context=context)
    node.create_subscription(String, 'fx_ctx_in', lambda m: None, RELIABLE)
    executor = _executor_of(node)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (spin_until_shutdown(node, executor), done.set()),
                              daemon=True)
    thread.start()
    time.sleep(0.3)
    rclpy.shutdown(context=context)
    assert done.wait(5)
    executor.shutdown(0)
    node.destroy_node()
    # FrameExecutor unless REPVIT_FRAME_EXECUTOR=0.
    assert type(executor) is (SingleThreadedExecutor if setting == '0' else FrameExecutor)


def test_an_rclpy_without_what_it_relies_on_spins_on_rclpy_s_own_executor(monkeypatch):
    monkeypatch.delenv('REPVIT_FRAME_EXECUTOR', raising=False)
    monkeypatch.setattr(executor_module, '_EXECUTOR_INTERNALS',
                        executor_module._EXECUTOR_INTERNALS + ('_gone_in_this_rclpy',))
    context = _own_context()
    node = Node('fx_fallback', context=context)
    warned = []
    logger = node.get_logger()
    monkeypatch.setattr(node, 'get_logger', lambda: types.SimpleNamespace(
        warning=lambda text: warned.append(text) or logger.warning(text)))
    got = []
    node.create_subscription(String, 'fx_fallback_in', got.append, RELIABLE)
    peer = Node('fx_fallback_peer', context=context)
    pub = peer.create_publisher(String, 'fx_fallback_in', RELIABLE)
    executor = _executor_of(node)
    thread = threading.Thread(target=spin_until_shutdown, args=(node, executor), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: pub.get_subscription_count() == 1, 30)
        pub.publish(String(data='still served'))
        assert wait_for(lambda: got, 30) and got[0].data == 'still served'
    finally:
        rclpy.shutdown(context=context)
        thread.join(5)
        executor.shutdown(0)
        peer.destroy_node()
        node.destroy_node()
    assert type(executor) is SingleThreadedExecutor
    assert warned == ['this rclpy has no Executor._gone_in_this_rclpy, which FrameExecutor '
                      'relies on: spinning on the SingleThreadedExecutor of rclpy (about '
                      '10-20 % more CPU per camera frame)']


def test_the_classifier_classifies_changes_parameters_and_follows_a_restarted_camera(
        ros_context, synthetic_model):
    from repvit_ros.node import RepVitClassifier
    node = RepVitClassifier(namespace='fx_node', context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9'))])
    b = Bench(ros_context, node, 'fx_node', FrameExecutor(context=ros_context))
    try:
        image = message_class('image')
        cam = b.peer.create_publisher(image, '/fx_node/image',
                                      QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
        assert _send_until_classified(cam, b.results, 1)
        client = AsyncParameterClient(b.peer, '/fx_node/repvit_classifier')
        assert client.wait_for_services(10)
        future = client.set_parameters([Parameter('top_k', value=2)])
        assert wait_for(future.done, 10) and future.result().results[0].successful
        assert _send_until_classified(cam, b.results, 2)
        assert len(b.results[-1].results) == 2
        # The camera restarts best effort: the node subscribes again (a new subscription in
        # the cached wait set, the old one out of it).
        b.peer.destroy_publisher(cam)
        cam = b.peer.create_publisher(image, '/fx_node/image', QoSProfile(
            depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
        assert wait_for(lambda: node.input_qos.reliability == ReliabilityPolicy.BEST_EFFORT,
                        DISCOVERY)
        assert _send_until_classified(cam, b.results, 3)
        assert b.executor.fast_calls > 0
    finally:
        b.close()


def test_the_managed_classifier_goes_through_its_transitions(ros_context, synthetic_model):
    node = _managed(ros_context, 'fx_managed', synthetic_model('m0_9'))
    b = Bench(ros_context, node, 'fx_managed', FrameExecutor(context=ros_context))
    try:
        client = b.peer.create_client(ChangeState, '/fx_managed/repvit_classifier/change_state')
        assert client.wait_for_service(timeout_sec=10)

        def change(transition):
            future = client.call_async(ChangeState.Request(transition=Transition(id=transition)))
            assert wait_for(future.done, 10) and future.result().success

        change(Transition.TRANSITION_CONFIGURE)
        change(Transition.TRANSITION_ACTIVATE)
        assert wait_for(lambda: b.subscribers() == 1, DISCOVERY)
        b.camera(30.0)
        assert wait_for(lambda: len(b.results) >= 5, 30)
        change(Transition.TRANSITION_DEACTIVATE)
        change(Transition.TRANSITION_ACTIVATE)
        got = len(b.results)
        assert wait_for(lambda: len(b.results) >= got + 5, 30)
        assert b.executor.fast_calls > 0
    finally:
        b.close()


# What FrameExecutor uses of rclpy beyond its public executor API. Humble (rclpy 3.3,
# rclpy/executors.py) has each of these with the same meaning: Executor._guard (a
# GuardCondition triggered by wake(), add_node, remove_node, create_task and shutdown),
# _sigint_gc, _tasks and _tasks_lock (list of (task, entity, node)), _is_shutdown,
# _work_tracker (a context manager), can_execute(entity), wait_for_ready_callbacks(timeout);
# Node._wake_executor calls executor.wake() in every create_* (Humble does not call it in
# destroy_*: the destroyed handle's InvalidHandle rebuilds the list instead);
# _rclpy.WaitSet(subs, guards, timers, clients, services, events, context) with
# clear_entities, add_*, wait, get_ready_entities; sub.handle.take_message(msg_type, raw)
# returning (msg, info) or None; waitables' get_num_entities/add_to_wait_set/is_ready.
EXECUTOR_ATTRIBUTES = ('_guard', '_sigint_gc', '_tasks', '_tasks_lock', '_is_shutdown',
                       '_work_tracker', '_context')
WAIT_SET_METHODS = ('clear_entities', 'add_subscription', 'add_guard_condition', 'add_timer',
                    'add_client', 'add_service', 'wait', 'get_ready_entities')


def test_the_rclpy_internals_it_relies_on_are_there(ros_context):
    executor = SingleThreadedExecutor(context=ros_context)
    frame_executor = FrameExecutor(context=ros_context)
    assert frame_executor.missing() == ''
    frame_executor.shutdown()
    assert set(executor_module._EXECUTOR_INTERNALS) <= set(EXECUTOR_ATTRIBUTES)
    assert set(executor_module._WAIT_SET_METHODS) == set(WAIT_SET_METHODS)
    try:
        for name in EXECUTOR_ATTRIBUTES:
            assert hasattr(executor, name), name
        assert list(inspect.signature(executor.wait_for_ready_callbacks).parameters) == \
            ['args', 'kwargs']
        assert 'timeout_sec' in inspect.signature(executor._wait_for_ready_callbacks).parameters
        with executor._work_tracker:
            pass
    finally:
        executor.shutdown()
    for name in WAIT_SET_METHODS:
        assert hasattr(_rclpy.WaitSet, name), name
    for name in ('get_num_entities', 'add_to_wait_set', 'is_ready', '__enter__', '__exit__'):
        assert hasattr(Waitable, name), name
    assert 'executor.wake()' in inspect.getsource(Node._wake_executor)
    for create in ('create_subscription', 'create_service', 'create_timer', 'create_client',
                   'create_guard_condition', 'add_waitable'):
        assert '_wake_executor()' in inspect.getsource(getattr(Node, create)), create
    assert hasattr(_rclpy.Subscription, 'take_message')
    assert 'raw' in inspect.signature(Subscription.__init__).parameters
