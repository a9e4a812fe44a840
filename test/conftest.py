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

"""Shared fixtures: a private rclpy context per test and helpers to wait on DDS."""

import os
import time
from typing import Callable

import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from repvit_ros.loadgen import use_large_frames_profile

# Fast DDS reads its XML profile once, when this process creates its first participant: set
# the shipped large-frames profile (16 MB shared-memory segment) before any test does, as the
# README tells camera publishers to. Tests that need the defaults clear it for their child.
use_large_frames_profile()


@pytest.fixture
def ros_context():
    context = Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.try_shutdown(context=context)


@pytest.fixture
def executor(ros_context):
    ex = SingleThreadedExecutor(context=ros_context)
    try:
        yield ex
    finally:
        ex.shutdown()


def spin_until(executor, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.02)
    return predicate()


@pytest.fixture(scope='session')
def synthetic_model(tmp_path_factory):
    """Path of a synthetic RepViT ONNX of a given size, built once per test session."""
    from repvit_ros.synthetic import write_model
    cache = {}
    base = tmp_path_factory.mktemp('models')

    def get(name='m1_0'):
        if name not in cache:
            path = os.path.join(str(base), f'repvit_{name}_synthetic.onnx')
            write_model(name, path)
            cache[name] = path
        return cache[name]

    return get
