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
A camera's whole-frame route, and what the node publishes for a camera.

:class:`WholeFrames` classifies every frame of a camera on a worker (:func:`classification` is
the result message); :class:`Outputs` publishes it. Every result goes out as
``vision_msgs/Classification`` first (a detector's regions: ``classified_detections``, by
:class:`repvit_ros.detections.Regions`, and no ``classification`` publisher at all). Then, only
while someone subscribes, the frame is drawn with its ranking, or with its classified boxes
(:mod:`repvit_ros.annotate`), on one render thread, with the settings the frame was classified
with: a result that arrives while
the previous picture is still being drawn, or sooner than the render budget allows (drawing may
take at most :data:`RENDER_SHARE` of one core), gets none (counted ``annotation_skipped``), so
pictures never delay, queue up behind or starve results. With a ``perception_topic`` every
result is also published as ``ai_msgs/PerceptionTargets`` (:mod:`repvit_ros.perception`) for
D-Robotics' web display, whose page pairs pictures and results by equal header stamps.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
import importlib
import threading
import time
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional, Sequence, Tuple

from builtin_interfaces.msg import Time
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from repvit_ros import annotate, perception
from repvit_ros.classifier import Classifier
from repvit_ros.frames import Frame, uint8_array
from repvit_ros.layouts import COMPRESSED_FORMATS, frame_size, FrameError, normalize_encoding
from repvit_ros.parameters import Settings
from repvit_ros.pipeline import Pipeline, Route
from repvit_ros.preprocess import declared_size
from sensor_msgs.msg import CompressedImage, Image, RegionOfInterest
from std_msgs.msg import Header
from vision_msgs.msg import Classification, ObjectHypothesis

RESULTS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
PICTURE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
RENDER_SHARE = 0.1  # pictures may take this share of one core's time, at most
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


class Result(NamedTuple):
    """One classified frame, as the workers hand it to the outputs."""

    msg: Any                                  # Classification; Detection2DArray for regions
    frame: Frame
    ranked: List[Tuple[int, str, float]]      # (index, name, probability), best first
    timings: Dict[str, perception.StageTime]  # preprocess, inference, postprocess
    #: the node's settings when the frame was classified: its picture is drawn with them
    #: (annotated_width), so a runtime change shapes the next picture
    settings: Optional[Settings] = None
    #: a detector's regions: ((x, y, w, h) of the box in the frame, ranking) per classified box;
    #: None for a whole-frame result
    boxes: Optional[List[annotate.Box]] = None


def classification(frame: Frame, ranked: Sequence[Tuple[int, float]],
                   ids: Sequence[str]) -> Classification:
    """
    Build a frame's result message.

    :param frame: the classified frame (its header, or its stamp alone, goes on the result).
    :param ranked: (class index, probability) pairs, best first.
    :param ids: the class_id text of every class index.
    :return: the Classification.
    """
    out = Classification()
    out.header = frame.header if frame.header is not None else Header(stamp=frame.stamp)
    for i, score in ranked:
        hyp = ObjectHypothesis()  # field by field: the keyword constructor costs twice as much
        hyp.class_id = ids[i]
        hyp.score = score
        out.results.append(hyp)
    return out


def ai_msgs():
    """
    Import the messages of D-Robotics' web display (TogetheROS ships them).

    :return: the ``ai_msgs.msg`` module.
    :raises ImportError: naming the package when it is not installed.
    """
    try:
        return importlib.import_module('ai_msgs.msg')
    except ImportError:
        raise ImportError('perception_topic needs ai_msgs (D-Robotics hobot_msgs, part of '
                          'TogetheROS); it is not installed') from None


def _time(stamp: Tuple[int, int]) -> Time:
    return Time(sec=stamp[0], nanosec=stamp[1])


