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

"""The node's parameters over ROS: descriptors from the one table, and how changes are judged."""

from rcl_interfaces.srv import DescribeParameters
import rclpy
from rclpy.parameter import Parameter
from repvit_ros import parameters
from repvit_ros.node import RepVitClassifier
from ros_support import spin_until


def _node(ros_context, synthetic_model, *extra):
    return RepVitClassifier(context=ros_context, parameter_overrides=[
        Parameter('model_path', value=synthetic_model('m0_9')), *extra])


def test_descriptors_read_back_over_the_parameter_service(ros_context, executor,
                                                          synthetic_model):
    node = _node(ros_context, synthetic_model)
    client_node = rclpy.create_node('describer', context=ros_context)
    executor.add_node(node)
    executor.add_node(client_node)
    try:
        client = client_node.create_client(DescribeParameters,
                                           '/repvit_classifier/describe_parameters')
        assert spin_until(executor, client.service_is_ready, 10)
        names = [s.name for s in parameters.PARAMETERS]
        future = client.call_async(DescribeParameters.Request(names=names))
        assert spin_until(executor, future.done, 10)
        got = {d.name: d for d in future.result().descriptors}
        for spec in parameters.PARAMETERS:
            d = got[spec.name]
            assert d.description == spec.description
            assert d.read_only == (not spec.runtime), spec.name
            for choice in spec.choices or ():
                assert choice in d.additional_constraints, (spec.name, choice)
            if spec.bounds and spec.kind is int:
                assert (d.integer_range[0].from_value, d.integer_range[0].to_value) == \
                    spec.bounds
            if spec.bounds and spec.kind is float:
                assert (d.floating_point_range[0].from_value,
                        d.floating_point_range[0].to_value) == spec.bounds
        string_specs = [s for s in parameters.PARAMETERS if s.kind is str and s.choices]
        assert len(string_specs) == 7  # model, backend, input_type, qos, resize, yuv, class id
    finally:
        executor.remove_node(node)
        executor.remove_node(client_node)
        node.destroy_node()
        client_node.destroy_node()


def test_a_bound_changed_in_the_table_moves_descriptor_and_rejection(
        ros_context, synthetic_model, monkeypatch):
    narrowed = parameters.SPECS['top_k']._replace(bounds=(1, 7))
    table = tuple(narrowed if s.name == 'top_k' else s for s in parameters.PARAMETERS)
    monkeypatch.setattr(parameters, 'PARAMETERS', table)
    monkeypatch.setitem(parameters.SPECS, 'top_k', narrowed)
    node = _node(ros_context, synthetic_model)
    try:
        desc = node.describe_parameter('top_k')
        assert desc.integer_range[0].to_value == 7
        assert desc.additional_constraints == 'from 1 to 7'
        assert node.set_parameters([Parameter('top_k', value=7)])[0].successful
        res = node.set_parameters([Parameter('top_k', value=8)])[0]
        assert not res.successful and node.settings.top_k == 7
    finally:
        node.destroy_node()


def test_float_parameters_take_integers(ros_context, synthetic_model):
    # `-p max_rate:=10` and `ros2 param set ... max_rate 10` both send an integer.
    node = _node(ros_context, synthetic_model, Parameter('max_rate', value=10))
    try:
        assert node.settings.max_rate == 10.0
        assert node.set_parameters([Parameter('max_rate', value=20)])[0].successful
        assert node.settings.max_rate == 20.0
        assert node.set_parameters([Parameter('min_score', value=1)])[0].successful
        res = node.set_parameters([Parameter('max_rate', value='fast')])[0]
        assert not res.successful and 'must be a number' in res.reason
        res = node.set_parameters([Parameter('max_rate', value=5000)])[0]
        assert not res.successful and node.settings.max_rate == 20.0
    finally:
        node.destroy_node()
