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


"""evaluate on generated labelled sets with the known-answer model: exact accuracy figures."""

import json
import os

import numpy as np
from onnx_models import feature_map_model
import pytest
from repvit_ros.model_tools import evaluate
from test_classifier import colours, expected_ranking, flat_image, NAMES12, write_colour_model

PROTOS = [tuple(int(v) for v in p) for p in colours(12)]
# (folder's class, colour's class) of the images that are labelled wrong on purpose
MISLABELLED = [(0, 5), (1, 9), (7, 2), (7, 3)]


def _folder_name(c):
    # class index, class name, upper-case name with '_' for ' ': every way a folder can say it
    if c < 4:
        return str(c)
    return NAMES12[c] if c < 8 else NAMES12[c].upper()


@pytest.fixture
def labelled(tmp_path):
    """12 class folders, 3 right images each, 4 mislabelled ones and one broken file."""
    root = tmp_path / 'set'
    for c in range(12):
        (root / _folder_name(c)).mkdir(parents=True)
        for i in range(3):
            (root / _folder_name(c) / f'{i}.png').write_bytes(flat_image(PROTOS[c]))
    for n, (c, k) in enumerate(MISLABELLED):
        (root / _folder_name(c) / f'odd{n}.jpg').write_bytes(flat_image(PROTOS[k], fmt='jpg'))
    (root / '2' / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n but then nothing')
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(NAMES12) + '\n')
    return root, str(labels)


def _expected(protos):
    """Count right top-1 and top-5 answers from the construction alone."""
    images = [(c, c) for c in range(12) for _ in range(3)] + MISLABELLED
    ranks = [expected_ranking(PROTOS[k], protos) for _, k in images]
    top1 = [r[0] for r in ranks]
    return (sum(t == c for (c, _), t in zip(images, top1)),
            sum(c in r[:5] for (c, _), r in zip(images, ranks)), top1)


def test_accuracy_is_exact_on_the_known_answer_model(tmp_path, labelled, capsys):
    root, labels = labelled
    model = write_colour_model(tmp_path / 'float.onnx', PROTOS)
    plot = tmp_path / 'confusion.png'
    status = evaluate.main(['--images', str(root), '--model-path', model,
                            '--labels-path', labels, '--plot', str(plot)])
    out, err = capsys.readouterr()
    assert status == 0, err
    top1, top5, _ = _expected(PROTOS)
    assert top1 == 36 and 36 < top5 < 40  # the construction: only the 4 odd ones are wrong
    assert 'evaluate: 40 images' in out and '12 classes; 1 unreadable image(s) skipped' in out
    assert f'top-1 90.00 % (36/40), top-5 {100 * top5 / 40:.2f} % ({top5}/40)' in out
    # worst: class 7 (3 of 5 right), then 0 and 1 (3 of 4)
    assert 'worst classes: honeydew 60.0 % (3/5), apple 75.0 % (3/4), banana 75.0 % (3/4)' \
        in out
    assert 'images/s' in out and f'written to {plot}' in out
    assert 'evaluate [' in err and '41/41' in err  # progress bar
    assert plot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and plot.stat().st_size > 5000


