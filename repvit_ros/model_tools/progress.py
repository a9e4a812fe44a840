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

"""One progress display for every model tool: a line on stderr, redrawn as work goes on."""

import sys
import time
from typing import Optional, TextIO


class Progress:
    """
    A one-line progress bar: ``label [#####-----] 50/100 (50.0 %) 12.3/s``.

    It counts steps (images), or with ``unit`` and ``per`` an amount (``6.8/20.4 MB``, from
    bytes with ``per=1e6``); with an unknown total (0) the bar and the share are left out.
    """

    def __init__(self, total: int, label: str, stream: Optional[TextIO] = None,
                 width: int = 30, unit: str = '', per: float = 1.0):
        """
        Start the bar.

        :param total: number of steps (0: unknown).
        :param label: text before the bar.
        :param stream: where to draw (default stderr).
        :param width: bar characters.
        :param unit: the unit shown after amounts (empty: whole steps are shown).
        :param per: steps per unit (1e6 to show bytes as MB).
        """
        self.total, self.label, self.width = max(0, total), label, width
        self.unit, self.per = unit, per
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    def _amount(self, steps: float) -> str:
        return f'{steps / self.per:.1f}' if self.unit else f'{steps:.0f}'

    def update(self, steps: int = 1) -> None:
        """
        Advance and redraw (at most ten times a second, and always at the end).

        :param steps: steps done since the last call.
        """
        self.done += steps
        now = time.monotonic()
        if now - self._drawn < 0.1 and (self.total == 0 or self.done < self.total):
            return
        self._drawn = now
        unit = f' {self.unit}' if self.unit else ''
        rate = f'{self.done / self.per / max(now - self._started, 1e-6):.1f}{unit}/s'
        if self.total:
            filled = self.width * min(self.done, self.total) // self.total
            line = (f'{self.label} [{"#" * filled}{"-" * (self.width - filled)}] '
                    f'{self._amount(self.done)}/{self._amount(self.total)}{unit} '
                    f'({100 * self.done / self.total:.1f} %) {rate}')
        else:
            line = f'{self.label} {self._amount(self.done)}{unit} {rate}'
        self.stream.write('\r' + line)
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        self.stream.write('\n')
        self.stream.flush()
