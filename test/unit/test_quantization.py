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
    written, skipped = quantization.prepare_calibration(str(tmp_path / 'images'),
                                                        str(tmp_path / 'few'), count=2)
    assert len(written) + len(skipped) == 2
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
