"""The analytics consumer on the real stack: daily stats and team KPIs from a small ticket history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiff.consumers import analytics as analytics_consumer
from aiff.consumers import projector as projector_consumer
from aiff.events.teams import TeamCreated, team_event
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged, ticket_event
from tests.helpers import running, wait_until

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Malaysia, Monday 2 March 2026


def history() -> list:
    """Team 1 (Sabah, capacity 4) gets 4 tickets; team 2 (Johor) gets 1.

    t101: assigned +10 min, started +40 min, completed +2 h (critical, due 4 h): SLA met, rating 5
    t102: assigned +20 min, started +30 min, completed +30 h (high, due 24 h): SLA missed, rating 3; reopened 2 days later
    t103: assigned +5 min, started +65 min (still in progress)
    t104: assigned +15 min (still assigned)
    t201: team 2, assigned +60 min, started +90 min, completed +3 h, rating 4
    """
    ev = [
        team_event(TeamCreated, {"team_id": 1, "name": "Pasukan Satu", "zone": "Sabah", "skills": ["fiber"], "capacity": 4}, time=T0),
        team_event(TeamCreated, {"team_id": 2, "name": "Pasukan Dua", "zone": "Johor", "skills": ["fiber"], "capacity": 5}, time=T0),
    ]

    def created(tid, zone, priority, at):
        return ticket_event(TicketCreated, {"ticket_id": tid, "title": f"Fiber cut {tid}", "priority": priority, "zone": zone, "category": "fiber"}, time=at)

    def assigned(tid, team, at):
        return ticket_event(TicketAssigned, {"ticket_id": tid, "team_id": team, "strategy": "nearest", "distance_km": 3.5, "score": 1.0, "breakdown": {"distance": 0.7, "sla": 0.3}}, time=at)

    def status(tid, st, at, rating=None):
        data = {"ticket_id": tid, "status": st}
        if rating is not None:
            data["customer_rating"] = rating
        return ticket_event(TicketStatusChanged, data, time=at)

    m = lambda n: timedelta(minutes=n)  # noqa: E731
    ev += [
        created(101, "Sabah", "critical", T0), assigned(101, 1, T0 + m(10)), status(101, "in_progress", T0 + m(40)),
        status(101, "completed", T0 + m(120), 5),
        created(102, "Sabah", "high", T0), assigned(102, 1, T0 + m(20)), status(102, "in_progress", T0 + m(30)),
        status(102, "completed", T0 + m(30 * 60), 3), status(102, "reopened", T0 + m(30 * 60) + timedelta(days=2)),
        created(103, "Sabah", "critical", T0), assigned(103, 1, T0 + m(5)), status(103, "in_progress", T0 + m(65)),
        created(104, "Sabah", "low", T0), assigned(104, 1, T0 + m(15)),
        created(201, "Johor", "medium", T0), assigned(201, 2, T0 + m(60)), status(201, "in_progress", T0 + m(90)),
        status(201, "completed", T0 + m(180), 4),
    ]  # fmt: skip
    return ev


async def test_daily_stats_and_team_metrics(resources):
    events = history()
    await resources.publisher.publish_many(events)
    pool = resources.pool

    async with running(projector_consumer.build(resources), analytics_consumer.build(resources)):

        async def team1_projected():
            row = await pool.fetchrow("SELECT * FROM teams WHERE id = 1")
            return row if row is not None and row["tickets_completed"] == 2 and row["response_time"] > 0 else None

        team1 = await wait_until(team1_projected, timeout=60, what="team 1 metrics projected")

    # Team 1 by hand: completed 2 (t101 met, t102 missed) -> efficiency 50; assigned 4 -> completion 50;
    # response (30 + 10 + 60) / 3 = 33.3 -> 33 min; rating (5 + 3) / 2 = 4; open 2 of capacity 4 -> 50%.
    assert team1["tickets_completed"] == 2
    assert float(team1["efficiency"]) == 50.0
    assert float(team1["completion_rate"]) == 50.0
    assert team1["response_time"] == 33
    assert float(team1["customer_rating"]) == 4.0
    m = await pool.fetchrow("SELECT * FROM analytics_team_metrics WHERE team_id = 1")
    assert m["open_tickets"] == 2 and m["utilization"] == 50.0
    assert m["first_time_fix"] == 50.0 and m["reopen_rate"] == 50.0

    team2 = await pool.fetchrow("SELECT * FROM teams WHERE id = 2")
    assert team2["tickets_completed"] == 1 and float(team2["efficiency"]) == 100.0 and team2["response_time"] == 30

    # Daily stats match a plain SQL over the tickets projection (completions by Malaysian day).
    by_sql = await pool.fetch(
        """SELECT assigned_team AS team_id, (completed_at AT TIME ZONE 'Asia/Kuala_Lumpur')::date AS day, count(*) AS n
           FROM tickets WHERE completed_at IS NOT NULL GROUP BY 1, 2"""
    )
    stats = await pool.fetch("SELECT team_id, day, completed FROM team_daily_stats WHERE completed > 0")
    # t102 was reopened (the projection cleared its completion), so the SQL sees one completion less.
    assert {(r["team_id"], r["day"]): r["n"] for r in by_sql} == {(1, T0.date()): 1, (2, T0.date()): 1}
    assert {(r["team_id"], r["day"]): r["completed"] for r in stats} == {(1, T0.date()): 1, (1, (T0 + timedelta(hours=30)).date()): 1, (2, T0.date()): 1}
    zone = await pool.fetchrow("SELECT * FROM zone_daily_stats WHERE zone = 'Sabah' AND day = $1", T0.date())
    assert zone["created"] == 4 and zone["assigned"] == 4 and zone["started"] == 3 and zone["sla_met"] == 1
    reopen_day = (T0 + timedelta(hours=30, days=2)).date()
    assert await pool.fetchval("SELECT reopened_7d FROM team_daily_stats WHERE team_id = 1 AND day = $1", reopen_day) == 1

    # The seeds' analytics rows: one per team, day and metric.
    rows = await pool.fetch("SELECT metric_name, metric_value FROM analytics WHERE team_id = 2 AND metric_name = 'tickets_completed'")
    assert [(r["metric_name"], float(r["metric_value"])) for r in rows] == [("tickets_completed", 1.0)]
    dupes = await pool.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM analytics GROUP BY metric_name, team_id, zone, date_recorded HAVING count(*) > 1) d"
    )
    assert dupes == 0

    # TeamMetricsUpdated events are on the teams topic (applied by the projector, recorded in its history).
    n = await pool.fetchval("SELECT count(*) FROM event_history WHERE type = 'aiff.team.metrics_updated.v1'")
    assert n >= 2