def test_two_models_difference_and_agreement(tmp_path, labelled, capsys):
    root, labels = labelled
    swapped = list(PROTOS)
    swapped[0], swapped[1] = swapped[1], swapped[0]  # the "quantized" model mixes up 0 and 1
    a = write_colour_model(tmp_path / 'float.onnx', PROTOS)
    b = write_colour_model(tmp_path / 'quantized.onnx', swapped)
    status = evaluate.main(['--images', str(root), '--model-path', a, '--model-path', b,
                            '--labels-path', labels, '--json'])
    out, err = capsys.readouterr()
    assert status == 0, err
    report = json.loads(out)
    top1_a, top5_a, pred_a = _expected(PROTOS)
    top1_b, top5_b, pred_b = _expected(swapped)
    assert (top1_a, top1_b) == (36, 30)  # the 6 images of colours 0 and 1 flip
    agree = sum(x == y for x, y in zip(pred_a, pred_b))
    assert agree == 34
    assert report['images'] == 40 and report['unreadable'] == 1 and report['classes'] == 12
    assert report['unreadable_files'] == [str(root / '2' / 'broken.png')]
    ma, mb = report['models']
    assert (ma['top1_correct'], ma['top5_correct']) == (top1_a, top5_a)
    assert (mb['top1_correct'], mb['top5_correct']) == (top1_b, top5_b)
    assert ma['top1'] == pytest.approx(0.9) and mb['top1'] == pytest.approx(0.75)
    cmp = report['comparison']
    assert cmp['top1_difference'] == pytest.approx(-0.15)
    assert cmp['top5_difference'] == pytest.approx((top5_b - top5_a) / 40)
    assert (cmp['top1_agree'], cmp['top1_agreement']) == (34, pytest.approx(0.85))
    # confusion matrix: model b calls every class-0 image (3 of colour 0) class 1, and so on
    cm = np.array(mb['confusion_matrix'])
    assert cm.sum() == 40 and cm[0, 1] == 3 and cm[1, 0] == 3 and cm[7, 7] == 3
    assert cm[7, 2] == 1 and cm[7, 3] == 1 and np.trace(cm) == 30
    assert {'true': 'apple', 'predicted': 'banana', 'count': 3} in mb['confusions']
    assert all(m['images_per_second'] > 0 for m in report['models'])


def test_csv_with_synset_ids_names_and_indices(tmp_path, capsys):
    # 1000 classes: the first 12 are the colours, the rest far outside the RGB cube.
    protos = np.array(PROTOS + [(2000 + 10 * i, -1500, 3000) for i in range(988)])
    model = write_colour_model(tmp_path / 'imagenet.onnx', protos)
    rows = ['path,label']
    labels = ['n01440764', 'goldfish', '2', 'Great_White_Shark', 'n01491361']
    for i, (label, cls) in enumerate(zip(labels, [0, 1, 2, 2, 3])):
        (tmp_path / f'{i}.png').write_bytes(flat_image(PROTOS[cls]))
        rows.append(f'{i}.png,{label}')
    rows.append('missing.png,tench')
    (tmp_path / 'set.csv').write_text('\n'.join(rows) + '\n')
    assert evaluate.main(['--images', str(tmp_path / 'set.csv'), '--model-path', model]) == 0
    out = capsys.readouterr().out
    # tench, goldfish, white shark (by index), white shark (by name), tiger shark: all right
    assert 'evaluate: 5 images' in out and '1000 classes; 1 unreadable' in out
    assert 'top-1 100.00 % (5/5)' in out


def test_label_resolver():
    resolve = evaluate.LabelResolver(['tench', 'great white shark', 'a'],
                                     ['n01440764', None, 'n00000003'])
    assert [resolve(s) for s in ['0', '2', '3', 'n01440764', 'n00000003', 'n99999999',
                                 'Great_White_Shark', ' tench ', 'shark']] == \
        [0, 2, None, 0, 2, None, 1, 0, None]


@pytest.mark.parametrize('case', ['empty', 'loose', 'unknown', 'labels', 'two_counts',
                                  'not_repvit', 'missing', 'csv_row'])
