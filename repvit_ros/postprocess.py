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

"""Logits to ranked class probabilities: softmax, top-k, threshold."""

import math
from typing import List, Tuple

import numpy as np


class LogitsError(RuntimeError):
    """Model output that cannot be ranked (NaN or infinite logits); the message says how many."""


def _finite(z: np.ndarray) -> np.ndarray:
    """Return ``z`` when every logit is finite, else raise :class:`LogitsError`."""
    if not np.isfinite(z).all():
        nan = int(np.isnan(z).sum())
        inf = int(np.isinf(z).sum())
        raise LogitsError(f'model output has {nan} NaN and {inf} infinite values '
                          f'among {z.size} logits')
    return z


def softmax(logits: np.ndarray) -> np.ndarray:
    """
    Turn logits into probabilities (numerically stable).

    :param logits: 1-D float logits.
    :return: float64 probabilities that sum to 1.
    :raises LogitsError: when a logit is NaN or infinite.
    """
    z = _finite(np.asarray(logits, np.float64).reshape(-1))
    z = np.exp(z - z.max())
    return z / z.sum()


def top_k(logits: np.ndarray, k: int, min_score: float = 0.0) -> List[Tuple[int, float]]:
    """
    Rank the ``k`` most probable classes, leaving out those below ``min_score``.

    Selects on the logits (softmax keeps their order) and computes only the k probabilities
    it returns: this runs once per frame on the node's hot path.

    :param logits: 1-D float logits.
    :param k: how many classes at most.
    :param min_score: probability threshold in [0, 1].
    :return: (class index, probability) pairs, most probable first, ties by lower index.
    :raises LogitsError: when a logit is NaN or infinite (a broken model or backend).
    """
    z = np.asarray(logits).reshape(-1)
    n = z.size
    k = max(0, min(int(k), n))
    if k == 0:
        return []
    _finite(z)
    peak = float(z.max())
    shifted = z.astype(np.float32, copy=False) - np.float32(peak)
    total = float(np.exp(shifted).sum(dtype=np.float64))
    if k < n:
        # Every class scoring at least the k-th best, so that ties at the cut go by index.
        kth = z[np.argpartition(z, n - k)[n - k]]
        idx = np.flatnonzero(z >= kth)
    else:
        idx = range(n)
    ranked = sorted(((int(i), math.exp(float(z[i]) - peak) / total) for i in idx),
                    key=lambda p: (-p[1], p[0]))[:k]
    return [p for p in ranked if p[1] >= min_score]
