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
Photographs with known content and the ImageNet-1k classes that count as right for each.

The photos are scikit-image's bundled samples (no download).

A photo passes when one of its classes is among a model's five most probable. The sets name
every ImageNet class a person would accept for what the photo shows (the cat's five domestic
cat breeds, a cup of coffee as espresso, cup or coffee mug, ...), not what one model happens
to answer. They were chosen from the photos and the class names without the real weights at
hand; a real install that misses one is worth a bug report with ``self_check --json``.
"""

from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np


class Photo(NamedTuple):
    """A bundled photograph and the ImageNet-1k class indices that count as right."""

    #: the ``skimage.data`` function that loads it
    name: str
    #: what it shows
    description: str
    #: ImageNet-1k class indices (model output order) that count as right
    expected: Tuple[int, ...]


PHOTOS: Tuple[Photo, ...] = (
    # 281 tabby, 282 tiger cat, 283 Persian cat, 284 Siamese cat, 285 Egyptian cat
    Photo('chelsea', 'Chelsea the cat, a tabby, head and shoulders',
          (281, 282, 283, 284, 285)),
    # 504 coffee mug, 967 espresso, 968 cup
    Photo('coffee', 'an espresso cup on a saucer with a spoon, seen from above',
          (504, 967, 968)),
    # 657 missile, 744 projectile (missile), 812 space shuttle
    Photo('rocket', 'a Falcon 9 rocket on its launch pad at dusk', (657, 744, 812)),
    # 872 tripod, 759 reflex camera, 732 Polaroid camera (grey photograph)
    Photo('camera', 'a man filming with a camera on a tripod (grey)', (872, 759, 732)),
)


class PhotoError(RuntimeError):
    """The photos cannot be loaded (scikit-image missing); the message says what to install."""


def photo(name: str) -> Photo:
    """
    Look up a bundled photo by name.

    :param name: e.g. ``chelsea``.
    :return: its entry.
    :raises KeyError: for an unknown name.
    """
    for p in PHOTOS:
        if p.name == name:
            return p
    raise KeyError(f'unknown photo {name!r}; one of {", ".join(p.name for p in PHOTOS)}')


def load_rgb(name: str) -> np.ndarray:
    """
    Load a scikit-image sample photo as RGB, grey ones as three equal channels, cropped to even.

    :param name: a ``skimage.data`` function name.
    :return: HxWx3 uint8 RGB with even H and W.
    :raises PhotoError: when scikit-image is not installed.
    """
    try:
        from skimage import data
    except ImportError:
        raise PhotoError('the photos come with scikit-image: install it with `pip install '
                         'scikit-image` (on Ubuntu / RDK OS: `sudo apt install '
                         'python3-skimage`)') from None
    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.dstack([img] * 3)
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[:h // 2 * 2, :w // 2 * 2, :3].astype(np.uint8, copy=False))


def load_photos(names: Optional[Sequence[str]] = None) -> List[Tuple[Photo, np.ndarray]]:
    """
    Load bundled photos with their expected classes.

    :param names: which photos (default: all of :data:`PHOTOS`, in order).
    :return: (photo, HxWx3 uint8 RGB) pairs.
    :raises PhotoError: when scikit-image is not installed.
    """
    chosen = PHOTOS if names is None else tuple(photo(n) for n in names)
    return [(p, load_rgb(p.name)) for p in chosen]
