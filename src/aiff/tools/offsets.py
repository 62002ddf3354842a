"""`aiff offsets`: each consumer's stored positions against the log end, per topic-partition, and its lag.

Positions are what the consumers committed in Postgres (`projection_positions`, in the same transaction as
their effects), not Kafka's group offsets, which AIFF never commits. A partition of a topic the consumer
reads that has no stored position yet counts from offset 0.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from rich.table import Table

from aiff.events.topics import end_offsets
from aiff.settings import get_settings
from aiff.tools.output import print_json, print_table


async def log_ends(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """End offsets of the topics that exist (positions may outlive a deleted topic)."""
    try:
        return await end_offsets(bootstrap, topics) if topics else {}
    except LookupError:
        ends: dict[tuple[str, int], int] = {}
        for topic in topics:
            try:
                ends |= await end_offsets(bootstrap, [topic])
            except LookupError:
                continue
        return ends


def lag_rows(stored: list[tuple[str, str, int, int]], ends: dict[tuple[str, int], int]) -> list[dict[str, Any]]:
    """One row per consumer and partition of the topics it reads: position, log end, lag (None when unknown)."""
    positions = {(c, t, p): o for c, t, p, o in stored}
    partitions = {(t, p) for (t, p) in ends} | {(t, p) for _, t, p, _ in stored}
    rows = []
    for consumer in sorted({c for c, *_ in stored}):
        topics = {t for c, t, _, _ in stored if c == consumer}
        for topic, partition in sorted(tp for tp in partitions if tp[0] in topics):
            position = positions.get((consumer, topic, partition))
            end = ends.get((topic, partition))
            lag = None if end is None else max(end - (position or 0), 0)
            rows.append({"consumer": consumer, "topic": topic, "partition": partition, "position": position, "end": end, "lag": lag})
    return rows


def offsets_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="consumer positions (Postgres) vs log end (Kafka)", title_justify="left")
    for name in ("consumer", "topic", "partition", "position", "end", "lag"):
        table.add_column(name, justify="left" if name in ("consumer", "topic") else "right")
    for r in rows:
        lag = "?" if r["lag"] is None else f"{r['lag']:,}"
        table.add_row(r["consumer"], r["topic"], str(r["partition"]), _num(r["position"]), _num(r["end"]),
                      f"[bold red]{lag}[/]" if r["lag"] else lag)  # fmt: skip
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["consumer"]] = totals.get(r["consumer"], 0) + (r["lag"] or 0)
    table.caption = "total lag: " + ", ".join(f"{c} {n:,}" for c, n in totals.items()) if totals else "no stored positions"
    return table


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


async def collect() -> list[dict[str, Any]]:
    settings = get_settings()
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        stored = [tuple(r) for r in await conn.fetch("SELECT projection, topic, partition, next_offset FROM projection_positions")]
    finally:
        await conn.close()
    ends = await log_ends(settings.kafka_bootstrap_servers, sorted({t for _, t, _, _ in stored}))
    return lag_rows(stored, ends)  # type: ignore[arg-type]


def cmd_offsets(as_json: bool = False) -> int:
    """Entry point of `aiff offsets`."""
    rows = asyncio.run(collect())
    if as_json:
        print_json(rows)
    else:
        print_table(offsets_table(rows))
    return 0
