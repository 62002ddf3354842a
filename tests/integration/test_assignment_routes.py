"""The assignment consumer's `routes` strategy on the real stack: plans with ETAs, pins that hold, moves that land,
an offline team's visits re-planned elsewhere, explanations, a ticket planned on a later day of the horizon with
its SLA outcome, and the same plans after a rebuild from the log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import assignment, projector
from aiff.consumers import sla as sla_consumer
from aiff.dispatch.inputs import MALAYSIA
from aiff.events.shifts import WEEKDAYS
from aiff.events.teams import TeamCreated, TeamStatusChanged, team_event
from aiff.events.tickets import TicketCreated, TicketMoved, TicketPinned, ticket_event
from aiff.events.topics import end_offsets
from tests.helpers import projection_caught_up, running, table_checksum, wait_until
from tests.integration.test_assignment_consumer import invariants, quiet, running_engine, ticket
from tests.integration.test_assignment_consumer import team as plain_team
from tests.integration.test_projector import running_projector

pytestmark = pytest.mark.integration


def roomy_shift() -> dict:
    """A shift calendar with hours of work ahead at whatever time the tests run: until 23:59 Malaysia time when
    it is before 18:00 there, else from midnight to noon (so tomorrow is planned); no lunch."""
    late = datetime.now(MALAYSIA).hour >= 18
    return {"shift_start": "00:00", "shift_end": "12:00" if late else "23:59", "lunch_minutes": 0,
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}  # fmt: skip


def team(team_id: int, zone: str, capacity: int) -> TeamCreated:
    event = plain_team(team_id, zone, capacity)
    return team_event(TeamCreated, {**event.data.model_dump(exclude_none=True), **roomy_shift()})


@pytest.fixture(autouse=True)
def _routes(resources: Resources) -> None:
    resources.settings = resources.settings.model_copy(update={
        "assignment_strategy": "routes", "assignment_route_seconds": 0.1, "assignment_full_replan_interval_s": 0,
    })  # fmt: skip


async def plan_of(resources: Resources, team_id: int) -> list[int]:
    """The team's planned tickets in order (its latest team-day)."""
    rows = await resources.pool.fetch(
        """SELECT ticket_id FROM plan_visits WHERE team_id = $1
           AND plan_date = (SELECT max(plan_date) FROM plans WHERE team_id = $1) ORDER BY sequence""", team_id)  # fmt: skip
    return [r["ticket_id"] for r in rows]


async def holder(resources: Resources, ticket_id: int) -> int | None:
    return await resources.pool.fetchval("SELECT assigned_team FROM tickets WHERE id = $1", ticket_id)


async def test_created_tickets_get_planned_pins_hold_moves_land_and_a_rebuild_gives_the_same_plans(resources: Resources) -> None:
    # team 1 sits next to the tickets (Johor Bahru), team 2 some 60 km away
    await resources.publisher.publish_many([team(1, "Johor", 6), team(2, "Johor", 6)])
    async with running_engine(resources):
        await resources.publisher.publish(ticket(10, "Johor"))
        await quiet(resources)
        row = await resources.pool.fetchrow("SELECT * FROM assignments WHERE ticket_id = 10 AND status = 'assigned'")
        assert row is not None and row["strategy"] == "routes"
        assert row["eta"] is not None and row["planned_start"] >= row["eta"] and row["sequence"] == 1
        plans = await resources.pool.fetch("SELECT * FROM event_history WHERE type = 'aiff.plan.updated.v1'")
        assert plans, "a plan.updated for the team"
        visit = await resources.pool.fetchrow("SELECT * FROM plan_visits WHERE ticket_id = 10")
        why = json.loads(visit["explanation"])
        assert visit["team_id"] == row["team_id"] and why["churn"] == "new" and why["priority"] == "high"
        assert {"travel_minutes", "lateness_minutes", "priority_weight_minutes", "summary"} <= set(why)

        # a dispatcher pins ticket 10 to the far team: it moves there and stays through later re-plans
        other = 3 - row["team_id"]
        await resources.publisher.publish(ticket_event(TicketPinned, {"ticket_id": 10, "team_id": other, "pinned_by": "7"}, time=datetime.now(UTC)))
        await quiet(resources)
        assert await holder(resources, 10) == other
        await resources.publisher.publish_many([ticket(i, "Johor") for i in range(11, 15)])
        await quiet(resources)
        assert await holder(resources, 10) == other and 10 in await plan_of(resources, other)
        history = await resources.pool.fetch(
            "SELECT event FROM event_history WHERE type = 'aiff.plan.updated.v1' ORDER BY time, \"offset\"")
        since_pin = [json.loads(h["event"])["data"] for h in history]
        holding_10 = {p["team_id"] for p in since_pin if any(v["ticket_id"] == 10 for v in p["visits"])}
        assert other in holding_10
        later = [p for p in since_pin[-3:] if any(v["ticket_id"] == 10 for v in p["visits"])]
        assert all(p["team_id"] == other for p in later)

        # a move: ticket 11 to team `other` at position 2
        await resources.publisher.publish(ticket_event(TicketMoved, {"ticket_id": 11, "team_id": other, "sequence": 2, "moved_by": "7"},
                                                       time=datetime.now(UTC)))  # fmt: skip
        await quiet(resources)
        order = await plan_of(resources, other)
        assert order[1] == 11 and await holder(resources, 11) == other
        planned = order + await plan_of(resources, 3 - other)
        assigned = {r["id"] for r in await resources.pool.fetch("SELECT id FROM tickets WHERE status = 'assigned'")}
        assert assigned == set(planned) == set(range(10, 15)) and len(planned) == 5
        explained = await resources.pool.fetchval("SELECT count(*) FROM plan_visits WHERE explanation IS NULL")
        assert explained == 0
    await invariants(resources)

    # replay equality: rebuild every read model from the log with the projector alone
    live, rebuilt = await _rebuilt_from_log(resources, {
        "plans": "team_id, plan_date", "plan_visits": "team_id, plan_date, sequence", "tickets": "id",
        "assignments": "event_id"})  # fmt: skip
    assert rebuilt == live


