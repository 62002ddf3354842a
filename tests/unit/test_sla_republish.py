"""An SLA event decided again (a publish retried after its transaction failed, or redone after a restart that lost
the clock row) is the same event when nothing changed, and another id when the inputs did: never the same id with
other content, which the projector dead-letters as a DuplicateIdConflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiff.sla.clock import TicketView, decide

CREATED = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
DUE = CREATED + timedelta(hours=6)
HORIZON = timedelta(hours=1)


def decided_at(ticket: TicketView, now: datetime):
    (event,) = decide(ticket, None, now, HORIZON).events
    return event


def test_an_unplanned_at_risk_decided_later_is_the_same_event() -> None:
    t = TicketView(7, "open", DUE, created_at=CREATED)
    first, later = decided_at(t, DUE - timedelta(minutes=50)), decided_at(t, DUE - timedelta(minutes=5))
    assert first.id == later.id and first.to_json() == later.to_json()
    assert first.time == first.data.expected_at == DUE - HORIZON


def test_a_ticket_created_inside_the_horizon_is_at_risk_from_its_creation() -> None:
    late = CREATED + timedelta(hours=5, minutes=30)
    event = decided_at(TicketView(7, "open", DUE, created_at=late), DUE - timedelta(minutes=10))
    assert event.time == event.data.expected_at == late and event.data.minutes_late_expected == -30.0


def test_a_planned_late_at_risk_carries_the_plans_time_not_the_clocks() -> None:
    planned = CREATED + timedelta(hours=2)
    t = TicketView(7, "assigned", DUE, planned_end=DUE + timedelta(minutes=40), created_at=CREATED, planned_at=planned)
    first, later = decided_at(t, planned + timedelta(seconds=1)), decided_at(t, planned + timedelta(hours=1))
    assert first.to_json() == later.to_json() and first.time == planned


def test_other_inputs_give_another_id() -> None:
    t = TicketView(7, "assigned", DUE, planned_end=DUE + timedelta(minutes=40), created_at=CREATED, planned_at=CREATED)
    replanned = TicketView(7, "assigned", DUE, planned_end=DUE + timedelta(minutes=90), created_at=CREATED, planned_at=CREATED)
    assert decided_at(t, CREATED).id != decided_at(replanned, CREATED).id
    open_breach = decided_at(TicketView(7, "open", DUE), DUE + timedelta(minutes=1))
    started_breach = decided_at(TicketView(7, "in_progress", DUE), DUE + timedelta(hours=2))
    assert open_breach.type == started_breach.type == "aiff.ticket.sla_breached.v1" and open_breach.id != started_breach.id
    assert decided_at(TicketView(7, "open", DUE), DUE + timedelta(hours=3)).to_json() == open_breach.to_json()
