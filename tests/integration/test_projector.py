"""The projector on the real Kafka and Postgres: exact projections, idempotence, crash recovery, dead letters."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaConsumer

from aiff.bootstrap import Resources
from aiff.consumers import projector
from tests.helpers import projection_caught_up, running, table_checksum, wait_until
from tests.integration.upstream import (
    Upstream,
    cloud_event,
    status_changed,
    team_created,
    ticket_assigned,
    ticket_created,
)

pytestmark = pytest.mark.integration


def running_projector(resources: Resources, name: str = "projector") -> contextlib.AbstractAsyncContextManager[None]:
    return running(projector.build(resources, name=name))


async def caught_up(resources: Resources, upstream: Upstream, name: str = "projector") -> None:
    ends = await upstream.end_offsets(resources.topics.domain)
    async with resources.pool.acquire() as conn:
        await wait_until(lambda: projection_caught_up(conn, name, ends), timeout=60, what=f"{name} to reach {ends}")


async def checksums(resources: Resources) -> dict[str, str]:
    async with resources.pool.acquire() as conn:
        return {
            "tickets": await table_checksum(conn, "tickets", "id"),
            "teams": await table_checksum(conn, "teams", "id"),
            "assignments": await table_checksum(conn, "assignments", "event_id", exclude=("id",)),
            "history": await table_checksum(conn, "event_history", "event_id", exclude=("applied_at",)),
        }


async def test_upstream_events_are_projected_exactly(resources: Resources) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1), team_created(2, zone="Johor")])
        events = []
        for i in range(1, 41):
            events.append(ticket_created(i, zone="Johor" if i % 2 else "Selangor", priority="critical" if i % 5 == 0 else "low"))
        for i in range(1, 21):
            events.append(ticket_assigned(i, 1 + i % 2, minutes=10))
        for i in range(1, 11):
            events += [status_changed(i, "in_progress", minutes=20), status_changed(i, "completed", minutes=60, rating=4.5)]
        await up.send(t.tickets, events)
        async with running_projector(resources):
            await caught_up(resources, up)

    rows = {r["id"]: r for r in await resources.pool.fetch("SELECT * FROM tickets")}
    assert len(rows) == 40
    for i in range(1, 41):
        expected = "completed" if i <= 10 else "assigned" if i <= 20 else "open"
        assert rows[i]["status"] == expected, i
        assert rows[i]["zone"] == ("Johor" if i % 2 else "Selangor")
        assert rows[i]["ticket_number"] == f"TKT-2026-{i:06d}"
        assert rows[i]["assigned_team"] == (1 + i % 2 if i <= 20 else None)
    assert rows[3]["customer_rating"] == 4.5 and rows[3]["completed_at"] is not None
    active = await resources.pool.fetchval("SELECT count(*) FROM assignments WHERE status IN ('assigned','in_progress')")
    done = await resources.pool.fetchval("SELECT count(*) FROM assignments WHERE status = 'completed'")
    assert (active, done) == (10, 10)
    history = await resources.pool.fetchval("SELECT count(*) FROM event_history WHERE entity_type = 'ticket'")
    assert history == len(events)
    teams = await resources.pool.fetch("SELECT id, zone, capacity FROM teams ORDER BY id")
    assert [(r["id"], r["zone"], r["capacity"]) for r in teams] == [(1, "Selangor", 5), (2, "Johor", 5)]


async def test_redelivered_events_change_nothing(resources: Resources) -> None:
    t = resources.topics
    events = [ticket_created(i) for i in range(1, 31)] + [ticket_assigned(i, 1) for i in range(1, 11)]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, events)
        async with running_projector(resources):
            await caught_up(resources, up)
            before = await checksums(resources)
            await up.send(t.tickets, events)  # the same event ids, published again
            await up.send(t.teams, [team_created(1)])  # a new id for an existing team: refused, no change
            await caught_up(resources, up)
            after = await checksums(resources)
    assert after == before


async def test_dead_letters_carry_the_reason_and_later_events_still_project(resources: Resources) -> None:
    t = resources.topics
    bad_schema = cloud_event("aiff.ticket.created.v1", "7", {"ticket_id": 7, "title": "", "priority": "urgent", "zone": "Johor"})
    unknown_type = cloud_event("aiff.ticket.teleported.v1", "8", {"ticket_id": 8})
    unknown_zone = ticket_created(9, zone="Atlantis")
    bad_transition = status_changed(10, "completed")
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [b"{this is not json", bad_schema, unknown_type, unknown_zone], key="x")
        await up.send(t.tickets, [ticket_created(10), bad_transition, ticket_created(11)], key="10")
        async with running_projector(resources):
            await caught_up(resources, up)

    ids = [r["id"] for r in await resources.pool.fetch("SELECT id FROM tickets ORDER BY id")]
    assert ids == [10, 11]
    letters = await _read_dead_letters(resources, expected=5)
    reasons = sorted(h["dlq_reason"] for h in letters)
    assert any(r.startswith("invalid JSON") for r in reasons)
    assert any("schema violation" in r and "priority" in r and "title" in r for r in reasons)
    assert any(r == "unknown event type: aiff.ticket.teleported.v1" for r in reasons)
    assert any(r == "unknown zone 'Atlantis'" for r in reasons)
    assert any("cannot move a ticket from 'open' to 'completed'" in r for r in reasons)
    assert all(h["dlq_consumer"] == "projector" and h["dlq_topic"] == t.tickets for h in letters)


async def _read_dead_letters(resources: Resources, expected: int) -> list[dict[str, str]]:
    consumer = AIOKafkaConsumer(
        resources.topics.dead_letters, bootstrap_servers=resources.settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    letters: list[dict[str, str]] = []
    try:
        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for msgs in batch.values():
                letters.extend({k: v.decode() for k, v in m.headers} for m in msgs)
            return len(letters) >= expected

        await wait_until(enough, timeout=20, what=f"{expected} dead letters")
    finally:
        await consumer.stop()
    assert len(letters) == expected
    return letters


async def test_sigkill_mid_stream_converges_to_an_uninterrupted_run(resources: Resources) -> None:
    t = resources.topics
    n = 30_000
    events: list[dict] = []
    for i in range(1, n + 1):
        events.append(ticket_created(i, zone=("Sabah", "Johor", "Perak")[i % 3]))
        if i % 3 == 0:
            events.append(status_changed(i, "cancelled", minutes=5))
    env = {
        **os.environ,
        "DATABASE_URL": resources.settings.database_url,
        "AIFF_TOPIC_PREFIX": resources.settings.topic_prefix,
        "AIFF_PROJECTOR_BATCH_SIZE": "2000",
        "AIFF_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }
    cmd = [sys.executable, "-m", "aiff.cli", "worker", "projector"]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, events)
        ends = await up.end_offsets(t.domain)
        total = sum(ends.values())
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            async def partly_done() -> bool:
                done = await resources.pool.fetchval(
                    "SELECT coalesce(sum(next_offset), 0) FROM projection_positions WHERE projection = 'projector'"
                )
                return 0 < done < total

            await wait_until(partly_done, timeout=60, interval=0.01, what="the projector to be mid-stream")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        partial = await resources.pool.fetchval("SELECT count(*) FROM tickets")
        assert 0 < partial < n

        restarted = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await caught_up(resources, up)
        finally:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=30)
        recovered = await checksums(resources)

        # The same log projected without interruption, under another projection name, into cleared tables.
        await resources.pool.execute("TRUNCATE tickets, assignments, teams, event_history")
        async with running_projector(resources, name="reference"):
            await caught_up(resources, up, name="reference")
        reference = await checksums(resources)
    assert await resources.pool.fetchval("SELECT count(*) FROM tickets") == n
    assert recovered == reference
    assert json.dumps(recovered) != json.dumps({k: "" for k in recovered})
