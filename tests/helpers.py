"""Shared test support: isolated environments on the real stack, and waiting for conditions (never sleeping)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg

from aiff.isolation import isolated
from aiff.settings import Settings


async def wait_until(
    condition: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await condition()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def isolated_settings(base: Settings) -> AsyncIterator[Settings]:
    """A fresh Postgres schema (migrated) and topic prefix, so tests never see each other's data."""
    async with isolated(base, unique_name()) as settings:
        yield settings


async def table_checksum(conn: asyncpg.Connection, table: str, order_by: str, exclude: tuple[str, ...] = ()) -> str:
    """An md5 over every row (minus `exclude` columns), to compare two projections exactly."""
    cols = [
        r["column_name"]
        for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            table,
        )
        if r["column_name"] not in exclude
    ]
    row_expr = "ROW(" + ", ".join(f'"{c}"' for c in cols) + ")::text"
    return await conn.fetchval(f"SELECT coalesce(md5(string_agg({row_expr}, '|' ORDER BY {order_by})), '') FROM {table}")


async def projection_caught_up(conn: asyncpg.Connection, projection: str, end_offsets: dict[tuple[str, int], int]) -> bool:
    """True when the projection's stored positions reached the given end offsets."""
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM projection_positions WHERE projection = $1", projection)
    stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(tp, 0) >= end for tp, end in end_offsets.items() if end > 0)


@contextlib.asynccontextmanager
async def running(*consumers: Any) -> AsyncIterator[None]:
    """Run consumers (BatchConsumer) as tasks for the block; stop them and surface their failures after it."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    try:
        yield
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
