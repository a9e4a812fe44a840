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

"""The protocol every backend follows."""

from types import MappingProxyType
from typing import Mapping, Optional, Tuple

import numpy as np

from repvit_ros.errors import StartupError


class BackendError(StartupError):
    """A model that cannot be loaded or run; the message names the cause."""


class Backend:
    """
    A loaded model that maps one NV12 frame to logits.

    Subclasses set the attributes in ``__init__`` and implement :meth:`infer`.
    """

    #: short backend name, e.g. ``onnxruntime``
    name: str = ''
    #: model input (height, width)
    input_size: Tuple[int, int] = (224, 224)
    #: the input format :meth:`infer` takes
    input_format: str = 'nv12'
    #: number of logits :meth:`infer` returns
    num_classes: int = 1000
    #: the model file
    path: str = ''
    #: the model's own key/value metadata where the format has it (ONNX custom metadata)
    metadata: Mapping[str, str] = MappingProxyType({})

    @property
    def synthetic(self) -> bool:
        """Whether the model is the project's synthetic RepViT (untrained weights)."""
        return self.metadata.get('repvit_ros.synthetic') == 'true'

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """
        Run the model on one frame.

        :param nv12: (H*3/2)xW uint8 NV12 at :attr:`input_size`.
        :return: float32 logits, shape (num_classes,).
        """
        raise NotImplementedError

    def probe_classes(self) -> int:
        """
        Learn the number of classes by running one grey frame, when the model does not declare it.

        Runtimes that report no output shape before the first run (or a model loaded without
        an expected class count) leave :attr:`num_classes` at 0; this fills it in.

        :return: :attr:`num_classes`.
        """
        if not self.num_classes:
            h, w = self.input_size
            self.num_classes = int(self.infer(np.full((h * 3 // 2, w), 128, np.uint8)).size)
        return self.num_classes

    def close(self) -> None:
        """Release the runtime's resources; the backend is unusable afterwards."""

    def describe(self) -> str:
        """
        Summarise the backend in one line for logs and diagnostics.

        :return: the summary.
        """
        h, w = self.input_size
        return f'{self.name} {w}x{h} {self.input_format} -> {self.num_classes} classes'

    def _set_signature(self, shape, nchw: bool, num_classes: Optional[int]) -> None:
        """Take the input size from a 4-D input shape and the number of classes to expect."""
        if len(shape) != 4:
            raise BackendError(f'{self.path}: input shape {list(shape)} is not 4-D')
        self.input_size = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
        self._expected_classes = num_classes
        self.num_classes = num_classes or 0

    def _check_input(self, nv12: np.ndarray) -> np.ndarray:
        h, w = self.input_size
        if not isinstance(nv12, np.ndarray) or nv12.dtype != np.uint8 or \
                nv12.shape != (h * 3 // 2, w):
            shape = getattr(nv12, 'shape', None)
            raise BackendError(f'{self.name} expects ({h * 3 // 2}, {w}) uint8 NV12, got '
                               f'{shape} {getattr(nv12, "dtype", type(nv12).__name__)}')
        return np.ascontiguousarray(nv12)

    def _check_logits(self, logits: np.ndarray, num_classes: Optional[int]) -> np.ndarray:
        logits = np.asarray(logits, dtype=np.float32)
        if sum(d > 1 for d in logits.shape) > 1:
            raise BackendError(f'{self.name}: model output has shape {list(logits.shape)}, not '
                               f'a vector of class logits')
        flat = logits.reshape(-1)
        if num_classes is not None and flat.size != num_classes:
            raise BackendError(f'{self.name}: model outputs {flat.size} values, expected '
                               f'{num_classes} classes')
        return flat


def dequantize(values: np.ndarray, scale) -> np.ndarray:
    """
    Turn integer BPU outputs into float logits with their per-tensor or per-class scale.

    :param values: the output tensor as returned by the runtime.
    :param scale: scalar or per-class scale (None or empty for float outputs).
    :return: float32 values, flattened.
    """
    flat = np.asarray(values).reshape(-1)
    if np.issubdtype(flat.dtype, np.floating):
        return flat.astype(np.float32, copy=False)
    scale = np.asarray(scale if scale is not None else [], dtype=np.float32).reshape(-1)
    if scale.size == 0:
        raise BackendError(f'integer ({flat.dtype}) model output without scale data: cannot '
                           f'dequantize')
    if scale.size not in (1, flat.size):
        raise BackendError(f'output scale has {scale.size} values for {flat.size} outputs')
    return flat.astype(np.float32) * scale
