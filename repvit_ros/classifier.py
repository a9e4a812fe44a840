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
    print(clf.classify('dog.jpg'))

Frames go through the same :func:`repvit_ros.preprocess.to_nv12`, the same backend and the same
ranking as in the node. Any class count works: the model's output size decides, a labels file
must name exactly that many classes, and without one a model that is not 1000-class ImageNet
gets the names ``class_0`` .. ``class_<N-1>`` (with a message in :attr:`Classifier.warnings`).
"""

from contextlib import contextmanager
import os
import threading
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import cv2
import numpy as np

from repvit_ros import models
from repvit_ros.backends import Backend, BackendError, bpu_runtime_available, create_backend
from repvit_ros.labels import LabelError, load_labels
from repvit_ros.postprocess import LogitsError, top_k
from repvit_ros.preprocess import DEFAULT_MAX_INPUT_PIXELS, FrameError, to_nv12

_BACKEND_FORMATS = {'onnxruntime': ('onnx',), 'hbm_runtime': ('bin',), 'pyeasy_dnn': ('bin',)}
#: file name endings :func:`list_images` takes as images
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.ppm', '.pgm')
#: the class count of the bundled ImageNet-1k labels
IMAGENET_CLASSES = 1000


class Prediction(NamedTuple):
    """One ranked class: its index in the model output, its name, its probability."""

    index: int
    name: str
    probability: float


def load_backend(model: str = 'm1_0', model_path: str = '', backend: str = 'auto',
                 intra_op_threads: int = 1) -> Backend:
    """
    Find a model file and load it with the chosen backend.

    A registry model (``model_path`` empty) must have the registry's 1000 classes; a model
    given by ``model_path`` may have any number.

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
    num_classes = None if model_path else models.get_model(model).num_classes
    return create_backend(backend, path, threads=intra_op_threads, num_classes=num_classes)


def image_format(data) -> Optional[str]:
    """
    Tell an encoded image's format from its first bytes.

    :param data: bytes or a uint8 array.
    :return: ``jpeg``, ``png``, or None for anything else.
    """
    head = bytes(memoryview(data)[:8]) if not isinstance(data, np.ndarray) else \
        data.reshape(-1)[:8].tobytes()
    if head[:2] == b'\xff\xd8':
        return 'jpeg'
    if head == b'\x89PNG\r\n\x1a\n':
        return 'png'
    return None


def read_image(path: str) -> Tuple[np.ndarray, str]:
    """
    Read an image file as a frame for :func:`repvit_ros.preprocess.to_nv12`.

    JPEG and PNG files stay encoded and go through the node's CompressedImage path (the same
    decoder, reduced-scale JPEG decoding included); other formats OpenCV reads (BMP, WebP,
    TIFF, PPM) are decoded to BGR.

    :param path: the file.
    :return: (frame, encoding): the bytes as uint8 with ``jpeg``/``png``, or HxWx3 ``bgr8``.
    :raises FrameError: when the file cannot be read or is not an image.
    """
    try:
        with open(path, 'rb') as f:
            buf = np.frombuffer(f.read(), np.uint8)
    except OSError as exc:
        raise FrameError(f'cannot read {path}: {exc.strerror}') from None
    fmt = image_format(buf)
    if fmt is not None:
        return buf, fmt
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if img is None:
        raise FrameError(f'{path} is not an image OpenCV can read')
    return img, 'bgr8'


