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
Keep frame-sized buffers in the process: glibc malloc tuning for a node that handles frames.

Every image message is allocated twice (the C message, then the Python one) and freed after use.
glibc serves blocks of a few MB with mmap or trims them off the heap top, so each frame comes
back as fresh pages that the kernel must fault in and zero: at 1920x1080 that doubled the CPU
time per frame of both the node and a bare subscriber (docs/benchmarks.md).
"""

import ctypes
import ctypes.util
import os
from typing import Optional

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
_libc: Optional[ctypes.CDLL] = None  # set once tune_allocator() succeeded


def tune_allocator() -> bool:
    """
    Make glibc keep freed frame-sized buffers for reuse instead of unmapping them every frame.

    A fixed 32 MB mmap threshold and a 256 MB trim threshold keep those pages in the process,
    and :func:`release_free_memory` (called by the node once a second) hands what is left free
    back to the system, so resident memory follows the frames in use. Skipped when the user
    tunes malloc through ``MALLOC_*`` variables, or without glibc.

    :return: whether the settings are in force.
    """
    global _libc
    if _libc is not None:
        return True  # already done in this process (several nodes, or a node and a tool)
    if any(k.startswith('MALLOC_') for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt, _ = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return False
    if mallopt(_M_MMAP_THRESHOLD, 32 << 20) and mallopt(_M_TRIM_THRESHOLD, 256 << 20):
        _libc = libc
    return _libc is not None


def release_free_memory() -> None:
    """Return free heap pages to the system (after :func:`tune_allocator`; else nothing)."""
    if _libc is not None:
        _libc.malloc_trim(0)