def test_bad_inputs_give_one_clear_line(tmp_path, labelled, capsys, case):
    root, labels = labelled
    model = write_colour_model(tmp_path / 'm.onnx', PROTOS)
    args = ['--images', str(root), '--model-path', model, '--labels-path', labels]
    if case == 'empty':
        (tmp_path / 'empty').mkdir()
        args[1], message = str(tmp_path / 'empty'), 'no images in'
    elif case == 'loose':
        (tmp_path / 'loose').mkdir()
        (tmp_path / 'loose' / 'a.png').write_bytes(flat_image(PROTOS[0]))
        args[1], message = str(tmp_path / 'loose'), 'but no class sub-folders'
    elif case == 'unknown':
        (root / 'zebra').mkdir()
        (root / 'zebra' / 'z.png').write_bytes(flat_image(PROTOS[0]))
        (root / '12').mkdir()
        (root / '12' / 'z.png').write_bytes(flat_image(PROTOS[0]))
        message = 'unknown class folder names in'
    elif case == 'labels':
        (tmp_path / 'short.txt').write_text('\n'.join(NAMES12[:11]))
        args[-1], message = str(tmp_path / 'short.txt'), 'has 11 names but the model'
    elif case == 'two_counts':
        # no labels file: each model names its own classes, 12 and 11
        args = ['--images', str(root), '--model-path', model, '--model-path',
                write_colour_model(tmp_path / 'm11.onnx', PROTOS[:11])]
        message = 'mismatched label counts'
    elif case == 'not_repvit':
        args[3], message = feature_map_model(tmp_path / 'map.onnx'), 'not a vector of class'
    elif case == 'missing':
        args[1], message = str(tmp_path / 'nothing'), 'does not exist'
    else:
        (tmp_path / 'bad.csv').write_text('a.png,0\nb.png\n')
        args[1], message = str(tmp_path / 'bad.csv'), 'row 2 is not "path,label"'
    assert evaluate.main(args) == 1
    out, err = capsys.readouterr()
    lines = [ln for ln in err.replace('\r', '\n').splitlines()
             if ln and not ln.startswith('evaluate [')]
    assert len(lines) == 1 and lines[0].startswith('evaluate: error: ') and message in lines[0], \
        err
    assert out == ''
    if case == 'unknown':
        assert '12, zebra' in lines[0] and '0..11' in lines[0]


# ------------------------------------------------------------------ hostile files and paths
@pytest.mark.timeout(60)  # a FIFO opened for reading would block until a writer comes
def test_special_files_named_like_images_are_skipped_unread(tmp_path, labelled, capsys):
    root, labels = labelled
    (root / '0' / 'zero.jpg').symlink_to('/dev/zero')  # was a MemoryError
    os.mkfifo(root / '1' / 'pipe.jpg')  # was a hang
    (root / '2' / 'gone.png').symlink_to(root / 'nothing.png')
    long_name = 'l' * 250 + '.png'
    (root / '3' / long_name).write_bytes(flat_image(PROTOS[3]))
    model = write_colour_model(tmp_path / 'm.onnx', PROTOS)
    status = evaluate.main(['--images', str(root), '--model-path', model, '--labels-path',
                            labels])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert 'evaluate: 41 images' in out and '4 unreadable image(s) skipped' in out
    assert f'evaluate: skipped {root}/0/zero.jpg: image {root}/0/zero.jpg is a character ' \
        'device (a link to /dev/zero), not a regular file' in err
    assert f'evaluate: skipped {root}/1/pipe.jpg: image {root}/1/pipe.jpg is a FIFO' in err
    assert f'{root}/2/gone.png is a link to {root}/nothing.png, which does not exist' in err


