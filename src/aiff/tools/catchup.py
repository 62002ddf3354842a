"""Waiting until a consumer has applied everything in the log (seed --wait, replay, benchmarks)."""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext

import asyncpg

from aiff.events.topics import end_offsets
from aiff.tools.progress import Bar


async def applied_positions(pool: asyncpg.Pool, projection: str) -> dict[tuple[str, int], int]:
    rows = await pool.fetch("SELECT topic, partition, next_offset FROM projection_positions WHERE projection = $1", projection)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def wait_caught_up(
    pool: asyncpg.Pool, bootstrap: str, topics: list[str], projection: str = "projector", timeout_s: float = 600.0,
    progress: bool = True, bar: Bar | None = None,
) -> float:
    """Wait until `projection` reached the current end of `topics`; returns the seconds waited.

    Its own bar starts from what was already applied, so its rate is what the consumer applies during the
    wait; a caller that started the consumer itself passes its `bar`, begun before the consumer was.
    """
    ends = await end_offsets(bootstrap, topics)
    total = sum(ends.values())

    async def applied() -> int:
        stored = await applied_positions(pool, projection)
        return sum(min(stored.get(tp, 0), end) for tp, end in ends.items())

    started = time.monotonic()
    done = await applied()
    own = Bar(f"{projection}: applied", total, unit="records", initial=done) if progress and bar is None else nullcontext(bar)
    with own as bar:
        if bar is not None:
            bar.update(done, total=total)
        while done < total:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{projection} applied {done:,}/{total:,} records within {timeout_s:.0f}s; is `aiff worker` running?")
            await asyncio.sleep(0.1)
            done = await applied()
            if bar is not None:
                bar.update(done)
    return time.monotonic() - started
