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

"""Benchmark modes of robot pipelines (cameras, sweep, regions) in small: consistent figures."""

import json
import math
from pathlib import Path
import time

import numpy as np
import pytest

from repvit_ros.backends import BackendError
from repvit_ros.bench import benchmark, robot
from repvit_ros.bench.harness import model_file
from repvit_ros.bench.servers import EmulatedBackend
from repvit_ros.bench.streams import detector_boxes

#: this checkout, run as its own baseline
ROOT = str(Path(__file__).resolve().parents[2])

FIGURES = ('sent_fps', 'throughput_fps', 'latency_p50_ms', 'latency_p99_ms', 'cpu_ms_per_frame',
           'rss_mb', 'pss_mb', 'others_cores', 'feeder_cpu_ms_per_frame')


def check_counts(row, runs=1):
    """Check that counts add up per camera and over cameras, and the drop share with them."""
    assert row['runs'] == runs
    assert row['sent'] == row['delivered'] + row['dropped'] > 0
    assert row['delivered'] > 0
    assert sum(c['sent'] for c in row['per_camera']) == row['sent']
    assert sum(c['delivered'] for c in row['per_camera']) == row['delivered']
    assert row['drop_pct'] == pytest.approx(100.0 * row['dropped'] / row['sent'])
    worst = max(100.0 * (c['sent'] - c['delivered']) / c['sent'] for c in row['per_camera'])
    assert row['worst_camera_drop_pct'] >= worst - 1e-9 or runs > 1
    assert row['worst_camera_drop_pct'] >= row['drop_pct'] - 1e-9 or runs > 1
    for key in FIGURES:
        assert math.isfinite(row[key]) and row[key] >= 0, key
    assert row['latency_p99_ms'] >= row['latency_p50_ms'] > 0
    assert row['sent_fps'] >= row['throughput_fps'] > 0
    assert 0 < row['pss_mb'] <= row['rss_mb'] + 1


def test_emulated_backend_checks_input_waits_and_holds_a_model():
    backend = EmulatedBackend(0.02, model_file('m0_9'))
    assert backend.model_loaded and 'loaded, unused' in backend.path
    nv12 = np.full((336, 224), 128, np.uint8)
    t = time.monotonic()
    logits = backend.infer(nv12)
    assert time.monotonic() - t >= 0.019  # at least the emulated time, never less
    assert logits.shape == (1000,) and logits.dtype == np.float32
    with pytest.raises(BackendError, match='expects'):
        backend.infer(np.zeros((224, 224), np.uint8))  # the same input check as a real backend
    backend.close()
    assert not backend.model_loaded
    with pytest.raises(ValueError):
        EmulatedBackend(-1.0)


def test_layouts_name_one_topic_per_camera():
    params = robot.emulated_params(2, 2.0)
    nodes, streams = robot.layout_of('one node', 3, '/b', params)
    assert len(nodes) == 1 and nodes[0][1]['image_topics'] == [s.image for s in streams]
    assert [s.results for s in streams] == [f'/b_one3/cam{i}/classification' for i in range(3)]
    nodes, streams = robot.layout_of('node per camera', 3, '/b', params)
    assert [ns for ns, _ in nodes] == [f'/b_sep3_{i}' for i in range(3)]
    assert all('image_topics' not in p for _, p in nodes)
    assert [s.image for s in streams] == [f'/b_sep3_{i}/image' for i in range(3)]
    with pytest.raises(ValueError):
        robot.layout_of('two nodes', 2, '/b', params)


def test_detector_boxes_lie_inside_the_frame():
    for det in detector_boxes(20, 960, 544, seed=3):
        box = det.bbox
        assert 48 <= box.size_x <= 256 and 48 <= box.size_y <= 256
        assert box.size_x / 2 <= box.center.position.x <= 960 - box.size_x / 2
        assert box.size_y / 2 <= box.center.position.y <= 544 - box.size_y / 2


def test_targets_and_summary_follow_from_the_rows():
    run = {'sent': 100, 'delivered': 99, 'dropped': 1, 'items': 99, 'worst_camera_drop_pct': 2.0,
           'per_camera': [{'name': 'cam0', 'sent': 50, 'delivered': 50},
                          {'name': 'cam1', 'sent': 50, 'delivered': 49}],
           **dict.fromkeys(robot._MEDIAN_KEYS, 1.0)}
    summary = robot.summarise([run, dict(run, latency_p99_ms=3.0), dict(run, latency_p99_ms=2.0)])
    assert summary['sent'] == 300 and summary['dropped'] == 3 and summary['drop_pct'] == 1.0
    assert summary['latency_p99_ms'] == 2.0 and summary['runs'] == 3
    assert summary['per_camera'][1] == {'name': 'cam1', 'sent': 150, 'delivered': 147}
    rows = [dict(summary, cameras=4, layout='one node')]
    t = robot.targets(rows, [{'cameras': 4, 'cpu_ratio': 0.9, 'rss_ratio': 0.6,
                              'pss_ratio': 0.7}])
    assert t['drop_pct'] == (1.0, False) and t['latency_p99_ms'] == (2.0, True)
    assert t['cpu_ratio'] == (0.9, True) and t['rss_ratio'] == (0.6, False)
    assert robot.targets(rows, []) == {}


