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
Check an install with the real weights: one command, a report to attach to a bug.

For every RepViT size whose real model file is present (the models directory, RDK OS's
preinstalled .bin, or ``--model-path``) and every backend that can load it (hbm_runtime and
pyeasy_dnn for a .bin on the board, ONNX Runtime for an .onnx anywhere), classify bundled photos
of known content (:mod:`repvit_ros.model_tools.photos`) through the node's own path
(preprocessing to NV12, backend, softmax, labels) and report per model and backend: each photo's
top-5 and whether one of its expected classes is in it, single-frame latency and throughput
beside the zoo's RDK X5 figures, the NV12 range fed, and the runtime and library versions. When
a .bin and an .onnx of the same size both ran, their top-1 agreement and largest probability
difference (int8 on the BPU against float) are reported too.

Exit codes: 0 every real model passed; 1 something failed (a photo missed, a file that does not
load, a model of the wrong size, a missing runtime); 2 nothing real to check (no model file, or
only the synthetic RepViT, whose answers mean nothing).
"""

import argparse
import importlib
import json
import os
import platform
import re
import sys
import threading
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from repvit_ros import models
from repvit_ros.backends import BACKENDS, create_backend
from repvit_ros.classifier import Classifier
from repvit_ros.model_tools.download import verify_file
from repvit_ros.model_tools.files import (check_input_file, check_output_file, PathError,
                                          write_text)
from repvit_ros.model_tools.photos import load_photos, PhotoError
from repvit_ros.postprocess import softmax
from repvit_ros.preprocess import RESIZE_MODES, YUV_RANGES

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_NOTHING_REAL = 2
NOTHING_REAL = 'nothing real to check'
#: classes of a model's answer in which an expected class must appear
TOP_K = 5
BPU_BACKENDS = ('hbm_runtime', 'pyeasy_dnn')
#: present on RDK OS: a .bin that no BPU runtime can load is an error there, skipped elsewhere
RDK_MARKER = '/opt/hobot'
_BPU_MODULES = {'hbm_runtime': ('hbm_runtime',),
                'pyeasy_dnn': ('hobot_dnn.pyeasy_dnn', 'hobot_dnn_rdkx5.pyeasy_dnn')}
_INSTALL = {'hbm_runtime': 'hbm_runtime (RDK OS 3.5 or newer)',
            'pyeasy_dnn': 'hobot_dnn (RDK OS; on PyPI as hobot-dnn-rdkx5, aarch64 only)'}
_SIZE_IN_NAME = re.compile('(' + '|'.join(models.MODELS) + ')', re.IGNORECASE)
_BUG_REPORT = ('attach the output of `ros2 run repvit_ros self_check --json --output '
               'self_check.json` to a bug report')


class Candidate(NamedTuple):
    """A model file to check."""

    #: registry size (m0_9, m1_0, m1_1), or None when the file name does not tell
    size: Optional[str]
    #: ``bin``, ``onnx`` or the file's other ending
    fmt: str
    path: str
    #: ``models dir``, ``preinstalled`` or ``--model-path``
    source: str


class CheckError(RuntimeError):
    """A model that cannot be checked; the message says why."""

    def __init__(self, message: str, wrong_size: Optional[str] = None):
        """
        Keep the message and, for a model of another size in a slot, that size.

        :param message: what is wrong.
        :param wrong_size: the size the file really is, when that is what is wrong.
        """
        super().__init__(message)
        self.wrong_size = wrong_size


def _fetch(cand: 'Candidate') -> str:
    """Name the command that puts a good file of a candidate's size and format in place."""
    if cand.size and cand.fmt in models.FORMATS:
        return (f'download it again with `ros2 run repvit_ros download_models {cand.size} '
                f'--format {cand.fmt}`')
    return 'check that it is a RepViT model file of the 1000 ImageNet classes'


