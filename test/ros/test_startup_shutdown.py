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
How the classifier process starts and stops when things take long or go wrong.

Slow models stand in for slow runtimes: a chain of matrix products that ONNX Runtime folds
while loading (slow load) or runs per frame (slow inference).
"""

import ast
import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import pytest
import rclpy
from repvit_ros import main, process
from repvit_ros.bench import harness
from ros_support import INSTALL_PREFIX

CLASSIFIER = os.path.join(INSTALL_PREFIX, 'lib', 'repvit_ros', 'classifier')


def slow_model(path, products, per_frame):
    """Write a 1000-class ONNX model of ``products`` 1500x1500 matrix products (~70 ms each)."""
    w = numpy_helper.from_array(np.eye(1500, dtype=np.float32), 'W')
    consts = [numpy_helper.from_array(np.array([v], np.int64), n)
              for n, v in (('start', 0), ('end', 1000), ('axis', 1))]
    nodes = [helper.make_node('ReduceMean', ['data'], ['m'], keepdims=0),
             helper.make_node('Mul', ['W', 'm'], ['x0'])] if per_frame else \
        [helper.make_node('Identity', ['W'], ['x0'])]
    nodes += [helper.make_node('MatMul', [f'x{i}', 'W'], [f'x{i + 1}']) for i in range(products)]
    nodes += [helper.make_node('ReduceMean', [f'x{products}'], ['r'], axes=[0], keepdims=1),
              helper.make_node('Slice', ['r', 'start', 'end', 'axis'], ['logits'])]
    graph = helper.make_graph(
        nodes, 'slow',
        [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 1000])], [w, *consts])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def _wait_for_node(ns, timeout=30.0):
    """Wait until a node appears in namespace ``ns`` (it exists before its model loads)."""
    context = rclpy.context.Context()
    rclpy.init(context=context)
    peer = rclpy.create_node('watcher', context=context)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(n == 'repvit_classifier' and s == ns
                   for n, s in peer.get_node_names_and_namespaces()):
                return True
            time.sleep(0.05)
        return False
    finally:
        peer.destroy_node()
        rclpy.try_shutdown(context=context)


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_model_loads_ends_quietly(tmp_path, sig):
    model = slow_model(tmp_path / 'slow_load.onnx', products=70, per_frame=False)
    ns = f'/loading_{os.getpid()}_{int(sig)}'
    proc = subprocess.Popen([CLASSIFIER, '--ros-args', '-r', f'__ns:={ns}', '-p',
                             f'model_path:={model}', '-p', 'backend:=onnxruntime'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_for_node(ns), proc.communicate(timeout=30)[0]
        time.sleep(0.3)
        assert proc.poll() is None  # still loading: the model takes seconds to fold
        proc.send_signal(sig)
        out = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert 'Traceback' not in out and '[ERROR]' not in out, out
    assert 'stopped while starting' in out or 'stopped: released' in out, out


def test_shutdown_is_bounded_while_a_worker_is_inside_the_backend(tmp_path):
    # ~10 s a frame (150 products of ~70 ms): far longer than the bounded shutdown may take.
    model = slow_model(tmp_path / 'slow_frame.onnx', products=150, per_frame=True)
    ns = f'/slow_{os.getpid()}'
    params = {**harness.classifier_params(1, model_path=model, backend='onnxruntime'),
              'queue_size': 2}
    with harness.node_under_test('classifier', ns, params) as (proc, feeder):
        msgs = harness.frames('bgr8', 160, 120, n=3)
        for msg in msgs:
            feeder.publish(msg)
        # One frame inside the backend, two waiting: the node has them all.
        assert feeder.spin_until(
            lambda: feeder.diagnostics().get('received') == '3', 60), proc.output
        feeder.spin_for(0.5)
        started = time.monotonic()
        proc.proc.send_signal(signal.SIGINT)
        proc.proc.wait(30)
        took = time.monotonic() - started
    out = proc.output
    assert proc.stop() == 0, out
    # Well under the frame's ~10 s: the shutdown (1.5 s for the workers, then rclpy and the
    # interpreter) did not wait for the backend, whatever the machine's load.
    assert took < 7.0, (took, out)
    assert 'Traceback' not in out, out
    line = next(ln for ln in out.splitlines() if 'stopped: released' in ln)
    assert 'received 3, published 0, dropped 3' in line, line
    assert 'shutdown 3, of which 1 abandoned in a worker' in line, line


def test_a_paused_reliable_camera_is_not_blamed_on_large_frames(synthetic_model):
    ns = f'/paused_{os.getpid()}'
    params = harness.classifier_params(1, model_path=synthetic_model('m0_9'),
                                       backend='onnxruntime')
    params.pop('qos_reliability')  # auto: it matches the reliable feeder
    with harness.node_under_test('classifier', ns, params) as (proc, feeder):
        feeder.run(harness.frames('bgr8', 640, 480), window=1, count=3, warmup=0.0)
        # The camera pauses: the warning comes 5 s after the last frame.
        assert feeder.spin_until(lambda: 'no frame for' in proc.output, 30), proc.output
    out = proc.output
    assert 'subscribed to' in out and '(reliable)' in out, out
    warning = next(ln for ln in out.splitlines() if 'no frame for' in ln)
    assert '(reliable subscription): the camera may be paused' in warning, warning
    assert 'shared-memory' not in out, out


def test_startup_problems_of_models_and_labels_are_one_line(synthetic_model, tmp_path):
    # Declares one input frame and [batch, 1000] logits, but answers two rows per frame.
    batch2 = tmp_path / 'batch2.onnx'
    io = [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, 224, 224]),
          helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 1000])]
    nodes = [helper.make_node('ReduceMean', ['data'], ['m'], axes=[2, 3], keepdims=0),
             helper.make_node('Tile', ['m', 'reps'], ['t']),
             helper.make_node('Slice', ['t', 'st', 'en', 'ax'], ['y'])]
    consts = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
              (('reps', [2, 334]), ('st', [0]), ('en', [1000]), ('ax', [1]))]
    model = helper.make_model(helper.make_graph(nodes, 'b2', io[:1], io[1:], consts),
                              opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(batch2))
    latin1 = tmp_path / 'labels_latin1.txt'
    latin1.write_bytes('\n'.join(['caf\xe9'] + [f'c{i}' for i in range(999)]).encode('latin-1'))
    good = synthetic_model('m0_9')
    cases = [
        (['-p', f'model_path:={batch2}'], 'not a vector of class logits'),
        (['-p', f'model_path:={good}', '-p', f'labels_path:={latin1}'], 'not UTF-8'),
        (['-p', f'model_path:={tmp_path}'], 'is a directory'),
    ]
    for args, words in cases:
        run = subprocess.run([CLASSIFIER, '--ros-args', *args], capture_output=True, text=True,
                             timeout=60)
        out = run.stdout + run.stderr
        assert run.returncode == 1, (args, out)
        assert 'Traceback' not in out, out
        errors = [ln for ln in out.splitlines() if '[ERROR]' in ln]
        assert len(errors) == 1 and 'cannot start' in errors[0] and words in errors[0], out


class _SpinRaises:
    """Stands in for the node's executor: spin raises what a signal can make of a conversion."""

    def __init__(self, context, shut_down_after):
        self.context, self.shut_down_after = context, shut_down_after

    def spin(self):
        if self.shut_down_after is not None:
            # rclpy shuts the context down on its own thread, a moment after the signal.
            threading.Timer(self.shut_down_after,
                            lambda: rclpy.try_shutdown(context=self.context)).start()
        raise RuntimeError("Unable to convert call argument '0' to Python object")


