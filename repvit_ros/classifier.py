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
RepViT classification without ROS: a loaded model, its labels and its preprocessing.

:class:`Classifier` is what the node runs for every frame and what a script or notebook uses
directly::

    from repvit_ros import Classifier
    clf = Classifier('m1_0')
    print(clf.classify(bgr_image))

Frames go through the same :func:`repvit_ros.preprocess.to_nv12`, the same backend and the same
ranking as in the node.
"""

from typing import List, NamedTuple, Optional, Tuple

import numpy as np

from repvit_ros import models
from repvit_ros.backends import Backend, bpu_runtime_available, create_backend
from repvit_ros.labels import load_labels
from repvit_ros.postprocess import top_k
from repvit_ros.preprocess import to_nv12

_BACKEND_FORMATS = {'onnxruntime': ('onnx',), 'hbm_runtime': ('bin',), 'pyeasy_dnn': ('bin',)}


class Prediction(NamedTuple):
    """One ranked class: its index in the model output, its name, its probability."""

    index: int
    name: str
    probability: float


def load_backend(model: str = 'm1_0', model_path: str = '', backend: str = 'auto',
                 intra_op_threads: int = 1) -> Backend:
    """
    Find a model file and load it with the chosen backend.

    :param model: registry size (m0_9, m1_0, m1_1), used when ``model_path`` is empty.
    :param model_path: an explicit model file.
    :param backend: ``auto`` or a backend name.
    :param intra_op_threads: ONNX Runtime threads inside one inference.
    :return: the loaded backend.
    :raises repvit_ros.models.ModelError: when no usable file is found.
    :raises repvit_ros.backends.BackendError: when the runtime is missing or the model is wrong.
    """
    formats = _BACKEND_FORMATS.get(backend)
    if formats is None:
        formats = ('bin', 'onnx') if bpu_runtime_available() else ('onnx',)
    # resolve_model_path already refuses a registry file whose pinned sha256 changed.
    path = models.resolve_model_path(model, model_path, formats)
    return create_backend(backend, path, threads=intra_op_threads)


class Classifier:
    """A RepViT model with its labels: images in, ranked classes out."""

    def __init__(self, model: str = 'm1_0', *, model_path: str = '', backend: str = 'auto',
                 labels_path: str = '', intra_op_threads: int = 1,
                 resize_mode: str = 'letterbox', yuv_range: str = 'full',
                 loaded: Optional[Backend] = None):
        """
        Load the model and its labels.

        :param model: registry size, used when ``model_path`` is empty.
        :param model_path: a .bin or .onnx file.
        :param backend: ``auto``, ``hbm_runtime``, ``pyeasy_dnn`` or ``onnxruntime``.
        :param labels_path: class names file; empty: the bundled ImageNet-1k names.
        :param intra_op_threads: ONNX Runtime threads inside one inference.
        :param resize_mode: ``letterbox``, ``center_crop`` or ``stretch``.
        :param yuv_range: NV12 range made from RGB-family frames, ``full`` or ``video``.
        :param loaded: an already loaded backend to use (not closed by :meth:`close`).
        """
        self._owns_backend = loaded is None
        self._backend: Optional[Backend] = loaded if loaded is not None else load_backend(
            model, model_path, backend, intra_op_threads)
        try:
            self._labels: List[str] = load_labels(labels_path or None,
                                                  self._backend.num_classes or None)
        except Exception:
            self.close()
            raise
        self._index_ids = [str(i) for i in range(len(self._labels))]
        self.resize_mode = resize_mode
        self.yuv_range = yuv_range

    @property
    def backend(self) -> Backend:
        """The loaded backend."""
        if self._backend is None:
            raise RuntimeError('classifier used after close()')
        return self._backend

    @property
    def labels(self) -> List[str]:
        """Class names indexed by model output."""
        return self._labels

    @property
    def index_ids(self) -> List[str]:
        """Class indices as decimal strings (``class_id`` of the index format)."""
        return self._index_ids

    @property
    def input_size(self) -> Tuple[int, int]:
        """Model input (height, width)."""
        return tuple(self.backend.input_size)

    @property
    def synthetic(self) -> bool:
        """Whether the model is the synthetic RepViT, whose labels mean nothing."""
        return self.backend.synthetic

    def to_nv12(self, frame, encoding: str) -> np.ndarray:
        """
        Convert a frame to the model's NV12 input.

        :param frame: the image in its encoding's layout (see :func:`to_nv12`).
        :param encoding: its encoding.
        :return: the NV12 tensor.
        """
        return to_nv12(frame, encoding, self.input_size, self.resize_mode, self.yuv_range)

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """
        Run the model on an NV12 tensor.

        :param nv12: from :meth:`to_nv12`.
        :return: float32 logits.
        """
        return self.backend.infer(nv12)

    def rank(self, logits: np.ndarray, k: int = 5,
             min_score: float = 0.0) -> List[Tuple[int, float]]:
        """
        Rank logits: the ``k`` most probable classes at or above ``min_score``.

        :param logits: from :meth:`infer`.
        :param k: how many classes at most.
        :param min_score: probability threshold.
        :return: (index, probability) pairs, most probable first.
        """
        return top_k(logits, k, min_score)

    def classify(self, image: np.ndarray, encoding: str = 'bgr8', k: int = 5,
                 min_score: float = 0.0) -> List[Prediction]:
        """
        Classify one image.

        :param image: an image in ``encoding``'s layout (HxWx3 for bgr8/rgb8, (H*3/2)xW for
            nv12, encoded bytes for jpeg/png).
        :param encoding: a sensor_msgs encoding, ``jpeg`` or ``png``.
        :param k: how many classes at most.
        :param min_score: probability threshold.
        :return: the top classes, most probable first.
        """
        ranked = self.rank(self.infer(self.to_nv12(image, encoding)), k, min_score)
        return [Prediction(i, self._labels[i], p) for i, p in ranked]

    def close(self) -> None:
        """Release the backend (unless it was passed in already loaded)."""
        if self._backend is not None and self._owns_backend:
            self._backend.close()
        self._backend = None
