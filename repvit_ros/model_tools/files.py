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
The model tools' files: bounded reads of regular files, outputs written whole or not at all.

A folder a user points a tool at may hold anything with an image's name: a link to
``/dev/zero``, a FIFO, a file of many gigabytes. Only regular files are read, opened so that a
FIFO cannot block the open, and their size is checked against a bound before a byte is read.
Outputs are written under a temporary name beside their final place and renamed into it only
when complete: a failed or interrupted run leaves nothing half-written, and a rerun works.
Output paths are checked (:func:`check_output_file`, :func:`check_new_folder`) before the long
work starts. Every path problem raises :class:`PathError` with a one-line message.
"""

from contextlib import contextmanager
import os
import shutil
import stat
import tempfile
from typing import Iterator, Tuple

import cv2
import numpy as np

from repvit_ros.classifier import image_format
from repvit_ros.layouts import check_pixels
from repvit_ros.preprocess import CONVERSION_FAILURES, DEFAULT_MAX_INPUT_PIXELS, FrameError

#: Largest image file read: a three-channel 8-bit frame at the node's pixel limit
#: (max_input_pixels, 8192 x 8192), 192 MiB; a compressed image of that size is far smaller.
MAX_IMAGE_BYTES = 3 * DEFAULT_MAX_INPUT_PIXELS
#: Largest text file read (an image set's CSV): 50,000 rows take about 3 MB.
MAX_TEXT_BYTES = 64 << 20
#: Largest model file loaded: RepViT m1_1 as float32 ONNX is 33 MB.
MAX_MODEL_BYTES = 1 << 30
#: Longest file name (bytes) Linux file systems take.
NAME_MAX = 255
_TEMP_STEM = 64  # bytes of the final name kept in a temporary name


class PathError(ValueError):
    """A path a tool cannot use; the message is one line that says why."""


def shown(path: str) -> str:
    r"""
    Give a path as it can be printed: bytes that are not UTF-8 as ``\xNN`` escapes.

    :param path: a path (str from the command line or os.listdir: undecodable bytes are kept
        as surrogates, which a UTF-8 stream refuses to print).
    :return: the printable form.
    """
    return os.fsencode(path).decode('utf-8', 'backslashreplace')


def check_utf8(path: str, what: str) -> None:
    """
    Refuse a path whose name is not UTF-8 (the tools print paths and write them into YAML).

    :param path: the path.
    :param what: what it is, for the message (``output``, ``image folder``, ...).
    :raises PathError: naming the path with its bad bytes escaped.
    """
    try:
        path.encode('utf-8')
    except UnicodeEncodeError:
        raise PathError(f'{what} {shown(path)} is not a UTF-8 name: rename it') from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return 'a folder'
    if stat.S_ISFIFO(mode):
        return 'a FIFO (named pipe)'
    if stat.S_ISCHR(mode):
        return 'a character device'
    if stat.S_ISBLK(mode):
        return 'a block device'
    if stat.S_ISSOCK(mode):
        return 'a socket'
    return 'not a regular file'


def _not_regular(path: str, what: str, mode: int) -> str:
    link = f' (a link to {shown(os.path.realpath(path))})' if os.path.islink(path) else ''
    return f'{what} {shown(path)} is {_kind(mode)}{link}, not a regular file'


def _open_regular(path: str, what: str, limit: int, error: type) -> Tuple[int, int]:
    """Open a regular file for reading; return (fd, size). FIFOs never block: O_NONBLOCK."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
    except OSError as exc:
        if not os.path.lexists(path):
            raise error(f'{what} {shown(path)} does not exist') from None
        if not os.path.exists(path):
            raise error(f'{what} {shown(path)} is a link to {shown(os.path.realpath(path))}, '
                        f'which does not exist') from None
        raise error(f'cannot read {what} {shown(path)}: {exc.strerror}') from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(_not_regular(path, what, info.st_mode))
        if info.st_size > limit:
            raise error(f'{what} {shown(path)} is {info.st_size:,} bytes, over the limit of '
                        f'{limit:,}')
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def check_input_file(path: str, what: str, limit: int = MAX_MODEL_BYTES) -> None:
    """
    Check that a file exists, is a regular file within a size bound, and can be opened.

    :param path: the file.
    :param what: what it is, for the message (``model``, ``labels file``, ...).
    :param limit: the largest size accepted, in bytes.
    :raises PathError: naming the problem.
    """
    check_utf8(path, what)
    fd, _ = _open_regular(path, what, limit, PathError)
    os.close(fd)


