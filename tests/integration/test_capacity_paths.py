"""Invariant 3 on the real stack with the routes strategy: a team never holds more open tickets than its
capacity, whoever decided them - frozen (demo, dispatcher) assignments it cannot serve today plus the engine's,
a capacity lowered under it, and two engine instances deciding a burst at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiff.bootstrap import Resources
from aiff.events.teams import TeamUpdated, team_event
from aiff.events.tickets import TicketAssigned, ticket_event
from tests.integration.test_assignment_consumer import invariants, quiet, running_engine, ticket
from tests.integration.test_assignment_routes import team

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _routes(resources: Resources) -> None:
    resources.settings = resources.settings.model_copy(update={
        "assignment_strategy": "routes", "assignment_route_seconds": 0.1, "assignment_full_replan_interval_s": 0,
    })  # fmt: skip


def frozen_assignment(ticket_id: int, team_id: int) -> TicketAssigned:
    """What the demo seed and a dispatcher's manual assignment publish: held and pinned to the team."""
    return ticket_event(TicketAssigned, {"ticket_id": ticket_id, "team_id": team_id, "strategy": "manual",
                                         "assigned_by": "seed", "frozen": True}, time=datetime.now(UTC))  # fmt: skip


async def held(resources: Resources, team_id: int) -> int:
    return await resources.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE assigned_team = $1 AND status IN ('assigned', 'in_progress')", team_id
    )


async def test_frozen_assignments_the_team_cannot_serve_today_leave_no_room_beyond_its_capacity(resources: Resources) -> None:
    # team 1 (capacity 4, fiber and copper) holds three frozen power jobs it has no skill for: the plan leaves
    # them out, yet they stay held; two new fiber tickets next to it: one fits, the other waits
    await resources.publisher.publish(team(1, "Johor", 4))
    await resources.publisher.publish_many([ticket(i, "Johor", category="power") for i in (1, 2, 3)])
    await resources.publisher.publish_many([frozen_assignment(i, 1) for i in (1, 2, 3)])
    async with running_engine(resources):
        await quiet(resources)
        await resources.publisher.publish_many([ticket(10, "Johor"), ticket(11, "Johor")])
        await quiet(resources)
        assert await held(resources, 1) == 4
        await invariants(resources)
        waiting = await resources.pool.fetchval(
            "SELECT count(*) FROM tickets WHERE id IN (10, 11) AND status = 'open'")  # fmt: skip
        assert waiting == 1


async def test_a_capacity_lowered_under_a_team_releases_what_it_may_release(resources: Resources) -> None:
    await resources.publisher.publish_many([team(1, "Johor", 6), team(2, "Johor", 6)])
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, "Johor") for i in range(1, 5)])
        await quiet(resources)
        counts = {t: await held(resources, t) for t in (1, 2)}
        busiest, other = sorted(counts, key=counts.get, reverse=True)
        assert counts[busiest] >= 2, f"one team took at least two of the four tickets: {counts}"
        await resources.publisher.publish(team_event(TeamUpdated, {"team_id": busiest, "capacity": 1}, time=datetime.now(UTC)))
        await quiet(resources)
        assert await held(resources, busiest) <= 1
        await invariants(resources)
        open_ = await resources.pool.fetchval("SELECT count(*) FROM tickets WHERE status IN ('open', 'reopened')")
        assert open_ == 0, f"the released tickets went to team {other}, which has room"


async def test_two_engines_deciding_a_burst_with_frozen_holdings_stay_within_capacity(resources: Resources) -> None:
    teams = [team(i, ("Selangor", "Johor")[i % 2], capacity=2 + i % 3) for i in range(1, 9)]
    await resources.publisher.publish_many(teams)
    await resources.publisher.publish_many([ticket(100 + i, t.data.zone, category="power") for i, t in enumerate(teams)])
    await resources.publisher.publish_many([frozen_assignment(100 + i, t.data.team_id) for i, t in enumerate(teams)])
    async with running_engine(resources, engines=2):
        await resources.publisher.publish_many([ticket(i, ("Selangor", "Johor")[i % 2]) for i in range(1, 61)])
        await quiet(resources)
        await invariants(resources)
        full = sum(t.data.capacity for t in teams)
        assert await resources.pool.fetchval(
            "SELECT count(*) FROM tickets WHERE status IN ('assigned', 'in_progress')") <= full  # fmt: skip
