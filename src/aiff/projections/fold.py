"""Folding events into read-model rows in memory: the projector's rules, free of I/O.

A batch's touched rows are loaded once, every accepted event changes them here, and the writer stores the
final rows in one set-based statement per table. An event the rules refuse is returned with its reason
(it goes to the dead-letter topic); the rows stay as they were.

Stale, not bad: a dead letter means bad input, but AIFF's own components decide on the read models and the world
moves on meanwhile (the engine assigns a ticket a dispatcher has just cancelled, two cancels race). Such an event is
refused with `StaleDecision` (recorded in the ticket's history as refused, counted, never dead-lettered) when all of:
- it is well-formed (it decoded) and its ticket, and the team it names, exist;
- its source is one of AIFF's own (`urn:aiff:...`, `ids.own_source`);
- the rule that refuses it is a state precondition the ticket has moved past: a lifecycle transition from its
  current status (assigned, status changed), a release by a team it is no longer assigned to, a pin or move of a
  visit that has ended or started.
Anything else keeps its error: unknown entities, ids, numbers, zones, windows, shifts, and every rule an upstream
source breaks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiff.ids import reserved_for_api
from aiff.errors import PermanentError, RuleViolation, UnknownEntity
from aiff.events.envelope import Envelope
from aiff.events.plans import PlanUpdated, TeamPositionReported
from aiff.events.shifts import DEFAULT_SHIFT, SHIFT_FIELDS, shift_error
from aiff.events.teams import (
    TeamCreated,
    TeamDeleted,
    TeamMetricsUpdated,
    TeamStatusChanged,
    TeamUpdated,
    ZoneConfigured,
)
from aiff.events.tickets import (
    AssignmentDeferred,
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketEnriched,
    TicketMoved,
    TicketPinned,
    TicketSlaAtRisk,
    TicketSlaBreached,
    TicketStatusChanged,
    TicketUnassigned,
    TicketUnpinned,
    TicketUpdated,
)
from aiff.projections import fold_routes as routes
from aiff.events.vocabulary import ACTIVE_STATUSES, SLA_HOURS, transition_error
from aiff.zones import canonical_zone

Row = dict[str, Any]


SHORT_NUMBER_IDS = 10**11
"""Ids below this get TKT-<year>-<id>; larger ones (up to 2^53-1) TKT-<id>, so a number always fits varchar(20)."""


def ticket_number_for(ticket_id: int, created: datetime) -> str:
    """The readable number given to a ticket whose publisher sent none."""
    if ticket_id < SHORT_NUMBER_IDS:
        return f"TKT-{created.year}-{ticket_id:06d}"
    return f"TKT-{ticket_id}"


@dataclass
class BatchState:
    """Rows touched by one batch, as loaded from Postgres and then changed by the fold."""

    tickets: dict[int, Row | None] = field(default_factory=dict)
    """Ticket rows by id; None marks a ticket deleted in this batch."""
    active: dict[int, Row] = field(default_factory=dict)
    """The active assignment of each loaded ticket (status assigned or in_progress)."""
    taken_numbers: set[str] = field(default_factory=set)
    """Ticket numbers that exist already (for tickets created in this batch)."""
    teams: dict[int, Row] = field(default_factory=dict)
    zone_modes: dict[str, str] = field(default_factory=dict)
    dirty_tickets: set[int] = field(default_factory=set)
    deleted_tickets: set[int] = field(default_factory=set)
    dirty_teams: set[int] = field(default_factory=set)
    new_assignments: list[Row] = field(default_factory=list)
    """Assignment rows created in this batch, in order (some may end within the batch)."""
    ended_assignments: dict[uuid.UUID, Row] = field(default_factory=dict)
    """Assignments that existed before the batch and changed status, by event id."""
    positions: dict[int, Row] = field(default_factory=dict)
    """Latest position of each loaded team."""
    dirty_positions: set[int] = field(default_factory=set)
    plans: dict[tuple[int, Any], Row] = field(default_factory=dict)
    """Plan rows by (team id, plan date), as loaded and then replaced."""
    plan_visits: dict[tuple[int, Any], list[Row]] = field(default_factory=dict)
    """The visits of the plans replaced in this batch (all of a team-day's visits)."""
    dirty_plans: set[tuple[int, Any]] = field(default_factory=set)


def apply(state: BatchState, event: Envelope) -> None:
    """Apply one event to the batch's rows.

    Raises:
        PermanentError: the event refers to something unknown or breaks a rule; nothing changed.
    """
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(state, event)


def _ticket(state: BatchState, ticket_id: int) -> Row:
    row = state.tickets.get(ticket_id)
    if row is None:
        raise UnknownEntity(f"unknown ticket {ticket_id}")
    return row


def _touch(state: BatchState, row: Row, event: Envelope) -> None:
    row["updated_at"] = event.time
    row["version"] += 1
    state.dirty_tickets.add(row["id"])


def _created(state: BatchState, event: TicketCreated) -> None:
    d = event.data
    if (reserved := reserved_for_api("ticket", d.ticket_id, event.source)) is not None:
        raise RuleViolation(reserved)
    if state.tickets.get(d.ticket_id) is not None:
        raise RuleViolation(f"ticket {d.ticket_id} already exists")
    zone = canonical_zone(d.zone)
    if zone is None:
        raise UnknownEntity(f"unknown zone {d.zone!r}")
    number = d.ticket_number or ticket_number_for(d.ticket_id, event.time)
    if number in state.taken_numbers:
        raise RuleViolation(f"ticket number {number} is already taken")
    state.taken_numbers.add(number)
    state.tickets[d.ticket_id] = {
        "id": d.ticket_id,
        "ticket_number": number,
        "title": d.title,
        "description": d.description,
        "priority": d.priority,
        "status": "open",
        "category": d.category,
        "assigned_team": None,
        "assigned_to": None,
        "zone": zone,
        "location": d.location,
        "latitude": d.latitude,
        "longitude": d.longitude,
        "customer_name": d.customer_name,
        "created_by": d.created_by,
        "customer_rating": None,
        "resolution_notes": None,
        "version": 1,
        "created_at": event.time,
        "updated_at": event.time,
        "assigned_at": None,
        "started_at": None,
        "due_date": d.due_date or event.time + timedelta(hours=SLA_HOURS[d.priority]),
        "completed_at": None,
        "window_start": d.window_start,
        "window_end": d.window_end,
        "service_minutes": d.service_minutes,
        "pinned": False,
        "pinned_team": None,
        "pinned_sequence": None,
        "pinned_date": None,
    }
    state.deleted_tickets.discard(d.ticket_id)
    state.dirty_tickets.add(d.ticket_id)


def _updated(state: BatchState, event: TicketUpdated) -> None:
    row = _ticket(state, event.data.ticket_id)
    changes = event.data.model_dump(exclude_none=True, exclude={"ticket_id", "updated_by"})
    routes.check_window({**row, **changes})
    row.update(changes)
    _touch(state, row, event)


def _end_active(state: BatchState, ticket_id: int, status: str, at: datetime) -> None:
    current = state.active.pop(ticket_id, None)
    if current is None:
        return
    current["status"] = status
    current["ended_at"] = at
    if not current.get("_new"):
        state.ended_assignments[current["event_id"]] = current


def _assigned(state: BatchState, event: TicketAssigned) -> None:
    d = event.data
    row = _ticket(state, d.ticket_id)
    _team(state, d.team_id)  # only existence: teams are never removed, so the check does not depend on batch order
    if (error := transition_error(row["status"], "assigned")) is not None:
        raise routes.overtaken(event, error)
    _end_active(state, d.ticket_id, "reassigned", event.time)
    assignment = {
        "_new": True,
        "event_id": event.id,
        "ticket_id": d.ticket_id,
        "team_id": d.team_id,
        "assigned_at": event.time,
        "status": "assigned",
        "notes": d.reason,
        "strategy": d.strategy,
        "assigned_by": d.assigned_by,
        "distance_km": d.distance_km,
        "score": d.score,
        "breakdown": d.breakdown,
        "frozen": d.frozen,
        "ended_at": None,
        "planned_start": d.planned_start,
        "eta": d.eta,
        "sequence": d.sequence,
        "plan_date": d.plan_date,
    }
    state.active[d.ticket_id] = assignment
    state.new_assignments.append(assignment)
    row.update(status="assigned", assigned_team=d.team_id, assigned_to=d.assigned_to, assigned_at=event.time)
    row["started_at"] = None
    routes.pin_on_assignment(row, d.frozen, d.team_id, d.sequence, d.plan_date)
    _touch(state, row, event)


def _unassigned(state: BatchState, event: TicketUnassigned) -> None:
    d = event.data
    row = _ticket(state, d.ticket_id)
    if row["status"] != "assigned" or row["assigned_team"] != d.team_id:
        reason = (
            f"ticket {d.ticket_id} is {row['status']} with team {row['assigned_team']}; "
            f"only an assigned, unstarted ticket can be released by its team"
        )
        raise routes.overtaken(event, reason) if d.team_id in state.teams else RuleViolation(reason)
    _end_active(state, d.ticket_id, "unassigned", event.time)
    row.update(status="open", assigned_team=None, assigned_to=None, assigned_at=None)
    routes.release_pin(row)
    _touch(state, row, event)


def _status_changed(state: BatchState, event: TicketStatusChanged) -> None:
    d = event.data
    row = _ticket(state, d.ticket_id)
    if d.status == "assigned" or d.status == "open":
        raise RuleViolation(f"status {d.status!r} is reached by assignment events, not by a status change")
    if (error := transition_error(row["status"], d.status)) is not None:
        raise routes.overtaken(event, error)
    row["status"] = d.status
    if d.notes:
        row["resolution_notes"] = d.notes
    active = state.active.get(d.ticket_id)
    if d.status == "in_progress":
        row["started_at"] = event.time
        if active is not None:
            active["status"] = "in_progress"
            if not active.get("_new"):
                state.ended_assignments[active["event_id"]] = active
    elif d.status == "completed":
        row["completed_at"] = event.time
        if d.customer_rating is not None:
            row["customer_rating"] = d.customer_rating
        _end_active(state, d.ticket_id, "completed", event.time)
        routes.release_pin(row)
    elif d.status == "cancelled":
        _end_active(state, d.ticket_id, "cancelled", event.time)
        row.update(assigned_team=None, assigned_to=None)
        routes.release_pin(row)
    elif d.status == "reopened":
        row.update(assigned_team=None, assigned_to=None, assigned_at=None, started_at=None, completed_at=None)
        row["customer_rating"] = None
    _touch(state, row, event)


def _deleted(state: BatchState, event: TicketDeleted) -> None:
    ticket_id = event.data.ticket_id
    _ticket(state, ticket_id)
    _end_active(state, ticket_id, "cancelled", event.time)
    state.tickets[ticket_id] = None
    state.dirty_tickets.discard(ticket_id)
    state.deleted_tickets.add(ticket_id)


def _noted(state: BatchState, event: Envelope) -> None:
    """Events recorded in the ticket's history only (enrichment, deferrals, SLA clocks); the ticket must exist."""
    _ticket(state, event.data.ticket_id)


def _pinned(state: BatchState, event: TicketPinned) -> None:
    row = _ticket(state, event.data.ticket_id)
    routes.ticket_pinned(state, event, row)
    _touch(state, row, event)


def _moved(state: BatchState, event: TicketMoved) -> None:
    row = _ticket(state, event.data.ticket_id)
    routes.ticket_moved(state, event, row)
    _touch(state, row, event)


def _unpinned(state: BatchState, event: TicketUnpinned) -> None:
    row = _ticket(state, event.data.ticket_id)
    routes.ticket_unpinned(state, event, row)
    _touch(state, row, event)


def _team(state: BatchState, team_id: int) -> Row:
    row = state.teams.get(team_id)
    if row is None:
        raise UnknownEntity(f"unknown team {team_id}")
    return row


def _touch_team(state: BatchState, row: Row, event: Envelope) -> None:
    row["updated_at"] = event.time
    row["version"] += 1
    state.dirty_teams.add(row["id"])


def _team_created(state: BatchState, event: TeamCreated) -> None:
    d = event.data
    if (reserved := reserved_for_api("team", d.team_id, event.source)) is not None:
        raise RuleViolation(reserved)
    if d.team_id in state.teams:
        raise RuleViolation(f"team {d.team_id} already exists")
    zone = canonical_zone(d.zone)
    if zone is None:
        raise UnknownEntity(f"unknown zone {d.zone!r}")
    state.teams[d.team_id] = {
        "id": d.team_id,
        "name": d.name,
        "zone": zone,
        "description": d.description,
        "is_active": True,
        "tickets_completed": 0,
        "customer_rating": 0,
        "response_time": 0,
        "completion_rate": 0,
        "efficiency": 0,
        "status": d.status,
        "base_town": d.base_town,
        "latitude": d.latitude,
        "longitude": d.longitude,
        "skills": list(d.skills),
        "capacity": d.capacity,
        "members": list(d.members),
        "version": 1,
        "created_at": event.time,
        "updated_at": event.time,
        **{k: list(v) if isinstance(v, list) else v for k, v in DEFAULT_SHIFT.items()},
        **d.shift_given(),
    }
    state.dirty_teams.add(d.team_id)


def _team_updated(state: BatchState, event: TeamUpdated) -> None:
    row = _team(state, event.data.team_id)
    changes = event.data.model_dump(exclude_none=True, exclude={"team_id"})
    if "zone" in changes:
        zone = canonical_zone(changes["zone"])
        if zone is None:
            raise UnknownEntity(f"unknown zone {changes['zone']!r}")
        changes["zone"] = zone
    if changes.keys() & set(SHIFT_FIELDS):
        shift = {k: changes.get(k, row.get(k, DEFAULT_SHIFT[k])) for k in SHIFT_FIELDS}
        if (error := shift_error(shift)) is not None:
            raise RuleViolation(f"team {row['id']}: {error}")
    row.update(changes)
    _touch_team(state, row, event)


def _team_deleted(state: BatchState, event: TeamDeleted) -> None:
    row = _team(state, event.data.team_id)
    row.update(is_active=False, status="offline")
    _touch_team(state, row, event)


def _team_status(state: BatchState, event: TeamStatusChanged) -> None:
    row = _team(state, event.data.team_id)
    row["status"] = event.data.status
    _touch_team(state, row, event)


def _team_metrics(state: BatchState, event: TeamMetricsUpdated) -> None:
    row = _team(state, event.data.team_id)
    row.update(event.data.model_dump(exclude={"team_id", "open_tickets"}))
    _touch_team(state, row, event)


def _zone_configured(state: BatchState, event: ZoneConfigured) -> None:
    zone = canonical_zone(event.data.zone)
    if zone is None:
        raise UnknownEntity(f"unknown zone {event.data.zone!r}")
    state.zone_modes[zone] = event.data.assignment_mode


_HANDLERS: dict[type, Any] = {
    TicketCreated: _created,
    TicketUpdated: _updated,
    TicketAssigned: _assigned,
    TicketUnassigned: _unassigned,
    TicketStatusChanged: _status_changed,
    TicketDeleted: _deleted,
    TicketEnriched: _noted,
    AssignmentDeferred: _noted,
    TicketSlaAtRisk: _noted,
    TicketSlaBreached: _noted,
    TeamCreated: _team_created,
    TeamUpdated: _team_updated,
    TeamDeleted: _team_deleted,
    TeamStatusChanged: _team_status,
    TeamMetricsUpdated: _team_metrics,
    ZoneConfigured: _zone_configured,
    TicketPinned: _pinned,
    TicketMoved: _moved,
    TicketUnpinned: _unpinned,
    TeamPositionReported: routes.position_reported,
    PlanUpdated: routes.plan_updated,
}

__all__ = ["ACTIVE_STATUSES", "BatchState", "PermanentError", "apply", "ticket_number_for"]
