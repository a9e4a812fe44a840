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

"""Rewrite build-machine include paths baked into the ROS wheels' CMake exports."""

import pathlib
import re
import sys


def main() -> int:
    share, py_include, np_include = sys.argv[1:4]
    py_pat = re.compile(r'/opt/python/cp\d+-cp\d+t?/include/python3\.\d+t?')
    np_pat = re.compile(r'/opt/python/cp\d+-cp\d+t?/lib/python3\.\d+t?/site-packages/numpy/'
                        r'(?:_core|core)/include')
    changed = 0
    for path in pathlib.Path(share).glob('*/cmake/*.cmake'):
        text = path.read_text()
        new = np_pat.sub(np_include, text)
        new = py_pat.sub(py_include, new)
        if new != text:
            path.write_text(new)
            changed += 1
    print(f'[setup_env] rewrote build-machine paths in {changed} CMake files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
