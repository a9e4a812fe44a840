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
From a PyTorch RepViT checkpoint to the deploy ONNX the node and hb_mapper take (export_model).

The RDK model zoo compiles RepViT from a deploy ONNX: re-parameterised (BatchNorms folded into
the convolutions, the RepVGG branches merged into one depthwise conv, the distillation head
averaged into the classifier), opset 11, one float input ``data`` of 1x3x224x224 (RGB, NCHW,
ImageNet mean/std) and one output of class logits [1, N]. :func:`export` writes that file from
a timm checkpoint or one of the RepViT authors' (THU-MIG/RepViT), then checks it: ONNX Runtime
loads it as the node's ONNX backend does, and its logits on a few pictures, preprocessed as the
node does, match the un-fused PyTorch model's (cosine >= :data:`MIN_COSINE` for each). The file
is written under a temporary name and moved into place only when every check passed.

The authors' modules are laid out differently from timm's but hold the same tensors in the same
order with the same shapes: their state_dict is mapped onto timm's by position, and each pair
must agree in shape and in kind (weight, bias, running_mean, ...), or the checkpoint is refused.

PyTorch and timm are needed here only: the node and the other tools never import them.
"""

import argparse
import os
import re
import sys
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple
import warnings

import numpy as np

from repvit_ros import models
from repvit_ros.classifier import list_images
from repvit_ros.model_tools.files import (check_input_file, check_output_file, PathError,
                                          read_image, written_file)
from repvit_ros.preprocess import FrameError, to_nv12

#: the zoo's deploy ONNX: opset, input and output names
OPSET = 11
INPUT_NAME = 'data'
OUTPUT_NAME = 'output'
#: every picture's ONNX Runtime logits must have at least this cosine with PyTorch's
MIN_COSINE = 0.9999
#: entries of a training checkpoint that hold the state_dict, in the order they are looked for
CHECKPOINT_KEYS = ('model', 'state_dict', 'model_ema', 'state_dict_ema')
NEEDS_TORCH = ('export_model needs PyTorch and timm (pip install torch timm); the node and the '
               'other tools do not')


class ExportError(RuntimeError):
    """A checkpoint, path or export that cannot be used; the message says why, on one line."""


class Layout(NamedTuple):
    """How one source names RepViT's tensors."""

    name: str
    #: a key every state_dict of this layout has (the stem's first conv)
    first: str
    #: the classifier's Linear weight, [classes, features]
    head: str
    #: the distillation classifier's Linear weight, present when the model was distilled
    head_dist: str
    #: a key ending that only the first release has (a BatchNorm on the 1x1 RepVGG branch)
    legacy_suffix: str


LAYOUTS = (
    Layout('timm', 'stem.conv1.c.weight', 'head.head.l.weight', 'head.head_dist.l.weight',
           'token_mixer.conv1.c.weight'),
    Layout("RepViT authors'", 'features.0.0.c.weight', 'classifier.classifier.l.weight',
           'classifier.classifier_dist.l.weight', 'token_mixer.0.conv1.c.weight'),
)


class Checkpoint(NamedTuple):
    """A loaded checkpoint and what it is."""

    path: str
    #: tensor name -> tensor, in the file's order
    state_dict: Dict
    #: the entry it came from ('' for a bare state_dict)
    key: str
    layout: Layout
    num_classes: int
    distillation: bool
    legacy: bool


class ExportResult(NamedTuple):
    """What :func:`export` wrote and measured."""

    output: str
    size: str
    num_classes: int
    #: parameters of the re-parameterised model
    params: int
    #: (picture, cosine of the ONNX Runtime and PyTorch logits)
    cosines: List[Tuple[str, float]]


