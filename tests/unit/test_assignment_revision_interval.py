"""The engine revises current assignments at most once per interval (a storm of windows costs one revision)."""

from __future__ import annotations

from aiff.consumers.assignment import AssignmentEngine
from aiff.settings import Settings


def _engine(interval_s: float) -> AssignmentEngine:
    settings = Settings(AIFF_ASSIGNMENT_REVISE_INTERVAL_S=interval_s)
    return AssignmentEngine(settings, publisher=None)  # type: ignore[arg-type]  # revision_due never publishes


def test_the_first_window_revises_and_the_next_ones_within_the_interval_do_not() -> None:
    engine = _engine(5.0)
    assert engine.revision_due(100.0)
    assert not engine.revision_due(100.2)
    assert not engine.revision_due(104.9)
    assert engine.revision_due(105.0)
    assert not engine.revision_due(105.2)


def test_interval_zero_revises_every_window() -> None:
    engine = _engine(0.0)
    assert all(engine.revision_due(100.0 + 0.2 * i) for i in range(5))
