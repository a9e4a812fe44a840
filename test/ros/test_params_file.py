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
The shipped params file through rcl's own parser (``--params-file``), as launch passes it.

``ros2 launch repvit_ros classify.launch.py`` starts the executable with the installed
config/repvit.yaml first and a file of the given launch arguments after it. rcl's YAML parser
gives an empty list (``image_topics: []``) no type: rclpy hands the node a NOT_SET value, which
the node once refused, so the package's headline command died at once. These tests read the
file only through rcl (never with a YAML library), run the installed executables with it, and
pin the rclpy behaviour the list parameters rely on (the same in Humble's rclpy 3.3 source:
node.py declare_parameters, _apply_descriptor and describe_parameter).
"""

import os
import subprocess
import threading

from ament_index_python.packages import get_package_prefix, get_package_share_directory
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
import pytest
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros import parameters
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.messages import make_message
from repvit_ros.node import RepVitClassifier, StartupError
from ros_support import wait_for
from vision_msgs.msg import Classification

RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
KIND_TYPES = {bool: Parameter.Type.BOOL, int: Parameter.Type.INTEGER,
              float: Parameter.Type.DOUBLE, str: Parameter.Type.STRING,
              tuple: Parameter.Type.STRING_ARRAY}


def shipped_params_file():
    return os.path.join(get_package_share_directory('repvit_ros'), 'config', 'repvit.yaml')


def executable(name):
    return os.path.join(get_package_prefix('repvit_ros'), 'lib', 'repvit_ros', name)


def write_overrides(path, **values):
    """Write launch arguments as launch_ros hands them over: a params file of their own."""
    lines = ['/**:', '  ros__parameters:']
    lines += [f'    {k}: {v!r}' if isinstance(v, str) else f'    {k}: {v}'
              for k, v in values.items()]
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def parsed_by_rcl(*files):
    """
    Read params files as rcl parses them for a node: parameter name -> rclpy Parameter.

    rclpy offers no public reading of a node's overrides that survives `[]` (declaring it,
    even automatically, fails on Kilted), so this test reads the node's override table.
    """
    context = Context()
    args = ['--ros-args'] + [a for f in files for a in ('--params-file', f)]
    rclpy.init(args=args, context=context)
    try:
        node = rclpy.create_node('repvit_classifier', context=context)
        try:
            return dict(node._parameter_overrides)
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)


def test_the_shipped_params_file_sets_every_parameter_with_its_type():
    found = parsed_by_rcl(shipped_params_file())
    missing = [s.name for s in parameters.PARAMETERS if s.name not in found]
    assert not missing, f'config/repvit.yaml lacks {missing}'
    extra = set(found) - set(parameters.SPECS) - {'use_sim_time'}
    assert not extra, f'config/repvit.yaml sets parameters the node does not have: {extra}'
    for spec in parameters.PARAMETERS:
        param = found[spec.name]
        if spec.kind is tuple and not spec.default:
            # `[]`: rcl gives it no type; the node reads it as its empty default.
            assert param.type_ in (Parameter.Type.NOT_SET, Parameter.Type.STRING_ARRAY)
            continue
        assert param.type_ == KIND_TYPES[spec.kind], \
            f'{spec.name}: {param.type_.name} in config/repvit.yaml, the node has {spec.kind}'
        assert param.value == spec.default, \
            f'{spec.name}: {param.value!r} in config/repvit.yaml, the node defaults to ' \
            f'{spec.default!r}'


def test_the_rclpy_behaviour_the_list_parameters_rely_on(ros_context, tmp_path):
    # rcl gives `[]` no type; rclpy infers an empty list as a byte array.
    path = tmp_path / 'p.yaml'
    path.write_text('/**:\n  ros__parameters:\n    image_topics: []\n')
    assert parsed_by_rcl(str(path))['image_topics'].type_ == Parameter.Type.NOT_SET
    assert Parameter.Type.from_parameter_value([]) == Parameter.Type.BYTE_ARRAY
    assert Parameter('names', value=[]).type_ == Parameter.Type.BYTE_ARRAY
    node = rclpy.create_node('pin', context=ros_context)
    try:
        desc = ParameterDescriptor(read_only=False, dynamic_typing=True)
        node.declare_parameter('names', None, desc)
        # A dynamically typed parameter may stay without a value at declaration ...
        assert node.get_parameter('names').type_ == Parameter.Type.NOT_SET
        # ... the typed empty value can be set while not read-only ...
        assert node.set_parameters([Parameter('names', Parameter.Type.STRING_ARRAY, [])])[
            0].successful
        assert node.get_parameter('names').type_ == Parameter.Type.STRING_ARRAY
        # ... and the descriptor rclpy keeps is the one passed, so it can be made read-only
        # (its type follows the value: string array).
        assert node.describe_parameter('names') is desc
        assert desc.type == Parameter.Type.STRING_ARRAY.value
        desc.read_only = True
        refused = node.set_parameters([Parameter('names', value=['a'])])[0]
        assert not refused.successful and 'read-only' in refused.reason
    finally:
        node.destroy_node()


@pytest.mark.parametrize('given', ['absent', '[]', "['/front/image_raw']", 'python []'])
def test_list_parameters_are_string_arrays_default_included(ros_context, synthetic_model,
                                                            tmp_path, given):
    lines = ['/**:', '  ros__parameters:', f'    model_path: {synthetic_model("m0_9")!r}']
    if given not in ('absent', 'python []'):
        lines.append(f'    image_topics: {given}')
    # From Python an empty list is a byte array (rclpy infers its type from the items).
    overrides = [Parameter('image_topics', value=[]), Parameter('camera_names', value=[])] \
        if given == 'python []' else None
    path = tmp_path / 'mine.yaml'
    path.write_text('\n'.join(lines) + '\n')
    context = Context()
    rclpy.init(args=['--ros-args', '--params-file', shipped_params_file(),
                     '--params-file', str(path)], context=context)
    try:
        node = RepVitClassifier(context=context, parameter_overrides=overrides)
        try:
            for name in ('image_topics', 'camera_names'):
                param = node.get_parameter(name)
                assert param.type_ == Parameter.Type.STRING_ARRAY
                assert node.describe_parameter(name).type == \
                    Parameter.Type.STRING_ARRAY.value
                assert node.describe_parameter(name).read_only
            want = ['/front/image_raw'] if 'front' in given else []
            assert list(node.get_parameter('image_topics').value) == want
            assert node.cameras == (('front',) if want else ('',))
            refused = node.set_parameters([Parameter('camera_names', value=['x'])])[0]
            assert not refused.successful and 'read-only' in refused.reason
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)


@pytest.mark.parametrize('line, words', [
    ('threads: many', "parameter threads must be an integer, got 'many' (a string)"),
    ('threads: 2.5', 'parameter threads must be an integer, got 2.5 (a floating-point number)'),
    ('threads: 99', 'parameter threads=99 is out of range (from 1 to 16)'),
    ('image_topics: /front/image_raw', 'parameter image_topics must be a list of strings, got '
                                       "'/front/image_raw' (a string)"),
    ('image_topics: [1, 2]', 'parameter image_topics must be a list of strings, got [1, 2] '
                             '(a list of integers)'),
    ('max_rate: fast', "parameter max_rate must be a number, got 'fast' (a string)"),
    ('model: []', 'parameter model must be a string, got no value'),
])
@pytest.mark.parametrize('executable_name', ['classifier', 'classifier_managed'])
def test_a_wrong_value_in_a_params_file_is_one_line_naming_it_and_the_file(
        tmp_path, line, words, executable_name):
    # As `ros2 launch repvit_ros classify.launch.py params_file:=mine.yaml` passes a user's
    # file: instead of the shipped one. (After a file that sets the parameter with another
    # type, rcl keeps the first value and rclpy never sees the second: an rcl quirk.)
    path = tmp_path / 'mine.yaml'
    path.write_text(f'/**:\n  ros__parameters:\n    {line}\n')
    run = subprocess.run([executable(executable_name), '--ros-args', '--params-file', str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = (run.stdout + run.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(f'cannot start: {words}, in {path}'), lines[0]


def test_a_wrong_value_given_with_p_names_no_file(ros_context):
    with pytest.raises(StartupError, match=r"^parameter top_k must be an integer, got 'x' "
                                           r'\(a string\)$'):
        RepVitClassifier(context=ros_context,
                         parameter_overrides=[Parameter('top_k', value='x')])


class Camera:
    """Frames to a topic and the results of another, in this process."""

    def __init__(self, context, image_topic, result_topic):
        self.node = rclpy.create_node('params_file_camera', context=context)
        self.results = []
        self.node.create_subscription(Classification, result_topic, self.results.append,
                                      RELIABLE)
        pub = self.node.create_publisher(message_class('image'), image_topic, RELIABLE)
        frame = make_message('image', sample_picture(160, 120), 'bgr8', 0, frame_id='cam')
        self.node.create_timer(0.1, lambda: pub.publish(frame))
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def lifecycle(self, node_name, transition_id):
        client = self.node.create_client(ChangeState, f'{node_name}/change_state')
        assert client.wait_for_service(timeout_sec=60)
        future = client.call_async(ChangeState.Request(
            transition=Transition(id=transition_id)))
        assert wait_for(future.done, 60)
        return future.result().success

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.mark.parametrize('managed', [False, True])
def test_the_installed_executable_classifies_with_the_shipped_params_file(
        ros_context, synthetic_model, tmp_path, managed):
    """Started as classify.launch.py starts it: the installed file, then the arguments' file."""
    ns = '/pf_managed' if managed else '/pf_plain'
    overrides = write_overrides(tmp_path / 'launch_params.yaml',
                                model_path=synthetic_model('m0_9'))
    proc = subprocess.Popen(
        [executable('classifier_managed' if managed else 'classifier'), '--ros-args',
         '-r', '__node:=repvit_classifier', '-r', f'__ns:={ns}', '--params-file',
         shipped_params_file(), '--params-file', overrides, '-r', f'image:={ns}_camera'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    camera = Camera(ros_context, f'{ns}_camera', f'{ns}/classification')
    try:
        if managed:
            assert camera.lifecycle(f'{ns}/repvit_classifier', Transition.TRANSITION_CONFIGURE)
            assert camera.lifecycle(f'{ns}/repvit_classifier', Transition.TRANSITION_ACTIVATE)
        assert wait_for(lambda: len(camera.results) >= 3, 90), 'no results'
        assert camera.results[0].header.frame_id == 'cam'
        assert len(camera.results[0].results) == 5  # top_k from the shipped file
    finally:
        camera.close()
        proc.send_signal(subprocess.signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert 'cannot start' not in out and 'Traceback' not in out, out