@pytest.mark.measuring
def test_cameras_mode_runs_both_layouts_side_by_side():
    res = robot.bench_cameras(counts=(1, 2), duration=1.5, warmup=0.5, repeats=1,
                              model='m0_9')
    assert [(r['cameras'], r['layout'], r['processes']) for r in res['rows']] == [
        (1, 'one node', 1), (1, 'node per camera', 1), (2, 'one node', 1),
        (2, 'node per camera', 2)]
    for r in res['rows']:
        check_counts(r)
        assert r['offered_fps'] == 30.0 * r['cameras']
        assert [c['name'] for c in r['per_camera']] == [f'cam{i}' for i in range(r['cameras'])]
    by = {(r['cameras'], r['layout']): r for r in res['rows']}
    for ratio in res['ratios']:
        n = ratio['cameras']
        one, sep = by[(n, 'one node')], by[(n, 'node per camera')]
        assert ratio['rss_ratio'] == pytest.approx(one['rss_mb'] / sep['rss_mb'])
        assert ratio['cpu_ratio'] == pytest.approx(one['cpu_ms_per_frame'] /
                                                   sep['cpu_ms_per_frame'])
    # Two processes holding a model take more memory than one (not a speed).
    assert res['ratios'][1]['rss_ratio'] < 1.0
    assert res['targets'] == {}  # set for 4 cameras, not run here
    table = benchmark.to_markdown(res)
    assert '| 2 | node per camera | 2 | 60 / ' in table
    assert 'RepViT m0_9 ONNX held in every node process' in table
    assert 'one node / node per camera' in table


@pytest.mark.measuring
def test_sweep_stops_each_layout_at_its_first_failure():
    res = robot.bench_sweep(max_cameras=2, duration=1.0, warmup=0.5, repeats=1)
    for lay in robot.LAYOUTS:
        rows = [r for r in res['rows'] if r['layout'] == lay]
        assert [r['cameras'] for r in rows] == list(range(1, len(rows) + 1))
        for r in rows:
            check_counts(r)
            assert r['serves'] == (r['drop_pct'] < 1.0)
        assert all(r['serves'] for r in rows[:-1])
        served = [r['cameras'] for r in rows if r['serves']]
        assert res['largest'][lay] == (served[-1] if served else 0)
        assert len(rows) == 2 or not rows[-1]['serves']
    assert 'Most cameras served at 30 Hz' in benchmark.to_markdown(res)


def test_regions_mode_counts_every_region_through_the_cli_beside_a_baseline(capsys):
    assert benchmark.main(['regions', '--detections', '1,3', '--duration', '1.5', '--runs',
                           '1', '--baseline', ROOT, '--json']) == 0
    res = json.loads(capsys.readouterr().out)
    assert res['mode'] == 'regions' and res['resolution'] == '960x544'
    assert [(r['detections'], r['node']) for r in res['rows']] == [
        (1, 'this'), (1, 'before'), (3, 'this'), (3, 'before')]
    for r in res['rows']:
        check_counts(r)
        # Every box lies inside the frame and is larger than roi_min_size: all classified.
        assert r['items'] == r['detections'] * r['delivered']
        assert r['cpu_ms_per_item'] == pytest.approx(r['cpu_ms_per_frame'] / r['detections'])
        assert r['offered_regions_per_s'] == 30.0 * r['detections']
    table = robot.to_markdown(res)
    assert '| 3 | this | 90 |' in table and '| 3 | before | 90 |' in table
    by = {(r['detections'], r['node']): r['latency_p50_ms'] for r in res['rows']}
    # 3 boxes over 2 workers: ceil(3 / 2) = 2; each node's latency against its own 1 box.
    assert (f'| 3 | 2 | {by[3, "this"]:.1f} | {by[3, "this"] / by[1, "this"]:.2f} | '
            f'{by[3, "before"]:.1f} | {by[3, "before"] / by[1, "before"]:.2f} |') in table


def test_sweep_runs_the_layouts_asked_beside_a_baseline(capsys):
    assert benchmark.main(['sweep', '--layouts', 'one node', '--max-cameras', '1',
                           '--duration', '2', '--runs', '1', '--baseline', ROOT,
                           '--json']) == 0
    res = json.loads(capsys.readouterr().out)
    assert [(r['cameras'], r['layout'], r['node']) for r in res['rows']] == [
        (1, 'one node', 'this'), (1, 'one node', 'before')]
    for r in res['rows']:
        check_counts(r)
    assert set(res['largest']) == {'one node', 'one node (before)'}
    assert '| 1 | one node (before) | 1 |' in robot.to_markdown(res)
    with pytest.raises(SystemExit, match='--layouts: two nodes; choose from one node'):
        benchmark.main(['sweep', '--layouts', 'one node,two nodes'])


def test_robot_modes_take_one_worker_count():
    with pytest.raises(SystemExit, match='one worker count'):
        benchmark.main(['cameras', '--threads', '1,2'])
