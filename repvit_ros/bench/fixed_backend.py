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
A do-nothing backend for measurements only: fixed logits, returned at once.

Not in the backend registry and not selectable by a node parameter: the benchmark's overhead
mode and the load tool start the node with it to measure what the node itself costs.
"""

import numpy as np

from repvit_ros.backends.base import Backend


class FixedBackend(Backend):
    """Return the same logits for every frame, after checking the input like a real backend."""

    name = 'fixed'

    def __init__(self, num_classes: int = 1000):
        self.num_classes = num_classes
        self.path = '(none: fixed logits)'
        self._logits = np.linspace(-3.0, 3.0, num_classes, dtype=np.float32)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """Check the frame and return the fixed logits."""
        self._check_input(nv12)
        return self._logits
