"""`aiff replay`: rebuild the projector's read models from the start of the log.

`--verify` rebuilds into a scratch schema beside the live one, with its own position, and compares every
projected table row by row (zero differences expected); the live system keeps running. Without it, the
projector's tables and position are cleared so that `aiff worker projector` rebuilds them from offset 0
(stop the workers first).
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import asyncpg

from aiff.bootstrap import open_resources
from aiff.consumers import projector
from aiff.events.topics import end_offsets
from aiff.projections import migrate
from aiff.settings import get_settings
from aiff.tools.catchup import wait_caught_up
from aiff.tools.progress import Bar

PROJECTED_TABLES = {
    "tickets": ("id", ()),
    "teams": ("id", ()),
    "assignments": ("event_id", ("id",)),
    "event_history": ("event_id", ("applied_at",)),
    "zones": ("name", ("updated_at",)),
}


async def _checksum(conn: asyncpg.Connection, schema: str, table: str, order: str, exclude: tuple[str, ...]) -> tuple[int, str]:
    cols = [
        r["column_name"]
        for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            schema,
            table,
        )
        if r["column_name"] not in exclude
    ]
    row = "ROW(" + ", ".join(f'"{c}"' for c in cols) + ")::text"
    rec = await conn.fetchrow(f'SELECT count(*) AS n, coalesce(md5(string_agg({row}, \'|\' ORDER BY "{order}")), \'\') AS h FROM "{schema}"."{table}"')
    return rec["n"], rec["h"]


async def verify() -> int:
    settings = get_settings()
    scratch = f"replay_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(settings.asyncpg_dsn)
    live_schema = await admin.fetchval("SELECT current_schema()")
    await admin.execute(f"CREATE SCHEMA {scratch}")
    try:
        url = f"{settings.database_url}{'&' if '?' in settings.database_url else '?'}search_path={scratch}"
        await asyncio.to_thread(migrate.upgrade, url)
        scratch_settings = settings.model_copy(update={"database_url": url})
        async with open_resources(scratch_settings) as res:
            ends = await end_offsets(settings.kafka_bootstrap_servers, res.topics.domain)
            total = sum(ends.values())
            print(f"replay: rebuilding from {total:,} records into schema {scratch}", file=sys.stderr)
            stop = asyncio.Event()
            consumer = projector.build(res, name=f"replay-{scratch}")
            with Bar("replay: rebuilt", total, unit="records") as bar:  # begun before the consumer: it counts all
                task = asyncio.create_task(consumer.run(stop))
                try:
                    await wait_caught_up(res.pool, settings.kafka_bootstrap_servers, res.topics.domain,
                                         projection=f"replay-{scratch}", bar=bar)
                finally:
                    stop.set()
                    await task
        differences = 0
        for table, (order, exclude) in PROJECTED_TABLES.items():
            live = await _checksum(admin, live_schema, table, order, exclude)
            rebuilt = await _checksum(admin, scratch, table, order, exclude)
            same = live == rebuilt
            differences += not same
            print(f"  {table:<14} live {live[0]:>9,} rows   rebuilt {rebuilt[0]:>9,} rows   {'identical' if same else 'DIFFERENT'}")
        print("verify: zero differences" if not differences else f"verify: {differences} table(s) differ (the live projector may still be behind)")
        return 0 if not differences else 1
    finally:
        await admin.execute(f"DROP SCHEMA {scratch} CASCADE")
        await admin.close()


async def reset() -> int:
    settings = get_settings()
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        async with conn.transaction():
            await conn.execute("TRUNCATE tickets, teams, assignments, event_history")
            await conn.execute("UPDATE zones SET assignment_mode = 'auto'")
            await conn.execute("DELETE FROM projection_positions WHERE projection = 'projector'")
    finally:
        await conn.close()
    print("replay: projector tables and position cleared; start `aiff worker projector` to rebuild from offset 0")
    return 0


def cmd_replay(verify_only: bool = False) -> int:
    """Entry point of `aiff replay` (`--verify`: rebuild beside the live tables and compare)."""
    return asyncio.run(verify() if verify_only else reset())
