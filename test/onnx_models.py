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

"""Small ONNX models with known answers, built in the tests."""

import onnx
from onnx import helper, TensorProto


def feature_map_model(path) -> str:
    """
    Write a model that maps [1,3,224,224] to a [1,3,7,7] feature map: not a classifier.

    :param path: where to write it.
    :return: the path as a string.
    """
    graph = helper.make_graph(
        [helper.make_node('AveragePool', ['data'], ['map'], kernel_shape=[32, 32],
                          strides=[32, 32])], 'features',
        [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info('map', TensorProto.FLOAT, [1, 3, 7, 7])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)
