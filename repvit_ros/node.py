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
The RepViT classifier node: camera frames in, ``vision_msgs/Classification`` out.

ROS wiring only. The subscription callback wraps each message as a zero-copy frame
(:mod:`repvit_ros.frames`) and hands it to the worker pipeline; workers run the
:class:`~repvit_ros.classifier.Classifier`; results are published in input order with the
input's header. Parameters come from one table (:mod:`repvit_ros.parameters`), the diagnostic
level from :mod:`repvit_ros.health`.
"""

import os
import time
from typing import Any, Dict, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.timer import Timer
from repvit_ros import frames, models, parameters
from repvit_ros.backends import Backend, BackendError
from repvit_ros.camera import CameraInput
from repvit_ros.classifier import Classifier
from repvit_ros.health import EventLog, HealthMonitor, stop_line
from repvit_ros.labels import LabelError
from repvit_ros.memory import release_free_memory
from repvit_ros.pipeline import DropFrame, Job, Pipeline
from repvit_ros.preprocess import FrameError
from std_msgs.msg import Header
from vision_msgs.msg import Classification, ObjectHypothesis

try:  # LabelInfo arrived in vision_msgs 4.1.0; Humble first shipped 4.0.0.
    from vision_msgs.msg import LabelInfo, VisionClass
except ImportError:  # pragma: no cover - depends on the installed vision_msgs
    LabelInfo = VisionClass = None

RELIABLE = ReliabilityPolicy.RELIABLE
SHUTDOWN_TIMEOUT_SEC = 1.5  # frames still in a worker after this are abandoned, counted


class StartupError(RuntimeError):
    """A configuration or model problem that stops the node from starting."""


def descriptor(spec: parameters.Spec) -> ParameterDescriptor:
    """
    Build a parameter's ROS descriptor from its table entry.

    :param spec: the parameter's rules.
    :return: the descriptor (read-only for startup parameters, range, allowed values).
    """
    desc = ParameterDescriptor(name=spec.name, description=spec.description,
                               read_only=not spec.runtime,
                               additional_constraints=spec.constraints())
    if spec.bounds is not None and spec.kind is int:
        desc.integer_range = [IntegerRange(from_value=int(spec.bounds[0]),
                                           to_value=int(spec.bounds[1]), step=1)]
    elif spec.bounds is not None and spec.kind is float:
        desc.floating_point_range = [FloatingPointRange(
            from_value=float(spec.bounds[0]), to_value=float(spec.bounds[1]), step=0.0)]
        desc.dynamic_typing = True  # `ros2 param set max_rate 10` sends an integer
    return desc


class RepVitClassifier(Node):
    """Classify camera frames with RepViT and publish vision_msgs/Classification."""

    def __init__(self, node_name: str = 'repvit_classifier', *,
                 backend: Optional[Backend] = None, **kwargs):
        """
        Create the node: parameters, model, publishers, then the subscription.

        :param node_name: the node's name.
        :param backend: an already loaded backend to use instead of the configured one (the
            node then does not close it); for tools such as the benchmark.
        :param kwargs: passed to :class:`rclpy.node.Node` (namespace, context,
            parameter_overrides, ...).
        :raises StartupError: for invalid parameters, a missing or unloadable model, labels.
        """
        super().__init__(node_name, **kwargs)
        self._settings: Any = None
        self._classifier: Optional[Classifier] = None
        self._pipeline: Optional[Pipeline] = None
        self._input: Optional[CameraInput] = None
        self._label_pub: Optional[Publisher] = None
        self._log = EventLog(self.get_logger().warning, self.get_logger().error)
        self._health = HealthMonitor()
        self._last_accept = 0.0
        self._released = False
        self._abandoned = 0
        self._diag_timer: Optional[Timer] = None
        self._watch_timer: Optional[Timer] = None
        self._cls_pub: Optional[Publisher] = None
        self._diag_pub: Optional[Publisher] = None
        try:
            self._start(backend)
        except (StartupError, parameters.ParameterError, models.ModelError, BackendError,
                LabelError) as exc:
            self._release()
            raise StartupError(str(exc)) from None
        except Exception:
            self._release()
            raise

    def _start(self, backend: Optional[Backend]) -> None:
        values = {s.name: self.declare_parameter(s.name, s.default, descriptor(s)).value
                  for s in parameters.PARAMETERS}
        self._settings = cfg = parameters.settings_from(values)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._classifier = Classifier(
            cfg.model, model_path=cfg.model_path, backend=cfg.backend,
            labels_path=cfg.labels_path, intra_op_threads=cfg.intra_op_threads,
            resize_mode=cfg.resize_mode, yuv_range=cfg.yuv_range,
            max_input_pixels=cfg.max_input_pixels, bit_depth=cfg.bit_depth, loaded=backend)
        self._classifier.check()  # refuses a model that cannot classify a frame; warms it up
        self._cls_pub = self.create_publisher(Classification, 'classification',
                                              QoSProfile(depth=10, reliability=RELIABLE))
        if LabelInfo is not None:
            self._label_pub = self.create_publisher(
                LabelInfo, 'label_info', QoSProfile(depth=1, reliability=RELIABLE,
                                                    durability=DurabilityPolicy.TRANSIENT_LOCAL))
            self._publish_label_info()
        else:
            self.get_logger().info('installed vision_msgs has no LabelInfo (added in 4.1.0): '
                                   'class names are not published')
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._pipeline = Pipeline(self._process, self._deliver, self._on_frame_error,
                                  workers=cfg.threads, queue_size=cfg.queue_size,
                                  error_types=(FrameError,),
                                  name=self.get_fully_qualified_name())
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        try:
            self._input = CameraInput(self, cfg.input_type, cfg.qos_reliability,
                                      self._on_frame, self._on_lost,
                                      lambda: self._pipeline.stats.snapshot()['lost'])
        except ImportError as exc:
            raise StartupError(str(exc)) from None
        self._watch_timer = self.create_timer(0.5, self._input.watch)
        backend = self._classifier.backend
        h, w = self._classifier.input_size
        self.get_logger().info(
            f'RepViT {os.path.basename(backend.path)} on {backend.describe()}; '
            f'{cfg.threads} worker(s), input {cfg.input_type} on {self._input.topic}, '
            f'{cfg.resize_mode} to {w}x{h}, {cfg.yuv_range}-range NV12')
        if self._classifier.synthetic:
            self.get_logger().warning('the model is a synthetic RepViT with untrained weights: '
                                      'its labels are meaningless')
        for warning in self._classifier.warnings:
            self.get_logger().warning(warning)

    # ------------------------------------------------------------------ parameters
    def _on_set_parameters(self, params) -> SetParametersResult:
        settings, reason = parameters.apply_changes(self._settings, params)
        if reason:
            return SetParametersResult(successful=False, reason=reason)
        relabel = settings.min_score != self._settings.min_score
        self._settings = settings
        if relabel and self._label_pub is not None:
            self._publish_label_info()
        return SetParametersResult(successful=True)

    @property
    def settings(self) -> Any:
        """Give the node's current :data:`~repvit_ros.parameters.Settings`."""
        return self._settings

    # ------------------------------------------------------------------ hot path
    def _on_frame(self, msg) -> None:
        """Wrap the frame and hand it on; never waits for inference."""
        now = time.monotonic()
        stats, cfg = self._pipeline.stats, self._settings
        if cfg.max_rate > 0.0 and now - self._last_accept < 1.0 / cfg.max_rate:
            stats.count('received')
            stats.count('dropped', 'rate_limit')
            return
        self._last_accept = now
        try:
            frame = frames.wrap(msg, cfg.input_type)
        except FrameError as exc:
            stats.count('received')
            stats.count('bad')
            self._log.report('bad', exc)
            return
        self._pipeline.submit(frame)

    def _process(self, job: Job) -> Classification:
        frame = job.payload
        clf, cfg, stats = self._classifier, self._settings, self._pipeline.stats
        t0 = time.monotonic()
        nv12 = clf.to_nv12(frame.image, frame.encoding)
        t1 = time.monotonic()
        logits = clf.infer(nv12)
        t2 = time.monotonic()
        stats.latency['preprocess'].add(t1 - t0)
        stats.latency['inference'].add(t2 - t1)
        ids = clf.labels if cfg.class_id_format == 'label' else clf.index_ids
        out = Classification()
        out.header = frame.header if frame.header is not None else Header(stamp=frame.stamp)
        for i, score in clf.rank(logits, cfg.top_k, cfg.min_score):
            hyp = ObjectHypothesis()  # field by field: the keyword constructor costs twice as much
            hyp.class_id = ids[i]
            hyp.score = score
            out.results.append(hyp)
        return out

    def _deliver(self, job: Job, msg: Classification) -> None:
        if not self.context.ok():
            raise DropFrame('shutdown')  # the signal came while this frame was in a worker
        self._cls_pub.publish(msg)

    def _on_lost(self, n: int, why: str) -> None:
        self._pipeline.stats.count('lost', n=n)
        self._log.report('lost', why, n, self._input.topic)

    def _on_frame_error(self, job: Job, exc: Exception) -> None:
        self._log.report('bad' if isinstance(exc, FrameError) else 'failed', exc,
                         where=self._classifier.backend.name)

    # ------------------------------------------------------------------ outputs
    def _publish_label_info(self) -> None:
        msg = LabelInfo()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.class_map = [VisionClass(class_id=i, class_name=n)
                         for i, n in enumerate(self._classifier.labels)]
        msg.threshold = float(self._settings.min_score)
        self._label_pub.publish(msg)

    def diagnostics(self) -> Dict[str, Any]:
        """
        Read the node's counters and latency figures (see :meth:`Pipeline.report`).

        :return: the figures by name.
        """
        return self._pipeline.report()

    def wait_idle(self, timeout: float) -> bool:
        """
        Wait until every frame received so far is published, dropped or counted.

        :param timeout: seconds at most.
        :return: whether that happened.
        """
        return self._pipeline.wait_idle(timeout)

    @property
    def classifier(self) -> Classifier:
        """Give the loaded model with its labels and preprocessing."""
        return self._classifier

    @property
    def input_qos(self) -> Optional[QoSProfile]:
        """Give the camera subscription's QoS, None while there is no subscription."""
        return self._input.qos if self._input is not None else None

    @property
    def publishes_label_info(self) -> bool:
        """Tell whether the installed vision_msgs lets the node publish LabelInfo."""
        return self._label_pub is not None

    def _publish_diagnostics(self) -> None:
        release_free_memory()  # heap pages freed since the last second go back to the system
        snap = self.diagnostics()
        now = time.monotonic()
        level, message, rates = self._health.assess(
            snap, now, self._input.publishers, self._input.seconds_without_frames(),
            subscribed=self._input.qos is not None)
        backend = self._classifier.backend
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: classifier',
                                  hardware_id=backend.name, level=bytes([level]),
                                  message=message)
        values = {'backend': backend.name, 'model': os.path.basename(backend.path),
                  'model_path': backend.path, 'threads': self._settings.threads,
                  'synthetic_model': self._classifier.synthetic, **snap, **rates}
        status.values = [KeyValue(key=k, value=f'{v:.3f}' if isinstance(v, float) else str(v))
                         for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    # ------------------------------------------------------------------ teardown
    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        released, snap, abandoned = [], None, 0
        if self._pipeline is not None:
            abandoned = self._pipeline.close(SHUTDOWN_TIMEOUT_SEC)
            released.append(f'{self._settings.threads} worker(s)')
            snap = self._pipeline.stats.snapshot()
        if self._classifier is not None:
            released.append(f'the {self._classifier.backend.name} backend')
            self._classifier.close()
        if snap is not None:
            # After a signal the context is already shut down and /rosout is gone: log to the
            # console only then, under the node's name, rather than fail to publish.
            logger = self.get_logger() if self.context.ok() else \
                rclpy.logging.get_logger(f'{self.get_logger().name}.shutdown')
            logger.info(stop_line(released, snap, abandoned))
        self._abandoned = abandoned

    @property
    def abandoned(self) -> int:
        """Count the frames given up in a worker at shutdown (their threads may still run)."""
        return self._abandoned

    def destroy_node(self) -> None:
        """Stop the workers, close the backend, then destroy the node."""
        self._release()
        super().destroy_node()
