"""Progress with an ETA for long commands, in a terminal and in a log alike.

On a terminal, a tqdm bar (shown only once the work has lasted ``interval`` seconds). Anywhere
else (a pipe, a log file, cron, CI), where a redrawn bar is either hidden or one endless line,
one plain line every ``interval`` seconds and a last one at the end::

    import: 12% 1200/9877 [00:05<00:36, 240.00paper/s]

Usage::

    with Progress(len(papers), "import", unit="paper") as progress:
        for chunk in chunks:
            ...
            progress.update(len(chunk))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

INTERVAL = 5.0


class Progress:
    """Report how far a loop has come and when it will end.

    Parameters
    ----------
    total : int or None
        Units of work expected (None when unknown: no percentage or ETA, just a rate).
    label : str
        What is being done; starts every line.
    unit : str, default "item"
        Name of one unit of work, as in ``"240.00paper/s"``.
    stream : text file, optional
        Where to write (default: ``sys.stderr``, so that stdout stays the command's result).
    interval : float, optional
        Seconds between two lines off a terminal, and before the bar appears on one
        (default: ``INTERVAL``, 5).
    enabled : bool, default True
        False writes nothing (``--quiet``).
    terminal : bool, optional
        Whether ``stream`` is a terminal; by default ``stream.isatty()``.
    clock : callable, default ``time.monotonic``
        Seconds, for the line mode's elapsed time, rate and ETA.
    """

    def __init__(self, total: int | None, label: str, unit: str = "item", *, stream: TextIO | None = None,
                 interval: float | None = None, enabled: bool = True, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = INTERVAL if interval is None else interval
        self.enabled, self.clock = enabled, clock
        self.n = 0
        self.note = ""
        self.lines = 0
        self.n_shown = 0
        self.started = self.last_line = clock()
        if terminal is None:
            terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = tqdm(total=total, desc=label, unit=unit, file=self.stream, delay=self.interval) \
            if enabled and terminal else None

    def update(self, n: int = 1, note: str | None = None) -> None:
        """Count ``n`` more units done; ``note`` (e.g. the current stage) is shown after the rate."""
        self.n += n
        if note is not None:
            self.note = note
        if self.bar is not None:
            if note is not None:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(n)
        elif self.enabled and self.clock() - self.last_line >= self.interval:
            self._line()

    def line(self) -> str:
        """The current state as one line: percentage, count, elapsed<ETA, rate, note."""
        return tqdm.format_meter(self.n, self.total, self.clock() - self.started, ncols=0, prefix=self.label,
                                 unit=self.unit, postfix=self.note or None)

    def _line(self) -> None:
        self.stream.write(self.line() + "\n")
        self.stream.flush()
        self.lines += 1
        self.n_shown = self.n
        self.last_line = self.clock()

    def close(self) -> None:
        """End the report: close the bar, or write the final count if an earlier line showed less."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.lines and self.n != self.n_shown:
            self._line()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
