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

The subscription callback only wraps the message as a zero-copy frame and hands it to the
worker pipeline; ``threads`` workers convert to NV12, run the backend and rank the classes;
results are published in input order with the input's header. LabelInfo is published once
(transient local) and diagnostics at 1 Hz.
"""

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import (DurabilityPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)
from rclpy.qos_overriding_options import QoSOverridingOptions
try:  # Iron and newer; Humble has the same names in rclpy.qos_event
    from rclpy.event_handler import SubscriptionEventCallbacks, UnsupportedEventTypeError
except ImportError:
    from rclpy.qos_event import SubscriptionEventCallbacks, UnsupportedEventTypeError
from rclpy.subscription import Subscription
from rclpy.timer import Timer
from repvit_ros import models
from repvit_ros.backends import Backend, BackendError, BACKENDS, create_backend
from repvit_ros.labels import LabelError, load_labels
from repvit_ros.pipeline import DropFrame, Job, Pipeline
from repvit_ros.postprocess import top_k
from repvit_ros.preprocess import FrameError, image_view, RESIZE_MODES, to_nv12, YUV_RANGES
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Classification, ObjectHypothesis


try:  # LabelInfo arrived in vision_msgs 4.1.0; Humble first shipped 4.0.0.
    from vision_msgs.msg import LabelInfo, VisionClass
except ImportError:  # pragma: no cover - depends on the installed vision_msgs
    LabelInfo = VisionClass = None

INPUT_TYPES = ('image', 'compressed', 'hbmem')
QOS_RELIABILITY = ('auto', 'reliable', 'best_effort')
CLASS_ID_FORMATS = ('index', 'label')
NO_FRAMES_WARN_SEC = 5.0
BAD_FRAME_LOG_PERIOD_SEC = 5.0
THROTTLED_LOGS = ('bad', 'failed', 'lost')  # per-frame events logged at most once a period


class StartupError(RuntimeError):
    """A configuration or model problem that stops the node from starting."""


def _choices(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise StartupError(f'parameter {name}={value!r} is invalid; use one of '
                           f'{", ".join(allowed)}')
    return value


class RepVitClassifier(Node):
    """Classify camera frames with RepViT and publish vision_msgs/Classification."""

    def __init__(self, node_name: str = 'repvit_classifier', *,
                 backend: Optional[Backend] = None, **kwargs):
        """
        Create the node: parameters, backend, publishers, then the subscription.

        :param node_name: the node's name.
        :param backend: an already loaded backend to use instead of the configured one (the
            node then does not close it); for tools such as the benchmark.
        :param kwargs: passed to :class:`rclpy.node.Node` (namespace, context,
            parameter_overrides, ...).
        :raises StartupError: for invalid parameters, a missing or unloadable model, labels.
        """
        super().__init__(node_name, **kwargs)
        self._backend: Optional[Backend] = None
        self._pipeline: Optional[Pipeline] = None
        self._released = False
        self._sub: Optional[Subscription] = None
        self._watch_timer: Optional[Timer] = None
        self._label_pub: Optional[Publisher] = None
        try:
            self._setup(backend)
        except (StartupError, models.ModelError, BackendError, LabelError) as exc:
            self._release()
            raise StartupError(str(exc)) from None
        except Exception:
            self._release()
            raise

    # ------------------------------------------------------------------ set-up
    def _declare(self, name: str, default: Any, description: str, read_only: bool = True,
                 int_range=None, float_range=None) -> Any:
        desc = ParameterDescriptor(name=name, description=description, read_only=read_only)
        if int_range is not None:
            desc.integer_range = [IntegerRange(from_value=int_range[0], to_value=int_range[1],
                                               step=1)]
        if float_range is not None:
            desc.floating_point_range = [FloatingPointRange(
                from_value=float(float_range[0]), to_value=float(float_range[1]), step=0.0)]
        return self.declare_parameter(name, default, desc).value

    def _declare_parameters(self) -> None:
        d = self._declare
        self._model = d('model', 'm1_0', 'RepViT size: m0_9, m1_0 or m1_1.')
        self._model_path = d('model_path', '', 'Model file (.bin or .onnx); empty: look up '
                             '`model` in the models directory, then RDK OS preinstalled models.')
        self._backend_kind = d('backend', 'auto', 'auto, hbm_runtime, pyeasy_dnn or '
                               'onnxruntime; auto: .bin on the BPU, .onnx on ONNX Runtime.')
        self._threads = d('threads', 2, 'Inference workers.', int_range=(1, 16))
        self._intra_op_threads = d('intra_op_threads', 1, 'ONNX Runtime threads inside one '
                                   'inference (ignored by BPU backends).', int_range=(1, 16))
        self._input_type = d('input_type', 'image', 'image (sensor_msgs/Image), compressed '
                             '(sensor_msgs/CompressedImage) or hbmem '
                             '(hbm_img_msgs/HbmMsg1080P).')
        self._qos_reliability = d('qos_reliability', 'auto', 'Input reliability: auto (match '
                                  'the publishers found), reliable or best_effort.')
        self._resize_mode = d('resize_mode', 'letterbox', 'letterbox, center_crop or stretch.')
        self._yuv_range = d('yuv_range', 'full', 'NV12 range fed to the model: full (what the '
                            '.bin models were compiled for) or video (RDK model zoo demo).')
        self._class_id_format = d('class_id_format', 'index', 'ObjectHypothesis.class_id: index '
                                  '(ImageNet index as a decimal string, as in LabelInfo) or '
                                  'label.')
        self._queue_size = d('queue_size', 1, 'Frames waiting for a worker; the oldest is dropped '
                             'when full.', int_range=(1, 100))
        self._labels_path = d('labels_path', '', 'Class names file; empty: bundled ImageNet-1k.')
        self._top_k = d('top_k', 5, 'Classes per result.', read_only=False, int_range=(1, 1000))
        self._min_score = d('min_score', 0.0, 'Leave out classes below this probability.',
                            read_only=False, float_range=(0.0, 1.0))
        self._max_rate = d('max_rate', 0.0, 'Classify at most this many frames per second '
                           '(0: every frame).', read_only=False, float_range=(0.0, 1000.0))
        _choices('model', self._model, models.MODELS)
        _choices('backend', self._backend_kind, BACKENDS)
        _choices('input_type', self._input_type, INPUT_TYPES)
        _choices('qos_reliability', self._qos_reliability, QOS_RELIABILITY)
        _choices('resize_mode', self._resize_mode, RESIZE_MODES)
        _choices('yuv_range', self._yuv_range, YUV_RANGES)
        _choices('class_id_format', self._class_id_format, CLASS_ID_FORMATS)
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def _load_backend(self) -> Backend:
        formats = {'onnxruntime': ('onnx',), 'hbm_runtime': ('bin',),
                   'pyeasy_dnn': ('bin',)}.get(self._backend_kind)
        if formats is None:
            from repvit_ros.backends import bpu_runtime_available
            formats = ('bin', 'onnx') if bpu_runtime_available() else ('onnx',)
        # resolve_model_path already refuses a registry file whose pinned sha256 changed.
        path = models.resolve_model_path(self._model, self._model_path, formats)
        return create_backend(self._backend_kind, path, threads=self._intra_op_threads)

    def _setup(self, backend: Optional[Backend]) -> None:
        self._declare_parameters()
        self._owns_backend = backend is None
        self._backend = backend if backend is not None else self._load_backend()
        self._labels = load_labels(self._labels_path or None, self._backend.num_classes or None)
        self._index_ids = [str(i) for i in range(len(self._labels))]
        self._size = tuple(self._backend.input_size)
        metadata = getattr(self._backend, 'metadata', {})
        self._synthetic = metadata.get('repvit_ros.synthetic') == 'true'

        self._cls_pub = self.create_publisher(
            Classification, 'classification',
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        if LabelInfo is not None:
            self._label_pub = self.create_publisher(
                LabelInfo, 'label_info',
                QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL))
            self._publish_label_info()
        else:
            self.get_logger().info('installed vision_msgs has no LabelInfo (added in 4.1.0): '
                                   'class names are not published')
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)

        self._pipeline = Pipeline(self._process, self._deliver, self._on_frame_error,
                                  workers=self._threads, queue_size=self._queue_size,
                                  error_types=(FrameError,))
        self._last_accept = 0.0
        self._log_lock = threading.Lock()
        self._log_at = dict.fromkeys(THROTTLED_LOGS, -BAD_FRAME_LOG_PERIOD_SEC)
        self._since_log = dict.fromkeys(THROTTLED_LOGS, 0)
        self._last_frame = None
        self._warned_no_frames = False
        self._diag_prev = (time.monotonic(), 0, 0)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)

        self._msg_type = {'image': Image, 'compressed': CompressedImage}.get(self._input_type)
        if self._input_type == 'hbmem':
            try:
                from hbm_img_msgs.msg import HbmMsg1080P
            except ImportError:
                raise StartupError('input_type hbmem needs hbm_img_msgs (TogetheROS); it is '
                                   'not installed') from None
            self._msg_type = HbmMsg1080P
        self._topic = self.resolve_topic_name('image')
        self._sub_created_at = time.monotonic()
        if self._qos_reliability == 'auto':
            self._watch_timer = self.create_timer(0.2, self._watch_input)
        else:
            self._create_subscription(ReliabilityPolicy.RELIABLE
                                      if self._qos_reliability == 'reliable'
                                      else ReliabilityPolicy.BEST_EFFORT)
            self._watch_timer = self.create_timer(0.5, self._watch_input)
        h, w = self._size
        self.get_logger().info(
            f'RepViT {self._model} on {self._backend.describe()} ({self._backend.path}); '
            f'{self._threads} worker(s), input {self._input_type} on {self._topic}, '
            f'{self._resize_mode} to {w}x{h}, {self._yuv_range}-range NV12')
        if self._synthetic:
            self.get_logger().warning('the model is a synthetic RepViT with untrained weights: '
                                      'its labels are meaningless')

    def _create_subscription(self, reliability: ReliabilityPolicy) -> None:
        qos = QoSProfile(history=qos_profile_sensor_data.history,
                         depth=qos_profile_sensor_data.depth, reliability=reliability,
                         durability=DurabilityPolicy.VOLATILE)
        # DDS reports frames it lost on the way (best-effort fragments that never all came):
        # counted as `lost`, since they never reach the node to be counted otherwise.
        subscribe = functools.partial(
            self.create_subscription, self._msg_type, 'image', self._on_frame, qos,
            qos_overriding_options=QoSOverridingOptions.with_default_policies())
        try:
            self._sub = subscribe(event_callbacks=SubscriptionEventCallbacks(
                message_lost=self._on_message_lost))
        except UnsupportedEventTypeError:
            self.get_logger().info(f'{os.environ.get("RMW_IMPLEMENTATION", "this RMW")} does '
                                   'not report lost messages: transport losses are not counted')
            self._sub = subscribe()
        self._sub_created_at = time.monotonic()
        reliable = self._sub.qos_profile.reliability == ReliabilityPolicy.RELIABLE
        self.get_logger().info(f'subscribed to {self._topic} '
                               f'({"reliable" if reliable else "best effort"})')

    def _watch_input(self) -> None:
        """Create the subscription in auto QoS mode; warn when publishers send nothing."""
        pubs = self.get_publishers_info_by_topic(self._topic)
        if self._sub is None:
            if not pubs:
                return
            reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in pubs)
            self._create_subscription(ReliabilityPolicy.RELIABLE if reliable
                                      else ReliabilityPolicy.BEST_EFFORT)
            return
        now = time.monotonic()
        last = self._last_frame if self._last_frame is not None else self._sub_created_at
        if pubs and now - last > NO_FRAMES_WARN_SEC and not self._warned_no_frames:
            self._warned_no_frames = True
            kinds = sorted({'reliable' if p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                            else 'best effort' for p in pubs})
            lost = self._pipeline.stats.snapshot()['lost']
            seen = f' (DDS reported {lost} frame(s) lost in transport)' if lost else ''
            self.get_logger().warning(
                f'{len(pubs)} publisher(s) on {self._topic} ({", ".join(kinds)}) but no frame '
                f'for {now - last:.0f} s{seen}. Likely cause: best-effort frames larger than Fast '
                f"DDS's default 512 KB shared-memory segment are lost on one host: run the "
                f'camera reliable, or start it with FASTRTPS_DEFAULT_PROFILES_FILE pointing at '
                f'share/repvit_ros/config/fastdds_large_frames.xml; otherwise check that the '
                f'QoS and message type ({self._msg_type.__name__}) match the camera.')

    # ------------------------------------------------------------------ parameters
    def _on_set_parameters(self, params) -> SetParametersResult:
        updates = {}
        for p in params:
            if p.name == 'top_k':
                if p.type_ != ParameterType.PARAMETER_INTEGER or not 1 <= p.value <= 1000:
                    return SetParametersResult(successful=False,
                                               reason='top_k must be an integer in 1..1000')
                updates['_top_k'] = p.value
            elif p.name == 'min_score':
                if p.type_ != ParameterType.PARAMETER_DOUBLE or not 0.0 <= p.value <= 1.0:
                    return SetParametersResult(successful=False,
                                               reason='min_score must be a float in [0, 1]')
                updates['_min_score'] = p.value
            elif p.name == 'max_rate':
                if p.type_ != ParameterType.PARAMETER_DOUBLE or p.value < 0.0:
                    return SetParametersResult(successful=False,
                                               reason='max_rate must be a float >= 0 (Hz)')
                updates['_max_rate'] = p.value
        for attr, value in updates.items():
            setattr(self, attr, value)
        if '_min_score' in updates and self._label_pub is not None:
            self._publish_label_info()
        return SetParametersResult(successful=True)

    # ------------------------------------------------------------------ hot path
    def _on_frame(self, msg) -> None:
        """Wrap the frame and hand it on; never waits for inference."""
        now = time.monotonic()
        self._last_frame = now
        self._warned_no_frames = False
        if self._max_rate > 0.0 and now - self._last_accept < 1.0 / self._max_rate:
            self._pipeline.stats.count('received')
            self._pipeline.stats.count('dropped', 'rate_limit')
            return
        self._last_accept = now
        try:
            frame, encoding, header = self._wrap(msg)
        except FrameError as exc:
            self._pipeline.stats.count('received')
            self._pipeline.stats.count('bad')
            self._log_bad_frame(exc)
            return
        self._pipeline.submit((frame, encoding, header))

    def _wrap(self, msg):
        if self._input_type == 'image':
            return (image_view(msg.height, msg.width, msg.step, msg.encoding, msg.data,
                               msg.is_bigendian), msg.encoding, msg.header)
        if self._input_type == 'compressed':
            return msg.data, msg.format, msg.header
        size = int(msg.data_size)
        if size > len(msg.data):
            raise FrameError(f'hbmem frame data_size {size} exceeds the buffer')
        encoding = bytes(msg.encoding).split(b'\0', 1)[0].decode('ascii', 'replace')
        header = type(Classification().header)()
        header.stamp = msg.time_stamp
        return (image_view(msg.height, msg.width, msg.step, encoding, msg.data[:size]),
                encoding, header)

    def _process(self, job: Job) -> Classification:
        frame, encoding, header = job.payload
        t0 = time.monotonic()
        nv12 = to_nv12(frame, encoding, self._size, self._resize_mode, self._yuv_range)
        t1 = time.monotonic()
        logits = self._backend.infer(nv12)
        t2 = time.monotonic()
        stats = self._pipeline.stats
        stats.latency['preprocess'].add(t1 - t0)
        stats.latency['inference'].add(t2 - t1)
        ids = self._labels if self._class_id_format == 'label' else self._index_ids
        results = []
        for i, score in top_k(logits, self._top_k, self._min_score):
            hyp = ObjectHypothesis()  # field by field: the keyword constructor costs twice as much
            hyp.class_id = ids[i]
            hyp.score = score
            results.append(hyp)
        out = Classification()
        out.header = header
        out.results = results
        return out

    def _deliver(self, job: Job, msg: Classification) -> None:
        if not self.context.ok():
            raise DropFrame('shutdown')  # the signal came while this frame was in a worker
        self._cls_pub.publish(msg)

    def _on_message_lost(self, info) -> None:
        lost = int(info.total_count_change)
        if lost <= 0:
            return
        self._pipeline.stats.count('lost', n=lost)
        count = self._due('lost', lost)
        if count:
            self.get_logger().warning(
                f'{count} frame(s) on {self._topic} lost in transport since the last report '
                f'(best-effort frames larger than the DDS shared-memory segment? see README, '
                f'"Large frames and QoS")')

    def _on_frame_error(self, job: Job, exc: Exception) -> None:
        if isinstance(exc, FrameError):
            self._log_bad_frame(exc)
        else:
            self._log_failure(exc)

    def _log_bad_frame(self, exc: Exception) -> None:
        count = self._due('bad')
        if count:
            self.get_logger().warning(f'bad frame skipped: {exc} ({count} bad frame(s) since '
                                      f'the last report)')

    def _log_failure(self, exc: Exception) -> None:
        count = self._due('failed')
        if count:
            where = self._backend.name if self._backend is not None else 'a closed backend'
            self.get_logger().error(f'frame failed on {where}: {type(exc).__name__}: {exc} '
                                    f'({count} failure(s) since the last report)')

    def _due(self, kind: str, n: int = 1) -> int:
        """
        Count ``n`` events of ``kind``; say how many to report if its log line is due, else 0.

        Throttled by hand: rclpy's throttle_duration_sec would also hide how many frames were
        skipped in between.
        """
        with self._log_lock:
            self._since_log[kind] += n
            now = time.monotonic()
            if now - self._log_at[kind] < BAD_FRAME_LOG_PERIOD_SEC:
                return 0
            count, self._since_log[kind], self._log_at[kind] = self._since_log[kind], 0, now
            return count

    # ------------------------------------------------------------------ outputs
    def _publish_label_info(self) -> None:
        msg = LabelInfo()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.class_map = [VisionClass(class_id=i, class_name=n)
                         for i, n in enumerate(self._labels)]
        msg.threshold = float(self._min_score)
        self._label_pub.publish(msg)

    def diagnostics(self) -> Dict[str, Any]:
        """
        Read the node's counters and latency figures.

        :return: counters (received, published, dropped by reason, bad, queue) and latency
            medians and p99s in milliseconds.
        """
        stats = self._pipeline.stats
        snap = stats.snapshot()
        snap['queue_depth'] = self._pipeline.queue_depth
        for name, window in stats.latency.items():
            for key, value in window.summary().items():
                snap[f'{name}_{key}'] = value
        return snap

    def _publish_diagnostics(self) -> None:
        release_free_memory()  # once a second: cheap, and keeps RSS to the frames in use
        snap = self.diagnostics()
        now = time.monotonic()
        t_prev, rx_prev, tx_prev = self._diag_prev
        dt = max(now - t_prev, 1e-6)
        snap['input_rate_hz'] = (snap['received'] - rx_prev) / dt
        snap['output_rate_hz'] = (snap['published'] - tx_prev) / dt
        self._diag_prev = (now, snap['received'], snap['published'])
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: classifier',
                                  hardware_id=self._backend.name)
        status.level = DiagnosticStatus.OK
        status.message = 'classifying'
        if self._sub is None or snap['received'] == 0:
            status.level, status.message = DiagnosticStatus.WARN, 'no frames received'
        elif snap['failed']:
            status.level = DiagnosticStatus.ERROR
            status.message = f'{snap["failed"]} frame(s) failed in the backend or on publish'
        elif snap['lost']:
            status.level = DiagnosticStatus.WARN
            status.message = f'{snap["lost"]} frame(s) lost in transport before the node'
        elif snap['dropped_queue_full'] or snap['bad']:
            status.message = 'classifying, some frames dropped or bad'
        info = {'backend': self._backend.name, 'model': self._model,
                'model_path': self._backend.path, 'threads': self._threads,
                'synthetic_model': self._synthetic}
        values = {**info, **snap}
        status.values = [KeyValue(key=k, value=_fmt(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    # ------------------------------------------------------------------ teardown
    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        released = []
        snap = None
        if self._pipeline is not None:
            self._pipeline.close()
            released.append(f'{self._threads} worker(s)')
            snap = self._pipeline.stats.snapshot()
        if self._backend is not None:
            if getattr(self, '_owns_backend', True):
                self._backend.close()
                released.append(f'the {self._backend.name} backend')
            self._backend = None
        if snap is not None:
            # After a signal the context is already shut down and /rosout is gone: log to the
            # console only then, under the node's name, rather than fail to publish.
            logger = self.get_logger() if self.context.ok() else \
                rclpy.logging.get_logger(f'{self.get_logger().name}.shutdown')
            logger.info(
                f'stopped: released {" and ".join(released)}; frames received '
                f'{snap["received"]}, published {snap["published"]}, dropped '
                f'{snap["dropped"]} (queue full {snap["dropped_queue_full"]}, rate limit '
                f'{snap["dropped_rate_limit"]}, shutdown {snap["dropped_shutdown"]}), bad '
                f'{snap["bad"]}, failed {snap["failed"]}; lost in transport {snap["lost"]}')

    def destroy_node(self) -> None:
        """Stop the workers, close the backend, then destroy the node."""
        self._release()
        super().destroy_node()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f'{value:.3f}'
    return str(value)


_LIBC = None  # set by tune_allocator()


def tune_allocator() -> bool:
    """
    Make glibc keep freed frame-sized buffers for reuse instead of unmapping them every frame.

    Every image message is allocated twice (the C message, then the Python one) and freed after
    use. glibc serves blocks of a few MB with mmap or trims them off the heap top, so each frame
    comes back as fresh pages that the kernel must fault in and zero: at 1920x1080 that doubled
    the CPU time per frame of both the node and a bare subscriber (see README, Benchmarks). A
    fixed 32 MB mmap threshold and a 256 MB trim threshold keep those pages in the process, and
    :func:`release_free_memory` (called by the node once a second) hands what is left free back
    to the system, so resident memory follows the frames in use. Skipped when the user tunes
    malloc through ``MALLOC_*`` variables, or without glibc.

    :return: whether the settings were applied.
    """
    global _LIBC
    if _LIBC is not None:
        return True  # already done in this process (several feeders, or main and a tool)
    if any(k.startswith('MALLOC_') for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt, _ = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    if mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 256 << 20):
        _LIBC = libc
    return _LIBC is not None


def release_free_memory() -> None:
    """Return free heap pages to the system (after :func:`tune_allocator`; else nothing)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def spin_until_shutdown(node: Node) -> None:
    """
    Spin ``node`` until Ctrl-C, SIGTERM or an rclpy shutdown.

    A signal shuts the context down from under a running executor, which may then raise
    something other than ExternalShutdownException (an invalid handle, a wait on a dead context).
    Once the context is down such errors are part of the shutdown; before that they propagate.
    """
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: B902 - re-raised unless the shutdown caused it
        if node.context.ok():
            raise


def main(args: Optional[List[str]] = None) -> int:
    """
    Run the classifier node until shutdown.

    :param args: command-line arguments (ROS arguments included).
    :return: process exit code: 0 on a normal shutdown, 1 when the node cannot start.
    """
    tune_allocator()
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = RepVitClassifier()
        spin_until_shutdown(node)
    except StartupError as exc:
        rclpy.logging.get_logger('repvit_classifier').error(f'cannot start: {exc}')
        code = 1
    except rclpy.exceptions.ParameterException as exc:
        rclpy.logging.get_logger('repvit_classifier').error(f'cannot start: invalid '
                                                            f'parameter: {exc}')
        code = 1
    except KeyboardInterrupt:
        pass  # Ctrl-C while the node was still starting
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    sys.exit(main())
