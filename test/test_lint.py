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

"""ament's linters over the package's Python, XML and copyright headers (STYLE.md rule 3)."""

import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from ament_pep257.main import main as pep257_main
from catkin_pkg.package import parse_package
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Everything of ours that is Python, and nothing from the venv or the build spaces.
LINT_PATHS = [str(ROOT / p) for p in ('repvit_ros', 'test', 'launch', 'tools', 'setup.py')]


def _python_files():
    for base in LINT_PATHS:
        base = pathlib.Path(base)
        yield from ([base] if base.is_file() else sorted(base.rglob('*.py')))


@pytest.mark.linter
@pytest.mark.flake8
def test_flake8():
    # In a fresh process: flake8 checks files in a fork()ed pool, and a fork of this process
    # (threads of DDS and of earlier tests' executors still around) can crash or hang.
    run = subprocess.run([sys.executable, '-c', 'import sys; from ament_flake8.main import '
                          'main; sys.exit(main(sys.argv[1:]))', *LINT_PATHS],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=600)
    errors = [line for line in run.stdout.splitlines() if line.startswith(str(ROOT))]
    assert run.returncode == 0, f'Found {len(errors)} code style errors / warnings:\n' + \
        '\n'.join(errors or [run.stdout[-3000:]])


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    rc = pep257_main(argv=LINT_PATHS)
    assert rc == 0, 'Found code style errors / warnings'


@pytest.mark.linter
@pytest.mark.copyright
def test_copyright():
    # ament_copyright is not published on PyPI; this checks what it checks for Apache-2.0.
    missing = []
    for path in _python_files():
        if path.name == 'setup.py' or path.name.startswith('_'):
            continue
        head = path.read_text().splitlines()[:15]
        text = '\n'.join(head)
        if not (head and head[0].startswith('# Copyright ')
                and 'Licensed under the Apache License, Version 2.0' in text):
            missing.append(os.path.relpath(path, ROOT))
    assert not missing, 'missing Apache-2.0 copyright header: ' + ', '.join(missing)


@pytest.mark.linter
@pytest.mark.xmllint
def test_xmllint():
    # ament_xmllint fetches the package_format3 schema from the network, which CI lacks:
    # check well-formedness of every XML file and validate package.xml with catkin_pkg.
    files = [ROOT / 'package.xml'] + sorted((ROOT / 'config').glob('*.xml'))
    for path in files:
        ElementTree.parse(path)
    package = parse_package(str(ROOT / 'package.xml'))
    package.validate()
    assert package.package_format == 3
    assert package.licenses == ['Apache-2.0']
