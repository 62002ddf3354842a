"""`aiff replay <projection…>|all [--verify]`: rebuild read models from offset 0 while the live ones keep serving.

The rebuild goes into a shadow schema (`projections.shadow`), follows the live projector's positions, then swaps
the tables in one transaction at exactly those positions (the live projector is held for that moment only and
carries on from its own positions), and drops the old tables. `--verify` builds the same way but, instead of
swapping, compares the shadow with the live tables while the live projector is held at the same positions:
row counts, a checksum per table, and every differing key.

Only the projector is a pure projection: the other consumers (analytics, ai, sla) publish events as they go, so
replaying them would publish again; `all` means every replayable projection.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

import asyncpg

from aiff.events.topics import Topics
from aiff.projections import snapshots
from aiff.projections.shadow import PROJECTION, Shadow, live_positions
from aiff.settings import Settings, get_settings
from aiff.tools.progress import Bar

REPLAYABLE = ("projector",)
SWAP_ATTEMPTS = 5
REPLAY_BATCH = 20_000
"""Records per transaction of the rebuild: larger than the live projector's (no one waits on a shadow's latency)."""


@dataclass(frozen=True)
class Compared:
    """One table of `--verify`: the live and rebuilt row counts and checksums, and the keys whose rows differ."""

    table: str
    live: tuple[int, str]
    rebuilt: tuple[int, str]
    keys: list[tuple[str, str]]
    """(key, how it differs: 'only live' / 'only rebuilt' / 'different')."""

    @property
    def same(self) -> bool:
        return self.live == self.rebuilt and not self.keys


COMPARED_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": ("id", ()),
    "teams": ("id", ()),
    "assignments": ("event_id", ("id",)),
    "event_history": ("event_id", ("applied_at",)),
    "zones": ("name", ("updated_at",)),
    "team_positions": ("team_id", ()),
    "plans": ("team_id, plan_date", ()),
    "plan_visits": ("team_id, plan_date, sequence", ()),
}
"""Per table: its key and the columns that legitimately differ in a rebuild (serials, wall-clock stamps)."""


async def _row_expr(conn: asyncpg.Connection, schema: str, table: str, exclude: tuple[str, ...]) -> str:
    cols = [
        r["column_name"]
        for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            schema, table,
        )  # fmt: skip
        if r["column_name"] not in exclude
    ]
    return "ROW(" + ", ".join(f'x."{c}"' for c in cols) + ")::text"


async def compare(conn: asyncpg.Connection, live_schema: str, shadow_schema: str, max_keys: int = 10_000) -> list[Compared]:
    """Compare every projected table of two schemas: counts, md5 checksums, differing keys."""
    out = []
    for table, (key, exclude) in COMPARED_TABLES.items():
        row = await _row_expr(conn, live_schema, table, exclude)
        key_expr = "ROW(" + ", ".join(f"x.{k.strip()}" for k in key.split(",")) + ")::text"
        sums = []
        for schema in (live_schema, shadow_schema):
            rec = await conn.fetchrow(
                f"SELECT count(*) AS n, coalesce(md5(string_agg({row}, '|' ORDER BY {key_expr})), '') AS h FROM \"{schema}\".\"{table}\" x"
            )
            sums.append((rec["n"], rec["h"]))
        keys: list[tuple[str, str]] = []
        if sums[0] != sums[1]:
            rows = await conn.fetch(
                f"""SELECT coalesce(l.k, r.k) AS k, CASE WHEN r.k IS NULL THEN 'only live' WHEN l.k IS NULL THEN 'only rebuilt'
                           ELSE 'different' END AS how
                    FROM (SELECT {key_expr} AS k, md5({row}) AS h FROM "{live_schema}"."{table}" x) l
                    FULL JOIN (SELECT {key_expr} AS k, md5({row}) AS h FROM "{shadow_schema}"."{table}" x) r ON l.k = r.k
                    WHERE l.h IS DISTINCT FROM r.h ORDER BY 1 LIMIT {max_keys}"""
            )
            keys = [(r["k"], r["how"]) for r in rows]
        out.append(Compared(table, sums[0], sums[1], keys))
    return out


def print_comparison(results: list[Compared]) -> int:
    """Print the table of `--verify` and every differing key; returns how many tables differ."""
    differing = 0
    for c in results:
        differing += not c.same
        print(f"  {c.table:<15} live {c.live[0]:>9,} rows {c.live[1][:8] or '-':>8}   rebuilt {c.rebuilt[0]:>9,} rows "
              f"{c.rebuilt[1][:8] or '-':>8}   {'identical' if c.same else 'DIFFERENT'}")  # fmt: skip
        for key, how in c.keys:
            print(f"    {c.table} {key}: {how}")
    print("verify: zero differences" if not differing else f"verify: {differing} table(s) differ")
    return differing


async def replay(settings: Settings, *, verify: bool = False, progress: bool = True) -> tuple[int, dict[str, float]]:
    """Rebuild the projector into a shadow schema; swap it in (or, with `verify`, compare). Returns (exit code, figures)."""
    topics = Topics(settings.topic_prefix)
    live = await asyncpg.connect(settings.asyncpg_dsn)
    shadow: Shadow | None = None
    figures: dict[str, float] = {}
    try:
        live_schema = await live.fetchval("SELECT current_schema()")
        shadow = Shadow(
            dsn=settings.asyncpg_dsn.partition("?")[0], database_url=settings.database_url, live_schema=live_schema,
            teams_topic=topics.teams, topics=topics.domain, bootstrap=settings.kafka_bootstrap_servers,
            batch_size=max(settings.projector_batch_size, REPLAY_BATCH),
        )  # fmt: skip
        await shadow.open()
        target = await live_positions(live, PROJECTION, shadow.partitions)
        total = sum(target.values())
        print(f"replay: rebuilding the projector from {total:,} records into schema {shadow.name}", file=sys.stderr)
        with Bar("replay: rebuilt", total, unit="records") as bar:
            shadow.on_progress = lambda n: bar.update(n, total=max(bar.total or 0, n))
            started = time.perf_counter()
            await shadow.apply_until(target)
            figures["bulk_s"] = time.perf_counter() - started
            await shadow.build_indexes()
            figures["index_s"] = time.perf_counter() - started - figures["bulk_s"]
            await shadow.catch_up(live)
            figures["seconds"] = time.perf_counter() - started
            figures["records"] = shadow.applied
        figures["rate"] = shadow.applied / max(figures["seconds"], 1e-6)
        print(f"replay: bulk load {figures['bulk_s']:.2f}s, secondary indexes {figures['index_s']:.2f}s, catch-up "
              f"{figures['seconds'] - figures['bulk_s'] - figures['index_s']:.2f}s", file=sys.stderr)  # fmt: skip
        started = time.perf_counter()
        await shadow.vacuum()
        print(f"replay: VACUUM ANALYZE of the shadow tables {time.perf_counter() - started:.2f}s", file=sys.stderr)
        if verify:
            async with live.transaction():  # the live projector waits on its positions while both are compared
                target = await live_positions(live, PROJECTION, shadow.partitions, lock=True)
                await shadow.apply_until(target)
                results = await compare(live, live_schema, shadow.name)
            return (1 if print_comparison(results) else 0), figures
        started = time.perf_counter()
        stored = await snapshots.take(shadow.conn)  # swapped in with the tables; the live projector is not held for it
        figures["snapshot_s"] = time.perf_counter() - started
        print(f"replay: {stored} time-travel snapshot(s) taken in {figures['snapshot_s']:.1f}s", file=sys.stderr)
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                _, held = await shadow.swap_in(live)
                break
            except asyncpg.LockNotAvailableError:  # a reader held a table past lock_timeout: nothing changed, again
                if attempt == SWAP_ATTEMPTS:
                    raise
                print(f"replay: a table stayed busy; swap attempt {attempt + 1} of {SWAP_ATTEMPTS}", file=sys.stderr)
        figures["held_s"] = held
        print(f"replay: swapped in at the live projector's positions (projector held {held * 1000:.0f} ms); old tables dropped")
        return 0, figures
    finally:
        if shadow is not None:
            await shadow.close()
        await live.close()


def cmd_replay(projections: list[str], verify_only: bool = False) -> int:
    """Entry point of `aiff replay` (`--verify`: rebuild beside the live tables and compare, no swap)."""
    names = list(REPLAYABLE) if not projections or "all" in projections else projections
    unknown = [n for n in names if n not in REPLAYABLE]
    if unknown:
        print(f"replay: cannot replay {', '.join(unknown)}; replayable: {', '.join(REPLAYABLE)} (the others publish events)", file=sys.stderr)
        return 2
    code, _ = asyncio.run(replay(get_settings(), verify=verify_only))
    return code
