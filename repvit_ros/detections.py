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
Classifying a detector's regions: one camera's detections input, pairing and output.

With ``detections_topic`` set, each camera's route is :class:`Regions` (decided once, when the
node is configured): its frames wait in a small cache (:class:`~repvit_ros.sync.StampSync`) for
the ``vision_msgs/Detection2DArray`` with the same stamp. A pair goes through the node's worker
pipeline like a frame: every box is padded, clamped and cropped from the frame in its own
encoding (:func:`repvit_ros.regions.crop_regions`), each crop goes through the model's NV12
preprocessing and backend (the crops shared out among the free workers,
:meth:`~repvit_ros.pipeline.Pipeline.spread`), and the detections come back on
``classified_detections`` unchanged (header, boxes, ids, order) but for their ``results``:
the classifier's top-k hypotheses, then the detector's own when ``keep_detector_hypotheses``
is set.

The camera's outputs (:class:`repvit_ros.outputs.Outputs`) show the result as they show a
whole-frame one: the annotated picture (each classified box outlined with its top class), drawn
only while someone subscribes, and with a ``perception_topic`` one Target per classified box.

Accounting: a frame that finds no detections within ``sync_timeout`` (or is pushed out of the
cache) is received and dropped (``dropped_no_detections``, ``dropped_sync_overflow``...);
detections that find no frame are counted ``detections_unmatched`` (and ``_overflow``,
``_replaced``, ``_shutdown``); boxes that give no crop are counted ``roi_skipped_<reason>``;
arrays DDS reports lost on the way (its message-lost event) are counted ``detections_lost``.
Serialized, an array takes 72 bytes a box and 360 more per hypothesis the detector adds: a
10,000-box array is 720 KB, more than Fast DDS's default 512 KB shared-memory segment, and best
effort such a sample is lost in UDP fragments unless the detector runs with the large-frames
profile (docs/cameras.md, "Large frames and QoS"); the warning says so.
"""

import math
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
try:  # Iron and newer; Humble has the same names in rclpy.qos_event
    from rclpy.event_handler import SubscriptionEventCallbacks, UnsupportedEventTypeError
except ImportError:
    from rclpy.qos_event import SubscriptionEventCallbacks, UnsupportedEventTypeError
from repvit_ros import perception
from repvit_ros.classifier import Classifier
from repvit_ros.frames import Frame
from repvit_ros.health import ThrottledEvents
from repvit_ros.outputs import Outputs, Result, RESULTS_QOS
from repvit_ros.parameters import Settings
from repvit_ros.pipeline import Pipeline, Route
from repvit_ros.regions import crop_regions, SKIP_REASONS
from repvit_ros.sync import Pair, StampSync, WHY
from vision_msgs.msg import (Detection2D, Detection2DArray, ObjectHypothesis,
                             ObjectHypothesisWithPose)

#: Counters of one camera's regions, as the node's diagnostics report them.
COUNTERS = (('detections_received', 'detections_paired', 'regions_classified',
             'detections_lost')
            + tuple(f'detections_{why}' for why in WHY)
            + tuple(f'roi_skipped_{why}' for why in SKIP_REASONS))
#: Why detection arrays may be lost in transport, by the subscription's reliability.
LOST_HINT = {
    ReliabilityPolicy.BEST_EFFORT:
        'arrays larger than the DDS shared-memory segment (512 KB: about 7,000 boxes, or '
        '1,200 with one hypothesis each)? start the detector with the large-frames profile, '
        'see docs/cameras.md, "Large frames and QoS"',
    ReliabilityPolicy.RELIABLE:
        'the detector gave them up before delivery: its history is shorter than the arrays in '
        'flight',
}
#: The drop reason of a frame that left the cache without detections, by the cache's reason.
FRAME_DROP = {'unmatched': 'no_detections', 'overflow': 'sync_overflow',
              'replaced': 'sync_replaced', 'shutdown': 'shutdown'}
_RELIABILITY = {'reliable': ReliabilityPolicy.RELIABLE,
                'best_effort': ReliabilityPolicy.BEST_EFFORT,
                # auto: best effort receives from reliable and best-effort detectors alike.
                'auto': ReliabilityPolicy.BEST_EFFORT}


def axis_aligned_box(det: Detection2D) -> Tuple[float, float, float, float]:
    """
    Give a detection's box as (center x, center y, size x, size y), rotation folded in.

    A box rotated by ``theta`` is cropped by the axis-aligned rectangle around it.

    :param det: the detection.
    :return: the box; NaN or infinite values are passed on (the crop skips them).
    """
    box = det.bbox
    cx, cy = box.center.position.x, box.center.position.y
    sx, sy, theta = box.size_x, box.size_y, box.center.theta
    if theta != 0.0 and math.isfinite(theta):
        c, s = abs(math.cos(theta)), abs(math.sin(theta))
        sx, sy = sx * c + sy * s, sx * s + sy * c
    elif not math.isfinite(theta):
        cx = math.nan
    return cx, cy, sx, sy


def detections_topics(topic: str, cameras: List[str]) -> Dict[str, str]:
    """
    Name each camera's detections topic.

    :param topic: the detections_topic parameter.
    :param cameras: the camera names ('' alone: the node's one camera).
    :return: camera name -> topic (``topic`` itself for one camera, ``<name>/<topic>`` each
        with several).
    :raises ValueError: for an absolute topic with several cameras.
    """
    if cameras == ['']:
        return {'': topic}
    if topic.startswith('/') or topic.startswith('~'):
        raise ValueError(f'detections_topic {topic!r} must be a relative name with several '
                         f'cameras: each camera reads <name>/{topic.lstrip("/~")}')
    return {name: f'{name}/{topic}' for name in cameras}


class Regions(Route):
    """One camera's regions route: detections subscription, frame pairing, classified output."""

    def __init__(self, pipeline: Pipeline, camera: str,
                 publisher: Callable[[type, str, QoSProfile], Any], settings: Settings,
                 topic: str, prefix: str, outputs: Optional[Outputs] = None):
        """
        Create the cache and the output; subscribe later with :meth:`subscribe`.

        :param pipeline: the workers (pairs go there; frames dropped from the cache are counted
            in the camera's stats).
        :param camera: the camera's name (its source key).
        :param publisher: the node's publisher factory (plain or lifecycle publishers).
        :param settings: the node's settings.
        :param topic: this camera's detections topic.
        :param prefix: topic prefix of this camera (``''`` or ``'<name>/'``).
        :param outputs: the camera's outputs, which show each result (annotated picture, web
            display); None: classified_detections only.
        """
        super().__init__(pipeline, camera)
        self.topic = topic
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.sync = StampSync(settings.sync_queue_size, settings.sync_timeout,
                              on_drop=self._dropped)
        self.output = publisher(Detection2DArray, f'{prefix}classified_detections', RESULTS_QOS)
        self._outputs = outputs
        self._node: Optional[Any] = None
        self._sub = None
        self._reliability = settings.qos_reliability
        self._lost_log = ThrottledEvents()

    def subscribe(self, node: Any) -> None:
        """
        Subscribe to the detections topic, counting the arrays DDS reports lost on the way.

        :param node: the node that owns the subscription.
        """
        for reason in FRAME_DROP.values():
            self.stats.count('dropped', reason, n=0)  # listed in diagnostics from the start
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                         reliability=_RELIABILITY[self._reliability])
        self._node = node
        try:
            self._sub = node.create_subscription(
                Detection2DArray, self.topic, self._on_detections, qos,
                event_callbacks=SubscriptionEventCallbacks(message_lost=self._on_message_lost))
        except UnsupportedEventTypeError:
            node.get_logger().info(
                f'{os.environ.get("RMW_IMPLEMENTATION", "this RMW")} does not report lost '
                f'messages: detection arrays lost in transport are not counted')
            self._sub = node.create_subscription(Detection2DArray, self.topic,
                                                 self._on_detections, qos)

    def _on_message_lost(self, info: Any) -> None:
        lost = int(info.total_count_change)
        if lost <= 0:
            return
        self._count('detections_lost', lost)
        count = self._lost_log.due('detections_lost', lost)
        if count and self._node is not None:
            hint = LOST_HINT[self._sub.qos_profile.reliability]
            self._node.get_logger().warning(
                f'{count} detection array(s) on {self._node.resolve_topic_name(self.topic)} lost '
                f'in transport, since the last report ({hint})')

    def close(self) -> None:
        """Unsubscribe and drop whatever waits (counted ``shutdown``)."""
        if self._sub is not None:
            self._node.destroy_subscription(self._sub)
            self._sub = None
        self.sync.close()

    @property
    def publishers(self) -> List[Any]:
        """Give the classified_detections publisher."""
        return [self.output]

    def accept(self, frame: Frame) -> None:
        """
        Let a frame wait for its detections; submit the pair when they are there.

        :param frame: the wrapped frame.
        """
        pair = self.sync.add_frame(frame.stamp, frame)
        if pair is not None:
            self._paired(pair)

    def _on_detections(self, msg: Detection2DArray) -> None:
        self._count('detections_received')
        pair = self.sync.add_detections(msg.header.stamp, msg)
        if pair is not None:
            self._paired(pair)

    def _paired(self, pair: Pair) -> None:
        self._count('detections_paired')
        self._pipeline.submit(pair, self.source)

    def _dropped(self, kind: str, item: Any, why: str) -> None:
        if kind == 'frame':
            self.stats.refused('dropped', FRAME_DROP[why])
        else:
            self._count(f'detections_{why}')

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def expire(self) -> None:
        """Drop what has waited longer than ``sync_timeout``."""
        self.sync.expire()

    def process(self, pair: Pair, classifier: Classifier, settings: Settings) -> Result:
        """
        Classify every box of a pair (on a worker thread).

        :param pair: the frame and its detections.
        :param classifier: the model in use.
        :param settings: the node's settings now (roi_*, max_rois, top_k, min_score, ...).
        :return: the classified detections (``msg``), with each classified box and its
            ranking (``boxes``) for the picture and the web display; timings: ``preprocess``
            the cropping, ``inference`` every crop's conversion, inference and ranking.
        :raises FrameError: when the frame itself cannot be used (the pair is counted bad).
        """
        clf = classifier
        frame, dets = pair.frame, pair.detections
        wall = time.time()
        t0 = time.monotonic()
        boxes = [axis_aligned_box(d) for d in dets.detections]
        regions = crop_regions(frame.image, frame.encoding, boxes, settings.roi_padding,
                               settings.roi_min_size, settings.max_rois,
                               max_input_pixels=settings.max_input_pixels)
        t1 = time.monotonic()
        ids = clf.class_ids(settings.class_id_format)
        out = Detection2DArray()
        out.header = dets.header
        shown: List[Any] = []
        # The boxes are shared out among the free workers: N boxes take about
        # ceil(N / workers) inference times, not N.
        crops = [region for region in regions if region.crop is not None]
        rankings = iter(self._pipeline.spread(
            lambda region: clf.rank(clf.infer(clf.to_nv12(region.crop, region.encoding)),
                                    settings.top_k, settings.min_score), crops))
        for det, region in zip(dets.detections, regions):
            results = []
            if region.crop is not None:
                ranked = next(rankings)
                for i, score in ranked:
                    hyp = ObjectHypothesisWithPose()
                    hyp.hypothesis = ObjectHypothesis(class_id=ids[i], score=score)
                    results.append(hyp)
                shown.append((region.box, [(i, clf.labels[i], p) for i, p in ranked]))
            if settings.keep_detector_hypotheses:
                results.extend(det.results)
            det.results = results
            out.detections.append(det)
        t2 = time.monotonic()
        skipped: Dict[str, int] = {}
        for region in regions:
            if region.skipped is not None:
                skipped[region.skipped] = skipped.get(region.skipped, 0) + 1
        with self._lock:
            self.counts['regions_classified'] += len(shown)
            for why, n in skipped.items():
                self.counts[f'roi_skipped_{why}'] += n
        timings = {name: perception.StageTime(wall + a - t0, wall + b - t0, 1e3 * (b - a))
                   for name, a, b in (('preprocess', t0, t1), ('inference', t1, t2))}
        return Result(out, frame, [], timings, settings, shown)

    def publish(self, result: Result, labels: List[str]) -> None:
        """
        Publish one frame's classified detections, then show them on the camera's outputs.

        :param result: from :meth:`process`.
        :param labels: the model's class names (in the hypotheses already).
        """
        self.output.publish(result.msg)
        if self._outputs is not None:
            self._outputs.show(result, labels)

    def report(self) -> Dict[str, int]:
        """
        Read the counters and what waits in the cache now.

        :return: :data:`COUNTERS`, ``sync_frames_waiting`` and ``sync_detections_waiting``.
        """
        with self._lock:
            snap = dict(self.counts)
        pending = self.sync.pending()
        snap['sync_frames_waiting'] = pending['frame']
        snap['sync_detections_waiting'] = pending['detections']
        return snap
