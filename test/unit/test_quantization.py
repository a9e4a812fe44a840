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


"""hb_mapper configs from the one set of compile constants; calibration data as the node sees."""

import json
import os

import cv2
import numpy as np
from onnx_models import feature_map_model
import pytest
from repvit_ros import models
from repvit_ros.backends import create_backend
from repvit_ros.backends import onnxruntime_backend
from repvit_ros.model_tools import quantization
from repvit_ros.preprocess import nv12_to_rgb, to_nv12
from test_classifier import colours, flat_image, write_colour_model
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAL_BYTES = 3 * 224 * 224 * 4


def _check_constants(cfg):
    inp = cfg['input_parameters']
    c = models.COMPILE
    assert [float(v) for v in inp['mean_value'].split()] == list(c.mean)
    assert [float(v) for v in inp['scale_value'].split()] == list(c.scale)
    assert (inp['input_type_rt'], inp['input_type_train'], inp['input_layout_train'],
            inp['norm_type']) == ('nv12', 'rgb', 'NCHW', 'data_mean_and_scale')
    assert cfg['model_parameters']['march'] == 'bayes-e'
    assert cfg['model_parameters']['layer_out_dump'] is False
    assert cfg['model_parameters']['remove_node_type'] == \
        'Quantize;Dequantize;Transpose;Cast;Reshape'
    assert cfg['calibration_parameters'] == {'cal_data_dir': cfg['calibration_parameters'][
        'cal_data_dir'], 'cal_data_type': 'float32', 'calibration_type': 'default'}
    assert cfg['compiler_parameters'] == {'compile_mode': 'latency', 'debug': False,
                                          'optimize_level': 'O3'}


# ------------------------------------------------------------------ one source of constants
def test_committed_zoo_configs_are_generated_from_the_code(tmp_path):
    written = quantization.write_zoo_configs(str(tmp_path))
    assert [os.path.basename(p) for p in written] == \
        ['hb_mapper_m0_9.yaml', 'hb_mapper_m1_0.yaml', 'hb_mapper_m1_1.yaml']
    for path in written:
        committed = os.path.join(ROOT, 'models', os.path.basename(path))
        with open(path, encoding='utf-8') as a, open(committed, encoding='utf-8') as b:
            assert a.read() == b.read(), f'{committed} is stale: regenerate it with ' \
                                         f'`quantization_config --zoo models`'
        cfg = yaml.safe_load(open(committed, encoding='utf-8'))
        _check_constants(cfg)
        name = os.path.basename(path)[len('hb_mapper_'):-len('.yaml')]
        info = models.get_model(name)
        assert cfg['model_parameters']['onnx_model'] == info.onnx_file
        assert cfg['model_parameters']['output_model_file_prefix'] + '.bin' == info.bin_file
        assert cfg['calibration_parameters']['cal_data_dir'] == './calibration_data_rgb_f32'
        assert cfg['input_parameters']['input_name'] == ''


def test_the_onnx_backend_emulates_the_configs_constants():
    assert np.array_equal(onnxruntime_backend.MEAN, np.array(models.COMPILE.mean, np.float32))
    assert np.array_equal(onnxruntime_backend.SCALE, np.array(models.COMPILE.scale, np.float32))
    # scale is 1 / (255 std) of ImageNet's RGB std
    assert np.allclose(1 / (255 * np.array(models.COMPILE.scale)), [0.229, 0.224, 0.225],
                       atol=1e-5)


