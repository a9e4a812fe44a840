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

"""The dev environment is real ROS 2 and the package builds and installs as on a robot."""

import ast
import os
import stat
import subprocess
import sys

import ai_msgs
from ai_msgs.msg import (Attribute, Capture, DBResult, PerceptionInfo, PerceptionTargets, Perf,
                         Point, Roi, Target)
from catkin_pkg.package import parse_package
import composition_interfaces
from composition_interfaces.srv import ListNodes, LoadNode, UnloadNode
import hbm_img_msgs
from hbm_img_msgs.msg import HbmMsg1080P
import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_support import INSTALL_PREFIX, spin_until
from sensor_msgs.msg import Image
import vision_msgs
from vision_msgs.msg import Classification, LabelInfo, ObjectHypothesis, VisionClass, VisionInfo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The message packages tools/test_msgs holds test copies of.
TEST_MESSAGES = ('vision_msgs', 'hbm_img_msgs', 'ai_msgs', 'composition_interfaces')


def test_image_round_trip_over_dds(ros_context, executor):
    node = rclpy.create_node('env_pub', context=ros_context)
    sub_node = rclpy.create_node('env_sub', context=ros_context)
    executor.add_node(node)
    executor.add_node(sub_node)
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    received = []
    pub = node.create_publisher(Image, 'env_image', qos)
    sub_node.create_subscription(Image, 'env_image', received.append, qos)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0)

    pixels = np.arange(64 * 48 * 3, dtype=np.uint32).astype(np.uint8)
    msg = Image(height=48, width=64, encoding='rgb8', step=64 * 3, data=pixels.tobytes())
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec = 42
    pub.publish(msg)
    assert spin_until(executor, lambda: received)
    got = received[0]
    assert (got.height, got.width, got.encoding, got.header.frame_id) == (48, 64, 'rgb8', 'camera')
    assert got.header.stamp.sec == 42
    assert np.array_equal(np.frombuffer(got.data, np.uint8), pixels)
    node.destroy_node()
    sub_node.destroy_node()


def test_vision_msgs_test_copy_has_upstream_fields():
    cls = Classification(results=[ObjectHypothesis(class_id='281', score=0.5)])
    assert cls.results[0].class_id == '281'
    assert set(Classification.get_fields_and_field_types()) == {'header', 'results'}
    assert ObjectHypothesis.get_fields_and_field_types() == {'class_id': 'string',
                                                             'score': 'double'}
    assert LabelInfo.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'class_map': 'sequence<vision_msgs/VisionClass>',
        'threshold': 'float'}
    assert VisionClass.get_fields_and_field_types() == {'class_id': 'uint16',
                                                        'class_name': 'string'}
    assert VisionInfo.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'method': 'string', 'database_location': 'string',
        'database_version': 'int32'}


def test_hbm_img_msgs_test_copy_matches_mipi_cam():
    assert HbmMsg1080P.get_fields_and_field_types() == {
        'index': 'int32', 'time_stamp': 'builtin_interfaces/Time', 'height': 'uint32',
        'width': 'uint32', 'data_size': 'uint32', 'step': 'uint32', 'encoding': 'uint8[12]',
        'data': 'uint8[6220800]'}


def test_ai_msgs_test_copy_matches_hobot_msgs():
    # D-Robotics hobot_msgs ai_msgs, as the RDK websocket web display reads them.
    assert PerceptionTargets.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'fps': 'int16', 'perfs': 'sequence<ai_msgs/Perf>',
        'targets': 'sequence<ai_msgs/Target>',
        'disappeared_targets': 'sequence<ai_msgs/Target>'}
    assert Target.get_fields_and_field_types() == {
        'type': 'string', 'track_id': 'uint64', 'rois': 'sequence<ai_msgs/Roi>',
        'attributes': 'sequence<ai_msgs/Attribute>', 'points': 'sequence<ai_msgs/Point>',
        'captures': 'sequence<ai_msgs/Capture>'}
    assert Roi.get_fields_and_field_types() == {
        'type': 'string', 'rect': 'sensor_msgs/RegionOfInterest', 'confidence': 'float'}
    assert Attribute.get_fields_and_field_types() == {
        'type': 'string', 'value': 'float', 'confidence': 'float'}
    assert Perf.get_fields_and_field_types() == {
        'type': 'string', 'stamp_start': 'builtin_interfaces/Time',
        'stamp_end': 'builtin_interfaces/Time', 'time_ms_duration': 'double'}
    assert Point.get_fields_and_field_types() == {
        'type': 'string', 'point': 'sequence<geometry_msgs/Point32>',
        'confidence': 'sequence<float>'}
    assert Capture.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'img': 'sensor_msgs/Image', 'features': 'sequence<float>',
        'db_result': 'ai_msgs/DBResult'}
    assert DBResult.get_fields_and_field_types() == {
        'db_type': 'string', 'match_id': 'string', 'distance': 'float', 'similarity': 'float'}
    assert PerceptionInfo.get_fields_and_field_types() == {
        'header': 'std_msgs/Header', 'height': 'uint32', 'width': 'uint32',
        'class_names': 'sequence<string>'}


