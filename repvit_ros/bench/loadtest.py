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
Reliability load tool: the node in its own process under bad input, overload, soak, signals.

  loadtest fuzz --frames 2000        # good and malformed frames over DDS
  loadtest overload --duration 60    # 1920x1080 at twice the capacity
  loadtest soak --duration 600       # steady load, RSS over time
  loadtest shutdown                  # SIGINT and SIGTERM under full load
  loadtest params --duration 10      # parameter changes under full load
  loadtest switch                    # model switches m0_9 <-> m1_1 under a 30 Hz camera
  loadtest all                       # everything, short
(``ros2 run repvit_ros loadtest ...``, or ``python -m repvit_ros.bench.loadtest ...``.)
Each scenario checks what it claims and prints its figures (markdown, or --json); the exit
code is 1 when any check fails. The node runs ONNX Runtime on the real model if the models
directory has it, else on the synthetic RepViT (same graph, untrained weights).
"""

import argparse
import json
import os
import random
import re
import signal
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple
import zlib

import cv2
import numpy as np

from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from repvit_ros.bench.feeder import Feeder
from repvit_ros.bench.harness import (classifier_params, counts_between, frames, model_file,
                                      node_under_test, NodeProcess, use_large_frames_profile)
from repvit_ros.bench.pictures import (jpeg_cut_scan, jpeg_declaring, jpeg_with_app_segments,
                                       mono16_big_endian, sample_picture)
from repvit_ros.frames import input_type_of, message_class, uint8_array
from repvit_ros.layouts import encode, row_step
from repvit_ros.messages import make_message

GOOD_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', 'nv12', 'nv21',
                  'yuv422', 'yuv422_yuy2')
BAD_RAW_KINDS = ('truncated', 'oversized', 'short_step', 'unknown_encoding', 'zero_size',
                 'odd_width_yuv', 'empty')
# Hostile: decompression bombs (PNG and JPEG), JPEGs that still end with FF D9 but lack their
# data (headers only, most of the scan missing, bytes cut across a restart marker), and a raw
# encoding named as the CompressedImage format.
BAD_COMPRESSED_KINDS = ('random_bytes', 'truncated_jpeg', 'broken_header', 'empty',
                        'corrupt_png', 'unknown_format', 'png_bomb', 'jpeg_bomb',
                        'jpeg_headers_only', 'jpeg_scan_missing', 'jpeg_restart_cut',
                        'raw_format')
# Unusual but valid: each must be classified.
GOOD_COMPRESSED_KINDS = ('jpeg', 'png', 'jpeg_trailing_bytes', 'jpeg_app_segments')
GOOD_RAW_EXTRA = ('mono16_big_endian',)
# Sizes the PNG bombs declare: all above the default max_input_pixels (8192 x 8192), the last
# by one column. Decoded as OpenCV does (3 channels), the first needs 2.7 GB.
PNG_BOMB_SIZES = ((30000, 30000), (20000, 12000), (8193, 8192))
_PNG_BOMBS: Dict[Tuple[int, int], bytes] = {}
FUZZ_PEAK_GROWTH_MB = 100.0
MB = 2**20


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack('>I', len(body)) + kind + body +
            struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))


def png_bomb(width: int, height: int) -> bytes:
    """
    Build a complete, valid 1-bit greyscale PNG of ``width`` x ``height`` black pixels.

    Unlike a header with a token of data, every row is there (a filter byte and zeros, one
    zlib stream), so a decoder that trusts the header decodes and fills all of it: 109 KB
    declaring 30000 x 30000, which OpenCV decodes to 2.7 GB (peak resident memory +5 GB and
    ~10 s measured here). Rows are compressed a few MB at a time: the image is never held in
    memory. Built once per size.

    :param width: declared columns.
    :param height: declared rows.
    :return: the PNG bytes.
    """
    key = (width, height)
    if key not in _PNG_BOMBS:
        row = 1 + (width + 7) // 8
        per_chunk = max(1, (4 << 20) // row)
        zero_rows = bytes(row * per_chunk)
        comp = zlib.compressobj(9)
        parts = [comp.compress(zero_rows[:row * min(per_chunk, height - first)])
                 for first in range(0, height, per_chunk)]
        parts.append(comp.flush())
        ihdr = struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)  # 1-bit grey
        _PNG_BOMBS[key] = (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', ihdr) +
                           _png_chunk(b'IDAT', b''.join(parts)) + _png_chunk(b'IEND', b''))
    return _PNG_BOMBS[key]


def _scan_start(jpeg: bytes) -> int:
    """Offset of a JPEG's first entropy-coded byte (after the first scan header)."""
    i = 2
    while jpeg[i + 1] != 0xDA:
        i += 2 + struct.unpack('>H', jpeg[i + 2:i + 4])[0]
    return i + 2 + struct.unpack('>H', jpeg[i + 2:i + 4])[0]


