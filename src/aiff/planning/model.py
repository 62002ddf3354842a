"""What the planner takes (teams, visits) and what it gives back (a plan per team, unserved visits with reasons).

Plain dataclasses with tz-aware datetimes, independent of Kafka and Postgres, so any caller can build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiff.planning.travel import Point


@dataclass(frozen=True)
class LunchBreak:
    """A flexible break: `duration` taken wherever the team is, starting and ending inside [earliest, latest]."""

    earliest: datetime
    latest: datetime
    duration: timedelta = timedelta(minutes=45)


@dataclass(frozen=True)
class Team:
    """One crew's working day: where it starts and ends, its shift, its break, how much overtime it may do."""

    id: str
    skills: frozenset[str]
    shift_start: datetime
    shift_end: datetime
    start: Point
    end: Point
    lunch: LunchBreak | None = None
    max_overtime: timedelta = timedelta(0)
    # The team's shifts on the following working days of the planning horizon, (start, end) each, from and to
    # `end` (its base). Empty = plan today only. See aiff.planning.horizon.with_horizon.
    later_shifts: tuple[tuple[datetime, datetime], ...] = ()
    # How many visits the team may hold on a day's route (its frozen head included); None = no limit. The
    # solver treats it as a vehicle capacity, so work past it goes to other teams rather than being cut after.
    capacity: int | None = None


@dataclass(frozen=True)
class Visit:
    """A ticket to serve on site.

    `window` bounds the *start* of service (the customer is home then); `due` is the SLA time by which the
    work should be *finished* - soft, its lateness is priced by priority. `pinned_team` keeps the visit on
    that team; `pinned_sequence` (0, 1, ... per team) freezes it at the head of that team's route, in order.
    """

    ticket_id: str
    position: Point
    skill: str
    service: timedelta
    priority: str = "medium"
    window: tuple[datetime, datetime] | None = None
    due: datetime | None = None
    pinned_team: str | None = None
    pinned_sequence: int | None = None


@dataclass(frozen=True)
class PlannedVisit:
    """One stop of a team's route: when the team arrives (ETA), starts and finishes, and the leg that led there."""

    ticket_id: str
    team_id: str
    sequence: int
    eta: datetime
    planned_start: datetime
    planned_end: datetime
    travel_minutes: float
    travel_km: float
    on_time: bool | None  # None when the visit has no due time
    frozen: bool = False
    day: int = 0  # 0 = today's shift, 1 = the team's first later shift, ... (see Team.later_shifts)


@dataclass(frozen=True)
class PlannedBreak:
    start: datetime
    end: datetime
    after_sequence: int  # the break follows the visit with this sequence; -1 = before the first visit
    position: Point  # where it is taken: where the team is, unless the solver moved it (then it drives there)


@dataclass(frozen=True)
class TeamPlan:
    team_id: str
    visits: tuple[PlannedVisit, ...]
    lunch: PlannedBreak | None
    depart: datetime
    arrive_end: datetime
    travel_minutes: float
    travel_km: float
    overtime_minutes: float
    day: int = 0


# Why a visit is left out, most fundamental first.
NO_TEAM_WITH_SKILL = "no_team_with_skill"
OUTSIDE_TIME_WINDOW = "outside_time_window"
NO_SHIFT_TIME = "no_shift_time"
PINNED_TEAM_CANNOT_FIT = "pinned_team_cannot_fit"
OUTRANKED = "outranked"
TEAM_AT_CAPACITY = "team_at_capacity"


@dataclass(frozen=True)
class Unserved:
    ticket_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Plan:
    teams: dict[str, TeamPlan]
    unserved: tuple[Unserved, ...]
    cost: int  # the solver's objective, in drive-second units (see aiff.planning.costs)
    solve_seconds: float
    feasible: bool = True
    stats: dict[str, float] = field(default_factory=dict)
    # The following working days of the horizon: team id -> its plan per later shift (day 1, 2, ...).
    # Empty when no team has later shifts. `teams` is always today's plan.
    later: dict[str, tuple[TeamPlan, ...]] = field(default_factory=dict)

    def all_team_plans(self) -> list[TeamPlan]:
        """Today's plans, then every later day's."""
        return list(self.teams.values()) + [tp for tps in self.later.values() for tp in tps]

    def visit(self, ticket_id: str) -> PlannedVisit | None:
        """The planned visit of a ticket on any day of the horizon (its `day` says which), or None when unserved."""
        for tp in self.all_team_plans():
            for v in tp.visits:
                if v.ticket_id == ticket_id:
                    return v
        return None

    def team_of(self, ticket_id: str) -> str | None:
        """The team that serves the ticket (on any day of the horizon), or None when unserved."""
        v = self.visit(ticket_id)
        return None if v is None else v.team_id