def _line(exc: BaseException) -> str:
    """First line of an exception's message (torch's run over many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------------ paths, before any long work
def check_paths(checkpoint: str, output: str, images: Optional[str] = None) -> None:
    """
    Refuse unusable paths before anything slow starts.

    :param checkpoint: the checkpoint file.
    :param output: the ONNX file to write.
    :param images: a folder of pictures for the comparison, or None.
    :raises ExportError: for a missing, special (FIFO, device) or empty checkpoint, an output
        that is a folder, whose folder is missing or takes no new file, or a missing image
        folder.
    """
    if not os.path.exists(checkpoint):
        raise ExportError(f'checkpoint {checkpoint} does not exist')
    if os.path.isdir(checkpoint):
        raise ExportError(f'checkpoint {checkpoint} is a folder, not a checkpoint file')
    try:
        check_input_file(checkpoint, 'checkpoint')
        if os.path.getsize(checkpoint) == 0:
            raise ExportError(f'checkpoint {checkpoint} is empty')
        check_output_file(output, 'output', '.onnx file')
    except PathError as exc:
        raise ExportError(str(exc)) from None
    if images is not None and not os.path.isdir(images):
        raise ExportError(f'image folder {images} does not exist')


# ------------------------------------------------------------------ pictures for the comparison
def generated_pictures(count: int) -> List[Tuple[str, np.ndarray, str]]:
    """
    Make pictures of different sizes, smooth colour fields with noise.

    :param count: how many.
    :return: (name, HxWx3 uint8 RGB, ``rgb8``) for each.
    """
    rng = np.random.default_rng(20230718)
    pictures = []
    for i in range(count):
        h, w = 180 + 60 * (i % 3), 320 - 40 * (i % 4)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a, b, c = rng.uniform(0.5, 3.0, (3, 3))
        field = np.stack([128 + 90 * np.sin(a[k] * xx / w * 6 + c[k]) * np.cos(b[k] * yy / h * 6)
                          for k in range(3)], -1)
        field += rng.normal(0, 20, field.shape)
        pictures.append((f'generated {w}x{h} #{i + 1}',
                         np.clip(field, 0, 255).astype(np.uint8), 'rgb8'))
    return pictures


def folder_pictures(folder: str, count: int) -> List[Tuple[str, np.ndarray, str]]:
    """
    Read the first pictures of a folder (searched recursively, sorted).

    :param folder: the folder.
    :param count: at most this many.
    :return: (path, frame, encoding) for each readable one.
    :raises ExportError: when the folder holds no readable picture.
    """
    pictures = []
    for path in list_images(folder):
        try:
            frame, encoding = read_image(path)
        except FrameError:
            continue
        pictures.append((path, frame, encoding))
        if len(pictures) == count:
            break
    if not pictures:
        raise ExportError(f'no readable images (.jpg, .png, ...) in {folder}')
    return pictures


# ------------------------------------------------------------------ PyTorch side
def require_torch():
    """
    Import PyTorch and timm.

    :return: the modules (torch, timm).
    :raises ExportError: naming what to install when either is missing.
    """
    try:
        import timm
        import timm.utils
        import torch
    except (ImportError, OSError) as exc:
        missing = getattr(exc, 'name', None) or _line(exc)
        raise ExportError(f'{NEEDS_TORCH} (cannot import {missing})') from None
    return torch, timm


def _is_state_dict(torch, obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and \
        all(isinstance(v, torch.Tensor) for v in obj.values())


def load_checkpoint(torch, path: str, key: Optional[str] = None) -> Checkpoint:
    """
    Load a checkpoint's state_dict (tensors only, ``weights_only=True``) and recognise it.

    :param torch: the torch module.
    :param path: a state_dict file, or a training checkpoint holding one under ``model``,
        ``state_dict``, ``model_ema`` or ``state_dict_ema``.
    :param key: take the state_dict from this entry (default: the first of those present).
    :return: the checkpoint.
    :raises ExportError: for a file that is no RepViT state_dict of timm's or the authors'.
    """
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: B902 - torch.load raises pickle, zip and runtime errors
        text = str(exc)
        refused = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
        if refused:
            raise ExportError(
                f'{path} holds more than tensors ({refused.group(1)}), which loading with '
                f'weights_only=True refuses; if you trust the file, save its weights alone: '
                f'torch.save(torch.load(path, weights_only=False)["model"], "weights.pth")'
            ) from None
        reason = re.search(r'WeightsUnpickler error:\s*(\S[^\n]*)', text)
        raise ExportError(f'{path} is not a PyTorch checkpoint '
                          f'({reason.group(1) if reason else _line(exc)})') from None
    where = ''
    if isinstance(obj, dict) and not _is_state_dict(torch, obj):
        if key is not None and key not in obj:
            raise ExportError(f'{path} has no entry {key!r} (it has {", ".join(map(str, obj))})')
        found = [key] if key is not None else [k for k in CHECKPOINT_KEYS if k in obj]
        if not found:
            raise ExportError(f'{path} holds no state_dict: neither tensors nor an entry '
                              f'{", ".join(CHECKPOINT_KEYS)} (it has '
                              f'{", ".join(map(str, list(obj)[:8]))})')
        where, obj = found[0], obj[found[0]]
    if not _is_state_dict(torch, obj):
        raise ExportError(f'{path}{f" [{where!r}]" if where else ""} is not a state_dict '
                          f'(a dict of tensors)')
    if all(k.startswith('module.') for k in obj):  # saved from DistributedDataParallel
        obj = {k[len('module.'):]: v for k, v in obj.items()}
    layout = next((lay for lay in LAYOUTS if lay.first in obj), None)
    if layout is None:
        raise ExportError(f'{path} is not a RepViT state_dict of timm or the RepViT authors '
                          f'(no {LAYOUTS[0].first} or {LAYOUTS[1].first}; its first key is '
                          f'{next(iter(obj))})')
    head = obj.get(layout.head)
    if head is None or head.dim() != 2:
        raise ExportError(f'{path} has no classifier head ({layout.head}): export the '
                          f'fine-tuned model with its head')
    return Checkpoint(path, obj, where, layout, int(head.shape[0]), layout.head_dist in obj,
                      any(k.endswith(layout.legacy_suffix) for k in obj))


def create_model(timm, size: str, checkpoint: Checkpoint):
    """
    Build timm's RepViT of a size with the checkpoint's head and variant (random weights).

    :param timm: the timm module.
    :param size: m0_9, m1_0 or m1_1.
    :param checkpoint: what the weights will come from.
    :return: the model.
    """
    return timm.create_model(f'repvit_{size}', pretrained=False,
                             num_classes=checkpoint.num_classes,
                             distillation=checkpoint.distillation, legacy=checkpoint.legacy)


def _pairs(checkpoint: Checkpoint, target: Dict) -> Tuple[List[Tuple[str, str]], Optional[str]]:
    """
    Pair the checkpoint's tensors with the model's and find the first that does not fit.

    :return: ([(checkpoint name, model name)], None) or ([], what does not fit).
    """
    source = checkpoint.state_dict
    if checkpoint.layout is LAYOUTS[0]:
        missing = [k for k in target if k not in source]
        unexpected = [k for k in source if k not in target]
        if missing or unexpected:
            return [], (f'{len(missing)} tensors missing (first {missing[0]})' if missing else
                        f'{len(unexpected)} unexpected tensors (first {unexpected[0]})')
        pairs = [(k, k) for k in target]
    else:
        if len(source) != len(target):
            return [], f'{len(source)} tensors where the model has {len(target)}'
        pairs = list(zip(source, target))
    for src, dst in pairs:
        shape, want = list(source[src].shape), list(target[dst].shape)
        if shape != want or src.rsplit('.', 1)[-1] != dst.rsplit('.', 1)[-1]:
            where = src if src == dst else f'{src} (as {dst})'
            return [], f'{where} is {shape} where the model has {want}'
    return pairs, None


def load_weights(timm, size: str, checkpoint: Checkpoint):
    """
    Build the model and load the checkpoint into it, refusing any tensor that does not fit.

    :param timm: the timm module.
    :param size: m0_9, m1_0 or m1_1.
    :param checkpoint: from :func:`load_checkpoint`.
    :return: the model in eval mode.
    :raises ExportError: naming the first tensor that does not fit, and the size that fits when
        another one does.
    """
    model = create_model(timm, size, checkpoint)
    target = model.state_dict()
    pairs, problem = _pairs(checkpoint, target)
    if problem:
        fits = [other for other in models.MODELS if other != size and
                not _pairs(checkpoint, create_model(timm, other, checkpoint).state_dict())[1]]
        hint = (f': it is RepViT {fits[0]}, export it with --size {fits[0]}' if fits else
                ' (no other RepViT size fits either)')
        raise ExportError(f'{checkpoint.path} does not fit RepViT {size}: {problem}{hint}')
    model.load_state_dict({dst: checkpoint.state_dict[src] for src, dst in pairs}, strict=True)
    return model.eval()


def write_onnx(torch, deploy, path: str, input_size: Tuple[int, int]) -> None:
    """
    Export a re-parameterised model as the zoo's deploy ONNX, with PyTorch's TorchScript exporter.

    torch 2.9 and later default to the dynamo exporter, which fails without the onnxscript
    package (checked with torch 2.14.1); ``dynamo=False`` takes the TorchScript exporter.

    :param torch: the torch module.
    :param deploy: the model, eval mode, re-parameterised.
    :param path: the file to write.
    :param input_size: (height, width).
    """
    dummy = torch.zeros(1, 3, input_size[0], input_size[1])
    with warnings.catch_warnings():
        # The TorchScript exporter announces its deprecation; the file is checked afterwards.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', FutureWarning)
        with torch.no_grad():
            torch.onnx.export(deploy, (dummy,), path, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], opset_version=OPSET,
                              do_constant_folding=True, dynamo=False)


# ------------------------------------------------------------------ checks of the written file
def check_signature(path: str, num_classes: int, input_size: Tuple[int, int]) -> str:
    """
    Check the exported file: valid ONNX, opset 11, input ``data`` float [1,3,H,W], output [1,N].

    :param path: the file.
    :param num_classes: N.
    :param input_size: (H, W).
    :return: a one-line description.
    :raises ExportError: when any of that does not hold.
    """
    import onnx
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f'the exported file is not valid ONNX: {_line(exc)}') from None
    opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    outputs = list(model.graph.output)

    def dims(value):
        return [d.dim_value for d in value.type.tensor_type.shape.dim]

    want_in = [1, 3, input_size[0], input_size[1]]
    if opset != OPSET or len(inputs) != 1 or inputs[0].name != INPUT_NAME or \
            inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT or \
            dims(inputs[0]) != want_in or len(outputs) != 1 or \
            dims(outputs[0]) != [1, num_classes]:
        got = ', '.join(f'{i.name} {dims(i)}' for i in inputs)
        raise ExportError(f'the exported file has opset {opset}, inputs {got}, outputs '
                          f'{[dims(o) for o in outputs]}; expected opset {OPSET}, {INPUT_NAME} '
                          f'{want_in} float, one output [1, {num_classes}]')
    return (f'opset {opset}, input {INPUT_NAME} {want_in} float32, output '
            f'{outputs[0].name} [1, {num_classes}]')


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """
    Cosine similarity of two logit vectors, in float64.

    :param a: logits.
    :param b: logits.
    :return: the cosine (1.0 for identical directions).
    """
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))


def compare(torch, reference, path: str, num_classes: int,
            pictures: Sequence[Tuple[str, np.ndarray, str]],
            log: Callable[[str], None]) -> List[Tuple[str, float]]:
    """
    Compare the ONNX file's logits with the PyTorch model's on pictures, as the node feeds them.

    Each picture goes through the node's preprocessing (letterbox to NV12, full range) and the
    ONNX backend's emulation of the BPU input node (NV12 to RGB, ImageNet mean/scale, NCHW);
    that tensor goes to both models.

    :param torch: the torch module.
    :param reference: the un-fused model, eval mode.
    :param path: the ONNX file.
    :param num_classes: its class count.
    :param pictures: (name, frame, encoding) for each.
    :param log: where each picture's line goes.
    :return: (name, cosine) for each picture.
    :raises ExportError: when the node's ONNX backend cannot load the file.
    """
    from repvit_ros.backends.base import BackendError
    from repvit_ros.backends.onnxruntime_backend import OnnxRuntimeBackend
    try:
        backend = OnnxRuntimeBackend(path, threads=1, num_classes=num_classes)
    except BackendError as exc:
        raise ExportError(f"the node's ONNX backend cannot load the export: {exc}") from None
    results = []
    try:
        for name, frame, encoding in pictures:
            nv12 = to_nv12(frame, encoding, backend.input_size)
            with torch.no_grad():
                expected = reference(torch.from_numpy(backend.model_input(nv12))).numpy()
            got = backend.infer(nv12)
            cos = cosine(got, expected)
            diff = float(np.max(np.abs(got.ravel() - expected.ravel())))
            log(f'  {name}: cosine {cos:.8f} (1 - cosine {1 - cos:.1e}), max |difference| '
                f'{diff:.1e} (logits up to {float(np.max(np.abs(expected))):.3g})')
            results.append((name, cos))
    finally:
        backend.close()
    return results


# ------------------------------------------------------------------ the tool
def export(checkpoint: str, size: str, output: str, *, num_classes: Optional[int] = None,
           key: Optional[str] = None, images: Optional[str] = None, count: int = 4,
           log: Callable[[str], None] = print) -> ExportResult:
    """
    Turn a RepViT checkpoint into the zoo's deploy ONNX and check it against PyTorch.

    :param checkpoint: a timm or RepViT-authors state_dict file (or a checkpoint holding one).
    :param size: the RepViT size it is (m0_9, m1_0, m1_1).
    :param output: the ONNX file to write; replaced only when every check passed.
    :param num_classes: the class count the head must have (default: whatever it has).
    :param key: the checkpoint entry holding the state_dict (default: the first found of
        :data:`CHECKPOINT_KEYS`).
    :param images: a folder of pictures to compare on (default: generated pictures).
    :param count: how many pictures.
    :param log: where progress lines go.
    :return: what was written and measured.
    :raises ExportError: for any problem; nothing is written then.
    """
    try:
        info = models.get_model(size)
    except models.ModelError as exc:
        raise ExportError(str(exc)) from None
    check_paths(checkpoint, output, images)
    pictures = folder_pictures(images, count) if images else generated_pictures(count)
    try:
        with written_file(output) as tmp:  # renamed to output only when every check passed
            result = _export(checkpoint, size, output, tmp, info, num_classes, key, pictures,
                             log)
    except PathError as exc:
        raise ExportError(str(exc)) from None
    log(f'export_model: wrote {output} (lowest cosine {min(c for _, c in result.cosines):.8f} '
        f'>= {MIN_COSINE})')
    return result


def _export(checkpoint: str, size: str, output: str, tmp: str, info: models.ModelInfo,
            num_classes: Optional[int], key: Optional[str],
            pictures: List[Tuple[str, np.ndarray, str]],
            log: Callable[[str], None]) -> ExportResult:
    """Write and check the ONNX into ``tmp``; an ExportError leaves nothing behind."""
    torch, timm = require_torch()
    ckpt = load_checkpoint(torch, checkpoint, key)
    if num_classes is not None and num_classes != ckpt.num_classes:
        raise ExportError(f'{checkpoint} has a head of {ckpt.num_classes} classes, not '
                          f'{num_classes} (--num-classes)')
    source = f'{ckpt.layout.name} layout' + (f", entry '{ckpt.key}'" if ckpt.key else '')
    variant = ', '.join(v for v, on in (('distillation head', ckpt.distillation),
                                        ('first-release RepVGG branches', ckpt.legacy)) if on)
    log(f'export_model: {checkpoint}: {source}, RepViT {size}, {ckpt.num_classes} classes'
        + (f', {variant}' if variant else ''))
    reference = load_weights(timm, size, ckpt)
    deploy = timm.utils.reparameterize_model(reference)  # a fused copy; reference stays
    params = sum(p.numel() for p in deploy.parameters())
    zoo = f" (the zoo's deploy {size}: {info.params:,})" if ckpt.num_classes == 1000 else ''
    log(f'export_model: re-parameterised: {params:,} parameters{zoo}')
    write_onnx(torch, deploy, tmp, info.input_size)
    log(f'export_model: ONNX {check_signature(tmp, ckpt.num_classes, info.input_size)}')
    log(f'export_model: ONNX Runtime against PyTorch (un-fused) on {len(pictures)} '
        'pictures, preprocessed as the node does:')
    cosines = compare(torch, reference, tmp, ckpt.num_classes, pictures, log)
    worst = min(cosines, key=lambda c: c[1])
    if worst[1] < MIN_COSINE:
        raise ExportError(f'the ONNX logits differ from those of the PyTorch model: cosine '
                          f'{worst[1]:.8f} < {MIN_COSINE} on {worst[0]}; {output} not '
                          f'written')
    return ExportResult(output, size, ckpt.num_classes, params, cosines)


def main(argv=None) -> int:
    """
    Export a RepViT checkpoint as the zoo's deploy ONNX and check it (``export_model``).

    :param argv: command line arguments (default sys.argv).
    :return: exit status: 0 written, 1 refused or failed (nothing written).
    """
    parser = argparse.ArgumentParser(
        prog='export_model',
        description="Turn a timm or RepViT authors' checkpoint into the deploy ONNX the node, "
                    "quantization_config and the RDK model zoo's hb_mapper settings expect "
                    '(re-parameterised, opset 11, input "data" 1x3x224x224, any class count), '
                    'then check it against PyTorch in ONNX Runtime. Needs PyTorch and timm.')
    parser.add_argument('--checkpoint', required=True,
                        help='state_dict file (.pth), or a training checkpoint holding one')
    parser.add_argument('--size', required=True, choices=list(models.MODELS),
                        help='the RepViT size the checkpoint is')
    parser.add_argument('--output', required=True, help='the .onnx file to write')
    parser.add_argument('--num-classes', type=int, default=None,
                        help="classes the head must have (default: the checkpoint's)")
    parser.add_argument('--key', default=None,
                        help='checkpoint entry holding the state_dict (default: the first of '
                             f'{", ".join(CHECKPOINT_KEYS)} present)')
    parser.add_argument('--images', default=None,
                        help='folder of pictures to compare on (default: generated pictures)')
    parser.add_argument('--count', type=int, default=4,
                        help='pictures to compare on (default 4)')
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error('--count must be at least 1')
    try:
        export(args.checkpoint, args.size, args.output, num_classes=args.num_classes,
               key=args.key, images=args.images, count=args.count)
    except ExportError as exc:
        print(f'export_model: error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
