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
One camera input of the node: its subscription, kept matched to the camera, and its losses.

With ``qos_reliability: auto`` the subscription follows the publishers: reliable while every
publisher is reliable, best effort (which receives from both kinds) as soon as one is not, and
again whenever the publisher set changes (a camera restarted with other QoS, a second camera
joined). Frames that never arrive are counted where something tells: the RMW's message-lost
event, and gaps in the frame counter of shared-memory (hbmem) frames.

Images and compressed images are subscribed raw: the callback gets each message serialized, as
it came, and :func:`repvit_ros.frames.wrap` reads the few fields a frame needs in place instead
of rclpy building a Python message (and copying the pixels once more) for every frame. Bytes in
another data representation than plain CDR are deserialised by the middleware here first.
"""

import os
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from rclpy.node import Node
from rclpy.qos import (DurabilityPolicy, qos_profile_sensor_data, QoSPolicyKind, QoSProfile,
                       ReliabilityPolicy)
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.serialization import deserialize_message
try:  # Iron and newer; Humble has the same names in rclpy.qos_event
    from rclpy.event_handler import SubscriptionEventCallbacks, UnsupportedEventTypeError
except ImportError:
    from rclpy.qos_event import SubscriptionEventCallbacks, UnsupportedEventTypeError
from rclpy.subscription import Subscription
from repvit_ros import cdr, frames
from repvit_ros.health import HealthMonitor, NO_FRAMES_SEC
from repvit_ros.outputs import Outputs
from repvit_ros.pipeline import Route

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT
#: More frames per second than any camera sends: a frame-counter gap larger than this rate
#: allows since the last frame is a jump of the counter, not frames lost.
MAX_CAMERA_FPS = 1000
LOST_HINT = {
    BEST_EFFORT: 'best-effort frames larger than the DDS shared-memory segment? see '
                 'docs/cameras.md, "Large frames and QoS"',
    RELIABLE: 'the publisher gave them up before delivery: its history is shorter than the '
              'frames in flight to a slow or starved subscriber',
}


class CameraInput:
    """The subscription to one camera topic and what is known about its publishers."""

    def __init__(self, node: Node, input_type: str, reliability: str,
                 on_frame: Callable[[Any], None], on_lost: Callable[[int, str], None],
                 lost_so_far: Callable[[], int], topic: str = 'image'):
        """
        Watch a camera topic; subscribe now unless the reliability follows the publishers.

        :param node: the node that owns the subscription.
        :param input_type: one of :data:`repvit_ros.frames.INPUT_TYPES`.
        :param reliability: ``auto``, ``reliable`` or ``best_effort``.
        :param on_frame: called with every message (image, compressed: serialized, as bytes).
        :param on_lost: called with a number of frames that never arrived and why.
        :param lost_so_far: how many frames were reported lost so far (for the warnings).
        :param topic: the topic, relative to the node's namespace.
        """
        self._node = node
        self._input_type = input_type
        self._mode = reliability
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._lost_so_far = lost_so_far
        self._relative = topic
        self.topic = node.resolve_topic_name(topic)
        self._msg_type = frames.message_class(input_type)
        self._raw = input_type in frames.SERIALIZED_TYPES
        self._sub: Optional[Subscription] = None
        self._since = time.monotonic()
        self._last_frame: Optional[float] = None
        self._last_index: Optional[int] = None
        self._publishers: Tuple[bool, ...] = ()
        self._warned = False
        self._closed = False
        if reliability != 'auto':
            self._subscribe(RELIABLE if reliability == 'reliable' else BEST_EFFORT)

    @property
    def qos(self) -> Optional[QoSProfile]:
        """Give the subscription's QoS, None until it exists."""
        return self._sub.qos_profile if self._sub is not None else None

    @property
    def publishers(self) -> int:
        """Count the publishers on the topic at the last look."""
        return len(self._publishers)

    def seconds_without_frames(self) -> float:
        """
        Seconds since the last frame (or since subscribing, if none came).

        :return: the seconds.
        """
        return time.monotonic() - (self._last_frame or self._since)

    def _subscribe(self, reliability: ReliabilityPolicy) -> None:
        if self._sub is not None:
            self._node.destroy_subscription(self._sub)
        qos = QoSProfile(history=qos_profile_sensor_data.history,
                         depth=qos_profile_sensor_data.depth, reliability=reliability,
                         durability=DurabilityPolicy.VOLATILE)
        # History and depth are overridable from parameters; reliability is not: rclpy keeps
        # an override parameter at its first value, which would pin every resubscription.
        options = QoSOverridingOptions(policy_kinds=(QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH))
        create = self._node.create_subscription
        # DDS reports frames it lost on the way: counted, since they never reach the node.
        try:
            self._sub = create(self._msg_type, self._relative, self._receive, qos,
                               qos_overriding_options=options,
                               event_callbacks=SubscriptionEventCallbacks(
                                   message_lost=self._on_message_lost), raw=self._raw)
        except UnsupportedEventTypeError:
            self._node.get_logger().info(
                f'{os.environ.get("RMW_IMPLEMENTATION", "this RMW")} does not report lost '
                f'messages: transport losses are not counted')
            self._sub = create(self._msg_type, self._relative, self._receive, qos,
                               qos_overriding_options=options, raw=self._raw)
        self._since = time.monotonic()
        self._warned = False
        self._node.get_logger().info(f'subscribed to {self.topic} ({self._reliability()})')

    def _reliability(self) -> str:
        return 'reliable' if self._sub.qos_profile.reliability == RELIABLE else 'best effort'

    def _receive(self, msg: Any) -> None:
        previous, self._last_frame = self._last_frame, time.monotonic()
        self._warned = False
        if self._raw and not cdr.is_plain(msg):
            # Another data representation than plain CDR: the middleware reads it, as rclpy
            # would have; what it cannot read goes on as it came and is counted bad.
            try:
                msg = deserialize_message(msg, self._msg_type)
            except Exception:  # noqa: B902 - whatever the middleware raises
                pass
        if self._input_type == 'hbmem':
            index, last = int(msg.index), self._last_index
            self._last_index = index
            # Lower: the camera restarted. Higher by more than any camera can skip since the
            # last frame: the counter jumped (restarted elsewhere, corrupt), nothing was lost.
            gap = index - last - 1 if last is not None else 0
            if 0 < gap <= (self._last_frame - (previous or self._since)) * MAX_CAMERA_FPS + 1:
                self._on_lost(gap, 'skipped by the camera frame counter')
        self._on_frame(msg)

    def _on_message_lost(self, info: Any) -> None:
        lost = int(info.total_count_change)
        if lost > 0:
            hint = LOST_HINT[self._sub.qos_profile.reliability]
            self._on_lost(lost, f'lost in transport ({hint})')

    def watch(self) -> None:
        """Look at the publishers: follow a change, and say when they send nothing."""
        if self._closed:
            return
        pubs = self._node.get_publishers_info_by_topic(self.topic)
        kinds = tuple(sorted(p.qos_profile.reliability == RELIABLE for p in pubs))
        if kinds != self._publishers:
            self._publishers = kinds
            self._follow(list(kinds))
        if self._sub is None or not pubs or self._warned:
            return
        since = self.seconds_without_frames()
        if since > NO_FRAMES_SEC:
            self._warned = True
            wanted = frames.type_name(self._input_type)
            types = sorted({p.topic_type for p in pubs} - {wanted})
            lost = self._lost_so_far()
            reliable = self._sub.qos_profile.reliability == RELIABLE
            if types:
                why = f'publisher type {", ".join(types)} is not {wanted} (input_type ' \
                      f'{self._input_type})'
            elif reliable and not all(self._publishers):
                why = 'best-effort publishers cannot reach this reliable subscription: set ' \
                      'qos_reliability to auto or best_effort'
            elif lost and not reliable:
                why = f'{lost} reported lost: {LOST_HINT[BEST_EFFORT]}'
            else:
                why = 'the camera may be paused'
            self._node.get_logger().warning(
                f'{len(pubs)} publisher(s) on {self.topic} but no frame for {since:.0f} s '
                f'({self._reliability()} subscription): {why}')

    def _follow(self, reliable: List[bool]) -> None:
        if not reliable:
            return
        want = RELIABLE if all(reliable) else BEST_EFFORT
        if self._mode == 'auto' and (self._sub is None or
                                     self._sub.qos_profile.reliability != want):
            self._subscribe(want)
        elif self._mode == 'reliable' and not all(reliable):
            self._node.get_logger().warning(
                f'{reliable.count(False)} best-effort publisher(s) on {self.topic} cannot reach '
                f'this reliable subscription: set qos_reliability to auto or best_effort')

    def close(self) -> None:
        """Destroy the subscription for good (the node is deactivated or destroyed)."""
        self._closed = True
        if self._sub is not None:
            self._node.destroy_subscription(self._sub)
            self._sub = None


