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
Test doubles of the two BPU Python runtimes, which cannot run off an RDK board.

They follow the documented APIs (see DESIGN.md section 3) and check what a caller passes in:
``hbm_runtime.HB_HBMRuntime`` (metadata dicts keyed by model name, ``run({model: {input:
array}})``, ValueError on a mismatched input: anything but uint8 (1, H*3/2, W, 1) NV12, the shape
the RDK model zoo's RepViT demo feeds; integer output with ``output_quants`` scale) and
hobot_dnn's ``pyeasy_dnn`` (``load`` returns a list, ``properties.shape`` while
``alignedShape``/``validShape`` are raw pointers, ``forward`` raising SystemError on bad input:
anything but the flat uint8 H*W*3/2 array D-Robotics' pyeasy_dnn demos pass; one output buffer
per model whose ``.buffer`` copies on each access). The "model" they run is a
fixed function of the NV12 bytes, so tests can compute the expected logits independently.
"""

import ctypes
from dataclasses import dataclass, field
import os
import threading
import time
import types
from typing import List

import numpy as np

H = W = 224
NV12_BYTES = H * W * 3 // 2
MODEL_NAME = 'RepViT_m1_0_224x224_nv12'
OUTPUT_SCALE = np.full(1000, 1.0 / 256, np.float32)
# libc through PyDLL: its calls keep the GIL, as pyeasy_dnn's forward does for the BPU run.
_LIBC_WITH_GIL = ctypes.PyDLL(None)


def expected_logits(nv12: np.ndarray) -> np.ndarray:
    """Compute what the double's 'model' outputs: float logits from NV12 bytes."""
    flat = np.asarray(nv12, np.float32).reshape(-1)[:1000 * 75].reshape(1000, 75)
    return (flat.mean(axis=1) - 128.0) / 16.0 + np.linspace(-1, 1, 1000, dtype=np.float32)


