"""When the engine decides: which events of a batch ask for a (re)plan. Pure, so it is tested without Kafka.

Only live events trigger decisions: replaying or seeding history rebuilds state but must not re-decide the
past. An event is live when its time is within `live_window` of now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiff.events.envelope import Envelope
from aiff.events.plans import TeamPositionReported
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import TeamCreated, TeamStatusChanged, TeamUpdated, ZoneConfigured
from aiff.events.tickets import (
    TicketAssigned, TicketCreated, TicketMoved, TicketPinned, TicketStatusChanged, TicketUnassigned, TicketUnpinned,
    TicketUpdated,
)

UNAVAILABLE = frozenset({"offline", "on_leave"})


@dataclass
class Triggers:
    """What a batch asks of the engine."""

    replan: bool = False
    requests: list[AutoAssignRequested] = field(default_factory=list)
    unavailable_teams: set[int] = field(default_factory=set)
    causes: list[Envelope] = field(default_factory=list)
    tickets: set[int] = field(default_factory=set)  # routes: tickets whose zone's day to re-plan
    teams: set[int] = field(default_factory=set)  # routes: teams whose zone's day to re-plan
    zones: set[str] = field(default_factory=set)  # routes: zones to re-plan (zone configured)

    @property
    def any(self) -> bool:
        return self.replan or bool(self.requests) or bool(self.unavailable_teams)


def collect(events: list[Envelope], now: datetime, live_window: timedelta, routes: bool = False) -> Triggers:
    """Fold a batch's events into the decisions they call for. With `routes` (the day planner), every change
    to a visit or a team re-plans: an update, a visit started or finished, a dispatcher's pin, move or manual
    assignment, a team's position; never the engine's own decisions (that would loop)."""
    found = Triggers()
    for event in events:
        if isinstance(event, AutoAssignRequested):
            found.requests.append(event)
            continue
        if event.time < now - live_window:
            continue
        data = event.data
        if hasattr(data, "ticket_id"):
            found.tickets.add(data.ticket_id)
        if hasattr(data, "team_id") and isinstance(data.team_id, int):
            found.teams.add(data.team_id)
        if routes and _route_trigger(event):
            found.replan = True
            found.causes.append(event)
            continue
        if isinstance(event, TicketCreated):
            found.replan = True
        elif isinstance(event, TicketStatusChanged) and event.data.status in ("completed", "cancelled", "reopened"):
            found.replan = True
        elif isinstance(event, TeamStatusChanged):
            if event.data.status in UNAVAILABLE:
                found.unavailable_teams.add(event.data.team_id)
            found.replan = True
        elif isinstance(event, (TeamCreated, TeamUpdated)):
            found.replan = True
        elif isinstance(event, ZoneConfigured) and event.data.assignment_mode == "auto":
            found.replan = True
            found.zones.add(event.data.zone)
        else:
            continue
        found.causes.append(event)
    return found


def _route_trigger(event: Envelope) -> bool:
    if isinstance(event, (TicketUpdated, TicketPinned, TicketMoved, TicketUnpinned, TeamPositionReported)):
        return True
    if isinstance(event, TicketStatusChanged):
        return True  # started, finished, cancelled or reopened: earlier or later than planned
    if isinstance(event, (TicketAssigned, TicketUnassigned)):
        by = event.data.assigned_by if isinstance(event, TicketAssigned) else event.data.unassigned_by
        return by != "engine"
    return False