class Camera:
    """One camera of the node: its name, topic, outputs, route, and subscription while active."""

    def __init__(self, name: str, topic: str, outputs: Outputs, route: Route):
        """
        Describe a camera; subscribe later with :meth:`subscribe`.

        :param name: its name ('' for the single camera of a node without image_topics).
        :param topic: its image topic, relative to the node's namespace or absolute.
        :param outputs: its whole-frame publishers.
        :param route: what its frames go through (whole frames, or a detector's regions).
        """
        self.name = name
        self.topic = topic
        self.outputs = outputs
        self.route = route
        self.health = HealthMonitor()
        self.input: Optional[CameraInput] = None
        self.last_accept = 0.0

    def subscribe(self, node: Node, input_type: str, reliability: str,
                  on_frame: Callable[['Camera', Any], None],
                  on_lost: Callable[['Camera', int, str], None]) -> None:
        """
        Subscribe (see :class:`CameraInput`) and start the route's own inputs.

        :param node: the node.
        :param input_type: the input type.
        :param reliability: the qos_reliability parameter.
        :param on_frame: called with this camera and each message.
        :param on_lost: called with this camera, a number of frames and why they were lost.
        """
        self.input = CameraInput(node, input_type, reliability,
                                 lambda msg: on_frame(self, msg),
                                 lambda n, why: on_lost(self, n, why),
                                 lambda: self.route.stats.snapshot()['lost'], self.topic)
        self.route.subscribe(node)

    def close(self) -> None:
        """Unsubscribe; what waits in the route is dropped, counted ``shutdown``."""
        if self.input is not None:
            self.input.close()
            self.input = None
        self.route.close()

    def release(self) -> List[Any]:
        """
        Stop the render thread (a picture being drawn is finished first) and the route.

        :return: every publisher of the camera, for the node to destroy.
        """
        self.outputs.close()
        self.route.close()
        return self.outputs.publishers + self.route.publishers

    def report(self) -> Dict[str, int]:
        """
        Read the camera's picture counters and its route's own.

        :return: counter name -> value.
        """
        counts = self.outputs.report()
        counts.update(self.route.report())
        return counts
