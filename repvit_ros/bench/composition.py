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
Nodes composed in one component container against one process each: the ``composition`` mode.

- memory: the classifier and a frame source (the camera stand-in) in one container against
  two processes, and N classifiers (1, 2, 4) in one container against N processes. Every
  classifier holds its model (RepViT m1_0 on ONNX Runtime, the synthetic one without real
  weights) and has classified frames before the reading. Resident memory is read as PSS (pages
  shared between processes counted in part, so the processes' figures add up to what they take
  together) and RSS.
- throughput: one classifier fed the RDK camera's frames (960x544 nv12) closed loop (as fast as
  it takes them) and at 30 Hz (latency), loaded into a container and standalone, alternately;
  on ONNX Runtime and on the emulated BPU (:mod:`repvit_ros.bench.servers`: 2 ms per
  inference with the GIL released, where the node's own work bounds it, as on the board).

The container is the product's ``component_container``; the emulated classifier is loaded
into the same container code run by ``servers container``, which can also load it.
"""

from contextlib import ExitStack
import itertools
import os
import statistics
import time
from typing import Any, Dict, List, Sequence, Tuple

from composition_interfaces.srv import LoadNode
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from repvit_ros.bench import robot
from repvit_ros.bench.feeder import Feeder
from repvit_ros.bench.harness import classifier_params, frames, model_file, NodeProcess
from repvit_ros.bench.servers import EMULATED_PLUGIN

CLASSIFIER = 'repvit_ros::RepVitClassifier'
FRAME_SOURCE = 'repvit_ros::FrameSource'
MODEL = 'm1_0'
MB = 2 ** 20
#: seconds after the last frames before memory is read (the node hands free heap pages back to
#: the system once a second)
SETTLE_S = 1.5


class ContainerClient:
    """
    Load nodes into a running component container from this process (own rclpy context).

    :param container: the container node's full name.
    :param timeout: seconds to wait for its load service.
    :raises RuntimeError: when the service does not come.
    """

    _ids = itertools.count()

    def __init__(self, container: str, timeout: float = 60.0):
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(f'repvit_container_client_{os.getpid()}_{next(self._ids)}',
                                      context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.container = container
        self._load = self.node.create_client(LoadNode, f'{container}/_container/load_node')
        deadline = time.monotonic() + timeout
        while not self._load.service_is_ready():
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f'no load service of {container} within {timeout:g} s')
            self.executor.spin_once(timeout_sec=0.05)

    def load(self, plugin: str, namespace: str, params: Dict[str, Any],
             remaps: Sequence[Tuple[str, str]] = (), package: str = 'repvit_ros',
             timeout: float = 120.0) -> int:
        """
        Load a node as ``ros2 component load`` does.

        :param plugin: its plugin name.
        :param namespace: its namespace.
        :param params: its parameters.
        :param remaps: (from, to) remappings.
        :param package: the registering package.
        :param timeout: seconds to wait for the answer.
        :return: its unique id.
        :raises RuntimeError: when it did not load, with the container's reason.
        """
        request = LoadNode.Request(
            package_name=package, plugin_name=plugin, node_namespace=namespace,
            remap_rules=[f'{a}:={b}' for a, b in remaps],
            parameters=[Parameter(k, value=v).to_parameter_msg() for k, v in params.items()])
        future = self._load.call_async(request)
        self.executor.spin_until_future_complete(future, timeout)
        response = future.result()
        if response is None or not response.success:
            reason = response.error_message if response is not None else 'no answer'
            raise RuntimeError(f'{plugin} did not load into {self.container}: {reason}')
        return response.unique_id

    def close(self) -> None:
        """Destroy the client and shut its context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def _container(stack: ExitStack, kind: str, ns: str) -> Tuple[NodeProcess, ContainerClient]:
    proc = NodeProcess(kind, ns)
    stack.callback(proc.stop)
    try:
        client = ContainerClient(f'{ns}/ComponentManager')
    except RuntimeError as exc:
        raise RuntimeError(f'{exc}\n{proc.output}') from None
    stack.callback(client.close)
    return proc, client


def _feed(ns: str, proc: NodeProcess, msgs: List[Any], window: int, seconds: float) -> int:
    """Feed a classifier closed loop for ``seconds``; return how many results came."""
    feeder = Feeder(ns, 'image')
    try:
        feeder.wait_ready(proc)
        return feeder.run(msgs, window=window, duration=seconds, warmup=0.0)['received']
    finally:
        feeder.close()


def _published(ns: str) -> int:
    """Read how many results a classifier published, from its diagnostics."""
    feeder = Feeder(ns, 'image')
    try:
        return int(feeder.diagnostics().get('published', 0))
    finally:
        feeder.close()


def _memory(procs: Sequence[NodeProcess]) -> Dict[str, float]:
    time.sleep(SETTLE_S)
    return {'pss_mb': sum(p.pss() for p in procs) / MB,
            'rss_mb': sum(p.rss() for p in procs) / MB, 'processes': len(procs)}


def memory_classifiers(n: int, params: Dict[str, Any], msgs: List[Any], window: int,
                       feed_s: float) -> Dict[str, Any]:
    """
    Measure N classifiers in one container and in N processes, each fed ``feed_s`` first.

    :return: the row: case, nodes, composed and separate figures (:func:`_memory`).
    """
    base = f'/repvit_compose_{os.getpid()}_{n}'
    row: Dict[str, Any] = {'case': f'{n} classifier{"s" if n > 1 else ""}', 'nodes': n}
    with ExitStack() as stack:
        proc, client = _container(stack, 'component_container', base + '_one')
        for i in range(n):
            client.load(CLASSIFIER, f'{base}_one/c{i}', params)
        row['composed_results'] = sum(_feed(f'{base}_one/c{i}', proc, msgs, window, feed_s)
                                      for i in range(n))
        row['composed'] = _memory([proc])
    with ExitStack() as stack:
        procs = []
        for i in range(n):
            procs.append(NodeProcess('classifier', f'{base}_each/c{i}', params))
            stack.callback(procs[-1].stop)
        row['separate_results'] = sum(_feed(f'{base}_each/c{i}', p, msgs, window, feed_s)
                                      for i, p in enumerate(procs))
        row['separate'] = _memory(procs)
    return row


def memory_with_frame_source(params: Dict[str, Any], source: Dict[str, Any],
                             run_s: float) -> Dict[str, Any]:
    """
    Measure the classifier and a frame source feeding it, in one container and in two processes.

    :param params: the classifier's parameters.
    :param source: the frame source's parameters (encoding, width, height, rate).
    :param run_s: seconds of frames before the reading.
    :return: the row: case, nodes, composed and separate figures, results published.
    """
    base = f'/repvit_compose_{os.getpid()}_source'
    row: Dict[str, Any] = {'case': 'classifier + frame source', 'nodes': 2}
    with ExitStack() as stack:
        proc, client = _container(stack, 'component_container', base + '_one')
        client.load(CLASSIFIER, base + '_one', params)
        client.load(FRAME_SOURCE, base + '_one', source)
        time.sleep(run_s)
        row['composed_results'] = _published(base + '_one')
        row['composed'] = _memory([proc])
    with ExitStack() as stack:
        procs = [NodeProcess('classifier', base + '_each', params),
                 NodeProcess('frame_source', base + '_each', source)]
        for p in procs:
            stack.callback(p.stop)
        time.sleep(run_s)
        row['separate_results'] = _published(base + '_each')
        row['separate'] = _memory(procs)
    return row


def throughput(backend: str, threads: int, msgs: List[Any], runs: int, duration: float,
               warmup: float, rate: float, inference_ms: float) -> List[Dict[str, Any]]:
    """
    Run one classifier composed and standalone alternately: closed loop, then at ``rate``.

    :param backend: ``onnxruntime`` (RepViT m1_0) or ``emulated`` (the BPU stand-in).
    :param threads: its workers.
    :param msgs: the frames.
    :param runs: alternations; medians are reported.
    :param duration: measured seconds per run.
    :param warmup: seconds fed before each.
    :param rate: Hz of the latency runs.
    :param inference_ms: the emulated inference time.
    :return: one row per layout (``container``, ``standalone``): fps and CPU ms per frame
        closed loop, latency p50/p99 closed loop and at ``rate``, results, runs.
    """
    if backend == 'emulated':
        window = max(4, 2 * threads)
        params = {**robot.emulated_params(threads, inference_ms), 'queue_size': window}
        plugin, kinds = EMULATED_PLUGIN[1], ('container', 'emulated')
    else:
        window = threads + 1
        params = classifier_params(threads, 'image', 1, model_file(MODEL), 'onnxruntime')
        plugin, kinds = CLASSIFIER, ('component_container', 'classifier')
    base = f'/repvit_compose_{os.getpid()}_{backend}'
    figures: Dict[str, List[Dict[str, float]]] = {'container': [], 'standalone': []}
    with ExitStack() as stack:
        container, client = _container(stack, kinds[0], base + '_container')
        client.load(plugin, base + '_container', params)
        standalone = NodeProcess(kinds[1], base + '_standalone', params)
        stack.callback(standalone.stop)
        rigs = []
        for layout, proc in (('container', container), ('standalone', standalone)):
            feeder = Feeder(f'{base}_{layout}', 'image')
            stack.callback(feeder.close)
            feeder.wait_ready(proc)
            rigs.append((layout, proc, feeder))
        for _ in range(runs):
            for layout, proc, feeder in rigs:
                cpu0 = proc.cpu_seconds()
                loop = feeder.run(msgs, window=window, duration=duration, warmup=warmup)
                cpu = proc.cpu_seconds() - cpu0
                fixed = feeder.run(msgs, rate=rate, duration=duration, warmup=warmup)
                figures[layout].append({
                    'fps': loop['throughput_fps'],
                    'cpu_ms_per_frame': 1e3 * cpu / max(1, loop['received']),
                    'loop_latency_p50_ms': loop['latency_median_ms'],
                    'latency_p50_ms': fixed['latency_median_ms'],
                    'latency_p99_ms': fixed['latency_p99_ms'],
                    'results': loop['received'] + fixed['received'],
                    'stalls': loop['stalls']})
    rows = []
    for layout, runs_of in figures.items():
        row: Dict[str, Any] = {'backend': backend, 'layout': layout, 'threads': threads,
                               'window': window, 'runs': len(runs_of)}
        for key in runs_of[0]:
            values = [r[key] for r in runs_of]
            row[key] = sum(values) if key in ('results', 'stalls') else statistics.median(values)
        rows.append(row)
    return rows


def bench_composition(counts: Sequence[int] = (1, 2, 4), threads: int = 2,
                      encoding: str = robot.CAMERA_ENCODING,
                      width: int = robot.CAMERA_SIZE[0], height: int = robot.CAMERA_SIZE[1],
                      rate: float = 30.0, duration: float = 8.0, warmup: float = 2.0,
                      runs: int = 3, feed_s: float = 3.0,
                      backends: Sequence[str] = ('onnxruntime', 'emulated'),
                      inference_ms: float = robot.EMULATED_MS) -> Dict[str, Any]:
    """
    Run the memory and throughput comparisons (see the module's description), in one run.

    :param counts: classifier counts of the memory rows (none: skip them).
    :param threads: workers of every classifier.
    :param encoding: the frames' encoding.
    :param width: their columns.
    :param height: their rows.
    :param rate: Hz of the frame source and of the latency runs.
    :param duration: measured seconds of each throughput run.
    :param warmup: seconds fed before each throughput run.
    :param runs: throughput alternations.
    :param feed_s: seconds each classifier is fed before a memory reading (the frame source
        row: twice that).
    :param backends: of the throughput rows (none: skip them).
    :param inference_ms: the emulated inference time.
    :return: the settings, ``memory_rows`` and ``throughput_rows``.
    """
    msgs = frames(encoding, width, height)
    model = model_file(MODEL)
    params = classifier_params(threads, 'image', 1, model, 'onnxruntime')
    memory_rows = []
    if counts:
        source = {'encoding': encoding, 'width': width, 'height': height, 'rate': rate}
        memory_rows.append(memory_with_frame_source(params, source, 2 * feed_s))
        memory_rows += [memory_classifiers(n, params, msgs, threads + 1, feed_s)
                        for n in counts]
    throughput_rows = []
    for backend in backends:
        throughput_rows += throughput(backend, threads, msgs, runs, duration, warmup, rate,
                                      inference_ms)
    return {'mode': 'composition', 'model': MODEL, 'synthetic': 'synthetic' in model,
            'threads': threads, 'encoding': encoding, 'resolution': f'{width}x{height}',
            'rate': rate, 'feed_s': feed_s, 'duration': duration, 'runs': runs,
            'inference_ms': inference_ms, 'memory_rows': memory_rows,
            'throughput_rows': throughput_rows}


def to_markdown(result: Dict[str, Any]) -> str:
    """Render the composition mode's tables."""
    weights = 'synthetic' if result['synthetic'] else 'real'
    lines = []
    if result['memory_rows']:
        lines += [f'Resident memory, MB: every classifier RepViT {result["model"]} ({weights} '
                  f'weights) on ONNX Runtime, {result["threads"]} workers, fed '
                  f'{result["encoding"]} {result["resolution"]} frames before the reading; the '
                  f'frame source publishes them at {result["rate"]:g} Hz. PSS counts pages '
                  "shared between processes in part (the processes' sum is what they take "
                  'together); RSS counts them in each', '',
                  '| nodes | one container PSS | one process each, PSS summed | saved | '
                  'container / processes | RSS: container / processes summed |',
                  '|---' * 6 + '|']
        for r in result['memory_rows']:
            c, s = r['composed'], r['separate']
            lines.append(f'| {r["case"]} | {c["pss_mb"]:.0f} | {s["pss_mb"]:.0f} '
                         f'({s["processes"]}) | {s["pss_mb"] - c["pss_mb"]:.0f} | '
                         f'{c["pss_mb"] / max(s["pss_mb"], 1e-9):.2f} | {c["rss_mb"]:.0f} / '
                         f'{s["rss_mb"]:.0f} |')
    if result['throughput_rows']:
        if lines:
            lines.append('')
        lines += [f'One classifier, {result["encoding"]} {result["resolution"]}, '
                  f'{result["threads"]} workers, in a container and standalone alternately '
                  f'(medians of {result["runs"]} runs of {result["duration"]:g} s); closed '
                  f'loop: as fast as it takes frames; latency at {result["rate"]:g} Hz from '
                  f'publication to result. onnxruntime: RepViT {result["model"]} ({weights} '
                  f'weights); emulated: the BPU stand-in, {result["inference_ms"]:g} ms per '
                  'inference with the GIL released', '',
                  '| backend | layout | closed-loop fps | CPU ms/frame | closed-loop latency '
                  f'p50 ms | latency p50 / p99 ms at {result["rate"]:g} Hz | results |',
                  '|---' * 7 + '|']
        for r in result['throughput_rows']:
            lines.append(f'| {r["backend"]} | {r["layout"]} | {r["fps"]:.1f} | '
                         f'{r["cpu_ms_per_frame"]:.2f} | {r["loop_latency_p50_ms"]:.1f} | '
                         f'{r["latency_p50_ms"]:.1f} / {r["latency_p99_ms"]:.1f} | '
                         f'{r["results"]} |')
        by = {(r['backend'], r['layout']): r for r in result['throughput_rows']}
        ratios = []
        for b in dict.fromkeys(r['backend'] for r in result['throughput_rows']):
            one, alone = by[(b, 'container')], by[(b, 'standalone')]
            ratios.append(f'{b}: fps {one["fps"] / max(alone["fps"], 1e-9):.2f}, CPU per frame '
                          f'{one["cpu_ms_per_frame"] / max(alone["cpu_ms_per_frame"], 1e-9):.2f}')
        lines += ['', 'container / standalone: ' + '; '.join(ratios)]
    return '\n'.join(lines)