# ------------------------------------------------------------------ calibration data
def _image_folder(path):
    """Six readable images of several formats and shapes, and one broken file."""
    path.mkdir()
    rng = np.random.default_rng(3)
    for i, (h, w) in enumerate([(120, 160), (200, 100), (64, 64)]):
        img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (7, 7), 0)
        cv2.imwrite(str(path / f'img{i}.jpg'), img)
        cv2.imwrite(str(path / f'img{i}.png' if i < 2 else path / f'img{i}.bmp'), img)
    (path / 'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    return sorted(os.listdir(path))


def _node_rgb(path, resize_mode='letterbox'):
    """Preprocess a file as the node does: JPEG/PNG as a CompressedImage, else a bgr8 Image."""
    if path.endswith(('.jpg', '.png')):
        frame, encoding = np.fromfile(path, np.uint8), path.rsplit('.', 1)[1]
    else:
        frame, encoding = cv2.imread(path), 'bgr8'
    nv12 = to_nv12(frame, 'jpeg' if encoding == 'jpg' else encoding, (224, 224), resize_mode)
    return nv12, nv12_to_rgb(nv12)


@pytest.mark.parametrize('resize_mode', ['letterbox', 'center_crop'])
def test_calibration_files_are_the_nodes_preprocessing(tmp_path, capsys, resize_mode):
    names = _image_folder(tmp_path / 'images')
    out = tmp_path / 'cal'
    status = quantization.prepare_main(['--images', str(tmp_path / 'images'), '--output',
                                        str(out), '--resize-mode', resize_mode])
    captured = capsys.readouterr()
    assert status == 0
    files = sorted(os.listdir(out))
    assert len(files) == len(names) - 1 == 6
    assert 'prepare_calibration: wrote 6 calibration files' in captured.out
    assert 'skipped 1 unreadable' in captured.out
    assert 'skipped' in captured.err and 'broken.jpg' in captured.err
    assert 'prepare_calibration [' in captured.err and '7/7' in captured.err  # progress bar
    backend = create_backend('onnxruntime', write_colour_model(tmp_path / 'm.onnx',
                                                               colours(4)), num_classes=None)
    readable = [n for n in names if n != 'broken.jpg']
    for name, file in zip(readable, files):
        assert file.endswith(os.path.splitext(name)[0] + '.rgb')
        assert os.path.getsize(out / file) == CAL_BYTES
        cal = np.fromfile(out / file, np.float32).reshape(1, 3, 224, 224)
        nv12, rgb = _node_rgb(str(tmp_path / 'images' / name), resize_mode)
        assert np.array_equal(cal[0].transpose(1, 2, 0), rgb.astype(np.float32))
        # Normalised with the config's mean/scale it is exactly the float model's input.
        mean = np.array(models.COMPILE.mean, np.float32).reshape(1, 3, 1, 1)
        scale = np.array(models.COMPILE.scale, np.float32).reshape(1, 3, 1, 1)
        assert np.allclose((cal - mean) * scale, backend.model_input(nv12), atol=1e-6)
    assert cal.min() >= 0 and cal.max() <= 255 and cal.max() > 50  # un-normalised


def test_calibration_count_and_refusals(tmp_path, capsys):
    _image_folder(tmp_path / 'images')
    written, skipped, found = quantization.prepare_calibration(str(tmp_path / 'images'),
                                                               str(tmp_path / 'few'), count=2)
    assert len(written) + len(skipped) == 2 and found == 7
    assert all(os.path.dirname(w) == str(tmp_path / 'few') for w in written)
    capsys.readouterr()
    # a used output folder, an empty image folder and a missing one are refused
    for args, message in [
            (['--images', str(tmp_path / 'images'), '--output', str(tmp_path / 'few')],
             'is not empty'),
            (['--images', str(tmp_path / 'few'), '--output', str(tmp_path / 'x')],
             'no images'),
            (['--images', str(tmp_path / 'none'), '--output', str(tmp_path / 'y')],
             'does not exist')]:
        assert quantization.prepare_main(args) == 1
        err = capsys.readouterr().err
        assert message in err and err.count('\n') == 1, err


# ------------------------------------------------------------------ config for a user's model
@pytest.fixture
def calibration(tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    for i, rgb in enumerate(colours(3)):
        (images / f'{i}.png').write_bytes(flat_image(tuple(int(v) for v in rgb)))
    out = tmp_path / 'calibration_data_rgb_f32'
    quantization.prepare_calibration(str(images), str(out))
    return out


def test_config_for_a_users_model(tmp_path, calibration, capsys):
    model = write_colour_model(tmp_path / 'my_repvit.onnx', colours(12),
                               input_shape=['batch', 3, 224, 224], input_name='pixels')
    (tmp_path / 'cfg').mkdir()
    output = tmp_path / 'cfg' / 'my.yaml'
    assert quantization.main(['--onnx', model, '--calibration-dir', str(calibration),
                              '--output', str(output), '--size', 'm0_9']) == 0
    assert 'wrote' in capsys.readouterr().out
    text = output.read_text()
    cfg = yaml.safe_load(text)
    _check_constants(cfg)
    assert cfg['input_parameters']['input_name'] == 'pixels'
    assert cfg['input_parameters']['input_shape'] == '1x3x224x224'
    # Paths relative to the config's folder, where hb_mapper runs.
    assert cfg['model_parameters']['onnx_model'] == os.path.join('..', 'my_repvit.onnx')
    assert cfg['calibration_parameters']['cal_data_dir'] == \
        os.path.join('..', 'calibration_data_rgb_f32')
    assert cfg['model_parameters']['output_model_file_prefix'] == 'my_repvit_224x224_nv12'
    assert '12 classes' in text and 'RepViT m0_9' in text and '3 calibration files' in text
    assert 'hb_mapper makertbin --config my.yaml --model-type onnx' in text
    # The zoo's order: the checker on the ONNX first, then makertbin.
    assert text.index('hb_mapper checker --model-type onnx --march bayes-e') < \
        text.index('hb_mapper makertbin')


def test_config_refuses_what_hb_mapper_cannot_take(tmp_path, calibration, capsys):
    def run(model, cal=calibration):
        status = quantization.main(['--onnx', str(model), '--calibration-dir', str(cal),
                                    '--output', str(tmp_path / 'out.yaml')])
        err = capsys.readouterr().err
        assert status == 1 and err.count('\n') == 1 and err.startswith(
            'quantization_config: error: '), err
        assert not (tmp_path / 'out.yaml').exists()
        return err

    p = colours(12)
    assert 'has shape 1x3x256x256, not 1x3x224x224' in run(write_colour_model(
        tmp_path / 'big.onnx', p, input_shape=[1, 3, 256, 256]))
    assert 'is NHWC' in run(write_colour_model(tmp_path / 'nhwc.onnx', p,
                                               input_shape=[1, 224, 224, 3]))
    assert 'not 1-D class logits' in run(feature_map_model(tmp_path / 'map.onnx'))
    (tmp_path / 'text.onnx').write_text('not a model')
    assert 'not an ONNX model' in run(tmp_path / 'text.onnx')
    assert 'does not exist' in run(tmp_path / 'missing.onnx')
    good = write_colour_model(tmp_path / 'good.onnx', p)
    assert 'make it with prepare_calibration' in run(good, tmp_path / 'nocal')
    bad_cal = tmp_path / 'badcal'
    bad_cal.mkdir()
    np.zeros((3, 224, 224), np.uint8).tofile(bad_cal / 'x.rgb')
    assert f'not {CAL_BYTES}' in run(good, bad_cal)


# ------------------------------------------------------------------ hostile folders and paths
def _prepare(capsys, *args):
    status = quantization.prepare_main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def _one_error(err, tool='prepare_calibration'):
    lines = [ln for ln in err.replace('\r', '\n').splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith(f'{tool}: error: '), err
    return lines[0]


def test_a_long_file_name_is_cut_to_fit(tmp_path, capsys):
    images = tmp_path / 'images'
    images.mkdir()
    long_stem = 'x' * 250  # a legal name; 00000_<name>.rgb was 260 bytes: a failure part-way
    (images / f'{long_stem}.png').write_bytes(flat_image((200, 10, 10)))
    (images / 'z_short.png').write_bytes(flat_image((10, 200, 10)))
    status, out, err = _prepare(capsys, '--images', images, '--output', tmp_path / 'cal')
    assert status == 0, err
    files = sorted(os.listdir(tmp_path / 'cal'))
    assert files == [quantization.calibration_name(0, long_stem + '.png'), '00001_z_short.rgb']
    assert len(files[0]) == 255 and files[0].startswith('00000_xxx') and \
        files[0].endswith('.rgb')
    assert all(os.path.getsize(tmp_path / 'cal' / f) == CAL_BYTES for f in files)


def test_a_failed_run_leaves_nothing_and_a_rerun_works(tmp_path, capsys, monkeypatch):
    _image_folder(tmp_path / 'images')
    out = tmp_path / 'cal'
    real = quantization.calibration_tensor
    calls = []

    def fails_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C, an out-of-memory kill's cousin
        return real(*args, **kwargs)

    monkeypatch.setattr(quantization, 'calibration_tensor', fails_third)
    with pytest.raises(KeyboardInterrupt):
        quantization.prepare_main(['--images', str(tmp_path / 'images'), '--output', str(out)])
    assert sorted(os.listdir(tmp_path)) == ['images']  # no output, no temporary folder
    monkeypatch.setattr(quantization, 'calibration_tensor', real)
    capsys.readouterr()
    status, stdout, err = _prepare(capsys, '--images', tmp_path / 'images', '--output', out)
    assert status == 0, err
    assert len(os.listdir(out)) == 6 and sorted(os.listdir(tmp_path)) == ['cal', 'images']


@pytest.mark.timeout(60)  # a FIFO opened for reading would block until a writer comes
def test_special_files_named_like_images_are_skipped_unread(tmp_path, capsys):
    images = tmp_path / 'images'
    images.mkdir()
    (images / 'a.png').write_bytes(flat_image((10, 10, 200)))
    (images / 'b_zero.jpg').symlink_to('/dev/zero')  # was a MemoryError
    os.mkfifo(images / 'c_pipe.jpg')  # was a hang
    status, out, err = _prepare(capsys, '--images', images, '--output', tmp_path / 'cal')
    assert status == 0, err
    assert os.listdir(tmp_path / 'cal') == ['00000_a.rgb']
    assert f'skipped {images}/b_zero.jpg: image {images}/b_zero.jpg is a character device ' \
        '(a link to /dev/zero), not a regular file' in err
    assert f'skipped {images}/c_pipe.jpg: image {images}/c_pipe.jpg is a FIFO' in err
    assert 'wrote 1 calibration files' in out and 'skipped 2 unreadable' in out


def test_fewer_images_than_count_are_all_used_and_said(tmp_path, capsys):
    _image_folder(tmp_path / 'images')  # 6 readable, 1 broken
    status, out, _ = _prepare(capsys, '--images', tmp_path / 'images', '--output',
                              tmp_path / 'cal', '--count', 100)
    assert status == 0
    assert out.startswith('prepare_calibration: wrote 6 calibration files (letterbox, ')
    assert '; found 7 images, fewer than --count 100: all of them were used; skipped 1 ' \
        'unreadable image(s)' in out
    status, out, _ = _prepare(capsys, '--images', tmp_path / 'images', '--output',
                              tmp_path / 'cal2', '--count', 7)
    assert status == 0 and 'fewer than' not in out


def test_no_readable_image_writes_nothing(tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'broken.jpg').write_bytes(b'\xff\xd8 not a jpeg')
    status, out, err = _prepare(capsys, '--images', tmp_path / 'images', '--output',
                                tmp_path / 'cal')
    assert status == 1 and out == ''
    err = '\n'.join(ln for ln in err.replace('\r', '\n').splitlines()
                    if not ln.startswith('prepare_calibration ['))  # it tried: a progress bar
    assert 'none of the 1 images could be read (first: ' in _one_error(err)
    assert os.listdir(tmp_path) == ['images']


@pytest.mark.parametrize('case', ['file', 'not_empty', 'missing_parent', 'under_file', 'sysfs',
                                  'images_file'])
def test_output_folder_problems_are_one_line_before_any_work(tmp_path, capsys, case):
    _image_folder(tmp_path / 'images')
    (tmp_path / 'file.txt').write_text('a file')
    (tmp_path / 'used').mkdir()
    (tmp_path / 'used' / 'old.rgb').write_bytes(b'stale')
    images, output = tmp_path / 'images', {
        'file': tmp_path / 'file.txt', 'not_empty': tmp_path / 'used',
        'missing_parent': tmp_path / 'data' / 'cal', 'under_file': tmp_path / 'file.txt' / 'cal',
        'sysfs': '/sys/kernel/cal', 'images_file': tmp_path / 'cal'}[case]
    message = {
        'file': f'output folder {tmp_path}/file.txt is a file; give a new or empty folder',
        'not_empty': f'output folder {tmp_path}/used is not empty (it holds old.rgb)',
        'missing_parent': f'output folder folder {tmp_path}/data does not exist',
        'under_file': f'{tmp_path}/file.txt is a file, not a folder',
        'sysfs': 'cannot write in output folder folder /sys/kernel',
        'images_file': f'image folder {tmp_path}/file.txt is a file, not a folder'}[case]
    if case == 'sysfs' and not os.path.isdir('/sys/kernel'):
        pytest.skip('no sysfs here')
    if case == 'images_file':
        images = tmp_path / 'file.txt'
    status, out, err = _prepare(capsys, '--images', images, '--output', output)
    assert status == 1 and out == ''
    assert message in _one_error(err)  # one line and no progress bar: nothing was done
    assert sorted(os.listdir(tmp_path)) == ['file.txt', 'images', 'used']
    assert os.listdir(tmp_path / 'used') == ['old.rgb']


# ------------------------------------------------------------------ config: prefix, size, paths
def _config(capsys, model, calibration, output, *more):
    status = quantization.main(['--onnx', str(model), '--calibration-dir', str(calibration),
                                '--output', str(output), *map(str, more)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize('prefix', ['my\nmodel_params:', '../../etc/x', 'a/b', '..', '.hidden',
                                    '-rf', 'x' * 201, 'caf\u00e9', 'with space', ''])
def test_prefix_is_a_file_name_hb_mapper_can_write(tmp_path, calibration, capsys, prefix):
    model = write_colour_model(tmp_path / 'good.onnx', colours(12))
    status, out, err = _config(capsys, model, calibration, tmp_path / 'out.yaml',
                               f'--prefix={prefix}')
    line = _one_error(err, 'quantization_config')
    assert status == 1 and out == '' and not (tmp_path / 'out.yaml').exists()
    assert f'--prefix {json.dumps(prefix)} is not a file name hb_mapper can use: letters, ' \
        'digits' in line


def test_prefix_that_hb_mapper_can_write_is_taken(tmp_path, calibration, capsys):
    model = write_colour_model(tmp_path / 'good.onnx', colours(12))
    status, out, _ = _config(capsys, model, calibration, tmp_path / 'out.yaml',
                             '--prefix', 'RepViT_m1_0-v2.1_224x224_nv12')
    assert status == 0 and '.bin name RepViT_m1_0-v2.1_224x224_nv12.bin' in out
    cfg = yaml.safe_load((tmp_path / 'out.yaml').read_text())
    assert cfg['model_parameters']['output_model_file_prefix'] == \
        'RepViT_m1_0-v2.1_224x224_nv12'


def test_default_prefix_and_odd_paths_make_valid_yaml(tmp_path, calibration, capsys):
    odd = tmp_path / "my model (v2)\n'quoted'"
    odd.mkdir()
    model = write_colour_model(odd / 'my model (v2).onnx', colours(12))
    status, out, err = _config(capsys, model, calibration, tmp_path / 'out.yaml')
    assert status == 0, err
    text = (tmp_path / 'out.yaml').read_text()
    cfg = yaml.safe_load(text)
    assert cfg['model_parameters']['output_model_file_prefix'] == 'my_model__v2__224x224_nv12'
    assert cfg['model_parameters']['onnx_model'] == os.path.relpath(model, tmp_path)
    assert list(cfg) == ['model_parameters', 'input_parameters',
                         'calibration_parameters', 'compiler_parameters']
    assert sum(1 for ln in text.splitlines() if ln.startswith('  onnx_model:')) == 1


def _fine_tuned(path, size, classes):
    """Write a synthetic RepViT of ``size`` whose head has ``classes`` outputs."""
    import onnx
    from onnx import helper, numpy_helper
    from repvit_ros.model_tools.synthetic import build_model
    model = build_model(size)
    gemm = model.graph.node[-1]
    inits = {t.name: t for t in model.graph.initializer}
    for name in gemm.input[1:3]:  # the head's weight and bias: keep the first classes
        head = numpy_helper.to_array(inits[name])[:classes]
        inits[name].CopyFrom(numpy_helper.from_array(head, name))
    model.graph.output[0].CopyFrom(helper.make_tensor_value_info(
        'output', onnx.TensorProto.FLOAT, [1, classes]))
    onnx.save(model, str(path))
    return str(path)


def test_size_is_told_from_the_parameter_count_or_named_unknown(tmp_path, calibration, capsys):
    tuned = _fine_tuned(tmp_path / 'tuned.onnx', 'm1_0', 12)
    status, out, err = _config(capsys, tuned, calibration, tmp_path / 'a.yaml')
    assert status == 0, err
    # the zoo's m1_0 backbone, a 12-class head: export_model's figure for this case
    assert 'RepViT m1_0 (from its 6,366,700 parameters)' in out
    assert '(RepViT m1_0, 12 classes)' in (tmp_path / 'a.yaml').read_text()
    small = write_colour_model(tmp_path / 'small.onnx', colours(12))
    status, out, err = _config(capsys, small, calibration, tmp_path / 'b.yaml')
    assert status == 0, err
    assert 'RepViT of unknown size (' in out and 'no zoo size with a 12-class head' in out
    assert '(RepViT of unknown size, 12 classes)' in (tmp_path / 'b.yaml').read_text()
    assert 'm1_0' not in (tmp_path / 'b.yaml').read_text()  # it used to say m1_0 for anything
    status, out, err = _config(capsys, tuned, calibration, tmp_path / 'c.yaml', '--size', 'm1_1')
    assert status == 1 and not (tmp_path / 'c.yaml').exists()
    assert 'has 6,366,700 parameters: RepViT m1_0 with a 12-class head, not --size m1_1' in \
        _one_error(err, 'quantization_config')


def test_weights_the_exporter_stored_once_count_per_layer(tmp_path):
    # PyTorch's exporter keeps equal tensors once and reads them through Identity nodes.
    import onnx
    from onnx import helper
    model = onnx.load(_fine_tuned(tmp_path / 'tuned.onnx', 'm1_0', 12))
    assert quantization.weight_count(model) == 6_366_700
    by_shape = {}
    for t in model.graph.initializer:
        by_shape.setdefault(tuple(t.dims), []).append(t)
    first, second = next(ts for dims, ts in by_shape.items() if len(dims) == 1 and len(ts) > 1)[:2]
    model.graph.initializer.remove(second)
    model.graph.node.insert(0, helper.make_node('Identity', [first.name], [second.name]))
    assert quantization.weight_count(model) == 6_366_700


def test_infer_size_on_the_zoo_counts():
    for name, info in models.MODELS.items():
        assert quantization.infer_size(info.params, 1000) == name
        assert quantization.infer_size(info.params + 1, 1000) is None
    assert quantization.infer_size(6_366_700, 12) == 'm1_0'


@pytest.mark.parametrize('case', ['folder', 'under_file', 'missing_folder', 'onnx_not_utf8',
                                  'onnx_fifo'])
def test_config_path_problems_are_one_line_before_any_work(tmp_path, calibration, capsys,
                                                           case):
    model = write_colour_model(tmp_path / 'good.onnx', colours(12))
    (tmp_path / 'file.txt').write_text('a file')
    output = tmp_path / 'out.yaml'
    if case == 'folder':
        output, message = tmp_path, f'--output {tmp_path} is a folder; give the YAML file'
    elif case == 'under_file':
        output, message = tmp_path / 'file.txt' / 'x.yaml', 'file.txt is a file, not a folder'
    elif case == 'missing_folder':
        output, message = tmp_path / 'cfg' / 'x.yaml', f'--output folder {tmp_path}/cfg does ' \
                                                       'not exist'
    elif case == 'onnx_not_utf8':
        model, message = str(tmp_path / os.fsdecode(b'm\xff.onnx')), 'm\\xff.onnx is not a ' \
                                                                      'UTF-8 name'
    else:
        os.mkfifo(tmp_path / 'fifo.onnx')
        model, message = tmp_path / 'fifo.onnx', 'is a FIFO (named pipe), not a regular file'
    status, out, err = _config(capsys, model, calibration, output)
    assert status == 1 and out == ''
    assert message in _one_error(err, 'quantization_config')
    assert not os.path.exists(tmp_path / 'out.yaml')


def test_zoo_into_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / 'file.txt').write_text('a file')
    assert quantization.main(['--zoo', str(tmp_path / 'file.txt')]) == 1
    assert f'--zoo {tmp_path}/file.txt is a file, not a folder' in \
        _one_error(capsys.readouterr().err, 'quantization_config')
