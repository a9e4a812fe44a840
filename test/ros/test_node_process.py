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

"""The installed classifier executable as a process: large frames over DDS, startup errors."""

import os
import subprocess
import sys
import time

from ament_index_python.packages import get_package_prefix
import bpu_doubles
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench import harness, loadtest
from ros_support import INSTALL_PREFIX, spin_until
from vision_msgs.msg import Classification

CLASSIFIER = os.path.join(INSTALL_PREFIX, 'lib', 'repvit_ros', 'classifier')
PROFILE = os.path.join(INSTALL_PREFIX, 'share', 'repvit_ros', 'config',
                       'fastdds_large_frames.xml')


def start_classifier(*ros_args, env=None):
    cmd = [CLASSIFIER, '--ros-args', *ros_args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env or os.environ.copy())


def classifier_on(topic, model_path, *ros_args, env=None):
    """Start the classifier on ONNX Runtime, reading ``topic``, in the namespace ``topic``."""
    return start_classifier('-p', f'model_path:={model_path}', '-p', 'backend:=onnxruntime',
                            *ros_args, '-r', f'image:={topic}', '-r', f'__ns:={topic}', env=env)


def best_effort_camera(node, topic, count):
    """Publish ``count`` best-effort 640x480 frames at 10 Hz, then stop the node: its log."""
    src = publish_frames(topic, 'best_effort', count=count, rate=10)
    try:
        src.wait(120)  # start-up, up to 10 s waiting for a match, count / 10 s of frames
        time.sleep(2.0)  # the node takes (and counts) the last frames and loss reports
    finally:
        stop(src)
        log = stop(node)
    return log


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(subprocess.signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read()


@pytest.mark.parametrize('rmw_version, variable', [
    ('6.2.7', 'FASTRTPS_DEFAULT_PROFILES_FILE'),  # Humble: Fast DDS 2.6
    ('8.4.3', 'FASTRTPS_DEFAULT_PROFILES_FILE'),  # Jazzy: Fast DDS 2.14
    ('9.3.3', 'FASTDDS_DEFAULT_PROFILES_FILE'),   # Kilted: Fast DDS 3.2
])
def test_the_profile_goes_by_the_name_fast_dds_reads(rmw_version, variable):
    # Jazzy's Fast DDS reads only FASTRTPS_: with the FASTDDS_ name alone a Jazzy camera ran
    # without the profile and 1-2 of 30 best-effort 640x480 frames arrived. Kilted's reads
    # FASTDDS_, and its rmw warns in every process that has FASTRTPS_ set.
    assert harness.profile_variables(rmw_version) == (variable,)


def test_the_profile_is_set_for_the_installed_fast_dds():
    # Fast DDS 3 installs share/fastdds, Fast DDS 2 share/fastrtps, beside its rmw.
    prefix = get_package_prefix('rmw_fastrtps_shared_cpp')
    fast_dds_3 = os.path.isdir(os.path.join(prefix, 'share', 'fastdds'))
    assert fast_dds_3 != os.path.isdir(os.path.join(prefix, 'share', 'fastrtps'))
    read, unread = harness.PROFILE_VARIABLES[::-1] if fast_dds_3 else harness.PROFILE_VARIABLES
    env = harness.use_large_frames_profile({})
    assert set(env) == {read} and os.path.isfile(env[read]), env
    # This test process too (ros_support sets it before the first participant).
    assert os.environ[read] == env[read] and unread not in os.environ


def default_dds_env():
    """Return this environment without the profile conftest sets: Fast DDS defaults."""
    env = os.environ.copy()
    for var in harness.PROFILE_VARIABLES:
        env.pop(var, None)
    return env


def publish_frames(topic, reliability, count=30, profile=False, rate=10):
    env = default_dds_env()  # the camera decides whether it uses the profile
    if profile:  # by the name this Fast DDS reads (Humble and Jazzy: FASTRTPS_ only)
        env.update(dict.fromkeys(harness.profile_variables(), PROFILE))
    return subprocess.Popen([sys.executable, '-m', 'repvit_ros.bench.frame_source', '--topic',
                             topic, '--encoding', 'bgr8', '--width', '640', '--height', '480',
                             '--rate', str(rate), '--count', str(count), '--reliability',
                             reliability], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize('reliability, profile', [('reliable', False), ('best_effort', True)])
def test_640x480_bgr8_reaches_the_node(ros_context, executor, synthetic_model, reliability,
                                       profile):
    topic = f'/big_{reliability}'
    node = classifier_on(topic, synthetic_model('m0_9'))
    peer = rclpy.create_node('big_peer', context=ros_context)
    got = []
    peer.create_subscription(Classification, f'/big_{reliability}/classification', got.append,
                             QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
    executor.add_node(peer)
    # Volatile reliable topics only deliver what is written after the match: wait until the
    # node's result publisher is discovered before any frame goes out (it is not, at times,
    # when the first discovery announcements are missed and the next comes 3 s later).
    assert spin_until(executor, lambda: peer.count_publishers(
        f'/big_{reliability}/classification') > 0, timeout=30), stop(node)
    src = publish_frames(topic, reliability, profile=profile)
    try:
        deadline = time.monotonic() + 40
        while src.poll() is None and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
    finally:
        src_out = stop(src)
        log = stop(node)
    assert 'published 30 frames' in src_out
    assert len(got) >= 27, f'{len(got)} of 30 classified\n{log}'
    assert 'no frame for' not in log
    # qos_reliability auto (the default) matched the camera: a reliable one stays reliable.
    matched = 'reliable' if reliability == 'reliable' else 'best effort'
    assert f'subscribed to {topic} ({matched})' in log, log


def _stop_counts(log):
    """Read the frames received and lost in transport from the node's last log line."""
    line = next(ln for ln in log.splitlines() if 'stopped: released' in ln)
    return (int(line.split('frames received ')[1].split(',')[0]),
            int(line.split('lost before the node ')[1].split()[0]))


def _received(log):
    return _stop_counts(log)[0]


def test_best_effort_large_frames_without_profile_are_lost_and_counted(synthetic_model):
    # Both sides on Fast DDS defaults: 921 KB frames do not fit the 512 KB shared-memory
    # segment and go as UDP fragments, which often do not all arrive (2 of 100 received on an
    # idle machine, 43 of 100 with a CPU hog slowing the sender down).
    topic = '/big_lost'
    log = best_effort_camera(classifier_on(topic, synthetic_model('m0_9'),
                                           env=default_dds_env()), topic, count=100)
    assert 'subscribed to /big_lost (best effort)' in log, log
    received, lost = _stop_counts(log)
    assert lost >= 20, log
    # Not silent: DDS reports the frames it lost on the way, and the node counts and logs them,
    # so nearly every frame is accounted for (a loss among the last few may go unnoticed).
    assert 90 <= received + lost <= 100, log
    assert 'lost in transport (best-effort frames larger than the DDS shared-memory' in log, log


def test_publisher_without_frames_gets_one_actionable_warning(synthetic_model):
    # A best-effort camera and a node forced to reliable never match: frames cannot arrive.
    topic = '/no_frames'
    log = best_effort_camera(classifier_on(topic, synthetic_model('m0_9'), '-p',
                                           'qos_reliability:=reliable'), topic, count=90)
    assert _received(log) == 0, log
    assert log.count('no frame for') == 1, log
    assert log.count('cannot reach this reliable subscription: set qos_reliability to auto') == 2
    assert 'shared-memory' not in log, log  # not the cause here


def _run(*ros_args, timeout=60):
    proc = subprocess.run([CLASSIFIER, '--ros-args', *ros_args], capture_output=True,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def bad_files(tmp_path):
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(b'\x08\x07' * 4000)
    binfile = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    binfile.write_bytes(b'\x00' * 4096)
    return {'corrupt': str(corrupt), 'bin': str(binfile), 'missing': str(tmp_path / 'no.onnx')}


def test_startup_errors_are_one_clear_line(bad_files, synthetic_model, tmp_path):
    import onnx
    from onnx import helper, TensorProto
    wrong = tmp_path / 'wrong_shape.onnx'
    io = [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 1, 8, 8]),
          helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 1, 8, 8])]
    model = helper.make_model(helper.make_graph([helper.make_node('Identity', ['x'], ['y'])],
                                                'g', io[:1], io[1:]),
                              opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(wrong))
    good = synthetic_model('m0_9')
    cases = [
        (['-p', f'model_path:={bad_files["missing"]}'], 'does not exist'),
        (['-p', f'model_path:={bad_files["corrupt"]}'], 'cannot load'),
        (['-p', f'model_path:={wrong}'], 'unsupported input'),
        (['-p', f'model_path:={good}', '-p', 'backend:=tensorrt'], 'backend'),
        (['-p', f'model_path:={bad_files["bin"]}', '-p', 'backend:=hbm_runtime'],
         'a .bin runs on the RDK board only'),
        (['-p', f'model_path:={bad_files["bin"]}'], 'a .bin runs on the RDK board only'),
        (['-p', f'model_path:={good}', '-p', 'threads:=0'], 'threads'),
        (['-p', f'model_path:={good}', '-p', 'resize_mode:=zoom'], 'resize_mode'),
        (['-p', f'model_path:={good}', '-p', 'model:=m9'], 'model'),
    ]
    for args, words in cases:
        code, out = _run(*args)
        assert code == 1, (args, out)
        assert 'Traceback' not in out, out
        errors = [ln for ln in out.splitlines() if '[ERROR]' in ln]
        assert len(errors) == 1 and 'cannot start' in errors[0] and words in errors[0], out


