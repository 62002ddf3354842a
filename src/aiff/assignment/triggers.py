"""When the engine decides: which events of a batch ask for a (re)plan. Pure, so it is tested without Kafka.

Only live events trigger decisions: replaying or seeding history rebuilds state but must not re-decide the
past. An event is live when its time is within `live_window` of now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiff.events.envelope import Envelope
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import TeamCreated, TeamStatusChanged, TeamUpdated, ZoneConfigured
from aiff.events.tickets import TicketCreated, TicketStatusChanged

UNAVAILABLE = frozenset({"offline", "on_leave"})


@dataclass
class Triggers:
    """What a batch asks of the engine."""

    replan: bool = False
    requests: list[AutoAssignRequested] = field(default_factory=list)
    unavailable_teams: set[int] = field(default_factory=set)
    causes: list[Envelope] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.replan or bool(self.requests) or bool(self.unavailable_teams)


def collect(events: list[Envelope], now: datetime, live_window: timedelta) -> Triggers:
    """Fold a batch's events into the decisions they call for."""
    found = Triggers()
    for event in events:
        if isinstance(event, AutoAssignRequested):
            found.requests.append(event)
            continue
        if event.time < now - live_window:
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
        else:
            continue
        found.causes.append(event)
    return found
