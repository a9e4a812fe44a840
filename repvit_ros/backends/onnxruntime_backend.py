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
ONNX Runtime backend: the board's behaviour on any machine.

It takes the same NV12 tensor as the BPU and reproduces what the BPU's input node does with it
(full-range BT.601 NV12 to RGB, nearest-neighbour chroma, mean 123.675 116.28 103.53, scale
0.01712475 0.017507 0.01742919, NCHW float32), so results off the board predict the board's.
A model whose input is already NV12 (uint8) is fed directly.
"""

from typing import Optional

import numpy as np
import onnxruntime as ort

from repvit_ros.backends.base import Backend, BackendError
from repvit_ros.models import COMPILE
from repvit_ros.preprocess import nv12_to_rgb

# The .bin models' compile settings (input_type_train rgb, NCHW): models.COMPILE is their source.
MEAN = np.array(COMPILE.mean, np.float32)
SCALE = np.array(COMPILE.scale, np.float32)
_DEFAULT_SIZE = 224


def normalize_rgb(rgb: np.ndarray, layout: str = 'NCHW') -> np.ndarray:
    """
    Normalise an HxWx3 uint8 RGB image as the BPU's input node does.

    :param rgb: the image.
    :param layout: ``NCHW`` or ``NHWC`` for the returned batch of one.
    :return: float32 tensor with a leading batch dimension of 1.
    """
    x = (rgb.astype(np.float32) - MEAN) * SCALE
    if layout == 'NCHW':
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x[None])


class OnnxRuntimeBackend(Backend):
    """RepViT (or any classifier with one logits output) in ONNX, run by ONNX Runtime."""

    name = 'onnxruntime'

    def __init__(self, path: str, threads: int = 1, num_classes: Optional[int] = 1000):
        """
        Load an ONNX model and read its input signature.

        :param path: the .onnx file.
        :param threads: intra-op threads of one inference.
        :param num_classes: classes the model must output (None: any).
        """
        self.path = path
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session: Optional[ort.InferenceSession] = ort.InferenceSession(
                path, sess_options=opts, providers=['CPUExecutionProvider'])
        except Exception as exc:  # noqa: B902 - ORT raises its own non-exported exception types
            raise BackendError(f'ONNX Runtime cannot load {path}: {exc}') from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise BackendError(f'{path}: expected one input, the model has {len(inputs)}')
        self._input = inputs[0].name
        self._output = self._session.get_outputs()[0].name
        #: the model's custom metadata (synthetic models mark themselves here)
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        shape = [d if isinstance(d, int) and d > 0 else None for d in inputs[0].shape]
        dtype = inputs[0].type
        if dtype == 'tensor(float)' and len(shape) == 4 and shape[1] == 3:
            self._layout = 'NCHW'
            h, w = shape[2], shape[3]
        elif dtype == 'tensor(float)' and len(shape) == 4 and shape[3] == 3:
            self._layout = 'NHWC'
            h, w = shape[1], shape[2]
        elif dtype == 'tensor(uint8)' and len(shape) >= 2:
            self._layout = 'NV12'
            h = shape[-2] * 2 // 3 if shape[-2] else None
            w = shape[-1]
        else:
            raise BackendError(f'{path}: unsupported input {self._input} {inputs[0].shape} '
                               f'{dtype}; expected float RGB [1,3,H,W] or [1,H,W,3], or uint8 '
                               f'NV12')
        self._nv12_shape = [1] * (len(shape) - 2) + [((h or _DEFAULT_SIZE) * 3) // 2,
                                                     w or _DEFAULT_SIZE]
        self.input_size = (h or _DEFAULT_SIZE, w or _DEFAULT_SIZE)
        if self.input_size[0] % 2 or self.input_size[1] % 2:
            raise BackendError(f'{path}: input size {self.input_size} is not even')
        self._expected_classes = num_classes
        out_shape = self._session.get_outputs()[0].shape
        known = [d for d in out_shape if isinstance(d, int) and d > 1]
        if len(known) > 1:
            raise BackendError(f'{path}: output {self._session.get_outputs()[0].name} has shape '
                               f'{out_shape}, not a vector of class logits (a classifier '
                               f'outputs [1, classes]): not a RepViT classifier')
        self.num_classes = known[-1] if known else (num_classes or 0)
        if num_classes is not None and known and known[-1] != num_classes:
            raise BackendError(f'{path}: output {out_shape} does not have {num_classes} '
                               f'classes')
        self.threads = opts.intra_op_num_threads

    def model_input(self, nv12: np.ndarray) -> np.ndarray:
        """
        Build the tensor the ONNX model takes from NV12, emulating the BPU's input node.

        :param nv12: (H*3/2)xW uint8.
        :return: the model's input tensor.
        """
        nv12 = self._check_input(nv12)
        if self._layout == 'NV12':
            return nv12.reshape(self._nv12_shape)
        return normalize_rgb(nv12_to_rgb(nv12, 'full'), self._layout)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        if self._session is None:
            raise BackendError('onnxruntime backend used after close()')
        out = self._session.run([self._output], {self._input: self.model_input(nv12)})[0]
        return self._check_logits(out, self._expected_classes)

    def close(self) -> None:
        self._session = None

    def describe(self) -> str:
        return f'{super().describe()} ({self._layout} input {self._input}, ' \
               f'{self.threads} thread(s) per inference)'
