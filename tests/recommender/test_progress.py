"""recommender.progress: lines with an ETA off a terminal, a bar on one, nothing when quiet."""

from __future__ import annotations

import io
import threading

from recommender.progress import Progress


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_one_line_per_interval_with_an_eta():
    stream, clock = io.StringIO(), Clock()
    with Progress(100, "import", unit="paper", stream=stream, interval=5, clock=clock) as progress:
        for _ in range(10):
            clock.now += 1
            progress.update(10)
    lines = stream.getvalue().splitlines()
    # Two intervals of 5 s passed in 10 s of work.
    assert lines == ["import:  50% 50/100 [00:05<00:05, 10.00paper/s]",
                     "import: 100% 100/100 [00:10<00:00, 10.00paper/s]"]


def test_the_close_writes_the_final_count_once():
    stream, clock = io.StringIO(), Clock()
    with Progress(10, "import", stream=stream, interval=5, clock=clock) as progress:
        clock.now += 5
        progress.update(4)
        clock.now += 1
        progress.update(6)
    assert stream.getvalue().splitlines() == ["import:  40% 4/10 [00:05<00:07,  1.25s/item]",
                                              "import: 100% 10/10 [00:06<00:00,  1.67item/s]"]


def test_a_short_run_prints_nothing():
    stream, clock = io.StringIO(), Clock()
    with Progress(3, "train", stream=stream, interval=5, clock=clock) as progress:
        clock.now += 4.9
        progress.update(3)
    assert stream.getvalue() == ""


def test_notes_and_unknown_totals():
    stream, clock = io.StringIO(), Clock()
    with Progress(None, "eval", unit="user", stream=stream, interval=1, clock=clock) as progress:
        clock.now += 2
        progress.update(50, note="seed 1")
    assert stream.getvalue().splitlines()[0] == "eval: 50user [00:02, 25.00user/s, seed 1]"


def test_quiet_prints_nothing_anywhere():
    for terminal in (False, True):
        stream, clock = io.StringIO(), Clock()
        with Progress(10, "x", stream=stream, interval=0, enabled=False, terminal=terminal, clock=clock) as progress:
            clock.now += 10
            progress.update(10)
        assert stream.getvalue() == ""


def test_on_a_terminal_a_bar():
    stream = io.StringIO()
    with Progress(4, "import", unit="paper", stream=stream, interval=0, terminal=True) as progress:
        progress.update(4)
    assert "\r" in stream.getvalue() and "4/4" in stream.getvalue()


def test_steps_report_fractions_of_each_step():
    stream, clock = io.StringIO(), Clock()
    with Progress(2, "eval", unit="run", stream=stream, interval=5, clock=clock) as progress:
        step = progress.step("known seed 0")
        clock.now += 2
        step(0.5)  # within 5 s of the start: quiet
        clock.now += 8
        step(0.5)
        second = progress.step("known seed 1")  # 0 s since the last line: quiet
        clock.now += 10
        second(0.2)
    assert stream.getvalue().splitlines() == [
        "eval:  25% 0.5/2 [00:10<00:30, 20.00s/run, known seed 0 50%]",
        "eval:  60% 1.2/2 [00:20<00:13, 16.67s/run, known seed 1 20%]"]


class Lines(io.StringIO):
    """A stream that signals each line written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def write(self, text: str) -> int:
        count = super().write(text)
        self.written.set()
        return count


def test_a_heartbeat_reports_a_step_that_lasts():
    stream, clock = Lines(), Clock()
    with Progress(4, "train", unit="step", stream=stream, interval=0.01, clock=clock,
                  heartbeat=True) as progress:
        progress.update(1, note="fit")
        clock.now += 30  # no update while the fit runs: the heartbeat still reports
        assert stream.written.wait(timeout=30)
    first = stream.getvalue().splitlines()[0]
    assert first == "train:  25% 1/4 [00:30<01:30, 30.00s/step, fit]"


def test_messages_go_to_the_stream_unless_quiet():
    for enabled in (True, False):
        stream = io.StringIO()
        with Progress(2, "eval", stream=stream, enabled=enabled) as progress:
            progress.write("known seed 0: 40 users")
        assert stream.getvalue() == ("known seed 0: 40 users\n" if enabled else "")
