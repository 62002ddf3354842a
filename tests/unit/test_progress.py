"""Progress bars: honest rates over real elapsed time, 'nothing to do', and no flood off a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from aiff.tools.progress import Bar


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120), out


def test_the_rate_counts_only_work_done_while_the_bar_ran() -> None:
    clock = Clock()
    con, out = console(terminal=False)
    with Bar("projector: applied", 5_114, unit="records", initial=5_000, console=con, clock=clock) as bar:
        for _ in range(4):
            clock.now += 0.5
            bar.update(bar.done + 25)
        clock.now += 0.01  # the last position is read a little before the bar ends
        bar.update(5_114)
    assert bar.worked == 114 and bar.elapsed == pytest.approx(2.01)
    assert out.getvalue() == "projector: applied: 114 records in 2.01s (57/s); 5,114 of 5,114 in all\n"


def test_a_bar_with_nothing_to_do_says_so() -> None:
    con, out = console(terminal=False)
    with Bar("projector: applied", 5_114, unit="records", initial=5_114, console=con, clock=Clock()):
        pass
    assert out.getvalue() == "projector: applied: nothing to do (5,114 records already done)\n"


def test_off_a_terminal_a_long_run_leaves_one_line() -> None:
    clock = Clock()
    con, out = console(terminal=False)
    with Bar("seed: tickets", 9_600, unit="tickets", console=con, clock=clock) as bar:
        for _ in range(320):
            clock.now += 1 / 32  # exact in binary: 320 steps make 10.0 s
            bar.advance(30, "seed: tickets (50,000 events)")
    assert out.getvalue().splitlines() == ["seed: tickets: 9,600 tickets in 10.0s (960/s)"]


def test_on_a_terminal_it_draws_counts_rate_and_eta_then_the_summary() -> None:
    clock = Clock()
    con, out = console(terminal=True)
    with Bar("backtest", 400, unit="tickets", console=con, clock=clock) as bar:
        for _ in range(2):
            clock.now += 1.0
            bar.advance(100)
        bar.refresh()
        drawn = out.getvalue()
    assert "200/400" in drawn and "100 tickets/s" in drawn and "0:00:02" in drawn  # count, rate, ETA (200 left at 100/s)
    assert out.getvalue().rstrip().endswith("backtest: 200 tickets in 2.00s (100/s)")


def test_an_interrupted_bar_says_where_it_stopped() -> None:
    clock = Clock()
    con, out = console(terminal=False)
    with pytest.raises(TimeoutError), Bar("dlq: re-driven", 8, unit="letters", console=con, clock=clock) as bar:
        bar.advance(3)
        clock.now += 1
        raise TimeoutError
    assert out.getvalue() == "dlq: re-driven: stopped at 3 of 8 letters after 1.00s\n"


def test_an_unknown_total_still_counts_and_rates() -> None:
    clock = Clock()
    con, out = console(terminal=False)
    with Bar("replay", None, unit="records", console=con, clock=clock) as bar:
        clock.now += 4
        bar.advance(1_000)
    assert out.getvalue() == "replay: 1,000 records in 4.00s (250/s)\n"
