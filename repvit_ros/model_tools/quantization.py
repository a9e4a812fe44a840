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
From a (fine-tuned) RepViT ONNX to the inputs of D-Robotics' hb_mapper: config and calibration.

hb_mapper (OpenExplorer toolchain, run on a PC, not on the board) turns an ONNX model into a
BPU ``.bin`` from a YAML config and a folder of calibration files. This module writes both:

- :func:`hb_mapper_config` builds the config from :data:`repvit_ros.models.COMPILE`, the settings
  the RDK model zoo compiled its RepViT .bin files with (NV12 at runtime, RGB NCHW in training,
  mean/scale normalisation on the BPU). ``models/hb_mapper_<size>.yaml`` are generated from it
  (``quantization_config --zoo models``) and ``quantization_config --onnx`` writes the same for
  a user's model, with its input name and shape read from the file.
- :func:`calibration_tensor` turns an image into a calibration file: the float32 RGB NCHW
  1x3x224x224 tensor, un-normalised (the config's mean/scale are compiled into the model), that
  the BPU reconstructs from the NV12 the node makes of the same image at runtime: the node's
  :func:`repvit_ros.preprocess.to_nv12` (same resize mode), then the BPU's NV12-to-RGB
  conversion :func:`repvit_ros.preprocess.nv12_to_rgb`. The quantizer sees what the robot feeds.
  Files are raw ``ndarray.tofile`` output without a header, as the toolchain's samples write
  them (unverified against the toolchain here).
"""

import argparse
import json
import os
import re
import shlex
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence, TextIO, Tuple

import numpy as np

from repvit_ros import models
from repvit_ros.classifier import list_images
from repvit_ros.model_tools.files import (check_input_file, check_input_folder,
                                          check_new_folder, check_output_file, check_utf8,
                                          fit_name, PathError, read_image, shown, write_text,
                                          written_folder)
from repvit_ros.model_tools.progress import Progress
from repvit_ros.preprocess import FrameError, nv12_to_rgb, RESIZE_MODES, to_nv12, YUV_RANGES

#: calibration file suffix (the toolchain reads every file in cal_data_dir)
CALIBRATION_SUFFIX = '.rgb'
#: What ``--prefix`` may be. hb_mapper writes ``<prefix>.bin`` and, in the same folder,
#: ``<prefix>_original_float_model.onnx``, ``<prefix>_optimized_float_model.onnx``,
#: ``<prefix>_calibrated_model.onnx``, ``<prefix>_quantized_model.onnx``: a file name, not a
#: path. Its documentation names no character rule, so the portable file name characters
#: only, not starting with '.' or '-', short enough for the longest of those names (+27).
PREFIX = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}')
PREFIX_RULE = ('letters, digits, "_", "." and "-", not starting with "." or "-", at most 200 '
               'characters (hb_mapper names its files <prefix>.bin and '
               '<prefix>_quantized_model.onnx in its working_dir)')


class QuantizationError(ValueError):
    """A model or folder that cannot be prepared for hb_mapper; the message says why."""


# ------------------------------------------------------------------ hb_mapper configs
class _Numbers(tuple):
    """Values hb_mapper takes as one space-separated scalar (mean_value, scale_value)."""


def _shell_word(path: str) -> str:
    """Quote a path for a shell line inside a YAML comment; one without a line of its own."""
    if any(c in path for c in '\r\n') or not path.isprintable():
        return '<model_parameters.onnx_model below>'
    return shlex.quote(path)


def hb_mapper_config(onnx_model: str, output_prefix: str, *, working_dir: str = 'model_output',
                     cal_data_dir: str = models.COMPILE.cal_data_dir, input_name: str = '',
                     input_shape: str = '',
                     settings: models.CompileSettings = models.COMPILE) -> Dict[str, dict]:
    """
    Build an hb_mapper ``makertbin`` config with the zoo's RepViT settings.

    :param onnx_model: the ONNX file, as hb_mapper will see the path.
    :param output_prefix: file name of the .bin without ``.bin``.
    :param working_dir: where hb_mapper writes its outputs.
    :param cal_data_dir: the calibration files' folder.
    :param input_name: the model's input ('' for a model with one input, as the zoo writes).
    :param input_shape: e.g. ``1x3x224x224`` ('' to take it from the model).
    :param settings: the compile settings.
    :return: sections in hb_mapper's order, each a dict of its keys in order.
    """
    return {
        'model_parameters': {
            'onnx_model': onnx_model,
            'march': settings.march,
            'layer_out_dump': False,
            'working_dir': working_dir,
            'output_model_file_prefix': output_prefix,
            'remove_node_type': settings.remove_node_type,
        },
        'input_parameters': {
            'input_name': input_name,
            'input_type_rt': settings.input_type_rt,
            'input_type_train': settings.input_type_train,
            'input_layout_train': settings.input_layout_train,
            'input_shape': input_shape,
            'norm_type': settings.norm_type,
            'mean_value': _Numbers(settings.mean),
            'scale_value': _Numbers(settings.scale),
        },
        'calibration_parameters': {
            'cal_data_dir': cal_data_dir,
            'cal_data_type': settings.cal_data_type,
            'calibration_type': settings.calibration_type,
        },
        'compiler_parameters': {
            'compile_mode': settings.compile_mode,
            'debug': False,
            'optimize_level': settings.optimize_level,
        },
    }


def _scalar(value) -> str:
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, _Numbers):
        return ' '.join(repr(float(v)) for v in value)
    text = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        # A single-quoted YAML scalar cannot hold a line break; a double-quoted one escapes it.
        return json.dumps(text, ensure_ascii=False)
    return "'" + text.replace("'", "''") + "'"


def render_yaml(config: Dict[str, dict], comments: Sequence[str] = ()) -> str:
    """
    Write a config as YAML in hb_mapper's layout (two levels, comments on top).

    :param config: from :func:`hb_mapper_config`.
    :param comments: header lines, written as ``# line``.
    :return: the YAML text.
    """
    lines = [f'# {c}'.rstrip() for c in comments]
    for section, values in config.items():
        lines.append('')
        lines.append(f'{section}:')
        lines += [f'  {key}: {_scalar(value)}' for key, value in values.items()]
    return '\n'.join(lines).lstrip('\n') + '\n'


def zoo_config_text(name: str) -> str:
    """
    Build the hb_mapper config the RDK model zoo uses for one RepViT size.

    :param name: m0_9, m1_0 or m1_1.
    :return: the YAML text of ``models/hb_mapper_<name>.yaml``.
    """
    info = models.get_model(name)
    config = hb_mapper_config(info.onnx_file, info.output_prefix,
                              working_dir=f'model_output_{name}')
    return render_yaml(config, [
        f'hb_mapper config for RepViT {name} on the RDK X5 (Bayes-e BPU), with the RDK model',
        "zoo's settings. Generated from repvit_ros.models.COMPILE by",
        '`ros2 run repvit_ros quantization_config --zoo <dir>`: change that code, not this',
        'file (a test checks that they agree).',
        f'Put {info.onnx_file} and {models.COMPILE.cal_data_dir}/ (made by',
        "prepare_calibration) next to this file, then, in D-Robotics' OpenExplorer docker on a",
        'PC, from this directory (checker first, as the zoo does):',
        f'  hb_mapper checker --model-type onnx --march bayes-e --model {info.onnx_file}',
        f'  hb_mapper makertbin --config {info.hb_mapper_config_file} --model-type onnx',
        f'The BPU model is written to model_output_{name}/{info.bin_file}.',
    ])


def write_zoo_configs(directory: str) -> List[str]:
    """
    Write ``hb_mapper_<size>.yaml`` for every registry size.

    :param directory: where to write them (created when missing).
    :return: the written paths.
    :raises PathError: when the folder cannot be made or written in.
    """
    check_utf8(directory, '--zoo')
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise PathError(f'--zoo {shown(directory)} is a file, not a folder')
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise PathError(f'cannot make folder {shown(directory)}: {exc.strerror}') from None
    written = []
    for name, info in models.MODELS.items():
        path = os.path.join(directory, info.hb_mapper_config_file)
        check_output_file(path, '--zoo config')
        write_text(path, zoo_config_text(name))
        written.append(path)
    return written


class OnnxSignature(NamedTuple):
    """What a config needs to know about a user's ONNX classifier."""

    input_name: str
    input_shape: Tuple[int, int, int, int]
    output_name: str
    num_classes: int
    #: learned parameters: elements of its floating-point weight tensors (scalars left out)
    parameters: int = 0


def weight_count(model) -> int:
    """
    Count a model's learned parameters as its size is told by: float weights, not constants.

    Scalars (an exporter's GELU constants) and integer tensors (Reshape's shapes) are left
    out, and a weight PyTorch's exporter stored once for several layers with equal values
    (``Identity`` nodes reading one initializer; common in untrained models, whose folded
    BatchNorm biases are all zero) counts once per layer, so that an exported RepViT counts what
    PyTorch and the zoo's table count.

    :param model: an ONNX ModelProto.
    :return: elements of its floating-point initializers of two or more, per use.
    """
    import onnx
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
              onnx.TensorProto.BFLOAT16}
    sizes = {t.name: int(np.prod(t.dims, dtype=np.int64)) for t in model.graph.initializer
             if t.data_type in floats}
    sizes = {name: n for name, n in sizes.items() if n > 1}
    aliases = sum(sizes.get(node.input[0], 0) for node in model.graph.node
                  if node.op_type == 'Identity' and node.input)
    return sum(sizes.values()) + aliases