def next_step(cand: 'Candidate', stage: str, exc: Optional[BaseException] = None) -> str:
    """
    Say what to do about a model that failed or could not be checked.

    :param cand: the model file.
    :param stage: where it went wrong: ``file`` (finding, pin, signature), ``load`` (the
        runtime), ``photos``, ``run`` (inference), ``fail`` (photos missed), ``runtime`` (no
        BPU runtime), ``format`` (not .bin or .onnx).
    :param exc: the exception, when there was one.
    :return: one clause, for the end of the report's line.
    """
    if stage == 'format':
        return 'give a .bin (BPU) or .onnx model file'
    if stage == 'runtime':
        return ('run self_check on the RDK X5, whose RDK OS provides the BPU runtime '
                '(hbm_runtime from RDK OS 3.5)')
    if stage == 'photos':
        return 'install scikit-image, then run self_check again'
    if isinstance(exc, CheckError) and exc.wrong_size:
        other = models.MODELS[exc.wrong_size].file(cand.fmt)
        return f'rename it to {other} (its size), and {_fetch(cand)}'
    if isinstance(exc, PathError) and 'does not exist' in str(exc):
        return 'check the path' + (f', or {_fetch(cand)}' if cand.size else '')
    if stage in ('file', 'load'):
        return ('delete it and ' if 'changed since' in str(exc) else '') + _fetch(cand)
    evaluate = (f'measure it on labelled images with `ros2 run repvit_ros evaluate --images '
                f'DIR --model-path {cand.path}`')
    if stage == 'fail':
        first = ('check that --yuv-range and --resize-mode are what the model was compiled '
                 'for (the zoo: full, letterbox), then ')
        if cand.size:
            return f'{first}{_fetch(cand)}; if it still misses, {_BUG_REPORT}'
        return first + evaluate
    return f'{evaluate}; {_BUG_REPORT}'


def _importable(modules: Sequence[str]) -> bool:
    for module in modules:
        try:
            importlib.import_module(module)
            return True
        except ImportError:
            continue
    return False


def bpu_backends() -> List[str]:
    """
    List the BPU runtimes that can be imported here.

    :return: a subset of :data:`BPU_BACKENDS`, in order.
    """
    return [kind for kind in BPU_BACKENDS if _importable(_BPU_MODULES[kind])]


def _module_version(module: str) -> Optional[str]:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    except Exception as exc:  # noqa: B902 - a broken install is worth reporting, not a crash
        return f'broken ({type(exc).__name__}: {exc})'
    version = getattr(mod, '__version__', None)
    if version is None and hasattr(mod, 'HB_HBMRuntime'):
        try:
            version = mod.HB_HBMRuntime.version()
        except Exception:  # noqa: B902 - optional, runtime specific
            version = None
    if version is None:
        try:
            from importlib import metadata
            version = metadata.version(module.split('.')[0].replace('_', '-'))
        except Exception:  # noqa: B902 - not installed as a distribution
            version = 'installed (version unknown)'
    return str(version)


def environment() -> Dict[str, Optional[str]]:
    """
    Describe the machine and the versions of the libraries on the inference path.

    :return: name -> version (None: not installed).
    """
    env = {'python': platform.python_version(), 'platform': platform.platform(),
           'machine': platform.machine()}
    for key, module in (('repvit_ros', 'repvit_ros'), ('numpy', 'numpy'), ('opencv', 'cv2'),
                        ('onnxruntime', 'onnxruntime'), ('onnx', 'onnx'),
                        ('scikit-image', 'skimage'), ('hbm_runtime', 'hbm_runtime'),
                        ('hobot_dnn', 'hobot_dnn'), ('hobot_dnn_rdkx5', 'hobot_dnn_rdkx5')):
        env[key] = _module_version(module)
    return env


def _fmt_of(path: str) -> str:
    return os.path.splitext(path)[1].lower().lstrip('.')


def find_models(models_dir: str, explicit: Sequence[str] = ()) -> List[Candidate]:
    """
    List the model files to check: explicit paths first, then every registry file present.

    :param models_dir: the models directory.
    :param explicit: paths given by the user (checked even when they do not exist).
    :return: candidates, one per distinct file.
    """
    found: List[Candidate] = []
    seen = set()

    def add(cand: Candidate) -> None:
        key = os.path.realpath(cand.path)
        if key not in seen:
            seen.add(key)
            found.append(cand)

    for path in explicit:
        path = os.path.expanduser(path)
        match = _SIZE_IN_NAME.search(os.path.basename(path))
        add(Candidate(match.group(1).lower() if match else None, _fmt_of(path), path,
                      '--model-path'))
    for name in models.MODELS:
        for fmt in models.FORMATS:
            for path in models.candidate_paths(name, fmt, models_dir):
                if os.path.isfile(path):
                    source = 'preinstalled' if path.startswith(models.PREINSTALLED_DIR) else \
                        'models dir'
                    add(Candidate(name, fmt, path, source))
    return found


def _sha256(path: str) -> Optional[str]:
    try:
        return models.sha256_of(path)
    except OSError:
        return None


