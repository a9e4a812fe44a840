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
Pairing camera frames with a detector's results by stamp, in a small bounded cache.

No ROS here (rclpy has no message_filters on PyPI). Frames wait for the detections with the same
stamp and detections for their frame; a pair comes out as soon as both are there. Whatever finds
no partner within ``timeout`` seconds, or is pushed out by the size bound, is dropped and counted
by reason, and handed to ``on_drop`` so its owner can account for it: nothing is held for ever.
"""

from collections import OrderedDict
import threading
import time
from typing import Any, Callable, Dict, Hashable, List, NamedTuple, Optional, Tuple

KINDS = ('frame', 'detections')
#: Why an item left the cache without a partner: no partner within the timeout; the oldest of
#: its kind pushed out by a newer one over ``queue_size``; an item of the same kind and stamp
#: came after it (the newer waits instead); :meth:`StampSync.close`.
WHY = ('unmatched', 'overflow', 'replaced', 'shutdown')
#: Every count :meth:`StampSync.counts` gives: ``paired``, then ``<kind>_<why>``.
COUNTS = ('paired',) + tuple(f'{kind}_{why}' for kind in KINDS for why in WHY)


class Pair(NamedTuple):
    """A frame and the detections with its stamp."""

    stamp: Tuple[int, int]
    frame: Any
    detections: Any


def stamp_key(stamp: Any) -> Tuple[int, int]:
    """
    Turn a stamp into the cache key.

    :param stamp: a ``builtin_interfaces/Time`` (anything with ``sec`` and ``nanosec``) or a
        ``(sec, nanosec)`` pair.
    :return: ``(sec, nanosec)`` as integers.
    """
    if isinstance(stamp, tuple):
        sec, nanosec = stamp
    else:
        sec, nanosec = stamp.sec, stamp.nanosec
    return int(sec), int(nanosec)


class StampSync:
    """Frames and detections keyed by stamp; pairs out, the rest counted and dropped."""

    def __init__(self, queue_size: int = 10, timeout: float = 0.5,
                 on_drop: Optional[Callable[[str, Any, str], None]] = None,
                 clock: Callable[[], float] = time.monotonic):
        """
        Make an empty cache.

        :param queue_size: frames, and separately detections, that may wait (the oldest of the
            kind goes first).
        :param timeout: seconds an item waits for its partner.
        :param on_drop: called as ``on_drop(kind, item, why)`` for every item dropped (``kind``
            of :data:`KINDS`, ``why`` of :data:`WHY`), outside the cache's lock; whatever it
            raises propagates to the caller of the method that dropped the item.
        :param clock: seconds, monotonic (tests pass a fake one).
        """
        if queue_size < 1:
            raise ValueError(f'queue_size must be at least 1, got {queue_size}')
        if not timeout > 0.0:
            raise ValueError(f'timeout must be positive, got {timeout}')
        self._size = int(queue_size)
        self._timeout = float(timeout)
        self._on_drop = on_drop
        self._clock = clock
        self._lock = threading.Lock()
        # kind -> stamp -> (arrival time, item), oldest arrival first.
        self._waiting: Dict[str, 'OrderedDict[Hashable, Tuple[float, Any]]'] = {
            kind: OrderedDict() for kind in KINDS}
        self._counts = dict.fromkeys(COUNTS, 0)

    def add_frame(self, stamp: Any, frame: Any) -> Optional[Pair]:
        """
        Add a frame; pair it when its detections are waiting.

        :param stamp: the frame's stamp (see :func:`stamp_key`).
        :param frame: the frame.
        :return: the pair, or None while the frame waits.
        """
        return self._add('frame', stamp, frame)

    def add_detections(self, stamp: Any, detections: Any) -> Optional[Pair]:
        """
        Add a detector's result; pair it when its frame is waiting.

        :param stamp: the stamp of the frame the detections were made on.
        :param detections: the detections.
        :return: the pair, or None while the detections wait.
        """
        return self._add('detections', stamp, detections)

    def _add(self, kind: str, stamp: Any, item: Any) -> Optional[Pair]:
        key = stamp_key(stamp)
        other = KINDS[1 - KINDS.index(kind)]
        dropped: List[Tuple[str, Any, str]] = []
        pair = None
        with self._lock:
            now = self._clock()
            self._expire(now, dropped)
            partner = self._waiting[other].pop(key, None)
            if partner is not None:
                self._counts['paired'] += 1
                pair = Pair(key, item, partner[1]) if kind == 'frame' \
                    else Pair(key, partner[1], item)
            else:
                waiting = self._waiting[kind]
                old = waiting.pop(key, None)
                if old is not None:
                    self._drop(kind, old[1], 'replaced', dropped)
                waiting[key] = (now, item)
                while len(waiting) > self._size:
                    self._drop(kind, waiting.popitem(last=False)[1][1], 'overflow', dropped)
        self._report(dropped)
        return pair

    def _drop(self, kind: str, item: Any, why: str, dropped: list) -> None:
        self._counts[f'{kind}_{why}'] += 1
        dropped.append((kind, item, why))

    def _expire(self, now: float, dropped: list) -> None:
        for kind, waiting in self._waiting.items():
            while waiting:
                key, (arrived, item) = next(iter(waiting.items()))
                if now - arrived <= self._timeout:
                    break
                del waiting[key]
                self._drop(kind, item, 'unmatched', dropped)

    def _report(self, dropped: list) -> None:
        if self._on_drop is not None:
            for kind, item, why in dropped:
                self._on_drop(kind, item, why)

    def expire(self) -> int:
        """
        Drop whatever has waited longer than the timeout.

        Adding an item expires the cache too; a timer calling this makes sure that nothing
        waits on when no new items arrive.

        :return: how many items were dropped.
        """
        dropped: List[Tuple[str, Any, str]] = []
        with self._lock:
            self._expire(self._clock(), dropped)
        self._report(dropped)
        return len(dropped)

    def close(self) -> int:
        """
        Drop everything waiting, counted as ``shutdown``.

        :return: how many items were dropped.
        """
        dropped: List[Tuple[str, Any, str]] = []
        with self._lock:
            for kind, waiting in self._waiting.items():
                for _, item in waiting.values():
                    self._drop(kind, item, 'shutdown', dropped)
                waiting.clear()
        self._report(dropped)
        return len(dropped)

    def pending(self) -> Dict[str, int]:
        """
        Count what waits now.

        :return: ``{'frame': n, 'detections': m}``.
        """
        with self._lock:
            return {kind: len(waiting) for kind, waiting in self._waiting.items()}

    def counts(self) -> Dict[str, int]:
        """
        Read the counters.

        :return: ``paired`` and ``<kind>_<why>`` for every kind and reason (see :data:`COUNTS`).
        """
        with self._lock:
            return dict(self._counts)
