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
What an annotated image costs per frame: python -m repvit_ros.bench.render_cost.

Times :func:`repvit_ros.annotate.render` (colour view at ``--width``, then the band) and
:func:`repvit_ros.annotate.encode_jpeg` of the result, on Chelsea the cat scaled to each frame
size and sent in each encoding (frames as the node holds them: a view of the message bytes, or
the JPEG bytes). Prints the median milliseconds as a markdown table. ``--example PATH`` writes
the annotated photo as a small PNG instead (the README's picture, docs/annotated_example.png).
"""

import argparse
import statistics
import struct
import sys
import time
from typing import Tuple
import zlib

import cv2
import numpy as np
from repvit_ros.annotate import annotate, encode_jpeg, render
from repvit_ros.layouts import COMPRESSED_FORMATS, encode, image_view, row_step
from repvit_ros.model_tools.photos import load_rgb

#: Made-up ranking drawn on every frame (five lines, as the node's default top-k).
RANKING = ((281, 'tabby', 0.712), (282, 'tiger cat', 0.153),
           (285, 'Egyptian cat', 0.087), (287, 'lynx', 0.021),
           (283, 'Persian cat', 0.008))
SIZES = ((640, 480), (1920, 1080))
ENCODINGS = ('bgr8', 'nv12', 'jpeg')


def frame(width: int, height: int, encoding: str):
    """
    Chelsea scaled to a frame size, in an encoding, as the node holds a received frame.

    :param width: frame width.
    :param height: frame height.
    :param encoding: a raw encoding or ``jpeg``/``png``.
    :return: a numpy view of the message bytes, or the compressed bytes.
    """
    rgb = cv2.resize(load_rgb('chelsea'), (width, height), interpolation=cv2.INTER_LINEAR)
    data = encode(rgb, encoding)
    if encoding in COMPRESSED_FORMATS:
        return data
    return image_view(height, width, row_step(encoding, width), encoding, data)


def cost(image, encoding: str, width: int, repeat: int) -> float:
    """
    Median milliseconds of render + encode_jpeg for one frame.

    :param image: from :func:`frame`.
    :param encoding: its encoding.
    :param width: annotated_width.
    :param repeat: timed runs (after one warm-up).
    :return: the median, ms.
    """
    encode_jpeg(render(image, encoding, RANKING, width))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        encode_jpeg(render(image, encoding, RANKING, width))
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def palette_png(indices: np.ndarray, palette: np.ndarray) -> bytes:
    """
    Encode an HxW image of palette indices and its Nx3 RGB palette as a PNG file.

    :param indices: HxW palette indices (0..255).
    :param palette: Nx3 RGB colours.
    :return: the PNG file bytes.
    """
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))

    h, w = indices.shape
    header = struct.pack('>IIBBBBB', w, h, 8, 3, 0, 0, 0)  # 8-bit palette, no interlace
    rows = np.hstack([np.zeros((h, 1), np.uint8), indices.astype(np.uint8)])  # filter 0
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header)
            + chunk(b'PLTE', palette.astype(np.uint8).tobytes())
            + chunk(b'IDAT', zlib.compress(rows.tobytes(), 9)) + chunk(b'IEND', b''))


def write_example(path: str, width: int = 480, colours: int = 64) -> Tuple[int, int, int]:
    """
    Write Chelsea annotated with :data:`RANKING` as a small palette PNG.

    The photo (450 px wide) is first resized to ``width`` (render itself never upscales), then
    annotated, and its colours reduced to ``colours`` by k-means (fixed seed), which keeps the
    PNG under 60 KB.

    :param path: the PNG file.
    :param width: picture width.
    :param colours: palette size (at most 256).
    :return: (width, height, file bytes).
    """
    rgb = load_rgb('chelsea')
    height = int(round(rgb.shape[0] * width / rgb.shape[1]))
    bgr = cv2.resize(np.ascontiguousarray(rgb[:, :, ::-1]), (width, height),
                     interpolation=cv2.INTER_CUBIC)
    picture = annotate(bgr, RANKING)
    cv2.setRNGSeed(0)
    pixels = picture[:, :, ::-1].reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(pixels, colours, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    data = palette_png(labels.reshape(height, width), np.clip(np.round(centres), 0, 255))
    with open(path, 'wb') as f:
        f.write(data)
    return width, height, len(data)


def main(argv=None) -> int:
    """
    Print the cost table, or write the example picture.

    :param argv: command-line arguments.
    :return: exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--width', type=int, default=640, help='annotated_width (0 = native)')
    parser.add_argument('--repeat', type=int, default=50, help='timed runs per case')
    parser.add_argument('--threads', type=int, default=1,
                        help='OpenCV threads (cv2.setNumThreads; default 1: one core)')
    parser.add_argument('--example', metavar='PATH',
                        help='write the annotated Chelsea (480 px wide) as a PNG and exit')
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)
    if args.example:
        width, height, size = write_example(args.example)
        print(f'{args.example}: {width}x{height}, {size} bytes')
        return 0
    print(f'annotated_width {args.width}, OpenCV {cv2.__version__} with {args.threads} '
          f'thread(s), median of {args.repeat}: ms per frame for render + encode_jpeg')
    print('| frame | ' + ' | '.join(ENCODINGS) + ' |')
    print('|---|' + '---:|' * len(ENCODINGS))
    for w, h in SIZES:
        row = [f'{cost(frame(w, h, enc), enc, args.width, args.repeat):.2f}' for enc in ENCODINGS]
        print(f'| {w}x{h} | ' + ' | '.join(row) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