def list_images(directory: str, recursive: bool = True) -> List[str]:
    """
    List the image files in a directory, sorted, by file name ending (:data:`IMAGE_EXTENSIONS`).

    :param directory: the directory.
    :param recursive: also look in sub-directories.
    :return: paths.
    """
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.')) if recursive else []
        found += [os.path.join(root, f) for f in files
                  if not f.startswith('.') and f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


class Classifier:
    """A RepViT model with its labels: images in, ranked classes out."""

    def __init__(self, model: str = 'm1_0', *, model_path: str = '', backend: str = 'auto',
                 labels_path: str = '', intra_op_threads: int = 1,
                 resize_mode: str = 'letterbox', yuv_range: str = 'full',
                 max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS, bit_depth: int = 16,
                 loaded: Optional[Backend] = None):
        """
        Load the model and its labels.

        :param model: registry size, used when ``model_path`` is empty.
        :param model_path: a .bin or .onnx file, with any number of classes.
        :param backend: ``auto``, ``hbm_runtime``, ``pyeasy_dnn`` or ``onnxruntime``.
        :param labels_path: class names file, one per class in output order; empty: the bundled
            ImageNet-1k names for a 1000-class model, ``class_<i>`` otherwise.
        :param intra_op_threads: ONNX Runtime threads inside one inference.
        :param resize_mode: ``letterbox``, ``center_crop`` or ``stretch``.
        :param yuv_range: NV12 range made from RGB-family frames, ``full`` or ``video``.
        :param max_input_pixels: larger frames are refused before decoding.
        :param bit_depth: significant bits of 16-bit frames.
        :param loaded: an already loaded backend to use (not closed by :meth:`close`).
        :raises repvit_ros.labels.LabelError: when the labels do not fit the model.
        """
        #: things the user should know about the model and labels (the node logs them)
        self.warnings: List[str] = []
        self._owns_backend = loaded is None
        self._backend: Optional[Backend] = loaded if loaded is not None else load_backend(
            model, model_path, backend, intra_op_threads)
        self.labels_path = labels_path
        try:
            self._labels = self._class_names(labels_path)
        except Exception:
            self.close()
            raise
        self._index_ids = [str(i) for i in range(len(self._labels))]
        self.resize_mode = resize_mode
        self.yuv_range = yuv_range
        self.max_input_pixels = max_input_pixels
        self.bit_depth = bit_depth

    def _class_names(self, labels_path: str) -> List[str]:
        backend = self.backend
        num_classes = backend.num_classes
        if not num_classes:  # BPU runtimes report the output size only after a run
            probe = getattr(backend, 'probe_classes', None)
            num_classes = probe() if probe is not None else 0
        if labels_path:
            names = load_labels(labels_path, None)
            if len(names) != num_classes:
                raise LabelError(f'labels file {labels_path} has {len(names)} names but the '
                                 f'model {os.path.basename(backend.path)} outputs '
                                 f'{num_classes} classes: give exactly one name per class, in '
                                 f'output order')
            return names
        if num_classes == IMAGENET_CLASSES:
            return load_labels(None, IMAGENET_CLASSES)
        self.warnings.append(
            f'model {os.path.basename(backend.path)} outputs {num_classes} classes and no '
            f'labels_path is set: naming them class_0..class_{num_classes - 1}; set labels_path '
            f'to a file of {num_classes} names, one per line in output order')
        return [f'class_{i}' for i in range(num_classes)]

    @property
    def backend(self) -> Backend:
        """Return the loaded backend."""
        if self._backend is None:
            raise RuntimeError('classifier used after close()')
        return self._backend

    @property
    def labels(self) -> List[str]:
        """Class names indexed by model output."""
        return self._labels

    @property
    def num_classes(self) -> int:
        """Return the number of classes the model outputs."""
        return len(self._labels)

    @property
    def index_ids(self) -> List[str]:
        """Class indices as decimal strings (``class_id`` of the index format)."""
        return self._index_ids

    def class_ids(self, class_id_format: str) -> List[str]:
        """
        Give the ``class_id`` text of every class index for a ``class_id_format``.

        :param class_id_format: ``label`` (class names) or ``index`` (decimal indices).
        :return: the texts, indexed by model output.
        """
        return self._labels if class_id_format == 'label' else self._index_ids

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
        return to_nv12(frame, encoding, self.input_size, self.resize_mode, self.yuv_range,
                       max_input_pixels=self.max_input_pixels, bit_depth=self.bit_depth)

    def check(self) -> None:
        """
        Classify one grey frame, which also warms the runtime up.

        :raises repvit_ros.backends.BackendError: naming why the model cannot classify a frame
            (a batch size other than 1, outputs that cannot be ranked, a runtime error).
        """
        h, w = self.input_size
        try:
            logits = self.infer(np.full((h * 3 // 2, w), 128, np.uint8))
            self.rank(logits)
        except (LogitsError, ValueError, RuntimeError) as exc:
            raise BackendError(f'model {self.backend.path} cannot classify a frame: '
                               f'{exc}') from None
        if logits.size != self.num_classes:
            raise BackendError(f'model {self.backend.path} cannot classify a frame: it outputs '
                               f'{logits.size} values for one frame, not one per class '
                               f'({self.num_classes}); a batch size other than 1?')

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

    def classify(self, image: Union[np.ndarray, str, os.PathLike, bytes],
                 encoding: str = 'bgr8', k: int = 5,
                 min_score: float = 0.0) -> List[Prediction]:
        """
        Classify one image.

        :param image: a file path (JPEG, PNG or anything OpenCV reads; ``encoding`` is ignored),
            encoded JPEG/PNG bytes, or an array in ``encoding``'s layout: HxWx3 for bgr8
            (OpenCV's order, the default) and rgb8, (H*3/2)xW for nv12, ...
        :param encoding: a sensor_msgs encoding, ``jpeg`` or ``png``.
        :param k: how many classes at most.
        :param min_score: probability threshold.
        :return: the top classes, most probable first.
        :raises repvit_ros.preprocess.FrameError: for an unreadable file or a malformed image.
        """
        if isinstance(image, (str, os.PathLike)):
            image, encoding = read_image(os.fspath(image))
        elif isinstance(image, (bytes, bytearray, memoryview)):
            fmt = image_format(image)
            if fmt is None:
                raise FrameError('bytes given that are not a JPEG or PNG; pass raw pixels as a '
                                 'numpy array with its encoding')
            image, encoding = np.frombuffer(image, np.uint8), fmt
        ranked = self.rank(self.infer(self.to_nv12(image, encoding)), k, min_score)
        return [Prediction(i, self._labels[i], p) for i, p in ranked]

    def close(self) -> None:
        """Release the backend (unless it was passed in already loaded)."""
        if self._backend is not None and self._owns_backend:
            self._backend.close()
        self._backend = None


class ClassifierSlot:
    """
    The classifier in use, swappable between two frames.

    Frames take the current classifier with :meth:`use`; :meth:`swap` puts a new one in its
    place at once, and the old one is closed as soon as the last frame that took it is done
    (at once if none did), so no frame ever runs on a closed model.
    """

    def __init__(self, classifier: Classifier):
        """
        Hold a loaded classifier.

        :param classifier: the classifier to use first.
        """
        self._lock = threading.Lock()
        self._current: Optional[Classifier] = classifier
        self._users: Dict[int, int] = {}
        self._retired: Dict[int, Classifier] = {}

    @property
    def current(self) -> Classifier:
        """Return the classifier new frames get."""
        if self._current is None:
            raise RuntimeError('classifier slot used after close()')
        return self._current

    @contextmanager
    def use(self) -> Iterator[Classifier]:
        """
        Take the current classifier for one frame.

        :return: a context manager giving the classifier.
        """
        with self._lock:
            clf = self.current
            self._users[id(clf)] = self._users.get(id(clf), 0) + 1
        try:
            yield clf
        finally:
            with self._lock:
                self._users[id(clf)] -= 1
                idle = self._users[id(clf)] == 0
                retired = self._retired.pop(id(clf), None) if idle else None
            if retired is not None:
                retired.close()

    def swap(self, classifier: Classifier) -> Classifier:
        """
        Put ``classifier`` in use; close the old one once no frame uses it.

        :param classifier: the new classifier.
        :return: the old one.
        """
        with self._lock:
            old, self._current = self.current, classifier
            busy = self._users.get(id(old), 0) > 0
            if busy:
                self._retired[id(old)] = old
        if not busy:
            old.close()
        return old

    def close(self) -> None:
        """Close the current classifier (frames still running keep theirs until done)."""
        with self._lock:
            clf, self._current = self._current, None
            busy = clf is not None and self._users.get(id(clf), 0) > 0
            if busy:
                self._retired[id(clf)] = clf
        if clf is not None and not busy:
            clf.close()
