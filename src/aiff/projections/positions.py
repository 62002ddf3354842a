"""Per-projection Kafka positions stored beside the read models, so rows and offsets commit together."""

from __future__ import annotations

import json

import asyncpg

NOTIFY_CHANNEL = "aiff_positions"


async def load(conn: asyncpg.Connection, projection: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition) for a projection."""
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM projection_positions WHERE projection = $1 AND topic = ANY($2)",
        projection,
        topics,
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def lock(conn: asyncpg.Connection, projection: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Lock and read the positions of the partitions in a batch (inside its transaction).

    A second instance that was handed the same partitions during a rebalance waits here, then sees the
    advanced positions and skips what the first one applied: no event is applied twice.
    """
    if not partitions:
        return {}
    locked = await _lock_existing(conn, projection, partitions)
    missing = [tp for tp in partitions if tp not in locked]
    if missing:  # a partition's first batch: create its row (a racing instance's insert waits for ours), then lock
        await conn.execute(
            """INSERT INTO projection_positions (projection, topic, partition, next_offset)
               SELECT $1, t, p, 0 FROM unnest($2::text[], $3::int[]) AS v(t, p)
               ON CONFLICT DO NOTHING""",
            projection,
            [t for t, _ in missing],
            [p for _, p in missing],
        )
        locked |= await _lock_existing(conn, projection, missing)
    return locked


async def _lock_existing(conn: asyncpg.Connection, projection: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    rows = await conn.fetch(
        """SELECT topic, partition, next_offset FROM projection_positions
           WHERE projection = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
           ORDER BY topic, partition FOR UPDATE""",
        projection,
        [t for t, _ in partitions],
        [p for _, p in partitions],
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def advance(conn: asyncpg.Connection, projection: str, next_offsets: dict[tuple[str, int], int]) -> None:
    """Record the new positions and notify waiters (delivered when the transaction commits)."""
    if not next_offsets:
        return
    keys = list(next_offsets)
    payload = {"projection": projection, "positions": [[t, p, o] for (t, p), o in next_offsets.items()]}
    await conn.execute(  # one round trip: the update and the notification
        """WITH moved AS (
             UPDATE projection_positions AS pp SET next_offset = GREATEST(pp.next_offset, v.o), updated_at = now()
             FROM unnest($2::text[], $3::int[], $4::bigint[]) AS v(t, p, o)
             WHERE pp.projection = $1 AND pp.topic = v.t AND pp.partition = v.p
             RETURNING 1)
           SELECT pg_notify($5, $6)""",
        projection,
        [t for t, _ in keys],
        [p for _, p in keys],
        [next_offsets[k] for k in keys],
        NOTIFY_CHANNEL,
        json.dumps(payload),
    )
