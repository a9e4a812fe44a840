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
The package's three wings stay apart, the pure core stays free of ROS, and no import circles.

The product root (``repvit_ros/``: the node and its pure core) imports neither wing; the user's
model tools (``repvit_ros/model_tools/``) work without DDS and import no bench; the developers'
bench (``repvit_ros/bench/``) may import both. The pure unit tests themselves run where rclpy is
absent in ``make test``'s Humble-libraries venv (tools/run_tests.sh), not again here.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, 'repvit_ros')
WINGS = ('bench', 'model_tools')
# The product modules that are ROS glue; every other module of the root and of the model tools
# must load without ROS.
ROS_GLUE = {'node.py', 'work.py', 'managed.py', 'camera.py', 'main.py', 'outputs.py',
            'detections.py', 'process.py', 'container.py', 'image_source.py', 'executor.py'}
ROS_MODULES = ('rclpy', 'rcl_interfaces', 'sensor_msgs', 'std_msgs', 'vision_msgs',
               'diagnostic_msgs', 'hbm_img_msgs', 'ai_msgs', 'builtin_interfaces',
               'composition_interfaces')


def _imports(path):
    """Every absolute import of a file, function-level ones included: module and module.name."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names |= {f'{node.module}.{a.name}' for a in node.names}
    return names


def _modules(wing=None):
    """Yield (path relative to its wing, path) of the root's modules, or of one wing's."""
    top = os.path.join(PACKAGE, wing) if wing else PACKAGE
    for d, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != '__pycache__' and not (d == PACKAGE and x in WINGS)]
        for f in files:
            if f.endswith('.py'):
                yield os.path.relpath(os.path.join(d, f), top), os.path.join(d, f)


def _module_name(path):
    rel = os.path.splitext(os.path.relpath(path, ROOT))[0].split(os.sep)
    return '.'.join(rel[:-1] if rel[-1] == '__init__' else rel)


def _wing_imports(path, wings):
    return sorted(n for n in _imports(path) for w in wings
                  if n == f'repvit_ros.{w}' or n.startswith(f'repvit_ros.{w}.'))


def test_the_product_root_imports_neither_wing():
    for rel, path in _modules():
        wrong = _wing_imports(path, WINGS)
        assert not wrong, f'repvit_ros/{rel} imports a wing: {wrong}'


def test_the_model_tools_import_no_bench():
    for rel, path in _modules('model_tools'):
        wrong = _wing_imports(path, ('bench',))
        assert not wrong, f'repvit_ros/model_tools/{rel} imports the bench: {wrong}'


def test_only_the_ros_glue_imports_ros():
    for wing in (None, 'model_tools'):
        for rel, path in _modules(wing):
            ros = {n for n in _imports(path) if n.split('.')[0] in ROS_MODULES}
            if wing or rel not in ROS_GLUE:
                assert not ros, f'repvit_ros/{wing or ""}{"/" if wing else ""}{rel} ' \
                                f'imports ROS: {sorted(ros)}'


def test_no_import_circles():
    paths = [p for wing in (None,) + WINGS for _, p in _modules(wing)]
    names = {_module_name(p): p for p in paths}
    graph = {name: set() for name in names}
    for name, path in names.items():
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                # `from repvit_ros import frames` imports the module repvit_ros.frames (its
                # package first, as every import does: that is no edge of its own).
                modules = {f'{node.module}.{a.name}' for a in node.names} & set(names)
                if not modules and node.module in names:
                    modules = {node.module}
                graph[name] |= modules
        graph[name].discard(name)
    done, stack = set(), []

    def visit(name):
        if name in stack:
            return stack[stack.index(name):] + [name]
        if name in done:
            return None
        stack.append(name)
        for dep in sorted(graph[name]):
            circle = visit(dep)
            if circle:
                return circle
        stack.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        circle = visit(name)
        assert not circle, 'import circle: ' + ' -> '.join(circle)
