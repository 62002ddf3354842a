"""Load deterministic demo data straight into a (migrated, isolated) schema through the projector's own fold.

The assistant's benchmark and tests need realistic read models without Kafka: the events of
`aiff.demo.generate` go through `project_batch`, the same code the projector consumer runs.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from aiff.demo.generator import generate
from aiff.projections import writer
from aiff.projections.projector import Record, project_batch

BATCH = 2_000


async def load_demo(conn: asyncpg.Connection, seed: int = 7, teams: int = 60, tickets: int = 3_000, days: int = 60, now: datetime | None = None) -> dict:
    """Project the demo zones, teams and ticket history; returns counts."""
    data = generate(seed=seed, teams=teams, tickets=tickets, days=days, now=now)
    await writer.prepare_connection(conn)
    events = [*data.zone_events, *data.team_events, *data.ticket_events]
    offset = 0
    for at in range(0, len(events), BATCH):
        chunk = events[at : at + BATCH]
        records = []
        for e in chunk:
            records.append(Record(f"demo.{e.topic_kind}", 0, offset, e.key(), e.to_json()))
            offset += 1
        async with conn.transaction():
            rejected, _ = await project_batch(conn, records)
        if rejected:
            raise RuntimeError(f"demo events refused: {rejected[0].reason}")
    return {"events": len(events), "teams": teams, "tickets": tickets, "now": data.now}