class Outputs:
    """The publishers of one camera's results and pictures."""

    def __init__(self, publisher: Callable[[type, str, QoSProfile], Any], settings: Settings,
                 prefix: str = '', model_name: str = 'repvit'):
        """
        Create the publishers.

        With ``detections_topic`` set the camera's results are its classified detections
        (:class:`repvit_ros.detections.Regions` publishes them), so no ``classification``
        publisher is created: a topic that would never carry a message is not advertised.

        :param publisher: the node's publisher factory (plain or lifecycle publishers).
        :param settings: the node's settings (detections_topic, perception_topic; the pictures
            take annotated_width and the conversion settings from each result's own).
        :param prefix: topic prefix of this camera (``''`` or ``'<name>/'``).
        :param model_name: the Perf entries' name prefix.
        :raises ImportError: when perception_topic is set and ai_msgs is missing.
        """
        self._settings = settings
        self._model_name = model_name
        self.classification: Optional[Any] = None
        if not settings.detections_topic:
            self.classification = publisher(Classification, f'{prefix}classification',
                                            RESULTS_QOS)
        self._image = publisher(Image, f'{prefix}annotated_image', PICTURE_QOS)
        self._jpeg = publisher(CompressedImage, f'{prefix}annotated_image/compressed',
                               PICTURE_QOS)
        self._ai = None
        self._perception = self._info = None
        if settings.perception_topic:
            self._ai = ai_msgs()
            topic = settings.perception_topic.rstrip('/') + ('' if not prefix else
                                                             f'/{prefix.rstrip("/")}')
            self._perception = publisher(self._ai.PerceptionTargets, topic, RESULTS_QOS)
            if hasattr(self._ai, 'PerceptionInfo'):  # newer ai_msgs releases only
                self._info = publisher(self._ai.PerceptionInfo, f'{topic}/info', LATCHED_QOS)
        self._all = [p for p in (self.classification, self._image, self._jpeg,
                                 self._perception, self._info) if p is not None]
        self._lock = threading.Lock()
        self._drawing = False
        self._next_draw = 0.0  # monotonic time before which no picture is started
        self._sent: Deque[float] = deque()
        self._info_sent = False
        self.counts = {'annotated': 0, 'annotation_skipped': 0, 'annotation_bad': 0}
        self._render = ThreadPoolExecutor(max_workers=1, thread_name_prefix='repvit_render')

    @property
    def publishers(self) -> List[Any]:
        """Return every publisher (for the node to destroy them)."""
        return list(self._all)

    def publish(self, result: Result, labels: List[str]) -> None:
        """
        Publish a whole-frame result, then (without waiting) its picture and web-display entry.

        :param result: the classified frame.
        :param labels: the model's class names (for PerceptionInfo).
        """
        self.classification.publish(result.msg)
        self.show(result, labels)

    def show(self, result: Result, labels: List[str]) -> None:
        """
        Publish what shows a result already published: web-display entry, picture (not waiting).

        :param result: the classified frame (whole, or its regions with ``boxes``).
        :param labels: the model's class names (for PerceptionInfo).
        """
        now = time.monotonic()
        self._sent.append(now)
        while self._sent and now - self._sent[0] > 1.0:
            self._sent.popleft()
        if self._perception is not None:
            self._publish_perception(result, labels)
        if self._image.get_subscription_count() or self._jpeg.get_subscription_count():
            with self._lock:
                busy = self._drawing or now < self._next_draw
                if busy:
                    self.counts['annotation_skipped'] += 1
                else:
                    self._drawing = True
            if not busy:
                self._render.submit(self._draw, result)

    def _draw(self, result: Result) -> None:
        cfg = result.settings or self._settings
        started = time.monotonic()
        try:
            if result.boxes is None:
                bgr = annotate.render(result.frame.image, result.frame.encoding, result.ranked,
                                      cfg.annotated_width, cfg.bit_depth, cfg.max_input_pixels,
                                      cfg.yuv_range)
            else:
                bgr = annotate.render_regions(result.frame.image, result.frame.encoding,
                                              result.boxes, cfg.annotated_width, cfg.bit_depth,
                                              cfg.max_input_pixels, cfg.yuv_range)
            header = result.msg.header
            if self._image.get_subscription_count():
                h, w = bgr.shape[:2]
                img = Image(header=header, height=h, width=w, encoding='bgr8', step=w * 3)
                img.data = uint8_array(bgr)
                self._image.publish(img)
            if self._jpeg.get_subscription_count():
                jpeg = CompressedImage(header=header, format='jpeg')
                jpeg.data = uint8_array(annotate.encode_jpeg(bgr))
                self._jpeg.publish(jpeg)
            key = 'annotated'
        except (FrameError, ValueError):
            key = 'annotation_bad'
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._drawing = False
                self._next_draw = started + took / RENDER_SHARE
        with self._lock:
            self.counts[key] += 1

    def _publish_perception(self, result: Result, labels: List[str]) -> None:
        ai = self._ai
        w, h = _frame_size(result.frame)
        stamp = result.msg.header.stamp
        timings = dict(result.timings)
        timings['pipeline'] = perception.StageTime((stamp.sec, stamp.nanosec), time.time())
        data = perception.perception_targets((w, h), result.ranked, float(len(self._sent)),
                                             timings, self._model_name, regions=result.boxes)
        msg = ai.PerceptionTargets(header=result.msg.header, fps=data['fps'])
        msg.perfs = [ai.Perf(type=p['type'], stamp_start=_time(p['stamp_start']),
                             stamp_end=_time(p['stamp_end']),
                             time_ms_duration=p['time_ms_duration']) for p in data['perfs']]
        msg.targets = [ai.Target(
            type=t['type'], track_id=t['track_id'],
            rois=[ai.Roi(type=r['type'], rect=RegionOfInterest(**r['rect']),
                         confidence=r['confidence']) for r in t['rois']],
            attributes=[ai.Attribute(**a) for a in t['attributes']]) for t in data['targets']]
        self._perception.publish(msg)
        if self._info is not None and not self._info_sent:
            info = perception.perception_info((w, h), labels)
            self._info.publish(ai.PerceptionInfo(header=result.msg.header, **info))
            self._info_sent = True

    def report(self) -> Dict[str, int]:
        """
        Count the pictures drawn, skipped (the renderer was busy) and refused.

        :return: annotated, annotation_skipped, annotation_bad.
        """
        with self._lock:
            return dict(self.counts)

    def close(self) -> None:
        """Stop the render thread (a picture being drawn is finished first)."""
        self._render.shutdown(wait=True)


