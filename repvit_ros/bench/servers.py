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
Reference servers for measurements: the node on stand-in backends, and a bare subscriber.

``python -m repvit_ros.bench.servers NAME --ros-args ...`` (a name of :data:`SERVERS`); started by
:class:`~repvit_ros.bench.harness.NodeProcess`. ``fixed`` is the classifier node on
:class:`FixedBackend` (fixed logits, returned at once): what the node itself costs. ``emulated``
is the classifier node on :class:`EmulatedBackend`, a stand-in for the RDK X5's BPU: each
inference takes ``emulated_ms`` (default 2 ms, m1_0 on the X5) with the GIL released, and with
``emulated_model`` an ONNX model is loaded beside and kept alive, unused, so that the process's
resident memory is that of a node holding a real model. ``bare`` is a plain rclpy subscriber
that echoes each frame's header as an empty Classification: the Python-ROS limit.
``bare_jpeg`` is the bare subscriber for CompressedImage JPEGs that also decodes each one at
the reduced scale the node decodes it at (:func:`repvit_ros.preprocess.jpeg_reduction` for the
model input and ``resize_mode``): the Python-ROS limit for a node that must decode JPEGs.
``serial`` and ``serial_emulated`` do the node's whole per-frame work, on the ``fixed`` and
``emulated`` backends, inside the subscription callback (:func:`serve_serial`): what any
Python subscriber doing this job pays at least, the floor of the node's own cost.
``container`` is the component container that can also load the ``emulated`` node
(:class:`EmulatedClassifier`); ``frame_source`` runs the frame source node alone.
"""

import sys
import time
from typing import Any, Dict, List, Optional

import cv2
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from repvit_ros import frames
from repvit_ros.backends import Backend, create_backend
from repvit_ros.bench.frame_source import FrameSource
from repvit_ros.container import main as container_main
from repvit_ros.frames import message_class
from repvit_ros.memory import tune_allocator
from repvit_ros.node import RepVitClassifier
from repvit_ros.outputs import classification
from repvit_ros.parameters import PARAMETERS, settings_from, SPECS
from repvit_ros.preprocess import (declared_size, FrameError, jpeg_decode_flag,
                                   jpeg_reduction)
from repvit_ros.process import executor_for, spin_until_shutdown, starting
from repvit_ros.work import descriptor, load_classifier
from vision_msgs.msg import Classification

#: (package, plugin) under which the bench container loads :class:`EmulatedClassifier`
EMULATED_PLUGIN = ('repvit_ros', 'repvit_ros::EmulatedClassifier')


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


class EmulatedBackend(FixedBackend):
    """
    Stand in for a BPU: fixed logits after a fixed time during which the GIL is released.

    The BPU runs a model while the calling thread waits in C with the GIL released, so other
    workers and the node's callbacks go on meanwhile; ``time.sleep`` does the same here.

    :param seconds: the time one inference takes.
    :param model_path: an ONNX model to load beside and keep alive, unused (its resident memory
        is what the measurement wants); empty: none.
    :param num_classes: logits returned.
    """

    name = 'emulated'

    def __init__(self, seconds: float = 0.002, model_path: str = '', num_classes: int = 1000):
        super().__init__(num_classes)
        if seconds < 0:
            raise ValueError(f'emulated inference time {seconds} s is negative')
        self.seconds = seconds
        self.path = f'(none: {seconds * 1e3:g} ms emulated inference)'
        self._model: Optional[Backend] = None
        if model_path:
            self._model = create_backend('onnxruntime', model_path)
            self.path = f'{model_path} (loaded, unused: {seconds * 1e3:g} ms emulated inference)'

    @property
    def model_loaded(self) -> bool:
        """Tell whether a real model is held in memory beside."""
        return self._model is not None

    def infer(self, nv12: np.ndarray) -> np.ndarray:
        """
        Check the frame, wait the inference time with the GIL released, return the logits.

        :param nv12: the model input, checked as a real backend checks it.
        :return: the fixed logits.
        """
        self._check_input(nv12)
        time.sleep(self.seconds)
        return self._logits

    def close(self) -> None:
        """Release the model held beside."""
        if self._model is not None:
            self._model.close()
            self._model = None


def _serve(node, plain_rclpy: bool = False) -> int:
    # The reference subscribers (bare, serial) spin on rclpy's own executor, as any plain
    # rclpy subscriber does; the node on the one its executable uses.
    executor = SingleThreadedExecutor(context=node.context) if plain_rclpy else \
        executor_for(node)
    executor.add_node(node)

    def cleanup() -> None:  # after rclpy's signal handling, as the executables do
        executor.shutdown(0)
        node.destroy_node()

    with starting(node.get_logger(), cleanup) as code:
        spin_until_shutdown(node, executor)
    return code[0]


def serve_fixed(argv: List[str]) -> int:
    """
    Run the classifier node on the do-nothing backend.

    :param argv: ROS arguments.
    :return: exit code.
    """
    rclpy.init(args=argv)
    return _serve(RepVitClassifier(backend=FixedBackend()))


def emulated_settings() -> Dict[str, Any]:
    """
    Read the emulated backend's parameters, ``emulated_ms`` and ``emulated_model``.

    They come as ROS parameters (``-p emulated_ms:=2.0``) like the node's own; a short-lived
    node reads them after ``rclpy.init`` took the arguments, since the classifier declares only
    its own table.

    :return: ``seconds`` and ``model_path`` for :class:`EmulatedBackend`.
    """
    reader = rclpy.create_node('repvit_emulated_backend_settings',
                               start_parameter_services=False)
    loose = ParameterDescriptor(dynamic_typing=True)  # emulated_ms:=2 as well as 2.0
    try:
        ms = float(reader.declare_parameter('emulated_ms', 2.0, loose).value)
        model = str(reader.declare_parameter('emulated_model', '', loose).value)
    finally:
        reader.destroy_node()
    return {'seconds': ms / 1e3, 'model_path': model}


class EmulatedClassifier(RepVitClassifier):
    """
    The classifier on the emulated BPU backend, as a node class a component container loads.

    ``emulated_ms`` and ``emulated_model`` come among its parameter overrides, as the
    container hands a load request's parameters to the node.

    :param node_name: the node's name.
    :param kwargs: passed to :class:`~repvit_ros.node.RepVitClassifier`.
    """

    def __init__(self, node_name: str = 'repvit_classifier', **kwargs):
        given = {p.name: p.value for p in kwargs.get('parameter_overrides') or []}
        self._emulated = EmulatedBackend(float(given.get('emulated_ms', 2.0)) / 1e3,
                                         str(given.get('emulated_model', '')))
        try:
            super().__init__(node_name, backend=self._emulated, **kwargs)
        except BaseException:
            self._emulated.close()
            raise

    def destroy_node(self) -> None:
        """Destroy the node, then release the emulated backend's model."""
        super().destroy_node()
        self._emulated.close()