def infer_size(parameters: int, num_classes: int) -> Optional[str]:
    """
    Tell the RepViT size of a model from its parameter count and class count.

    The zoo's counts (:data:`repvit_ros.models.MODELS`) are of 1000-class models; a fine-tuned
    model keeps the backbone and has a Linear head of ``num_classes``, so each size's backbone
    (its count less its 1000-class head) plus a head of ``num_classes`` is compared.

    :param parameters: the model's :func:`weight_count`.
    :param num_classes: its output size.
    :return: m0_9, m1_0 or m1_1, or None when no size has exactly that count.
    """
    from repvit_ros.model_tools.synthetic import ARCHS
    for name, info in models.MODELS.items():
        head = ARCHS[name][0][-1] + 1  # weights and bias per class of the last stage's width
        if parameters == info.params - head * info.num_classes + head * num_classes:
            return name
    return None


def inspect_onnx(path: str,
                 size: Tuple[int, int] = models.COMPILE.input_size) -> OnnxSignature:
    """
    Check that an ONNX file is a classifier hb_mapper can compile with these settings.

    It must have one float input of shape [1 (or dynamic), 3, H, W] at the compile size (RGB
    NCHW, as input_type_train/input_layout_train say) and one output of 1-D class logits
    ([1, N], [N] or [1, N, 1, 1]); the model is run once on zeros to see the real output shape.

    :param path: the ONNX file.
    :param size: the required input (height, width).
    :return: its signature.
    :raises QuantizationError: naming what is wrong.
    """
    import onnx
    import onnxruntime as ort
    try:
        check_input_file(path, 'ONNX model')
    except PathError as exc:
        raise QuantizationError(str(exc)) from None
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # noqa: B902 - onnx raises protobuf's own DecodeError types
        raise QuantizationError(f'{path} is not an ONNX model: {exc}') from None
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise QuantizationError(f'{path} has {len(inputs)} inputs; a RepViT classifier has one '
                                f'image input')
    tensor = inputs[0].type.tensor_type
    dims = [d.dim_value if d.dim_value > 0 else None for d in tensor.shape.dim]
    want = [1, 3, size[0], size[1]]
    shown = 'x'.join('?' if d is None else str(d) for d in dims)
    if tensor.elem_type != onnx.TensorProto.FLOAT:
        raise QuantizationError(f'{path}: input {inputs[0].name} is not float32; the config '
                                f'expects a float RGB input (input_type_train rgb)')
    if len(dims) == 4 and dims[3] == 3 and dims[1] != 3:
        raise QuantizationError(f'{path}: input {inputs[0].name} is NHWC ({shown}); the config '
                                f'expects NCHW 1x3x{size[0]}x{size[1]} (input_layout_train '
                                f'NCHW): export the model with a channels-first input')
    if len(dims) != 4 or dims[0] not in (1, None) or dims[1:] != want[1:]:
        raise QuantizationError(f'{path}: input {inputs[0].name} has shape {shown}, not '
                                f'1x3x{size[0]}x{size[1]}: the configs are for a '
                                f'{size[1]}x{size[0]} RGB NCHW input (export the model at that '
                                f'size)')
    if len(model.graph.output) != 1:
        raise QuantizationError(f'{path} has {len(model.graph.output)} outputs; a classifier '
                                f'has one output of class logits')
    try:
        session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
        out = session.run(None, {inputs[0].name: np.zeros(want, np.float32)})[0]
    except Exception as exc:  # noqa: B902 - ORT raises its own non-exported exception types
        raise QuantizationError(f'{path}: ONNX Runtime cannot run it: '
                                f'{str(exc).splitlines()[0]}') from None
    out_name = model.graph.output[0].name
    big = [d for d in out.shape if d > 1]
    if len(big) != 1 or out.size != big[0] or not np.issubdtype(out.dtype, np.floating):
        raise QuantizationError(f'{path}: output {out_name} is {out.dtype} of shape '
                                f'{list(out.shape)}, not 1-D class logits ([1, N]): not a '
                                f'classifier')
    return OnnxSignature(inputs[0].name, tuple(want), out_name, big[0], weight_count(model))


