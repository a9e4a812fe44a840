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
The classifier's work on any rclpy node class, in lifecycle steps: :class:`ClassifierWork`.

ROS wiring only, shared by the plain node (:mod:`repvit_ros.node`) and the managed one
(:mod:`repvit_ros.managed`); it coordinates. Each camera (:mod:`repvit_ros.camera`) has one
route, decided when the node is configured: whole frames (:class:`~repvit_ros.outputs.
WholeFrames`) or a detector's regions (:class:`~repvit_ros.detections.Regions`). The subscription
callback wraps each message as a zero-copy frame (:mod:`repvit_ros.frames`) and hands it to the
camera's route, which submits it to the worker pipeline (:mod:`repvit_ros.pipeline`); a worker
runs the route's processing with the :class:`~repvit_ros.classifier.Classifier` in use, and the
route publishes the result in input order with the input's header. Parameters come from one
table (:mod:`repvit_ros.parameters`), the diagnostic level from :mod:`repvit_ros.health`.
"""


from dataclasses import replace
import os
import sys
import threading
import time
from typing import Any, Dict, Optional, Tuple

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.exceptions import (InvalidParameterTypeException, InvalidParameterValueException,
                              NameValidationException)
try:  # Iron and newer; Humble has the same name in rclpy.qos_event
    from rclpy.event_handler import PublisherEventCallbacks
except ImportError:
    from rclpy.qos_event import PublisherEventCallbacks
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.timer import Timer
from rclpy.validate_topic_name import validate_topic_name
from repvit_ros import frames, models, parameters
from repvit_ros.backends import Backend, BackendError
from repvit_ros.camera import Camera
from repvit_ros.classifier import Classifier, ClassifierSlot
from repvit_ros.detections import detections_topics, Regions
from repvit_ros.errors import StartupError
from repvit_ros.health import EventLog, HealthMonitor, stop_line
from repvit_ros.memory import release_free_memory
from repvit_ros.outputs import Outputs, WholeFrames
from repvit_ros.parameters import Settings
from repvit_ros.pipeline import DropFrame, Job, Pipeline
from repvit_ros.preprocess import FrameError
from repvit_ros.process import without_sources

try:  # LabelInfo arrived in vision_msgs 4.1.0; Humble first shipped 4.0.0.
    from vision_msgs.msg import LabelInfo, VisionClass
except ImportError:  # pragma: no cover - depends on the installed vision_msgs
    LabelInfo = VisionClass = None

RELIABLE = ReliabilityPolicy.RELIABLE
SHUTDOWN_TIMEOUT_SEC = 1.5  # frames still in a worker after this are abandoned, counted


def startup_error(exc: Exception) -> StartupError:
    """
    Turn a reason not to start into the one line the user reads.

    A parameter's wrong value names the ``--params-file`` it came from, when it came from one.

    :param exc: the reason.
    :return: the error to raise.
    """
    name = getattr(exc, 'name', None)
    where = parameters.params_file_setting(name, sys.argv) if name else None
    return StartupError(f'{exc}, in {where}' if where else str(exc))


#: Event callbacks of every publisher the node creates: none. rclpy otherwise gives each
#: publisher an event handler per QoS event it warns about (Humble: incompatible QoS; Iron and
#: newer also incompatible type), and the executor rebuilds its wait set with every handler in it
#: on every wake-up, i.e. for every frame: the node's 5 publishers had 10 such handlers here,
#: about a fifth of its CPU per frame (measured in-process: 2.2 -> 1.75 ms per 960x544 nv12
#: frame with a 2 ms emulated BPU). A subscriber with incompatible QoS is still told, by its own
#: subscription's handler (rclpy and rclcpp install one by default); the camera subscription
#: keeps its handlers (incompatible QoS, lost messages).
QUIET_PUBLISHER = PublisherEventCallbacks(use_default_callbacks=False)


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


def declare_parameters(node: Any) -> None:
    """
    Declare every parameter of the table on a node, with the value given to the node.

    A list parameter is a string array even when empty. rclpy types an empty list as a byte
    array (``Parameter('image_topics', value=[])`` from Python) and rcl's YAML parser gives
    ``[]`` in a params file no type at all (rclpy hands over NOT_SET): so a list is declared
    with dynamic typing, set to its typed default when it was given empty or not at all, and
    made read-only only afterwards, since rclpy refuses to set a read-only parameter. The
    descriptor rclpy keeps, and ``describe_parameter`` returns, is the very object passed at
    declaration (Humble and Kilted; test_params_file pins it).

    :param node: an rclpy node.
    :raises ParameterError: naming the parameter whose given value is refused and why.
    """
    for spec in parameters.PARAMETERS:
        desc = descriptor(spec)
        try:
            if spec.kind is tuple:
                desc.read_only, desc.dynamic_typing = False, True
                node.declare_parameter(spec.name, None, desc)
            else:
                node.declare_parameter(spec.name, spec.default, desc)
        except (InvalidParameterTypeException, InvalidParameterValueException) as exc:
            # Declared again without a type, only to read the refused value for the message.
            given = node.declare_parameter(spec.name, None,
                                           ParameterDescriptor(dynamic_typing=True)).value
            reason = parameters.check(spec, given)[1] or str(exc)
            raise parameters.ParameterError(f'parameter {reason}', spec.name) from None
        given = node.get_parameter_or(spec.name).value
        if spec.kind is tuple and (given is None or (hasattr(given, '__len__') and
                                                     len(given) == 0)):
            result = node.set_parameters([Parameter(spec.name, Parameter.Type.STRING_ARRAY,
                                                    list(spec.default))])[0]
            assert result.successful, result.reason
        else:  # every rule, at start: a managed node must not wait for configure to say so
            reason = parameters.check(spec, given)[1]
            if reason:
                raise parameters.ParameterError(f'parameter {reason}', spec.name)
        node.describe_parameter(spec.name).read_only = not spec.runtime


def load_classifier(cfg: Settings, loaded: Optional[Backend] = None) -> Classifier:
    """
    Load the model the settings name and check that it classifies a frame (warming it up).

    :param cfg: the node's settings.
    :param loaded: an already loaded backend to use instead.
    :return: the classifier.
    """
    clf = Classifier(cfg.model, model_path=cfg.model_path, backend=cfg.backend,
                     labels_path=cfg.labels_path, intra_op_threads=cfg.intra_op_threads,
                     resize_mode=cfg.resize_mode, yuv_range=cfg.yuv_range,
                     max_input_pixels=cfg.max_input_pixels, bit_depth=cfg.bit_depth,
                     loaded=loaded)
    try:
        clf.check()
    except BackendError:
        clf.close()
        raise
    return clf


#: The parameters that name topics; image_topics names several.
TOPIC_PARAMETERS = ('image_topics', 'detections_topic', 'perception_topic')


def check_names(node: Any, values: Dict[str, Any]) -> Settings:
    """
    Check the parameters' values, topic names first with ROS's own rules (rcl's, via rclpy).

    :param node: the node (it resolves relative names, remappings applied).
    :param values: parameter name -> declared value.
    :return: the settings.
    :raises ParameterError: naming the parameter, the name and the rule it breaks.
    """
    for name in TOPIC_PARAMETERS:
        value = values[name]
        for topic in (value if isinstance(value, (list, tuple)) else (value,) if value else ()):
            try:
                validate_topic_name(topic)
                node.resolve_topic_name(topic)
            except (NameValidationException, RuntimeError) as exc:  # RuntimeError: rcl's
                rule = without_sources(str(exc).splitlines()[0].split(': ', 1)[-1].rstrip(':'))
                raise parameters.ParameterError(
                    f'parameter {name}: {topic!r} is not a valid ROS topic name: {rule}',
                    name) from None
    cfg = parameters.settings_from(values)
    resolved = [node.resolve_topic_name(t) for t in cfg.image_topics]
    twice = sorted({t for t in resolved if resolved.count(t) > 1})
    if twice:
        raise parameters.ParameterError(
            f'parameter image_topics names {", ".join(twice)} more than once', 'image_topics')
    return cfg


def check_model_choice(cfg: Settings) -> None:
    """
    Check at once what can be checked of a model before loading it: its file and labels file.

    :param cfg: the settings that name the model.
    :raises StartupError: when the model file or labels file is missing or not a file.
    """
    models.resolve_model_path(cfg.model, cfg.model_path)
    if cfg.labels_path:
        path = os.path.expanduser(cfg.labels_path)
        if not os.path.isfile(path):
            raise StartupError(f'labels file {path} '
                               f'{"is a directory" if os.path.isdir(path) else "does not exist"}')


class ClassifierWork:
    """
    What the classifier does on any rclpy node class, in lifecycle steps.

    configure: read the parameters, load the model, create the publishers and workers;
    activate: subscribe, start the timers; deactivate: unsubscribe, stop the timers, let the
    frames in work finish (their results are dropped, counted); cleanup: release workers,
    model and publishers. Model parameters may change at any time (:meth:`_on_set_parameters`).
    """

    def _init_work(self) -> None:
        """Declare the parameters from the table and the node's state (no model yet)."""
        self._settings: Optional[Settings] = None
        self._model: Optional[ClassifierSlot] = None
        self._pipeline: Optional[Pipeline] = None
        self._cameras: Dict[str, Camera] = {}
        self._sync_timer: Optional[Timer] = None
        self._label_pub: Optional[Publisher] = None
        self._diag_pub: Optional[Publisher] = None
        self._diag_timer: Optional[Timer] = None
        self._watch_timer: Optional[Timer] = None
        self._log = EventLog(self.get_logger().warning, self.get_logger().error)
        self._total_health = HealthMonitor()
        self._active = False
        self._abandoned = 0
        # A model switch loads the new model on this thread while the old one keeps working;
        # the lock serialises changes of the settings (parameter callback, switch thread).
        self._switch: Optional[threading.Thread] = None
        self._settings_lock = threading.Lock()
        try:
            declare_parameters(self)
            check_names(self, self._declared_values())
        except parameters.ParameterError as exc:
            raise startup_error(exc) from None
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def _declared_values(self) -> Dict[str, Any]:
        return {s.name: self.get_parameter(s.name).value for s in parameters.PARAMETERS}

    def _publisher(self, msg_type: type, topic: str, qos: Any) -> Publisher:
        return self.create_publisher(msg_type, topic, qos, event_callbacks=QUIET_PUBLISHER)

    # ------------------------------------------------------------------ lifecycle steps
    def _configure(self, backend: Optional[Backend] = None) -> None:
        """
        Read the parameters, load and check the model, create publishers and workers.

        :param backend: an already loaded backend to use (tools), else the configured model.
        :raises StartupError: naming what is wrong; nothing stays allocated then.
        """
        try:
            self._settings = cfg = check_names(self, self._declared_values())
            frames.message_class(cfg.input_type)
            self._model = ClassifierSlot(load_classifier(cfg, backend))
        except (ImportError, StartupError) as exc:
            self._cleanup()
            self._settings = None  # unconfigured: a later configure starts afresh
            raise startup_error(exc) from None
        self._pipeline = Pipeline(self._process, self._deliver, self._on_frame_error,
                                  workers=cfg.threads, queue_size=cfg.queue_size,
                                  error_types=(FrameError,),
                                  name=self.get_fully_qualified_name())
        try:
            self._add_cameras(cfg)
        except (ImportError, ValueError) as exc:
            self._pipeline.close(0.0)
            self._pipeline = None  # no frame ran on it: nothing to report when cleaning up
            self._cleanup()
            self._settings = None
            raise StartupError(str(exc)) from None
        if LabelInfo is not None:
            self._label_pub = self._publisher(
                LabelInfo, 'label_info', QoSProfile(depth=1, reliability=RELIABLE,
                                                    durability=DurabilityPolicy.TRANSIENT_LOCAL))
        else:
            self.get_logger().info('installed vision_msgs has no LabelInfo (added in 4.1.0): '
                                   'class names are not published')
        self._diag_pub = self._publisher(DiagnosticArray, '/diagnostics', 10)
        self._describe_model()

    def _add_cameras(self, cfg: Settings) -> None:
        """Create each camera with its outputs and its route, whole frames or regions."""
        if cfg.image_topics:
            names = parameters.camera_names(cfg.image_topics, cfg.camera_names)
            topics = dict(zip(names, cfg.image_topics))
        else:
            topics = {'': 'image'}
        detections = detections_topics(cfg.detections_topic, list(topics)) \
            if cfg.detections_topic else {}
        for name, topic in topics.items():
            prefix = f'{name}/' if name else ''
            outputs = Outputs(self._publisher, cfg, prefix)
            if name in detections:
                route = Regions(self._pipeline, name, self._publisher, cfg, detections[name],
                                prefix, outputs)
            else:
                route = WholeFrames(self._pipeline, name, outputs)
            self._cameras[name] = Camera(name, topic, outputs, route)

    def _activate(self) -> None:
        """Subscribe to the camera and start the timers; publish LabelInfo."""
        cfg = self._settings
        self._active = True
        for cam in self._cameras.values():
            cam.subscribe(self, cfg.input_type, cfg.qos_reliability, self._on_frame,
                          self._on_lost)
        if cfg.detections_topic:  # nothing waits much longer than sync_timeout
            self._sync_timer = self.create_timer(min(0.1, cfg.sync_timeout / 4),
                                                 self._expire_waiting)
        self._watch_timer = self.create_timer(0.5, self._watch_cameras)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        if self._label_pub is not None:
            self._publish_label_info()

    def _deactivate(self, timeout: float = SHUTDOWN_TIMEOUT_SEC) -> None:
        """Unsubscribe and stop the timers; frames in work finish, their results dropped."""
        self._active = False
        for timer in (self._watch_timer, self._diag_timer, self._sync_timer):
            if timer is not None:
                self.destroy_timer(timer)
        self._watch_timer = self._diag_timer = self._sync_timer = None
        for cam in self._cameras.values():
            cam.close()  # frames and detections still waiting are counted 'shutdown'
        if self._pipeline is not None:
            self._pipeline.wait_idle(timeout)

    def _cleanup(self) -> None:
        """Release the workers, the model and the publishers; log the final counts."""
        self.wait_for_switch(SHUTDOWN_TIMEOUT_SEC)  # a model still loading closes it after
        released, snap = [], None
        if self._pipeline is not None:
            self._abandoned = self._pipeline.close(SHUTDOWN_TIMEOUT_SEC)
            released.append(f'{self._settings.threads} worker(s)')
            snap = self._pipeline.stats.snapshot()
            self._pipeline = None
        with self._settings_lock:
            model, self._model = self._model, None  # a switch loading now closes its model
        if model is not None:
            released.append(f'the {model.current.backend.name} backend')
            model.close()
        pubs = [self._label_pub, self._diag_pub]
        for cam in self._cameras.values():
            pubs += cam.release()
        for pub in pubs:
            if pub is not None and self.context.ok():
                self.destroy_publisher(pub)
        self._cameras = {}
        self._label_pub = self._diag_pub = None
        if snap is not None:
            # After a signal the context is already shut down and /rosout is gone: log to the
            # console only then, under the node's name, rather than fail to publish.
            logger = self.get_logger() if self.context.ok() else \
                rclpy.logging.get_logger(f'{self.get_logger().name}.shutdown')
            logger.info(stop_line(released, snap, self._abandoned))

    def _describe_model(self) -> None:
        cfg, clf = self._settings, self.classifier
        h, w = clf.input_size
        self.get_logger().info(
            f'RepViT {os.path.basename(clf.backend.path)} on {clf.backend.describe()}; '
            f'{cfg.threads} worker(s), input {cfg.input_type} on '
            f'{", ".join(self.resolve_topic_name(c.topic) for c in self._cameras.values())}, '
            f'{cfg.resize_mode} to {w}x{h}, {cfg.yuv_range}-range NV12')
        if cfg.detections_topic:
            self.get_logger().info(
                'classifying detector regions from ' + ', '.join(
                    self.resolve_topic_name(c.route.topic) for c in self._cameras.values()) +
                f' (frames paired by stamp within {cfg.sync_timeout:g} s, padding '
                f'{cfg.roi_padding:g}, at most {cfg.max_rois} boxes per frame)')
        if clf.synthetic:
            self.get_logger().warning('the model is a synthetic RepViT with untrained weights: '
                                      'its labels are meaningless')
        for warning in clf.warnings:
            self.get_logger().warning(warning)

    # ------------------------------------------------------------------ parameters
    def _on_set_parameters(self, params) -> SetParametersResult:
        with self._settings_lock:
            current = self._settings or parameters.settings_from(
                {s.name: s.default for s in parameters.PARAMETERS})  # not configured: rules
            settings, reason = parameters.apply_changes(current, params)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            if self._settings is None:  # not configured: the values are read on configure
                return SetParametersResult(successful=True)
            old = self._settings
            model = {n: getattr(settings, n) for n in parameters.MODEL_CHOICE}
            if self._model is not None and any(v != getattr(old, n) for n, v in model.items()):
                reason = self._start_switch(settings)
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
                # The model in use is the old one until the new one is swapped in.
                settings = replace(settings, **{n: getattr(old, n) for n in model})
            self._settings = settings
        if settings.min_score != old.min_score and self._label_pub is not None:
            self._publish_label_info()
        return SetParametersResult(successful=True)

    # ------------------------------------------------------------------ model switch
    def _start_switch(self, settings: Settings) -> Optional[str]:
        """
        Start loading the model ``settings`` name, beside the one in use; called locked.

        The old model keeps classifying every frame while the new one loads on its own
        thread; it is swapped in between two frames. What can be checked at once (the model
        file, the labels file) refuses the change with the reason; a model that then fails to
        load leaves the old one in use and sets the parameters back, with an ERROR line.

        :param settings: the settings with the new model choice.
        :return: the reason the switch is refused now, or None when it started.
        """
        if self._switch is not None:
            return 'model not switched: another model is still loading; set it again when ' \
                   'that one is in use'
        try:
            check_model_choice(settings)
        except StartupError as exc:
            return f'model not switched, the old one keeps running: {exc}'
        self._switch = threading.Thread(target=self._switch_model, args=(settings,),
                                        name='repvit_model_switch', daemon=True)
        self._switch.start()
        return None

    def _switch_model(self, settings: Settings) -> None:
        started = time.monotonic()
        before = self._pipeline.stats.snapshot()['published'] if self._pipeline else 0
        try:
            new = load_classifier(settings)
        except Exception as exc:  # noqa: B902 - whatever the load raises, the old model stays
            self._switch_failed(exc)
            return
        with self._settings_lock:
            self._switch = None
            if self._model is None:  # cleaned up while it loaded
                new.close()
                return
            labels_changed = new.labels != self.classifier.labels
            self._model.swap(new)
            self._settings = replace(self._settings, **{
                n: getattr(settings, n) for n in parameters.MODEL_CHOICE})
        during = (self._pipeline.stats.snapshot()['published'] - before) if self._pipeline \
            else 0
        self.get_logger().info(f'model switched in {time.monotonic() - started:.1f} s; the '
                               f'old model classified {during} frame(s) meanwhile')
        self._describe_model()
        if labels_changed and self._label_pub is not None:
            self._publish_label_info()

    def _switch_failed(self, exc: Exception) -> None:
        with self._settings_lock:
            self._switch = None
            old = self._settings
        if old is None:
            return
        self.get_logger().error(f'model not switched, the old one keeps running: {exc}')
        # The parameters read back the model in use again (the callback sees no change).
        self.set_parameters([Parameter(n, value=getattr(old, n))
                             for n in parameters.MODEL_CHOICE])

    def wait_for_switch(self, timeout: float) -> bool:
        """
        Wait until no model is loading.

        :param timeout: seconds at most.
        :return: whether none is.
        """
        switch = self._switch
        if switch is not None:
            switch.join(timeout)
        return self._switch is None

    @property
    def settings(self) -> Optional[Settings]:
        """Give the node's current configuration, None until it is configured."""
        return self._settings

    # ------------------------------------------------------------------ hot path
    def _on_frame(self, cam: Camera, msg) -> None:
        """Wrap the frame and hand it to the camera's route; never waits for inference."""
        now = time.monotonic()
        cfg = self._settings
        if cfg.max_rate > 0.0 and now - cam.last_accept < 1.0 / cfg.max_rate:
            cam.route.stats.refused('dropped', 'rate_limit')
            return
        cam.last_accept = now
        try:
            frame = frames.wrap(msg, cfg.input_type)
        except FrameError as exc:
            cam.route.stats.refused('bad')
            self._log.report('bad', exc)
            return
        cam.route.accept(frame)

    def _process(self, job: Job) -> Any:
        route = self._cameras[job.source].route
        with self._model.use() as clf:  # a model switch takes effect between two frames
            return route.process(job.payload, clf, self._settings)

    def _deliver(self, job: Job, result: Any) -> None:
        if not self._active or not self.context.ok():
            raise DropFrame('shutdown')  # stopped or deactivated while this frame was in work
        try:
            self._cameras[job.source].route.publish(result, self.classifier.labels)
        except Exception:  # noqa: B902 - a signal shut the context down after the check
            if self.context.ok():
                raise
            raise DropFrame('shutdown') from None

    def _expire_waiting(self) -> None:
        for cam in list(self._cameras.values()):
            cam.route.expire()

    def _on_lost(self, cam: Camera, n: int, why: str) -> None:
        cam.route.stats.count('lost', n=n)
        self._log.report('lost', why, n, self.resolve_topic_name(cam.topic))

    def _on_frame_error(self, job: Job, exc: Exception) -> None:
        self._log.report('bad' if isinstance(exc, FrameError) else 'failed', exc,
                         where=self._settings.backend)

    # ------------------------------------------------------------------ outputs
    def _publish_label_info(self) -> None:
        msg = LabelInfo()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.class_map = [VisionClass(class_id=i, class_name=n)
                         for i, n in enumerate(self.classifier.labels)]
        msg.threshold = float(self._settings.min_score)
        self._label_pub.publish(msg)

    def diagnostics(self, camera: Optional[str] = None) -> Dict[str, Any]:
        """
        Read the node's counters and latency figures (see :meth:`Pipeline.report`).

        :param camera: a camera name (of ``camera_names``), or None for the node's total.
        :return: the figures by name.
        """
        snap = self._pipeline.report(camera)
        pictures: Dict[str, int] = {}
        for cam in self._cameras.values():
            if camera is None or cam.name == camera:
                for key, value in cam.report().items():
                    pictures[key] = pictures.get(key, 0) + value
        snap.update(pictures)
        return snap

    @property
    def cameras(self) -> Tuple[str, ...]:
        """Give the camera names (one empty name without ``image_topics``)."""
        return tuple(self._cameras)

    def wait_idle(self, timeout: float) -> bool:
        """
        Wait until every frame received so far is published, dropped or counted.

        :param timeout: seconds at most.
        :return: whether that happened.
        """
        return self._pipeline.wait_idle(timeout)

    @property
    def classifier(self) -> Classifier:
        """Give the model in use with its labels and preprocessing."""
        return self._model.current

    @property
    def input_qos(self) -> Optional[QoSProfile]:
        """Give the (first) camera subscription's QoS, None while there is no subscription."""
        return self.camera_qos(next(iter(self._cameras), ''))

    def camera_qos(self, camera: str) -> Optional[QoSProfile]:
        """
        Give a camera subscription's QoS.

        :param camera: the camera name.
        :return: the QoS, None while there is no subscription.
        """
        cam = self._cameras.get(camera)
        return cam.input.qos if cam is not None and cam.input is not None else None

    def _watch_cameras(self) -> None:
        for cam in list(self._cameras.values()):
            if cam.input is not None:
                cam.input.watch()

    @property
    def publishes_label_info(self) -> bool:
        """Tell whether the installed vision_msgs lets the node publish LabelInfo."""
        return self._label_pub is not None

    def _publish_diagnostics(self) -> None:
        release_free_memory()  # heap pages freed since the last second go back to the system
        cams = [c for c in self._cameras.values() if c.input is not None]
        if not cams:
            return  # deactivated while this timer callback was on its way
        backend = self.classifier.backend
        info = {'backend': backend.name, 'model': os.path.basename(backend.path),
                'model_path': backend.path, 'threads': self._settings.threads,
                'synthetic_model': self.classifier.synthetic}
        now = time.monotonic()
        name = f'{self.get_fully_qualified_name()}: classifier'
        # The node's total first (as with one camera), then one status per camera.
        parts = [(name, None, self._total_health, sum(c.input.publishers for c in cams),
                  min(c.input.seconds_without_frames() for c in cams),
                  all(c.input.qos is not None for c in cams))]
        if len(self._cameras) > 1:
            parts += [(f'{name} {c.name}', c.name, c.health, c.input.publishers,
                       c.input.seconds_without_frames(), c.input.qos is not None)
                      for c in cams]
        array = DiagnosticArray()
        for title, camera, health, pubs, since, subscribed in parts:
            snap = self.diagnostics(camera)
            level, message, rates = health.assess(snap, now, pubs, since, subscribed)
            status = DiagnosticStatus(name=title, hardware_id=backend.name,
                                      level=bytes([level]), message=message)
            values = {**info, 'camera': camera or '', 'topics': ' '.join(
                self.resolve_topic_name(c.topic) for c in cams if camera in (None, c.name)),
                **snap, **rates}
            status.values = [KeyValue(key=k, value=f'{v:.3f}' if isinstance(v, float)
                                      else str(v)) for k, v in values.items()]
            array.status.append(status)
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    @property
    def abandoned(self) -> int:
        """Count the frames given up in a worker at shutdown (their threads may still run)."""
        return self._abandoned