def jpeg_restart_cut(rgb: np.ndarray, rng: random.Random) -> bytes:
    """
    Encode ``rgb`` with restart markers, then cut bytes out of the scan across one marker.

    The result still ends with FF D9 and libjpeg decodes it with a damaged band (warning on
    stderr only); the node must refuse it by the missing restart marker.

    :param rgb: HxWx3 RGB picture, at least three restart intervals large.
    :param rng: chooses the restart interval, the marker and the cut.
    :return: the cut JPEG.
    """
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    jpeg = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_RST_INTERVAL,
                                      rng.choice((1, 2, 4, 8))])[1].tobytes()
    start, eoi = _scan_start(jpeg), jpeg.rindex(b'\xff\xd9')
    found = re.finditer(b'\xff[\xd0-\xd7]', jpeg[start:eoi])
    marks = [start - 2] + [start + m.start() for m in found] + [eoi]
    k = rng.randint(1, len(marks) - 2)  # the marker cut out

    def boundary(lo: int, hi: int) -> int:  # never between FF and its stuffed 00
        pos = rng.randint(min(lo, hi), hi)
        return pos - 1 if jpeg[pos - 1] == 0xFF else pos
    cut_from = boundary(marks[k - 1] + 3, marks[k])
    cut_to = boundary(marks[k] + 3, marks[k + 1])
    return jpeg[:cut_from] + jpeg[cut_to:]