def check_calibration_dir(path: str, size: Tuple[int, int] = models.COMPILE.input_size) -> int:
    """
    Check that a folder holds calibration files of the right size.

    :param path: the folder.
    :param size: model input (height, width).
    :return: the number of files.
    :raises QuantizationError: for a missing or empty folder or a file of the wrong size.
    """
    if not os.path.isdir(path):
        raise QuantizationError(f'calibration folder {path} does not exist; make it with '
                                f'prepare_calibration')
    files = sorted(f for f in os.listdir(path) if not f.startswith('.')
                   and os.path.isfile(os.path.join(path, f)))
    if not files:
        raise QuantizationError(f'calibration folder {path} is empty; fill it with '
                                f'prepare_calibration')
    expected = 3 * size[0] * size[1] * 4
    for name in files:
        got = os.path.getsize(os.path.join(path, name))
        if got != expected:
            raise QuantizationError(f'calibration file {os.path.join(path, name)} has {got} '
                                    f'bytes, not {expected} (float32 1x3x{size[0]}x{size[1]}); '
                                    f'make the folder with prepare_calibration')
    return len(files)


def check_prefix(prefix: str) -> str:
    """
    Check an ``output_model_file_prefix``: a plain file name hb_mapper can write.

    :param prefix: the .bin name without ``.bin``.
    :return: the prefix.
    :raises QuantizationError: for anything else (a path, a line break, a leading dot, ...).
    """
    if not PREFIX.fullmatch(prefix):
        raise QuantizationError(f'--prefix {json.dumps(prefix)} is not a file name hb_mapper '
                                f'can use: {PREFIX_RULE}')
    return prefix