class WholeFrames(Route):
    """One camera's whole-frame route: every frame classified, the result on its outputs."""

    def __init__(self, pipeline: Pipeline, camera: str, outputs: Outputs):
        """
        Route a camera's frames to the workers whole.

        :param pipeline: the workers.
        :param camera: the camera's name (its source key).
        :param outputs: the camera's publishers.
        """
        super().__init__(pipeline, camera)
        self._outputs = outputs

    def process(self, frame: Frame, classifier: Classifier, settings: Settings) -> Result:
        """
        Classify a frame (on a worker thread), timing each stage.

        :param frame: the wrapped frame.
        :param classifier: the model in use.
        :param settings: the node's settings now (top_k, min_score, class_id_format).
        :return: the result with its ranking and stage times.
        :raises FrameError: for a frame that cannot be converted.
        """
        clf = classifier
        wall = time.time()
        t0 = time.monotonic()
        nv12 = clf.to_nv12(frame.image, frame.encoding)
        t1 = time.monotonic()
        logits = clf.infer(nv12)
        t2 = time.monotonic()
        ranked = clf.rank(logits, settings.top_k, settings.min_score)
        t3 = time.monotonic()
        self.stats.latency['preprocess'].add(t1 - t0)
        self.stats.latency['inference'].add(t2 - t1)
        out = classification(frame, ranked, clf.class_ids(settings.class_id_format))
        timings = {name: perception.StageTime(wall + a - t0, wall + b - t0, 1e3 * (b - a))
                   for name, a, b in (('preprocess', t0, t1), ('inference', t1, t2),
                                      ('postprocess', t2, t3))}
        return Result(out, frame, [(i, clf.labels[i], p) for i, p in ranked], timings,
                      settings)

    def publish(self, result: Result, labels: List[str]) -> None:
        """
        Publish a result on the camera's outputs.

        :param result: from :meth:`process`.
        :param labels: the model's class names.
        """
        self._outputs.publish(result, labels)


def _frame_size(frame: Frame) -> Tuple[int, int]:
    """Give a frame's (width, height) as received; a JPEG/PNG's as declared (0x0 unreadable)."""
    encoding = normalize_encoding(frame.encoding)
    if encoding not in COMPRESSED_FORMATS:
        return frame_size(frame.image, encoding)
    try:
        return declared_size(frame.image, encoding)
    except FrameError:
        return 0, 0