#: the NV12 input shape D-Robotics' hbm_runtime RepViT demo feeds (rdk_model_zoo
#: demos/classification/RepViT/main.py): uint8 (1, H*3/2, W, 1)
HBM_INPUT_SHAPE = (1, H * 3 // 2, W, 1)
#: the NV12 input D-Robotics' pyeasy_dnn demos pass to forward: a flat uint8 array of H*W*3/2
PYEASY_INPUT_SHAPE = (NV12_BYTES,)


def _check_nv12(array, shape) -> None:
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
        raise ValueError(f'input must be a uint8 ndarray, got {type(array).__name__} '
                         f'{getattr(array, "dtype", None)}')
    if not array.flags.c_contiguous:
        raise ValueError('input must be C-contiguous')
    if array.shape != shape:
        raise ValueError(f'input has shape {array.shape}, the model takes {shape}')


# ------------------------------------------------------------------------- hbm_runtime
@dataclass
class QuantParams:
    quant_type: int
    axis: int
    scale: np.ndarray
    zero_point: np.ndarray


class HB_HBMRuntime:  # noqa: N801 - the runtime's own class name
    SCALE = 1
    instances: List['HB_HBMRuntime'] = []

    def __init__(self, model_file):
        if not isinstance(model_file, str) or not os.path.isfile(model_file):
            raise RuntimeError(f'failed to load model file {model_file}')
        self.calls = []
        self.sched = {}
        HB_HBMRuntime.instances.append(self)

    @staticmethod
    def version() -> str:
        return '3.5.0-double'

    @property
    def model_names(self):
        return [MODEL_NAME]

    @property
    def model_count(self):
        return 1

    @property
    def input_names(self):
        return {MODEL_NAME: ['images']}

    @property
    def input_shapes(self):
        return {MODEL_NAME: {'images': [1, 3, H, W]}}

    @property
    def output_names(self):
        return {MODEL_NAME: ['output']}

    @property
    def output_shapes(self):
        return {MODEL_NAME: {'output': [1, 1000, 1, 1]}}

    @property
    def output_quants(self):
        return {MODEL_NAME: {'output': QuantParams(self.SCALE, 1, OUTPUT_SCALE,
                                                   np.zeros(1000, np.int32))}}

    def set_scheduling_params(self, priority=None, bpu_cores=None, custom_id=None,
                              device_id=None):
        for arg in (priority, bpu_cores):
            if arg is not None and set(arg) - {MODEL_NAME}:
                raise ValueError(f'unknown model in {arg}')
        if priority and not 0 <= priority[MODEL_NAME] <= 255:
            raise ValueError('priority must be 0..255')
        self.sched = {'priority': priority, 'bpu_cores': bpu_cores}

    def run(self, inputs, **kwargs):
        if not isinstance(inputs, dict) or set(inputs) != {MODEL_NAME}:
            raise ValueError(f'expected {{model name: {{input: array}}}}, got {inputs!r:.80}')
        feed = inputs[MODEL_NAME]
        if set(feed) != {'images'}:
            raise ValueError(f'unknown inputs {sorted(feed)}')
        array = feed['images']
        _check_nv12(array, HBM_INPUT_SHAPE)
        self.calls.append((array.dtype, array.flags.c_contiguous, array.shape))
        logits = expected_logits(array)
        quantized = np.round(logits / OUTPUT_SCALE).astype(np.int32).reshape(1, 1000, 1, 1)
        return {MODEL_NAME: {'output': quantized}}


hbm_runtime_module = types.ModuleType('hbm_runtime')
hbm_runtime_module.HB_HBMRuntime = HB_HBMRuntime
hbm_runtime_module.QuantParams = QuantParams


# ------------------------------------------------------------------------- pyeasy_dnn
@dataclass
class TensorProperties:
    tensor_type: str
    dtype: str
    layout: str
    shape: tuple
    scale_data: np.ndarray = field(default_factory=lambda: np.array([], np.float32))

    @property
    def alignedShape(self):  # noqa: N802 - raw pointer in the real binding
        return 0x7F00DEADBEEF

    @property
    def validShape(self):  # noqa: N802
        return 0x7F00DEADBEF0


class _Tensor:

    def __init__(self, name, properties, model=None):
        self.name = name
        self.properties = properties
        self._model = model

    @property
    def buffer(self):
        # The real binding copies the model's single output buffer on every access.
        return self._model._output_buffer.copy()


class Model:

    def __init__(self, path, forward_seconds=0.0, holds_gil=True):
        self.name = MODEL_NAME
        self.inputs = [_Tensor('images', TensorProperties('NV12', 'uint8', 'NCHW', (1, 3, H, W)))]
        out_props = TensorProperties('int32', 'int32', 'NCHW', (1, 1000, 1, 1), OUTPUT_SCALE)
        self.outputs = [_Tensor('output', out_props, self)]
        self._output_buffer = np.zeros((1, 1000, 1, 1), np.int32)
        self.forward_seconds = forward_seconds
        self.holds_gil = holds_gil
        self.calls = []
        self.scheduling = None

    def forward(self, input_tensor, core_id=None, priority=None):
        #: the scheduling arguments given explicitly in each call (None: left to the runtime)
        self.scheduling = (core_id, priority)
        core_id = 0 if core_id is None else core_id
        priority = 0 if priority is None else priority
        try:
            _check_nv12(input_tensor, PYEASY_INPUT_SHAPE)
        except ValueError as exc:
            raise SystemError(f'forward failed: {exc}') from None
        if core_id not in (0, -1) or not 0 <= priority <= 255:
            raise SystemError('invalid core_id or priority')
        self.calls.append((input_tensor.dtype, input_tensor.flags.c_contiguous,
                           input_tensor.shape, threading.get_ident()))
        logits = expected_logits(input_tensor)
        # One output buffer per model, written during the run: unsafe without a lock.
        self._output_buffer[...] = 0
        if self.forward_seconds and self.holds_gil:
            _LIBC_WITH_GIL.usleep(int(self.forward_seconds * 1e6))  # no other thread runs
        elif self.forward_seconds:
            time.sleep(self.forward_seconds)
        self._output_buffer[...] = np.round(logits / OUTPUT_SCALE).astype(np.int32).reshape(
            1, 1000, 1, 1)
        return self.outputs


class PyEasyDnn(types.ModuleType):

    def __init__(self, forward_seconds=0.0, holds_gil=True):
        super().__init__('hobot_dnn.pyeasy_dnn')
        self.forward_seconds = forward_seconds
        self.holds_gil = holds_gil
        self.loaded: List[Model] = []

    def load(self, model_file):
        if not os.path.isfile(model_file):
            raise SystemError(f'failed to load {model_file}')
        model = Model(model_file, self.forward_seconds, self.holds_gil)
        self.loaded.append(model)
        return [model]


def write_pyeasy_dnn_package(directory: str, forward_seconds: float) -> str:
    """
    Make ``hobot_dnn.pyeasy_dnn`` importable in a child process, backed by this double.

    :param directory: where to write the package; put it first on the child's PYTHONPATH
        together with this file's folder.
    :param forward_seconds: how long each forward holds the GIL.
    :return: ``directory``.
    """
    pkg = os.path.join(directory, 'hobot_dnn')
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, '__init__.py'), 'w') as f:
        f.write('"""Test double of hobot_dnn (see bpu_doubles.py)."""\n')
    with open(os.path.join(pkg, 'pyeasy_dnn.py'), 'w') as f:
        f.write('"""Test double of hobot_dnn.pyeasy_dnn (see bpu_doubles.py)."""\n'
                'import bpu_doubles\n'
                f'_DNN = bpu_doubles.PyEasyDnn({forward_seconds!r}, holds_gil=True)\n'
                'load = _DNN.load\n')
    return directory
