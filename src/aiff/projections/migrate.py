"""Schema migrations (Alembic) and the pre-start wait for the database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    """An Alembic config that needs no ini file: the script location is inside the package."""
    url, _, query = database_url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("postgresql://", "postgresql+asyncpg://", 1))
    cfg.attributes["search_path"] = params.get("search_path")
    return cfg


async def wait_for_database(dsn: str, timeout_s: float = 60.0) -> None:
    """Wait until Postgres accepts connections, so start-up order does not matter."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Postgres at {dsn.rsplit('@', 1)[-1]} not reachable: {exc}") from exc
            await asyncio.sleep(0.5)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (runs in a worker thread when called from async code)."""
    command.upgrade(alembic_config(database_url), revision)
