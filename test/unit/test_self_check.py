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
self_check on models whose answers are known exactly.

The known-answer model takes the zoo's input (float [1,3,224,224] named ``data``) and maps each
colour plane's mean to logits: nearest-centroid on the means of the bundled photos as the ONNX
backend feeds them, so photo i's top-1 is exactly the class the test assigns it. Everything else
gets a fixed, strictly decreasing low logit so that the whole top-5 is known too.
"""

import json
import os
import subprocess
import sys

import bpu_doubles
import numpy as np
import onnx
from onnx import helper, TensorProto
import pytest
from repvit_ros import models
from repvit_ros.backends.onnxruntime_backend import normalize_rgb
from repvit_ros.model_tools import self_check
from repvit_ros.model_tools.photos import load_photos, PHOTOS
from repvit_ros.model_tools.synthetic import INPUT_NAME, write_model
from repvit_ros.postprocess import softmax
from repvit_ros.preprocess import nv12_to_rgb, to_nv12

RIGHT = [p.expected[0] for p in PHOTOS]        # an expected class per photo
WRONG = [10 + i for i in range(len(PHOTOS))]   # classes no photo expects (birds)


def _nv12(rgb, yuv_range='full'):
    return to_nv12(rgb, 'rgb8', (224, 224), 'letterbox', yuv_range)


@pytest.fixture(scope='module')
def photo_means():
    """Per photo: the mean of each normalised colour plane the ONNX backend feeds the model."""
    return np.array([normalize_rgb(nv12_to_rgb(_nv12(rgb), 'full')).mean(axis=(2, 3))[0]
                     for _, rgb in load_photos()], np.float64)


def _head(means, targets, seconds=(), scale=4.0):
    """
    Nearest-centroid logits: W (3x1000) and b (1000) for class targets[i] at means[i].

    seconds[i], when given, scores 0.01 below targets[i] everywhere: the runner-up of photo i.
    """
    w = np.zeros((3, 1000))
    b = -20.0 - 1e-3 * np.arange(1000)
    for mu, c in zip(means, targets):
        w[:, c] = 2 * scale * mu
        b[c] = -scale * mu @ mu
    for c, second in zip(targets, seconds):
        w[:, second] = w[:, c]
        b[second] = b[c] - 0.01
    return w.astype(np.float32), b.astype(np.float32)


def known_logits(means_row, w, b):
    return means_row.astype(np.float32) @ w + b


def write_known_model(path, means, targets, pad_params=0, seconds=()):
    """Write the known-answer ONNX; pad_params adds unused parameters to reach a given count."""
    w, b = _head(means, targets, seconds)
    inits = [helper.make_tensor('w', TensorProto.FLOAT, w.shape, w.ravel()),
             helper.make_tensor('b', TensorProto.FLOAT, b.shape, b.ravel()),
             helper.make_tensor('shape', TensorProto.INT64, [2], [1, 3])]
    if pad_params:
        inits.append(helper.make_tensor('pad', TensorProto.FLOAT, [pad_params],
                                        np.zeros(pad_params, np.float32).tobytes(), raw=True))
    nodes = [helper.make_node('ReduceMean', [INPUT_NAME], ['m4'], axes=[2, 3], keepdims=1),
             helper.make_node('Reshape', ['m4', 'shape'], ['m']),
             helper.make_node('MatMul', ['m', 'w'], ['mw']),
             helper.make_node('Add', ['mw', 'b'], ['output'])]
    graph = helper.make_graph(
        nodes, 'known_answer',
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 1000])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return w, b


def _run(capsys, *argv):
    code = self_check.main([*map(str, argv), '--runs', '2'])
    return code, capsys.readouterr().out


def _json(capsys, *argv):
    code, out = _run(capsys, *argv, '--json')
    report = json.loads(out)
    assert report['exit_code'] == code
    return code, report


@pytest.fixture
def no_bpu(monkeypatch):
    for mod in ('hbm_runtime', 'hobot_dnn', 'hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5',
                'hobot_dnn_rdkx5.pyeasy_dnn'):
        monkeypatch.setitem(sys.modules, mod, None)
    monkeypatch.setattr(self_check, 'RDK_MARKER', '/nonexistent/hobot')


# ------------------------------------------------------------------ pass, fail, nothing real
def test_known_answer_model_passes(tmp_path, photo_means, capsys, no_bpu):
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, RIGHT)
    code, out = _run(capsys, '--models-dir', tmp_path)
    assert code == self_check.EXIT_PASS == 0
    assert 'RESULT: PASS (1 pass)' in out
    assert 'PASS    m1_0 onnx onnxruntime' in out and f'{len(PHOTOS)}/{len(PHOTOS)} photos' in out
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 0 and report['status'] == 'pass'
    (rec,) = report['checks']
    assert rec['backend'] == 'onnxruntime' and rec['nv12_range'] == 'full'
    assert [p['top5'][0]['index'] for p in rec['photos']] == RIGHT
    assert [p['photo'] for p in rec['photos']] == [p.name for p in PHOTOS]
    # The whole top-5 is known: the photo's class, then the highest of the low fixed logits.
    w, b = _head(photo_means, RIGHT)
    for p, mu in zip(rec['photos'], photo_means):
        logits = known_logits(mu, w, b)
        assert [t['index'] for t in p['top5']] == list(np.argsort(-logits, kind='stable')[:5])
        assert p['top5'][0]['probability'] == pytest.approx(softmax(logits).max(), abs=1e-4)
    # The slot's parameter count is not the zoo's: checked, with a warning saying so.
    assert 'not the zoo' in rec['warnings'][0]
    assert rec['sha256'] == models.sha256_of(str(tmp_path / 'repvit_m1_0_deploy.onnx'))
    assert rec['timing']['runs'] == 2 and rec['timing']['infer_ms_median'] > 0
    assert rec['timing']['throughput_fps'] > 0 and rec['timing']['workers'] == 1
    assert rec['zoo_x5']['fps'] == models.MODELS['m1_0'].fps
    assert rec['zoo_x5']['latency_1t_ms'] == models.MODELS['m1_0'].latency_1t_ms
    env = report['environment']
    assert env['numpy'] == np.__version__ and env['onnxruntime'] and env['opencv']
    assert env['python'] == '.'.join(map(str, sys.version_info[:3])) and env['hbm_runtime'] is None
    assert report['photos'][0]['expected'] == list(PHOTOS[0].expected)


def test_video_range_is_reported(tmp_path, photo_means, capsys, no_bpu):
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, RIGHT)
    code, report = _json(capsys, '--models-dir', tmp_path, '--yuv-range', 'video')
    assert report['settings']['nv12_range'] == 'video'
    assert report['checks'][0]['nv12_range'] == 'video'
    assert code == 0  # the photos' means move a little; nearest centroid still holds


def test_wrong_answers_fail(tmp_path, photo_means, capsys, no_bpu):
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, WRONG)
    code, out = _run(capsys, '--models-dir', tmp_path)
    assert code == self_check.EXIT_FAIL == 1
    assert 'RESULT: FAIL (1 fail)' in out
    assert out.count('MISS') == len(PHOTOS) and '\n  ok ' not in out
    code, report = _json(capsys, '--models-dir', tmp_path)
    (rec,) = report['checks']
    assert rec['status'] == 'fail' and rec['passed'] == 0
    assert [p['top5'][0]['index'] for p in rec['photos']] == WRONG


def test_expected_class_below_top1_passes(tmp_path, photo_means, capsys, no_bpu):
    # Top-1 wrong everywhere, the expected class second: right by the top-5 rule.
    w, b = write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, WRONG,
                             seconds=RIGHT)
    for mu, wrong, right in zip(photo_means, WRONG, RIGHT):
        assert list(np.argsort(-known_logits(mu, w, b), kind='stable')[:2]) == [wrong, right]
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 0
    assert [p['top5'][0]['index'] for p in report['checks'][0]['photos']] == WRONG
    assert [p['top5'][1]['index'] for p in report['checks'][0]['photos']] == RIGHT


def test_one_wrong_photo_fails_the_model(tmp_path, photo_means, capsys, no_bpu):
    targets = RIGHT[:-1] + WRONG[-1:]
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, targets)
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 1
    assert [p['pass'] for p in report['checks'][0]['photos']] == [True] * (len(PHOTOS) - 1) + \
        [False]
    assert PHOTOS[-1].name in report['checks'][0]['error']


def test_synthetic_alone_is_nothing_real(tmp_path, capsys, no_bpu):
    write_model('m1_0', str(tmp_path / 'repvit_m1_0_deploy.onnx'))
    code, out = _run(capsys, '--models-dir', tmp_path)
    assert code == self_check.EXIT_NOTHING_REAL == 2
    assert 'NOTHING REAL TO CHECK' in out and 'PASS' not in out
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert report['status'] == 'nothing_real' and report['checks'][0]['status'] == 'synthetic'
    assert report['checks'][0]['photos'] == []


def test_no_model_is_nothing_real(tmp_path, capsys, no_bpu):
    code, out = _run(capsys, '--models-dir', tmp_path / 'empty')
    assert code == 2 and 'no model files found' in out


def test_synthetic_beside_a_real_model_passes(tmp_path, photo_means, capsys, no_bpu):
    write_model('m0_9', str(tmp_path / 'repvit_m0_9_deploy.onnx'))
    write_known_model(tmp_path / 'repvit_m1_1_deploy.onnx', photo_means, RIGHT)
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 0
    assert {r['model']: r['status'] for r in report['checks']} == {'m0_9': 'synthetic',
                                                                   'm1_1': 'pass'}


# ------------------------------------------------------------------ bad inputs, one by one
def test_bad_inputs_reported_per_model(tmp_path, photo_means, capsys, no_bpu):
    good = tmp_path / 'repvit_m1_0_deploy.onnx'
    write_known_model(good, photo_means, RIGHT)
    # m0_9's slot: a truncated file.
    data = good.read_bytes()
    (tmp_path / 'repvit_m0_9_deploy.onnx').write_bytes(data[:len(data) // 2])
    # m1_1's slot: a model with exactly m0_9's parameter count (a wrong-size file).
    own = 3 * 1000 + 1000 + 2
    write_known_model(tmp_path / 'repvit_m1_1_deploy.onnx', photo_means, RIGHT,
                      pad_params=models.MODELS['m0_9'].params - own)
    # A .bin asked for by path with no BPU runtime installed.
    bin_path = tmp_path / 'other' / 'RepViT_m1_0_224x224_nv12.bin'
    bin_path.parent.mkdir()
    bin_path.write_bytes(b'\x01' * 4096)
    code, report = _json(capsys, '--models-dir', tmp_path, '--model-path', bin_path)
    assert code == 1 and report['status'] == 'fail'
    by = {(r['model'], r['format'], r['source']): r for r in report['checks']}
    assert len(by) == 4
    trunc = by[('m0_9', 'onnx', 'models dir')]
    assert trunc['status'] == 'error' and 'not a valid ONNX' in trunc['error']
    wrong = by[('m1_1', 'onnx', 'models dir')]
    assert wrong['status'] == 'error'
    assert 'is RepViT m0_9 (5,067,056 parameters), not m1_1' in wrong['error']
    missing = by[('m1_0', 'bin', '--model-path')]
    assert missing['status'] == 'error' and 'no BPU runtime' in missing['error']
    assert 'hbm_runtime' in missing['error'] and 'hobot_dnn' in missing['error']
    ok = by[('m1_0', 'onnx', 'models dir')]  # the others still ran
    assert ok['status'] == 'pass' and ok['passed'] == len(PHOTOS)
    assert report['comparisons'] == []
    code, out = _run(capsys, '--models-dir', tmp_path, '--model-path', bin_path)
    assert out.count('ERROR') == 3 and out.count('PASS ') == 1
    assert 'RESULT: FAIL (3 error, 1 pass)' in out


def test_bin_without_runtime_is_skipped_off_the_board(tmp_path, photo_means, capsys, no_bpu,
                                                      monkeypatch):
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, RIGHT)
    (tmp_path / 'RepViT_m1_0_224x224_nv12.bin').write_bytes(b'\x01' * 4096)
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 0
    assert [r['status'] for r in report['checks']] == ['skipped', 'pass']
    assert 'not an RDK board' in report['checks'][0]['error']
    # On the board the same missing runtime is an error.
    monkeypatch.setattr(self_check, 'RDK_MARKER', str(tmp_path))
    code, report = _json(capsys, '--models-dir', tmp_path)
    assert code == 1 and report['checks'][0]['status'] == 'error'


def test_missing_model_path(tmp_path, capsys, no_bpu):
    code, report = _json(capsys, '--models-dir', tmp_path, '--model-path',
                         tmp_path / 'repvit_m1_0_deploy.onnx')
    assert code == 1 and 'does not exist' in report['checks'][0]['error']


# ------------------------------------------------------------------ .bin against .onnx
def test_bin_and_onnx_compared_on_doubles(tmp_path, photo_means, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'hbm_runtime', bpu_doubles.hbm_runtime_module)
    monkeypatch.setitem(sys.modules, 'hobot_dnn', None)
    monkeypatch.setitem(sys.modules, 'hobot_dnn_rdkx5', None)
    # The ONNX's top-1 agrees with the double's on the first two photos only.
    photos = load_photos()
    double_top1 = []
    p_bin = []
    for _, rgb in photos:
        q = np.round(bpu_doubles.expected_logits(_nv12(rgb)) / bpu_doubles.OUTPUT_SCALE)
        logits = q.astype(np.float32) * bpu_doubles.OUTPUT_SCALE
        p_bin.append(softmax(logits))
        double_top1.append(int(np.argmax(logits)))
    targets = double_top1[:2] + WRONG[2:]
    assert len(set(targets)) == len(targets)
    w, b = write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, targets)
    (tmp_path / 'RepViT_m1_0_224x224_nv12.bin').write_bytes(b'\x01' * 4096)
    code, report = _json(capsys, '--models-dir', tmp_path)
    (cmp,) = report['comparisons']
    assert cmp['model'] == 'm1_0' and cmp['bin_backend'] == 'hbm_runtime'
    assert cmp['photos'] == len(PHOTOS) and cmp['top1_agree'] == 2
    assert cmp['top1_agreement'] == pytest.approx(2 / len(PHOTOS))
    diffs = [float(np.max(np.abs(pb - softmax(known_logits(mu, w, b)))))
             for pb, mu in zip(p_bin, photo_means)]
    assert [p['max_prob_diff'] for p in cmp['per_photo']] == pytest.approx(diffs, abs=1e-4)
    assert cmp['max_prob_diff'] == pytest.approx(max(diffs), abs=1e-4)
    assert [p['bin_top1'] for p in cmp['per_photo']] == double_top1
    # The double's answers are a fixed function of the bytes, not the photos' classes.
    bin_rec = next(r for r in report['checks'] if r['format'] == 'bin')
    want_pass = [bool(set(np.argsort(-p, kind='stable')[:5]) & set(ph.expected))
                 for p, (ph, _) in zip(p_bin, photos)]
    assert [p['pass'] for p in bin_rec['photos']] == want_pass
    assert bin_rec['timing']['workers'] == 4  # the zoo's 4-thread figure's setting
    assert code == 1  # the ONNX misses photos 3 and 4 on purpose
    _, out = _run(capsys, '--models-dir', tmp_path)
    assert f'm1_0 .bin (hbm_runtime) vs .onnx: top-1 agreement 2/{len(PHOTOS)}' in out


def test_module_entry_point(tmp_path, photo_means):
    write_known_model(tmp_path / 'repvit_m1_0_deploy.onnx', photo_means, RIGHT)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, '-m', 'repvit_ros.model_tools.self_check',
                           '--models-dir', str(tmp_path), '--runs', '1', '--json'],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)['status'] == 'pass'


def test_output_writes_the_report_to_a_file_and_prints_none(tmp_path, capsys, no_bpu):
    # `ros2 run` prints a line of its own after a non-zero exit: a shell redirection of the
    # report would not be JSON any more, so --output writes the file itself.
    out_file = tmp_path / 'self_check.json'
    code = self_check.main(['--models-dir', str(tmp_path), '--runs', '0', '--json',
                            '--output', str(out_file)])
    captured = capsys.readouterr()
    assert code == self_check.EXIT_NOTHING_REAL == 2
    assert captured.out == ''
    assert f'report written to {out_file}' in captured.err
    assert json.loads(out_file.read_text())['exit_code'] == 2
    assert sorted(os.listdir(tmp_path)) == ['self_check.json']  # no temporary file left


@pytest.mark.parametrize('case', ['folder', 'under_file', 'missing_folder'])
def test_output_path_problems_are_one_line_before_the_check(tmp_path, capsys, no_bpu,
                                                            monkeypatch, case):
    monkeypatch.setattr(self_check, 'run', lambda args: pytest.fail('checked'))
    (tmp_path / 'file.txt').write_text('a file')
    output, message = {
        'folder': (tmp_path, f'--output {tmp_path} is a folder; give the report file to write'),
        'under_file': (tmp_path / 'file.txt' / 'r.json',
                       f'cannot write --output {tmp_path}/file.txt/r.json: {tmp_path}/file.txt '
                       'is a file, not a folder'),
        'missing_folder': (tmp_path / 'reports' / 'r.json',
                           f'--output folder {tmp_path}/reports does not exist'),
    }[case]
    # exit 1 (something failed), not argparse's 2, which means 'nothing real to check' here
    assert self_check.main(['--models-dir', str(tmp_path), '--output', str(output)]) == 1
    out, err = capsys.readouterr()
    assert out == '' and err == f'self_check: error: {message}\n'


# ------------------------------------------------------------------ every failure says what next
def test_fail_and_error_lines_end_with_a_next_step(tmp_path, photo_means, capsys, no_bpu):
    good = tmp_path / 'repvit_m1_0_deploy.onnx'
    write_known_model(good, photo_means, WRONG)  # misses every photo
    data = good.read_bytes()
    (tmp_path / 'repvit_m0_9_deploy.onnx').write_bytes(data[:len(data) // 2])
    own = 3 * 1000 + 1000 + 2
    write_known_model(tmp_path / 'repvit_m1_1_deploy.onnx', photo_means, RIGHT,
                      pad_params=models.MODELS['m0_9'].params - own)
    bin_path = tmp_path / 'other' / 'RepViT_m1_0_224x224_nv12.bin'
    bin_path.parent.mkdir()
    bin_path.write_bytes(b'\x01' * 4096)
    os.mkfifo(tmp_path / 'other' / 'fifo_m1_0.onnx')  # was a hang in sha256
    args = ['--models-dir', tmp_path, '--model-path', bin_path, '--model-path',
            tmp_path / 'other' / 'fifo_m1_0.onnx', '--model-path', tmp_path / 'gone_m0_9.onnx',
            '--model-path', tmp_path / 'other' / 'notes.txt']
    code, out = _run(capsys, *args)
    assert code == 1
    lines = {ln.split()[0] + ' ' + ln.split()[1] + ' ' + os.path.basename(ln.split()[4][:-1]): ln
             for ln in out.splitlines() if ln.startswith(('FAIL', 'ERROR'))}
    assert len(lines) == 7, out
    assert all('; next: ' in ln for ln in lines.values())
    fetch = 'download it again with `ros2 run repvit_ros download_models {} --format {}`'
    expect = {
        'FAIL m1_0 repvit_m1_0_deploy.onnx':
            'check that --yuv-range and --resize-mode are what the model was compiled for (the '
            'zoo: full, letterbox), then ' + fetch.format('m1_0', 'onnx') + '; if it still '
            'misses, attach the output of `ros2 run repvit_ros self_check --json --output '
            'self_check.json` to a bug report',
        'ERROR m0_9 repvit_m0_9_deploy.onnx': fetch.format('m0_9', 'onnx'),
        'ERROR m1_1 repvit_m1_1_deploy.onnx':
            'rename it to repvit_m0_9_deploy.onnx (its size), and ' + fetch.format('m1_1',
                                                                                   'onnx'),
        'ERROR m1_0 RepViT_m1_0_224x224_nv12.bin':
            'run self_check on the RDK X5, whose RDK OS provides the BPU runtime (hbm_runtime '
            'from RDK OS 3.5)',
        'ERROR m1_0 fifo_m1_0.onnx': fetch.format('m1_0', 'onnx'),
        'ERROR m0_9 gone_m0_9.onnx': 'check the path, or ' + fetch.format('m0_9', 'onnx'),
        'ERROR ? notes.txt': 'give a .bin (BPU) or .onnx model file',
    }
    for key, step in expect.items():
        assert lines[key].endswith('; next: ' + step), (key, lines[key])
    assert 'is a FIFO (named pipe), not a regular file' in lines['ERROR m1_0 fifo_m1_0.onnx']
    code, report = _json(capsys, *args)
    assert all(r['next_step'] for r in report['checks'] if r['status'] in ('fail', 'error'))


def test_an_unnamed_model_that_fails_points_to_evaluate(tmp_path, photo_means, capsys, no_bpu):
    model = tmp_path / 'mine.onnx'
    write_known_model(model, photo_means, WRONG)
    code, report = _json(capsys, '--models-dir', tmp_path / 'none', '--model-path', model)
    assert code == 1
    assert report['checks'][0]['next_step'].endswith(
        f'then measure it on labelled images with `ros2 run repvit_ros evaluate --images DIR '
        f'--model-path {model}`')
