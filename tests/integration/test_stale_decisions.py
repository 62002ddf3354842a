"""Dead letters mean bad input: through the real Kafka and projector, an engine assignment of a ticket cancelled
meanwhile is recorded in the ticket's history as refused (stale), counted, and not dead-lettered; the same event
from an upstream source is still dead-lettered, and the consumers downstream of the projector skip the stale one."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY

from aiff.bootstrap import Resources
from aiff.consumers import projector
from aiff.consumers.accepted import accepted_events
from aiff.events.topics import end_offsets
from aiff.projections.projector import Record
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, status_changed, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration

ASSIGNED = "aiff.ticket.assigned.v1"


def engine_assigned(ticket_id: int, team_id: int) -> dict:
    """What the assignment consumer publishes, decided before the ticket's cancellation was projected."""
    return {**ticket_assigned(ticket_id, team_id, minutes=3), "source": "urn:aiff:assignment"}


def stale_count() -> float:
    return REGISTRY.get_sample_value("aiff_stale_decisions_total", {"consumer": "projector", "type": ASSIGNED}) or 0.0


async def _log(resources: Resources, topic: str) -> list[Record]:
    """Every record of `topic`, as the consumers see them."""
    bootstrap = resources.settings.kafka_bootstrap_servers
    ends = {TopicPartition(t, p): o for (t, p), o in (await end_offsets(bootstrap, [topic])).items() if o > 0}
    if not ends:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[Record] = []
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)

        async def all_read() -> bool:
            for msgs in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers)) for m in msgs)
            return all([await consumer.position(tp) >= end for tp, end in ends.items()])

        await wait_until(all_read, timeout=30, what=f"the whole of {topic}")
    finally:
        await consumer.stop()
    return records


async def test_an_engine_assignment_of_a_cancelled_ticket_is_stale_not_a_dead_letter(resources: Resources) -> None:
    t = resources.topics
    before = stale_count()
    engine = engine_assigned(1, 1)
    upstream = ticket_assigned(2, 1, minutes=3)
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(1), status_changed(1, "cancelled"), engine])
        await up.send(t.tickets, [ticket_created(2), status_changed(2, "cancelled"), upstream])
        ends = await up.end_offsets(t.domain)
        async with running(projector.build(resources)):
            async with resources.pool.acquire() as conn:
                await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")

    rows = await resources.pool.fetch(
        "SELECT entity_id, outcome, reason, source FROM event_history WHERE type = $1 ORDER BY entity_id", ASSIGNED
    )
    assert [(r["entity_id"], r["outcome"], r["source"]) for r in rows] == [("1", "stale", "urn:aiff:assignment")]
    assert "from 'cancelled' to 'assigned'" in rows[0]["reason"]
    ticket = await resources.pool.fetchrow("SELECT status, assigned_team FROM tickets WHERE id = 1")
    assert (ticket["status"], ticket["assigned_team"]) == ("cancelled", None)
    assert await resources.pool.fetchval("SELECT count(*) FROM assignments WHERE ticket_id = 1") == 0
    assert stale_count() == before + 1

    letters = await _log(resources, t.dead_letters)
    assert len(letters) == 1  # only the upstream's assignment of ticket 2: bad input, as before
    headers = {k: v.decode() for k, v in letters[0].headers}
    assert headers["dlq_error_code"] == "conflict" and b'"ticket_id": 2' in letters[0].value

    # the consumers that act on what the projector accepted skip it as stale, without acting on it
    async with resources.pool.acquire() as conn:
        events, skipped = await accepted_events(conn, await _log(resources, t.tickets))
    assert str(engine["id"]) not in {str(e.id) for e in events}
    stale = [s for s in skipped if s.stale]
    assert len(stale) == 1 and stale[0].event_type == ASSIGNED and b"urn:aiff:assignment" in (stale[0].record.value or b"")


async def test_a_redelivered_stale_decision_changes_nothing(resources: Resources) -> None:
    t = resources.topics
    engine = engine_assigned(1, 1)
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(1), status_changed(1, "cancelled"), engine, engine])
        ends = await up.end_offsets(t.domain)
        async with running(projector.build(resources)):
            async with resources.pool.acquire() as conn:
                await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
        await up.send(t.tickets, [engine])  # a later batch: found in the history, ignored
        ends = await up.end_offsets(t.domain)
        async with running(projector.build(resources)):
            async with resources.pool.acquire() as conn:
                await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector again")
    rows = await resources.pool.fetch("SELECT outcome FROM event_history WHERE type = $1", ASSIGNED)
    assert [r["outcome"] for r in rows] == ["stale"]
    assert await _log(resources, t.dead_letters) == []
