"""Operator tools against the real stack: re-driving dead letters after a fix, and replay --verify."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

import pytest

from aiff.bootstrap import Resources
from aiff.consumers import projector
from tests.helpers import projection_caught_up, running, wait_until
from tests.integration.upstream import Upstream, status_changed, ticket_created

pytestmark = pytest.mark.integration


async def aiff(resources: Resources, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": resources.settings.database_url, "AIFF_TOPIC_PREFIX": resources.settings.topic_prefix}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiff.cli", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def caught_up(resources: Resources, up: Upstream) -> None:
    ends = await up.end_offsets(resources.topics.domain)
    async with resources.pool.acquire() as conn:
        await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")


async def test_a_dead_letter_is_redriven_after_the_missing_ticket_arrives(resources: Resources) -> None:
    t = resources.topics
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.tickets, [status_changed(7, "cancelled")])  # arrives before its ticket exists
        await caught_up(resources, up)
        code, listing = await aiff(resources, "dlq", "list")
        assert code == 0 and "unknown ticket 7" in listing
        code, out = await aiff(resources, "dlq", "list", "--json")
        (letter,) = json.loads(out)
        assert code == 0 and letter["reason"].startswith("unknown ticket 7") and letter["consumer"] == "projector"
        await up.send(t.tickets, [ticket_created(7)])
        await caught_up(resources, up)
        assert await resources.pool.fetchval("SELECT status FROM tickets WHERE id = 7") == "open"
        code, out = await aiff(resources, "dlq", "redrive")
        assert code == 0 and "re-drove 1 dead letter" in out
        assert re.search(r"^dlq: re-driven: 1 letters in [\d.]+s \([\d,]+/s\)$", out, re.M), out  # one line, no bar, off a TTY
        await caught_up(resources, up)
    assert await resources.pool.fetchval("SELECT status FROM tickets WHERE id = 7") == "cancelled"


async def test_replay_verify_rebuilds_and_finds_no_difference(resources: Resources) -> None:
    t = resources.topics
    events = [ticket_created(i) for i in range(1, 201)] + [status_changed(i, "cancelled") for i in range(1, 50)]
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.tickets, events)
        await caught_up(resources, up)
    code, out = await aiff(resources, "offsets", "--json")
    tickets = [r for r in json.loads(out) if r["consumer"] == "projector" and r["topic"] == t.tickets]
    assert code == 0 and tickets and sum(r["end"] for r in tickets) == 249 and all(r["lag"] == 0 for r in tickets)
    code, out = await aiff(resources, "replay", "--verify")
    assert code == 0, out
    assert re.search(r"^  tickets +live +200 rows +\w+ +rebuilt +200 rows +\w+ +identical$", out, re.M), out
    assert "verify: zero differences" in out
    assert re.search(r"^replay: rebuilt: 249 records in [\d.]+s \([\d,]+/s\)$", out, re.M), out