def peak_rss(pid: int) -> Optional[int]:
    """
    Read a process's peak resident memory so far (VmHWM, Linux), in bytes.

    A decoded bomb is freed again at once, so resident memory afterwards does not show it;
    the peak does.

    :param pid: the process.
    :return: the high-water mark, or None where /proc does not have it.
    """
    try:
        with open(f'/proc/{pid}/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


#: DDS history (frames) on both sides of the switch scenario: its frames all reach the node.
TRANSPORT_DEPTH = 120


def _classifier(ns: str, model: str, threads: int, msg_type: str = 'image',
                queue_size: int = 2, depth: int = 0, feeder_depth: int = 10):
    """Start a classifier on ``model`` in its own process, with a feeder: see node_under_test."""
    return node_under_test('classifier', ns, classifier_params(
        threads, msg_type, queue_size, model_file(model), ns=ns, depth=depth), msg_type,
        depth=feeder_depth)


def _settle(feeder: Feeder, proc: NodeProcess, before: Dict[str, str], sent: int = 0,
            timeout: float = 15.0) -> Tuple[Dict, bool]:
    """
    Let the last frames finish; return the node's counters since ``before`` and liveness.

    Counts are read once nothing is in flight: every frame received is accounted for and, with
    ``sent``, every frame sent has arrived or been reported lost; on a loaded machine the last
    frames and the next diagnostics message take longer than a second (CI: 223 of 225 counted
    after one). After ``timeout`` the counts are given as they are, for the report to show.
    """
    deadline = time.monotonic() + timeout
    feeder.spin_for(1.0)
    while True:
        counts = counts_between(before, feeder.diagnostics())
        arrived = counts['received'] + counts['lost'] >= sent
        if (_accounted(counts) and arrived) or time.monotonic() > deadline or not proc.alive():
            return counts, proc.alive()
        feeder.spin_for(0.5)


def _accounted(counts: Dict[str, int]) -> bool:
    """Every frame received was published, dropped or bad; none failed."""
    return counts['failed'] == 0 and counts['received'] == (
        counts['published'] + counts['dropped'] + counts['bad'] + counts['failed'])


def _no_traceback(text: str) -> bool:
    return 'Traceback (most recent call last)' not in text


# ------------------------------------------------------------------ fuzz
class FuzzFrames:
    """
    A reproducible random mix of good frames and malformed ones.

    At most ``max_burst`` bad frames come in a row, so that together with the good frames in
    flight they never overflow the node's queue: every good frame must come back.
    """

    def __init__(self, seed: int, bad_share: float, msg_type: str, max_burst: int = 3):
        self.rng = random.Random(seed)
        self.bad_share = bad_share
        self.msg_type = msg_type
        self.max_burst = max_burst
        self.burst = 0
        self.kinds: Dict[str, int] = {}
        #: the kind of the frame made last (``good <kind>`` or the bad kind)
        self.last_kind = ''
        self._pictures = {}

    def _picture(self, w: int, h: int) -> np.ndarray:
        key = (w, h)
        if key not in self._pictures:
            self._pictures[key] = sample_picture(w, h, len(self._pictures))
        return self._pictures[key]

    def _count(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.last_kind = kind

    def __call__(self, i: int) -> Tuple[Any, bool]:
        bad = self.burst < self.max_burst and self.rng.random() < self.bad_share
        self.burst = self.burst + 1 if bad else 0
        if self.msg_type == 'compressed':
            return (self._bad_compressed() if bad else self._good_compressed()), not bad
        return (self._bad_raw() if bad else self._good_raw()), not bad

    def _good_raw(self):
        enc = self.rng.choice(GOOD_ENCODINGS)
        w, h = 2 * self.rng.randint(8, 200), 2 * self.rng.randint(8, 150)
        if self.rng.random() < 0.05:  # a big-endian 16-bit camera
            msg = make_message('image', self._picture(w, h), 'mono16', 0)
            msg.data = uint8_array(mono16_big_endian(bytes(msg.data)))
            msg.is_bigendian = 1
            self._count('good mono16_big_endian')
            return msg
        msg = make_message('image', self._picture(w, h), enc, 0)
        pad = self.rng.choice((0, 0, 0, 4, 64))
        if pad:  # row padding, as many camera drivers send
            rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(-1, msg.step)
            padded = np.zeros((rows.shape[0], msg.step + pad), np.uint8)
            padded[:, :msg.step] = rows
            msg.step += pad
            msg.data = uint8_array(padded.tobytes())
        self._count(f'good {enc}')
        return msg

    def _good_compressed(self):
        kind = self.rng.choice(('jpeg', 'jpeg', 'png', 'jpeg_trailing_bytes',
                                'jpeg_app_segments'))
        w, h = 2 * self.rng.randint(8, 200), 2 * self.rng.randint(8, 150)
        self._count(f'good {kind}')
        fmt = 'png' if kind == 'png' else 'jpeg'
        msg = make_message('compressed', self._picture(w, h), fmt, 0)
        if kind == 'jpeg_trailing_bytes':  # zero padding and stray bytes after FF D9
            msg.data = uint8_array(bytes(msg.data) + bytes(self.rng.randint(1, 4096)) +
                                   b'stale\xff\xd8')
        elif kind == 'jpeg_app_segments':  # EXIF and ICC profile before the frame header
            msg.data = uint8_array(jpeg_with_app_segments(bytes(msg.data),
                                                          self.rng.randint(1000, 150_000)))
        return msg

    def _bad_raw(self):
        kind = self.rng.choice(BAD_RAW_KINDS)
        self._count(kind)
        enc = self.rng.choice(GOOD_ENCODINGS)
        w, h = 2 * self.rng.randint(4, 100), 2 * self.rng.randint(4, 80)
        data = encode(self._picture(w, h), enc)
        step = row_step(enc, w)
        if kind == 'truncated':
            data = data[:self.rng.randint(0, len(data) - 1)]
        elif kind == 'oversized':
            data = data + bytes(self.rng.randint(1, 4096))
        elif kind == 'short_step':
            step = self.rng.randint(0, step - 1)
        elif kind == 'unknown_encoding':
            enc = self.rng.choice(('bayer_rggb8', '32FC1', 'rgb16', 'bogus', ''))
        elif kind == 'zero_size':
            w, h, step, data = (0, h, 0, b'') if self.rng.random() < 0.5 else (w, 0, step, b'')
        elif kind == 'odd_width_yuv':
            enc = self.rng.choice(('nv12', 'yuv422', 'yuv422_yuy2'))
            w += 1
            step = row_step(enc, w)
            rows = h * 3 // 2 if enc == 'nv12' else h
            data = bytes(step * rows)
        elif kind == 'empty':
            data = b''
        msg = message_class('image')(height=h, width=w, encoding=enc, step=step)
        msg.data = uint8_array(data)
        return msg

    def _bad_compressed(self):
        kind = self.rng.choice(BAD_COMPRESSED_KINDS)
        self._count(kind)
        good = encode(self._picture(96, 64), 'jpeg')
        fmt = 'jpeg'
        if kind == 'random_bytes':
            data = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(1, 2000)))
        elif kind == 'truncated_jpeg':
            data = good[:self.rng.randint(2, len(good) - 3)]
        elif kind == 'broken_header':
            # Wipe the frame header (SOF): nothing can decode without it. (Zeroing other
            # header bytes, a quantisation or Huffman table, may still decode to garbage.)
            data = bytearray(good)
            start = data.find(b'\xff\xc0')
            data[start:start + 20] = bytes(20)
            data = bytes(data)
        elif kind == 'empty':
            data = b''
        elif kind == 'corrupt_png':
            fmt, data = 'png', encode(self._picture(96, 64), 'png')[:-30]
        elif kind == 'png_bomb':  # complete: 109 KB declaring 30000x30000 decode to 2.7 GB
            fmt, data = 'png', png_bomb(*self.rng.choice(PNG_BOMB_SIZES))
        elif kind == 'jpeg_bomb':  # a small JPEG declaring up to 65535x65535
            data = jpeg_declaring(good, self.rng.randint(8193, 65535),
                                  self.rng.randint(8193, 65535))
        elif kind == 'jpeg_headers_only':  # still ends with FF D9
            data = jpeg_cut_scan(good)
        elif kind == 'jpeg_scan_missing':  # most of the scan missing, still ends with FF D9
            data = jpeg_cut_scan(good, self.rng.randint(1, 20))
        elif kind == 'jpeg_restart_cut':  # a cut across a restart marker, ends with FF D9
            data = jpeg_restart_cut(self._picture(160, 96), self.rng)
        elif kind == 'raw_format':  # a raw encoding named as the format
            fmt, data = 'bgr8', encode(self._picture(32, 24), 'bgr8')
        else:
            fmt, data = self.rng.choice(('tiff', 'webp', 'h264')), good
        msg = message_class('compressed')(format=fmt)
        msg.data = uint8_array(data)
        return msg


