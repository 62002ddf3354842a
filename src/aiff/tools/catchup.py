"""Waiting until a consumer has applied everything in the log (seed --wait, replay, benchmarks)."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from aiff.events.topics import end_offsets
from aiff.tools.progress import Progress


async def applied_positions(pool: asyncpg.Pool, projection: str) -> dict[tuple[str, int], int]:
    rows = await pool.fetch("SELECT topic, partition, next_offset FROM projection_positions WHERE projection = $1", projection)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def wait_caught_up(
    pool: asyncpg.Pool, bootstrap: str, topics: list[str], projection: str = "projector", timeout_s: float = 600.0,
    progress: bool = True,
) -> float:
    """Wait until `projection` reached the current end of `topics`; returns the seconds waited."""
    ends = await end_offsets(bootstrap, topics)
    total = sum(ends.values())
    bar = Progress(f"{projection}: applied", total) if progress else None
    started = time.monotonic()
    while True:
        stored = await applied_positions(pool, projection)
        done = sum(min(stored.get(tp, 0), end) for tp, end in ends.items())
        if bar is not None:
            bar.advance(done - bar.done)
        if done >= total:
            if bar is not None:
                bar.finish()
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{projection} applied {done:,}/{total:,} records within {timeout_s:.0f}s; is `aiff worker` running?")
        await asyncio.sleep(0.1)