def _check_onnx_file(cand: Candidate, warnings: List[str]) -> None:
    """Refuse an ONNX file that is not a model of its slot; warn when it is not the zoo's."""
    info = models.get_model(cand.size)
    verify_file(cand.path, info, 'onnx')  # loads, checks input and output signature
    try:
        import onnx
        from repvit_ros.model_tools.synthetic import is_synthetic, parameter_count
    except ImportError:
        warnings.append('onnx is not installed: parameter count not checked')
        return
    proto = onnx.load(cand.path, load_external_data=False)
    if is_synthetic(proto):
        return
    count = parameter_count(proto)
    if count == info.params:
        return
    other = [m.name for m in models.MODELS.values() if m.params == count]
    if other:
        raise CheckError(f'{cand.path} is RepViT {other[0]} ({count:,} parameters), not '
                         f'{cand.size} ({info.params:,}): a model of the wrong size in '
                         f"{cand.size}'s place", wrong_size=other[0])
    warnings.append(f"{count:,} parameters where the zoo's {cand.size} has {info.params:,}: "
                    f"not the zoo's file (a retrained or different model)")


def _backends_for(cand: Candidate, requested: Sequence[str], available: Sequence[str],
                  on_rdk: bool) -> List[Tuple[str, Optional[str], Optional[str]]]:
    """
    Pick the backends to run a candidate on.

    :return: (backend, error, skip reason) triples; at most one of error and reason is set.
    """
    if cand.fmt == 'onnx':
        return [('onnxruntime', None, None)] if 'onnxruntime' in requested else []
    if cand.fmt != 'bin':
        return [('-', f'{cand.path}: not a .bin (BPU) or .onnx model file', None)]
    wanted = [k for k in BPU_BACKENDS if k in requested]
    usable = [k for k in wanted if k in available]
    if usable:
        return [(k, None, None) for k in usable]
    if not wanted:
        return []
    missing = ' or '.join(_INSTALL[k] for k in wanted)
    message = f'no BPU runtime can load this .bin: install {missing}'
    asked = cand.source == '--model-path' or len(requested) < len(BACKENDS) - 1
    if on_rdk or asked:
        return [(wanted[0] if len(wanted) == 1 else 'bpu', message, None)]
    return [('bpu', None, message + ' (not an RDK board: the .bin runs on the board only)')]


