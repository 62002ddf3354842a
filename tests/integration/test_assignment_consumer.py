"""The assignment consumer on the real stack: live decisions, capacity under bursts with two instances, re-planning."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import assignment, projector
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import TeamCreated, TeamStatusChanged, ZoneConfigured, team_event
from aiff.events.tickets import TicketCreated, ticket_event
from tests.helpers import running, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _optimal(resources: Resources) -> None:
    """These tests are about the assignment-only strategies (`routes` has tests/integration/test_assignment_routes.py)."""
    resources.settings = resources.settings.model_copy(update={"assignment_strategy": "optimal"})


TOWNS = {"Selangor": (3.07, 101.52), "Johor": (1.49, 103.74), "Sabah": (5.98, 116.07), "Kedah": (6.12, 100.37),
         "Pahang": (3.81, 103.33)}


def running_engine(resources: Resources, engines: int = 1) -> contextlib.AbstractAsyncContextManager[None]:
    """The projector and `engines` assignment consumers in one group."""
    return running(projector.build(resources), *(assignment.build(resources) for _ in range(engines)))


def team(team_id: int, zone: str, capacity: int, skills: tuple[str, ...] = ("fiber", "copper")) -> TeamCreated:
    lat, lon = TOWNS[zone]
    return team_event(TeamCreated, {"team_id": team_id, "name": f"Pasukan {team_id}", "zone": zone, "capacity": capacity,
                                    "skills": list(skills), "latitude": lat + team_id * 0.01, "longitude": lon})  # fmt: skip


def ticket(ticket_id: int, zone: str, category: str = "fiber", priority: str = "high") -> TicketCreated:
    lat, lon = TOWNS[zone]
    return ticket_event(TicketCreated, {"ticket_id": ticket_id, "title": f"Fault {ticket_id}", "priority": priority,
                                        "zone": zone, "category": category, "latitude": lat + (ticket_id % 7) * 0.02,
                                        "longitude": lon}, time=datetime.now(UTC))  # fmt: skip


async def quiet(resources: Resources) -> None:
    """Wait until both the engine and the projector have applied everything in the log."""
    from aiff.events.topics import end_offsets

    async def settled() -> bool:
        ends = await end_offsets(resources.settings.kafka_bootstrap_servers, resources.topics.domain)
        work = await end_offsets(resources.settings.kafka_bootstrap_servers, [resources.topics.work])
        rows = await resources.pool.fetch("SELECT projection, topic, partition, next_offset FROM projection_positions")
        stored = {(r["projection"], r["topic"], r["partition"]): r["next_offset"] for r in rows}
        facts = all(stored.get((p, t, n), 0) >= end for (t, n), end in ends.items() if end for p in ("projector", "assignment"))
        return facts and all(stored.get(("planner", t, n), 0) >= end for (t, n), end in work.items() if end)

    await wait_until(settled, timeout=60, interval=0.2, what="engine and projector to settle")
    await wait_until(settled, timeout=60, interval=0.2, what="engine and projector to settle twice")


async def invariants(resources: Resources) -> None:
    over = await resources.pool.fetch(
        """SELECT tm.id, tm.capacity, count(t.id) AS n FROM teams tm JOIN tickets t ON t.assigned_team = tm.id
           AND t.status IN ('assigned', 'in_progress') GROUP BY tm.id, tm.capacity HAVING count(t.id) > tm.capacity"""
    )
    assert over == [], f"teams over capacity: {over}"
    double = await resources.pool.fetchval(
        "SELECT count(*) FROM (SELECT ticket_id FROM assignments WHERE status IN ('assigned','in_progress') GROUP BY 1 HAVING count(*) > 1) d"
    )
    assert double == 0


async def test_a_live_ticket_in_an_auto_zone_is_assigned_with_an_explanation(resources: Resources) -> None:
    await resources.publisher.publish_many([team(1, "Selangor", 3), team(2, "Johor", 3)])
    async with running_engine(resources):
        await resources.publisher.publish(ticket(10, "Johor"))

        async def assigned():
            return await resources.pool.fetchrow("SELECT * FROM assignments WHERE ticket_id = 10 AND status = 'assigned'")

        row = await wait_until(assigned, timeout=10, what="ticket 10 to be assigned")
    assert row["team_id"] == 2 and row["strategy"] == "optimal" and row["assigned_by"] == "engine"
    assert row["distance_km"] < 10
    assert {"travel", "total"} <= set(__import__("json").loads(row["breakdown"]))


async def test_a_burst_with_two_engines_never_exceeds_capacity_or_double_books(resources: Resources) -> None:
    teams = [team(i, ("Selangor", "Johor", "Sabah")[i % 3], capacity=2 + i % 3) for i in range(1, 41)]
    capacity = sum(t.data.capacity for t in teams)
    await resources.publisher.publish_many(teams)
    async with running_engine(resources, engines=2):
        await resources.publisher.publish_many(
            [ticket(i, ("Selangor", "Johor", "Sabah")[i % 3], priority=("low", "high", "critical")[i % 3]) for i in range(1, 2001)]
        )
        await quiet(resources)
    await invariants(resources)
    assigned = await resources.pool.fetchval("SELECT count(*) FROM tickets WHERE status = 'assigned'")
    assert assigned == capacity
    deferred = await resources.pool.fetchval(
        "SELECT count(DISTINCT entity_id) FROM event_history WHERE type = 'aiff.assignment.deferred.v1'"
    )
    assert deferred >= 2000 - capacity - 5


async def test_a_team_going_offline_hands_its_unstarted_tickets_to_others(resources: Resources) -> None:
    await resources.publisher.publish_many([team(1, "Selangor", 5), team(2, "Selangor", 5)])
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, "Selangor") for i in range(1, 5)])
        await quiet(resources)
        held = await resources.pool.fetch("SELECT id, assigned_team FROM tickets WHERE status = 'assigned'")
        assert len(held) == 4
        busy_team = held[0]["assigned_team"]
        await resources.publisher.publish(
            team_event(TeamStatusChanged, {"team_id": busy_team, "status": "offline"}, time=datetime.now(UTC))
        )
        await quiet(resources)
    rows = await resources.pool.fetch("SELECT assigned_team FROM tickets WHERE status = 'assigned'")
    assert len(rows) == 4 and all(r["assigned_team"] != busy_team for r in rows)
    await invariants(resources)


async def test_auto_assign_request_places_tickets_of_a_manual_zone(resources: Resources) -> None:
    await resources.publisher.publish_many(
        [team(1, "Sabah", 5), team_event(ZoneConfigured, {"zone": "Sabah", "assignment_mode": "manual"})]
    )
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, "Sabah") for i in range(1, 4)])
        await quiet(resources)
        assert await resources.pool.fetchval("SELECT count(*) FROM tickets WHERE status = 'open'") == 3
        request_id = uuid.uuid4().hex
        await resources.publisher.publish(
            AutoAssignRequested(subject=request_id, data={"request_id": request_id, "ticket_ids": [1, 2],
                                                          "criteria": {"strategy": "nearest"}, "requested_by": "7"})  # fmt: skip
        )
        await quiet(resources)
    rows = await resources.pool.fetch("SELECT ticket_id, strategy FROM assignments ORDER BY ticket_id")
    assert [(r["ticket_id"], r["strategy"]) for r in rows] == [(1, "nearest"), (2, "nearest")]
    causes = await resources.pool.fetch(
        "SELECT event->>'causationid' AS c FROM event_history WHERE type = 'aiff.ticket.assigned.v1'"
    )
    assert {r["c"] for r in causes} == {request_id}


async def test_shadow_strategy_records_what_it_would_have_decided_without_effect(resources: Resources) -> None:
    resources.settings = resources.settings.model_copy(update={"assignment_shadow_strategy": "greedy"})
    await resources.publisher.publish_many([team(1, "Johor", 5), team(2, "Selangor", 5)])
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, "Johor") for i in range(1, 4)])
        await quiet(resources)
    shadow = await resources.pool.fetch("SELECT * FROM shadow_decisions ORDER BY ticket_id")
    assert [r["ticket_id"] for r in shadow] == [1, 2, 3]
    assert {(r["strategy"], r["live_strategy"]) for r in shadow} == {("greedy", "optimal")}
    assert all(r["team_id"] == 1 and r["live_team_id"] == 1 for r in shadow)
    strategies = {r["strategy"] for r in await resources.pool.fetch("SELECT strategy FROM assignments")}
    assert strategies == {"optimal"}  # the shadow decided nothing
