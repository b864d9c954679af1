"""Progress lines with an estimate of the time left, for long offline commands."""

from __future__ import annotations

import time
from collections.abc import Callable


class Progress:
    """Progress over ``steps`` equal steps, printed at most every ``every`` seconds.

    Lines are plain text (no carriage returns), so they read well in a log file as on a
    terminal.

    Example usage::

        progress = Progress(6, print)
        step = progress.step("known seed 0")
        step(0.5)  # half of this step done
    """

    def __init__(self, steps: int, echo: Callable[[str], None], every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.steps = max(1, steps)
        self.echo = echo
        self.every = every
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.last_line = -float("inf")

    def step(self, label: str) -> Callable[[float], None]:
        """Start the next step; returns a callable taking the fraction of it done."""
        index = self.done
        self.done += 1

        def update(fraction: float) -> None:
            now = self.clock()
            overall = (index + min(max(fraction, 0.0), 1.0)) / self.steps
            if now - self.last_line < self.every and fraction < 1.0:
                return
            self.last_line = now
            elapsed = now - self.started
            left = elapsed * (1 - overall) / overall if overall > 0 else float("nan")
            self.echo(f"[{overall:4.0%}] {label}: {fraction:.0%}; elapsed {_clock(elapsed)}, "
                      f"about {_clock(left)} left")

        update(0.0)
        return update


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing to extrapolate from yet
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"
