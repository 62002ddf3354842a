"""Stillness (invariant 8) on the real stack with the routes strategy: with no new input, full re-plans publish
nothing - no ticket.assigned, ticket.unassigned, assignment.deferred or plan.updated."""

from __future__ import annotations

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import assignment
from tests.integration.test_assignment_consumer import invariants, quiet, running_engine, ticket
from tests.integration.test_assignment_routes import team

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _routes(resources: Resources) -> None:
    resources.settings = resources.settings.model_copy(update={
        "assignment_strategy": "routes", "assignment_route_seconds": 0.1, "assignment_full_replan_interval_s": 0,
        "assignment_horizon_days": 3,
    })  # fmt: skip


async def decisions(resources: Resources) -> int:
    """Engine decisions the projector recorded so far."""
    return await resources.pool.fetchval(
        """SELECT count(*) FROM event_history WHERE type IN ('aiff.ticket.assigned.v1', 'aiff.ticket.unassigned.v1',
           'aiff.assignment.deferred.v1', 'aiff.plan.updated.v1')"""
    )


async def test_two_full_replans_in_a_row_publish_nothing(resources: Resources) -> None:
    # more work than the teams hold today: some tickets are planned on later days, some wait at capacity
    await resources.publisher.publish_many([team(1, "Johor", 4), team(2, "Johor", 3), team(3, "Selangor", 3)])
    zones = ("Johor", "Johor", "Selangor")
    async with running_engine(resources):
        await resources.publisher.publish_many([ticket(i, zones[i % 3], priority=("high", "medium", "low")[i % 3])
                                                for i in range(1, 25)])  # fmt: skip
        await quiet(resources)
        engine = assignment.build(resources)
        await engine.full_replan()  # the first may still settle what the event-driven re-plans left
        await quiet(resources)
        before = await decisions(resources)
        published = [await engine.full_replan(), await engine.full_replan()]
        await quiet(resources)
        assert published == [0, 0]
        assert await decisions(resources) == before
        await invariants(resources)