def read_file(path: str, what: str = 'file', limit: int = MAX_TEXT_BYTES,
              error: type = PathError) -> bytes:
    """
    Read a whole regular file, refusing anything else and anything over a size bound.

    :param path: the file.
    :param what: what it is, for the message.
    :param limit: the largest size accepted, in bytes (checked before reading, and again while
        reading: the file may grow).
    :param error: the exception to raise (images raise FrameError, so that a tool skips them).
    :return: the bytes.
    :raises PathError: (or ``error``) for a missing, special, unreadable or too large file.
    """
    fd, _ = _open_regular(path, what, limit, error)
    try:
        with os.fdopen(fd, 'rb') as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise error(f'cannot read {what} {shown(path)}: {exc.strerror}') from None
    if len(data) > limit:
        raise error(f'{what} {shown(path)} grew over the limit of {limit:,} bytes while read')
    return data


def read_text(path: str, what: str, limit: int = MAX_TEXT_BYTES) -> str:
    """
    Read a UTF-8 text file (a byte-order mark is dropped), within a size bound.

    :param path: the file.
    :param what: what it is, for the message (``CSV``, ...).
    :param limit: the largest size accepted, in bytes.
    :return: the text.
    :raises PathError: for a missing, special, too large or non-UTF-8 file.
    """
    raw = read_file(path, what, limit)
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        skip = 3 if raw.startswith(b'\xef\xbb\xbf') else 0
        at = exc.start + skip
        line = raw.count(b'\n', 0, at) + 1
        raise PathError(f'{what} {shown(path)} is not UTF-8 text (line {line}, byte {at} is '
                        f'0x{raw[at]:02x}): save it as UTF-8') from None


def read_image(path: str, limit: int = MAX_IMAGE_BYTES,
               max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> Tuple[np.ndarray, str]:
    """
    Read an image file as a frame for :func:`repvit_ros.preprocess.to_nv12`, safely.

    As :func:`repvit_ros.classifier.read_image` (JPEG and PNG stay encoded for the node's
    CompressedImage path, which checks their declared size before decoding; other formats are
    decoded to BGR), but only a regular file within ``limit`` bytes is read, and a decoded
    image over the node's pixel limit is refused.

    :param path: the file.
    :param limit: the largest file size read.
    :param max_input_pixels: the largest width * height accepted.
    :return: (frame, encoding): the bytes as uint8 with ``jpeg``/``png``, or HxWx3 ``bgr8``.
    :raises FrameError: when the file cannot be read or is not an image (tools skip it).
    """
    buf = np.frombuffer(read_file(path, 'image', limit, FrameError), np.uint8)
    fmt = image_format(buf)
    if fmt is not None:
        return buf, fmt
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    except CONVERSION_FAILURES as exc:
        raise FrameError(f'{shown(path)} cannot be decoded: {str(exc).splitlines()[0]}') from None
    if img is None:
        raise FrameError(f'{shown(path)} is not an image OpenCV can read')
    check_pixels(shown(path), img.shape[1], img.shape[0], max_input_pixels)
    return img, 'bgr8'


def check_input_folder(path: str, what: str) -> None:
    """
    Check that a folder exists.

    :param path: the folder.
    :param what: what it is, for the message (``image folder``, ...).
    :raises PathError: when it is missing or not a folder.
    """
    check_utf8(path, what)
    if not os.path.exists(path):
        raise PathError(f'{what} {shown(path)} does not exist')
    if not os.path.isdir(path):
        raise PathError(f'{what} {shown(path)} is a file, not a folder')


def fit_name(stem: str, suffix: str, limit: int = NAME_MAX) -> str:
    """
    Shorten a file name's stem so that stem and suffix fit a file system's name limit.

    :param stem: the part that may be cut (never in the middle of a character).
    :param suffix: the part kept whole.
    :param limit: the longest name in bytes.
    :return: the name, at most ``limit`` bytes.
    """
    room = max(0, limit - len(os.fsencode(suffix)))
    raw = os.fsencode(stem)
    if len(raw) <= room:
        return stem + suffix
    for cut in range(room, max(room - 4, -1), -1):  # a UTF-8 character is at most 4 bytes
        try:
            return raw[:cut].decode('utf-8') + suffix
        except UnicodeDecodeError:
            continue
    return os.fsdecode(raw[:room]) + suffix  # not UTF-8 anyway: cut at the byte


def _temp_prefix(name: str) -> str:
    """Start of a temporary name beside ``name``: hidden, and short whatever the name's length."""
    return '.' + fit_name(name, '.', _TEMP_STEM + 1)


def _parent(path: str, what: str) -> str:
    """Check the folder an output goes into: it exists, is a folder, and takes a new file."""
    check_utf8(path, what)
    if not path:
        raise PathError(f'{what} is empty: give a path')
    name = os.path.basename(os.path.normpath(path))
    if len(os.fsencode(name)) > NAME_MAX:
        raise PathError(f'{what} name {name[:40]}... is {len(os.fsencode(name))} bytes, over '
                        f'the {NAME_MAX} a file system takes')
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise PathError(f'{what} folder {shown(folder)} does not exist')
    if not os.path.isdir(folder):
        raise PathError(f'cannot write {what} {shown(path)}: {shown(folder)} is a file, not a '
                        f'folder')
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(name), suffix='.part')
    except OSError as exc:
        raise PathError(f'cannot write in {what} folder {shown(folder)}: '
                        f'{exc.strerror}') from None
    os.close(fd)
    os.unlink(probe)
    return folder


