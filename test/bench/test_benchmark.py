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

"""The benchmark tool: every mode runs, in small, and reports consistent figures."""

import itertools
import json
import os
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from repvit_ros import models
from repvit_ros.backends import BACKENDS
from repvit_ros.bench import benchmark, demo, harness, servers
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.labels import load_labels
from repvit_ros.messages import make_message
from repvit_ros.preprocess import decode, jpeg_reduction
from ros_support import INSTALL_PREFIX


def test_preprocess_mode_rows_are_consistent():
    res = benchmark.bench_preprocess(repeats=3, resolutions=[(640, 480)],
                                     encodings=['bgr8', 'nv12', 'jpeg'])
    assert res['inference_m1_0_ms'] > 0
    assert [r['encoding'] for r in res['rows']] == ['bgr8', 'nv12', 'jpeg']
    for r in res['rows']:
        assert r['to_nv12_ms'] > 0 and r['naive_ms'] > 0
        assert r['speedup'] == pytest.approx(r['naive_ms'] / r['to_nv12_ms'])
        assert r['fraction_of_inference'] == pytest.approx(r['to_nv12_ms'] /
                                                           res['inference_m1_0_ms'])
    jpeg = res['rows'][-1]
    assert 0 < jpeg['decode_floor_ms'] and jpeg['max_speedup'] > 0
    assert 'entropy-decoding floor' in benchmark.to_markdown(res)


def test_backend_mode_table_has_reference_columns_and_plot(tmp_path):
    res = benchmark.bench_backend(['m0_9'], workers=[1, 2], repeats=3)
    row = res['rows'][0]
    ref = models.get_model('m0_9')
    assert row['params'] == ref.params == 5_067_056
    assert row['x5_reference']['fps'] == ref.fps
    assert set(row['fps']) == {'1', '2'} and all(v > 0 for v in row['fps'].values())
    assert set(row['latency_ms_by_workers']) == {'1', '2'}
    assert row['latency_p90_ms'] >= row['latency_median_ms'] > 0
    table = benchmark.to_markdown(res)
    assert 'RDK X5' in table and '5,067,056' in table and 'FPS 2w' in table
    png = tmp_path / 'backend.png'
    benchmark.plot(res, str(png))
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_node_mode_over_dds_reports_ratio_latency_and_drops():
    res = benchmark.bench_node('bgr8', 320, 240, threads=(1,), rate=15.0, duration=2.0,
                               model='m0_9', warmup=0.5)
    closed, fixed = res['rows']
    assert closed['loop'] == 'max' and fixed['loop'] == '15 Hz'
    for r in (closed, fixed):
        assert 0 < r['received'] <= r['sent']
        assert r['latency_p99_ms'] >= r['latency_median_ms'] > 0
    # Closed loop: one frame more in flight than workers, so nothing waits to be dropped.
    assert closed['received'] == closed['sent'] and closed['stalls'] == 0
    assert closed['node_to_raw'] == pytest.approx(closed['throughput_fps'] /
                                                  closed['raw_backend_fps'])
    assert 0.2 < closed['node_to_raw'] < 1.5
    assert fixed['latency_to_budget'] > 0
    # 15 Hz for about 2.5 s, below the capacity of m0_9 on one worker.
    assert 25 <= fixed['sent'] <= 45
    assert fixed['node_dropped'] >= 0 and fixed['node_bad'] == 0
    table = benchmark.to_markdown(res)
    assert '| bgr8 | 320x240 | 1 | max |' in table and 'node/raw' in table