def test_callback_keeps_up_while_the_bpu_runtime_holds_the_gil(tmp_path):
    # hobot_dnn's forward holds the GIL for the whole BPU run. The classifier process runs on
    # the pyeasy_dnn test double, whose forward holds it for 25 ms (40 inferences/s; RepViT
    # m1_0 takes 2 ms on the X5), fed 640x480 frames at 50 Hz: overloaded, yet every frame must
    # reach the subscription callback between two forwards, and every one not classified be
    # counted as dropped, none lost unseen in the subscription's DDS history.
    forward = 0.025
    shim = bpu_doubles.write_pyeasy_dnn_package(str(tmp_path), forward)
    model = tmp_path / 'RepViT_m1_0_224x224_nv12.bin'
    model.write_bytes(b'\x01' * 4096)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [shim, os.path.dirname(bpu_doubles.__file__), os.environ.get('PYTHONPATH', '')]))
    ns = f'/gil_{os.getpid()}'
    # A 30-frame DDS history (600 ms at 50 Hz) rides out scheduling hiccups on a loaded
    # machine; a callback that waited for inference (10 frames/s short, 35 behind by the end of
    # the run) would still overflow it.
    params = harness.classifier_params(2, model_path=str(model), backend='pyeasy_dnn', ns=ns,
                                       depth=30)
    with harness.node_under_test('classifier', ns, params, env=env, prime=True) as (node,
                                                                                    feeder):
        before = feeder.diagnostics()
        res = feeder.run(harness.frames('bgr8', 640, 480), rate=50.0, duration=3.0, warmup=0.5)
        # Counted once every frame sent has arrived and nothing is in flight (a loaded machine
        # takes more than a second for the last ones).
        counts, _ = loadtest._settle(feeder, node, before, res['sent'])
    code = node.stop()
    log = node.output[-3000:]
    assert code == 0 and 'pyeasy_dnn' in log, log
    assert counts['received'] == res['sent'], (counts, res, log)  # every frame reached it
    assert counts['received'] == counts['published'] + counts['dropped'], counts
    assert counts['dropped'] > 0 and counts['bad'] == counts['failed'] == 0, counts
    # The BPU stays busy: results at no less than 70 % of the runtime's 40/s.
    assert res['throughput_fps'] > 0.7 / forward, res
    assert res['received'] == counts['published'] and res['stalls'] == 0, (res, counts)