def _timing(clf: Classifier, rgb: np.ndarray, runs: int, workers: int) -> dict:
    """Median single-frame latency (inference, and whole frame) and throughput with workers."""
    nv12 = clf.to_nv12(rgb, 'rgb8')
    clf.infer(nv12)  # warm-up: first runs allocate
    infer_ms, frame_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        clf.infer(nv12)
        t1 = time.perf_counter()
        clf.rank(clf.infer(clf.to_nv12(rgb, 'rgb8')), TOP_K)
        t2 = time.perf_counter()
        infer_ms.append(1e3 * (t1 - t0))
        frame_ms.append(1e3 * (t2 - t1))
    errors = []

    def work():
        try:
            for _ in range(runs):
                clf.infer(nv12)
        except Exception as exc:  # noqa: B902 - reported with the result
            errors.append(f'{type(exc).__name__}: {exc}')

    threads = [threading.Thread(target=work) for _ in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise CheckError(f'inference failed with {workers} workers: {errors[0]}')
    return {'runs': runs, 'infer_ms_median': float(np.median(infer_ms)),
            'infer_ms_min': float(np.min(infer_ms)),
            'frame_ms_median': float(np.median(frame_ms)),
            'workers': workers, 'throughput_fps': runs * workers / max(elapsed, 1e-9)}


def _zoo(size: Optional[str]) -> Optional[dict]:
    if size is None:
        return None
    info = models.MODELS[size]
    return {'latency_1t_ms': info.latency_1t_ms, 'latency_4t_ms': info.latency_4t_ms,
            'fps': info.fps, 'float_top1': info.float_top1, 'int8_top1': info.int8_top1}


def check_model(cand: Candidate, kind: str, photos, args) -> Tuple[dict, Dict[str, np.ndarray]]:
    """
    Load one model with one backend and classify the photos.

    :param cand: the model file.
    :param kind: the backend.
    :param photos: (photo, RGB) pairs, or a PhotoError when they cannot be loaded.
    :param args: the parsed command line.
    :return: the record, and the probabilities per photo name (empty unless the photos ran).
    """
    rec = {'model': cand.size, 'format': cand.fmt, 'path': cand.path, 'source': cand.source,
           'backend': kind, 'status': 'error', 'error': None, 'warnings': [],
           'nv12_range': args.yuv_range, 'resize_mode': args.resize_mode,
           'bytes': os.path.getsize(cand.path) if os.path.isfile(cand.path) else None,
           'sha256': _sha256(cand.path) if os.path.isfile(cand.path) else None,
           'backend_info': None, 'photos': [], 'passed': 0, 'timing': None,
           'zoo_x5': _zoo(cand.size), 'next_step': None}
    probs: Dict[str, np.ndarray] = {}
    backend = None
    stage = 'file'
    try:
        check_input_file(cand.path, 'model file')  # a regular file: never a FIFO or a device
        models.check_pin(cand.path)
        if cand.fmt == 'onnx' and cand.size:
            _check_onnx_file(cand, rec['warnings'])
        stage = 'load'
        backend = create_backend(kind, cand.path, threads=args.threads, num_classes=1000)
        rec['backend_info'] = backend.describe()
        if backend.synthetic:
            rec['status'] = 'synthetic'
            rec['error'] = 'the synthetic RepViT (untrained weights): its answers mean nothing'
            return rec, probs
        stage = 'photos'
        if isinstance(photos, PhotoError):
            raise CheckError(f'no photos to classify: {photos}')
        stage = 'run'
        clf = Classifier(loaded=backend, resize_mode=args.resize_mode, yuv_range=args.yuv_range)
        for photo, rgb in photos:
            logits = clf.infer(clf.to_nv12(rgb, 'rgb8'))
            ranked = clf.rank(logits, TOP_K)
            hit = next((i for i, _ in ranked if i in photo.expected), None)
            rec['photos'].append({
                'photo': photo.name, 'expected': list(photo.expected), 'pass': hit is not None,
                'top5': [{'index': int(i), 'name': clf.labels[i], 'probability': float(p)}
                         for i, p in ranked]})
            probs[photo.name] = softmax(logits)
        rec['passed'] = sum(p['pass'] for p in rec['photos'])
        if args.runs > 0:
            workers = args.workers or (4 if kind in BPU_BACKENDS else 1)
            rec['timing'] = _timing(clf, photos[0][1], args.runs, workers)
        rec['status'] = 'pass' if rec['passed'] == len(rec['photos']) else 'fail'
        if rec['status'] == 'fail':
            missed = [p['photo'] for p in rec['photos'] if not p['pass']]
            rec['error'] = f'no expected class in the top-{TOP_K} of: {", ".join(missed)}'
            rec['next_step'] = next_step(cand, 'fail')
    except Exception as exc:  # noqa: B902 - one model's failure is reported, the rest still run
        rec['status'] = 'error'
        rec['error'] = str(exc) if isinstance(exc, (CheckError, models.ModelError, PathError)) \
            or type(exc).__name__ == 'BackendError' else f'{type(exc).__name__}: {exc}'
        rec['next_step'] = next_step(cand, stage, exc)
    finally:
        if backend is not None:
            backend.close()
    return rec, probs


def compare(checks: Sequence[Tuple[dict, Dict[str, np.ndarray]]]) -> List[dict]:
    """
    Compare each .bin with the .onnx of the same size: top-1 agreement, probability difference.

    :param checks: (record, probabilities per photo) of every check.
    :return: one entry per (.bin backend, .onnx) pair of a size that both ran the photos.
    """
    out = []
    ran = [(r, p) for r, p in checks if p and r['model']]
    for b, pb in ran:
        if b['format'] != 'bin':
            continue
        for o, po in ran:
            if o['format'] != 'onnx' or o['model'] != b['model']:
                continue
            per_photo = []
            for name in pb:
                if name not in po:
                    continue
                per_photo.append({'photo': name, 'bin_top1': int(np.argmax(pb[name])),
                                  'onnx_top1': int(np.argmax(po[name])),
                                  'max_prob_diff': float(np.max(np.abs(pb[name] - po[name])))})
            agree = sum(p['bin_top1'] == p['onnx_top1'] for p in per_photo)
            out.append({'model': b['model'], 'bin': b['path'], 'bin_backend': b['backend'],
                        'onnx': o['path'], 'photos': len(per_photo), 'top1_agree': agree,
                        'top1_agreement': agree / len(per_photo) if per_photo else None,
                        'max_prob_diff': max((p['max_prob_diff'] for p in per_photo),
                                             default=None),
                        'per_photo': per_photo})
    return out


def run(args) -> dict:
    """
    Check every model and build the report.

    :param args: the parsed command line.
    :return: the report (``status`` and ``exit_code`` included).
    """
    try:
        photos = load_photos()
    except PhotoError as exc:
        photos = exc
    requested = args.backend or [b for b in BACKENDS if b != 'auto']
    available = bpu_backends()
    on_rdk = os.path.isdir(RDK_MARKER)
    checks = []
    records = []
    for cand in find_models(args.models_dir, args.model_path or ()):
        for kind, error, skip in _backends_for(cand, requested, available, on_rdk):
            if error or skip:
                records.append({'model': cand.size, 'format': cand.fmt, 'path': cand.path,
                                'source': cand.source, 'backend': kind,
                                'status': 'error' if error else 'skipped',
                                'error': error or skip, 'warnings': [], 'photos': [],
                                'passed': 0, 'timing': None, 'zoo_x5': _zoo(cand.size),
                                'nv12_range': args.yuv_range,
                                'next_step': next_step(cand, 'runtime' if cand.fmt == 'bin'
                                                       else 'format') if error else None})
                continue
            rec, probs = check_model(cand, kind, photos, args)
            records.append(rec)
            checks.append((rec, probs))
    statuses = [r['status'] for r in records]
    if any(s in ('fail', 'error') for s in statuses):
        status, code = 'fail', EXIT_FAIL
    elif 'pass' in statuses:
        status, code = 'pass', EXIT_PASS
    else:
        status, code = 'nothing_real', EXIT_NOTHING_REAL
    return {
        'tool': 'repvit_ros self_check', 'status': status, 'exit_code': code,
        'environment': environment(), 'bpu_runtimes': available, 'on_rdk': on_rdk,
        'settings': {'models_dir': args.models_dir, 'nv12_range': args.yuv_range,
                     'resize_mode': args.resize_mode, 'runs': args.runs,
                     'workers': args.workers or None, 'threads': args.threads,
                     'top_k': TOP_K},
        'photos': ([] if isinstance(photos, PhotoError) else
                   [{'photo': p.name, 'description': p.description,
                     'expected': list(p.expected)} for p, _ in photos]),
        'photo_error': str(photos) if isinstance(photos, PhotoError) else None,
        'checks': records, 'comparisons': compare(checks)}


def _line(rec: dict) -> str:
    where = f"{rec['model'] or '?'} {rec['format']:4s} {rec['backend']:11s} {rec['path']}"
    then = f"; next: {rec['next_step']}" if rec.get('next_step') else ''
    if rec['status'] in ('pass', 'fail'):
        return (f"{rec['status'].upper():7s} {where}: {rec['passed']}/{len(rec['photos'])} "
                f'photos{then}')
    return f"{rec['status'].upper():7s} {where}: {rec['error']}{then}"


def format_report(report: dict) -> str:
    """
    Render the report as text.

    :param report: from :func:`run`.
    :return: the text.
    """
    env = report['environment']
    s = report['settings']
    lines = [f"repvit_ros self_check: photos {', '.join(p['photo'] for p in report['photos'])}"
             f" (right when an expected class is in the top-{TOP_K}); NV12 {s['nv12_range']}"
             f" range, {s['resize_mode']}, {s['runs']} timed runs",
             'environment: ' + ', '.join(f'{k} {v}' for k, v in env.items() if v is not None),
             f"BPU runtimes: {', '.join(report['bpu_runtimes']) or 'none'}"]
    if report['photo_error']:
        lines.append(f"photos: {report['photo_error']}")
    for rec in report['checks']:
        lines.append('')
        lines.append(_line(rec))
        for w in rec['warnings']:
            lines.append(f'  warning: {w}')
        for p in rec['photos']:
            top = ' | '.join(f"{t['index']} {t['name']} {t['probability']:.3f}"
                             for t in p['top5'])
            lines.append(f"  {'ok  ' if p['pass'] else 'MISS'} {p['photo']:8s} {top}")
        t = rec.get('timing')
        if t:
            zoo = rec['zoo_x5']
            ref = f"; zoo RDK X5 BPU: {zoo['latency_1t_ms']} ms, {zoo['fps']} FPS (4 threads)" \
                if zoo else ''
            if zoo and rec['backend'] not in BPU_BACKENDS:
                ref += ', not comparable with a CPU'
            lines.append(f"  latency {t['infer_ms_median']:.2f} ms median inference, "
                         f"{t['frame_ms_median']:.2f} ms whole frame ({t['runs']} runs); "
                         f"throughput {t['throughput_fps']:.1f} frames/s with {t['workers']} "
                         f'worker(s){ref}')
    for c in report['comparisons']:
        lines.append('')
        diff = 'n/a' if c['max_prob_diff'] is None else f"{c['max_prob_diff']:.4f}"
        lines.append(f"{c['model']} .bin ({c['bin_backend']}) vs .onnx: top-1 agreement "
                     f"{c['top1_agree']}/{c['photos']}, largest probability difference {diff}")
    lines.append('')
    counts = {}
    for rec in report['checks']:
        counts[rec['status']] = counts.get(rec['status'], 0) + 1
    summary = ', '.join(f'{n} {k}' for k, n in sorted(counts.items())) or 'no model files found'
    if report['status'] == 'nothing_real':
        lines.append(f'RESULT: {NOTHING_REAL.upper()} ({summary}); fetch the real weights with '
                     '`ros2 run repvit_ros download_models m1_0 --format onnx` (or bin on the '
                     f"board) into {s['models_dir']}, or give --model-path")
    else:
        lines.append(f"RESULT: {report['status'].upper()} ({summary})")
    return '\n'.join(lines)


def main(argv=None) -> int:
    """
    Run the self-check from the command line.

    :param argv: arguments (default: sys.argv[1:]).
    :return: the exit code: 0 pass, 1 fail, 2 nothing real to check.
    """
    parser = argparse.ArgumentParser(
        prog='self_check',
        description='Prove an install right: classify photos of known content with every real '
                    'RepViT model file present, on every backend that can load it. Exit 0: '
                    'all passed; 1: something failed; 2: nothing real to check.')
    parser.add_argument('--models-dir', default=None,
                        help=f'models directory (default {models.models_dir()})')
    parser.add_argument('--model-path', action='append', default=[],
                        help='a model file to check too (repeatable); its size is read from '
                             'the file name (m0_9, m1_0, m1_1)')
    parser.add_argument('--backend', action='append', default=None,
                        choices=[b for b in BACKENDS if b != 'auto'],
                        help='only these backends (repeatable; default all that apply)')
    parser.add_argument('--runs', type=int, default=20,
                        help='timed runs per model for latency and throughput (0: no timing)')
    parser.add_argument('--workers', type=int, default=0,
                        help='threads for the throughput run (default 4 on the BPU, 1 on ONNX '
                             'Runtime)')
    parser.add_argument('--threads', type=int, default=1,
                        help='ONNX Runtime threads inside one inference')
    parser.add_argument('--yuv-range', default='full', choices=YUV_RANGES,
                        help='NV12 range fed to the model (the node default: full)')
    parser.add_argument('--resize-mode', default='letterbox', choices=RESIZE_MODES)
    parser.add_argument('--json', action='store_true',
                        help='print a machine-readable report (attach it to a bug report)')
    parser.add_argument('--output', metavar='FILE', default=None,
                        help='write the report to FILE instead of printing it (`ros2 run` '
                             'prints a line of its own when the exit code is not 0, which a '
                             'shell redirection would mix into the report)')
    args = parser.parse_args(argv)
    if args.runs < 0 or args.workers < 0 or args.threads < 1:
        parser.error('--runs and --workers must be >= 0, --threads >= 1')
    try:
        if args.output is not None:  # before the check, which takes a while
            check_output_file(args.output, '--output', 'report file')
    except PathError as exc:
        print(f'self_check: error: {exc}', file=sys.stderr)
        return EXIT_FAIL
    args.models_dir = os.path.expanduser(args.models_dir or models.models_dir())
    report = run(args)
    text = json.dumps(report, indent=2) if args.json else format_report(report)
    if args.output is not None:
        try:
            write_text(args.output, text + '\n')
        except (PathError, OSError) as exc:
            print(f'self_check: error: cannot write --output {args.output}: '
                  f'{getattr(exc, "strerror", None) or exc}', file=sys.stderr)
            return EXIT_FAIL
        print(f'self_check: {report["status"]} (exit {report["exit_code"]}); report written '
              f'to {args.output}', file=sys.stderr)
    else:
        print(text)
    return report['exit_code']


if __name__ == '__main__':
    sys.exit(main())
