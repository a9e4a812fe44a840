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
Accuracy of one or two models on a labelled image set: the zoo table's columns on your data.

``evaluate --images DIR --model-path float.onnx [--model-path quantized.bin]`` classifies every
image with the same preprocessing, backends and labels as the node (:class:`Classifier`) and
reports top-1/top-5 accuracy, the worst classes and images per second; with two models (the
float ONNX and the quantized .bin on the board) also their difference and how often their top-1
answers agree.

The labelled set is a folder with one sub-folder per class, or a CSV file of ``path,label``
rows (paths relative to the CSV). A label is a class index (``0`` .. ``N-1``), a WordNet synset
id (``n01440764``, when the labels file carries synsets as ``synset<TAB>name`` lines, as the
bundled ImageNet-1k list does), or a class name (case and ``_``/space insensitive), tried in
that order.
"""

import argparse
import csv
import io
import json
import os
import re
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

try:  # only --plot needs it; the object API leaves pyplot's global state alone
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover - depends on the machine
    Figure = None

from repvit_ros.backends import BackendError, BACKENDS
from repvit_ros.classifier import Classifier, IMAGENET_CLASSES, list_images
from repvit_ros.labels import BUNDLED_LABELS, LabelError
from repvit_ros.model_tools.files import (check_input_file, check_output_file, check_utf8,
                                          MAX_TEXT_BYTES, PathError, read_image, read_text,
                                          shown, written_file)
from repvit_ros.model_tools.progress import Progress
from repvit_ros.models import ModelError
from repvit_ros.preprocess import FrameError, RESIZE_MODES, YUV_RANGES

_SYNSET = re.compile(r'^n\d{8}$')
_CSV_HEADERS = ('path', 'file', 'filename', 'image', 'img')
#: classes shown in the confusion-matrix plot at most
PLOT_CLASSES = 30


class EvaluationError(ValueError):
    """An image set or model that cannot be evaluated; the message says why."""


def read_synsets(path: str) -> List[Optional[str]]:
    """
    Read the synset column of a labels file (``synset<TAB>name`` lines).

    :param path: the labels file.
    :return: one synset id (or None) per class line.
    :raises PathError: for a file that is not regular UTF-8 text of a bounded size.
    """
    lines = [ln.rstrip('\r') for ln in read_text(path, 'labels file').split('\n')]
    rows = [ln for ln in lines if ln.strip() and not ln.startswith('#')]
    return [r.split('\t')[0].strip() if '\t' in r else None for r in rows]


def _norm(name: str) -> str:
    return ' '.join(name.replace('_', ' ').split()).casefold()


class LabelResolver:
    """Map folder names or CSV labels to class indices: index, synset id, or name."""

    def __init__(self, names: Sequence[str], synsets: Sequence[Optional[str]] = ()):
        """
        Index the classes.

        :param names: class names in output order.
        :param synsets: synset ids in output order (may be empty or hold None).
        """
        self.num_classes = len(names)
        self.synsets = {s: i for i, s in enumerate(synsets) if s}
        self.names: Dict[str, int] = {}
        for i, n in enumerate(names):
            self.names.setdefault(n, i)
            self.names.setdefault(_norm(n), i)

    def __call__(self, label: str) -> Optional[int]:
        """
        Resolve one label.

        :param label: a class index, synset id or class name.
        :return: the class index, or None when nothing matches.
        """
        s = label.strip()
        if s.isdigit():
            i = int(s)
            return i if i < self.num_classes else None
        if _SYNSET.match(s):
            return self.synsets.get(s)
        return self.names.get(s, self.names.get(_norm(s)))


def load_dataset(images: str) -> List[Tuple[str, str]]:
    """
    List a labelled image set.

    :param images: a folder of class sub-folders, or a CSV file of ``path,label`` rows.
    :return: (image path, label as written) pairs.
    :raises EvaluationError: for a missing, empty or unlabelled set.
    :raises PathError: for a CSV that is not a regular UTF-8 file of a bounded size.
    """
    if os.path.lexists(images) and not os.path.isdir(images):
        base = os.path.dirname(os.path.abspath(images))
        text = read_text(images, 'CSV')
        rows = [r for r in csv.reader(io.StringIO(text, newline=''))
                if r and any(c.strip() for c in r)]
        if rows and rows[0][0].strip().lower() in _CSV_HEADERS:
            rows = rows[1:]
        bad = [i for i, r in enumerate(rows) if len(r) < 2 or not r[1].strip()]
        if bad:
            raise EvaluationError(f'{images}: row {bad[0] + 1} is not "path,label"')
        samples = [(os.path.join(base, r[0].strip()), r[1].strip()) for r in rows]
        if not samples:
            raise EvaluationError(f'{images} lists no images')
        return samples
    if not os.path.isdir(images):
        raise EvaluationError(f'{shown(images)} does not exist')
    classes = sorted(d for d in os.listdir(images)
                     if not d.startswith('.') and os.path.isdir(os.path.join(images, d)))
    samples = [(p, c) for c in classes for p in list_images(os.path.join(images, c))]
    if not samples:
        loose = list_images(images, recursive=False)
        if loose:
            raise EvaluationError(f'{images} has {len(loose)} images but no class sub-folders: '
                                  f'put each class in a folder named by class index, synset id '
                                  f'or name, or give a CSV of path,label')
        raise EvaluationError(f'no images in {images}')
    return samples


def resolve_labels(samples: Sequence[Tuple[str, str]], resolver: LabelResolver,
                   source: str) -> List[Tuple[str, int]]:
    """
    Turn labels into class indices, refusing any that matches no class.

    :param samples: from :func:`load_dataset`.
    :param resolver: the classes.
    :param source: the image set, for the message.
    :return: (image path, class index) pairs.
    :raises EvaluationError: naming the unknown labels.
    """
    resolved = [(p, resolver(label)) for p, label in samples]
    unknown = sorted({shown(label) for (_, label), (_, i) in zip(samples, resolved) if i is None})
    if unknown:
        what = 'class folder names' if os.path.isdir(source) else 'labels'
        listed = ', '.join(unknown[:5]) + (f' (and {len(unknown) - 5} more)'
                                           if len(unknown) > 5 else '')
        raise EvaluationError(f'unknown {what} in {source}: {listed}; use a class index '
                              f'0..{resolver.num_classes - 1}, a synset id or a class name of '
                              f"the model's labels")
    return resolved


def score(truth: np.ndarray, ranked: np.ndarray, names: Sequence[str],
          worst: int = 5) -> dict:
    """
    Score ranked predictions against the truth.

    :param truth: class index per image.
    :param ranked: images x k class indices, most probable first (k <= 5).
    :param names: class names.
    :param worst: how many of the worst classes to list.
    :return: counts, accuracies, worst classes, the confusion matrix and its largest cells.
    """
    n = len(truth)
    top1 = ranked[:, 0] == truth
    topk = (ranked == truth[:, None]).any(axis=1)
    confusion = np.zeros((len(names), len(names)), np.int64)
    np.add.at(confusion, (truth, ranked[:, 0]), 1)
    per_class = []
    for c in np.unique(truth):
        total = int((truth == c).sum())
        correct = int(confusion[c, c])
        per_class.append({'index': int(c), 'name': names[c], 'correct': correct,
                          'total': total, 'accuracy': correct / total})
    per_class.sort(key=lambda r: (r['accuracy'], -r['total'], r['index']))
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    cells = np.argwhere(off > 0)
    cells = sorted(cells.tolist(), key=lambda tp: (-off[tp[0], tp[1]], tp[0], tp[1]))[:10]
    return {
        'images': n,
        'top1': float(top1.mean()) if n else 0.0, 'top1_correct': int(top1.sum()),
        'top5': float(topk.mean()) if n else 0.0, 'top5_correct': int(topk.sum()),
        'top_k': int(ranked.shape[1]),
        'worst_classes': per_class[:worst],
        'confusions': [{'true': names[t], 'predicted': names[p], 'count': int(off[t, p])}
                       for t, p in cells],
        'confusion_matrix': confusion,
    }


def plot_confusion(path: str, results: Sequence[dict], names: Sequence[str]) -> None:
    """
    Draw each model's confusion matrix (rows: true class, normalised) into one PNG.

    More than :data:`PLOT_CLASSES` classes: those with the most errors are shown.

    :param path: the file to write, as PNG whatever its name ends with.
    :param results: per model, :func:`score` output with ``label``.
    :param names: class names.
    """
    total = sum(r['confusion_matrix'] for r in results)
    present = np.flatnonzero(total.sum(axis=0) + total.sum(axis=1))
    if len(present) > PLOT_CLASSES:
        errors = total.sum(axis=0) + total.sum(axis=1) - 2 * np.diag(total)
        present = np.sort(present[np.argsort(-errors[present], kind='stable')[:PLOT_CLASSES]])
    k = len(present)
    side = 2.0 + 0.28 * k
    fig = Figure(figsize=(side * len(results), side + 0.6))
    FigureCanvasAgg(fig)
    for i, r in enumerate(results):
        ax = fig.add_subplot(1, len(results), i + 1)
        m = r['confusion_matrix'][np.ix_(present, present)].astype(float)
        rows = m.sum(axis=1, keepdims=True)
        ax.imshow(np.divide(m, rows, out=np.zeros_like(m), where=rows > 0), cmap='Blues',
                  vmin=0.0, vmax=1.0)
        labels = [names[c][:20] for c in present]
        ax.set_xticks(range(k))
        ax.set_xticklabels(labels, rotation=90, fontsize=7)
        ax.set_yticks(range(k))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlabel('predicted')
        ax.set_ylabel('true')
        ax.set_title(f'{r["label"]}: top-1 {100 * r["top1"]:.2f} %', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format='png')  # named format: no '.png' added to the name


def evaluate(images: str, model_paths: Sequence[str], backends: Sequence[str] = ('auto',),
             labels_path: str = '', resize_mode: str = 'letterbox', yuv_range: str = 'full',
             worst: int = 5, progress=None) -> dict:
    """
    Evaluate one or more models on a labelled image set.

    :param images: class-folder tree or CSV (see :func:`load_dataset`).
    :param model_paths: the models (.onnx or .bin).
    :param backends: one backend for all models, or one per model.
    :param labels_path: class names for all models (default: bundled ImageNet / class_<i>).
    :param resize_mode: the node's resize_mode.
    :param yuv_range: the node's yuv_range.
    :param worst: how many worst classes to list.
    :param progress: stream for the progress bar (default stderr).
    :return: the report (see docs/own-model.md): images, classes, unreadable, models, comparison.
    :raises EvaluationError: for an unusable image set or models that cannot be compared.
    :raises PathError: for a model, labels file or CSV that is not a regular file of a bounded
        size (a FIFO, a device, a folder), or a CSV that is not UTF-8.
    """
    samples = load_dataset(images)
    if len(backends) not in (1, len(model_paths)):
        raise EvaluationError(f'give one --backend, or one per model ({len(model_paths)})')
    for path in model_paths:
        check_input_file(path, 'model')
    if labels_path:
        check_input_file(labels_path, 'labels file', MAX_TEXT_BYTES)
    classifiers: List[Classifier] = []
    try:
        for i, path in enumerate(model_paths):
            try:
                classifiers.append(Classifier(
                    model_path=path, backend=backends[i if len(backends) > 1 else 0],
                    labels_path=labels_path, resize_mode=resize_mode, yuv_range=yuv_range))
            except (ModelError, BackendError, LabelError) as exc:
                raise EvaluationError(str(exc).splitlines()[0]) from None
        return _run(samples, images, classifiers, labels_path, worst, progress)
    finally:
        for clf in classifiers:
            clf.close()


def _run(samples, images, classifiers, labels_path, worst, progress) -> dict:
    first = classifiers[0]
    for clf in classifiers[1:]:
        if clf.num_classes != first.num_classes:
            raise EvaluationError(f'the models have mismatched label counts: '
                                  f'{os.path.basename(first.backend.path)} outputs '
                                  f'{first.num_classes} classes, '
                                  f'{os.path.basename(clf.backend.path)} {clf.num_classes}')
    names = first.labels
    if labels_path:
        synsets = read_synsets(labels_path)
    elif first.num_classes == IMAGENET_CLASSES:
        synsets = read_synsets(BUNDLED_LABELS)
    else:
        synsets = []
    labelled = resolve_labels(samples, LabelResolver(names, synsets), images)
    for clf in classifiers:
        for warning in clf.warnings:
            print(f'evaluate: {warning}', file=sys.stderr)
    k = min(5, first.num_classes)
    truth: List[int] = []
    ranked: List[List[np.ndarray]] = [[] for _ in classifiers]
    seconds = [0.0] * len(classifiers)
    unreadable: List[str] = []
    reasons: List[str] = []
    bar = Progress(len(labelled), 'evaluate', progress)
    started = time.monotonic()
    for path, label in labelled:
        bar.update()
        try:
            frame, encoding = read_image(path)
            inputs = {}
            for clf in classifiers:
                key = (clf.input_size, clf.resize_mode, clf.yuv_range)
                if key not in inputs:
                    inputs[key] = clf.to_nv12(frame, encoding)
        except FrameError as exc:
            unreadable.append(path)
            reasons.append(str(exc))
            continue
        for m, clf in enumerate(classifiers):
            t0 = time.perf_counter()
            try:
                logits = clf.infer(inputs[(clf.input_size, clf.resize_mode, clf.yuv_range)])
            except BackendError as exc:
                raise EvaluationError(f'{clf.backend.path} failed on {path}: {exc}') from None
            seconds[m] += time.perf_counter() - t0
            ranked[m].append(np.argsort(-logits, kind='stable')[:k])
        truth.append(label)
    bar.close()
    wall = time.monotonic() - started
    if not truth:
        raise EvaluationError(f'none of the {len(labelled)} images in {images} could be read')
    truth_arr = np.array(truth)
    results = []
    for m, clf in enumerate(classifiers):
        r = score(truth_arr, np.array(ranked[m]), names, worst)
        r.update(label=f'[{m + 1}] {os.path.basename(clf.backend.path)}',
                 path=clf.backend.path, backend=clf.backend.name,
                 images_per_second=len(truth) / max(seconds[m], 1e-9))
        results.append(r)
    report = {'images': len(truth), 'source': images, 'classes': first.num_classes,
              'names': names,
              'top_k': k, 'unreadable': len(unreadable), 'unreadable_files': unreadable,
              'unreadable_reasons': reasons,
              'images_per_second': len(truth) / max(wall, 1e-9), 'models': results}
    if len(classifiers) > 1:
        a, b = np.array(ranked[0])[:, 0], np.array(ranked[1])[:, 0]
        report['comparison'] = {
            'top1_difference': results[1]['top1'] - results[0]['top1'],
            'top5_difference': results[1]['top5'] - results[0]['top5'],
            'top1_agreement': float((a == b).mean()), 'top1_agree': int((a == b).sum())}
    return report


def format_report(report: dict) -> str:
    """
    Write a report as text.

    :param report: from :func:`evaluate`.
    :return: the lines, ending with a newline.
    """
    k = report['top_k']
    lines = [f'evaluate: {report["images"]} images in {report["source"]}, '
             f'{report["classes"]} classes; {report["unreadable"]} unreadable image(s) skipped']
    for r in report['models']:
        lines.append(f'{r["label"]} ({r["backend"]}): top-1 {100 * r["top1"]:.2f} % '
                     f'({r["top1_correct"]}/{r["images"]}), top-{k} {100 * r["top5"]:.2f} % '
                     f'({r["top5_correct"]}/{r["images"]}), '
                     f'{r["images_per_second"]:.1f} images/s')
        worst = ', '.join(f'{c["name"]} {100 * c["accuracy"]:.1f} % ({c["correct"]}/'
                          f'{c["total"]})' for c in r['worst_classes'])
        lines.append(f'    worst classes: {worst}')
    if 'comparison' in report:
        c = report['comparison']
        lines.append(f'[2] - [1]: top-1 {100 * c["top1_difference"]:+.2f} points, top-{k} '
                     f'{100 * c["top5_difference"]:+.2f} points; top-1 agreement '
                     f'{100 * c["top1_agreement"]:.2f} % ({c["top1_agree"]}/{report["images"]})')
    return '\n'.join(lines) + '\n'


def _jsonable(report: dict) -> dict:
    """Drop what is large for many classes: names and the matrix above 100 classes."""
    out = {k: v for k, v in report.items() if k != 'names'}
    small = report['classes'] <= 100
    out['models'] = [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items()
                      if small or k != 'confusion_matrix'} for r in report['models']]
    return out


def main(argv=None) -> int:
    """
    Evaluate models on a labelled image set (``evaluate``).

    :param argv: command line arguments (default sys.argv).
    :return: exit status: 0, 1 for unusable inputs or paths, 2 for bad arguments.
    """
    parser = argparse.ArgumentParser(
        prog='evaluate',
        description='Top-1/top-5 accuracy, worst classes and speed of one or two RepViT models '
                    '(e.g. the float ONNX and the quantized .bin) on a labelled image set, '
                    'with the same preprocessing as the node.')
    parser.add_argument('--images', required=True,
                        help='folder with one sub-folder per class (named by class index, '
                             'synset id or class name), or a CSV of path,label')
    parser.add_argument('--model-path', action='append', required=True,
                        help='a model (.onnx or .bin); give twice to compare two')
    parser.add_argument('--backend', action='append', choices=BACKENDS, default=None,
                        help='backend for all models, or once per model (default auto)')
    parser.add_argument('--labels-path', default='', help='class names, one per line')
    parser.add_argument('--resize-mode', default='letterbox', choices=RESIZE_MODES)
    parser.add_argument('--yuv-range', default='full', choices=YUV_RANGES)
    parser.add_argument('--worst', type=int, default=5, help='worst classes to list')
    parser.add_argument('--json', action='store_true', help='print the report as JSON')
    parser.add_argument('--plot', default=None, metavar='PNG',
                        help='write the confusion matrix (matrices) to this file, as PNG')
    args = parser.parse_args(argv)
    if len(args.model_path) > 2:
        parser.error('give one or two --model-path')
    if args.plot is not None and Figure is None:
        print('evaluate: error: --plot needs matplotlib (pip install matplotlib, or apt install '
              'python3-matplotlib)', file=sys.stderr)
        return 1
    try:
        # Every path problem before the evaluation, which may take minutes.
        for path, what in ((args.images, '--images'), (args.labels_path, '--labels-path'),
                           *((p, '--model-path') for p in args.model_path)):
            check_utf8(path, what)
        if args.plot is not None:
            check_output_file(args.plot, '--plot', 'PNG file')
        report = evaluate(args.images, args.model_path, args.backend or ['auto'],
                          args.labels_path, args.resize_mode, args.yuv_range, args.worst)
    except (EvaluationError, PathError) as exc:
        print(f'evaluate: error: {exc}', file=sys.stderr)
        return 1
    for path, reason in zip(report['unreadable_files'], report['unreadable_reasons']):
        print(f'evaluate: skipped {shown(path)}: {reason}', file=sys.stderr)
    # The report first: a plot that cannot be written does not lose it.
    if args.json:
        print(json.dumps(_jsonable(report), indent=2))
    else:
        sys.stdout.write(format_report(report))
    if args.plot is not None:
        try:
            with written_file(args.plot) as tmp:
                plot_confusion(tmp, report['models'], report['names'])
        except (PathError, OSError) as exc:
            reason = exc if isinstance(exc, PathError) else exc.strerror or exc
            print(f'evaluate: error: cannot write --plot {shown(args.plot)}: {reason}',
                  file=sys.stderr)
            return 1
        if not args.json:
            print(f'evaluate: confusion matrix written to {args.plot}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
