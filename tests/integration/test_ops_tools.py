"""`aiff dlq redrive` lands each letter once even when interrupted and run again; `aiff offsets reset` refuses while
the consumer group has live members and moves Postgres positions and Kafka's mirror together when it is stopped."""

from __future__ import annotations

import asyncio
import collections
import os
import sys

import pytest
from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from aiff.bootstrap import Resources
from aiff.consumers import projector
from aiff.events.topics import end_offsets
from aiff.tools import dlq
from aiff.tools.offsets import OffsetsError, Target, collect, group_id, live_members, reset
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, status_changed, ticket_created

pytestmark = pytest.mark.integration


async def caught_up(resources: Resources, up: Upstream) -> None:
    ends = await up.end_offsets(resources.topics.domain)
    async with resources.pool.acquire() as conn:
        await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")


async def _records(bootstrap: str, topic: str) -> list:
    ends = await end_offsets(bootstrap, [topic])
    return await dlq.read_range(bootstrap, {TopicPartition(t, p): (0, e) for (t, p), e in ends.items()})


async def _drop_ledger(resources: Resources) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=resources.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        ledger = dlq.ledger_topic(resources.topics)
        if ledger in await admin.list_topics():
            await admin.delete_topics([ledger])
    finally:
        await admin.close()


class Killed(Exception):
    """Stands for the process dying between Kafka's acknowledgement and the ledger's `done`."""


async def test_an_interrupted_redrive_run_again_lands_each_dead_letter_once(
    resources: Resources, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    t, bootstrap = resources.topics, resources.settings.kafka_bootstrap_servers
    monkeypatch.setattr(dlq, "CHUNK", 2)  # 5 letters: chunks of 2, 2, 1
    labels = {"consumer": "projector", "reason": "not_found"}
    dead_before = REGISTRY.get_sample_value("aiff_dead_letters_total", labels) or 0
    try:
        async with Upstream(bootstrap) as up, running(projector.build(resources)):
            await up.send(t.tickets, [status_changed(i, "cancelled") for i in range(1, 6)])  # before their tickets exist
            await wait_until(lambda: _count(bootstrap, t.dead_letters, 5), timeout=30, what="5 dead letters")
            assert REGISTRY.get_sample_value("aiff_dead_letters_total", labels) - dead_before == 5  # by consumer and reason
            await up.send(t.tickets, [ticket_created(i) for i in range(1, 6)])
            await caught_up(resources, up)

            def die_in_second_chunk(chunk: int) -> None:
                if chunk == 1:
                    raise Killed

            with pytest.raises(Killed):  # chunk 0 done; chunk 1 sent, ledger still `sending`; chunk 2 never sent
                await dlq.redrive(interrupt=die_in_second_chunk, settings=resources.settings)
            assert await dlq.redrive(settings=resources.settings) == 0
            assert "re-drove 1 dead letter(s) to their original topics; 4 already re-driven before" in capsys.readouterr().out
            assert await dlq.redrive(settings=resources.settings) == 0  # a third run finds nothing left
            assert "re-drove 0 dead letter(s) to their original topics; 5 already re-driven before" in capsys.readouterr().out

            redriven = collections.Counter(
                v.decode() for m in await _records(bootstrap, t.tickets) for k, v in m.headers or () if k == dlq.REDRIVE_HEADER
            )
            assert sorted(redriven.values()) == [1] * 5, redriven  # each letter on its topic exactly once
            await caught_up(resources, up)
        statuses = await resources.pool.fetch("SELECT status FROM tickets WHERE id BETWEEN 1 AND 5")
        assert [r["status"] for r in statuses] == ["cancelled"] * 5
    finally:
        await _drop_ledger(resources)


async def aiff_cli(resources: Resources, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": resources.settings.database_url, "AIFF_TOPIC_PREFIX": resources.settings.topic_prefix,
           "COLUMNS": "200"}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "aiff.cli", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def _count(bootstrap: str, topic: str, n: int) -> bool:
    return sum((await end_offsets(bootstrap, [topic])).values()) >= n


async def test_dlq_show_prints_headers_reason_and_payload(resources: Resources) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.tickets, [status_changed(9, "cancelled")])
        await caught_up(resources, up)
    code, out = await aiff_cli(resources, "dlq", "show", "0")
    assert code == 0, out
    assert "unknown ticket 9" in out and "header dlq_consumer" in out and '"status": "cancelled"' in out


async def test_offsets_reset_is_refused_while_the_group_has_live_members(resources: Resources) -> None:
    t, s = resources.topics, resources.settings
    group = group_id(s, "projector")
    async with Upstream(s.kafka_bootstrap_servers) as up:
        async with running(projector.build(resources)):
            await up.send(t.tickets, [ticket_created(i) for i in range(1, 31)])
            await caught_up(resources, up)
            await wait_until(lambda: live_members(s.kafka_bootstrap_servers, group), what="a live member in " + group)
            with pytest.raises(OffsetsError, match="live member"):
                await reset("projector", Target(earliest=True), settings=s)
            code, out = await aiff_cli(resources, "offsets", "reset", group, "--to-earliest")
            assert code == 1 and f"offsets reset refused: group {group} has 1 live member(s)" in out, out
            rows, members = await collect("projector", settings=s)
            assert members == {"projector": 1} and sum(r["end"] for r in rows if r["topic"] == t.tickets) == 30
        ends = await up.end_offsets([t.tickets])
        moved = await reset("projector", Target(earliest=True), settings=s)
        assert {(r["topic"], r["partition"]): r["to"] for r in moved if r["topic"] == t.tickets} == {tp: 0 for tp in ends}
        rows, members = await collect("projector", settings=s)
        tickets = [r for r in rows if r["topic"] == t.tickets]
        assert members == {"projector": 0}
        assert all(r["position"] == 0 and r["kafka"] == 0 and r["lag"] == r["end"] for r in tickets), tickets

        await reset("projector", Target(offset=3), topic=t.tickets, settings=s)
        rows, _ = await collect("projector", settings=s)
        assert {r["partition"]: r["position"] for r in rows if r["topic"] == t.tickets} == {
            p: min(3, end) for (_, p), end in ends.items()
        }
        async with running(projector.build(resources)):  # the replay from the reset is idempotent
            await caught_up(resources, up)
        rows, _ = await collect("projector", settings=s)
        for r in rows:  # the worker's gauge reports what it committed
            gauge = REGISTRY.get_sample_value("aiff_projection_position", {"consumer": "projector", "topic": r["topic"], "partition": str(r["partition"])})
            assert r["position"] in (None, 0) or gauge == r["position"], r
    assert await resources.pool.fetchval("SELECT count(*) FROM tickets") == 30
