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

Work made of a few long steps reports fractions of each step (:meth:`Progress.step`), and
with ``heartbeat=True`` a line still comes every ``interval`` seconds while a step runs.
"""

from __future__ import annotations

import sys
import threading
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
    heartbeat : bool, default False
        Also report every ``interval`` seconds of wall time without an update (a background
        thread), for work whose steps last longer than that.
    """

    def __init__(self, total: int | None, label: str, unit: str = "item", *, stream: TextIO | None = None,
                 interval: float | None = None, enabled: bool = True, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, heartbeat: bool = False) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = INTERVAL if interval is None else interval
        self.enabled, self.clock = enabled, clock
        self.n: float = 0
        self.note = ""
        self.lines = 0
        self.n_shown: float = 0
        self.steps_started = 0
        self.started = self.last_line = clock()
        if terminal is None:
            terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = tqdm(total=total, desc=label, unit=unit, file=self.stream, delay=self.interval) \
            if enabled and terminal else None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._beat: threading.Thread | None = None
        if heartbeat and enabled and self.interval > 0:
            self._beat = threading.Thread(target=self._heartbeat, name=f"progress {label}",
                                          daemon=True)
            self._beat.start()

    def update(self, n: float = 1, note: str | None = None) -> None:
        """Count ``n`` more units done; ``note`` (e.g. the current stage) is shown after the rate."""
        with self._lock:
            total = round(self.n + n, 2)
            self.n = int(total) if float(total).is_integer() else total
            if note is not None:
                self.note = note
            if self.bar is not None:
                if note is not None:
                    self.bar.set_postfix_str(note, refresh=False)
                self.bar.update(n)
            elif self.enabled and self.clock() - self.last_line >= self.interval:
                self._line()

    def step(self, label: str) -> Callable[[float], None]:
        """Start the next whole unit of work, named ``label``; returns a callable taking the
        fraction of it done (the count moves to the step's index plus that fraction)."""
        index = self.steps_started
        self.steps_started += 1

        def done(fraction: float) -> None:
            fraction = min(max(fraction, 0.0), 1.0)
            self.update(index + fraction - self.n, note=f"{label} {fraction:.0%}")

        done(0.0)
        return done

    def write(self, message: str) -> None:
        """Write one message line (below the bar on a terminal); nothing when disabled."""
        if not self.enabled:
            return
        with self._lock:
            if self.bar is not None:
                self.bar.write(message, file=self.stream)
            else:
                self.stream.write(message + "\n")
                self.stream.flush()

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

    def _heartbeat(self) -> None:
        while not self._closed.wait(self.interval):
            with self._lock:
                if self._closed.is_set():
                    return
                if self.bar is not None:
                    if self.clock() - self.started >= self.interval:
                        self.bar.refresh()
                elif self.clock() - self.last_line >= self.interval:
                    self._line()

    def close(self) -> None:
        """End the report: close the bar, or write the final count if an earlier line showed less."""
        self._closed.set()
        if self._beat is not None:
            self._beat.join()
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.lines and self.n != self.n_shown:
            self._line()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
