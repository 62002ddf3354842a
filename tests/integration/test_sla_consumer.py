"""The SLA consumer on the real stack: one breach per overdue ticket (from a batch, and from the timer when no event
comes), one at-risk for a ticket planned late, nothing for a completed one, and nothing republished on restart."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.consumers import projector as projector_consumer
from aiff.consumers import sla as sla_consumer
from aiff.events.plans import PlanUpdated
from aiff.events.teams import TeamCreated, team_event
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged, ticket_event
from aiff.events.topics import end_offsets
from tests.helpers import running, wait_until

pytestmark = pytest.mark.integration

SLA_TYPES = ("aiff.ticket.sla_at_risk.v1", "aiff.ticket.sla_breached.v1")
TICK_S = 0.3


def created(tid: int, at: datetime, due: datetime):
    data = {"ticket_id": tid, "title": f"Fiber cut {tid}", "priority": "high", "zone": "Selangor", "category": "fiber",
            "latitude": 3.07, "longitude": 101.52, "due_date": due}  # fmt: skip
    return ticket_event(TicketCreated, data, time=at)


def scenario(now: datetime) -> list:
    """301: due an hour ago (breached at once); 302: due in 3 s, no plan and no later event (at risk now, breached
    by the timer); 303: due in 4 h, planned to end in 5 h (at risk); 304: overdue but completed (nothing)."""
    h = timedelta(hours=1)
    day = (now + timedelta(hours=8)).date().isoformat()
    visit = {"ticket_id": 303, "sequence": 1, "eta": now + 4 * h, "planned_start": now + 4 * h, "planned_end": now + 5 * h}
    return [
        team_event(TeamCreated, {"team_id": 1, "name": "Pasukan Satu", "zone": "Selangor", "skills": ["fiber"], "capacity": 4}, time=now - 3 * h),
        created(301, now - 2 * h, now - h),
        created(302, now, now + timedelta(seconds=3)),
        created(303, now, now + 4 * h),
        ticket_event(TicketAssigned, {"ticket_id": 303, "team_id": 1, "strategy": "greedy"}, time=now),
        team_event(PlanUpdated, {"team_id": 1, "plan_date": day, "revision": 1, "strategy": "route", "visits": [visit]}, time=now),
        created(304, now - 2 * h, now - h),
        ticket_event(TicketAssigned, {"ticket_id": 304, "team_id": 1, "strategy": "greedy"}, time=now - 2 * h),
        ticket_event(TicketStatusChanged, {"ticket_id": 304, "status": "in_progress"}, time=now - 2 * h),
        ticket_event(TicketStatusChanged, {"ticket_id": 304, "status": "completed"}, time=now - 2 * h),
    ]  # fmt: skip


async def sla_events_in_log(bootstrap: str, topic: str) -> Counter:
    """(type, ticket id) of every SLA event on the tickets topic, read from Kafka itself: a republished copy with
    the same id (which the projector would ignore) is counted too."""
    ends = {TopicPartition(t, p): o for (t, p), o in (await end_offsets(bootstrap, [topic])).items() if o > 0}
    found: Counter = Counter()
    if not ends:
        return found
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        remaining = dict(ends)
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    event = json.loads(r.value)
                    if event["type"] in SLA_TYPES:
                        found[(event["type"], event["data"]["ticket_id"])] += 1
                    if r.offset + 1 >= ends[tp]:
                        remaining.pop(tp, None)
    finally:
        await consumer.stop()
    return found


async def in_history(pool, event_type: str, ticket_id: int) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM event_history WHERE type = $1 AND entity_type = 'ticket' AND entity_id = $2", event_type, str(ticket_id)
    )


async def test_breaches_and_risks_once_and_not_again_after_a_restart(resources):
    pool = resources.pool
    bootstrap = resources.settings.kafka_bootstrap_servers
    topic = resources.topics.tickets
    now = datetime.now(UTC)
    await resources.publisher.publish_many(scenario(now))
    expected = {
        ("aiff.ticket.sla_breached.v1", 301): 1,
        ("aiff.ticket.sla_at_risk.v1", 302): 1,
        ("aiff.ticket.sla_breached.v1", 302): 1,
        ("aiff.ticket.sla_at_risk.v1", 303): 1,
    }

    sla = sla_consumer.build(resources, tick_s=TICK_S)
    async with running(projector_consumer.build(resources), sla):

        async def all_in_history():
            return all([await in_history(pool, t, tid) for t, tid in expected])

        await wait_until(all_in_history, timeout=60, what="the SLA events in the tickets' history")
    assert sla.ticks > 0

    first = await sla_events_in_log(bootstrap, topic)
    assert dict(first) == expected  # exactly once each; none for the completed ticket 304
    breach = await pool.fetchrow("SELECT event FROM event_history WHERE type = 'aiff.ticket.sla_breached.v1' AND entity_id = '302'")
    data = json.loads(breach["event"])["data"]
    assert datetime.fromisoformat(data["breached_at"]) == now + timedelta(seconds=3) and data["status_at_breach"] == "open"
    risk = await pool.fetchrow("SELECT event FROM event_history WHERE type = 'aiff.ticket.sla_at_risk.v1' AND entity_id = '303'")
    data = json.loads(risk["event"])["data"]
    assert data["reason"] == "planned_late" and data["minutes_late_expected"] == 60.0
    clocks = {r["ticket_id"]: r for r in await pool.fetch("SELECT * FROM sla_clocks")}
    assert clocks[301]["breached_event_id"] is not None and clocks[303]["breached_event_id"] is None
    assert not clocks[304]["open"] and clocks[304]["breached_event_id"] is None and clocks[304]["at_risk_event_id"] is None

    # Restart, re-reading the whole log (its positions dropped, as after a replay): every ticket is looked at
    # again, the timers come back from the table, and the clocks that already fired stay quiet. A new overdue
    # ticket shows the restarted consumer is applying batches, and a few ticks show its timer ran.
    await pool.execute("DELETE FROM projection_positions WHERE projection = $1", sla.config.name)
    await resources.publisher.publish_many([created(305, now - 2 * timedelta(hours=1), now - timedelta(hours=1))])
    again = sla_consumer.build(resources, tick_s=TICK_S)
    async with running(projector_consumer.build(resources), again):
        await wait_until(lambda: in_history(pool, "aiff.ticket.sla_breached.v1", 305), timeout=60, what="ticket 305's breach")

        async def ticked_twice():
            return again.ticks >= 2

        await wait_until(ticked_twice, timeout=30, what="two ticks after the restart")

    after = await sla_events_in_log(bootstrap, topic)
    assert dict(after) == {**expected, ("aiff.ticket.sla_breached.v1", 305): 1}
