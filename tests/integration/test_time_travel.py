"""Time travel on the real stack: the board `as_of` an instant (snapshot + the events after it) equals the
projector's own replay of the log cut at that instant, for instants between snapshots, on one, before any event,
and inside a burst of events milliseconds apart."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.api.asof import board_as_of
from aiff.bootstrap import Resources
from aiff.consumers import projector
from aiff.events.registry import decode
from aiff.projections import snapshots, writer
from aiff.projections.projector import Record, project_batch
from aiff.settings import Settings
from tests.helpers import isolated_settings, projection_caught_up, running, wait_until
from tests.integration.upstream import T0, Upstream, status_changed, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration

BURST = 600.0  # minutes after T0: 40 tickets created 10 ms apart


def history() -> list[dict]:
    events = []
    for i in range(1, 41):
        m = i * 10
        events.append(ticket_created(i, minutes=m, priority=("low", "medium", "high", "critical")[i % 4]))
        if i % 2 == 0:
            events.append(ticket_assigned(i, 1 + i % 3, minutes=m + 5))
        if i % 4 == 0:
            events.append(status_changed(i, "in_progress", minutes=m + 30))
        if i % 8 == 0:
            events.append(status_changed(i, "completed", minutes=m + 95, rating=4.5))
        if i % 6 == 0:
            events.append(status_changed(i, "cancelled", minutes=m + 50))
    for k in range(40):
        events.append(ticket_created(101 + k, minutes=BURST + k * 10 / 60_000))
        if k % 3 == 0:
            events.append(ticket_assigned(101 + k, 2, minutes=BURST + (k + 0.5) * 10 / 60_000))
    return sorted(events, key=lambda e: e["time"])


async def read_log(settings: Settings, topics: list[str]) -> list[Record]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or await _parts(consumer, t))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Record] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                records += [Record(m.topic, m.partition, m.offset, m.key, m.value) for m in messages]
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def _parts(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001
    return consumer.partitions_for_topic(topic) or set()


async def replay_cut(conn: asyncpg.Connection, records: list[Record], at) -> None:
    """The projector's own batch code over the log records whose event time is at or before `at`, in log order."""
    cut = [r for r in records if decode(r.value).time <= at]
    async with conn.transaction():
        await conn.execute("TRUNCATE tickets, teams, assignments, event_history")
        await project_batch(conn, cut)


TICKETS = "SELECT * FROM {}tickets ORDER BY id"
ACTIVE = "SELECT ticket_id, team_id, event_id, status, assigned_at FROM {}assignments WHERE status IN ('assigned', 'in_progress') ORDER BY ticket_id"
TEAMS = "SELECT * FROM {}teams ORDER BY id"


async def board(conn: asyncpg.Connection, prefix: str = "") -> list[list[dict]]:
    return [[dict(r) for r in await conn.fetch(q.format(prefix))] for q in (TICKETS, ACTIVE, TEAMS)]


async def test_as_of_equals_the_log_replayed_up_to_the_instant(resources: Resources, stack_settings: Settings) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.teams, [team_created(n) for n in (1, 2, 3)])
        await up.send(t.tickets, history())
        ends = await up.end_offsets(t.domain)
        async with resources.pool.acquire() as conn:
            await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
    async with resources.pool.acquire() as conn:
        stored = await snapshots.take(conn, now=T0 + timedelta(days=2), min_events=15, every=timedelta(hours=1))
        assert stored >= 3
        snaps = [r["at"] for r in await conn.fetch("SELECT at FROM board_snapshots ORDER BY at")]
    records = await read_log(resources.settings, t.domain)
    instants = [
        T0 - timedelta(hours=1),  # before anything happened: an empty board
        T0 + timedelta(minutes=95),
        T0 + timedelta(minutes=100),  # exactly when ticket 10 was created: included
        snaps[1],  # exactly on a snapshot
        snaps[1] + timedelta(minutes=17),
        T0 + timedelta(minutes=BURST + 20.5 * 10 / 60_000),  # inside the burst, between two events 10 ms apart
        T0 + timedelta(days=1),  # after everything
    ]
    async with isolated_settings(stack_settings) as ref_settings:
        ref = await asyncpg.connect(ref_settings.asyncpg_dsn)
        try:
            await writer.prepare_connection(ref)
            async with resources.pool.acquire() as conn:
                for at in instants:
                    await replay_cut(ref, records, at)
                    expected = await board(ref)
                    started = time.perf_counter()
                    async with board_as_of(conn, at):
                        got = await board(conn, "pg_temp.")
                    elapsed = time.perf_counter() - started
                    assert got == expected, at
                    assert elapsed < 1.0, (at, elapsed)
        finally:
            await ref.close()
    burst = instants[5]
    assert 0 < sum(1 for e in expected[0] if e["id"] > 100) == 40  # the last instant's board
    async with resources.pool.acquire() as conn, board_as_of(conn, burst):
        assert await conn.fetchval("SELECT count(*) FROM pg_temp.tickets WHERE id > 100") == 21, "a cut inside the burst"


async def test_a_late_event_invalidates_the_snapshots_it_falls_behind(resources: Resources) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(i, minutes=i * 30) for i in range(1, 31)])
        ends = await up.end_offsets(t.domain)
        async with resources.pool.acquire() as conn:
            await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
            assert await snapshots.take(conn, now=T0 + timedelta(days=1), min_events=5) >= 3
            await up.send(t.tickets, [ticket_created(99, minutes=45)])  # published now, happened at T0 + 45 min
            ends = await up.end_offsets(t.domain)
            await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
            await snapshots.take(conn, now=T0 + timedelta(days=1), min_events=5)
            async with board_as_of(conn, T0 + timedelta(hours=20)):
                assert await conn.fetchval("SELECT count(*) FROM pg_temp.tickets") == 31


async def test_the_projector_worker_extends_the_snapshots_on_its_own(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    real_take = snapshots.take
    monkeypatch.setattr("aiff.consumers.projector.snapshots.take", lambda conn: real_take(conn, min_events=5))
    res = dataclasses.replace(resources, settings=resources.settings.model_copy(update={"snapshot_interval_s": 0.2}))
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(res)):
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, [ticket_created(i, minutes=i * 30) for i in range(1, 31)])
        await wait_until(lambda: resources.pool.fetchval("SELECT count(*) FROM board_snapshots"), timeout=60, what="a snapshot")
