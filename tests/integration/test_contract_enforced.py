"""Item 4 of issue 11 on the real stack: a reused id with other content is a conflict (an exact redelivery is
not), a literal backslash-u0000 is text, and the analytics and AI workers act only on what the projector took."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer

from aiff.bootstrap import Resources
from aiff.consumers import ai, analytics, projector
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration


async def _caught_up(resources: Resources, up: Upstream, *names: str) -> None:
    t = resources.topics
    reads = {"projector": t.domain, "analytics": [t.tickets, t.teams], "ai": [t.tickets]}
    async with resources.pool.acquire() as conn:
        for name in names:
            ends = await up.end_offsets(reads[name])
            await wait_until(lambda: projection_caught_up(conn, name, ends), timeout=90, what=f"{name} to reach {ends}")


async def _all(resources: Resources, topic: str) -> list:
    ends = await Upstream(resources.settings.kafka_bootstrap_servers).end_offsets([topic])
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=resources.settings.kafka_bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    out: list = []
    try:
        async def read() -> bool:
            for msgs in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(msgs)
            return len(out) >= sum(ends.values())

        await wait_until(read, timeout=20, what=f"all of {topic}")
    finally:
        await consumer.stop()
    return out


async def test_a_reused_id_with_other_content_is_a_conflict_and_a_redelivery_is_not(resources: Resources) -> None:
    t = resources.topics
    original = ticket_created(1)
    literal = ticket_created(2)
    literal["data"]["title"] = "path C:\\u0000 stays text"  # JSON text holds an escaped backslash: no NUL
    nul = ticket_created(3)
    nul["data"]["title"] = "a\x00b"
    conflicting = {**ticket_created(4), "id": original["id"]}
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [original, literal, nul], key="1")
        async with running(projector.build(resources)):
            await _caught_up(resources, up, "projector")
            await up.send(t.tickets, [original, conflicting, original], key="1")  # redelivered, reused, redelivered
            await _caught_up(resources, up, "projector")
    assert [r["id"] for r in await resources.pool.fetch("SELECT id FROM tickets ORDER BY id")] == [1, 2]
    assert await resources.pool.fetchval("SELECT title FROM tickets WHERE id = 2") == "path C:\\u0000 stays text"
    letters = await _all(resources, t.dead_letters)
    codes = sorted({k: v.decode() for k, v in m.headers}["dlq_error_code"] for m in letters)
    assert codes == ["contract_violation", "duplicate_id_conflict"]
    conflict = next(m for m in letters if (b"dlq_error_code", b"duplicate_id_conflict") in [(k.encode(), v) for k, v in m.headers])
    assert json.loads(conflict.value)["data"]["ticket_id"] == 4
    assert "already applied with different content" in dict(conflict.headers)["dlq_reason"].decode()


async def test_analytics_and_ai_act_only_on_what_the_projector_applied(resources: Resources) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(1, zone="Selangor")], key="1")
        ai_worker = ai.build(resources)
        async with running(projector.build(resources), analytics.build(resources), ai_worker):
            await _caught_up(resources, up, "projector", "analytics", "ai")
            refused = [ticket_created(2, zone="Atlantis"), ticket_assigned(1, 987654)]
            duplicate = ticket_created(1, zone="Johor")  # a second creation of ticket 1: refused
            duplicate["data"]["title"] = "Completely different words about a power outage"
            await up.send(t.tickets, [*refused, duplicate], key="1")
            await up.send(t.tickets, [ticket_assigned(1, 1, minutes=5)], key="1")  # accepted: the control
            await _caught_up(resources, up, "projector", "analytics", "ai")
            await _caught_up(resources, up, "projector")  # follow-ups the workers published, if any, are applied too

    letters = await _all(resources, t.dead_letters)
    assert len(letters) == 3, [dict(m.headers).get("dlq_reason") for m in letters]  # the three refusals, no follow-ups
    enriched = {r["ticket_id"] for r in await resources.pool.fetch("SELECT ticket_id FROM ticket_enrichments")}
    assert enriched == {1}
    enrichment_events = [json.loads(m.value) for m in await _all(resources, t.tickets) if b"aiff.ticket.enriched.v1" in (m.value or b"")]
    assert [e["data"]["ticket_id"] for e in enrichment_events] == [1]
    teams = {r["team_id"] for r in await resources.pool.fetch("SELECT team_id FROM team_daily_stats")}
    assert teams == {1} and await resources.pool.fetchval("SELECT count(*) FROM analytics_team_metrics WHERE team_id = 987654") == 0
    zones = {r["zone"] for r in await resources.pool.fetch("SELECT zone FROM zone_daily_stats WHERE created > 0")}
    assert zones == {"Selangor"}


async def test_a_replay_sees_teams_before_the_assignments_to_them(resources: Resources) -> None:
    """Many small batches over a backlog (as in `aiff replay`): every assignment to an existing team applies."""
    t = resources.topics
    events = []
    for i in range(1, 301):
        events += [ticket_created(i), ticket_assigned(i, 1 + i % 3)]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1), team_created(2), team_created(3)])
        await up.send(t.tickets, events)
        small = resources.settings.model_copy(update={"projector_batch_size": 40})
        async with running(projector.build(Resources(small, resources.topics, resources.pool, resources.publisher, resources.redis))):
            await _caught_up(resources, up, "projector")
    assert await resources.pool.fetchval("SELECT count(*) FROM assignments") == 300
