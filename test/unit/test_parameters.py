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

"""The parameter table: one set of rules, checked without ROS."""

from dataclasses import fields
import enum
import types

import pytest
from repvit_ros import parameters
from repvit_ros.parameters import (apply_changes, check, ParameterError, PARAMETERS,
                                   settings_from, SPECS)


def defaults():
    return {s.name: s.default for s in PARAMETERS}


# Humble's rclpy.parameter.Parameter.Type: a plain Enum whose members do NOT compare equal to
# rcl_interfaces' ParameterType integers (rclpy 7.6 made it an IntEnum, so Kilted's do).
class HumbleType(enum.Enum):
    NOT_SET = 0
    BOOL = 1
    INTEGER = 2
    DOUBLE = 3
    STRING = 4


def humble_parameter(name, value):
    kind = {bool: HumbleType.BOOL, int: HumbleType.INTEGER, float: HumbleType.DOUBLE,
            str: HumbleType.STRING}[type(value)]
    return types.SimpleNamespace(name=name, value=value, type_=kind)


def test_settings_have_one_field_per_parameter_with_its_default():
    settings = settings_from(defaults())
    assert [f.name for f in fields(settings)] == [s.name for s in PARAMETERS]
    assert parameters.as_dict(settings) == defaults()
    with pytest.raises(Exception):
        settings.threads = 3  # frozen


def test_every_string_parameter_with_choices_names_them():
    for spec in PARAMETERS:
        if spec.choices:
            assert spec.kind is str
            assert spec.constraints() == f'one of: {", ".join(spec.choices)}'
            assert check(spec, spec.choices[-1]) == (spec.choices[-1], None)
            value, reason = check(spec, 'nonsense')
            assert value is None and all(c in reason for c in spec.choices)
        if spec.bounds:
            assert spec.kind in (int, float) and 'from' in spec.constraints()


def test_runtime_changes_work_with_humble_parameter_types():
    assert HumbleType.INTEGER != 2  # what broke `ros2 param set` on the board
    settings = settings_from(defaults())
    new, reason = apply_changes(settings, [humble_parameter('top_k', 3),
                                           humble_parameter('min_score', 0.25),
                                           humble_parameter('max_rate', 10.0)])
    assert reason is None
    assert (new.top_k, new.min_score, new.max_rate) == (3, 0.25, 10.0)
    assert settings.top_k == 5  # the old settings object is untouched


def test_integers_are_accepted_for_float_parameters():
    settings = settings_from({**defaults(), 'max_rate': 10, 'min_score': 1})
    assert settings.max_rate == 10.0 and isinstance(settings.max_rate, float)
    new, reason = apply_changes(settings, [humble_parameter('max_rate', 25)])
    assert reason is None and new.max_rate == 25.0 and isinstance(new.max_rate, float)


@pytest.mark.parametrize('name, value, words', [
    ('top_k', 0, 'out of range'), ('top_k', 1001, 'out of range'),
    ('min_score', 1.5, 'out of range'), ('max_rate', -1.0, 'out of range'),
    ('max_rate', 1001, 'out of range'), ('top_k', 'five', 'must be an integer'),
    ('top_k', True, 'must be an integer'), ('min_score', 'x', 'must be a number'),
    ('threads', 4, 'read-only')])
def test_invalid_runtime_changes_are_refused_with_the_reason(name, value, words):
    settings = settings_from(defaults())
    new, reason = apply_changes(settings, [humble_parameter(name, value)])
    assert new is None and name in reason and words in reason


def test_unknown_names_are_left_to_rclpy():
    settings = settings_from(defaults())
    new, reason = apply_changes(settings, [humble_parameter('use_sim_time', True)])
    assert reason is None and new == settings


@pytest.mark.parametrize('name, value', [
    ('threads', 0), ('threads', 17), ('queue_size', 0), ('model', 'm2_0'),
    ('backend', 'tensorrt'), ('input_type', 'video'), ('resize_mode', 'fill'),
    ('yuv_range', 'limited'), ('class_id_format', 'name'), ('qos_reliability', 'maybe'),
    ('bit_depth', 8), ('max_input_pixels', 0)])
def test_invalid_startup_values_stop_the_start_with_the_reason(name, value):
    with pytest.raises(ParameterError, match=name):
        settings_from({**defaults(), name: value})


def test_a_directory_as_model_path_is_named_as_a_directory(tmp_path):
    with pytest.raises(ParameterError, match='is a directory, not a model file'):
        settings_from({**defaults(), 'model_path': str(tmp_path)})


def test_long_values_are_cut_in_the_reason():
    _, reason = check(SPECS['resize_mode'], 'x' * 5000)
    assert len(reason) < 200
