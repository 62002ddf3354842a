"""Engine scale-out on the real stack (routes strategy): two instances share the regions through Kafka's group
protocol (disjoint, together all five), a cross-region move is decided once, and stopping one instance hands
its regions to the other with no decision lost or made twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import assignment, projector
from aiff.events.tickets import TicketMoved, ticket_event
from aiff.zones import REGIONS, region_of
from tests.helpers import running, wait_until
from tests.integration.test_assignment_consumer import invariants, quiet, ticket
from tests.integration.test_assignment_routes import team

pytestmark = pytest.mark.integration
ZONES = ("Johor", "Selangor", "Kedah", "Sabah", "Pahang")  # one zone in each of the five regions


@pytest.fixture(autouse=True)
def _routes(resources: Resources) -> None:
    resources.settings = resources.settings.model_copy(update={
        "assignment_strategy": "routes", "assignment_route_seconds": 0.1, "assignment_full_replan_interval_s": 0,
    })  # fmt: skip


async def engine_decisions(resources: Resources) -> list[tuple[int, str, int | None]]:
    """(ticket, type, team) of every engine decision on tickets, in log order per ticket."""
    rows = await resources.pool.fetch(
        """SELECT entity_id, type, event FROM event_history WHERE source = 'urn:aiff:assignment'
           AND type IN ('aiff.ticket.assigned.v1', 'aiff.ticket.unassigned.v1') ORDER BY partition, "offset\""""
    )
    out = []
    for r in rows:
        data = json.loads(r["event"])["data"]
        out.append((data["ticket_id"], r["type"].split(".")[2], data.get("team_id")))
    return out


def doubled(decisions: list[tuple[int, str, int | None]]) -> list[int]:
    """Tickets assigned to the team that already held them (a decision made twice)."""
    holder: dict[int, int | None] = {}
    out = []
    for ticket_id, kind, team_id in decisions:
        if kind == "assigned":
            if holder.get(ticket_id) == team_id:
                out.append(ticket_id)
            holder[ticket_id] = team_id
        else:
            holder[ticket_id] = None
    return out


async def test_two_instances_plan_disjoint_regions_and_one_takes_over_when_the_other_stops(resources: Resources) -> None:
    await resources.publisher.publish_many([team(i, ZONES[i % 5], 4) for i in range(1, 11)])
    a, b = assignment.build(resources), assignment.build(resources)
    async with running(projector.build(resources), b):
        async with running(a):
            async def shared() -> bool:
                return len(a.planner.regions()) > 0 and len(b.planner.regions()) > 0

            await wait_until(shared, timeout=30, interval=0.1, what="both planners to hold regions")
            assert a.planner.regions().isdisjoint(b.planner.regions())
            assert a.planner.regions() | b.planner.regions() == set(REGIONS)
            await resources.publisher.publish_many([ticket(i, ZONES[i % 5]) for i in range(1, 21)])
            await quiet(resources)
            planned = {region_of(z) for z in await resources.pool.fetchval(
                "SELECT array_agg(DISTINCT zone) FROM tickets WHERE status = 'assigned'")}  # fmt: skip
            assert planned == set(REGIONS), "every region's tickets were planned"
            # a cross-region move: ticket 1 (Johor, Peninsular South) to team 3 (Kedah, Peninsular North)
            await resources.publisher.publish(ticket_event(TicketMoved, {"ticket_id": 1, "team_id": 3, "sequence": 1, "moved_by": "7"},
                                                           time=datetime.now(UTC)))  # fmt: skip
            await quiet(resources)
            assert await resources.pool.fetchval("SELECT assigned_team FROM tickets WHERE id = 1") == 3
        # instance a has stopped: b is given its regions and decides there
        async def took_over() -> bool:
            return b.planner.regions() == set(REGIONS)

        await wait_until(took_over, timeout=60, interval=0.1, what="the other instance to take over every region")
        await resources.publisher.publish_many([ticket(i, ZONES[i % 5]) for i in range(21, 31)])
        await quiet(resources)
        undecided = await resources.pool.fetchval(
            """SELECT count(*) FROM tickets t WHERE t.id > 20 AND NOT EXISTS (SELECT 1 FROM event_history h
               WHERE h.entity_id = t.id::text AND h.source = 'urn:aiff:assignment'
               AND h.type IN ('aiff.ticket.assigned.v1', 'aiff.assignment.deferred.v1'))""")  # fmt: skip
        assert undecided == 0, "every ticket published after the take-over got a decision"
        await invariants(resources)
    decisions = await engine_decisions(resources)
    assert doubled(decisions) == []
    assert sum(1 for t, kind, team_id in decisions if t == 1 and kind == "assigned" and team_id == 3) == 1
