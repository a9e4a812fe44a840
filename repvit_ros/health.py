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
The node's health: throttled event reports and the diagnostic level of the recent past.

Pure logic, no ROS: the node feeds counter snapshots in once a second and publishes what
:class:`HealthMonitor` decides. The level looks at a recent window only, so one failed or lost
frame raises it for that window and not for the rest of the process's life.
"""

from collections import deque
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels
NO_FRAMES_SEC = 5.0  # publishers exist but no frame for this long: say so
WINDOW_SEC = 10.0    # the level reflects this much of the recent past
LOG_PERIOD_SEC = 5.0


class ThrottledEvents:
    """
    Count events per kind and tell when a log line is due, with the count since the last one.

    rclpy's ``throttle_duration_sec`` would hide how many events were skipped in between.
    """

    def __init__(self, period: float = LOG_PERIOD_SEC):
        self._period = period
        self._lock = threading.Lock()
        self._last: Dict[str, float] = {}
        self._pending: Dict[str, int] = {}

    def due(self, kind: str, n: int = 1, now: Optional[float] = None) -> int:
        """
        Count ``n`` events of ``kind``.

        :param kind: the event kind (``bad``, ``failed``, ``lost``...).
        :param n: how many happened.
        :param now: monotonic time (for tests).
        :return: how many to report if a log line is due now, else 0.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            self._pending[kind] = self._pending.get(kind, 0) + n
            if now - self._last.get(kind, -self._period) < self._period:
                return 0
            count, self._pending[kind], self._last[kind] = self._pending[kind], 0, now
            return count


class EventLog:
    """Log lines for per-frame events (bad, failed, lost), throttled, each with its count."""

    def __init__(self, warn: Callable[[str], None], error: Callable[[str], None],
                 period: float = LOG_PERIOD_SEC):
        """
        Log through the given functions.

        :param warn: logs a warning line (the node's logger).
        :param error: logs an error line.
        :param period: seconds between two lines of one kind.
        """
        self._warn, self._error = warn, error
        self._events = ThrottledEvents(period)

    def report(self, kind: str, what: Any, n: int = 1, where: str = '') -> None:
        """
        Count ``n`` events and log one line when due.

        :param kind: ``bad`` (a frame that cannot be converted), ``failed`` (the backend or
            publishing raised) or ``lost`` (frames that never arrived).
        :param what: the exception, or for ``lost`` why they were lost.
        :param n: how many events.
        :param where: the backend (failed) or the topic (lost).
        """
        count = self._events.due(kind, n)
        if not count:
            return
        since = 'since the last report'
        if kind == 'failed':
            self._error(f'frame failed on {where}: {type(what).__name__}: {what} ({count} '
                        f'failure(s) {since})')
        elif kind == 'bad':
            self._warn(f'bad frame skipped: {what} ({count} bad frame(s) {since})')
        else:
            self._warn(f'{count} frame(s) on {where} {what}, {since}')


class HealthMonitor:
    """Turn counter snapshots into rates and a diagnostic level and message."""

    def __init__(self, window: float = WINDOW_SEC, no_frames_after: float = NO_FRAMES_SEC):
        self._window = window
        self._no_frames_after = no_frames_after
        self._history: Deque[Tuple[float, Dict[str, Any]]] = deque()
        self._previous: Optional[Tuple[float, Dict[str, Any]]] = None

    def assess(self, snap: Dict[str, Any], now: float, publishers: int,
               since_frame: Optional[float],
               subscribed: bool = True) -> Tuple[int, str, Dict[str, float]]:
        """
        Decide the level from what changed in the recent window.

        :param snap: the pipeline's counters now (received, published, failed, lost, bad,
            dropped_queue_full...).
        :param now: monotonic time of ``snap``.
        :param publishers: publishers on the input topic(s) now.
        :param since_frame: seconds since the last frame arrived (since subscribing if none).
        :param subscribed: whether the input subscription exists yet.
        :return: (level, message, rates: input_rate_hz and output_rate_hz over the last second).
        """
        if not self._history:
            # What was counted before the first look happened within the window too: compared
            # with zero counts, a frame that failed in the first second keeps the level at
            # ERROR for the whole window, not until the next look a second later.
            self._history.append((now, {}))
        self._history.append((now, dict(snap)))
        while len(self._history) > 2 and now - self._history[1][0] >= self._window:
            self._history.popleft()
        first = self._history[0][1]
        last_t, last = self._previous if self._previous is not None else (now, snap)
        self._previous = (now, dict(snap))
        dt = max(now - last_t, 1e-6)
        rates = {'input_rate_hz': (snap['received'] - last['received']) / dt,
                 'output_rate_hz': (snap['published'] - last['published']) / dt}

        def recent(key: str) -> int:
            return snap.get(key, 0) - first.get(key, 0)

        failed, lost = recent('failed'), recent('lost')
        w = f'{self._window:.0f} s'
        if failed:
            return ERROR, f'{failed} frame(s) failed in the last {w} (backend or publishing)', \
                rates
        if not subscribed:
            return WARN, 'waiting for a publisher on the input topic', rates
        stalled = since_frame is not None and since_frame > self._no_frames_after
        if publishers and stalled:
            return WARN, f'{publishers} publisher(s) on the input but no frame for ' \
                         f'{since_frame:.0f} s', rates
        if snap['received'] == 0:
            return WARN, 'no frames received', rates
        if stalled and not publishers:  # the camera went away after sending frames
            return WARN, f'no publisher on the input and no frame for {since_frame:.0f} s ' \
                         f'({snap["received"]} received before)', rates
        if lost:
            return WARN, f'{lost} frame(s) lost before the node in the last {w}', rates
        lost_arrays = recent('detections_lost')
        if lost_arrays:
            return WARN, f'{lost_arrays} detection array(s) lost before the node in the ' \
                         f'last {w}', rates
        if recent('dropped_queue_full') or recent('bad'):
            return OK, 'classifying, some frames dropped or bad', rates
        return OK, 'classifying', rates


def stop_line(released: List[str], snap: Dict[str, Any], abandoned: int) -> str:
    """
    Write the node's last log line: what it released and its final counts.

    :param released: what was released (workers, backend).
    :param snap: the pipeline's final counters.
    :param abandoned: frames given up in a worker at shutdown.
    :return: the line.
    """
    others = ''.join(f', {k[len("dropped_"):].replace("_", " ")} {v}' for k, v in snap.items()
                     if k.startswith('dropped_') and v and k not in
                     ('dropped_queue_full', 'dropped_rate_limit', 'dropped_shutdown'))
    return (f'stopped: released {" and ".join(released)}; frames received {snap["received"]}, '
            f'published {snap["published"]}, dropped {snap["dropped"]} (queue full '
            f'{snap["dropped_queue_full"]}, rate limit {snap["dropped_rate_limit"]}{others}, '
            f'shutdown {snap["dropped_shutdown"]}, of which {abandoned} abandoned in a worker), '
            f'bad {snap["bad"]}, failed {snap["failed"]}; lost before the node {snap["lost"]}')