def _decisions() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("aiff_assignment_decisions_total", {"strategy": "routes", "outcome": "assigned"}) or 0.0


async def test_a_team_going_offline_has_its_visits_replanned_elsewhere(resources: Resources) -> None:
    counted = _decisions()
    await resources.publisher.publish_many([team(1, "Selangor", 5), team(2, "Selangor", 5)])
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, "Selangor") for i in range(1, 5)])
        await quiet(resources)
        held = {r["id"]: r["assigned_team"] for r in await resources.pool.fetch("SELECT id, assigned_team FROM tickets")}
        assert set(held) == {1, 2, 3, 4} and None not in held.values()
        busy = max({1, 2}, key=lambda t: list(held.values()).count(t))
        await resources.publisher.publish(team_event(TeamStatusChanged, {"team_id": busy, "status": "offline"}, time=datetime.now(UTC)))
        await quiet(resources)
    rows = await resources.pool.fetch("SELECT id, assigned_team, status FROM tickets")
    assert all(r["status"] == "assigned" and r["assigned_team"] == 3 - busy for r in rows)
    assert await plan_of(resources, busy) == []
    assert sorted(await plan_of(resources, 3 - busy)) == [1, 2, 3, 4]
    assert _decisions() - counted >= 4 + sum(1 for t in held.values() if t == busy)  # the metrics hook counts routes too
    await invariants(resources)


async def test_the_scheduled_full_replan_plans_what_no_live_event_asked_for(resources: Resources) -> None:
    old = datetime.now(UTC) - timedelta(hours=2)  # beyond the live window: rebuilds state, decides nothing
    await resources.publisher.publish_many([team_event(TeamCreated, team(1, "Sabah", 5).data, time=old),
                                            ticket_event(TicketCreated, ticket(5, "Sabah").data, time=old)])  # fmt: skip
    engine = assignment.build(resources, interval_s=0)  # rounds by hand first
    async with running(projector.build(resources), engine):
        await quiet(resources)
        assert await holder(resources, 5) is None  # no live event: the batch decided nothing
        assert await engine.full_replan() > 0
        await quiet(resources)
        assert await holder(resources, 5) == 1 and await plan_of(resources, 1) == [5]
        assigned = await resources.pool.fetchval("SELECT count(*) FROM assignments WHERE ticket_id = 5")
        await engine.full_replan()
        await engine.full_replan()
        await quiet(resources)
        assert await resources.pool.fetchval("SELECT count(*) FROM assignments WHERE ticket_id = 5") == assigned  # no churn
    timed = assignment.build(resources, interval_s=0.2)
    async with running(projector.build(resources), timed):
        async def rounds() -> bool:
            return timed.full_replans >= 2

        await wait_until(rounds, timeout=15, interval=0.05, what="the timer's full re-plans")


def short_shift(skip: date) -> dict:
    """Today's shift ends two hours from now (no overtime, no lunch); `skip`'s weekday is not a working day."""
    now = datetime.now(MALAYSIA)
    days = [d for d in WEEKDAYS if d != WEEKDAYS[skip.weekday()]]
    return {"shift_start": (now - timedelta(hours=1)).strftime("%H:%M"), "shift_end": (now + timedelta(hours=2)).strftime("%H:%M"),
            "lunch_minutes": 0, "max_overtime_minutes": 0, "working_days": days}  # fmt: skip


