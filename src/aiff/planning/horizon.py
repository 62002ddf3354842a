"""The multi-day planning horizon: a team's shifts on the next working days, so a visit that does not fit
today gets a planned day and its SLA outcome is known in advance (issue 13, item 4).

Later days repeat today's shift hours (wall clock, same time zone) on the next working days; a caller with a
real roster sets `Team.later_shifts` itself instead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from aiff.planning.model import Team

DEFAULT_HORIZON_DAYS = 3  # today + the next two working days
WORKDAYS = frozenset(range(6))  # Monday-Saturday (datetime.weekday())


def next_shifts(team: Team, days: int, workdays: frozenset[int] = WORKDAYS) -> tuple[tuple, ...]:
    """The team's shift on each of the next `days - 1` working days after its current shift."""
    out = []
    d = 1
    while len(out) < days - 1:
        start = team.shift_start + timedelta(days=d)
        if start.weekday() in workdays:
            out.append((start, team.shift_end + timedelta(days=d)))
        d += 1
    return tuple(out)


def with_horizon(teams: list[Team], days: int = DEFAULT_HORIZON_DAYS, workdays: frozenset[int] = WORKDAYS) -> list[Team]:
    """Teams with `later_shifts` filled in for a horizon of `days` working days (teams that have them keep theirs)."""
    return [t if t.later_shifts or days <= 1 else replace(t, later_shifts=next_shifts(t, days, workdays)) for t in teams]
