"""A Postgres schema and topic prefix of one's own: tests and the simulation through Kafka run the real system
beside live data without seeing it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

from aiff.settings import Settings


@contextlib.asynccontextmanager
async def isolated(base: Settings, name: str, prefix: str | None = None) -> AsyncIterator[Settings]:
    """Settings for a fresh schema `name` (migrated; dropped afterwards) and topic prefix `prefix` (default
    `name`). The caller deletes its topics if it made any."""
    from aiff.projections import migrate

    conn = await asyncpg.connect(base.asyncpg_dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
    finally:
        await conn.close()
    sep = "&" if "?" in base.database_url else "?"
    url = f"{base.database_url}{sep}search_path={name}"
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield base.model_copy(update={"database_url": url, "topic_prefix": prefix or name})
    finally:
        conn = await asyncpg.connect(base.asyncpg_dsn)
        try:
            await conn.execute(f"DROP SCHEMA {name} CASCADE")
        finally:
            await conn.close()