def _error_line(err):
    lines = [ln for ln in err.replace('\r', '\n').splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith('evaluate: error: '), err
    return lines[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize('case', ['plot_missing_folder', 'plot_folder', 'plot_under_file',
                                  'plot_sysfs', 'csv_not_utf8', 'csv_fifo', 'model_fifo',
                                  'model_folder', 'labels_zero', 'images_not_utf8'])
def test_path_problems_are_one_line_before_the_evaluation(tmp_path, labelled, capsys, case):
    root, labels = labelled
    model = write_colour_model(tmp_path / 'm.onnx', PROTOS)
    (tmp_path / 'file.txt').write_text('a file')
    args = {'--images': str(root), '--model-path': model, '--labels-path': labels}
    if case == 'plot_missing_folder':
        args['--plot'], message = str(tmp_path / 'plots' / 'c.png'), \
            f'--plot folder {tmp_path}/plots does not exist'
    elif case == 'plot_folder':  # was: wrote <folder>.png and reported <folder>
        args['--plot'], message = str(tmp_path), \
            f'--plot {tmp_path} is a folder; give the PNG file to write'
    elif case == 'plot_under_file':  # unwritable, even for root
        args['--plot'], message = str(tmp_path / 'file.txt' / 'c.png'), \
            f'{tmp_path}/file.txt is a file, not a folder'
    elif case == 'plot_sysfs':
        if not os.path.isdir('/sys/kernel'):
            pytest.skip('no sysfs here')
        args['--plot'], message = '/sys/kernel/c.png', 'cannot write in --plot folder /sys/kernel'
    elif case == 'csv_not_utf8':
        (tmp_path / 'set.csv').write_bytes(b'path,label\n0/0.png,caf\xe9\n')
        args['--images'], message = str(tmp_path / 'set.csv'), \
            f'CSV {tmp_path}/set.csv is not UTF-8 text (line 2, byte 22 is 0xe9)'
    elif case == 'csv_fifo':
        os.mkfifo(tmp_path / 'set.csv')
        args['--images'], message = str(tmp_path / 'set.csv'), 'is a FIFO (named pipe)'
    elif case == 'model_fifo':
        os.mkfifo(tmp_path / 'fifo.onnx')
        args['--model-path'], message = str(tmp_path / 'fifo.onnx'), \
            f'model {tmp_path}/fifo.onnx is a FIFO (named pipe), not a regular file'
    elif case == 'model_folder':
        args['--model-path'], message = str(tmp_path), f'model {tmp_path} is a folder'
    elif case == 'labels_zero':
        (tmp_path / 'labels0.txt').symlink_to('/dev/zero')
        args['--labels-path'], message = str(tmp_path / 'labels0.txt'), 'a character device'
    else:
        args['--images'], message = str(tmp_path / os.fsdecode(b'set\xff')), \
            'set\\xff is not a UTF-8 name'
    status = evaluate.main([a for kv in args.items() for a in kv])
    out, err = capsys.readouterr()
    assert status == 1 and out == ''  # no report, no progress bar: nothing was evaluated
    assert message in _error_line(err), err
    assert sorted(os.listdir(tmp_path)) == sorted(
        {'file.txt', 'labels.txt', 'm.onnx', 'set', 'set.csv', 'fifo.onnx', 'labels0.txt'} &
        set(os.listdir(tmp_path)))  # nothing written


def test_plot_is_written_where_asked_whatever_its_name(tmp_path, labelled, capsys):
    root, labels = labelled
    model = write_colour_model(tmp_path / 'm.onnx', PROTOS)
    plot = tmp_path / 'confusion'  # no .png: matplotlib used to add one
    assert evaluate.main(['--images', str(root), '--model-path', model, '--labels-path',
                          labels, '--plot', str(plot)]) == 0
    out = capsys.readouterr().out
    assert f'confusion matrix written to {plot}\n' in out
    assert plot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert sorted(os.listdir(tmp_path)) == ['confusion', 'labels.txt', 'm.onnx', 'set']


def test_a_plot_that_fails_late_keeps_the_report(tmp_path, labelled, capsys, monkeypatch):
    root, labels = labelled
    model = write_colour_model(tmp_path / 'm.onnx', PROTOS)

    def disk_full(path, results, names):
        with open(path, 'wb') as f:
            f.write(b'\x89PNG half')
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(evaluate, 'plot_confusion', disk_full)
    plot = tmp_path / 'c.png'
    assert evaluate.main(['--images', str(root), '--model-path', model, '--labels-path',
                          labels, '--plot', str(plot)]) == 1
    out, err = capsys.readouterr()
    assert 'top-1 90.00 % (36/40)' in out  # the report is printed first
    assert f'evaluate: error: cannot write --plot {plot}: No space left on device' in err
    assert not plot.exists() and sorted(os.listdir(tmp_path)) == ['labels.txt', 'm.onnx', 'set']
