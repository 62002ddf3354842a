"""`aiff replay` on the real stack: a rebuild into shadow tables swapped in while readers read and the live
projector applies, and `--verify` naming every differing key."""

from __future__ import annotations

import asyncio

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import projector
from aiff.tools.replay import replay
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration


async def caught_up(resources: Resources, up: Upstream) -> None:
    ends = await up.end_offsets(resources.topics.domain)
    async with resources.pool.acquire() as conn:
        await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")


async def test_replay_swaps_in_while_readers_read_and_the_live_projector_applies(resources: Resources) -> None:
    t, pool = resources.topics, resources.pool
    first = [ticket_created(i, minutes=i) for i in range(1, 301)] + [ticket_assigned(i, 1, minutes=i + 0.5) for i in range(1, 101)]
    more = [ticket_created(i, minutes=i) for i in range(301, 401)]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.teams, [team_created(1)])
        await up.send(t.tickets, first)
        await caught_up(resources, up)
        table_before = await pool.fetchval("SELECT 'tickets'::regclass::oid")
        stop, counts = asyncio.Event(), []

        async def read() -> None:  # one pooled connection, its statement cached across the swap, as the API's
            async with pool.acquire() as conn:
                while not stop.is_set():
                    counts.append(await conn.fetchval("SELECT count(*) FROM tickets"))
                    await asyncio.sleep(0)

        reader = asyncio.create_task(read())
        publishing = asyncio.create_task(up.send(t.tickets, more))  # the live projector applies these meanwhile
        code, figures = await replay(resources.settings)
        stop.set()
        await asyncio.gather(reader, publishing)
        await caught_up(resources, up)
        assert code == 0 and figures["records"] >= 401
        assert await pool.fetchval("SELECT 'tickets'::regclass::oid") != table_before, "the rebuilt table was swapped in"
        assert counts and min(counts) >= 300, "a reader saw an empty or partial table"
        assert counts == sorted(counts), "a reader saw rows disappear"
        assert await pool.fetchval("SELECT count(*) FROM tickets") == 400
        assert await pool.fetchval("SELECT count(*) FROM assignments WHERE status = 'assigned'") == 100
        assert await pool.fetchval("SELECT count(*) FROM event_history") == 501, "every event applied exactly once"
        code, _ = await replay(resources.settings, verify=True)
    assert code == 0


async def test_verify_prints_every_differing_key(resources: Resources, capsys: pytest.CaptureFixture[str]) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.tickets, [ticket_created(i, minutes=i) for i in range(1, 21)])
        await caught_up(resources, up)
    await resources.pool.execute("UPDATE tickets SET title = 'tampered' WHERE id IN (3, 7)")
    await resources.pool.execute("DELETE FROM tickets WHERE id = 11")
    code, _ = await replay(resources.settings, verify=True)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "tickets (3): different" in out and "tickets (7): different" in out and "tickets (11): only rebuilt" in out
    assert "verify: 1 table(s) differ" in out
