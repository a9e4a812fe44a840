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

"""The benchmark's composition mode in small: nodes in one container against one process each."""

import pytest
from repvit_ros.bench import benchmark, composition


@pytest.mark.measuring
def test_composition_mode_compares_one_container_with_processes():
    res = composition.bench_composition(counts=(1, 2), threads=1, width=320, height=240,
                                        duration=1.5, warmup=0.5, runs=1, feed_s=1.0,
                                        backends=('emulated',))
    cases = [r['case'] for r in res['memory_rows']]
    assert cases == ['classifier + frame source', '1 classifier', '2 classifiers']
    for r in res['memory_rows']:
        assert r['composed']['processes'] == 1
        assert r['separate']['processes'] == r['nodes']
        assert r['composed']['pss_mb'] > 50 and r['separate']['pss_mb'] > 50
        assert r['composed_results'] > 0 and r['separate_results'] > 0  # they classified
    # Two Python nodes share one interpreter, numpy, OpenCV and rclpy in the container.
    source, _, two = res['memory_rows']
    assert source['composed']['pss_mb'] < source['separate']['pss_mb']
    assert two['composed']['pss_mb'] < two['separate']['pss_mb']
    rows = res['throughput_rows']
    assert [(r['backend'], r['layout']) for r in rows] == [
        ('emulated', 'container'), ('emulated', 'standalone')]
    for r in rows:
        assert r['fps'] > 10 and r['cpu_ms_per_frame'] > 0 and r['results'] > 0
        assert r['latency_p50_ms'] > 0 and r['window'] == 4 and r['stalls'] == 0
    table = benchmark.to_markdown(res)
    for text in ('| classifier + frame source |', '| 2 classifiers |', '| emulated | container |',
                 'container / standalone: emulated: fps'):
        assert text in table, text


def test_cli_runs_the_composition_mode(capsys):
    assert benchmark.main(['composition', '--classifiers', '', '--composition-backends',
                           'emulated', '--threads', '1', '--resolution', '320x240',
                           '--duration', '1', '--runs', '1', '--json']) == 0
    out = capsys.readouterr().out
    assert '"mode": "composition"' in out and '"memory_rows": []' in out
    with pytest.raises(SystemExit):
        benchmark.main(['composition', '--threads', '1,2'])