def fuzz(frames_total: int = 2000, model: str = 'm0_9', threads: int = 2, seed: int = 7,
         bad_share: float = 0.4, compressed_share: float = 0.25) -> Dict[str, Any]:
    """
    Send a random mix of good and malformed frames to running nodes over DDS.

    Raw frames go to an Image node, ``compressed_share`` of the total to a CompressedImage
    node. Checks: both nodes stay up, every good frame is classified, each node's
    diagnostics count exactly the bad frames sent as bad, with nothing dropped or failed, and
    the node's peak resident memory grows less than ``FUZZ_PEAK_GROWTH_MB`` over the run (the
    frames are at most 400x300; one decoded bomb would be gigabytes).
    """
    parts = {'image': frames_total - int(frames_total * compressed_share),
             'compressed': int(frames_total * compressed_share)}
    report: Dict[str, Any] = {'scenario': 'fuzz', 'frames': frames_total, 'parts': {}}
    ok = True
    for msg_type, n in parts.items():
        if n == 0:
            continue
        ns = f'/repvit_fuzz_{os.getpid()}_{msg_type}'
        window, burst = 2, 3
        source = FuzzFrames(seed, bad_share, msg_type, burst)
        with _classifier(ns, model, threads, msg_type, queue_size=window + burst + 1,
                         depth=50, feeder_depth=50) as (proc, feeder):
            before = feeder.diagnostics()
            peak_before = peak_rss(proc.proc.pid)
            run = feeder.run(source, window=window, count=n, warmup=0.0, stall=10.0,
                             drain=10.0)
            counts, alive = _settle(feeder, proc, before, run['sent'])
            peak_after = peak_rss(proc.proc.pid) if alive else None
        code = proc.stop()
        peak = None if peak_before is None or peak_after is None else \
            (peak_before / 2**20, peak_after / 2**20)
        part = {'sent': run['sent'], 'good': run['good'], 'bad': run['bad'],
                'classified': run['received'], 'node': counts, 'alive': alive,
                'exit_code': code, 'kinds': source.kinds, 'peak_rss_mb': peak}
        part['ok'] = (alive and code == 0 and run['received'] == run['good'] and
                      counts['bad'] == run['bad'] and counts['received'] == run['sent'] and
                      counts['published'] == run['good'] and counts['dropped'] == 0 and
                      counts['failed'] == 0 and _no_traceback(proc.output) and
                      (peak is None or peak[1] - peak[0] < FUZZ_PEAK_GROWTH_MB))
        if not part['ok']:
            part['log_tail'] = proc.output[-3000:]
        ok = ok and part['ok']
        report['parts'][msg_type] = part
    report['ok'] = ok
    return report


