"""Progress bars of long operator commands (Rich): counts, rate and ETA while they run, one summary line after.

On a terminal the bar is live and gives way to its summary line at the end. Anywhere else (CI, a pipe,
a log file) Rich draws nothing live, so a log gets exactly one line per operation, never a flood.

Rates count only the work done while the bar ran, over the real time it ran: work that was already done
when it started (records the projector had applied before a wait) is shown in the count but not in the
rate, and a bar that had nothing to do says so instead of printing a rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


def stderr_console() -> Console:
    """Bars and summaries go to stderr, so a command's real output (tables, JSON) stays clean on stdout."""
    return Console(stderr=True)


class RateColumn(ProgressColumn):
    """Items per second over Rich's recent samples (real time), in the bar's unit."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


class Bar:
    """A context manager around one Rich progress task; `advance(n)` or `update(done)` while working.

    `total=None` when the amount is unknown (the bar then shows counts and rate, no ETA). `initial` is work
    already done before the bar started. `clock` is for tests.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "events",
        initial: int = 0,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit, self.initial = label, total, unit, initial
        self.console = console or stderr_console()
        self.clock = clock
        self.done = initial
        self._started = self._ended = 0.0
        self._live = False
        columns: list[ProgressColumn] = [TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn()]
        if total is not None:
            columns.append(TaskProgressColumn())
        columns += [RateColumn(unit), TimeElapsedColumn()]
        if total is not None:
            columns.append(TimeRemainingColumn())
        self._progress = Progress(*columns, console=self.console, transient=True, get_time=clock)
        self._task = self._progress.add_task(label, total=total, completed=initial, start=False)

    def __enter__(self) -> Bar:
        self._started = self.clock()
        self._live = self.console.is_terminal  # elsewhere Rich would only add blank lines: the summary is enough
        if self._live:
            self._progress.start()
        self._progress.start_task(self._task)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._ended = self.clock()
        if self._live:
            self._progress.stop()
        self.console.print(self.summary(stopped=exc_type is not None), highlight=False, soft_wrap=True)

    def advance(self, n: int, description: str | None = None) -> None:
        """`n` more items done (a new `description` replaces the label while it runs)."""
        self.update(self.done + n, description=description)

    def update(self, done: int, *, total: int | None = None, description: str | None = None) -> None:
        """Set the count of items done (and the total, when it grew meanwhile)."""
        if total is not None:
            self.total = total
        self.done = done
        self._progress.update(self._task, completed=done, total=self.total, description=description or self.label)

    def refresh(self) -> None:
        """Redraw now (Rich also redraws on its own ten times a second)."""
        if self._live:
            self._progress.refresh()

    @property
    def elapsed(self) -> float:
        """Seconds the bar ran (until now while it runs)."""
        return (self._ended or self.clock()) - self._started

    @property
    def worked(self) -> int:
        """Items done while the bar ran."""
        return self.done - self.initial

    @property
    def rate(self) -> float | None:
        """Items per second while the bar ran; None when nothing was done (no rate to speak of)."""
        if self.worked <= 0:
            return None
        return self.worked / max(self.elapsed, 1e-6)

    def summary(self, stopped: bool = False) -> str:
        """One line: what was done, in how long, how fast; or that there was nothing to do."""
        of_total = f" of {self.total:,}" if self.total is not None else ""
        if stopped:
            return f"{self.label}: stopped at {self.done:,}{of_total} {self.unit} after {_duration(self.elapsed)}"
        if self.rate is None:
            already = f" ({self.initial:,} {self.unit} already done)" if self.initial else ""
            return f"{self.label}: nothing to do{already}"
        line = f"{self.label}: {self.worked:,} {self.unit} in {_duration(self.elapsed)} ({self.rate:,.0f}/s)"
        if self.initial:
            line += f"; {self.done:,}{of_total} in all"
        return line


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 120:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
