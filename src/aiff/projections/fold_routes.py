"""Folding the route facts: team positions, planned days, pins and visit details. Free of I/O like `fold`.

- A position replaces the team's latest one unless it was measured earlier than the stored one.
- A plan replaces its team-day (row and visits) unless its revision is older than the stored one (then it is
  recorded in the history and changes nothing), so a late or replayed revision never rolls a day back.
- A move pins the ticket onto a team at a position (a visit not yet started only).
- A pin freezes the ticket (onto a team, position and day when given); an unpin releases it. A frozen manual
  assignment is a pin on its team; the pin ends with the visit (unassigned, completed, cancelled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiff.errors import RuleViolation, StaleDecision, UnknownEntity
from aiff.events.envelope import Envelope
from aiff.events.plans import PlanUpdated, TeamPositionReported
from aiff.events.tickets import TicketMoved, TicketPinned, TicketUnpinned
from aiff.ids import own_source

if TYPE_CHECKING:
    from aiff.projections.fold import BatchState

Row = dict[str, Any]
TERMINAL = frozenset({"completed", "closed", "cancelled"})
VISIT_DETAILS = ("window_start", "window_end", "service_minutes")


def overtaken(event: Envelope, reason: str) -> RuleViolation:
    """The refusal of a state precondition (see `fold`): stale when one of AIFF's own components decided on a state
    the ticket has since left, a rule violation (dead letter) when an upstream system broke the rule."""
    return StaleDecision(reason) if own_source(event.source) else RuleViolation(reason)


def _known_team(state: BatchState, team_id: int) -> Row:
    row = state.teams.get(team_id)
    if row is None:
        raise UnknownEntity(f"unknown team {team_id}")
    return row


def position_reported(state: BatchState, event: TeamPositionReported) -> None:
    d = event.data
    _known_team(state, d.team_id)
    current = state.positions.get(d.team_id)
    if current is not None and current["reported_at"] > d.reported_at:
        return  # a report that arrived late: the stored position is newer
    state.positions[d.team_id] = {
        "team_id": d.team_id, "latitude": d.latitude, "longitude": d.longitude, "reported_at": d.reported_at,
        "accuracy_m": d.accuracy_m, "source": d.source, "event_id": event.id,
    }  # fmt: skip
    state.dirty_positions.add(d.team_id)


def plan_updated(state: BatchState, event: PlanUpdated) -> None:
    d = event.data
    _known_team(state, d.team_id)
    key = (d.team_id, d.plan_date)
    current = state.plans.get(key)
    if current is not None and current["revision"] > d.revision:
        return  # an older revision than the applied one: ignored
    state.plans[key] = {
        "team_id": d.team_id, "plan_date": d.plan_date, "revision": d.revision, "strategy": d.strategy,
        "drive_minutes": d.totals.drive_minutes, "drive_km": d.totals.drive_km,
        "overtime_minutes": d.totals.overtime_minutes, "break_start": d.break_start, "break_end": d.break_end,
        "unserved": [u.model_dump(exclude_none=True) for u in d.unserved], "reason": d.reason,
        "updated_at": event.time, "event_id": event.id,
    }  # fmt: skip
    state.plan_visits[key] = [
        {"team_id": d.team_id, "plan_date": d.plan_date, **v.model_dump()} for v in sorted(d.visits, key=lambda v: v.sequence)
    ]
    state.dirty_plans.add(key)


def ticket_pinned(state: BatchState, event: TicketPinned, ticket: Row) -> None:
    d = event.data
    team_id = d.team_id if d.team_id is not None else ticket["assigned_team"]
    if team_id is not None:
        _known_team(state, team_id)
    if ticket["status"] in TERMINAL:
        raise overtaken(event, f"ticket {d.ticket_id} is {ticket['status']}: there is no visit left to pin")
    ticket.update(pinned=True, pinned_team=team_id, pinned_sequence=d.sequence, pinned_date=d.plan_date)


def ticket_moved(state: BatchState, event: TicketMoved, ticket: Row) -> None:
    """A move is a pin onto that team and position; the planner places the visit there at its next re-plan."""
    d = event.data
    _known_team(state, d.team_id)
    if ticket["status"] in TERMINAL or ticket["status"] == "in_progress":
        raise overtaken(event, f"ticket {d.ticket_id} is {ticket['status']}: only a visit not yet started can move")
    ticket.update(pinned=True, pinned_team=d.team_id, pinned_sequence=d.sequence, pinned_date=d.plan_date)


def ticket_unpinned(state: BatchState, event: TicketUnpinned, ticket: Row) -> None:
    release_pin(ticket)


def release_pin(ticket: Row) -> None:
    ticket.update(pinned=False, pinned_team=None, pinned_sequence=None, pinned_date=None)


def pin_on_assignment(ticket: Row, frozen: bool, team_id: int, sequence: int | None, plan_date: Any) -> None:
    """A dispatcher's (frozen) assignment pins the ticket to that team; an engine assignment elsewhere keeps no
    stale pin to another team."""
    if frozen:
        ticket.update(pinned=True, pinned_team=team_id, pinned_sequence=sequence, pinned_date=plan_date)
    elif ticket.get("pinned_team") not in (None, team_id):
        release_pin(ticket)


def check_window(ticket: Row) -> None:
    """The stored window after an update must still open before it closes."""
    start, end = ticket.get("window_start"), ticket.get("window_end")
    if start is not None and end is not None and end <= start:
        raise RuleViolation(f"window_end {end.isoformat()} must be after window_start {start.isoformat()}")
