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
Download the zoo's RepViT files, verify them by loading them, and pin their sha256.

``download_models`` (``python -m repvit_ros.model_tools.download``) writes a file under a
temporary name and renames it into the models directory (:func:`repvit_ros.models.models_dir`)
only after it loaded with the expected signature and matched its pin, so a failure never leaves
a partial or unverified file behind.
"""

import argparse
import os
import sys
import tempfile
from typing import Optional
import urllib.error
import urllib.parse
import urllib.request

from repvit_ros import models
from repvit_ros.backends import BackendError, bpu_runtime_available, create_backend
from repvit_ros.model_tools.files import (check_input_file, check_utf8, MAX_MODEL_BYTES,
                                          PathError)
from repvit_ros.model_tools.progress import Progress
from repvit_ros.models import ModelError


def verify_file(path: str, info: models.ModelInfo, fmt: str) -> str:
    """
    Check that a file is a usable model of the expected signature by loading it.

    ONNX: loaded with onnx, one 4-D float input [1,3,H,W] of the model's size and an output of
    ``num_classes`` values. BPU .bin: loaded with the BPU runtime when one is installed; without
    one only the size is checked and the result says so.

    :param path: the file.
    :param info: the model it should be.
    :param fmt: ``bin`` or ``onnx``.
    :return: a one-line description of what was verified.
    :raises ModelError: when the file is not such a model.
    """
    size = os.path.getsize(path)
    if size < 1024:
        raise ModelError(f'{path} is only {size} bytes: not a model file')
    with open(path, 'rb') as f:
        head = f.read(512).lstrip().lower()
    if head.startswith((b'<!doctype html', b'<html')):
        raise ModelError(f'{path} is an HTML page, not a model (a login or error page?)')
    if fmt == 'onnx':
        import onnx  # only here: a board downloading .bin files needs no onnx
        try:
            model = onnx.load(path, load_external_data=False)
        except Exception as exc:  # noqa: B902 - onnx raises protobuf's own DecodeError types
            raise ModelError(f'{path} is not a valid ONNX file: {exc}') from None
        inputs = [i for i in model.graph.input
                  if i.name not in {t.name for t in model.graph.initializer}]
        if len(inputs) != 1:
            raise ModelError(f'{path}: expected one input, found {len(inputs)}')
        dims = [d.dim_value or None for d in inputs[0].type.tensor_type.shape.dim]
        want = [1, 3, info.input_size[0], info.input_size[1]]
        if len(dims) != 4 or any(d is not None and d != w for d, w in zip(dims, want)):
            raise ModelError(f'{path}: input {inputs[0].name} has shape {dims}, expected {want}')
        out_dims = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
        if out_dims and int(max(out_dims)) != info.num_classes:
            raise ModelError(f'{path}: output shape {out_dims}, expected {info.num_classes} '
                             f'classes')
        return f'ONNX input {inputs[0].name} {dims}, output {out_dims}'
    if not bpu_runtime_available():
        return f'{size} bytes; not loaded (no BPU runtime on this machine)'
    try:
        backend = create_backend('auto', path)
    except BackendError as exc:
        raise ModelError(f'{path}: {exc}') from None
    try:
        if tuple(backend.input_size) != tuple(info.input_size):
            raise ModelError(f'{path}: input {backend.input_size}, expected {info.input_size}')
        return f'BPU model, {backend.describe()}'
    finally:
        backend.close()


def _too_large(url: str, size: int) -> str:
    return (f'{url} is {size:,} bytes or more, over the {MAX_MODEL_BYTES:,} a RepViT model file '
            f'can be (m1_1 as ONNX is 33 MB): not a model')


def download(name: str, fmt: str = 'onnx', directory: Optional[str] = None,
             url: Optional[str] = None, timeout: float = 30.0, progress: bool = True) -> str:
    """
    Fetch a model into the models directory, verify it, and pin its sha256.

    The file is written to a temporary name and only renamed into place after it loaded and
    matched its pin, so a failure never leaves a partial or unverified file behind. A file
    whose pin exists and whose new content differs is refused.

    :param name: model size.
    :param fmt: ``bin`` or ``onnx``.
    :param directory: models directory (default :func:`repvit_ros.models.models_dir`).
    :param url: override the registry's address (any urllib URL, file:// included).
    :param timeout: network timeout in seconds.
    :param progress: show progress on stderr.
    :return: the path of the verified file.
    :raises ModelError: on any failure, with the cause; a file over
        :data:`~repvit_ros.model_tools.files.MAX_MODEL_BYTES` is refused unread.
    """
    info = models.get_model(name)
    if fmt not in models.FORMATS:
        raise ModelError(f'unknown format {fmt!r}; one of {", ".join(models.FORMATS)}')
    directory = directory or models.models_dir()
    url = url or info.url(fmt)
    try:
        check_utf8(directory, 'models directory')
        if urllib.parse.urlparse(url).scheme == 'file':  # a FIFO or a device would never end
            check_input_file(urllib.request.url2pathname(urllib.parse.urlparse(url).path),
                             'file')
    except PathError as exc:
        raise ModelError(str(exc)) from None
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ModelError(f'cannot create models directory {directory}: {exc.strerror}') from None
    final = os.path.join(directory, info.file(fmt))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.' + info.file(fmt), suffix='.part')
    except OSError as exc:
        raise ModelError(f'cannot write in models directory {directory}: '
                         f'{exc.strerror}') from None
    try:
        with os.fdopen(fd, 'wb') as out:
            bar: Optional[Progress] = None
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(resp.headers.get('Content-Length') or 0)
                    if total > MAX_MODEL_BYTES:
                        raise ModelError(_too_large(url, total))
                    done = 0
                    if progress:
                        bar = Progress(total, 'download_models', unit='MB', per=1e6)
                    for chunk in iter(lambda: resp.read(1 << 16), b''):
                        out.write(chunk)
                        done += len(chunk)
                        if done > MAX_MODEL_BYTES:  # a server that sends without end
                            raise ModelError(_too_large(url, done))
                        if bar is not None:
                            bar.update(len(chunk))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, 'reason', exc)
                raise ModelError(f'cannot download {url}: {reason} (no network? download it on '
                                 f'a connected machine and copy it to {final})') from None
            finally:
                if bar is not None:
                    bar.close()
            if total and done != total:
                raise ModelError(f'download of {url} ended after {done} of {total} bytes')
        what = verify_file(tmp, info, fmt)
        digest = models.sha256_of(tmp)
        pins = models.read_pins(directory)
        pinned = pins.get(info.file(fmt))
        if pinned and pinned != digest:
            raise ModelError(f'{url} now has sha256 {digest}, but {pinned} was pinned when it was '
                             f'first verified: refusing the changed file')
        os.replace(tmp, final)
        if not pinned:
            pins[info.file(fmt)] = digest
            models.write_pins(directory, pins)
        print(f'{final}: verified ({what}); sha256 {digest}')
        return final
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv=None) -> int:
    """
    Download, verify and pin models (``download_models``).

    :param argv: command line arguments (default sys.argv).
    :return: exit status.
    """
    parser = argparse.ArgumentParser(
        prog='download_models',
        description='Download RepViT models from the RDK model zoo into the models directory, '
                    'verify them by loading them, and pin their sha256.')
    parser.add_argument('models', nargs='*', default=['m1_0'],
                        help=f'model sizes ({", ".join(models.MODELS)}, or all)')
    parser.add_argument('--format', dest='fmt', choices=models.FORMATS, default=None,
                        help='bin for the BPU (default on an RDK board), onnx elsewhere')
    parser.add_argument('--dir', default=None,
                        help=f'models directory (default {models.models_dir()})')
    parser.add_argument('--url', default=None, help='override the download address (one model)')
    parser.add_argument('--timeout', type=float, default=30.0)
    parser.add_argument('--list', action='store_true', help='list models and where they are')
    args = parser.parse_args(argv)
    names = list(models.MODELS) if args.models == ['all'] else args.models
    fmt = args.fmt or ('bin' if bpu_runtime_available() else 'onnx')
    if args.list:
        for name in models.MODELS:
            for f in models.FORMATS:
                found = [p for p in models.candidate_paths(name, f, args.dir)
                         if os.path.isfile(p)]
                print(f'{name} {f:4s} {found[0] if found else "-"}')
        return 0
    status = 0
    for name in names:
        try:
            download(name, fmt, args.dir, args.url, args.timeout)
        except ModelError as exc:
            print(f'download_models: error: {exc}', file=sys.stderr)
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
