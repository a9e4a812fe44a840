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
What the RDK web display is told about a result: ``ai_msgs`` content as plain data.

No ROS here; :mod:`repvit_ros.outputs`, the only user, turns the dicts into the messages (their
keys are the message fields). D-Robotics' web page draws a Target's label beside its first box,
drops a box with any zero coordinate and shows ``fps`` and the largest Perf duration; Perf
types are named as hobot_dnn's dnn_node_example names them.
"""

import math
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

#: Perf entries of :func:`perception_targets`, in order: the key of ``timings`` and the suffix
#: of the Perf type, named as hobot_dnn's dnn_node_example names them (``<model>_<suffix>``).
STAGES = (('preprocess', 'preprocess'), ('inference', 'predict_infer'),
          ('postprocess', 'postprocess'), ('pipeline', 'pipeline'))


class StageTime(NamedTuple):
    """When one processing stage of a frame ran."""

    #: wall-clock start: seconds since the epoch, or a (sec, nanosec) stamp
    start: Union[float, Tuple[int, int]]
    #: wall-clock end: seconds since the epoch, or a (sec, nanosec) stamp
    end: Union[float, Tuple[int, int]]
    #: duration in milliseconds (e.g. from a monotonic clock); None: (end - start) * 1000
    ms: Optional[float] = None


def to_stamp(when) -> Tuple[int, int]:
    """
    Turn a time into a ``builtin_interfaces/Time`` (sec, nanosec).

    :param when: seconds since the epoch (e.g. ``time.time()``; negative becomes 0), or a
        (sec, nanosec) pair, e.g. a frame's header stamp, which is kept exactly.
    :return: (sec, nanosec) with 0 <= nanosec < 1e9.
    """
    if isinstance(when, tuple):
        sec, nanosec = int(when[0]), int(when[1])
        return to_stamp(0.0) if sec < 0 else (sec + nanosec // 10**9, nanosec % 10**9)
    seconds = max(0.0, float(when))
    sec = math.floor(seconds)
    nanosec = int(round((seconds - sec) * 1e9))
    return (sec + 1, 0) if nanosec >= 10**9 else (sec, nanosec)


def _seconds(when) -> float:
    if isinstance(when, tuple):
        return int(when[0]) + int(when[1]) * 1e-9
    return float(when)


def _perf(kind: str, timing: StageTime) -> Dict:
    start = to_stamp(timing.start)
    end = max(start, to_stamp(timing.end))
    ms = (_seconds(end) - _seconds(start)) * 1000.0 if timing.ms is None else float(timing.ms)
    return {'type': kind, 'stamp_start': start, 'stamp_end': end,
            'time_ms_duration': max(0.0, ms)}


def _rect(x: int, y: int, width: int, height: int) -> Dict:
    return {'x_offset': x, 'y_offset': y, 'width': width, 'height': height,
            'do_rectify': False}


def inset_rect(rect: Sequence[int], frame_size: Tuple[int, int]) -> Optional[Dict]:
    """
    Clamp a box to the frame inset by one pixel, where the RDK web page draws it.

    The page drops a box with any zero coordinate, so a box at the frame's left or top edge
    starts at 1; one at the right or bottom edge ends one pixel inside.

    :param rect: (x, y, width, height) in frame pixels.
    :param frame_size: (width, height) of the frame.
    :return: the Roi ``rect`` fields, or None when nothing of the box is left.
    """
    x0, y0 = max(1, int(rect[0])), max(1, int(rect[1]))
    x1 = min(int(frame_size[0]) - 1, int(rect[0]) + int(rect[2]))
    y1 = min(int(frame_size[1]) - 1, int(rect[1]) + int(rect[3]))
    if x1 <= x0 or y1 <= y0:
        return None
    return _rect(x0, y0, x1 - x0, y1 - y0)


def _target(items: List[Tuple[str, float]], rect: Optional[Dict]) -> Dict:
    top_name, top_p = items[0] if items else ('', 0.0)
    rois = [] if rect is None else [{'type': top_name, 'rect': rect, 'confidence': top_p}]
    return {'type': top_name, 'track_id': 0, 'rois': rois,
            'attributes': [{'type': n, 'value': p, 'confidence': p} for n, p in items]}


def perception_targets(frame_size: Tuple[int, int], ranked: Sequence, fps: Optional[float],
                       timings: Mapping[str, StageTime], model_name: str = 'repvit',
                       regions: Optional[Sequence] = None) -> Dict:
    """
    Describe the RDK web display's ``ai_msgs/PerceptionTargets`` for one result.

    Plain data, keys named as the message fields (the header is left to the caller, who copies
    the frame's). A whole-frame result has one Target: ``type`` the top-1 name, one Roi over
    the whole frame inset by one pixel (the page draws labels only beside a box and drops a box
    with any zero coordinate; Roi ``type`` is the top-1 name too, ``confidence`` its
    probability), one Attribute per ranked class (``type`` name, ``value`` and ``confidence``
    the probability). No ranking, or a frame under 3x3 pixels (no box fits): no Target, resp. a
    Target without a Roi. A detector's regions (``regions`` given) have one such Target per
    classified box, its Roi the box clamped by :func:`inset_rect` (a box whose ranking is empty:
    ``type`` empty, no Attribute).

    :param frame_size: (width, height) of the frame as received.
    :param ranked: (index, name, probability) items, most probable first.
    :param fps: the node's output rate; None (unknown) is sent as -1, the message's "invalid".
    :param timings: a :class:`StageTime` for each of ``preprocess``, ``inference``,
        ``postprocess`` and ``pipeline`` (frame stamp to result); a missing key is left out.
    :param model_name: the Perf types are ``<model_name>_preprocess``, ``_predict_infer``,
        ``_postprocess`` and ``_pipeline``, as hobot_dnn's nodes name them.
    :param regions: a detector's classified boxes, ((x, y, w, h) in frame pixels, ranking)
        each; None for a whole-frame result (``ranked``).
    :return: ``{'fps': int, 'perfs': [perf...], 'targets': [target...],
        'disappeared_targets': []}``; perf ``{'type', 'stamp_start': (sec, nanosec),
        'stamp_end': (sec, nanosec), 'time_ms_duration'}``; target ``{'type', 'track_id',
        'rois': [{'type', 'rect': {'x_offset', 'y_offset', 'width', 'height', 'do_rectify'},
        'confidence'}], 'attributes': [{'type', 'value', 'confidence'}]}``.
    """
    width, height = int(frame_size[0]), int(frame_size[1])

    def named(items: Sequence) -> List[Tuple[str, float]]:
        return [(str(item[1]), float(item[2])) for item in items]
    if regions is not None:
        targets = [_target(named(boxed), inset_rect(rect, (width, height)))
                   for rect, boxed in regions]
    else:
        items = named(ranked)
        whole = _rect(1, 1, width - 2, height - 2) if width >= 3 and height >= 3 else None
        targets = [_target(items, whole)] if items else []
    perfs = [_perf(f'{model_name}_{suffix}', timings[key])
             for key, suffix in STAGES if key in timings]
    rate = -1 if fps is None or not math.isfinite(fps) else min(32767, max(0, round(fps)))
    return {'fps': int(rate), 'perfs': perfs, 'targets': targets, 'disappeared_targets': []}


def perception_info(frame_size: Tuple[int, int], class_names: Sequence[str]) -> Dict:
    """
    Describe ``ai_msgs/PerceptionInfo`` (newer ai_msgs releases): frame size and class names.

    :param frame_size: (width, height) of the frames.
    :param class_names: the model's class names in output order.
    :return: ``{'width': int, 'height': int, 'class_names': [str, ...]}`` (header to the caller).
    """
    return {'width': int(frame_size[0]), 'height': int(frame_size[1]),
            'class_names': [str(n) for n in class_names]}
