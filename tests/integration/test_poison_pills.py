"""Poison pills and contract edges through the real Kafka and the running consumers: each is dead-lettered with
its reason (an oversized one truncated, pointing at the original) and everything behind it still projects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from aiff.bootstrap import Resources
from aiff.consumers import analytics, assignment, projector
from aiff.consumers.dead_letters import MAX_DEAD_LETTER_BYTES
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, cloud_event, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration


async def _dead_letters(resources: Resources, expected: int) -> list:
    consumer = AIOKafkaConsumer(resources.topics.dead_letters, bootstrap_servers=resources.settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024)  # fmt: skip
    await consumer.start()
    letters: list = []
    try:
        async def enough() -> bool:
            for msgs in (await consumer.getmany(timeout_ms=200)).values():
                letters.extend(msgs)
            return len(letters) >= expected

        await wait_until(enough, timeout=30, what=f"{expected} dead letters")
    finally:
        await consumer.stop()
    return letters


async def _caught_up(resources: Resources, up: Upstream, *names: str) -> None:
    ends = await up.end_offsets(resources.topics.domain)
    async with resources.pool.acquire() as conn:
        for name in names:
            await wait_until(lambda: projection_caught_up(conn, name, ends), timeout=60, what=f"{name} to reach {ends}")


async def test_poison_pills_are_dead_lettered_and_the_consumers_carry_on(resources: Resources) -> None:
    t = resources.topics
    now = datetime.now(UTC).isoformat()
    huge = b'{"type": "aiff.ticket.created.v1", "pad": "' + b"x" * (1_048_400 - 45) + b'"}'
    assert len(huge) == 1_048_400
    pills: list = [
        cloud_event("aiff.ticket.created.v1", "1", {"ticket_id": 2**64, "title": "t", "priority": "low", "zone": "Johor"}),
        {**ticket_created(2), "time": "9999-12-31T23:00:00Z"},
        {**ticket_created(3), "time": "2026-11-22T08:00:00"},
        ticket_assigned(4, 2**31),
        ticket_assigned(4, 987654),
    ]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        raw = AIOKafkaProducer(bootstrap_servers=resources.settings.kafka_bootstrap_servers, acks="all", max_request_size=2 * 1024 * 1024)
        await raw.start()
        try:
            await raw.send_and_wait(t.tickets, None, key=b"4")  # a tombstone
            await raw.send_and_wait(t.tickets, huge, key=b"4", headers=[("origin", b"x" * 100)])
        finally:
            await raw.stop()
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(4, minutes=-1), {**ticket_created(10**12), "time": now}, *pills], key="4")
        await up.send(t.tickets, [ticket_created(5)], key="4")
        async with running(projector.build(resources), assignment.build(resources), analytics.build(resources)):
            await _caught_up(resources, up, "projector", "assignment", "analytics")

    ids = [r["id"] for r in await resources.pool.fetch("SELECT id FROM tickets ORDER BY id")]
    assert ids == [4, 5, 10**12]
    letters = await _dead_letters(resources, expected=7)
    assert len(letters) == 7
    headers = [{k: v.decode() for k, v in m.headers} for m in letters]
    reasons = [h["dlq_reason"] for h in headers]
    assert any("tombstone" in r for r in reasons)
    assert any("ticket_id" in r for r in reasons) and any("time" in r and "2000 to 2100" in r for r in reasons)
    assert any("timezone" in r for r in reasons) and any("team_id" in r for r in reasons)
    assert any(r == "unknown team 987654" for r in reasons)
    (big,) = [(m, h) for m, h in zip(letters, headers) if h.get("dlq_truncated")]
    message, h = big
    assert h["dlq_original_bytes"] == str(len(huge)) and h["dlq_topic"] == t.tickets and h["dlq_reason"].startswith("schema violation")
    assert h["dlq_error_code"] == "contract_violation" and "origin" not in h
    assert message.value == huge[: len(message.value)] and len(message.value) > 900_000
    size = len(message.value) + len(message.key or b"") + sum(len(k) + len(v) for k, v in message.headers)
    assert size <= MAX_DEAD_LETTER_BYTES
    assert json.loads((await resources.pool.fetchval("SELECT event FROM event_history WHERE entity_id = '5'")))["data"]["ticket_id"] == 5