# ------------------------------------------------------------------ overload
def _rss_growth(samples: List[Tuple[float, int]], warmup: float) -> Optional[float]:
    # Frames in flight make RSS swing by a few frame sizes: compare medians of the first and
    # last fifths (at least 3 samples each) after warm-up rather than single samples.
    after = [rss for t, rss in samples if t >= warmup]
    if len(after) < 6:
        return None
    n = max(3, len(after) // 5)
    start = float(np.median(after[:n]))
    end = float(np.median(after[-n:]))
    return (end - start) / start


def overload(duration: float = 60.0, encoding: str = 'nv12', width: int = 1920,
             height: int = 1080, model: str = 'm0_9', threads: int = 2, factor: float = 2.0,
             warmup: Optional[float] = None) -> Dict[str, Any]:
    """
    Feed frames at ``factor`` times the node's measured capacity for ``duration`` seconds.

    Capacity is measured closed-loop first, single-frame latency with one frame in flight.
    Checks: p99 latency of published results within 3x the single-frame latency; the node's
    received = published + dropped (+ bad + failed, both zero); RSS growth after warm-up < 5 %.
    """
    warmup = min(10.0, duration / 4) if warmup is None else warmup
    ns = f'/repvit_overload_{os.getpid()}'
    msg_type = input_type_of(encoding)
    msgs = frames(encoding, width, height)
    rss: List[Tuple[float, int]] = []
    with _classifier(ns, model, threads, msg_type) as (proc, feeder):
        single = feeder.run(msgs, window=1, duration=3.0, warmup=1.0)
        capacity = feeder.run(msgs, window=threads + 1, duration=5.0, warmup=1.0)
        rate = factor * capacity['throughput_fps']
        before = feeder.diagnostics()
        run = feeder.run(msgs, rate=rate, duration=duration, warmup=warmup,
                         tick=lambda t: rss.append((t, proc.rss())))
        counts, alive = _settle(feeder, proc, before)
    code = proc.stop()
    growth = _rss_growth(rss, warmup)
    ratio = run['latency_p99_ms'] / single['latency_median_ms']
    report = {
        'scenario': 'overload', 'encoding': encoding, 'resolution': f'{width}x{height}',
        'threads': threads, 'duration_s': duration, 'capacity_fps': capacity['throughput_fps'],
        'rate_hz': rate, 'sent': run['sent'], 'classified': run['received'],
        'single_frame_latency_ms': single['latency_median_ms'],
        'latency_median_ms': run['latency_median_ms'], 'latency_p99_ms': run['latency_p99_ms'],
        'p99_to_single': ratio, 'node': counts, 'rss_mb_start': rss[0][1] / 2**20 if rss else 0,
        'rss_mb_end': rss[-1][1] / 2**20 if rss else 0, 'rss_growth': growth,
        'rss_mb': [(round(t, 1), round(r / 2**20, 1)) for t, r in rss],
        'alive': alive, 'exit_code': code}
    report['ok'] = bool(
        alive and code == 0 and ratio <= 3.0 and _accounted(counts) and
        counts['published'] == run['received']
        and growth is not None and growth < 0.05 and _no_traceback(proc.output))
    return report


# ------------------------------------------------------------------ soak
def soak(duration: float = 600.0, rate: float = 30.0, encoding: str = 'bgr8', width: int = 640,
         height: int = 480, model: str = 'm0_9', threads: int = 2,
         sample_every: float = 10.0) -> Dict[str, Any]:
    """
    Run a steady camera-like load and record the node's RSS over time.

    Checks: the node stays up, every frame is accounted for, RSS grows < 5 % after the first
    fifth of the run.
    """
    ns = f'/repvit_soak_{os.getpid()}'
    msg_type = input_type_of(encoding)
    rss: List[Tuple[float, int]] = []
    with _classifier(ns, model, threads, msg_type) as (proc, feeder):
        before = feeder.diagnostics()
        run = feeder.run(frames(encoding, width, height), rate=rate, duration=duration,
                         warmup=0.0, tick=lambda t: rss.append((t, proc.rss())),
                         tick_period=sample_every)
        rss.append((run['seconds'], proc.rss()))
        counts, alive = _settle(feeder, proc, before)
    code = proc.stop()
    growth = _rss_growth(rss, duration / 5)
    report = {'scenario': 'soak', 'duration_s': duration, 'rate_hz': rate,
              'encoding': encoding, 'resolution': f'{width}x{height}', 'sent': run['sent'],
              'classified': run['received'], 'latency_median_ms': run['latency_median_ms'],
              'latency_p99_ms': run['latency_p99_ms'], 'node': counts,
              'rss_mb': [(round(t, 1), round(r / 2**20, 1)) for t, r in rss],
              'rss_growth': growth, 'alive': alive, 'exit_code': code}
    report['ok'] = bool(alive and code == 0 and growth is not None and growth < 0.05 and
                        _accounted(counts) and _no_traceback(proc.output))
    return report


# ------------------------------------------------------------------ shutdown
def shutdown(signals=(signal.SIGINT, signal.SIGTERM), model: str = 'm0_9', threads: int = 2,
             encoding: str = 'bgr8', width: int = 1280, height: int = 720,
             load_seconds: float = 3.0, double_sigint: bool = True) -> Dict[str, Any]:
    """
    Signal the node while it is saturated; it must exit within 2 s, code 0, no traceback.

    The node is fed closed-loop with more frames in flight than it has workers (full load),
    and the signal arrives mid-run. Its last log line must say that workers and backend
    were released. ``double_sigint`` adds a run with two SIGINTs 50 ms apart, what Ctrl-C on
    ``ros2 launch`` in a terminal delivers.
    """
    rows = []
    cases = [(sig, 1) for sig in signals] + ([(signal.SIGINT, 2)] if double_sigint else [])
    for sig, times in cases:
        ns = f'/repvit_shutdown_{os.getpid()}_{int(sig)}_{times}'
        msg_type = input_type_of(encoding)
        exited: Dict[str, float] = {}
        with _classifier(ns, model, threads, msg_type) as (proc, feeder):

            def waiter(p=proc, box=exited):
                p.proc.wait()
                box['at'] = time.monotonic()

            def fire(t, p=proc, box=exited, s=sig, n=times):
                if t >= load_seconds and 'sent' not in box:
                    box['sent'] = time.monotonic()
                    for i in range(n):
                        p.proc.send_signal(s)
                        time.sleep(0.05 if i + 1 < n else 0.0)
                    threading.Thread(target=waiter, daemon=True).start()

            run = feeder.run(frames(encoding, width, height), window=threads + 3,
                             duration=load_seconds + 3.0, warmup=0.0, stall=30.0, drain=0.5,
                             tick=fire, tick_period=0.1)
            proc.proc.wait(10)
        code = proc.stop(timeout=10)
        seconds = exited['at'] - exited['sent'] if 'at' in exited else float('inf')
        out = proc.output
        name = signal.Signals(sig).name + (f' x{times}' if times > 1 else '')
        rows.append({'signal': name, 'exit_s': seconds, 'exit_code': code,
                     'frames_before_signal': run['received'],
                     'traceback': not _no_traceback(out),
                     'released': 'stopped: released' in out,
                     'ok': seconds <= 2.0 and code == 0 and _no_traceback(out) and
                     run['received'] > 0 and 'stopped: released' in out})
        rows[-1]['last_log_line'] = out.strip().splitlines()[-1] if out.strip() else ''
        if not rows[-1]['ok']:
            rows[-1]['log_tail'] = out[-3000:]
    return {'scenario': 'shutdown', 'rows': rows, 'ok': all(r['ok'] for r in rows)}


# ------------------------------------------------------------------ runtime parameters
def params(duration: float = 10.0, model: str = 'm0_9', threads: int = 2,
           encoding: str = 'bgr8', width: int = 640, height: int = 480,
           period: float = 0.05) -> Dict[str, Any]:
    """
    Change top_k, min_score and max_rate every ``period`` seconds while the node is saturated.

    Valid values must be accepted, invalid ones rejected with a reason; results must keep
    coming (no gap over 2 s), the node must stay up and, with the defaults back, run at
    least at 70 % of its rate before.
    """
    ns = f'/repvit_params_{os.getpid()}'
    msg_type = input_type_of(encoding)
    rng = random.Random(3)
    tally = {'valid_sent': 0, 'valid_ok': 0, 'invalid_sent': 0, 'invalid_rejected': 0,
             'unanswered': 0}
    pending: List[Any] = []

    def value(v) -> ParameterValue:
        if isinstance(v, int):
            return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=v)
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=v)

    choices: List[Tuple[str, Any, bool]] = [
        ('top_k', lambda: rng.randint(1, 10), True),
        ('min_score', lambda: round(rng.uniform(0.0, 0.3), 3), True),
        ('max_rate', lambda: rng.choice((0.0, 5.0, 20.0, 100.0)), True),
        ('top_k', lambda: rng.choice((0, -3, 5000)), False),
        ('min_score', lambda: rng.choice((-0.5, 1.5)), False),
        ('max_rate', lambda: -1.0, False)]

    msgs = frames(encoding, width, height)
    with _classifier(ns, model, threads, msg_type) as (proc, feeder):
        client = feeder.node.create_client(SetParameters,
                                           f'{ns}/repvit_classifier/set_parameters')

        def change(_t) -> None:
            name, make, valid = rng.choice(choices)
            req = SetParameters.Request(parameters=[ParameterMsg(name=name,
                                                                 value=value(make()))])
            tally['valid_sent' if valid else 'invalid_sent'] += 1
            pending.append((client.call_async(req), valid))

        client.wait_for_service(timeout_sec=10.0)
        # Full load: 1.5x the measured capacity, at a fixed rate (a closed loop would starve
        # itself whenever max_rate drops every frame in flight).
        capacity = feeder.run(msgs, window=threads + 1, duration=2.0, warmup=0.5)
        run = feeder.run(msgs, rate=1.5 * capacity['throughput_fps'], duration=duration,
                         warmup=0.0, tick=change, tick_period=period)
        feeder.spin_until(lambda: all(f.done() for f, _ in pending), 10.0)
        # Put the defaults back and check results flow again at full rate.
        for name, v in (('top_k', 5), ('min_score', 0.0), ('max_rate', 0.0)):
            pending_reset = client.call_async(SetParameters.Request(
                parameters=[ParameterMsg(name=name, value=value(v))]))
            feeder.spin_until(pending_reset.done, 5.0)
        after = feeder.run(msgs, window=threads + 1, duration=2.0, warmup=0.5)
        alive = proc.alive()
    code = proc.stop()
    for future, valid in pending:
        if not future.done() or future.result() is None:
            tally['unanswered'] += 1
            continue
        result = future.result().results[0]
        if valid and result.successful:
            tally['valid_ok'] += 1
        elif not valid and not result.successful and result.reason:
            tally['invalid_rejected'] += 1
    report = {'scenario': 'params', 'duration_s': duration, 'changes': len(pending), **tally,
              'max_gap_s': run['max_gap_s'], 'classified': run['received'],
              'fps_before': capacity['throughput_fps'], 'fps_after': after['throughput_fps'],
              'alive': alive, 'exit_code': code}
    report['ok'] = bool(alive and code == 0 and tally['unanswered'] == 0 and
                        tally['valid_ok'] == tally['valid_sent'] and
                        tally['invalid_rejected'] == tally['invalid_sent'] and
                        run['max_gap_s'] < 2.0 and
                        after['throughput_fps'] > 0.7 * capacity['throughput_fps'] and
                        _no_traceback(proc.output))
    return report