def serve_container(argv: List[str]) -> int:
    """
    Run the component container, able to load the emulated classifier too.

    The product container (:func:`repvit_ros.container.main`), with
    ``repvit_ros::EmulatedClassifier`` loadable besides the registered nodes (not registered:
    it is a measuring tool, not a product node).

    :param argv: the container's ROS arguments.
    :return: exit code.
    """
    return container_main(argv, plugins={EMULATED_PLUGIN: EmulatedClassifier})


def serve_frame_source(argv: List[str]) -> int:
    """
    Run the frame source node (:class:`~repvit_ros.bench.frame_source.FrameSource`) alone.

    :param argv: ROS arguments (its parameters).
    :return: exit code.
    """
    rclpy.init(args=argv)
    return _serve(FrameSource())


def serve_emulated(argv: List[str]) -> int:
    """
    Run the classifier node on the emulated BPU backend.

    :param argv: ROS arguments, with ``emulated_ms`` and ``emulated_model`` among them.
    :return: exit code.
    """
    rclpy.init(args=argv)
    backend = EmulatedBackend(**emulated_settings())
    try:
        return _serve(RepVitClassifier(backend=backend))
    finally:
        backend.close()


# The bare subscribers' frame QoS: the sensor-data history, reliable as the feeders publish.
_FRAME_QOS = QoSProfile(history=qos_profile_sensor_data.history,
                        depth=qos_profile_sensor_data.depth,
                        reliability=ReliabilityPolicy.RELIABLE)