async def test_a_ticket_that_cannot_fit_today_is_planned_on_the_next_working_day_with_its_sla_outcome(resources: Resources) -> None:
    now = datetime.now(MALAYSIA)
    if not 1 <= now.hour < 21:
        pytest.skip("the test's shift (now - 1 h to now + 2 h) would cross midnight in Malaysia time")
    today = now.date()
    skipped, expected = today + timedelta(days=1), today + timedelta(days=2)  # tomorrow is not a working day
    event = plain_team(1, "Johor", 3)
    await resources.publisher.publish(team_event(TeamCreated, {**event.data.model_dump(exclude_none=True), **short_shift(skipped)}))
    due = datetime.now(UTC) + timedelta(hours=3)
    # two 90-minute fiber jobs next to the base: one fits the 2 hours left today, the other does not
    tickets = [ticket_event(TicketCreated, {**ticket(i, "Johor").data.model_dump(exclude_none=True), "due_date": due}, time=datetime.now(UTC))
               for i in (20, 21)]  # fmt: skip
    async with running_engine(resources), running(sla_consumer.build(resources, tick_s=0.2)):
        await resources.publisher.publish_many(tickets)
        await quiet(resources)
        rows = {r["id"]: r for r in await resources.pool.fetch("SELECT id, status, assigned_team FROM tickets")}
        today_id = next(t for t, r in rows.items() if r["status"] == "assigned")
        later_id = 41 - today_id
        assert rows[today_id]["assigned_team"] == 1 and rows[later_id]["status"] == "open"  # unassigned but planned
        visits = {r["ticket_id"]: r for r in await resources.pool.fetch("SELECT * FROM plan_visits")}
        assert visits[today_id]["plan_date"] == today
        later = visits[later_id]
        assert later["team_id"] == 1 and later["plan_date"] == expected and later["sequence"] == 1  # the skipped day has no plan
        assert later["planned_end"] > due  # its SLA outcome is known in advance: late
        assert await resources.pool.fetchval("SELECT count(*) FROM plans WHERE plan_date = $1", skipped) == 0
        deferral = await resources.pool.fetchval(
            "SELECT event->'data'->>'code' FROM event_history WHERE type = 'aiff.assignment.deferred.v1' AND entity_id = $1",
            str(later_id))  # fmt: skip
        assert deferral == "planned_later"

        async def at_risk() -> dict | None:
            row = await resources.pool.fetchrow(
                "SELECT event FROM event_history WHERE type = 'aiff.ticket.sla_at_risk.v1' AND entity_id = $1", str(later_id))
            return json.loads(row["event"])["data"] if row else None

        risk = await wait_until(at_risk, timeout=30, what="the SLA consumer to see the later day's planned end")
        assert risk["reason"] == "planned_late" and datetime.fromisoformat(risk["expected_at"]) == later["planned_end"]
        assert await resources.pool.fetchval(
            "SELECT count(*) FROM event_history WHERE type = 'aiff.ticket.sla_at_risk.v1' AND entity_id = $1", str(today_id)) == 0
    await invariants(resources)

    # replay equality: the later day's plan comes back from the log alone
    live, rebuilt = await _rebuilt_from_log(resources, {
        "plans": "team_id, plan_date", "plan_visits": "team_id, plan_date, sequence", "tickets": "id"})
    async with resources.pool.acquire() as conn:
        assert await conn.fetchval("SELECT plan_date FROM plan_visits WHERE ticket_id = $1", later_id) == expected
    assert rebuilt == live


async def _rebuilt_from_log(resources, tables: dict[str, str]) -> tuple[dict, dict]:
    """Checksums of `tables` (name -> order) as the live consumers left them, then after emptying every read
    model and replaying the log with the projector alone."""

    async def checksums(conn) -> dict:
        return {t: await table_checksum(conn, t, o, exclude=("id", "updated_at") if t == "tickets" else ("id",))
                for t, o in tables.items()}

    async with resources.pool.acquire() as conn:
        live = await checksums(conn)
        await conn.execute("TRUNCATE plans, plan_visits, team_positions, tickets, teams, assignments, event_history, projection_positions")
    async with running_projector(resources):
        ends = await end_offsets(resources.settings.kafka_bootstrap_servers, resources.topics.domain)
        async with resources.pool.acquire() as conn:
            await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the rebuild")
    async with resources.pool.acquire() as conn:
        return live, await checksums(conn)