def setup_entry_points(group):
    """Read one entry-point group of setup.py: its 'name = module:function' lines."""
    tree = ast.parse(open(os.path.join(ROOT, 'setup.py')).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == group:
                    return [item.value for item in value.elts]
    return []


def test_composition_interfaces_test_copy_has_upstream_fields():
    # The container services as launch_ros and ros2component call them (Humble and later).
    assert LoadNode.Request.get_fields_and_field_types() == {
        'package_name': 'string', 'plugin_name': 'string', 'node_name': 'string',
        'node_namespace': 'string', 'log_level': 'uint8', 'remap_rules': 'sequence<string>',
        'parameters': 'sequence<rcl_interfaces/Parameter>',
        'extra_arguments': 'sequence<rcl_interfaces/Parameter>'}
    assert LoadNode.Response.get_fields_and_field_types() == {
        'success': 'boolean', 'error_message': 'string', 'full_node_name': 'string',
        'unique_id': 'uint64'}
    assert UnloadNode.Request.get_fields_and_field_types() == {'unique_id': 'uint64'}
    assert UnloadNode.Response.get_fields_and_field_types() == {
        'success': 'boolean', 'error_message': 'string'}
    assert ListNodes.Request.get_fields_and_field_types() == {}
    assert ListNodes.Response.get_fields_and_field_types() == {
        'full_node_names': 'sequence<string>', 'unique_ids': 'sequence<uint64>'}


def _installed_files(prefix):
    return {os.path.relpath(os.path.join(d, f), prefix)
            for d, _, files in os.walk(prefix) for f in files}


def test_colcon_build_installs_launch_config_models_and_executables(tmp_path):
    # A fresh colcon build of this checkout, as a robot's workspace would do it.
    build = subprocess.run(
        ['colcon', '--log-base', str(tmp_path / 'log'), 'build', '--paths', ROOT,
         '--build-base', str(tmp_path / 'build'), '--install-base', str(tmp_path / 'install'),
         '--merge-install', '--event-handlers', 'console_direct-'],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    prefix = tmp_path / 'install'
    files = _installed_files(str(prefix))
    share = 'share/repvit_ros/'
    for name in ('launch/classify.launch.py', 'launch/rdk_camera.launch.py',
                 'config/repvit.yaml', 'config/fastdds_large_frames.xml', 'models/README.md',
                 'package.xml'):
        assert share + name in files, name
    assert 'share/ament_index/resource_index/packages/repvit_ros' in files
    entry_points = [line.split('=')[0].strip() for line in setup_entry_points('console_scripts')]
    assert 'classifier' in entry_points and 'download_models' in entry_points
    assert 'component_container' in entry_points
    for name in entry_points:  # where `ros2 run repvit_ros <name>` looks
        path = prefix / 'lib' / 'repvit_ros' / name
        assert path.is_file() and path.stat().st_mode & stat.S_IXUSR, name
    # The labels data file travels with the Python package.
    assert any(f.endswith('repvit_ros/data/imagenet_labels.txt') for f in files)
    # Only repvit_ros is installed: the test messages stay in their own prefix.
    assert not any(m in f for f in files for m in TEST_MESSAGES)


def test_test_messages_never_shadow_the_real_ones():
    # Imported from their own prefix, never from the package's install space ...
    for package in (vision_msgs, hbm_img_msgs, ai_msgs, composition_interfaces):
        here = os.path.realpath(package.__file__)
        assert f'{os.sep}test_msgs_install{os.sep}' in here, here
        assert not here.startswith(os.path.realpath(INSTALL_PREFIX) + os.sep), here
    installed = _installed_files(INSTALL_PREFIX)
    assert not any(m in f for f in installed for m in TEST_MESSAGES)
    # ... and a colcon workspace that contains this repository finds repvit_ros alone.
    found = subprocess.run(['colcon', 'list', '--names-only', '--base-paths', ROOT],
                           capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ['repvit_ros']


# Third-party modules the package and its tests import, and the rosdep key that provides each.
# onnx and onnxruntime have no rosdep key: README gives their pip install line.
ROSDEP_KEYS = {
    'rclpy': 'rclpy', 'sensor_msgs': 'sensor_msgs', 'std_msgs': 'std_msgs',
    'vision_msgs': 'vision_msgs', 'diagnostic_msgs': 'diagnostic_msgs',
    'rcl_interfaces': 'rcl_interfaces', 'builtin_interfaces': 'rclpy',
    'numpy': 'python3-numpy',
    'cv2': 'python3-opencv', 'psutil': 'python3-psutil', 'yaml': 'python3-yaml',
    'pytest': 'python3-pytest', 'hypothesis': 'python3-hypothesis',
    'matplotlib': 'python3-matplotlib', 'skimage': 'python3-skimage',
    'ament_flake8': 'ament_flake8', 'ament_pep257': 'ament_pep257',
    'catkin_pkg': 'python3-catkin-pkg', 'launch': 'launch', 'launch_ros': 'launch_ros',
    'ament_index_python': 'ament_index_python', 'lifecycle_msgs': 'lifecycle_msgs',
    'launch_testing': 'launch_testing',
    'composition_interfaces': 'composition_interfaces',
}
# Imported only where they exist: the BPU runtimes of RDK OS and the RDK camera's messages.
BOARD_ONLY = {'hbm_runtime', 'hobot_dnn', 'hobot_dnn_rdkx5', 'hbm_img_msgs', 'ai_msgs'}
PIP_ONLY = {'onnx', 'onnxruntime'}
# export_model's own dependencies (a PC-side tool): pip only, never needed by the node or the
# other tools; its error names them, and test/export runs in its own venv (make test-export).
EXPORT_ONLY = {'torch', 'timm'}
# Tools' extras, imported where used (the --plot options) and exercised by the tests, so
# declared as test dependencies rather than pulled onto every robot.
OPTIONAL = {'matplotlib'}


def _top_level_imports(folder):
    names = set()
    for d, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in files:
            if f.endswith('.py'):
                for node in ast.walk(ast.parse(open(os.path.join(d, f)).read())):
                    if isinstance(node, ast.Import):
                        names |= {a.name.split('.')[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        names.add(node.module.split('.')[0])
    return names


def test_package_xml_declares_every_dependency():
    pkg = parse_package(os.path.join(ROOT, 'package.xml'))
    runtime = {d.name for d in pkg.exec_depends}
    test = {d.name for d in pkg.test_depends}
    local = {'repvit_ros'} | {f[:-3] for _, _, files in os.walk(os.path.join(ROOT, 'test'))
                              for f in files if f.endswith('.py')}  # the tests' own helpers
    stdlib = set(sys.stdlib_module_names)
    code = _top_level_imports('repvit_ros') | _top_level_imports('launch')
    tests = _top_level_imports('test')
    for module in sorted((code | tests) - stdlib - local - BOARD_ONLY - PIP_ONLY - EXPORT_ONLY):
        assert module in ROSDEP_KEYS, f'{module}: which rosdep key provides it?'
        key = ROSDEP_KEYS[module]
        needed_by_code = module in code and module not in OPTIONAL
        assert key in (runtime if needed_by_code else runtime | test), \
            f'{module} ({key}) is not declared in package.xml'
    readme = open(os.path.join(ROOT, 'README.md')).read()
    # The off-board install line keeps Ubuntu 22.04's numpy 1.21 (and so its OpenCV) working.
    assert 'pip install onnxruntime==1.12.1 onnx==1.12.0' in readme
