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
Deploy-form RepViT as ONNX with deterministic, untrained weights (numpy and onnx only).

The graph has the topology of the fused (deploy) RepViT of the RDK model zoo: a two-conv stem,
stride-1 blocks whose token mixer is one depthwise 3x3 conv (the re-parameterised RepVGGDW) with
squeeze-excite on alternate blocks and a residual GELU MLP as channel mixer, downsample blocks
(depthwise 3x3 stride 2, pointwise projection, residual MLP), global pooling and one Linear head.
Parameter counts equal the zoo's exactly. The weights come from a fixed seed: the labels a
synthetic model predicts are meaningless; it exists to exercise and time everything else.
"""

import argparse
import sys
from typing import Dict, List, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

from repvit_ros.model_tools.files import check_output_file, PathError, written_file

# name: (stage widths, blocks per stage); parameter counts must match models.MODELS.
ARCHS: Dict[str, Tuple[Tuple[int, ...], Tuple[int, ...]]] = {
    'm0_9': ((48, 96, 192, 384), (2, 2, 14, 2)),
    'm1_0': ((56, 112, 224, 448), (2, 2, 14, 2)),
    'm1_1': ((64, 128, 256, 512), (2, 2, 12, 2)),
}
NUM_CLASSES = 1000
INPUT_NAME = 'data'  # as in the zoo's repvit_*_deploy.onnx
OUTPUT_NAME = 'output'
SEED = 20230718
OPSET = 13


def _divisible(v: float, divisor: int = 8) -> int:
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


class _Graph:
    """Accumulates ONNX nodes and initializers, naming them in order."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[onnx.TensorProto] = []
        self.count = 0

    def _name(self, kind: str) -> str:
        self.count += 1
        return f'{kind}_{self.count}'

    def param(self, array: np.ndarray, kind: str) -> str:
        name = self._name(kind)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def const(self, value: float) -> str:
        name = self._name('const')
        self.nodes.append(helper.make_node(
            'Constant', [], [name],
            value=numpy_helper.from_array(np.array(value, np.float32), name + '_v')))
        return name

    def op(self, op_type: str, inputs: List[str], **attrs) -> str:
        out = self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1,
             gain: float = 1.0, identity: bool = False) -> str:
        fan_in = cin // groups * k * k
        w = self.rng.normal(0.0, gain * np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k))
        if identity:  # re-parameterised skip branch folded into the depthwise kernel
            w[:, 0, k // 2, k // 2] += 1.0
        b = self.rng.normal(0.0, 0.01, cout)
        return self.op('Conv', [x, self.param(w, 'w'), self.param(b, 'b')],
                       kernel_shape=[k, k], strides=[stride, stride],
                       pads=[k // 2] * 4, group=groups)

    def gelu(self, x: str) -> str:
        # 0.5 x (1 + erf(x / sqrt 2)), which ONNX Runtime fuses into one Gelu kernel.
        erf = self.op('Erf', [self.op('Mul', [x, self.const(1.0 / np.sqrt(2.0))])])
        one_plus = self.op('Add', [erf, self.const(1.0)])
        return self.op('Mul', [self.op('Mul', [x, self.const(0.5)]), one_plus])

    def squeeze_excite(self, x: str, c: int) -> str:
        r = _divisible(c * 0.25)
        s = self.op('GlobalAveragePool', [x])
        s = self.op('Relu', [self.conv(s, c, r)])
        s = self.op('Sigmoid', [self.conv(s, r, c, gain=0.5)])
        return self.op('Mul', [x, s])

    def mlp(self, x: str, c: int) -> str:
        h = self.gelu(self.conv(x, c, 2 * c))
        return self.op('Add', [x, self.conv(h, 2 * c, c, gain=0.2)])

    def block(self, x: str, c: int, se: bool) -> str:
        x = self.conv(x, c, c, k=3, groups=c, gain=0.3, identity=True)
        if se:
            x = self.squeeze_excite(x, c)
        return self.mlp(x, c)

    def downsample(self, x: str, cin: int, cout: int) -> str:
        x = self.conv(x, cin, cin, k=3, stride=2, groups=cin)
        x = self.conv(x, cin, cout)
        return self.mlp(x, cout)


def build_model(name: str, seed: int = SEED, size: int = 224) -> onnx.ModelProto:
    """
    Build the deploy-form RepViT ``name`` (m0_9, m1_0 or m1_1) as an ONNX model.

    :param name: model size.
    :param seed: weight seed; the same seed gives the same bytes.
    :param size: input height and width.
    :return: the model, input ``data`` float32 [1,3,size,size], output [1,1000] logits.
    """
    if name not in ARCHS:
        raise ValueError(f'unknown RepViT size {name!r}; one of {", ".join(ARCHS)}')
    widths, depths = ARCHS[name]
    g = _Graph(seed + sorted(ARCHS).index(name))
    x = g.conv(INPUT_NAME, 3, widths[0] // 2, k=3, stride=2)
    x = g.conv(g.gelu(x), widths[0] // 2, widths[0], k=3, stride=2)
    for stage, (c, depth) in enumerate(zip(widths, depths)):
        if stage > 0:
            # The block before each downsample is a stride-1 block without squeeze-excite.
            x = g.block(x, widths[stage - 1], se=False)
            x = g.downsample(x, widths[stage - 1], c)
        for i in range(depth):
            x = g.block(x, c, se=(i % 2 == 0))
    x = g.op('Flatten', [g.op('GlobalAveragePool', [x])])
    # Head gain chosen so that logits spread over a few units, as a trained head does.
    w = g.rng.normal(0.0, 25.0 / np.sqrt(widths[-1]), (NUM_CLASSES, widths[-1]))
    b = g.rng.normal(0.0, 0.01, NUM_CLASSES)
    g.nodes.append(helper.make_node('Gemm', [x, g.param(w, 'w'), g.param(b, 'b')],
                                    [OUTPUT_NAME], transB=1))
    graph = helper.make_graph(
        g.nodes, f'repvit_{name}_synthetic',
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, NUM_CLASSES])],
        g.inits)
    model = helper.make_model(graph, producer_name='repvit_ros.synthetic',
                              opset_imports=[helper.make_opsetid('', OPSET)])
    model.ir_version = 8
    helper.set_model_props(model, {'repvit_ros.synthetic': 'true', 'repvit_ros.model': name,
                                   'repvit_ros.seed': str(seed)})
    onnx.checker.check_model(model)
    return model


def parameter_count(model: onnx.ModelProto) -> int:
    """
    Count the learned parameters (initializer elements) of a model.

    :param model: an ONNX model.
    :return: the number of parameters.
    """
    return int(sum(np.prod(t.dims, dtype=np.int64) for t in model.graph.initializer))


def is_synthetic(model: onnx.ModelProto) -> bool:
    """
    Tell whether a model was built by this module (its labels are meaningless).

    :param model: an ONNX model.
    :return: True for a synthetic model.
    """
    return any(p.key == 'repvit_ros.synthetic' and p.value == 'true'
               for p in model.metadata_props)


def write_model(name: str, path: str, seed: int = SEED) -> onnx.ModelProto:
    """
    Build the synthetic RepViT ``name`` and write it to ``path`` whole or not at all.

    :param name: model size.
    :param path: the ONNX file; written under a temporary name beside it, then renamed.
    :param seed: weight seed.
    :return: the model.
    :raises PathError: when the file's folder takes no new file.
    """
    model = build_model(name, seed)
    with written_file(path) as tmp:
        onnx.save(model, tmp)
    return model


def main(argv=None) -> int:
    """
    Write a synthetic RepViT (``make_synthetic_model``).

    The output's folder must exist, as for every model tool: a mistyped folder is reported,
    not created (``mkdir -p`` it first).

    :param argv: command line arguments (default sys.argv).
    :return: exit status: 0 written, 1 for an unusable output path, 2 bad arguments.
    """
    parser = argparse.ArgumentParser(
        prog='make_synthetic_model',
        description='Write a deploy-form RepViT ONNX with deterministic untrained weights '
                    '(for tests and demos; its predictions are meaningless).')
    parser.add_argument('--model', default='m1_0', choices=sorted(ARCHS))
    parser.add_argument('--output', required=True,
                        help='ONNX file to write (its folder must exist)')
    parser.add_argument('--seed', type=int, default=SEED)
    args = parser.parse_args(argv)
    try:
        check_output_file(args.output, '--output', '.onnx file')  # before the graph is built
        model = write_model(args.model, args.output, args.seed)
    except PathError as exc:
        print(f'make_synthetic_model: error: {exc}', file=sys.stderr)
        return 1
    print(f'wrote {args.output}: synthetic RepViT {args.model}, '
          f'{parameter_count(model):,} parameters, untrained (labels meaningless)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