def switch(switches: int = 4, rate: float = 30.0, models: Tuple[str, str] = ('m0_9', 'm1_1'),
           threads: int = 2, encoding: str = 'bgr8', width: int = 640, height: int = 480,
           every: float = 3.0) -> Dict[str, Any]:
    """
    Switch the model back and forth at runtime while a camera sends at a fixed rate.

    The node loads each new model beside the old one, which keeps classifying until the swap:
    results must keep coming (no gap over 1 s), every frame received must be classified by
    one of the two models or counted dropped with its reason, and the node's peak resident
    memory while two models are loaded is sampled every 20 ms.
    """
    ns = f'/repvit_switch_{os.getpid()}'
    paths = [model_file(m) for m in models]
    msgs = frames(encoding, width, height)
    samples: List[Tuple[float, int]] = []
    asked: List[float] = []
    results: List[Any] = []
    # DDS histories of 4 s at 30 Hz on both sides: every frame sent must reach the node, which
    # a starved machine's reader lagging more than the default 10 frames behind would break
    # without the node ever knowing (a clean-clone run beside a CPU hog: 224 of 225 arrived).
    with _classifier(ns, models[0], threads, input_type_of(encoding), queue_size=1,
                     depth=TRANSPORT_DEPTH, feeder_depth=TRANSPORT_DEPTH) as (proc, feeder):
        client = feeder.node.create_client(SetParameters,
                                           f'{ns}/repvit_classifier/set_parameters')
        client.wait_for_service(timeout_sec=10.0)
        before = feeder.diagnostics()

        def tick(t: float) -> None:
            samples.append((t, proc.rss()))
            if len(asked) < switches and t >= every * (len(asked) + 1):
                path = paths[(len(asked) + 1) % 2]
                asked.append(t)
                results.append(client.call_async(SetParameters.Request(parameters=[
                    ParameterMsg(name='model_path', value=ParameterValue(
                        type=ParameterType.PARAMETER_STRING, string_value=path))])))

        run = feeder.run(msgs, rate=rate, duration=every * (switches + 1), warmup=0.0,
                         tick=tick, tick_period=0.02)
        feeder.spin_until(lambda: all(f.done() for f in results), 10.0)
        counts, alive = _settle(feeder, proc, before, run['sent'])
    code = proc.stop()
    out = proc.output
    done = [(float(a), int(b)) for a, b in re.findall(
        r'model switched in ([\d.]+) s; the old model classified (\d+) frame', out)]
    steady = [rss for t, rss in samples if t < every]
    peaks = [max((rss for t, rss in samples if a <= t <= a + every), default=0) for a in asked]
    base = max(steady) if steady else 0
    accepted = [f.done() and f.result() is not None and f.result().results[0].successful
                for f in results]
    report = {'scenario': 'switch', 'switches': switches, 'rate_hz': rate,
              'models': list(models), 'sent': run['sent'], 'classified': run['received'],
              'node': counts, 'accepted': sum(accepted), 'switched': len(done),
              'load_s': [a for a, _ in done], 'old_model_frames': [b for _, b in done],
              'max_gap_s': run['max_gap_s'], 'rss_before_mb': base / MB,
              'switch_peak_mb': [p / MB for p in peaks],
              'switch_peak_growth_mb': [(p - base) / MB for p in peaks],
              'alive': alive, 'exit_code': code}
    report['ok'] = bool(alive and code == 0 and all(accepted) and len(done) == switches and
                        _accounted(counts) and counts['received'] == run['sent'] and
                        run['max_gap_s'] < 1.0 and _no_traceback(out))
    return report


