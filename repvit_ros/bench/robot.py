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
Robot pipelines: several cameras through one node or one node each, and a detector's regions.

The benchmark modes ``cameras``, ``sweep`` and ``regions`` of
:mod:`repvit_ros.bench.benchmark`. Every node runs the classifier on the ``emulated`` backend of
:mod:`repvit_ros.bench.servers`: a stand-in for the RDK X5's BPU that takes a fixed time per
inference (default 2 ms, m1_0 on the X5) with the GIL released, so what is measured is the
node's own work around a BPU-fast model, which is what bounds a node on the board. A
:class:`~repvit_ros.bench.streams.StreamFeeder` in this process publishes each camera open-loop
at a fixed rate and times every result from its publication.

- ``cameras``: 1, 2, 4 cameras through ONE node (``image_topics``) and through one node per
  camera, alternating, with a real RepViT ONNX model loaded (unused) in every node process so
  that resident memory is that of real nodes.
- ``sweep``: the largest number of cameras one node, and as many separate nodes, serve at the
  rate with under 1 % of frames dropped.
- ``regions``: one camera whose frames each come with a detector's boxes (1, 5, 10).
"""

from contextlib import contextmanager
import os
import statistics
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import psutil
from repvit_ros.bench.harness import (checkout_env, classifier_params, frames, model_file,
                                      NodeProcess)
from repvit_ros.bench.streams import detector_boxes, StreamFeeder, StreamSpec
from repvit_ros.frames import input_type_of
from vision_msgs.msg import Detection2DArray

#: BPU time of RepViT m1_0 on the RDK X5 (ms), what the emulated backend takes per inference
EMULATED_MS = 2.0
#: the RDK camera's default frame
CAMERA_ENCODING, CAMERA_SIZE = 'nv12', (960, 544)
#: what "serves" means in the sweep and the targets: dropped frames under this share (%)
MAX_DROP_PCT = 1.0
TARGET_P99_MS = 50.0
LAYOUTS = ('one node', 'node per camera')
# Figures of a run taken as the median over repeats (counts are summed instead).
_MEDIAN_KEYS = ('sent_fps', 'throughput_fps', 'items_per_s', 'latency_p50_ms', 'latency_p99_ms',
                'cpu_ms_per_frame', 'cpu_ms_per_item', 'feeder_cpu_ms_per_frame', 'others_cores',
                'rss_mb', 'pss_mb')


def emulated_params(threads: int, inference_ms: float, model_path: str = '',
                    msg_type: str = 'image') -> Dict[str, Any]:
    """
    Build the parameters of a classifier on the emulated backend, fed reliably.

    :param threads: workers.
    :param inference_ms: emulated inference time.
    :param model_path: an ONNX model to hold in memory, unused ('' none).
    :param msg_type: the input type.
    :return: the parameters.
    """
    params = {**classifier_params(threads, msg_type), 'emulated_ms': float(inference_ms)}
    if model_path:
        params['emulated_model'] = model_path
    return params


Nodes = List[Tuple[str, Dict[str, Any]]]


def layout_of(layout: str, n: int, base: str,
              params: Dict[str, Any]) -> Tuple[Nodes, List[StreamSpec]]:
    """
    Lay ``n`` cameras out on one node or on one node each.

    :param layout: one of :data:`LAYOUTS`.
    :param n: cameras.
    :param base: namespace prefix, unique to the run.
    :param params: each node's parameters (``image_topics`` and ``camera_names`` are added for
        one node).
    :return: the nodes as (namespace, parameters) and the cameras' topics.
    """
    if layout == LAYOUTS[0]:
        ns = f'{base}_one{n}'
        names = [f'cam{i}' for i in range(n)]
        topics = [f'{ns}/{c}/image' for c in names]
        streams = [StreamSpec(c, t, f'{ns}/{c}/classification') for c, t in zip(names, topics)]
        return [(ns, {**params, 'image_topics': topics, 'camera_names': names})], streams
    if layout == LAYOUTS[1]:
        nodes = [(f'{base}_sep{n}_{i}', dict(params)) for i in range(n)]
        return nodes, [StreamSpec(f'cam{i}', f'{ns}/image', f'{ns}/classification')
                       for i, (ns, _) in enumerate(nodes)]
    raise ValueError(f'unknown layout {layout!r}')


@contextmanager
def rig(nodes: Sequence[Tuple[str, Dict[str, Any]]], streams: Sequence[StreamSpec],
        msg_type: str = 'image', kind: str = 'emulated',
        checkout: str = '') -> Iterator[Tuple[List[NodeProcess], StreamFeeder]]:
    """
    Start node processes and a feeder for their cameras; stop all of them on the way out.

    :param nodes: (namespace, parameters) of each node.
    :param streams: the cameras.
    :param msg_type: the frames' message type.
    :param kind: the node kind (see :class:`~repvit_ros.bench.harness.NodeProcess`).
    :param checkout: a checkout of another commit of this package whose node to run ('' this
        one's).
    :return: a context manager giving (processes, feeder).
    """
    procs = [NodeProcess(kind, ns, params, env=checkout_env(checkout) if checkout else None,
                         cwd=checkout or None) for ns, params in nodes]
    feeder: Optional[StreamFeeder] = None
    try:
        feeder = StreamFeeder(streams, msg_type)
        feeder.wait_ready(procs)
        yield procs, feeder
    finally:
        if feeder is not None:
            feeder.close()
        for proc in procs:
            proc.stop()


def measure(procs: Sequence[NodeProcess], feeder: StreamFeeder, msgs: Sequence[Any],
            rate: float, duration: float, warmup: float,
            detections: Sequence[Detection2DArray] = ()) -> Dict[str, Any]:
    """
    Run the feeder once and add what the node processes spent meanwhile.

    :param procs: the nodes.
    :param feeder: their feeder.
    :param msgs: frames.
    :param rate: Hz per camera.
    :param duration: measured seconds.
    :param warmup: seconds before.
    :param detections: detections per frame, for regions.
    :return: sent, delivered, dropped (frames sent in the measured window; delivered: with a
        result), items (results, or classified regions), sent_fps (below the offered rate when
        this process could not keep the schedule), throughput_fps, items_per_s,
        latency_p50_ms, latency_p99_ms, cpu_ms_per_frame and cpu_ms_per_item (node processes'
        CPU in the window), feeder_cpu_ms_per_frame, others_cores (CPU the rest of the
        machine used meanwhile, in cores: other people's work on a shared machine), rss_mb
        and pss_mb (node processes, summed, after the run), worst_camera_drop_pct and
        per-camera sent/delivered.
    """
    me = psutil.Process()
    cpu: Dict[str, Tuple[float, float, float]] = {}

    def on_window(which: str) -> None:
        own, machine = me.cpu_times(), psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, 'iowait', 0.0)
        cpu[which] = (sum(p.cpu_seconds() for p in procs), own.user + own.system, busy)
    run = feeder.run(msgs, rate, duration, warmup, detections=detections, on_window=on_window)
    dead = [p for p in procs if not p.alive()]
    if dead:
        raise RuntimeError(f'{len(dead)} node(s) exited during the run:\n' +
                           '\n'.join(p.output[-3000:] for p in dead))
    cams = run['cameras']
    sent = sum(c['sent'] for c in cams)
    delivered = sum(c['delivered'] for c in cams)
    items = sum(c['items'] for c in cams)
    lat = np.array([x for c in cams for x in c['latencies_ms']], np.float64)
    node_cpu = cpu['end'][0] - cpu['start'][0]
    feeder_cpu = cpu['end'][1] - cpu['start'][1]
    others = (cpu['end'][2] - cpu['start'][2]) - node_cpu - feeder_cpu
    return {
        'sent': sent, 'delivered': delivered, 'dropped': sent - delivered, 'items': items,
        'seconds': run['seconds'], 'sent_fps': sent / run['seconds'],
        'throughput_fps': delivered / run['seconds'],
        'items_per_s': items / run['seconds'],
        'latency_p50_ms': float(np.percentile(lat, 50)) if lat.size else float('nan'),
        'latency_p99_ms': float(np.percentile(lat, 99)) if lat.size else float('nan'),
        'cpu_ms_per_frame': 1e3 * node_cpu / max(delivered, 1),
        'cpu_ms_per_item': 1e3 * node_cpu / max(items, 1),
        'feeder_cpu_ms_per_frame': 1e3 * feeder_cpu / max(sent, 1),
        'others_cores': max(0.0, others / run['seconds']),
        'rss_mb': sum(p.rss() for p in procs) / 2 ** 20,
        'pss_mb': sum(p.pss() for p in procs) / 2 ** 20,
        'worst_camera_drop_pct': max(100.0 * (c['sent'] - c['delivered']) / max(c['sent'], 1)
                                     for c in cams),
        'per_camera': [{'name': c['name'], 'sent': c['sent'], 'delivered': c['delivered']}
                       for c in cams]}


def summarise(runs: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """
    Combine repeated runs: counts summed, figures as medians, the worst camera's drops.

    :param runs: results of :func:`measure`.
    :return: the same keys (``per_camera`` summed by camera), ``drop_pct`` over all runs and
        ``runs``.
    """
    out: Dict[str, Any] = {k: sum(r[k] for r in runs)
                           for k in ('sent', 'delivered', 'dropped', 'items')}
    out.update({k: statistics.median(r[k] for r in runs) for k in _MEDIAN_KEYS})
    out['drop_pct'] = 100.0 * out['dropped'] / max(out['sent'], 1)
    out['worst_camera_drop_pct'] = max(r['worst_camera_drop_pct'] for r in runs)
    per: Dict[str, Dict[str, Any]] = {}
    for r in runs:
        for c in r['per_camera']:
            acc = per.setdefault(c['name'], {'name': c['name'], 'sent': 0, 'delivered': 0})
            acc['sent'] += c['sent']
            acc['delivered'] += c['delivered']
    out['per_camera'] = list(per.values())
    out['runs'] = len(runs)
    return out


def _camera_msgs(encoding: str, width: int, height: int) -> Tuple[List[Any], str]:
    return frames(encoding, width, height), input_type_of(encoding)


def _serves(row: Dict[str, Any]) -> bool:
    return row['drop_pct'] < MAX_DROP_PCT


def bench_cameras(counts: Sequence[int] = (1, 2, 4), rate: float = 30.0,
                  encoding: str = CAMERA_ENCODING, width: int = CAMERA_SIZE[0],
                  height: int = CAMERA_SIZE[1], threads: int = 2, duration: float = 10.0,
                  warmup: float = 2.0, repeats: int = 3, inference_ms: float = EMULATED_MS,
                  model: str = 'm1_0') -> Dict[str, Any]:
    """
    Serve ``n`` cameras through one node and through ``n`` nodes, side by side.

    For each camera count both layouts run at once (idle in turn) and are fed alternately,
    ``repeats`` times each; figures are medians, counts sums.

    :param counts: camera counts.
    :param rate: Hz per camera.
    :param encoding: frame encoding.
    :param width: frame columns.
    :param height: frame rows.
    :param threads: workers of every node.
    :param duration: measured seconds per run.
    :param warmup: seconds fed before.
    :param repeats: runs per layout.
    :param inference_ms: emulated inference time.
    :param model: the model every node process holds in memory ('' none).
    :return: ``rows`` (cameras, layout, processes, offered_fps and :func:`summarise`'s keys)
        and ``ratios`` per camera count (one node over one node per camera: CPU per frame,
        RSS, PSS) with the targets.
    """
    model_path = model_file(model) if model else ''
    msgs, msg_type = _camera_msgs(encoding, width, height)
    params = emulated_params(threads, inference_ms, model_path, msg_type)
    base = f'/repvit_cameras_{os.getpid()}'
    rows, ratios = [], []
    for n in counts:
        setups = {lay: layout_of(lay, n, base, params) for lay in LAYOUTS}
        with rig(*setups[LAYOUTS[0]], msg_type) as one, \
                rig(*setups[LAYOUTS[1]], msg_type) as sep:
            runs: Dict[str, List[Dict[str, Any]]] = {lay: [] for lay in LAYOUTS}
            for _ in range(repeats):
                for lay, (procs, feeder) in zip(LAYOUTS, (one, sep)):
                    runs[lay].append(measure(procs, feeder, msgs, rate, duration, warmup))
        by_layout = {}
        for lay in LAYOUTS:
            row = {'cameras': n, 'layout': lay, 'processes': len(setups[lay][0]),
                   'offered_fps': n * rate, **summarise(runs[lay])}
            rows.append(row)
            by_layout[lay] = row
        a, b = by_layout[LAYOUTS[0]], by_layout[LAYOUTS[1]]
        ratios.append({'cameras': n,
                       'cpu_ratio': a['cpu_ms_per_frame'] / max(b['cpu_ms_per_frame'], 1e-9),
                       'rss_ratio': a['rss_mb'] / max(b['rss_mb'], 1e-9),
                       'pss_ratio': a['pss_mb'] / max(b['pss_mb'], 1e-9)})
    return {'mode': 'cameras', 'encoding': encoding, 'resolution': f'{width}x{height}',
            'rate': rate, 'threads': threads, 'inference_ms': inference_ms, 'model': model,
            'repeats': repeats, 'duration': duration, 'cpu_count': os.cpu_count(),
            'rows': rows, 'ratios': ratios, 'targets': targets(rows, ratios)}


def targets(rows: Sequence[Dict[str, Any]], ratios: Sequence[Dict[str, Any]],
            cameras: int = 4) -> Dict[str, Any]:
    """
    Check issue 13's targets for one node serving ``cameras`` cameras.

    Under 1 % dropped, p99 latency under 50 ms, CPU per frame at most that of one node per
    camera, resident memory at most half of theirs.

    :param rows: :func:`bench_cameras` rows.
    :param ratios: its ratios.
    :param cameras: the camera count the targets are set for.
    :return: each target's value and whether it is met; empty when that count was not run.
    """
    one = [r for r in rows if r['cameras'] == cameras and r['layout'] == LAYOUTS[0]]
    ratio = [r for r in ratios if r['cameras'] == cameras]
    if not one or not ratio:
        return {}
    one, ratio = one[0], ratio[0]
    return {'cameras': cameras,
            'drop_pct': (one['drop_pct'], one['drop_pct'] < MAX_DROP_PCT),
            'latency_p99_ms': (one['latency_p99_ms'], one['latency_p99_ms'] < TARGET_P99_MS),
            'cpu_ratio': (ratio['cpu_ratio'], ratio['cpu_ratio'] <= 1.0),
            'rss_ratio': (ratio['rss_ratio'], ratio['rss_ratio'] <= 0.5)}


def bench_sweep(max_cameras: int = 8, rate: float = 30.0, encoding: str = CAMERA_ENCODING,
                width: int = CAMERA_SIZE[0], height: int = CAMERA_SIZE[1], threads: int = 2,
                duration: float = 5.0, warmup: float = 1.0, repeats: int = 3,
                inference_ms: float = EMULATED_MS, model: str = '',
                layouts: Sequence[str] = LAYOUTS, baseline: str = '') -> Dict[str, Any]:
    """
    Find the most cameras one node, and as many separate nodes, serve with under 1 % dropped.

    From 1 camera up to ``max_cameras``, each layout still serving is run ``repeats`` times
    (alternating with the other); a layout stops at its first count that drops 1 % or more of
    the frames of all its runs together. With ``baseline``, every layout also runs the
    baseline checkout's node, in turn with this one (``node``: ``this`` or ``before``).

    :param max_cameras: the largest count tried.
    :param rate: Hz per camera.
    :param encoding: frame encoding.
    :param width: frame columns.
    :param height: frame rows.
    :param threads: workers of every node.
    :param duration: measured seconds per run.
    :param warmup: seconds fed before.
    :param repeats: runs per layout and count.
    :param inference_ms: emulated inference time.
    :param model: a model every node holds in memory ('' none: memory is not the question).
    :param layouts: which of :data:`LAYOUTS` to run.
    :param baseline: a checkout of another commit of this package, run beside ('' none).
    :return: ``rows`` as :func:`bench_cameras` gives them, with ``serves`` and ``node``, and
        ``largest`` per layout (``<layout> (before)`` for the baseline's; 0: not even one
        camera).
    """
    model_path = model_file(model) if model else ''
    msgs, msg_type = _camera_msgs(encoding, width, height)
    params = emulated_params(threads, inference_ms, model_path, msg_type)
    base = f'/repvit_sweep_{os.getpid()}'
    nodes = _compared(baseline)
    cases = [(lay, node, checkout) for lay in layouts for node, checkout in nodes]
    rows: List[Dict[str, Any]] = []
    largest = {_case_name(lay, node): 0 for lay, node, _ in cases}
    going = list(cases)
    for n in range(1, max_cameras + 1):
        if not going:
            break
        setups = {(lay, node): layout_of(lay, n, f'{base}_{node}', params)
                  for lay, node, _ in going}
        runs: Dict[Tuple[str, str], List[Dict[str, Any]]] = {
            (lay, node): [] for lay, node, _ in going}
        with _rigs([(*setups[lay, node], checkout) for lay, node, checkout in going],
                   msg_type) as rigs:
            for _ in range(repeats):
                for (lay, node, _), (procs, feeder) in zip(going, rigs):
                    runs[lay, node].append(measure(procs, feeder, msgs, rate, duration,
                                                   warmup))
        for case in list(going):
            lay, node, _ = case
            row = {'cameras': n, 'layout': lay, 'node': node,
                   'processes': len(setups[lay, node][0]), 'offered_fps': n * rate,
                   **summarise(runs[lay, node])}
            row['serves'] = _serves(row)
            rows.append(row)
            if row['serves']:
                largest[_case_name(lay, node)] = n
            else:
                going.remove(case)
    return {'mode': 'sweep', 'encoding': encoding, 'resolution': f'{width}x{height}',
            'rate': rate, 'threads': threads, 'inference_ms': inference_ms, 'model': model,
            'repeats': repeats, 'duration': duration, 'max_cameras': max_cameras,
            'baseline': baseline, 'cpu_count': os.cpu_count(), 'rows': rows,
            'largest': largest}


def _compared(baseline: str) -> List[Tuple[str, str]]:
    """Give the nodes a mode runs: ('this', '') and, with a baseline, ('before', checkout)."""
    return [('this', '')] + ([('before', baseline)] if baseline else [])


def _case_name(layout: str, node: str) -> str:
    return layout if node == 'this' else f'{layout} ({node})'


@contextmanager
def _rigs(setups: Sequence[Tuple[Nodes, List[StreamSpec], str]],
          msg_type: str) -> Iterator[List[Tuple[List[NodeProcess], StreamFeeder]]]:
    # Each setup: nodes, streams, checkout ('' this one).
    if not setups:
        yield []
        return
    nodes, streams, checkout = setups[0]
    with rig(nodes, streams, msg_type, checkout=checkout) as first, \
            _rigs(setups[1:], msg_type) as rest:
        yield [first] + rest


def detection_arrays(count: int, width: int, height: int, n: int = 4) -> List[Detection2DArray]:
    """
    Build ``n`` detector outputs of ``count`` boxes each (stamps are set when sent).

    :param count: boxes per frame.
    :param width: frame columns.
    :param height: frame rows.
    :param n: different arrays.
    :return: the arrays.
    """
    out = []
    for seed in range(n):
        arr = Detection2DArray()
        arr.detections = detector_boxes(count, width, height, seed=1000 * count + seed)
        out.append(arr)
    return out


def bench_regions(counts: Sequence[int] = (1, 5, 10), rate: float = 30.0,
                  encoding: str = CAMERA_ENCODING, width: int = CAMERA_SIZE[0],
                  height: int = CAMERA_SIZE[1], threads: int = 2, duration: float = 10.0,
                  warmup: float = 2.0, repeats: int = 3,
                  inference_ms: float = EMULATED_MS, baseline: str = '') -> Dict[str, Any]:
    """
    Classify a detector's boxes: one camera at ``rate``, each frame followed by its detections.

    One node (``detections_topic``) serves every box count; the counts alternate, ``repeats``
    runs each. Latency runs from the detections' publication to the classified detections'
    arrival. With ``baseline``, the baseline checkout's node runs too, fed in turn with this
    one (its rows have ``node`` ``before``).

    :param counts: boxes per frame (sides 48-256 pixels, inside the frame).
    :param rate: frames per second.
    :param encoding: frame encoding.
    :param width: frame columns.
    :param height: frame rows.
    :param threads: workers.
    :param duration: measured seconds per run.
    :param warmup: seconds fed before.
    :param repeats: runs per count.
    :param inference_ms: emulated inference time per region.
    :param baseline: a checkout of another commit of this package ('' none).
    :return: ``rows`` per box count (and node) with :func:`summarise`'s keys (items:
        classified regions).
    """
    msgs, msg_type = _camera_msgs(encoding, width, height)
    params = {**emulated_params(threads, inference_ms, '', msg_type),
              'detections_topic': 'detections'}
    nodes = _compared(baseline)
    setups = []
    for node, checkout in nodes:
        ns = f'/repvit_regions_{os.getpid()}_{node}'
        setups.append(([(ns, params)], [StreamSpec('cam0', f'{ns}/image',
                                                   f'{ns}/classified_detections',
                                                   f'{ns}/detections')], checkout))
    dets = {k: detection_arrays(k, width, height) for k in counts}
    runs: Dict[Tuple[int, str], List[Dict[str, Any]]] = {
        (k, node): [] for k in counts for node, _ in nodes}
    with _rigs(setups, msg_type) as rigs:
        for _ in range(repeats):
            for k in counts:
                for (node, _), (procs, feeder) in zip(nodes, rigs):
                    runs[k, node].append(measure(procs, feeder, msgs, rate, duration, warmup,
                                                 dets[k]))
    rows = [{'detections': k, 'node': node, 'offered_regions_per_s': k * rate,
             **summarise(runs[k, node])} for k in counts for node, _ in nodes]
    return {'mode': 'regions', 'encoding': encoding, 'resolution': f'{width}x{height}',
            'rate': rate, 'threads': threads, 'inference_ms': inference_ms,
            'repeats': repeats, 'duration': duration, 'baseline': baseline,
            'cpu_count': os.cpu_count(), 'rows': rows}


# ------------------------------------------------------------------ output
def _setting(result: Dict[str, Any]) -> str:
    return (f'emulated BPU backend ({result["inference_ms"]:g} ms per inference, GIL '
            f'released), {result["threads"]} workers per node, {result["encoding"]} '
            f'{result["resolution"]} at {result["rate"]:g} Hz per camera, open loop; '
            f'medians of {result["repeats"]} runs of {result["duration"]:g} s '
            f'(drops: all runs); {result["cpu_count"]} CPUs')


def _drops(r: Dict[str, Any]) -> str:
    return f'{r["drop_pct"]:.2f} ({r["worst_camera_drop_pct"]:.2f})'


def to_markdown(result: Dict[str, Any]) -> str:
    """
    Render a ``cameras``, ``sweep`` or ``regions`` result as markdown.

    :param result: what :func:`bench_cameras`, :func:`bench_sweep` or :func:`bench_regions`
        returned.
    :return: the tables.
    """
    mode = result['mode']
    lines = []
    if mode in ('cameras', 'sweep'):
        held = f'RepViT {result["model"]} ONNX held in every node process, unused' \
            if result['model'] else 'no model held'
        lines.append(f'{_setting(result)}; {held}')
        lines.append('')
        lines.append('| cameras | layout | node processes | offered / sent / delivered fps | '
                     'dropped % (worst camera) | latency p50 / p99 ms | CPU ms/frame | '
                     "RSS MB | PSS MB | feeder CPU ms/frame | others' CPU, cores |" +
                     (' serves |' if mode == 'sweep' else ''))
        lines.append('|---' * (11 + (mode == 'sweep')) + '|')
        for r in result['rows']:
            lines.append(f'| {r["cameras"]} | {_case_name(r["layout"], r.get("node", "this"))} | '
                         f'{r["processes"]} | '
                         f'{r["offered_fps"]:.0f} / {r["sent_fps"]:.1f} / '
                         f'{r["throughput_fps"]:.1f} | {_drops(r)} | '
                         f'{r["latency_p50_ms"]:.1f} / {r["latency_p99_ms"]:.1f} | '
                         f'{r["cpu_ms_per_frame"]:.2f} | {r["rss_mb"]:.0f} | '
                         f'{r["pss_mb"]:.0f} | {r["feeder_cpu_ms_per_frame"]:.2f} | '
                         f'{r["others_cores"]:.2f} |' +
                         (f' {"yes" if r["serves"] else "no"} |' if mode == 'sweep' else ''))
    if mode == 'cameras':
        lines.append('')
        lines.append('| cameras | one node / node per camera: CPU per frame | RSS | PSS |')
        lines.append('|---|---|---|---|')
        for r in result['ratios']:
            lines.append(f'| {r["cameras"]} | {r["cpu_ratio"]:.2f} | {r["rss_ratio"]:.2f} | '
                         f'{r["pss_ratio"]:.2f} |')
        t = result['targets']
        if t:
            def said(key, text):
                value, met = t[key]
                return f'{text} {value:.2f} ({"met" if met else "NOT met"})'
            lines.append('')
            lines.append(f'Targets at {t["cameras"]} cameras, one node: ' + ', '.join((
                said('drop_pct', 'dropped % < 1:'), said('latency_p99_ms', 'p99 ms < 50:'),
                said('cpu_ratio', 'CPU per frame vs one node per camera <= 1:'),
                said('rss_ratio', 'RSS vs one node per camera <= 0.5:'))))
    elif mode == 'sweep':
        lines.append('')
        lines.append(f'Most cameras served at {result["rate"]:g} Hz with under '
                     f'{MAX_DROP_PCT:g} % dropped (tried up to {result["max_cameras"]}): ' +
                     ', '.join(f'{lay}: {n}' for lay, n in result['largest'].items()))
    elif mode == 'regions':
        before = result.get('baseline')
        lines.append(f'{_setting(result)}; one node, one camera, each frame followed by a '
                     f'Detection2DArray with its stamp' +
                     (f'; before = the node of `{before}`, fed in turn' if before else ''))
        lines.append('')
        lines.append('| detections per frame | node | offered regions/s | classified regions/s | '
                     'frames sent / delivered | dropped % | latency p50 / p99 ms | '
                     "CPU ms/region | CPU ms/frame | others' CPU, cores |")
        lines.append('|---' * 10 + '|')
        for r in result['rows']:
            lines.append(f'| {r["detections"]} | {r.get("node", "this")} | '
                         f'{r["offered_regions_per_s"]:.0f} | '
                         f'{r["items_per_s"]:.1f} | {r["sent"]} / {r["delivered"]} | '
                         f'{r["drop_pct"]:.2f} | {r["latency_p50_ms"]:.1f} / '
                         f'{r["latency_p99_ms"]:.1f} | {r["cpu_ms_per_item"]:.2f} | '
                         f'{r["cpu_ms_per_frame"]:.2f} | {r["others_cores"]:.2f} |')
        lines += _regions_latency(result)
    return '\n'.join(lines)


def _regions_latency(result: Dict[str, Any]) -> List[str]:
    """Set each box count's median latency against one box's, per node (nothing without 1)."""
    by = {(r['detections'], r.get('node', 'this')): r for r in result['rows']}
    nodes = list(dict.fromkeys(r.get('node', 'this') for r in result['rows']))
    counts = sorted({r['detections'] for r in result['rows']} - {1})
    if not counts or any((1, node) not in by for node in nodes):
        return []
    workers, ms = result['threads'], result['inference_ms']
    heads = ' | '.join(f'{node}: p50 ms | {node}: N / 1 box' for node in nodes)
    lines = ['', f'Latency p50 of N boxes against 1 box ({workers} workers; ceil(N / workers) '
                 f'= what sharing the boxes out can reach, N = one worker for all)', '',
             f'| boxes | ceil(N / workers) | {heads} |',
             '|---' * (2 + 2 * len(nodes)) + '|']
    for k in counts:
        cells = []
        for node in nodes:
            one, many = by[1, node]['latency_p50_ms'], by[k, node]['latency_p50_ms']
            cells.append(f'{many:.1f} | {many / one:.2f}')
        lines.append(f'| {k} | {-(-k // workers)} | ' + ' | '.join(cells) + ' |')
    ones = ', '.join(f'{node} {by[1, node]["latency_p50_ms"]:.1f} ms' for node in nodes)
    lines += ['', f'(1 box: {ones}; one emulated inference {ms:g} ms)']
    return lines
