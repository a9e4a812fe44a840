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
TEST STAND-IN of a D-Robotics launch file: declares its arguments and records what it is given.

Installed (by tools/install_stand_ins.sh) under the real file's name, beside a JSON file of the
same name plus ``.json`` that lists the arguments with the real file's defaults. When included,
it writes every argument's value to ``$REPVIT_STAND_IN_RECORDS/<package>.<launch file>.json``
and logs one line; it starts nothing.
"""

import json
import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration

_HERE = os.path.abspath(__file__)
_PACKAGE = os.path.basename(os.path.dirname(os.path.dirname(_HERE)))
with open(_HERE + '.json', encoding='utf-8') as _f:
    _ARGUMENTS = json.load(_f)


def _record(context):
    given = {name: LaunchConfiguration(name).perform(context) for name in _ARGUMENTS}
    folder = os.environ.get('REPVIT_STAND_IN_RECORDS')
    if folder:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f'{_PACKAGE}.{os.path.basename(_HERE)}.json')
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(given, f, indent=1, sort_keys=True)
    return [LogInfo(msg=f'stand-in {_PACKAGE} {os.path.basename(_HERE)}: {given}')]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default)
         for name, default in _ARGUMENTS.items()] + [OpaqueFunction(function=_record)])
