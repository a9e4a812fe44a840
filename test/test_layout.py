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

"""The package's two wings stay apart, and the pure core stays free of ROS."""

import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, 'repvit_ros')
# The product modules that are ROS glue; every other product module must load without ROS.
ROS_GLUE = {'node.py', 'work.py', 'managed.py', 'camera.py', 'main.py', 'outputs.py',
            'detections.py', 'process.py', 'container.py'}
ROS_MODULES = ('rclpy', 'rcl_interfaces', 'sensor_msgs', 'std_msgs', 'vision_msgs',
               'diagnostic_msgs', 'hbm_img_msgs', 'ai_msgs', 'builtin_interfaces',
               'composition_interfaces')


def _imports(path):
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names |= {f'{node.module}.{a.name}' for a in node.names}
    return names


def _product_modules():
    for d, dirs, files in os.walk(PACKAGE):
        dirs[:] = [x for x in dirs if x not in ('bench', '__pycache__')]
        for f in files:
            if f.endswith('.py'):
                yield os.path.relpath(os.path.join(d, f), PACKAGE), os.path.join(d, f)


def test_no_product_module_imports_the_tooling_wing():
    for rel, path in _product_modules():
        wrong = {n for n in _imports(path) if n.startswith('repvit_ros.bench')}
        assert not wrong, f'repvit_ros/{rel} imports the test bench: {sorted(wrong)}'


def test_only_the_ros_glue_imports_ros():
    for rel, path in _product_modules():
        ros = {n for n in _imports(path) if n.split('.')[0] in ROS_MODULES}
        if rel not in ROS_GLUE:
            assert not ros, f'repvit_ros/{rel} imports ROS: {sorted(ros)}'


def test_unit_tests_pass_where_rclpy_cannot_be_imported(tmp_path):
    # A stand-in package that fails to import, first on the path: `import rclpy` (or any ROS
    # message package) raises ImportError in that process, as on a machine without ROS.
    for name in ROS_MODULES:
        os.makedirs(tmp_path / name)
        (tmp_path / name / '__init__.py').write_text(
            f'raise ImportError("{name} is not installed (blocked by test_layout)")\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    probe = subprocess.run([sys.executable, '-c', 'import rclpy'], env=env,
                           capture_output=True, text=True)
    assert probe.returncode != 0 and 'blocked by test_layout' in probe.stderr
    run = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                          os.path.join(ROOT, 'test', 'unit')], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert ' passed' in run.stdout and ' failed' not in run.stdout
