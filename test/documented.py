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
The command lines that README and docs/ give users, read from their shell code blocks.

A command is a line of a ```bash (or ```sh, ```shell, ```console) block that starts with
``ros2``, ``python -m repvit_ros`` / ``python3 -m repvit_ros`` or ``make`` (a ``$ `` prompt
is dropped), with its backslash-continued lines joined and its trailing ``# comment`` removed, so
that the text is what bash runs. Every such command is run as written by the real-launch
suite (test/launch, calls of ``documented_run`` and ``documented_start``) or listed in
:data:`NOT_RUN_IN_CI` with the reason; test_documented_commands checks both on a plain clone.
No ROS here.
"""

import ast
import glob
import os
import re
from typing import Dict, List, NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHELL_BLOCKS = ('bash', 'sh', 'shell', 'console')
COMMAND_START = re.compile(r'^(ros2 |python3? -m repvit_ros|make( |$))')
#: The launch suite's functions that run a documented command as written.
RUNNERS = ('documented_run', 'documented_start')


class Command(NamedTuple):
    """One documented command line and where it is written."""

    text: str
    source: str   # file relative to the repository root
    line: int     # first line of the command


def _strip_comment(line: str) -> str:
    """Drop a trailing ``# comment`` that is outside quotes (bash ignores it too)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in '\'"':
            quote = c
        elif c == '#' and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def documents() -> List[str]:
    """List README.md and docs/*.md, relative to the repository root."""
    docs = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    return ['README.md'] + docs


def commands_in(text: str, source: str) -> List[Command]:
    """
    Read the commands of one Markdown text.

    :param text: the Markdown.
    :param source: its name, for messages.
    :return: the commands in order.
    """
    found, block, pending, start = [], None, None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        fence = raw.strip()
        if fence.startswith('```'):
            block = fence[3:].strip() if block is None else None
            pending = None
            continue
        if block not in SHELL_BLOCKS:
            continue
        line = raw.strip()
        if pending is not None:
            pending += ' ' + line
        else:
            if line.startswith('$ '):
                line = line[2:]
            if not COMMAND_START.match(line):
                continue
            pending, start = line, number
        if pending.endswith('\\'):
            pending = pending[:-1].rstrip()
            continue
        found.append(Command(_strip_comment(pending), source, start))
        pending = None
    return found


def documented_commands() -> List[Command]:
    """Read every command of README.md and docs/*.md."""
    found = []
    for name in documents():
        with open(os.path.join(ROOT, name), encoding='utf-8') as f:
            found += commands_in(f.read(), name)
    return found


def _strings(node: ast.AST, names: Dict[str, List[str]]) -> List[str]:
    """Read the command texts an argument can hold: a string, or a name bound to strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        return names.get(node.id, [])
    return []


def _parametrized(func: ast.FunctionDef) -> Dict[str, List[str]]:
    """Read ``@pytest.mark.parametrize('a, b', [(..), ..])``: argument name -> its strings."""
    found: Dict[str, List[str]] = {}
    for deco in func.decorator_list:
        if not (isinstance(deco, ast.Call) and getattr(deco.func, 'attr', '') == 'parametrize'
                and isinstance(deco.args[0], ast.Constant)):
            continue
        argnames = [a.strip() for a in deco.args[0].value.split(',')]
        for case in getattr(deco.args[1], 'elts', []):
            values = case.elts if len(argnames) > 1 and isinstance(case, ast.Tuple) else [case]
            for argname, value in zip(argnames, values):
                found.setdefault(argname, []).extend(_strings(value, {}))
    return found


def commands_run_by_suite(folder: str = os.path.join(ROOT, 'test', 'launch')) -> Dict[str, str]:
    """
    Find the commands the real-launch suite runs: the texts given to its runners.

    A runner's argument counts when it is a string literal, a module-level string constant or
    a parameter of the test whose ``parametrize`` cases are string literals.

    :param folder: the suite's folder.
    :return: command text -> ``file::function`` that runs it.
    """
    run = {}
    for path in sorted(glob.glob(os.path.join(folder, 'test_*.py'))):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        constants = {t.id: _strings(node.value, {}) for node in tree.body
                     if isinstance(node, ast.Assign) for t in node.targets
                     if isinstance(t, ast.Name)}
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            names = {**constants, **_parametrized(func)}
            for call in ast.walk(func):
                if isinstance(call, ast.Call) and call.args and \
                        getattr(call.func, 'attr', getattr(call.func, 'id', None)) in RUNNERS:
                    for text in _strings(call.args[0], names):
                        run.setdefault(text, f'{os.path.basename(path)}::{func.name}')
    return run


#: Documented commands that CI does not run, each with the reason.
NOT_RUN_IN_CI: Dict[str, str] = {
    'make test': 'CI runs it itself (.ci/run)',
    'make test-launch': 'CI runs it itself (.ci/run); this suite is it',
    'make test-export': 'CI runs it itself (.ci/run)',
    'make test-jazzy': 'CI runs it itself (.ci/run)',
    'ros2 run repvit_ros export_model --checkpoint my_repvit.pth --size m1_0 --output '
    'my_repvit.onnx':
        'needs PyTorch and timm: run by make test-export in its own venv (test/export runs '
        'this text with `ros2 run repvit_ros export_model` as `python -m '
        'repvit_ros.model_tools.export`; no ros2 CLI there)',
    'ros2 run repvit_ros download_models m1_0 --format onnx':
        'downloads from the model zoo: CI has no internet (download, verify and pin are '
        'tested against local files in test/unit/test_download.py)',
    'ros2 run repvit_ros download_models m1_0 --format bin':
        'downloads from the model zoo (no internet here); a .bin runs on the RDK board only',
    'ros2 bag play my_camera_bag':
        'rosbag2 is not installed here (not on PyPI) and a recording of a real camera is not '
        'either; image_source, the way to try the node without one, is run as written in '
        'test/launch/test_without_a_camera.py',
    'ros2 run rqt_image_view rqt_image_view /repvit/annotated_image':
        'rqt is a desktop GUI, not installed here (annotated_image is tested in '
        'test/ros/test_annotated_output.py)',
    'ros2 launch repvit_ros classify.launch.py model_path:=/path/my_repvit_224x224_nv12.bin '
    'labels_path:=/path/my_labels.txt':
        'a .bin compiled by hb_mapper runs on the RDK board only',
    'ros2 run repvit_ros evaluate --images my_val/ --model-path my_repvit.onnx --model-path '
    'my_repvit_224x224_nv12.bin --labels-path my_labels.txt --plot confusion.png':
        'the .bin runs on the RDK board only (comparing two ONNX models is tested in '
        'test/unit/test_evaluate.py)',
}
