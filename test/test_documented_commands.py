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
README's and docs/' command lines are the tested ones (runs in a plain clone's `make test`).

Each command a user is told to type is run as written by the real-launch suite
(``make test-launch``), or listed in documented.NOT_RUN_IN_CI with the reason it cannot run
here; neither list may name a command the documents no longer give.
"""

import os

import documented


def test_every_documented_command_runs_in_ci_or_says_why_not():
    run = documented.commands_run_by_suite()
    missing = [f'{c.source}:{c.line}: {c.text}' for c in documented.documented_commands()
               if c.text not in run and c.text not in documented.NOT_RUN_IN_CI]
    assert not missing, 'documented commands that no test runs (run them in test/launch ' \
                        'with documented_run/documented_start, or give the reason in ' \
                        'documented.NOT_RUN_IN_CI):\n' + '\n'.join(missing)


def test_no_test_or_reason_names_a_command_the_documents_no_longer_give():
    documented_texts = {c.text for c in documented.documented_commands()}
    stale = sorted((set(documented.commands_run_by_suite()) |
                    set(documented.NOT_RUN_IN_CI)) - documented_texts)
    assert not stale, 'not in README.md or docs/ as written:\n' + '\n'.join(stale)
    assert all(reason.strip() for reason in documented.NOT_RUN_IN_CI.values())


def test_commands_are_read_as_bash_runs_them():
    text = '\n'.join([
        'Prose with `ros2 run x y` inline is not a command.', '```bash',
        'ros2 launch pkg a.launch.py x:=1    # a comment', 'export A=1',
        '$ ros2 run pkg tool --flag \\', '    "quoted # not a comment" \\', '    --last',
        '```', '```', 'ros2 topic echo /not_shell_block', '```', '```python',
        'ros2 = 1', '```'])
    found = [c.text for c in documented.commands_in(text, 'x.md')]
    assert found == ['ros2 launch pkg a.launch.py x:=1',
                     'ros2 run pkg tool --flag "quoted # not a comment" --last']


def test_composition_page_shows_the_composed_launch_file():
    """Check that docs/composition.md's example is the shipped launch/composed.launch.py."""
    page = open(os.path.join(documented.ROOT, 'docs', 'composition.md')).read()
    block = page.split('(`launch/composed.launch.py`')[1].split('```python\n')[1]
    lines = block.split('```')[0].rstrip('\n').split('\n')
    indented = [f'    {line}' if line else line for line in lines[1:]]
    shipped = '\n'.join(['    container = ' + lines[0]] + indented)
    assert shipped in open(os.path.join(documented.ROOT, 'launch', 'composed.launch.py')).read()
