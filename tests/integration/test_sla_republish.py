"""An SLA event redone after a restart that lost its clock row (the publish was acknowledged, the transaction that
recorded it was not committed) carries the same content under the same id: the projector ignores the copy instead
of dead-lettering a DuplicateIdConflict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import projector as projector_consumer
from aiff.consumers import sla as sla_consumer
from tests.helpers import running, wait_until
from tests.integration.test_sla_consumer import TICK_S, created, in_history
from tests.integration.test_stale_decisions import _log

pytestmark = pytest.mark.integration

AT_RISK = "aiff.ticket.sla_at_risk.v1"


async def _clock_fired(resources: Resources, ticket_id: int) -> bool:
    return bool(await resources.pool.fetchval("SELECT at_risk_event_id IS NOT NULL FROM sla_clocks WHERE ticket_id = $1", ticket_id))


async def _run_until_at_risk(resources: Resources, ticket_id: int) -> None:
    """Projector and SLA consumer until the ticket's clock recorded its at-risk event and the timer ticked twice."""
    sla = sla_consumer.build(resources, tick_s=TICK_S)
    async with running(projector_consumer.build(resources), sla):
        await wait_until(lambda: _clock_fired(resources, ticket_id), timeout=60, what=f"ticket {ticket_id}'s at-risk clock")
        await wait_until(lambda: in_history(resources.pool, AT_RISK, ticket_id), timeout=60, what="the at-risk event applied")

        async def ticked_twice() -> bool:
            return sla.ticks >= 2

        await wait_until(ticked_twice, timeout=30, what="two SLA ticks")


async def test_an_at_risk_redone_after_a_lost_commit_is_the_same_event(resources: Resources) -> None:
    now = datetime.now(UTC)
    # unplanned, due in 30 min (inside the 60 min horizon): at risk as soon as the SLA consumer sees it
    await resources.publisher.publish_many([created(401, now - timedelta(hours=2), now + timedelta(minutes=30))])
    await _run_until_at_risk(resources, 401)

    # What a crash between the acknowledged publish and the commit leaves: no clock row, the batch not consumed.
    await resources.pool.execute("DELETE FROM sla_clocks WHERE ticket_id = 401")
    await resources.pool.execute("DELETE FROM projection_positions WHERE projection = 'sla'")
    await _run_until_at_risk(resources, 401)

    published = [r for r in await _log(resources, resources.topics.tickets) if json.loads(r.value)["type"] == AT_RISK]
    assert len(published) == 2  # decided again, later, after the restart
    first, again = (json.loads(r.value) for r in published)
    assert first == again
    assert await _log(resources, resources.topics.dead_letters) == []
    assert await in_history(resources.pool, AT_RISK, 401) == 1