def default_prefix(onnx_path: str, width: int, height: int) -> str:
    """
    Name the .bin after the ONNX file, as the zoo does: ``<onnx name>_224x224_nv12``.

    Characters :data:`PREFIX` does not allow become ``_``; a long name is cut.

    :param onnx_path: the user's model.
    :param width: input width.
    :param height: input height.
    :return: a prefix that :func:`check_prefix` accepts.
    """
    stem = os.path.splitext(os.path.basename(onnx_path))[0]
    stem = re.sub(r'[^A-Za-z0-9_.-]', '_', stem).lstrip('.-') or 'model'
    suffix = f'_{width}x{height}_nv12'
    return stem[:200 - len(suffix)] + suffix


class UserConfig(NamedTuple):
    """The hb_mapper config of a user's model and what it says about it."""

    text: str
    #: what the model was taken for, e.g. ``RepViT m1_0 (from its 6,366,700 parameters)``
    size: str
    prefix: str


def _size_note(onnx_path: str, signature: OnnxSignature, size: Optional[str]) -> str:
    """Name the model's RepViT size: --size, else its parameter count, else unknown."""
    found = infer_size(signature.parameters, signature.num_classes)
    count = f'{signature.parameters:,} parameters'
    if size is not None:
        models.get_model(size)
        if found is not None and found != size:
            raise QuantizationError(f'{onnx_path} has {count}: RepViT {found} with a '
                                    f'{signature.num_classes}-class head, not --size {size}')
        return f'RepViT {size}'
    if found is not None:
        return f'RepViT {found} (from its {count})'
    return (f'RepViT of unknown size ({count}: no zoo size with a {signature.num_classes}-class '
            f'head; --size names it)')