def check_output_file(path: str, what: str = 'output', kind: str = 'file') -> None:
    """
    Check, before the long work, that a file can be written at ``path``.

    :param path: the file to write (replaced when it exists).
    :param what: what it is, for the message (``output``, ``--plot``, ...).
    :param kind: what to give instead of a folder, for the message (``.onnx file``, ...).
    :raises PathError: for an empty or non-UTF-8 path, a folder or other non-regular file in
        its place, a missing or unwritable folder, a name too long.
    """
    if path and (os.path.isdir(path) or path.endswith(os.sep)):
        raise PathError(f'{what} {shown(path)} is a folder; give the {kind} to write')
    if path and os.path.exists(path) and not os.path.isfile(path):
        raise PathError(_not_regular(path, what, os.stat(path).st_mode))
    _parent(path, what)


def check_new_folder(path: str, what: str = 'output folder') -> None:
    """
    Check, before the long work, that a folder can be made at ``path``: new or empty.

    :param path: the folder to fill (its parent must exist).
    :param what: what it is, for the message.
    :raises PathError: for a file in its place, a folder that is not empty, a missing or
        unwritable parent.
    """
    if os.path.lexists(path) and not os.path.isdir(path):
        raise PathError(f'{what} {shown(path)} is a file; give a new or empty folder')
    if os.path.isdir(path):
        entries = sorted(os.listdir(path))
        if entries:
            more = f' and {len(entries) - 1} more' if len(entries) > 1 else ''
            raise PathError(f'{what} {shown(path)} is not empty (it holds {shown(entries[0])}'
                            f'{more}); give a new or empty folder so that no stale file is used')
    _parent(path, what)


def _permissions(path: str, mode: int) -> None:
    """Give a temporary file or folder (private when made) the permissions of a new one."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


@contextmanager
def written_file(path: str) -> Iterator[str]:
    """
    Write a file whole or not at all: yield a temporary path beside it, renamed on success.

    Whatever the body raises (KeyboardInterrupt included), the temporary file is removed and
    ``path`` is left as it was.

    :param path: the file to write.
    :return: (yields) the temporary path to write to.
    :raises PathError: when the folder takes no new file.
    """
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(name), suffix='.part')
    except OSError as exc:
        raise PathError(f'cannot write in {shown(folder)}: {exc.strerror}') from None
    os.close(fd)
    try:
        _permissions(tmp, 0o666)
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_text(path: str, text: str) -> None:
    """
    Write a UTF-8 text file whole or not at all.

    :param path: the file.
    :param text: its content.
    :raises PathError: when the folder takes no new file.
    """
    with written_file(path) as tmp:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)


@contextmanager
def written_folder(path: str) -> Iterator[str]:
    """
    Fill a folder whole or not at all: yield a temporary folder beside it, renamed on success.

    ``path`` must not exist or be an empty folder (:func:`check_new_folder`). Whatever the body
    raises, the temporary folder and what was written into it are removed.

    :param path: the folder to make.
    :return: (yields) the temporary folder to write into.
    :raises PathError: when the parent takes no new folder, or ``path`` was filled meanwhile.
    """
    parent = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(os.path.normpath(path))
    try:
        tmp = tempfile.mkdtemp(dir=parent, prefix=_temp_prefix(name), suffix='.part')
    except OSError as exc:
        raise PathError(f'cannot write in {shown(parent)}: {exc.strerror}') from None
    try:
        _permissions(tmp, 0o777)
        yield tmp
        try:
            os.replace(tmp, path)  # rename(2) replaces an empty folder in one step
        except OSError as exc:
            raise PathError(f'cannot make {shown(path)}: {exc.strerror}; nothing was '
                            f'written') from None
    finally:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
