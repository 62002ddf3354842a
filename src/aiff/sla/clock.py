"""The SLA decision, free of I/O: from a ticket's state, its plan and its stored clock, what to publish now.

A clock is one ticket's SLA: its due date, whether it is open (the ticket is open, assigned, in progress or
reopened), and the ids of the at-risk and breach events already published for that due date. A changed due date
is a new SLA (fresh flags); the stored flags make each event at most once per ticket and due date.

An event's content (`time` included) comes from the inputs only (due date, plan, creation, status, horizon), never
from the wall clock, and its id from the content: a publish retried or redone after a restart, whose clock row was
never committed, carries the same event when nothing changed (the projector ignores the copy) and another id when
the inputs did (never the same id with other content, which the projector would dead-letter).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aiff.events.tickets import TicketSlaAtRisk, TicketSlaBreached, ticket_event
from aiff.events.vocabulary import OPEN_STATUSES

SLA_NAMESPACE = uuid.UUID("6f1d2c1e-5a0b-4c4e-9a53-0d1a5c7e51a0")
SOURCE = "urn:aiff:sla"


@dataclass(frozen=True)
class Clock:
    """One ticket's stored SLA clock (a row of `sla_clocks`)."""

    ticket_id: int
    due_date: datetime
    open: bool = True
    at_risk_event_id: uuid.UUID | None = None
    at_risk_at: datetime | None = None
    breached_event_id: uuid.UUID | None = None
    breached_at: datetime | None = None


@dataclass(frozen=True)
class TicketView:
    """What the decision needs from the read models: the ticket's status and due date, and when its planned
    visit ends (the plan's ETA plus service; None when no plan holds it)."""

    ticket_id: int
    status: str
    due_date: datetime | None
    planned_end: datetime | None = None
    created_at: datetime | None = None
    planned_at: datetime | None = None
    """When the plan holding the visit was made (its event time)."""


@dataclass(frozen=True)
class Decision:
    clock: Clock | None
    events: tuple = ()


def event_id(kind: str, ticket_id: int, due_date: datetime, *content: object) -> uuid.UUID:
    """Deterministic: a retried publish of the same content carries the same id, so the projector applies it once;
    other content (the inputs changed before the first publish was recorded) gets another id."""
    detail = "".join(f":{c.isoformat() if isinstance(c, datetime) else c}" for c in content)
    return uuid.uuid5(SLA_NAMESPACE, f"{kind}:{ticket_id}:{due_date.isoformat()}{detail}")


def risk_onset(ticket: TicketView, due: datetime, horizon: timedelta) -> datetime:
    """When an unplanned ticket's due time came within the horizon (not before the ticket existed): the at-risk
    event's time, from the inputs rather than from when the clock happened to look."""
    onset = due - horizon
    return max(onset, ticket.created_at) if ticket.created_at is not None else onset


def decide(ticket: TicketView | None, clock: Clock | None, now: datetime, horizon: timedelta) -> Decision:
    """The clock after looking at `ticket` at `now`, and the events to publish (none, an at-risk or a breach).

    - no ticket (deleted) or no due date: the clock closes, nothing fires;
    - a due date other than the clock's: a new clock, flags reset;
    - closed, completed or cancelled: the clock closes, nothing fires (a reopened ticket opens it again);
    - due time passed and no breach yet: one `sla_breached` (it supersedes a pending at-risk);
    - else, no at-risk yet: one `sla_at_risk` when the planned end is after the due time, or when no plan holds
      the ticket and the due time is within `horizon` of now.
    """
    if ticket is None or ticket.due_date is None:
        return Decision(replace(clock, open=False) if clock is not None and clock.open else clock)
    due = ticket.due_date
    if clock is None or clock.due_date != due:
        clock = Clock(ticket.ticket_id, due)
    clock = replace(clock, open=ticket.status in OPEN_STATUSES)
    if not clock.open:
        return Decision(clock)
    if clock.breached_event_id is None and now >= due:
        breach = ticket_event(
            TicketSlaBreached,
            {"ticket_id": ticket.ticket_id, "due_date": due, "breached_at": due, "status_at_breach": ticket.status},
            id=event_id("breached", ticket.ticket_id, due, ticket.status), time=due, source=SOURCE,
        )  # fmt: skip
        return Decision(replace(clock, breached_event_id=breach.id, breached_at=due), (breach,))
    if clock.at_risk_event_id is not None or clock.breached_event_id is not None:
        return Decision(clock)
    if ticket.planned_end is not None:
        if ticket.planned_end <= due:
            return Decision(clock)
        expected, reason = ticket.planned_end, "planned_late"
        at = ticket.planned_at or risk_onset(ticket, due, horizon)
    elif due - now <= horizon:
        at = expected = risk_onset(ticket, due, horizon)
        reason = "unplanned_near_due"
    else:
        return Decision(clock)
    risk = ticket_event(
        TicketSlaAtRisk,
        {"ticket_id": ticket.ticket_id, "due_date": due, "expected_at": expected,
         "minutes_late_expected": round((expected - due).total_seconds() / 60, 1), "reason": reason},
        id=event_id("at_risk", ticket.ticket_id, due, reason, expected, at), time=at, source=SOURCE,
    )  # fmt: skip
    return Decision(replace(clock, at_risk_event_id=risk.id, at_risk_at=now), (risk,))
