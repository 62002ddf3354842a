"""A consumer whose last commits Postgres lost (a crash with `synchronous_commit = off` loses the last few hundred
ms of them, effects and positions together) reads those records again instead of skipping them for good: the
fault drill once missed acknowledged tickets after a Postgres kill under CPU load."""

from __future__ import annotations

import asyncpg
import pytest

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config
from aiff.projections.projector import Record, Rejected
from tests.helpers import running, wait_until
from tests.integration.upstream import Upstream, ticket_created

pytestmark = pytest.mark.integration


class _Recorder:
    def __init__(self) -> None:
        self.offsets: list[int] = []

    async def __call__(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        self.offsets.extend(r.offset for r in records)
        return [], len(records)


async def _async(value: object) -> object:
    return value


async def test_records_whose_commit_postgres_lost_are_applied_again(resources: Resources) -> None:
    t = resources.topics
    handler = _Recorder()
    consumer = BatchConsumer(consumer_config(resources.settings, "lostcommit", [t.tickets]), resources.pool,
                             resources.publisher, handler)  # fmt: skip
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [ticket_created(1), ticket_created(2), ticket_created(3)], key="k")
        async with running(consumer):
            await wait_until(lambda: _async(len(handler.offsets) == 3), timeout=60, what="the first three applied")
            # What crash recovery leaves: the last two batches' effects and positions gone, the consumer unaware.
            await resources.pool.execute(
                "UPDATE projection_positions SET next_offset = 1 WHERE projection = 'lostcommit' AND topic = $1", t.tickets
            )
            await up.send(t.tickets, [ticket_created(4)], key="k")
            await wait_until(lambda: _async(len(handler.offsets) >= 6), timeout=20, what="offsets 1-3 applied again")  # fmt: skip

    assert sorted(handler.offsets) == [0, 1, 1, 2, 2, 3]
    stored = await resources.pool.fetchval("SELECT sum(next_offset) FROM projection_positions WHERE projection = 'lostcommit'")
    assert stored == 4
