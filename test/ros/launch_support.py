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
Stand-ins for ``launch``/``launch_ros`` (not installable here), to evaluate launch files.

The stand-ins record what each action is given; :func:`launch_file` evaluates a launch
description as ``ros2 launch`` would for a set of command-line arguments.
"""

import importlib.util
import os
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Action:
    """Records its arguments, like any launch action or substitution."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(_Action):

    def perform(self, context):
        return context.launch_configurations[self.args[0]]


def _resolve(value, context):
    if isinstance(value, LaunchConfiguration):
        return value.perform(context)
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve(v, context) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, context) for k, v in value.items()}
    if type(value).__name__ == 'ComposableNode':  # inside a container or load action
        return {k: _resolve(v, context) for k, v in value.kwargs.items()}
    return value


@pytest.fixture
def launch_file(monkeypatch):
    """
    Load a launch file against the stand-ins; return a function that evaluates it.

    ``load(name, **given)`` returns (module, declared arguments -> their keywords, the
    description's actions, the kwargs of every launch_ros Node, ComposableNodeContainer or
    LoadComposableNodes with launch configurations resolved, ComposableNodes as their kwargs).
    """
    fakes = {
        'launch': {'LaunchDescription': _Action},
        'launch.actions': {n: type(n, (_Action,), {}) for n in (
            'DeclareLaunchArgument', 'OpaqueFunction', 'IncludeLaunchDescription',
            'GroupAction', 'SetLaunchConfiguration')},
        'launch.substitutions': {'LaunchConfiguration': LaunchConfiguration,
                                 'PathJoinSubstitution': _Action},
        'launch.conditions': {n: type(n, (_Action,), {}) for n in (
            'LaunchConfigurationEquals', 'IfCondition', 'UnlessCondition')},
        'launch.launch_description_sources': {'PythonLaunchDescriptionSource': _Action},
        'launch_ros': {},
        'launch_ros.actions': {n: type(n, (_Action,), {}) for n in (
            'Node', 'ComposableNodeContainer', 'LoadComposableNodes')},
        'launch_ros.descriptions': {'ComposableNode': type('ComposableNode', (_Action,), {})},
        'launch_ros.substitutions': {'FindPackageShare': _Action},
    }
    for name, attrs in fakes.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attrs))

    def load(name, **given):
        spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'launch', name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
        declared = {a.args[0]: a.kwargs for a in description.args[0]
                    if type(a).__name__ == 'DeclareLaunchArgument'}
        unknown = set(given) - set(declared)
        assert not unknown, f'not launch arguments: {unknown}'
        context = types.SimpleNamespace(launch_configurations={
            **{k: v['default_value'] for k, v in declared.items()}, **given})
        nodes = [n for a in description.args[0] if type(a).__name__ == 'OpaqueFunction'
                 for n in a.kwargs['function'](context)]
        return module, declared, description.args[0], [
            {k: _resolve(v, context) for k, v in n.kwargs.items()} for n in nodes]
    return load