# ------------------------------------------------------------------ output
def to_markdown(report: Dict[str, Any]) -> str:
    """Render one scenario's report as a short markdown block."""
    name = report['scenario']
    verdict = 'PASS' if report['ok'] else 'FAIL'
    lines = [f'### {name}: {verdict}']
    if name == 'fuzz':
        for msg_type, p in report['parts'].items():
            peak = p.get('peak_rss_mb')
            memory = 'n/a' if peak is None else f'{peak[0]:.0f} -> {peak[1]:.0f} MB'
            lines.append(f'- {msg_type}: {p["sent"]} frames ({p["good"]} good, {p["bad"]} '
                         f'malformed); classified {p["classified"]}; node counted '
                         f'{p["node"]["bad"]} bad, {p["node"]["dropped"]} dropped, '
                         f'{p["node"]["failed"]} failed; alive {p["alive"]}, exit '
                         f'{p["exit_code"]}; node peak RSS {memory}')
            mix = sorted(p['kinds'].items())
            lines.append('  - mix: ' + ', '.join(f'{k} {v}' for k, v in mix))
    elif name == 'overload':
        growth = report['rss_growth']
        lines.append(
            f'- {report["resolution"]} {report["encoding"]}, {report["threads"]} workers: '
            f'capacity {report["capacity_fps"]:.1f} fps, fed at {report["rate_hz"]:.1f} Hz '
            f'for {report["duration_s"]:.0f} s')
        lines.append(
            f'- latency single frame {report["single_frame_latency_ms"]:.1f} ms; under '
            f'overload median {report["latency_median_ms"]:.1f} ms, p99 '
            f'{report["latency_p99_ms"]:.1f} ms = {report["p99_to_single"]:.2f}x single')
        n = report['node']
        lines.append(f'- node: received {n["received"]} = published {n["published"]} + dropped '
                     f'{n["dropped"]} + bad {n["bad"]} + failed {n["failed"]}')
        lines.append(f'- RSS {report["rss_mb_start"]:.0f} -> {report["rss_mb_end"]:.0f} MB, '
                     f'growth after warm-up '
                     f'{"n/a" if growth is None else f"{100 * growth:+.2f} %"}')
    elif name == 'soak':
        growth = report['rss_growth']
        lines.append(f'- {report["duration_s"]:.0f} s at {report["rate_hz"]:g} Hz '
                     f'{report["resolution"]} {report["encoding"]}: sent {report["sent"]}, '
                     f'classified {report["classified"]}, latency median '
                     f'{report["latency_median_ms"]:.1f} ms / p99 '
                     f'{report["latency_p99_ms"]:.1f} ms')
        lines.append(f'- RSS growth after the first fifth '
                     f'{"n/a" if growth is None else f"{100 * growth:+.2f} %"}; samples (s, MB): '
                     + ', '.join(f'{t:g}: {m:g}' for t, m in report['rss_mb']))
    elif name == 'shutdown':
        for r in report['rows']:
            lines.append(f'- {r["signal"]} under full load: exit in {r["exit_s"]:.2f} s, code '
                         f'{r["exit_code"]}, traceback {r["traceback"]}, '
                         f'workers/backend released {r["released"]}')
    elif name == 'params':
        lines.append(f'- {report["changes"]} changes in {report["duration_s"]:.0f} s: valid '
                     f'{report["valid_ok"]}/{report["valid_sent"]} accepted, invalid '
                     f'{report["invalid_rejected"]}/{report["invalid_sent"]} rejected with a '
                     f'reason, {report["unanswered"]} unanswered; longest gap between results '
                     f'{report["max_gap_s"]:.2f} s; {report["classified"]} classified; '
                     f'{report["fps_before"]:.1f} fps before, {report["fps_after"]:.1f} after')
    elif name == 'switch':
        n = report['node']
        lines.append(f'- {report["switches"]} switches between {" and ".join(report["models"])} '
                     f'at {report["rate_hz"]:g} Hz: sent {report["sent"]}, node received '
                     f'{n["received"]} = published {n["published"]} + dropped {n["dropped"]} '
                     f'(queue full {n.get("dropped_queue_full", 0)}) + bad {n["bad"]} + failed '
                     f'{n["failed"]}; longest gap between results {report["max_gap_s"]:.2f} s')
        lines.append('- per switch: load ' + ', '.join(f'{t:.1f} s' for t in report['load_s']) +
                     '; frames the old model classified meanwhile ' +
                     ', '.join(str(k) for k in report['old_model_frames']) +
                     f'; node RSS {report["rss_before_mb"]:.0f} MB before, peak while two '
                     f'models were loaded +' + ', +'.join(
                         f'{g:.0f}' for g in report['switch_peak_growth_mb']) + ' MB')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    # Raw: the examples keep their lines (argparse would reflow them into one paragraph).
    parser = argparse.ArgumentParser(prog='loadtest', description=__doc__.split('\n\n')[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('scenario', choices=('fuzz', 'overload', 'soak', 'shutdown', 'params',
                                             'switch', 'all'))
    parser.add_argument('--frames', type=int, default=2000, help='fuzz: frames to send')
    parser.add_argument('--duration', type=float, default=0.0,
                        help='overload/soak/params seconds (defaults 60/600/10; all: short)')
    parser.add_argument('--model', default='m0_9')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--encoding', default='', help='overload: nv12, soak: bgr8')
    parser.add_argument('--resolution', default='', help='overload: 1920x1080, soak: 640x480')
    parser.add_argument('--rate', type=float, default=30.0, help='soak: Hz')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    use_large_frames_profile()
    short = args.scenario == 'all'

    def res(default: str) -> Dict[str, int]:
        w, h = (int(v) for v in (args.resolution or default).split('x'))
        return {'width': w, 'height': h}
    jobs: Dict[str, Callable[[], Dict[str, Any]]] = {
        'fuzz': lambda: fuzz(args.frames, args.model, args.threads),
        'overload': lambda: overload(args.duration or (20.0 if short else 60.0),
                                     args.encoding or 'nv12', model=args.model,
                                     threads=args.threads, **res('1920x1080')),
        'soak': lambda: soak(args.duration or (30.0 if short else 600.0), args.rate,
                             args.encoding or 'bgr8', model=args.model, threads=args.threads,
                             sample_every=2.0 if short else 10.0, **res('640x480')),
        'shutdown': lambda: shutdown(model=args.model, threads=args.threads),
        'params': lambda: params(args.duration or 10.0, args.model, args.threads),
        'switch': lambda: switch(threads=args.threads)}
    names = list(jobs) if args.scenario == 'all' else [args.scenario]
    ok = True
    for name in names:
        report = jobs[name]()
        ok = ok and report['ok']
        print(json.dumps(report, indent=2) if args.json else to_markdown(report), flush=True)
        print()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