@pytest.mark.measuring
def test_overhead_mode_compares_node_and_bare_subscriber():
    res = benchmark.bench_overhead(['nv12', 'jpeg'], [(320, 240)], duration=1.5, warmup=0.5,
                                   emulated_workers=(1, 4), emulated_size=(320, 240),
                                   startup_runs=1, startup_size=(320, 240), startup_follow=1.0)
    assert [r['encoding'] for r in res['rows']] == ['nv12', 'jpeg', benchmark.BARE_DECODES]
    for r in res['rows']:
        assert r['node_fps'] > 10 and r['bare_fps'] > 10
        assert r['node_cpu_ms_per_frame'] > 0 and r['bare_cpu_ms_per_frame'] > 0
        assert r['node_to_bare'] == pytest.approx(r['node_fps'] / r['bare_fps'])
        assert r['cpu_ratio'] == pytest.approx(r['node_cpu_ms_per_frame'] /
                                               r['bare_cpu_ms_per_frame'])
        assert r['cameras_30hz'] == int(r['node_fps'] // 30)
        assert r['node_stalls'] == 0 and r['bare_stalls'] == 0
    # Every case against the floor too: the node's work in one callback.
    for r in (res['rows'][0], res['rows'][1], *res['emulated_rows']):
        assert r['serial_fps'] > 10 and r['serial_cpu_ms_per_frame'] > 0
        assert r['serial_stalls'] == 0
        assert r['serial_to_bare'] == pytest.approx(r['serial_fps'] / r['bare_fps'])
        assert r['node_to_serial'] == pytest.approx(r['node_fps'] / r['serial_fps'])
        assert r['node_cpu_to_serial'] == pytest.approx(r['node_cpu_ms_per_frame'] /
                                                        r['serial_cpu_ms_per_frame'])
    # The JPEG case twice: one node run, against the plain and the decoding bare subscriber.
    jpeg, decodes = res['rows'][1:]
    assert (jpeg['bare_kind'], decodes['bare_kind']) == ('bare', 'bare_jpeg')
    for key in ('node_fps', 'node_cpu_ms_per_frame', 'resolution', 'frame_bytes'):
        assert decodes[key] == jpeg[key]
    emulated = res['emulated_rows']
    assert res['emulated']['inference_ms'] == 2.0
    assert [r['workers'] for r in emulated] == [1, 4]
    for r in emulated:
        assert r['window'] == max(4, 2 * r['workers'])
        assert r['ideal_fps'] == pytest.approx(r['workers'] * 1e3 / 2.0)
        assert 0 < r['node_fps'] <= r['ideal_fps'] * 1.1
        assert r['bare_fps'] > 0 and r['bare_cpu_ms_per_frame'] > 0
        assert r['node_to_bare'] == pytest.approx(r['node_fps'] / r['bare_fps'])
        assert r['cpu_ratio'] == pytest.approx(r['node_cpu_ms_per_frame'] /
                                               r['bare_cpu_ms_per_frame'])
    (start,) = res['startup']
    assert start['run'] == 1 and start['start_to_first_result_s'] > 0
    assert start['first_latency_ms'] > 0 and start['median_latency_ms'] > 0
    assert start['ratio'] == pytest.approx(start['first_latency_ms'] /
                                           start['median_latency_ms'])
    assert start['results'] >= 1 and start['skipped'] >= 0
    table = benchmark.to_markdown(res)
    for text in ('30 Hz cameras per node', 'node CPU / bare CPU', '| jpeg (bare decodes) |',
                 'ideal fps (workers / 2 ms)', '| 4 | 8 |', 'process start to first result',
                 'node CPU / serial CPU', 'The floor: serial'):
        assert text in table, text


def test_overhead_parts_can_be_left_out():
    res = benchmark.bench_overhead(['mono8'], [(160, 120)], duration=1.0, warmup=0.3,
                                   emulated_workers=(), startup_runs=0)
    assert len(res['rows']) == 1 and res['emulated_rows'] == [] and res['startup'] == []
    table = benchmark.to_markdown(res)
    assert 'Emulated BPU' not in table and 'Startup' not in table


def test_emulated_rows_beside_a_baseline_checkout(tmp_path):
    # The baseline is another checkout's package (here a copy of this one): its node runs from
    # there, fed in turn with the others; every figure is a median over the runs.
    root = os.path.dirname(os.path.dirname(benchmark.__file__))
    shutil.copytree(root, str(tmp_path / 'repvit_ros'),
                    ignore=shutil.ignore_patterns('__pycache__'))
    rows = benchmark.bench_emulated([1], duration=0.6, warmup=0.2, runs=2,
                                    baseline=str(tmp_path))
    (row,) = rows
    assert row['node_fps'] > 0 and row['before_fps'] > 0 and row['before_stalls'] == 0
    assert row['fps_to_before'] == pytest.approx(row['node_fps'] / row['before_fps'])
    assert row['cpu_to_before'] == pytest.approx(row['node_cpu_ms_per_frame'] /
                                                 row['before_cpu_ms_per_frame'])
    table = benchmark.to_markdown({'mode': 'overhead', 'threads': 2, 'window': 4, 'rows': [],
                                   'emulated_rows': rows,
                                   'baseline': str(tmp_path), 'startup': [],
                                   'emulated': {'inference_ms': 2.0, 'encoding': 'nv12',
                                                'resolution': '960x544'}})
    assert f'beside the node of `{tmp_path}` (before)' in table
    assert '| node/before fps |' in table and '| 1 | ' in table
    assert benchmark._median_figures([[{'fps': 1.0}], [{'fps': 3.0}], [{'fps': 2.0}]]) == \
        [{'fps': 2.0}]


def test_bare_jpeg_server_answers_every_decodable_jpeg():
    good = harness.frames('jpeg', 640, 480)
    bad = make_message('compressed', sample_picture(64, 48), 'jpeg', 0, data=bytes(64))

    def source(i):
        return (bad, False) if i % 3 == 2 else (good[i % len(good)], True)
    ns = f'/repvit_test_bare_jpeg_{os.getpid()}'
    with harness.node_under_test('bare_jpeg', ns, {'input_type': 'compressed'},
                                 'compressed', prime=True) as (proc, feeder):
        run = feeder.run(source, window=2, count=12, warmup=0.0)
        assert proc.alive()
    assert run['bad'] == 4 and run['good'] == 8
    assert run['received'] == 8 and run['skipped'] == 0


@pytest.mark.parametrize('msg_type', ['image', 'compressed'])
def test_serial_server_publishes_what_the_node_publishes(msg_type):
    # The floor must do the node's work: the same results for the same frames (class ids,
    # scores, count under top_k and min_score, the frame's header) and no result for a bad one.
    encodings = ['bgr8', 'nv12', 'mono8'] if msg_type == 'image' else ['jpeg']
    good = [m for e in encodings for m in harness.frames(e, 320, 240, 1)]
    bad = make_message(msg_type, sample_picture(64, 48), encodings[0], 0, data=bytes(64))

    def source(i):
        return (bad, False) if i % 4 == 3 else (good[i % len(good)], True)
    params = {**harness.classifier_params(2, msg_type), 'top_k': 3, 'min_score': 0.00595,
              'class_id_format': 'label'}
    got = {}
    for kind in ('serial', 'fixed'):
        ns = f'/repvit_test_serial_{os.getpid()}_{kind}_{msg_type}'
        with harness.node_under_test(kind, ns, params, msg_type, prime=True) as (proc, feeder):
            run = feeder.run(source, window=1, count=12, warmup=0.0)
            assert proc.alive()
        assert run['bad'] == 3 and run['received'] == 9 and run['skipped'] == 0
        got[kind] = [(m.header.frame_id, [(h.class_id, h.score) for h in m.results])
                     for _stamp, (m, _lat) in sorted(feeder.messages.items())]
    assert got['serial'] == got['fixed']
    frame_id, ranked = got['serial'][0]
    assert frame_id == good[0].header.frame_id
    # FixedBackend's logits make exactly two classes more probable than 0.00595.
    assert len(ranked) == 2 and not ranked[0][0].isdigit()


def test_feeder_counts_a_refused_publish_and_goes_on():
    # Fast DDS may refuse a reliable write when a starved reader acknowledges late: the
    # measurement goes on, the frame counted as refused and not as sent.
    ns = f'/repvit_test_refused_{os.getpid()}'
    with harness.node_under_test('bare', ns, {'input_type': 'image'},
                                 prime=True) as (proc, feeder):
        real, calls = feeder.publish, itertools.count()

        def refusing(msg):
            if next(calls) % 5 == 4:
                raise RuntimeError('Failed to publish: cannot publish data')
            return real(msg)
        feeder.publish = refusing
        run = feeder.run(harness.frames('mono8', 160, 120, 2), window=2, count=20, warmup=0.0,
                         stall=0.3)
    assert run['sent'] == 20 and run['received'] == 20 and run['skipped'] == 0
    assert run['publish_failed'] == (20 + run['publish_failed']) // 5 >= 4


def test_bare_jpeg_decodes_at_the_nodes_reduced_scale():
    for w, h in ((320, 240), (960, 544), (1920, 1080)):
        data = harness.frames('jpeg', w, h, 1)[0].data
        factor = jpeg_reduction(w, h, 224, 224, 'letterbox')
        img = servers.decode_like_node(data)
        assert img.shape[:2] == (-(-h // factor), -(-w // factor))
        assert img.shape[:2] == decode(data, 'jpeg').shape[:2]


def test_cli_help_names_the_overhead_flags(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(['--help'])
    out = capsys.readouterr().out
    for flag in ('--emulated-workers', '--no-emulated', '--startup-runs', '--no-startup',
                 '--inference-ms'):
        assert flag in out, flag


@pytest.mark.parametrize('tool', ['benchmark', 'loadtest'])
def test_cli_help_lists_every_mode_as_an_example_line_of_its_own(capsys, tool):
    from repvit_ros.bench import loadtest
    main = benchmark.main if tool == 'benchmark' else loadtest.main
    with pytest.raises(SystemExit):
        main(['--help'])
    out = capsys.readouterr().out
    modes = re.search(r'\{([a-z_,]+)\}', out).group(1).split(',')
    assert 'all' in modes and (tool == 'loadtest' or 'annotate' in modes)
    # Each example keeps its line (argparse's default formatter reflowed them into one).
    lines = [ln.strip() for ln in out.splitlines()]
    for mode in modes:
        assert any(ln.startswith(f'{tool} {mode} ') or ln == f'{tool} {mode}'
                   for ln in lines), (mode, out)


def test_annotate_mode_compares_watched_and_unwatched_throughput():
    # Long enough that one closed-loop stall (2 s without a result, which a starved machine
    # gives: CI beside other work classified 7 frames/s plain) does not leave the window empty.
    res = benchmark.bench_annotate([(320, 240)], duration=4.0, warmup=1.0, model='m0_9',
                                   repeats=1)
    (row,) = res['rows']
    assert row['fps_plain'] > 1 and row['fps_annotated'] > 1
    assert row['ratio'] == pytest.approx(row['fps_annotated'] / row['fps_plain'])
    assert row['render_ms'] > 0 and row['pictures_drawn'] > 0  # drawn only while watched
    assert '| bgr8 | 320x240 |' in benchmark.to_markdown(res)


def test_do_nothing_backend_is_not_a_node_parameter():
    assert 'fixed' not in BACKENDS


def test_cli_json(capsys):
    assert benchmark.main(['preprocess', '--repeats', '2', '--resolutions', '320x240',
                           '--encodings', 'mono8', '--json']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out['mode'] == 'preprocess' and out['rows'][0]['encoding'] == 'mono8'


def test_installed_entry_points():
    lib = os.path.join(INSTALL_PREFIX, 'lib', 'repvit_ros')
    for tool in ('benchmark', 'loadtest', 'classifier', 'frame_source', 'download_models'):
        assert os.access(os.path.join(lib, tool), os.X_OK), tool


def test_backend_choice_off_the_board(tmp_path, monkeypatch):
    monkeypatch.setenv('REPVIT_MODELS_DIR', str(tmp_path))
    kind, path = benchmark.backend_model('auto', 'm0_9')
    assert kind == 'onnxruntime' and path.endswith('.onnx')
    with pytest.raises(models.ModelError):
        benchmark.backend_model('hbm_runtime', 'm0_9')  # no .bin here: a clear error


def test_demo_classifies_every_photo(tmp_path):
    # `make demo` on a machine without the real weights: the synthetic model, said plainly.
    env = dict(os.environ, REPVIT_MODELS_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, '-m', 'repvit_ros.bench.demo'], env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert 'SYNTHETIC' in run.stdout and 'MEANINGLESS' in run.stdout
    assert '6 frames sent, 6 classified, 0 dropped' in run.stdout
    # Each photo's top-5 with its class name from the bundled labels and the index.
    names = load_labels()
    lines = re.findall(r'^ +(\d\.\d{3})  (.+) \((\d+)\)$', run.stdout, re.MULTILINE)
    assert len(lines) == 6 * 5 and run.stdout.count(' ms:\n') == 6
    assert all(names[int(index)] == name for _, name, index in lines)
    assert 'NO RESULT' not in run.stdout and 'Traceback' not in run.stderr
    # The last line names the folder of the annotated photos.
    folder = run.stdout.strip().splitlines()[-1].rsplit(': ', 1)[1]
    pngs = sorted(f for f in os.listdir(folder) if f.endswith('.png'))
    assert len(pngs) == 6 and all(f.endswith('_synthetic.png') for f in pngs), pngs
    # Drawn as the node draws (its default annotated_width 640: the photos as they are), a
    # mono8 frame grey as the node shows it, a red strip below saying the labels mean nothing.
    photos = {name: rgb for name, _, rgb in demo.load_photos()}
    for png in pngs:
        picture = cv2.imread(os.path.join(folder, png))
        name = png.split('_')[1]
        h, w = photos[name].shape[:2]
        assert picture.shape[1] == w and picture.shape[0] > h, png
        strip = picture[h:].reshape(-1, 3).mean(axis=0)
        assert strip[2] > 120 and strip[0] < 60 and strip[1] < 60, (png, strip)
    grey = cv2.imread(os.path.join(folder, '6_coffee_mono8_synthetic.png'))[:400]
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    colour = cv2.imread(os.path.join(folder, '2_coffee_jpeg_synthetic.png'))[:400]
    assert not (colour[..., 0] == colour[..., 2]).all()


def test_demo_draws_the_regions_example_small(tmp_path):
    path = str(tmp_path / 'regions.png')
    width, height, size = demo.write_regions_example(path)
    assert (width, height) == (480, 480) and size < 80_000
    picture = cv2.imread(path)
    assert picture.shape == (480, 480, 3)
    # The first box's frame (355, 0, 125, 290 in the 512-pixel photo) is outlined in green.
    x = int(355 * 480 / 512)
    assert np.abs(picture[150, x].astype(int) - (0, 200, 0)).max() < 40


def test_the_feeder_starts_only_once_the_result_writer_is_matched(monkeypatch):
    # A result published before its writer matched the feeder's reader is lost, and the runs
    # then count a frame never answered: the feeder waits for the match where rclpy reports it
    # (Subscription.get_publisher_count), and for the graph on Humble's rclpy, which lacks it.
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from repvit_ros.bench.feeder import Feeder
    from vision_msgs.msg import Classification
    feeder = Feeder(f'/matched_{os.getpid()}')
    try:
        assert not feeder._results_matched()
        node = rclpy.create_node('result_writer', namespace=f'/matched_{os.getpid()}',
                                 context=feeder.context)
        node.create_publisher(Classification, 'classification',
                              QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        assert feeder.spin_until(feeder._results_matched, 30)
        assert feeder.results_sub.get_publisher_count() == 1
        monkeypatch.setattr(feeder, 'results_sub', object())  # Humble's Subscription
        assert feeder._results_matched()
        node.destroy_node()
        assert feeder.spin_until(lambda: not feeder._results_matched(), 30)
    finally:
        feeder.close()


def test_priming_waits_for_a_result_and_leaves_nothing_in_flight():
    from repvit_ros.bench.feeder import Feeder
    msg = harness.frames('bgr8', 64, 48, 1)[0]
    ns = f'/repvit_test_prime_{os.getpid()}'
    with harness.node_under_test('bare', ns, {'input_type': 'image'}) as (proc, feeder):
        feeder.prime(msg)
        assert not feeder.messages and not feeder._sent  # forgotten, none in flight
        run = feeder.run([msg], window=1, count=3, warmup=0.0)
        assert run['received'] == 3 and run['skipped'] == 0
    lonely = Feeder(f'/repvit_test_nobody_{os.getpid()}')
    try:
        with pytest.raises(RuntimeError, match='no result on .* within 2 s'):
            lonely.prime(msg, timeout=2.0, every=0.5)
        assert 2 <= len(lonely._sent) <= 4  # sent again every 0.5 s, none answered
    finally:
        lonely.close()
