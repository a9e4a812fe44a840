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
BPU backend on ``hbm_runtime`` (RDK OS 3.5 and newer).

``HB_HBMRuntime(path)`` exposes metadata as dicts keyed by model name (``model_names``,
``input_names``, ``input_shapes``, ``output_names``, ``output_quants``) and runs with
``run({model: {input: array}})``, returning ``{model: {output: ndarray}}``. A single NV12 input
is fed as uint8 of shape (1, H*3/2, W, 1), as the RDK model zoo's RepViT demo does. Its native code
imports the GIL-release calls, so several workers probably overlap their BPU waits (unverified
without a board); no lock is taken here.
"""

import importlib
from typing import Optional

import numpy as np

from repvit_ros.backends.base import Backend, BackendError, dequantize


class HbmRuntimeBackend(Backend):
    """RepViT .bin on the BPU through hbm_runtime."""

    name = 'hbm_runtime'

    def __init__(self, path: str, priority: int = 0, core_id: int = 0,
                 num_classes: Optional[int] = 1000):
        """
        Load a .bin model and read its signature.

        :param path: the .bin model.
        :param priority: BPU scheduling priority 0..255.
        :param core_id: BPU core (the X5 has core 0 only).
        :param num_classes: classes the model must output.
        """
        hbm_runtime = importlib.import_module('hbm_runtime')
        self.path = path
        try:
            self._rt = hbm_runtime.HB_HBMRuntime(path)
        except (RuntimeError, SystemError, ValueError, OSError) as exc:
            raise BackendError(f'hbm_runtime cannot load {path}: {exc}') from None
        names = list(self._rt.model_names)
        if not names:
            raise BackendError(f'{path} contains no model')
        self._model = names[0]
        inputs = list(self._rt.input_names[self._model])
        shape = [int(d) for d in self._rt.input_shapes[self._model][inputs[0]]]
        if len(inputs) not in (1, 2):  # one NV12 input, or separate Y and UV inputs
            raise BackendError(f'{path}: expected one NV12 input, found {len(inputs)}')
        self._inputs = inputs
        # NCHW (1,3,H,W) for an NV12 model; NHWC (1,H,W,C) for a separated Y input.
        self._set_signature(shape, len(shape) == 4 and shape[1] in (1, 3), num_classes)
        self._output = list(self._rt.output_names[self._model])[0]
        quants = getattr(self._rt, 'output_quants', None) or {}
        quant = quants.get(self._model, {}).get(self._output) if quants else None
        scale = getattr(quant, 'scale', None) if quant is not None else None
        self._scale = None if scale is None else np.asarray(scale, np.float32)
        try:
            self._rt.set_scheduling_params(priority={self._model: int(priority)},
                                           bpu_cores={self._model: [int(core_id)]})
        except (RuntimeError, SystemError, ValueError, TypeError) as exc:
            raise BackendError(f'hbm_runtime rejected priority {priority} / core {core_id}: '
                               f'{exc}') from None

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        if self._rt is None:
            raise BackendError('hbm_runtime backend used after close()')
        nv12 = self._check_input(nv12)
        h, w = self.input_size
        if len(self._inputs) == 1:
            # One NV12 input as uint8 (1, H*3/2, W, 1): the shape D-Robotics' RepViT sample
            # feeds (D-Robotics/rdk_model_zoo samples/vision/repvit/, its preprocessing).
            feed = {self._inputs[0]: nv12.reshape(1, h * 3 // 2, w, 1)}
        else:
            # Separate Y (1,H,W,1) and UV (1,H/2,W/2,2) inputs: no D-Robotics example of this
            # layout was read for hbm_runtime (unverified); it follows the tensors' NHWC shapes.
            feed = {self._inputs[0]: nv12[:h].reshape(1, h, w, 1),
                    self._inputs[1]: nv12[h:].reshape(1, h // 2, w // 2, 2)}
        try:
            # run({model: {input: array}}) -> {model: {output: array}}, as in the same demo.
            result = self._rt.run({self._model: feed})
        except (RuntimeError, SystemError, ValueError) as exc:
            raise BackendError(f'hbm_runtime inference failed: {exc}') from None
        out = result[self._model][self._output]
        return self._check_logits(dequantize(out, self._scale), self._expected_classes)

    def close(self) -> None:
        self._rt = None