def test_an_error_raised_as_a_signal_shuts_the_context_down_is_part_of_the_shutdown(
        ros_context):
    # Seen in a CI run: a second SIGINT under load made take_message raise this RuntimeError
    # while the context was still up; the process printed a traceback and exited 1.
    node = rclpy.create_node('spin_race', context=ros_context)
    try:
        start = time.monotonic()
        main.spin_until_shutdown(node, _SpinRaises(ros_context, shut_down_after=0.1))  # no raise
        assert not ros_context.ok()
        assert time.monotonic() - start < main.SIGNAL_GRACE_SEC
    finally:
        node.destroy_node()


def test_an_error_without_a_shutdown_still_propagates(ros_context):
    node = rclpy.create_node('spin_error', context=ros_context)
    try:
        start = time.monotonic()
        with pytest.raises(RuntimeError, match='Unable to convert'):
            main.spin_until_shutdown(node, _SpinRaises(ros_context, shut_down_after=None))
        assert ros_context.ok()
        assert time.monotonic() - start >= main.SIGNAL_GRACE_SEC
    finally:
        node.destroy_node()


def test_a_second_ctrl_c_while_signals_are_being_ignored_is_swallowed(monkeypatch):
    # Python 3.12's signal.signal is a Python function: a pending Ctrl-C raises inside it.
    installed, raised = {}, []

    def install(sig, handler):
        if not raised:
            raised.append(sig)
            raise KeyboardInterrupt
        installed[sig] = handler
    monkeypatch.setattr(process.signal, 'signal', install)
    try:
        process.ignore_further_signals()
    except KeyboardInterrupt:  # as a test failure, not as the end of the whole test run
        pytest.fail('the second Ctrl-C broke the shutdown')
    assert raised == [signal.SIGINT]
    assert installed == {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN}


