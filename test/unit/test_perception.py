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

"""The RDK web display's content (ai_msgs as plain data), without ROS."""

import pytest
from repvit_ros.perception import (inset_rect, perception_info, perception_targets, STAGES,
                                   StageTime, to_stamp)

RANKED = [(281, 'tabby, tabby cat', 0.625), (282, 'tiger cat', 0.25),
          (285, 'Egyptian cat', 0.0625), (287, 'lynx, catamount', 0.03125),
          (283, 'Persian cat', 0.015625)]


def _timings(t0=1_700_000_000.25):
    return {'preprocess': StageTime(t0 + 0.010, t0 + 0.012),
            'inference': StageTime(t0 + 0.012, t0 + 0.020, 7.5),
            'postprocess': StageTime(t0 + 0.020, t0 + 0.0205),
            'pipeline': StageTime(t0, t0 + 0.021)}


def test_web_display_target_covers_the_frame_and_carries_the_ranking():
    msg = perception_targets((640, 480), RANKED, 29.6, _timings(), model_name='m1_0')
    assert msg['fps'] == 30 and msg['disappeared_targets'] == []
    (target,) = msg['targets']
    assert target['type'] == 'tabby, tabby cat'
    (roi,) = target['rois']
    rect = roi['rect']
    assert min(rect['x_offset'], rect['y_offset'], rect['width'], rect['height']) > 0
    assert rect['x_offset'] + rect['width'] <= 640 and rect['y_offset'] + rect['height'] <= 480
    assert (rect['x_offset'], rect['y_offset'], rect['width'], rect['height']) == (1, 1, 638, 478)
    assert [(a['type'], a['value'], a['confidence']) for a in target['attributes']] == \
        [(name, p, p) for _, name, p in RANKED]


def test_web_display_perfs_are_the_four_stages_with_non_negative_durations():
    msg = perception_targets((640, 480), RANKED, 30.0, _timings(), model_name='m1_0')
    assert [p['type'] for p in msg['perfs']] == \
        ['m1_0_preprocess', 'm1_0_predict_infer', 'm1_0_postprocess', 'm1_0_pipeline']
    assert len(STAGES) == 4
    for perf in msg['perfs']:
        assert perf['time_ms_duration'] >= 0
        assert perf['stamp_end'] >= perf['stamp_start']
        assert all(0 <= ns < 1_000_000_000 for _, ns in (perf['stamp_start'], perf['stamp_end']))
    pre, infer, _, pipeline = msg['perfs']
    assert pre['time_ms_duration'] == pytest.approx(2.0, abs=1e-3)
    assert infer['time_ms_duration'] == 7.5  # a measured duration wins over the stamps
    assert pipeline['stamp_start'] == (1_700_000_000, 250_000_000)
    assert pipeline['time_ms_duration'] == pytest.approx(21.0, abs=1e-3)
    # A wall clock that stepped back never gives a negative duration.
    back = perception_targets((64, 48), RANKED, 1.0, {'preprocess': StageTime(10.0, 9.0)})
    (perf,) = back['perfs']
    assert perf['time_ms_duration'] == 0.0 and perf['stamp_end'] == perf['stamp_start']


def test_web_display_edge_cases():
    assert perception_targets((640, 480), [], 5.0, {})['targets'] == []
    assert perception_targets((640, 480), RANKED, None, {})['fps'] == -1
    assert perception_targets((640, 480), RANKED, 1e9, {})['fps'] == 32767
    tiny = perception_targets((2, 2), RANKED, 5.0, {})
    assert tiny['targets'][0]['rois'] == []
    smallest = perception_targets((3, 3), RANKED, 5.0, {})['targets'][0]['rois'][0]['rect']
    assert (smallest['width'], smallest['height']) == (1, 1)


def test_perception_info_and_stamps():
    assert perception_info((640, 480), ['a', 'b']) == {'width': 640, 'height': 480,
                                                       'class_names': ['a', 'b']}
    assert to_stamp(12.5) == (12, 500_000_000)
    assert to_stamp(-3.0) == (0, 0)
    assert to_stamp(1_700_000_000.999999999)[1] < 1_000_000_000
    assert to_stamp((1_700_000_000, 123_456_789)) == (1_700_000_000, 123_456_789)
    # A frame's header stamp as the pipeline's start is kept to the nanosecond.
    stamp = (1_700_000_000, 123_456_789)
    msg = perception_targets((64, 48), RANKED, 1.0,
                             {'pipeline': StageTime(stamp, 1_700_000_000.2)})
    assert msg['perfs'][0]['stamp_start'] == stamp
    assert msg['perfs'][0]['time_ms_duration'] == pytest.approx(76.543211, abs=1e-3)


def test_regions_give_one_target_per_classified_box_its_roi_the_box():
    boxes = [((100, 50, 80, 60), RANKED[:2]), ((0, 400, 40, 80), RANKED[2:3]),
             ((600, 0, 40, 30), [])]
    msg = perception_targets((640, 480), [], 10.0, _timings(), regions=boxes)
    assert [t['type'] for t in msg['targets']] == ['tabby, tabby cat', 'Egyptian cat', '']
    rects = [[(r['rect']['x_offset'], r['rect']['y_offset'], r['rect']['width'],
               r['rect']['height']) for r in t['rois']] for t in msg['targets']]
    # Inside: as it is; at the left, bottom, top or right edge: one pixel in (the page drops a
    # box with a zero coordinate).
    assert rects == [[(100, 50, 80, 60)], [(1, 400, 39, 79)], [(600, 1, 39, 29)]]
    first = msg['targets'][0]
    assert first['rois'][0]['type'] == 'tabby, tabby cat'
    assert first['rois'][0]['confidence'] == 0.625
    assert [(a['type'], a['value']) for a in first['attributes']] == \
        [('tabby, tabby cat', 0.625), ('tiger cat', 0.25)]
    assert msg['targets'][2]['attributes'] == []
    assert perception_targets((640, 480), RANKED, 10.0, {}, regions=[])['targets'] == []
    assert inset_rect((0, 0, 1, 1), (640, 480)) is None  # nothing left of a corner pixel
