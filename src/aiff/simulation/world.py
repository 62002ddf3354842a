"""The simulated world: the clock (Malaysia time, Mon-Sat shifts), the teams from the demo generator, and a
travel lookup over every place the simulation can visit (one matrix, priced by the planner's travel model).

Times are integer seconds from the simulation epoch, a Monday 00:00 MYT, so every strategy sees exactly
the same numbers as the planner core (which gets datetimes via `at`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

import numpy as np

from aiff.planning.travel import HaversineTravel, Point, TravelModel

MYT = timezone(timedelta(hours=8))
EPOCH = datetime(2025, 3, 3, tzinfo=MYT)  # a Monday
HOUR, MIN, DAY = 3600, 60, 86400
SHIFT_START, SHIFT_END = 8 * HOUR, 17 * HOUR
LUNCH_EARLIEST, LUNCH_LATEST, LUNCH = 12 * HOUR, 14 * HOUR, 45 * MIN
MAX_OVERTIME = HOUR


def at(t: float) -> datetime:
    """Simulation seconds -> an aware datetime (MYT)."""
    return EPOCH + timedelta(seconds=float(t))


def working_days(n: int) -> list[int]:
    """The first `n` working days (Mon-Sat) from the epoch, as day indices (Sunday = 6 is skipped)."""
    return [d for d in range(n + n // 6 + 1) if d % 7 != 6][:n]


@dataclass
class SimTeam:
    """A crew: static facts from the demo generator plus the state the engine moves along."""

    id: int
    zone: str
    base: int  # location index
    skills: frozenset[str]
    capacity: int
    pos: int = 0
    busy: bool = False  # driving, serving or at lunch
    job: str | None = None  # ticket in progress (driving to it or serving it)
    job_end_planned: int = 0  # when the current job should end (median service): what planners may know
    lunch_day: int = -1  # day index of the last lunch taken
    home_day: int = -1  # day index on which it went home
    ill_at: int | None = None
    epoch: int = 0  # bumps on every state change; stale wake-ups are ignored
    completed: int = 0
    queue: list[str] = field(default_factory=list)

    def on_shift(self, t: int) -> bool:
        d, s = divmod(t, DAY)
        return self.ill_at is None and d % 7 != 6 and SHIFT_START <= s and self.home_day != d


def demo_teams(seed: int, n: int) -> list[tuple[int, str, float, float, frozenset[str], int]]:
    """(id, zone, lat, lon, skills, capacity) of `n` teams from the demo generator (bases, skills, zones)."""
    from aiff.demo.generator import generate

    data = generate(seed=seed, teams=n, tickets=0, days=1)
    out = []
    for ev in data.team_events:
        d = ev.data
        out.append((int(d.team_id), d.zone, float(d.latitude), float(d.longitude), frozenset(d.skills), int(d.capacity)))
    return out


class Lookup:
    """One duration/distance matrix over a fixed list of points; also a `TravelModel` for the planner.

    The planner asks for matrices over Points; every point the simulation hands it is one of ours, so the
    answer is a slice of the one matrix, priced once by `model` (default: `HaversineTravel`).
    """

    def __init__(self, points: Sequence[Point], model: TravelModel | None = None) -> None:
        self.points = list(points)
        self.index = {p: i for i, p in enumerate(self.points)}
        self.seconds, self.metres = (model or HaversineTravel()).matrices(self.points)

    def matrices(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.array([self.index[p] for p in points], dtype=np.int64)
        return self.seconds[np.ix_(idx, idx)], self.metres[np.ix_(idx, idx)]

    def drive(self, a: int, b: int) -> tuple[int, int]:
        return int(self.seconds[a, b]), int(self.metres[a, b])


def pick_ill(seed: int, team_ids: Sequence[int], days: list[int]) -> tuple[int, int]:
    """(team id, time) of the illness: a seeded team falls ill at 11:00 on the second working day."""
    rng = random.Random(f"aiff-sim:{seed}:ill")
    day = days[min(1, len(days) - 1)]
    return rng.choice(sorted(team_ids)), day * DAY + 11 * HOUR