# A process that stops: rclpy's signal thread triggers every executor's signal guard condition
# from a list it reads without a lock; an executor shut down meanwhile freed that guard
# condition, and the process died of a segmentation fault instead of stopping (1 stop in 10
# under load, exit -11 under `ros2 launch`). The executables end rclpy's signal handling first.
ORDER_SCRIPT = r"""
import faulthandler, os, signal, sys, threading
faulthandler.dump_traceback_later(45, exit=True)  # a hang fails with every thread's stack
from rclpy import signals
from rclpy.node import Node
from repvit_ros import container, main, process

events = []
destroy = signals.SignalHandlerGuardCondition.destroy
uninstall = process.uninstall_signal_handlers
spin = process.spin_until_shutdown
spinning = threading.Event()


def recording_destroy(self):
    events.append('guard condition destroyed')
    destroy(self)


def recording_uninstall():
    events.append('signal handling ended')
    uninstall()


def recording_spin(node, executor):
    spinning.set()
    spin(node, executor)


class Plain(Node):
    abandoned = 0

    def __init__(self):
        super().__init__('plain')


signals.SignalHandlerGuardCondition.destroy = recording_destroy
process.uninstall_signal_handlers = recording_uninstall
main.spin_until_shutdown = container.spin_until_shutdown = recording_spin


def interrupt():
    spinning.wait()
    threading.Event().wait(0.3)
    os.kill(os.getpid(), signal.SIGINT)


threading.Thread(target=interrupt, daemon=True).start()
code = main.run(Plain, []) if sys.argv[1] == 'classifier' else container.main([])
print('EVENTS', events, flush=True)
sys.exit(code)
"""


@pytest.mark.parametrize('executable', ['classifier', 'container'])
def test_the_signal_guard_condition_goes_only_after_rclpy_s_signal_handling(executable):
    out = subprocess.run([sys.executable, '-c', ORDER_SCRIPT, executable], capture_output=True,
                         text=True, timeout=90)
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith('EVENTS'))
    events = ast.literal_eval(line[len('EVENTS '):])
    assert 'guard condition destroyed' in events, events
    assert events.index('signal handling ended') < events.index('guard condition destroyed'), \
        events


def test_two_ctrl_c_close_together_stop_the_node_cleanly_each_time():
    # The same race with the classifier on real frames, as `ros2 launch` stops it: Ctrl-C to
    # the process group and then its own SIGINT. Before the fix 1 stop in 10 died of SIGSEGV.
    env = dict(os.environ, PYTHONFAULTHANDLER='1')
    params = harness.classifier_params(2, model_path=harness.model_file('m0_9'))
    frames = harness.frames('bgr8', 320, 240, n=2)
    rng = random.Random(31)
    for cycle in range(6):
        ns = f'/twice_{os.getpid()}_{cycle}'
        with harness.node_under_test('classifier', ns, params, env=env) as (proc, feeder):
            for msg in frames * 3:
                feeder.publish(msg)
            feeder.spin_for(rng.uniform(0.1, 0.4))
            proc.proc.send_signal(signal.SIGINT)
            time.sleep(rng.uniform(0.0, 0.05))
            proc.proc.send_signal(signal.SIGINT)
            proc.proc.wait(20)
        out = proc.output
        assert proc.stop() == 0, f'cycle {cycle}:\n{out}'
        assert 'Fatal Python error' not in out and 'Traceback' not in out, out


def test_signals_stay_ignored_when_humble_s_uninstall_puts_sigterm_back(monkeypatch):
    # Humble's rclpy.signals.uninstall_signal_handlers (rclpy 3.3) restores the SIGTERM
    # handler that rclpy's init replaced (Python's default: the process would die of a SIGTERM
    # half-way through the stop); Kilted's leaves an ignored signal ignored.
    uninstalled = []

    def humble_uninstall():
        uninstalled.append(True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    monkeypatch.setattr(process, 'uninstall_signal_handlers', humble_uninstall)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        process.end_signal_handling()
        assert uninstalled == [True]
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
