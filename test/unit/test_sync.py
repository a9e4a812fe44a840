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

"""Pairing frames and detections by stamp (no ROS): exact counts with a fake clock."""

import random
import threading
from types import SimpleNamespace

import pytest
from repvit_ros.sync import COUNTS, Pair, stamp_key, StampSync


class Clock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _sync(**kwargs):
    clock, dropped = Clock(), []
    sync = StampSync(clock=clock, on_drop=lambda *d: dropped.append(d), **kwargs)
    return sync, clock, dropped


def _expect(sync, **counts):
    assert sync.counts() == {**dict.fromkeys(COUNTS, 0), **counts}


def test_pairs_come_out_whichever_arrives_first():
    sync, clock, dropped = _sync()
    assert sync.add_frame((5, 10), 'f1') is None
    assert sync.add_detections(SimpleNamespace(sec=5, nanosec=10), 'd1') == \
        Pair((5, 10), 'f1', 'd1')
    assert sync.add_detections((6, 0), 'd2') is None
    assert sync.add_frame((6, 1), 'f3') is None  # a nanosecond apart: no pair
    assert sync.add_frame((6, 0), 'f2') == Pair((6, 0), 'f2', 'd2')
    assert sync.pending() == {'frame': 1, 'detections': 0}
    _expect(sync, paired=2)
    assert dropped == []


def test_unmatched_items_are_dropped_after_the_timeout_and_counted():
    sync, clock, dropped = _sync(timeout=0.5)
    sync.add_frame((1, 0), 'f1')
    sync.add_detections((2, 0), 'd2')
    clock.now += 0.3
    sync.add_frame((3, 0), 'f3')
    clock.now += 0.2  # f1 and d2 have waited exactly the timeout: still there
    assert sync.expire() == 0
    clock.now += 0.01
    assert sync.expire() == 2
    assert dropped == [('frame', 'f1', 'unmatched'), ('detections', 'd2', 'unmatched')]
    assert sync.add_detections((1, 0), 'd1') is None  # its frame is gone: d1 waits in turn
    clock.now += 0.3  # f3 has waited 0.51 s: an add expires it too
    assert sync.add_detections((9, 0), 'd9') is None
    assert dropped[-1] == ('frame', 'f3', 'unmatched')
    _expect(sync, frame_unmatched=2, detections_unmatched=1)
    assert sync.pending() == {'frame': 0, 'detections': 2}
    assert sync.close() == 2
    _expect(sync, frame_unmatched=2, detections_unmatched=1, detections_shutdown=2)
    assert sync.pending() == {'frame': 0, 'detections': 0}


def test_size_bound_drops_the_oldest_of_each_kind():
    sync, clock, dropped = _sync(queue_size=3)
    for i in range(5):
        sync.add_frame((i, 0), f'f{i}')
        clock.now += 0.01
    for i in range(10, 14):
        sync.add_detections((i, 0), f'd{i}')
    assert dropped == [('frame', 'f0', 'overflow'), ('frame', 'f1', 'overflow'),
                       ('detections', 'd10', 'overflow')]
    assert sync.pending() == {'frame': 3, 'detections': 3}
    assert sync.add_detections((2, 0), 'd2') == Pair((2, 0), 'f2', 'd2')
    _expect(sync, paired=1, frame_overflow=2, detections_overflow=1)


def test_a_second_item_with_the_same_stamp_replaces_the_first():
    sync, clock, dropped = _sync()
    sync.add_frame((1, 0), 'old')
    clock.now += 0.4
    sync.add_frame((1, 0), 'new')
    clock.now += 0.4  # 'new' waits its own full timeout
    assert sync.add_detections((1, 0), 'd') == Pair((1, 0), 'new', 'd')
    assert dropped == [('frame', 'old', 'replaced')]
    _expect(sync, paired=1, frame_replaced=1)


def test_bad_settings_and_stamps():
    with pytest.raises(ValueError):
        StampSync(queue_size=0)
    with pytest.raises(ValueError):
        StampSync(timeout=0.0)
    assert stamp_key(SimpleNamespace(sec=3, nanosec=4)) == (3, 4) == stamp_key((3, 4))


def test_threads_account_for_every_item():
    dropped, lock = [], threading.Lock()

    def on_drop(*item):
        with lock:
            dropped.append(item)

    sync = StampSync(queue_size=4, timeout=60.0, on_drop=on_drop)
    pairs = []
    stamps = list(range(2000))
    random.Random(0).shuffle(stamps)

    def feed(kind):
        add = sync.add_frame if kind == 'frame' else sync.add_detections
        for s in stamps:
            pair = add((s, 0), (kind, s))
            if pair is not None:
                with lock:
                    pairs.append(pair)

    threads = [threading.Thread(target=feed, args=(k,)) for k in ('frame', 'detections')]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sync.close()
    counts = sync.counts()
    assert counts['paired'] == len(pairs) and all(
        p.frame == ('frame', p.stamp[0]) and p.detections == ('detections', p.stamp[0])
        for p in pairs)
    for kind in ('frame', 'detections'):  # every item paired or dropped exactly once
        gone = [d for d in dropped if d[0] == kind]
        assert len(pairs) + len(gone) == 2000
        assert counts[f'{kind}_overflow'] + counts[f'{kind}_shutdown'] == len(gone)
