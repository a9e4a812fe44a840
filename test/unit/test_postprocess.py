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


"""Post-processing: softmax, top-k ranking, threshold, and logits a model should never give."""

import numpy as np
import pytest
from repvit_ros.postprocess import LogitsError, softmax, top_k


def test_top_k_and_softmax():
    logits = np.array([1.0, 3.0, 2.0, 3.0, -1.0])
    p = softmax(logits)
    assert abs(p.sum() - 1) < 1e-12
    ranked = top_k(logits, 3)
    assert [i for i, _ in ranked] == [1, 3, 2]
    assert np.allclose([s for _, s in ranked], p[[1, 3, 2]])
    assert [i for i, _ in top_k(logits, 5, min_score=0.2)] == [1, 3]  # p[2] is 0.146
    assert top_k(logits, 10)[-1][0] == 4


@pytest.mark.parametrize('bad, nan, inf', [
    ([np.nan], 1, 0),
    ([np.inf], 0, 1),
    ([-np.inf, -np.inf], 0, 2),
    ([np.nan, np.inf, np.nan, -np.inf], 2, 2),
])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_non_finite_logits_raise_logits_error(bad, nan, inf, dtype):
    logits = np.linspace(-3, 3, 1000).astype(dtype)
    logits[[7, 500, 998, 999][:len(bad)]] = bad
    message = f'{nan} NaN and {inf} infinite values among 1000 logits'
    with pytest.raises(LogitsError, match=message):
        top_k(logits, 5)
    with pytest.raises(LogitsError, match=message):
        top_k(logits.reshape(1, 1000, 1, 1), 1000, min_score=0.5)
    with pytest.raises(LogitsError, match=message):
        softmax(logits)


def test_logits_error_is_not_a_frame_error():
    from repvit_ros.preprocess import FrameError
    assert issubclass(LogitsError, RuntimeError)
    assert not issubclass(LogitsError, FrameError)
    assert top_k(np.array([np.nan, 1.0]), 0) == []  # nothing asked, nothing ranked


def test_large_finite_logits_still_rank():
    logits = np.array([-1e30, 3e30, 1e30, 3e30], np.float32)
    ranked = top_k(logits, 4)
    assert [i for i, _ in ranked] == [1, 3, 0, 2]  # the two zeros tie, by index
    assert [p for _, p in ranked] == pytest.approx([0.5, 0.5, 0.0, 0.0])
