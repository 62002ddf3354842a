"""Plain, frozen value objects of the assignment domain, plus their array forms for the vectorised solvers.

Nothing here does I/O. A consumer builds `TicketSpec`/`TeamSpec` from its projections, calls a strategy
(`aiff.assignment.strategies.choose(name)`) and maps each `Decision` with a team onto a
`TicketAssignedData` event (strategy, team_id, distance_km, score, breakdown, reason).

Who may take work: only teams whose status is ``available`` or ``busy`` *and* that have free capacity
(``capacity - open_tickets > 0``). ``offline`` and ``on_leave`` teams never receive tickets. (The seeds'
greedy baseline is stricter still: it only looks at ``available`` teams of the ticket's zone.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

import numpy as np

from aiff.events.vocabulary import PRIORITIES, SKILLS, SLA_HOURS
from aiff.zones import ZONES

WORKING_STATUSES = frozenset({"available", "busy"})
ZONE_INDEX: dict[str, int] = {z.name: i for i, z in enumerate(ZONES)}
PRIORITY_INDEX: dict[str, int] = {p: i for i, p in enumerate(PRIORITIES)}  # low=0 ... critical=3
SKILL_INDEX: dict[str, int] = {s: i for i, s in enumerate(SKILLS)}
TRAVEL_SPEED_KMH = 60.0  # assumed average road speed for travel-time estimates


@dataclass(frozen=True, slots=True)
class TicketSpec:
    ticket_id: int
    zone: str
    latitude: float
    longitude: float
    priority: str
    skill: str | None
    created_at: datetime
    due_date: datetime | None = None

    @property
    def effective_due(self) -> datetime:
        """The due date, or creation + SLA_HOURS[priority] when the ticket has none."""
        if self.due_date is not None:
            return self.due_date
        return self.created_at + timedelta(hours=SLA_HOURS.get(self.priority, 72))


@dataclass(frozen=True, slots=True)
class TeamSpec:
    team_id: int
    zone: str
    latitude: float
    longitude: float
    skills: frozenset[str]
    capacity: int
    open_tickets: int
    status: str
    tickets_completed: int = 0
    customer_rating: float = 0.0
    efficiency: float = 0.0  # percent, 0-100 as in the seeds

    @property
    def free_capacity(self) -> int:
        return max(0, self.capacity - self.open_tickets)

    @property
    def can_take_work(self) -> bool:
        return self.status in WORKING_STATUSES and self.free_capacity > 0


@dataclass(frozen=True, slots=True)
class Criteria:
    same_zone_only: bool = False
    max_distance_km: float | None = None  # None: the strategy's default (300 km for nearest/optimal)
    respect_skills: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    ticket_id: int
    team_id: int | None
    strategy: str
    distance_km: float | None
    score: float | None
    breakdown: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    @property
    def assigned(self) -> bool:
        return self.team_id is not None


@dataclass(frozen=True, slots=True)
class Plan:
    decisions: tuple[Decision, ...]
    strategy: str
    solve_seconds: float
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def assigned(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.team_id is not None)

    def by_ticket(self) -> dict[int, Decision]:
        return {d.ticket_id: d for d in self.decisions}


# ---------------------------------------------------------------------------------------------------------
# Array forms (struct of arrays) used by every solver; built once per call, O(n + m).


@dataclass(slots=True)
class TicketArrays:
    ids: np.ndarray  # int64
    lat: np.ndarray
    lon: np.ndarray
    zone: np.ndarray  # int, index into ZONES (-1 unknown)
    prio: np.ndarray  # int, PRIORITY_INDEX
    skill: np.ndarray  # int, SKILL_INDEX, -1 = no skill required
    remaining_h: np.ndarray  # hours from `now` to the (effective) due date; negative when overdue
    created_h: np.ndarray  # hours from `now` back to creation (>= 0 for past tickets)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: np.ndarray) -> "TicketArrays":
        return TicketArrays(*(getattr(self, f)[idx] for f in TicketArrays.__slots__))


@dataclass(slots=True)
class TeamArrays:
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    zone: np.ndarray
    skills: np.ndarray  # bool (m, len(SKILLS))
    capacity: np.ndarray  # int
    open_tickets: np.ndarray  # int (mutable: the backtest updates it in place)
    working: np.ndarray  # bool: status in {available, busy}
    available: np.ndarray  # bool: status == available (the seeds' notion)
    tickets_completed: np.ndarray
    rating: np.ndarray
    efficiency: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def free(self) -> np.ndarray:
        return np.where(self.working, np.maximum(self.capacity - self.open_tickets, 0), 0)

    def copy(self) -> "TeamArrays":
        return TeamArrays(*(getattr(self, f).copy() for f in TeamArrays.__slots__))


def ticket_arrays(tickets: Sequence[TicketSpec], now: datetime) -> TicketArrays:
    n = len(tickets)
    remaining = np.empty(n)
    created = np.empty(n)
    for k, t in enumerate(tickets):
        remaining[k] = (t.effective_due - now).total_seconds() / 3600.0
        created[k] = (now - t.created_at).total_seconds() / 3600.0
    return TicketArrays(
        ids=np.fromiter((t.ticket_id for t in tickets), dtype=np.int64, count=n),
        lat=np.fromiter((t.latitude for t in tickets), dtype=float, count=n),
        lon=np.fromiter((t.longitude for t in tickets), dtype=float, count=n),
        zone=np.fromiter((ZONE_INDEX.get(t.zone, -1) for t in tickets), dtype=np.int64, count=n),
        prio=np.fromiter((PRIORITY_INDEX.get(t.priority, 1) for t in tickets), dtype=np.int64, count=n),
        skill=np.fromiter((SKILL_INDEX.get(t.skill, -1) if t.skill else -1 for t in tickets), dtype=np.int64, count=n),
        remaining_h=remaining,
        created_h=created,
    )


def team_arrays(teams: Sequence[TeamSpec]) -> TeamArrays:
    m = len(teams)
    skills = np.zeros((m, len(SKILLS)), dtype=bool)
    for k, t in enumerate(teams):
        for s in t.skills:
            if s in SKILL_INDEX:
                skills[k, SKILL_INDEX[s]] = True
    return TeamArrays(
        ids=np.fromiter((t.team_id for t in teams), dtype=np.int64, count=m),
        lat=np.fromiter((t.latitude for t in teams), dtype=float, count=m),
        lon=np.fromiter((t.longitude for t in teams), dtype=float, count=m),
        zone=np.fromiter((ZONE_INDEX.get(t.zone, -2) for t in teams), dtype=np.int64, count=m),
        skills=skills,
        capacity=np.fromiter((t.capacity for t in teams), dtype=np.int64, count=m),
        open_tickets=np.fromiter((t.open_tickets for t in teams), dtype=np.int64, count=m),
        working=np.fromiter((t.status in WORKING_STATUSES for t in teams), dtype=bool, count=m),
        available=np.fromiter((t.status == "available" for t in teams), dtype=bool, count=m),
        tickets_completed=np.fromiter((t.tickets_completed for t in teams), dtype=float, count=m),
        rating=np.fromiter((float(t.customer_rating) for t in teams), dtype=float, count=m),
        efficiency=np.fromiter((float(t.efficiency) for t in teams), dtype=float, count=m),
    )


def skill_ok(tk: TicketArrays, tm: TeamArrays, ti: np.ndarray, tj: np.ndarray) -> np.ndarray:
    """Elementwise: team tj[k] has the skill ticket ti[k] needs (tickets without a skill fit everyone)."""
    s = tk.skill[ti]
    return (s < 0) | tm.skills[tj, np.maximum(s, 0)]


def pair_distance_km(tk: TicketArrays, tm: TeamArrays, ti: np.ndarray, tj: np.ndarray) -> np.ndarray:
    """Elementwise haversine distance (same formula as aiff.geo.haversine_km) for index pairs."""
    from aiff.geo import EARTH_RADIUS_KM

    p1, p2 = np.radians(tk.lat[ti]), np.radians(tm.lat[tj])
    dl = np.radians(tm.lon[tj] - tk.lon[ti])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere; chord length is monotone in great-circle distance (for KD-trees)."""
    p, l = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))
