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
BPU backend on hobot_dnn's ``pyeasy_dnn`` (the legacy RDK Python runtime).

``pyeasy_dnn.load(path)`` returns a list of models; ``model.inputs[0].properties`` has
``tensor_type``, ``layout``, ``shape`` (``alignedShape``/``validShape`` are raw pointers and are
not used) and ``scale_data``; ``model.forward(nv12, core_id, priority)`` (NV12 as a flat uint8
array of H*W*3/2 bytes, as the RDK examples pass it) returns the outputs,
whose ``.buffer`` copies on every access. forward holds the GIL for the whole BPU run and each
model has a single output buffer, so forward and the buffer read are guarded by one lock per
model: several workers cannot overlap their BPU work on this runtime, only their pre- and
post-processing.
"""

import importlib
import threading
from typing import Optional

import numpy as np

from repvit_ros.backends.base import Backend, BackendError, dequantize


def _import_pyeasy_dnn():
    try:
        return importlib.import_module('hobot_dnn.pyeasy_dnn')
    except ImportError:
        return importlib.import_module('hobot_dnn_rdkx5.pyeasy_dnn')


class PyEasyDnnBackend(Backend):
    """RepViT .bin on the BPU through hobot_dnn.pyeasy_dnn."""

    name = 'pyeasy_dnn'

    def __init__(self, path: str, priority: int = 0, core_id: int = 0,
                 num_classes: Optional[int] = 1000):
        """
        Load a .bin model and read its signature.

        :param path: the .bin model.
        :param priority: BPU scheduling priority 0..255.
        :param core_id: BPU core (the X5 has core 0 only).
        :param num_classes: classes the model must output.
        """
        dnn = _import_pyeasy_dnn()
        self.path = path
        try:
            models = dnn.load(path)
        except (RuntimeError, SystemError, ValueError, OSError) as exc:
            raise BackendError(f'pyeasy_dnn cannot load {path}: {exc}') from None
        if not models:
            raise BackendError(f'{path} contains no model')
        self._model = models[0]
        props = self._model.inputs[0].properties
        tensor_type = str(props.tensor_type).upper()
        if 'NV12' not in tensor_type:
            raise BackendError(f'{path}: input tensor type {props.tensor_type}, expected NV12')
        self._set_signature([int(d) for d in props.shape],
                            str(props.layout).upper() == 'NCHW', num_classes)
        self._core_id = int(core_id)
        self._priority = int(priority)
        self._forward_kwargs = {}
        if self._core_id or self._priority:
            self._forward_kwargs = {'core_id': self._core_id, 'priority': self._priority}
        self._lock = threading.Lock()

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        nv12 = self._check_input(nv12)
        with self._lock:
            if self._model is None:
                raise BackendError('pyeasy_dnn backend used after close()')
            try:
                # A flat uint8 array of H*W*3/2 bytes, as D-Robotics' pyeasy_dnn demos pass it
                # (D-Robotics/rdk_model_zoo demos/detect/YOLO11/YOLO11-Detect_YUV420SP/
                # YOLOv11_Detect_YUV420SP.py: bgr2nv12 then quantize_model[0].forward(nv12));
                # core_id and priority only when not the defaults those demos leave implicit.
                outputs = self._model.forward(nv12.reshape(-1), **self._forward_kwargs)
                out = outputs[0]
                values = out.buffer  # copies: read once, inside the lock
                scale = out.properties.scale_data
            except (RuntimeError, SystemError, ValueError) as exc:
                raise BackendError(f'pyeasy_dnn inference failed: {exc}') from None
        return self._check_logits(dequantize(values, scale), self._expected_classes)

    def close(self) -> None:
        with self._lock:
            self._model = None