def user_config(onnx_path: str, calibration_dir: str, output: str,
                size: Optional[str] = None, prefix: Optional[str] = None) -> UserConfig:
    """
    Build the hb_mapper config for a user's RepViT ONNX.

    Paths are written relative to the config's folder: run hb_mapper from there.

    :param onnx_path: the user's model.
    :param calibration_dir: its calibration files.
    :param output: where the config will be written.
    :param size: the RepViT size the model was fine-tuned from (the sizes share every setting;
        only the config's comment names it). None: told from the parameter count, or unknown.
    :param prefix: the .bin name without ``.bin`` (default ``<onnx name>_224x224_nv12``).
    :return: the YAML text, the size it names and the prefix.
    :raises QuantizationError: when the model, the calibration folder, the prefix or the size
        is unusable.
    """
    if prefix is not None:
        check_prefix(prefix)
    signature = inspect_onnx(onnx_path)
    count = check_calibration_dir(calibration_dir)
    note = _size_note(onnx_path, signature, size)
    base = os.path.dirname(os.path.abspath(output))
    h, w = signature.input_shape[2:]
    prefix = prefix or default_prefix(onnx_path, w, h)
    config = hb_mapper_config(
        os.path.relpath(os.path.abspath(onnx_path), base), prefix,
        cal_data_dir=os.path.relpath(os.path.abspath(calibration_dir), base),
        input_name=signature.input_name,
        input_shape='x'.join(str(d) for d in signature.input_shape))
    onnx = config['model_parameters']['onnx_model']
    text = render_yaml(config, [
        f'hb_mapper config for {os.path.basename(onnx_path)} ({note.split(" (")[0]}, '
        f'{signature.num_classes} classes) on the RDK X5,',
        f"with the RDK model zoo's RepViT settings; {count} calibration files. Written by",
        "repvit_ros quantization_config. In D-Robotics' OpenExplorer docker on a PC, from",
        "this file's directory (checker first, as the zoo does):",
        f'  hb_mapper checker --model-type onnx --march bayes-e --model {_shell_word(onnx)}',
        f'  hb_mapper makertbin --config {os.path.basename(output)} --model-type onnx',
        f'The BPU model is written to model_output/{prefix}.bin.',
    ])
    return UserConfig(text, note, prefix)


