"""Progress lines for long operator commands (one line per step, rates included)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Prints `label: done/total (rate/s)` at most every `every` seconds, and once at the end."""

    def __init__(self, label: str, total: int | None = None, unit: str = "events", every: float = 1.0) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.done = 0
        self.started = self._last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._print()

    def finish(self) -> float:
        self._print(final=True)
        return time.monotonic() - self.started

    def _print(self, final: bool = False) -> None:
        elapsed = max(1e-9, time.monotonic() - self.started)
        total = f"/{self.total:,}" if self.total else ""
        tail = f" in {elapsed:.1f}s" if final else ""
        print(f"{self.label}: {self.done:,}{total} {self.unit} ({self.done / elapsed:,.0f}/s){tail}", file=sys.stderr, flush=True)
