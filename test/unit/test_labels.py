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


"""Class names: the bundled ImageNet-1k list and user labels files, good and bad."""

import pytest
from repvit_ros.labels import LabelError, load_labels


def test_labels():
    names = load_labels()
    assert len(names) == 1000
    assert names[0] == 'tench' and names[281] == 'tabby' and names[285] == 'Egyptian cat'
    assert names[134] != names[517] and names[134].startswith('crane')
    assert len(set(names)) == 1000


def test_labels_errors(tmp_path):
    with pytest.raises(LabelError, match='cannot read'):
        load_labels(str(tmp_path / 'none.txt'))
    short = tmp_path / 'short.txt'
    short.write_text('a\nb\n')
    with pytest.raises(LabelError, match='has 2 names'):
        load_labels(str(short))
    dup = tmp_path / 'dup.txt'
    dup.write_text('a\na\n')
    with pytest.raises(LabelError, match='duplicate'):
        load_labels(str(dup), expected=2)


@pytest.mark.parametrize('newline', ['\n', '\r\n'])
def test_labels_with_byte_order_mark_and_comments(tmp_path, newline):
    path = tmp_path / 'labels.txt'
    text = newline.join(['# my classes', 'n001\tcat', '  # indented comment', '', 'dog',
                         'crème brûlée', '# end'])
    path.write_bytes(b'\xef\xbb\xbf' + text.encode('utf-8'))
    assert load_labels(str(path), expected=3) == ['cat', 'dog', 'crème brûlée']
    first = tmp_path / 'first.txt'  # the mark right before a name, not a comment
    first.write_bytes(b'\xef\xbb\xbfcat\ndog\n')
    assert load_labels(str(first), expected=2) == ['cat', 'dog']


def test_labels_file_that_is_not_utf8(tmp_path):
    path = tmp_path / 'latin1.txt'
    path.write_bytes(b'\xef\xbb\xbf' + 'cat\ncrème\n'.encode('latin-1'))
    with pytest.raises(LabelError) as info:
        load_labels(str(path), expected=2)
    message = str(info.value)
    assert message == f'labels file {path} is not UTF-8 text (line 2, byte 9 is 0xe8)'
    assert info.value.__cause__ is None and info.value.__suppress_context__