def main(argv=None) -> int:
    """
    Write an hb_mapper config (``quantization_config``).

    :param argv: command line arguments (default sys.argv).
    :return: exit status: 0 written, 1 refused (nothing written), 2 bad arguments.
    """
    parser = argparse.ArgumentParser(
        prog='quantization_config',
        description='Write the hb_mapper config that compiles a (fine-tuned) RepViT ONNX to an '
                    "RDK X5 BPU model with the RDK model zoo's settings.")
    parser.add_argument('--onnx', help='the ONNX model (float input 1x3x224x224, 1-D logits)')
    parser.add_argument('--calibration-dir', help='calibration files from prepare_calibration')
    parser.add_argument('--output', help='the YAML file to write')
    parser.add_argument('--size', default=None, choices=list(models.MODELS),
                        help='the RepViT size the model came from (default: told from its '
                             'parameter count, else named unknown; only the comment says it)')
    parser.add_argument('--prefix', default=None,
                        help='name of the .bin without .bin (default <onnx name>_224x224_nv12; '
                             + PREFIX_RULE + ')')
    parser.add_argument('--zoo', metavar='DIR', default=None,
                        help='instead: write the zoo configs hb_mapper_<size>.yaml into DIR')
    args = parser.parse_args(argv)
    try:
        if args.zoo:
            for path in write_zoo_configs(args.zoo):
                print(path)
            return 0
        missing = [o for o, v in (('--onnx', args.onnx),
                                  ('--calibration-dir', args.calibration_dir),
                                  ('--output', args.output)) if not v]
        if missing:
            parser.error(f'missing {", ".join(missing)}')
        # Paths go into the YAML: UTF-8 names only; the output is checked before any work.
        check_utf8(args.onnx, '--onnx')
        check_utf8(args.calibration_dir, '--calibration-dir')
        check_output_file(args.output, '--output', 'YAML file')
        config = user_config(args.onnx, args.calibration_dir, args.output, args.size,
                             args.prefix)
        write_text(args.output, config.text)
    except (QuantizationError, PathError, models.ModelError) as exc:
        print(f'quantization_config: error: {exc}', file=sys.stderr)
        return 1
    print(f'quantization_config: wrote {args.output}: {config.size}, .bin name '
          f'{config.prefix}.bin')
    return 0


# ------------------------------------------------------------------ calibration data
def calibration_tensor(frame, encoding: str,
                       size: Tuple[int, int] = models.COMPILE.input_size,
                       resize_mode: str = 'letterbox', yuv_range: str = 'full') -> np.ndarray:
    """
    Make the calibration tensor of one image: what the BPU sees of it at runtime.

    The node's NV12 (:func:`to_nv12` with the node's resize mode and range), converted back to
    RGB as the BPU's input node does (full range, whatever range the node wrote: the compiled
    model interprets NV12 as full range), before mean/scale.

    :param frame: the image, in :func:`to_nv12`'s layout for ``encoding``.
    :param encoding: its encoding (``bgr8`` for OpenCV arrays, ``jpeg``/``png`` for bytes).
    :param size: model input (height, width).
    :param resize_mode: the node's ``resize_mode``.
    :param yuv_range: the node's ``yuv_range``.
    :return: float32 1x3xHxW RGB in 0..255.
    """
    rgb = nv12_to_rgb(to_nv12(frame, encoding, size, resize_mode, yuv_range), 'full')
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)