def serve_bare(argv: List[str]) -> int:
    """
    Run a bare rclpy subscriber: each frame's header back as an empty Classification.

    :param argv: ROS arguments.
    :return: exit code.
    """
    rclpy.init(args=argv)
    node = rclpy.create_node('repvit_classifier')
    node.declare_parameter('input_type', 'image')
    kind = node.get_parameter('input_type').value
    pub = node.create_publisher(Classification, 'classification',
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    node.create_subscription(message_class(kind), 'image',
                             lambda msg: pub.publish(Classification(header=msg.header)),
                             _FRAME_QOS)
    return _serve(node, plain_rclpy=True)


# The node's default resize_mode.
_RESIZE_MODE = SPECS['resize_mode'].default


def decode_like_node(data, size=FixedBackend.input_size, mode: str = _RESIZE_MODE) -> np.ndarray:
    """
    Decode a JPEG at the reduced scale the node decodes it at, and nothing more.

    The scale comes from the JPEG header's size through the node's own choice
    (:func:`repvit_ros.preprocess.jpeg_reduction`); none of the node's checks are made.

    :param data: the JPEG bytes.
    :param size: the model input (height, width).
    :param mode: the node's ``resize_mode``.
    :return: the decoded BGR image (None when OpenCV cannot decode it).
    """
    buf = np.frombuffer(data, np.uint8)
    w, h = declared_size(buf, 'jpeg')
    return cv2.imdecode(buf, jpeg_decode_flag(jpeg_reduction(w, h, size[1], size[0], mode)))


def serve_bare_jpeg(argv: List[str]) -> int:
    """
    Run a bare rclpy subscriber to JPEGs that decodes each like the node, then echoes its header.

    A JPEG that cannot be decoded gets no result (like a bad frame at the node).

    :param argv: ROS arguments (``resize_mode``, default the node's).
    :return: exit code.
    """
    rclpy.init(args=argv)
    node = rclpy.create_node('repvit_classifier')
    node.declare_parameter('input_type', 'compressed')
    mode = node.declare_parameter('resize_mode', _RESIZE_MODE).value
    pub = node.create_publisher(Classification, 'classification',
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))

    def on_frame(msg) -> None:
        try:
            img = decode_like_node(msg.data, mode=mode)
        except (FrameError, cv2.error):
            return
        if img is not None:
            pub.publish(Classification(header=msg.header))
    node.create_subscription(message_class('compressed'), 'image', on_frame, _FRAME_QOS)
    return _serve(node, plain_rclpy=True)


def serve_serial(argv: List[str], emulated: bool = False) -> int:
    """
    Run the node's per-frame work inside one rclpy callback: the floor of any Python subscriber.

    The same raw subscription and frame reading (:func:`repvit_ros.frames.wrap`), the same
    :class:`~repvit_ros.classifier.Classifier` steps (to_nv12, infer, rank) on the same stand-in
    backend, the same Classification (:func:`repvit_ros.outputs.classification`) published from
    the callback; nothing else: no workers, queue, counters, health, timers or diagnostics.
    Bad frames get no result. It takes the classifier's parameters (``threads`` and the others
    that only the node uses are read and ignored).

    :param argv: ROS arguments (the node's parameters; ``emulated_ms`` and ``emulated_model``
        with ``emulated``).
    :param emulated: the emulated BPU backend instead of the do-nothing one.
    :return: exit code.
    """
    rclpy.init(args=argv)
    backend = EmulatedBackend(**emulated_settings()) if emulated else FixedBackend()
    node = rclpy.create_node('repvit_classifier')
    cfg = settings_from({s.name: node.declare_parameter(s.name, s.default, descriptor(s)).value
                         for s in PARAMETERS})
    clf = load_classifier(cfg, backend)
    ids = clf.class_ids(cfg.class_id_format)
    kind = cfg.input_type
    pub = node.create_publisher(Classification, 'classification',
                                QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))

    def on_frame(msg) -> None:
        try:
            frame = frames.wrap(msg, kind)
            nv12 = clf.to_nv12(frame.image, frame.encoding)
        except FrameError:
            return
        pub.publish(classification(frame, clf.rank(clf.infer(nv12), cfg.top_k, cfg.min_score),
                                   ids))
    node.create_subscription(message_class(kind), 'image', on_frame, _FRAME_QOS,
                             raw=kind in frames.SERIALIZED_TYPES)
    try:
        return _serve(node, plain_rclpy=True)
    finally:
        clf.close()
        backend.close()


SERVERS = {'fixed': serve_fixed, 'emulated': serve_emulated, 'bare': serve_bare,
           'bare_jpeg': serve_bare_jpeg, 'serial': serve_serial,
           'serial_emulated': lambda argv: serve_serial(argv, emulated=True),
           'container': serve_container, 'frame_source': serve_frame_source}


def main(argv: Optional[List[str]] = None) -> int:
    """
    Run one reference server.

    :param argv: a server name (a key of :data:`SERVERS`), then ROS arguments.
    :return: exit code.
    """
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SERVERS:
        print(f'usage: python -m repvit_ros.bench.servers {{{",".join(SERVERS)}}} --ros-args ...',
              file=sys.stderr)
        return 2
    # The same allocator advantage as the classifier executable: the comparison is about the
    # node's own work.
    tune_allocator()
    return SERVERS[argv[0]](argv[1:])


if __name__ == '__main__':
    sys.exit(main())
