"""Folding ticket and team events into the analytics consumer's facts and daily counter deltas (no I/O).

The consumer keeps its own small per-ticket facts (zone, priority, due date, times, team) instead of
reading the `tickets` projection, which may lag. Status changes are checked against the same lifecycle as
the projector, so an event the projector refuses (and dead-letters) is not counted here either; that also
makes most duplicates harmless (a second "completed" is not a valid transition).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiff.analytics.metrics import FIRST_TIME_FIX_DAYS, day_of
from aiff.events.envelope import Envelope
from aiff.events.teams import TeamCreated, TeamDeleted, TeamUpdated
from aiff.events.tickets import (
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketStatusChanged,
    TicketUnassigned,
    TicketUpdated,
)
from aiff.events.vocabulary import SLA_HOURS, transition_error
from aiff.zones import canonical_zone

Row = dict[str, Any]

FACT_COLUMNS = (
    "ticket_id", "zone", "priority", "category", "status", "created_at", "due_date", "assigned_at",
    "assigned_team", "started_at", "completed_at", "completed_team", "reopened", "updated_at",
)  # fmt: skip
TEAM_FACT_COLUMNS = ("team_id", "zone", "capacity", "is_active")


def _minutes(later: datetime | None, earlier: datetime | None) -> float:
    if later is None or earlier is None:
        return 0.0
    return max((later - earlier).total_seconds() / 60.0, 0.0)


@dataclass
class AnalyticsBatch:
    """Facts loaded for a batch, changed in memory, and the counter deltas the batch adds."""

    facts: dict[int, Row] = field(default_factory=dict)
    teams: dict[int, Row] = field(default_factory=dict)
    dirty_facts: set[int] = field(default_factory=set)
    dirty_teams: set[int] = field(default_factory=set)
    team_days: dict[tuple[int, Any], dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    zone_days: dict[tuple[str, Any], dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    touched_teams: set[int] = field(default_factory=set)
    applied: int = 0

    def _team_add(self, team_id: int | None, when: datetime, **counts: float) -> None:
        if team_id is None:
            return
        bucket = self.team_days[(team_id, day_of(when))]
        for k, v in counts.items():
            bucket[k] += v
        self.touched_teams.add(team_id)

    def _zone_add(self, zone: str | None, when: datetime, **counts: float) -> None:
        if zone is None:
            return
        bucket = self.zone_days[(zone, day_of(when))]
        for k, v in counts.items():
            bucket[k] += v

    def team_zone(self, team_id: int) -> str | None:
        row = self.teams.get(team_id)
        return row["zone"] if row else None

    def apply(self, event: Envelope) -> bool:
        """Fold one event; returns whether it changed anything."""
        handler = _HANDLERS.get(type(event))
        if handler is None:
            return False
        changed = handler(self, event)
        if changed:
            self.applied += 1
        return bool(changed)


def _created(b: AnalyticsBatch, e: TicketCreated) -> bool:
    d = e.data
    if b.facts.get(d.ticket_id) is not None:
        return False
    zone = canonical_zone(d.zone)
    if zone is None:
        return False
    b.facts[d.ticket_id] = {
        "ticket_id": d.ticket_id, "zone": zone, "priority": d.priority, "category": d.category, "status": "open",
        "created_at": e.time, "due_date": d.due_date or e.time + timedelta(hours=SLA_HOURS[d.priority]),
        "assigned_at": None, "assigned_team": None, "started_at": None, "completed_at": None,
        "completed_team": None, "reopened": 0, "updated_at": e.time,
    }  # fmt: skip
    b.dirty_facts.add(d.ticket_id)
    b._zone_add(zone, e.time, created=1)
    return True


def _fact(b: AnalyticsBatch, ticket_id: int) -> Row | None:
    return b.facts.get(ticket_id)


def _updated(b: AnalyticsBatch, e: TicketUpdated) -> bool:
    f = _fact(b, e.data.ticket_id)
    if f is None:
        return False
    d = e.data
    if d.priority is not None:
        f["priority"] = d.priority
    if d.category is not None:
        f["category"] = d.category
    if d.due_date is not None:
        f["due_date"] = d.due_date
    f["updated_at"] = e.time
    b.dirty_facts.add(f["ticket_id"])
    return True


def _assigned(b: AnalyticsBatch, e: TicketAssigned) -> bool:
    f = _fact(b, e.data.ticket_id)
    if f is None or transition_error(f["status"], "assigned") is not None:
        return False
    team = e.data.team_id
    wait = _minutes(e.time, f["created_at"])
    b._team_add(team, e.time, assigned=1, sum_assign_minutes=wait)
    b._zone_add(f["zone"], e.time, assigned=1, sum_assign_minutes=wait)
    f.update(status="assigned", assigned_team=team, assigned_at=e.time, started_at=None, updated_at=e.time)
    b.dirty_facts.add(f["ticket_id"])
    if e.data.replaces_team_id:
        b.touched_teams.add(e.data.replaces_team_id)
    return True


def _unassigned(b: AnalyticsBatch, e: TicketUnassigned) -> bool:
    f = _fact(b, e.data.ticket_id)
    if f is None or f["status"] != "assigned" or f["assigned_team"] != e.data.team_id:
        return False
    b.touched_teams.add(e.data.team_id)
    f.update(status="open", assigned_team=None, assigned_at=None, updated_at=e.time)
    b.dirty_facts.add(f["ticket_id"])
    return True


def _status(b: AnalyticsBatch, e: TicketStatusChanged) -> bool:
    d = e.data
    f = _fact(b, d.ticket_id)
    if f is None or d.status in ("assigned", "open") or transition_error(f["status"], d.status) is not None:
        return False
    team = f["assigned_team"]
    if d.status == "in_progress":
        response = _minutes(e.time, f["assigned_at"])
        b._team_add(team, e.time, started=1, sum_response_minutes=response)
        b._zone_add(f["zone"], e.time, started=1, sum_response_minutes=response)
        f["started_at"] = e.time
    elif d.status == "completed":
        met = f["due_date"] is None or e.time <= f["due_date"]
        counts = {
            "completed": 1, "sla_met": int(met), "sla_missed": int(not met),
            "sum_resolve_minutes": _minutes(e.time, f["created_at"]),
        }  # fmt: skip
        if d.customer_rating is not None:
            counts.update(rating_sum=d.customer_rating, rating_count=1)
        b._team_add(team, e.time, **counts)
        b._zone_add(f["zone"], e.time, **counts)
        f.update(completed_at=e.time, completed_team=team)
    elif d.status == "reopened":
        within = f["completed_at"] is not None and e.time - f["completed_at"] <= timedelta(days=FIRST_TIME_FIX_DAYS)
        counts = {"reopened": 1, "reopened_7d": int(within)}
        b._team_add(f["completed_team"], e.time, **counts)
        b._zone_add(f["zone"], e.time, **counts)
        f["reopened"] = (f["reopened"] or 0) + 1
        if team is not None:
            b.touched_teams.add(team)
        f.update(assigned_team=None, assigned_at=None, started_at=None, completed_at=None)
    elif d.status == "cancelled":
        b._team_add(team, e.time, cancelled=1)
        b._zone_add(f["zone"], e.time, cancelled=1)
        f["assigned_team"] = None
    f["status"] = d.status
    f["updated_at"] = e.time
    b.dirty_facts.add(f["ticket_id"])
    return True


def _deleted(b: AnalyticsBatch, e: TicketDeleted) -> bool:
    f = _fact(b, e.data.ticket_id)
    if f is None:
        return False
    if f["assigned_team"] is not None:
        b.touched_teams.add(f["assigned_team"])
    f.update(status="deleted", assigned_team=None, updated_at=e.time)
    b.dirty_facts.add(f["ticket_id"])
    return True


def _team_created(b: AnalyticsBatch, e: TeamCreated) -> bool:
    d = e.data
    b.teams[d.team_id] = {"team_id": d.team_id, "zone": canonical_zone(d.zone) or d.zone, "capacity": d.capacity, "is_active": True}
    b.dirty_teams.add(d.team_id)
    b.touched_teams.add(d.team_id)
    return True


def _team_updated(b: AnalyticsBatch, e: TeamUpdated) -> bool:
    row = b.teams.get(e.data.team_id)
    if row is None:
        return False
    if e.data.zone is not None:
        row["zone"] = canonical_zone(e.data.zone) or e.data.zone
    if e.data.capacity is not None:
        row["capacity"] = e.data.capacity
        b.touched_teams.add(e.data.team_id)
    b.dirty_teams.add(e.data.team_id)
    return True


def _team_deleted(b: AnalyticsBatch, e: TeamDeleted) -> bool:
    row = b.teams.get(e.data.team_id)
    if row is None:
        return False
    row["is_active"] = False
    b.dirty_teams.add(e.data.team_id)
    return True


_HANDLERS: dict[type, Any] = {
    TicketCreated: _created,
    TicketUpdated: _updated,
    TicketAssigned: _assigned,
    TicketUnassigned: _unassigned,
    TicketStatusChanged: _status,
    TicketDeleted: _deleted,
    TeamCreated: _team_created,
    TeamUpdated: _team_updated,
    TeamDeleted: _team_deleted,
}
