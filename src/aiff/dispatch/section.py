"""The decision section: where every decision that takes a team's capacity is made, one at a time.

The engine's re-plans and the dispatcher's assign, pin-to-a-team and move commands all take capacity. Each
runs inside this section: a transaction holding the decision lock (across processes and instances), on read
models that hold every decision published before it (the outbox of published offsets, waited for in the
projector), and it records the offsets of what it published before the lock is released. So two deciders
never both see a team's last free slot (invariant 3), whichever entry point they came from. A team belongs to
one zone and a zone to one region, so the engine's planners lock only their region; the dispatcher's
commands and the baseline strategies lock every region.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from aiff.projections import engine_queries as q
from aiff.zones import REGIONS, region_partition


@dataclass
class Section:
    """What a decision published inside the section (topic, partition) -> last offset."""

    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def published(self, metadata: Iterable) -> None:  # RecordMetadata
        for m in metadata:
            key = (m.topic, m.partition)
            self.offsets[key] = max(self.offsets.get(key, -1), m.offset)


async def enter(conn: asyncpg.Connection, needed: dict[tuple[str, int], int] | None = None,
                regions: Iterable[str] | None = None) -> None:
    """Take the decision lock of `regions` (all of them when None: a decision that may touch any team's
    capacity) - transaction-scoped, the caller holds a transaction - and wait until the projector applied
    `needed` and every decision published before. Locks are taken in one order, so sections never deadlock;
    planners of disjoint regions run at once."""
    for partition in sorted({region_partition(r) for r in (REGIONS if regions is None else regions)}):
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", q.DECISION_LOCK, partition)
    needed = dict(needed or {})
    for tp, offset in (await q.outbox(conn)).items():
        needed[tp] = max(needed.get(tp, -1), offset)
    await q.wait_for_projector(conn, needed)


@asynccontextmanager
async def decision_section(conn: asyncpg.Connection) -> AsyncIterator[Section]:
    """`async with decision_section(conn) as s: ...; s.published(metadata)` - one transaction, lock released at
    its end, after the published offsets are recorded."""
    async with conn.transaction():
        await enter(conn)
        section = Section()
        yield section
        await q.record_outbox(conn, section.offsets)
