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

"""Health decisions and throttled event logs, without ROS."""

from repvit_ros.health import ERROR, EventLog, HealthMonitor, OK, stop_line, ThrottledEvents, WARN


def snap(**counts):
    base = {'received': 0, 'published': 0, 'failed': 0, 'lost': 0, 'bad': 0,
            'dropped_queue_full': 0}
    base.update(counts)
    return base


def test_one_failure_raises_the_level_for_the_window_only():
    mon = HealthMonitor(window=10.0)
    level, _, _ = mon.assess(snap(received=10, published=10), 0.0, 1, 0.1)
    assert level == OK
    level, message, _ = mon.assess(snap(received=11, published=10, failed=1), 1.0, 1, 0.1)
    assert level == ERROR and '1 frame(s) failed' in message
    t, n = 1.0, 11
    while t < 11.5:  # frames keep flowing, nothing else fails
        t, n = t + 1.0, n + 30
        level, message, rates = mon.assess(snap(received=n, published=n - 1, failed=1), t, 1,
                                           0.1)
    assert level == OK and message == 'classifying'
    assert rates['input_rate_hz'] == 30.0


def test_failures_before_the_first_look_keep_the_level_for_the_whole_window():
    # README: ERROR while frames failed in the last 10 s; the first look (1 s after start)
    # sees a failure counted before it, and the next looks must still see it as recent.
    mon = HealthMonitor(window=10.0)
    levels = [mon.assess(snap(received=t, published=t - 1, failed=1), float(t), 1, 0.1)[0]
              for t in range(1, 13)]
    assert levels[:10] == [ERROR] * 10 and levels[-1] == OK
    # Rates have no previous look at first: zero, not a division by nothing.
    assert HealthMonitor().assess(snap(received=30), 1.0, 1, 0.1)[2]['input_rate_hz'] == 0.0


def test_lost_detection_arrays_warn():
    mon = HealthMonitor(window=5.0)
    mon.assess(snap(received=5, published=5, detections_lost=0), 0.0, 1, 0.1)
    level, message, _ = mon.assess(snap(received=6, published=6, detections_lost=2), 1.0, 1,
                                   0.1)
    assert level == WARN and message == '2 detection array(s) lost before the node in the ' \
                                        'last 5 s'


def test_lost_frames_warn_then_clear():
    mon = HealthMonitor(window=5.0)
    mon.assess(snap(received=5, published=5), 0.0, 1, 0.1)
    level, message, _ = mon.assess(snap(received=6, published=6, lost=3), 1.0, 1, 0.1)
    assert level == WARN and '3 frame(s) lost' in message
    for t in range(2, 9):
        level, _, _ = mon.assess(snap(received=6 + t, published=6 + t, lost=3), float(t), 1,
                                 0.1)
    assert level == OK


def test_publishers_without_frames_are_reported():
    mon = HealthMonitor(no_frames_after=5.0)
    level, message, _ = mon.assess(snap(received=100, published=100), 0.0, 2, 6.0)
    assert level == WARN and '2 publisher(s)' in message and 'no frame for 6 s' in message
    level, message, _ = mon.assess(snap(), 1.0, 0, 1.0, subscribed=False)
    assert level == WARN and 'waiting for a publisher' in message
    level, message, _ = mon.assess(snap(), 2.0, 1, 1.0)
    assert level == WARN and message == 'no frames received'
    # The camera went away after 55 frames: not 'no frames received', but what is true.
    level, message, _ = mon.assess(snap(received=55, published=55), 3.0, 0, 7.0)
    assert level == WARN and message == \
        'no publisher on the input and no frame for 7 s (55 received before)'


def test_drops_and_bad_frames_stay_ok_but_are_said():
    mon = HealthMonitor()
    mon.assess(snap(received=5, published=5), 0.0, 1, 0.1)
    level, message, _ = mon.assess(snap(received=9, published=6, bad=3), 1.0, 1, 0.1)
    assert level == OK and 'dropped or bad' in message


def test_throttled_events_report_the_count_since_the_last_line():
    ev = ThrottledEvents(period=5.0)
    assert ev.due('bad', now=0.0) == 1
    assert [ev.due('bad', now=t) for t in (1.0, 2.0, 3.0)] == [0, 0, 0]
    assert ev.due('failed', now=3.0) == 1  # kinds are throttled apart
    assert ev.due('bad', n=2, now=5.5) == 5


def test_event_log_lines():
    lines = []
    log = EventLog(lambda m: lines.append(('warn', m)), lambda m: lines.append(('error', m)))
    log.report('failed', ValueError('boom'), where='onnxruntime')
    log.report('bad', 'step too short')
    log.report('lost', 'lost in transport (why)', n=4, where='/image')
    assert lines == [
        ('error', 'frame failed on onnxruntime: ValueError: boom (1 failure(s) since the last '
                  'report)'),
        ('warn', 'bad frame skipped: step too short (1 bad frame(s) since the last report)'),
        ('warn', '4 frame(s) on /image lost in transport (why), since the last report')]


def test_stop_line_has_every_count():
    counts = {'received': 10, 'published': 6, 'dropped': 3, 'dropped_queue_full': 1,
              'dropped_rate_limit': 1, 'dropped_shutdown': 1, 'bad': 1, 'failed': 0, 'lost': 2}
    line = stop_line(['2 worker(s)', 'the onnxruntime backend'], counts, 1)
    assert line.startswith('stopped: released 2 worker(s) and the onnxruntime backend')
    assert 'received 10, published 6, dropped 3' in line and 'of which 1 abandoned' in line
    assert 'lost before the node 2' in line


def test_stop_line_names_other_drop_reasons_that_happened():
    counts = {'received': 9, 'published': 5, 'dropped': 4, 'dropped_queue_full': 0,
              'dropped_rate_limit': 0, 'dropped_shutdown': 1, 'dropped_no_detections': 3,
              'dropped_sync_overflow': 0, 'bad': 0, 'failed': 0, 'lost': 0}
    line = stop_line(['1 worker(s)'], counts, 0)
    assert 'no detections 3' in line and 'sync overflow' not in line
    assert 'dropped 4 (queue full 0, rate limit 0, no detections 3, shutdown 1' in line