def _spread(items: List[str], count: int) -> List[str]:
    """Pick ``count`` items spread evenly over a sorted list (all of them if fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


class Calibration(NamedTuple):
    """What :func:`prepare_calibration` wrote."""

    #: the calibration files, in their final folder
    written: List[str]
    #: (image, reason) of each image that could not be read
    skipped: List[Tuple[str, str]]
    #: images found in the folder (all of them are used when fewer than ``count``)
    found: int


def calibration_name(index: int, image: str) -> str:
    """
    Name the calibration file of an image: ``NNNNN_<image name>.rgb``, cut to a file name.

    :param index: the image's place among those chosen (keeps names distinct).
    :param image: the image's path.
    :return: a file name of at most 255 bytes, whatever the image's name.
    """
    stem = os.path.splitext(os.path.basename(image))[0]
    return fit_name(f'{index:05d}_{stem}', CALIBRATION_SUFFIX)


def prepare_calibration(images: str, output: str, count: int = 100,
                        resize_mode: str = 'letterbox', yuv_range: str = 'full',
                        progress: Optional[TextIO] = None) -> Calibration:
    """
    Write calibration files for hb_mapper from a folder of images, all of them or none.

    The files are written into a temporary folder beside ``output``, renamed to ``output``
    when every image was handled: a failed or interrupted run leaves nothing, and a rerun
    works.

    :param images: folder of images (searched recursively; a labelled tree works).
    :param output: new or empty folder for the files (its parent must exist).
    :param count: at most this many images, spread evenly over the sorted file list.
    :param resize_mode: the node's ``resize_mode``.
    :param yuv_range: the node's ``yuv_range``.
    :param progress: stream for the progress bar (default stderr).
    :return: the files written, the images skipped and how many images were found.
    :raises QuantizationError: for a missing or empty image folder, or none readable.
    :raises PathError: for an output that is a file, a folder that is not empty, a missing or
        unwritable parent.
    """
    try:
        check_input_folder(images, 'image folder')
    except PathError as exc:
        raise QuantizationError(str(exc)) from None
    if resize_mode not in RESIZE_MODES:
        raise QuantizationError(f'unknown resize mode {resize_mode!r}; one of '
                                f'{", ".join(RESIZE_MODES)}')
    if yuv_range not in YUV_RANGES:
        raise QuantizationError(f'unknown yuv_range {yuv_range!r}; one of full, video')
    found = list_images(images)
    chosen = _spread(found, count)
    if not chosen:
        raise QuantizationError(f'no images (.jpg, .png, ...) in {images}')
    check_new_folder(output)
    written, skipped = [], []
    with written_folder(output) as folder:
        bar = Progress(len(chosen), 'prepare_calibration', progress)
        for i, path in enumerate(chosen):
            try:
                frame, encoding = read_image(path)
                tensor = calibration_tensor(frame, encoding, resize_mode=resize_mode,
                                            yuv_range=yuv_range)
            except FrameError as exc:
                skipped.append((path, str(exc)))
            else:
                name = calibration_name(i, path)
                tensor.tofile(os.path.join(folder, name))
                written.append(os.path.join(output, name))
            bar.update()
        bar.close()
        if not written:
            raise QuantizationError(f'none of the {len(chosen)} images could be read (first: '
                                    f'{shown(skipped[0][0])}: {skipped[0][1]}); nothing written')
    return Calibration(written, skipped, len(found))


def prepare_main(argv=None) -> int:
    """
    Turn a folder of images into hb_mapper calibration files (``prepare_calibration``).

    :param argv: command line arguments (default sys.argv).
    :return: exit status: 0 written, 1 refused or nothing readable (nothing written).
    """
    parser = argparse.ArgumentParser(
        prog='prepare_calibration',
        description='Write hb_mapper calibration files (float32 RGB NCHW 1x3x224x224, '
                    'un-normalised, one raw file per image) from a folder of images, resized '
                    'and converted exactly as the node does at runtime.')
    parser.add_argument('--images', required=True, help='folder of images (recursive)')
    parser.add_argument('--output', required=True,
                        help='new or empty folder for the files (its parent must exist)')
    parser.add_argument('--count', type=int, default=100,
                        help='at most this many images, spread over the folder (default 100)')
    parser.add_argument('--resize-mode', default='letterbox', choices=RESIZE_MODES,
                        help="the node's resize_mode (default letterbox)")
    parser.add_argument('--yuv-range', default='full', choices=YUV_RANGES,
                        help="the node's yuv_range (default full)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error('--count must be at least 1')
    try:
        check_utf8(args.images, '--images')
        result = prepare_calibration(args.images, args.output, args.count,
                                     args.resize_mode, args.yuv_range)
    except (QuantizationError, PathError) as exc:
        print(f'prepare_calibration: error: {exc}', file=sys.stderr)
        return 1
    for path, reason in result.skipped:
        print(f'prepare_calibration: skipped {shown(path)}: {reason}', file=sys.stderr)
    summary = (f'prepare_calibration: wrote {len(result.written)} calibration files '
               f'({args.resize_mode}, float32 RGB NCHW 1x3x224x224) to {args.output}')
    if result.found < args.count:
        summary += (f'; found {result.found} images, fewer than --count {args.count}: all '
                    f'of them were used')
    if result.skipped:
        summary += f'; skipped {len(result.skipped)} unreadable image(s)'
    print(summary)
    return 0


if __name__ == '__main__':
    sys.exit(main())
