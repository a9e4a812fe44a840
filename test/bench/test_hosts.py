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
A camera on another host: two network namespaces joined by a veth pair, DDS over UDP.

CI runs as root, so this runs there; elsewhere it needs root (``ip netns``).
"""

import pytest
from repvit_ros.bench import hosts
from repvit_ros.bench.harness import model_file

WIDTH, HEIGHT = 640, 480


@pytest.fixture(scope='module')
def two_hosts():
    reason = hosts.unavailable()
    if reason:
        pytest.skip(f'two hosts on one machine: {reason}')
    with hosts.TwoHosts(subnet=7) as pair:
        yield pair


@pytest.mark.parametrize('encoding, reliability', [('bgr8', 'reliable'),
                                                   ('jpeg', 'best_effort')])
def test_a_camera_on_another_host_is_classified(two_hosts, encoding, reliability):
    row = hosts.measure(two_hosts, model_file('m0_9'), encoding, reliability, rate=15.0,
                        seconds=4.0, width=WIDTH, height=HEIGHT)
    log = row['node_log_tail']
    assert row['matched'], log
    assert row['sent'] >= 45, row
    # The frames crossed the link (UDP), not shared memory: at least the pixels of what the
    # node received went over the veth.
    frame_bytes = WIDTH * HEIGHT * 3 if encoding == 'bgr8' else 10_000
    assert row['camera_bytes'] >= row['received'] * frame_bytes, row
    # Every frame sent is received or counted lost, and results come back for most of them.
    assert row['received'] + row['lost_before_node'] <= row['sent'], row
    # 97 % measured alone (reliable bgr8); 78 % once in a CI run beside two other sessions:
    # the figures are the bench tool's, this asserts the path works.
    assert row['received'] >= 0.6 * row['sent'], row
    assert 0 < row['results'] <= row['received'], row
    assert row['latency_p50_ms'] > 0, row
