"""Alembic environment: runs migrations over the async engine from settings (or the URL passed in)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from aiff.projections.schema import metadata

target_metadata = metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    search_path = context.config.attributes.get("search_path")
    connect_args = {"server_settings": {"search_path": search_path}} if search_path else {}
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"), connect_args=connect_args)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


asyncio.run(_main())
