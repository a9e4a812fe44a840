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
Inference backends behind one small protocol, and the ``auto`` choice between them.

Every backend takes the model's NV12 input ((H*3/2)xW uint8, as :func:`repvit_ros.preprocess.
to_nv12` makes it) and returns float32 logits of shape (num_classes,).
"""

import importlib
import os
import platform
from typing import Optional

from repvit_ros.backends.base import Backend, BackendError

BACKENDS = ('auto', 'hbm_runtime', 'pyeasy_dnn', 'onnxruntime')
_INSTALL_HINT = {
    'hbm_runtime': 'the hbm_runtime Python package of RDK OS 3.5 or newer (on the RDK X5 board)',
    'pyeasy_dnn': 'hobot_dnn (RDK OS; on PyPI as hobot-dnn-rdkx5, aarch64 only)',
    'onnxruntime': "ONNX Runtime: 'pip install onnxruntime'",
}

__all__ = ['Backend', 'BackendError', 'BACKENDS', 'create_backend', 'bpu_runtime_available',
           'off_board_message']


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def bpu_runtime_available() -> bool:
    """
    Tell whether a BPU runtime (hbm_runtime or hobot_dnn's pyeasy_dnn) can be imported.

    :return: True on an RDK board with its runtime installed.
    """
    return _importable('hbm_runtime') or _importable('hobot_dnn.pyeasy_dnn') or \
        _importable('hobot_dnn_rdkx5.pyeasy_dnn')


def off_board_message(path: str, machine: Optional[str] = None) -> str:
    """
    Say why a ``.bin`` model cannot run here and what to do instead.

    A ``.bin`` is compiled for the RDK X5's BPU, and its runtimes (hbm_runtime, hobot_dnn's
    pyeasy_dnn) exist only on the board's RDK OS. Off an ARM machine this is certainly not the
    board; on one, it may be a board whose runtime is missing.

    :param path: the .bin model.
    :param machine: the processor architecture (default: this machine's).
    :return: the message.
    """
    machine = machine or platform.machine()
    onnx = ('use the ONNX model on this machine instead: model:=m1_0 after `ros2 run '
            'repvit_ros download_models m1_0 --format onnx`, or model_path:=<your model>.onnx')
    if machine.lower() not in ('aarch64', 'arm64'):
        return (f'{os.path.basename(path)} is a .bin model for the RDK X5 BPU: a .bin runs on '
                f'the RDK board only (this machine is {machine}); {onnx}')
    return (f'{os.path.basename(path)} is a .bin model for the RDK X5 BPU, and no BPU runtime '
            f'is installed here: on an RDK X5, install {_INSTALL_HINT["hbm_runtime"]} or '
            f'{_INSTALL_HINT["pyeasy_dnn"]}; on another machine a .bin does not run, {onnx}')


def resolve_kind(kind: str, path: str) -> str:
    """
    Pick the concrete backend for ``kind`` and a model file.

    ``auto``: a ``.bin`` uses hbm_runtime when importable, else pyeasy_dnn; an ``.onnx`` uses
    ONNX Runtime.

    :param kind: one of :data:`BACKENDS`.
    :param path: the model file.
    :return: the concrete backend name.
    :raises BackendError: for an unknown backend or a file type no backend reads.
    """
    if kind not in BACKENDS:
        raise BackendError(f'unknown backend {kind!r}; one of {", ".join(BACKENDS)}')
    if kind != 'auto':
        return kind
    ext = os.path.splitext(path)[1].lower()
    if ext == '.bin':
        return 'hbm_runtime' if _importable('hbm_runtime') else 'pyeasy_dnn'
    if ext == '.onnx':
        return 'onnxruntime'
    raise BackendError(f'cannot tell the backend for {path!r}: expected a .bin (BPU) or .onnx '
                       f'file')


def create_backend(kind: str, path: str, threads: int = 1, priority: int = 0,
                   core_id: int = 0, num_classes: Optional[int] = 1000) -> Backend:
    """
    Load a model with the chosen backend.

    :param kind: one of :data:`BACKENDS`.
    :param path: the model file.
    :param threads: ONNX Runtime intra-op threads per inference (other backends ignore it).
    :param priority: BPU scheduling priority, 0..255.
    :param core_id: BPU core.
    :param num_classes: classes the model must output; None to accept any.
    :return: a loaded backend.
    :raises BackendError: when the runtime is missing or the model does not load or fit.
    """
    concrete = resolve_kind(kind, path)
    if not os.path.isfile(path):
        raise BackendError(f'model file {path} does not exist')
    try:
        if concrete == 'onnxruntime':
            from repvit_ros.backends.onnxruntime_backend import OnnxRuntimeBackend as cls
            return cls(path, threads=threads, num_classes=num_classes)
        if concrete == 'hbm_runtime':
            from repvit_ros.backends.hbm_runtime_backend import HbmRuntimeBackend as cls
        else:
            from repvit_ros.backends.pyeasy_dnn_backend import PyEasyDnnBackend as cls
        return cls(path, priority=priority, core_id=core_id, num_classes=num_classes)
    except ImportError as exc:
        if concrete != 'onnxruntime' and not bpu_runtime_available():
            raise BackendError(off_board_message(path)) from None
        raise BackendError(f'backend {concrete} is not available ({exc}); install '
                           f'{_INSTALL_HINT[concrete]}') from None
