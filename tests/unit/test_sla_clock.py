"""The SLA decision: at risk when the plan ends after the due time, breached once, a new due date is a new SLA,
finished tickets never fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiff.events.registry import decode
from aiff.sla.clock import Clock, TicketView, decide

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
DUE = NOW + timedelta(hours=3)
HORIZON = timedelta(hours=1)
H = timedelta(hours=1)


def types(decision) -> list[str]:
    return [e.type for e in decision.events]


def run(ticket, clock, now):
    """One decision, and the clock as it would be stored."""
    d = decide(ticket, clock, now, HORIZON)
    return d, d.clock


def test_planned_end_after_the_due_time_is_at_risk_once():
    t = TicketView(7, "assigned", DUE, planned_end=DUE + timedelta(minutes=40))
    d, clock = run(t, None, NOW)
    assert types(d) == ["aiff.ticket.sla_at_risk.v1"]
    data = d.events[0].data
    assert data.expected_at == DUE + timedelta(minutes=40) and data.minutes_late_expected == 40.0 and data.reason == "planned_late"
    assert clock.at_risk_event_id == d.events[0].id and clock.breached_event_id is None
    later = TicketView(7, "assigned", DUE, planned_end=DUE + timedelta(minutes=90))
    assert types(decide(later, clock, NOW + timedelta(minutes=5), HORIZON)) == []


def test_planned_in_time_is_not_at_risk():
    t = TicketView(7, "assigned", DUE, planned_end=DUE - timedelta(minutes=1))
    assert types(decide(t, None, NOW, HORIZON)) == []
    assert types(decide(TicketView(7, "assigned", DUE, planned_end=DUE), None, NOW, HORIZON)) == []


def test_unplanned_is_at_risk_only_within_the_horizon():
    t = TicketView(7, "open", DUE)
    assert types(decide(t, None, NOW, HORIZON)) == []
    d = decide(t, None, DUE - timedelta(minutes=30), HORIZON)
    assert types(d) == ["aiff.ticket.sla_at_risk.v1"]
    # expected_at is when the due time came within the horizon (an hour before it), not when the clock looked
    assert d.events[0].data.reason == "unplanned_near_due" and d.events[0].data.minutes_late_expected == -60.0


def test_breached_once_when_the_due_time_passes():
    t = TicketView(7, "in_progress", DUE)
    d, clock = run(t, None, DUE - timedelta(seconds=1))
    assert "aiff.ticket.sla_breached.v1" not in types(d)
    d, clock = run(t, clock, DUE)
    assert types(d) == ["aiff.ticket.sla_breached.v1"]
    b = d.events[0]
    assert b.data.breached_at == DUE and b.data.status_at_breach == "in_progress" and b.time == DUE
    assert clock.breached_event_id == b.id and clock.breached_at == DUE
    for later in (DUE + H, DUE + 10 * H):
        d, clock = run(t, clock, later)
        assert types(d) == []


def test_the_breach_and_risk_ids_are_deterministic_per_ticket_and_due_date():
    t = TicketView(7, "open", DUE)
    first = decide(t, None, DUE + H, HORIZON).events[0]
    again = decide(t, None, DUE + 2 * H, HORIZON).events[0]
    assert first.id == again.id and first.to_json() == again.to_json()
    other = decide(TicketView(8, "open", DUE), None, DUE + H, HORIZON).events[0]
    assert other.id != first.id


def test_a_new_due_date_is_a_new_sla():
    t = TicketView(7, "assigned", DUE)
    _, clock = run(t, None, DUE + H)
    assert clock.breached_event_id is not None
    moved = TicketView(7, "assigned", DUE + 5 * H, planned_end=DUE + 6 * H)
    d, clock2 = run(moved, clock, DUE + H)
    assert types(d) == ["aiff.ticket.sla_at_risk.v1"] and clock2.due_date == DUE + 5 * H
    assert clock2.breached_event_id is None
    d, clock3 = run(moved, clock2, DUE + 5 * H)
    assert types(d) == ["aiff.ticket.sla_breached.v1"] and d.events[0].id != clock.breached_event_id
    # Moving back to the first due date is again a new clock (the stored one holds one due date).
    assert decide(t, clock3, DUE + 6 * H, HORIZON).clock.due_date == DUE


def test_completed_closed_and_cancelled_tickets_never_fire():
    for status in ("completed", "closed", "cancelled"):
        t = TicketView(7, status, DUE, planned_end=DUE + H)
        for now in (NOW, DUE + H):
            d = decide(t, None, now, HORIZON)
            assert types(d) == [] and d.clock is not None and not d.clock.open


def test_a_reopened_ticket_opens_its_clock_again():
    _, clock = run(TicketView(7, "completed", DUE), None, NOW)
    d, clock = run(TicketView(7, "reopened", DUE), clock, DUE + H)
    assert clock.open and types(d) == ["aiff.ticket.sla_breached.v1"]


def test_a_deleted_ticket_closes_its_clock_and_fires_nothing():
    clock = Clock(7, DUE)
    d = decide(None, clock, DUE + H, HORIZON)
    assert d.events == () and d.clock == Clock(7, DUE, open=False)
    assert decide(None, None, DUE + H, HORIZON).clock is None
    assert decide(TicketView(7, "open", None), None, DUE + H, HORIZON).clock is None


def test_a_breach_supersedes_a_pending_at_risk():
    t = TicketView(7, "assigned", DUE, planned_end=DUE + H)
    d = decide(t, None, DUE + timedelta(minutes=1), HORIZON)
    assert types(d) == ["aiff.ticket.sla_breached.v1"]
    assert decide(t, d.clock, DUE + H, HORIZON).events == ()


def test_the_events_are_valid_on_the_wire():
    for now in (NOW, DUE + H):
        (event,) = decide(TicketView(7, "assigned", DUE, planned_end=DUE + H), None, now, HORIZON).events
        assert decode(event.to_json()) == event
