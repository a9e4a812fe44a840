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

"""ImageNet-1k class names in model output order, from the package's data file."""

import codecs
import os
from typing import List, Optional

from repvit_ros.errors import StartupError

#: the bundled ImageNet-1k class names (``synset<TAB>name`` lines)
BUNDLED_LABELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                              'imagenet_labels.txt')


class LabelError(StartupError, ValueError):
    """A labels file that cannot be used."""


def load_labels(path: Optional[str] = None, expected: Optional[int] = 1000) -> List[str]:
    """
    Read class names, one per line; ``#`` lines are comments.

    A line may be ``name`` or ``synset<TAB>name``; the name is what is returned. The file is
    UTF-8, with or without a byte-order mark.

    :param path: a labels file; the bundled ImageNet-1k list when empty.
    :param expected: the number of classes the model has, checked when given.
    :return: names indexed by class id.
    :raises LabelError: when the file is missing, not UTF-8, has duplicates or the wrong length.
    """
    path = path or BUNDLED_LABELS
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as exc:
        raise LabelError(f'cannot read labels file {path}: {exc.strerror}') from None
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skip:].decode('utf-8')
    except UnicodeDecodeError as exc:
        at = skip + exc.start
        line = raw.count(b'\n', 0, at) + 1
        raise LabelError(f'labels file {path} is not UTF-8 text (line {line}, byte {at} is '
                         f'0x{raw[at]:02x})') from None
    lines = [ln.strip() for ln in text.split('\n')]
    names = [ln.split('\t')[-1].strip() for ln in lines if ln and not ln.startswith('#')]
    if expected is not None and len(names) != expected:
        raise LabelError(f'labels file {path} has {len(names)} names, the model has {expected}')
    if len(set(names)) != len(names):
        raise LabelError(f'labels file {path} has duplicate names')
    return names
