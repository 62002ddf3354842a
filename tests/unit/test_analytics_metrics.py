"""Team KPI formulas and the analytics fold, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiff.analytics.fold import AnalyticsBatch
from aiff.analytics.metrics import day_of, team_metrics
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged, ticket_event


def test_team_metric_formulas():
    m = team_metrics(
        {"assigned": 8, "started": 4, "completed": 5, "sla_met": 4, "sla_missed": 1, "reopened": 2, "reopened_7d": 1,
         "sum_response_minutes": 130, "rating_sum": 13.0, "rating_count": 3},
        open_tickets=3, capacity=4,
    )  # fmt: skip
    assert m.tickets_completed == 5
    assert m.customer_rating == 4.33
    assert m.response_time == 32  # 130 / 4 = 32.5 -> banker's rounding to 32
    assert m.completion_rate == 62.5
    assert m.efficiency == 80.0
    assert m.first_time_fix == 80.0
    assert m.reopen_rate == 40.0
    assert m.utilization == 75.0


def test_empty_team_is_all_zero_and_capped():
    m = team_metrics({})
    assert (m.tickets_completed, m.customer_rating, m.response_time, m.completion_rate, m.efficiency) == (0, 0.0, 0, 0.0, 0.0)
    assert team_metrics({"assigned": 1, "completed": 2}).completion_rate == 100.0


def test_malaysian_day():
    assert day_of(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == date(2026, 3, 2)


def test_fold_counts_sla_and_ignores_invalid_transitions():
    t0 = datetime(2026, 3, 2, 1, tzinfo=UTC)
    b = AnalyticsBatch()
    events = [
        ticket_event(TicketCreated, {"ticket_id": 1, "title": "x", "priority": "critical", "zone": "Sabah"}, time=t0),
        ticket_event(TicketAssigned, {"ticket_id": 1, "team_id": 7, "strategy": "nearest"}, time=t0 + timedelta(minutes=10)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "completed"}, time=t0 + timedelta(hours=1)),  # invalid: not started
        ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "in_progress"}, time=t0 + timedelta(minutes=30)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "completed", "customer_rating": 4}, time=t0 + timedelta(hours=5)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "completed"}, time=t0 + timedelta(hours=6)),  # duplicate
    ]
    applied = [b.apply(e) for e in events]
    assert applied == [True, True, False, True, True, False]
    counts = b.team_days[(7, day_of(t0))]
    assert counts["completed"] == 1 and counts["sla_missed"] == 1 and counts["sla_met"] == 0  # 5 h > 4 h SLA
    assert counts["sum_response_minutes"] == 20 and counts["rating_sum"] == 4
    assert b.zone_days[("Sabah", day_of(t0))]["created"] == 1
