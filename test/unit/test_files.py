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
The model tools' file helpers on hostile folders built in tmp_path.

Links to /dev/zero, FIFOs, folders and dangling links with an image's name, files over the
bound, text that is not UTF-8, outputs whose place is a folder, a file or not writable. The
tests run as root here, where permissions refuse nothing: an unwritable place is a path under a
regular file (``file.txt/out``) or sysfs.
"""

import os
import re

import pytest
from repvit_ros.model_tools import files
from repvit_ros.model_tools.files import PathError
from repvit_ros.preprocess import FrameError
from test_classifier import flat_image

#: a surrogate-escaped byte 0xff, as os.listdir and sys.argv give a name that is not UTF-8
NOT_UTF8 = os.fsdecode(b'\xff')


@pytest.fixture
def hostile(tmp_path):
    """Make a folder of things named like images that are no regular image files."""
    d = tmp_path / 'hostile'
    d.mkdir()
    (d / 'zero.jpg').symlink_to('/dev/zero')
    os.mkfifo(d / 'pipe.jpg')
    (d / 'folder.jpg').mkdir()
    (d / 'dangling.png').symlink_to(d / 'gone.png')
    with open(d / 'huge.png', 'wb') as f:  # sparse: nothing is written to the disk
        f.truncate(files.MAX_IMAGE_BYTES + 1)
    (d / 'good.png').write_bytes(flat_image((10, 200, 30)))
    return d


@pytest.mark.timeout(30)  # a FIFO that is opened for reading blocks until a writer comes
@pytest.mark.parametrize('name, message', [
    ('zero.jpg', 'is a character device (a link to /dev/zero), not a regular file'),
    ('pipe.jpg', 'is a FIFO (named pipe), not a regular file'),
    ('folder.jpg', 'is a folder, not a regular file'),
    ('dangling.png', 'gone.png, which does not exist'),
    ('huge.png', f'is {files.MAX_IMAGE_BYTES + 1:,} bytes, over the limit of '
                 f'{files.MAX_IMAGE_BYTES:,}'),
    ('missing.png', 'does not exist'),
])
def test_only_regular_files_within_the_bound_are_read(hostile, name, message):
    with pytest.raises(FrameError) as exc:
        files.read_image(str(hostile / name))
    assert message in str(exc.value) and '\n' not in str(exc.value)
    frame, encoding = files.read_image(str(hostile / 'good.png'))
    assert encoding == 'png' and frame[:4].tobytes() == b'\x89PNG'


def test_the_image_bound_is_the_nodes_pixel_limit():
    from repvit_ros.preprocess import DEFAULT_MAX_INPUT_PIXELS
    assert files.MAX_IMAGE_BYTES == 3 * DEFAULT_MAX_INPUT_PIXELS  # an 8K x 8K bgr8 frame


def test_read_file_checks_the_bound_before_reading(tmp_path):
    (tmp_path / 'eleven').write_bytes(b'x' * 11)
    assert files.read_file(str(tmp_path / 'eleven'), 'CSV', limit=11) == b'x' * 11
    with pytest.raises(PathError, match=r'CSV .*eleven is 11 bytes, over the limit of 10$'):
        files.read_file(str(tmp_path / 'eleven'), 'CSV', limit=10)


def test_text_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / 'set.csv'
    path.write_bytes('a.png,caf\u00e9\n'.encode('utf-8') + b'b.png,caf\xe9\n')
    with pytest.raises(PathError) as exc:
        files.read_text(str(path), 'CSV')
    assert str(exc.value) == (f'CSV {path} is not UTF-8 text (line 2, byte 21 is 0xe9): save it '
                              f'as UTF-8')
    path.write_bytes(b'\xef\xbb\xbfa.png,0\n')  # a byte-order mark is dropped
    assert files.read_text(str(path), 'CSV') == 'a.png,0\n'


def test_names_that_are_not_utf8_are_shown_escaped_and_refused_as_arguments(tmp_path):
    name = str(tmp_path / f'a{NOT_UTF8}.onnx')
    assert files.shown(name).endswith('a\\xff.onnx')
    with pytest.raises(PathError, match=r'--output .*a\\xff.onnx is not a UTF-8 name: rename'):
        files.check_output_file(name, '--output')


@pytest.mark.parametrize('stem', ['x' * 250, '\u00e9' * 200, '\U0001f600' * 70, 'short'])
def test_fit_name_keeps_names_within_the_file_system_limit(tmp_path, stem):
    name = files.fit_name('00000_' + stem, '.rgb')
    assert len(os.fsencode(name)) <= 255 and name.endswith('.rgb')
    assert name.startswith('00000_' + stem[:3])
    (tmp_path / name).write_bytes(b'')  # the file system takes it
    if stem == 'short':
        assert name == '00000_short.rgb'


def _unwritable(tmp_path):
    """Places no file can be made in, even by root."""
    (tmp_path / 'file.txt').write_text('a file')
    places = [(str(tmp_path / 'file.txt' / 'out'), 'is a file, not a folder')]
    if os.path.isdir('/sys/kernel'):
        places.append(('/sys/kernel/out', 'cannot write in output folder /sys/kernel: '))
    return places


def test_output_file_problems_are_one_line(tmp_path):
    (tmp_path / 'folder').mkdir()
    (tmp_path / 'pipe').mkdir()
    os.mkfifo(tmp_path / 'pipe' / 'fifo.onnx')
    cases = [
        (str(tmp_path / 'folder'), 'is a folder; give the .onnx file to write'),
        (str(tmp_path / 'folder') + '/', 'is a folder; give the .onnx file to write'),
        (str(tmp_path / 'missing' / 'x.onnx'), f'output folder {tmp_path}/missing does not exist'),
        (str(tmp_path / 'pipe' / 'fifo.onnx'), 'is a FIFO (named pipe), not a regular file'),
        (str(tmp_path / ('n' * 256)), 'is 256 bytes, over the 255 a file system takes'),
        ('', 'output is empty: give a path'),
    ] + _unwritable(tmp_path)
    for path, message in cases:
        with pytest.raises(PathError) as exc:
            files.check_output_file(path, 'output', '.onnx file')
        assert message in str(exc.value) and '\n' not in str(exc.value), (path, exc.value)
    files.check_output_file(str(tmp_path / 'new.onnx'))  # a new file is fine, and is not made
    assert sorted(os.listdir(tmp_path)) == ['file.txt', 'folder', 'pipe']


def test_new_folder_problems_are_one_line(tmp_path):
    (tmp_path / 'used').mkdir()
    (tmp_path / 'used' / '.hidden').write_text('stale')
    (tmp_path / 'file').write_text('x')
    for path, message in [
            (tmp_path / 'used', 'is not empty (it holds .hidden); give a new or empty folder'),
            (tmp_path / 'file', 'is a file; give a new or empty folder'),
            (tmp_path / 'missing' / 'cal', f'folder {tmp_path}/missing does not exist')]:
        with pytest.raises(PathError, match=re.escape(message)):
            files.check_new_folder(str(path))
    (tmp_path / 'empty').mkdir()
    files.check_new_folder(str(tmp_path / 'empty'))
    files.check_new_folder(str(tmp_path / 'new'))


class Boom(Exception):
    pass


def test_written_file_is_whole_or_not_at_all(tmp_path):
    path = tmp_path / 'out.yaml'
    path.write_text('old')
    with pytest.raises(Boom):
        with files.written_file(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise Boom()
    assert path.read_text() == 'old' and os.listdir(tmp_path) == ['out.yaml']
    files.write_text(str(path), 'new\n')
    assert path.read_text() == 'new\n' and os.listdir(tmp_path) == ['out.yaml']
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600
    long = tmp_path / ('l' * 255)  # the temporary name beside it must fit too
    files.write_text(str(long), 'x')
    assert long.read_text() == 'x'


def test_written_folder_is_whole_or_not_at_all_and_a_rerun_works(tmp_path):
    out = tmp_path / 'cal'
    with pytest.raises(Boom):
        with files.written_folder(str(out)) as tmp:
            (tmp_path / tmp / 'a.rgb').write_bytes(b'1')
            raise Boom()
    assert os.listdir(tmp_path) == []
    out.mkdir()  # an empty folder is replaced
    with files.written_folder(str(out)) as tmp:
        (tmp_path / tmp / 'a.rgb').write_bytes(b'1')
    assert os.listdir(out) == ['a.rgb'] and os.listdir(tmp_path) == ['cal']
