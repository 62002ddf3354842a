"""The composition root: builds connections, the publisher and consumers from settings, and closes them."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from aiff.events.producer import EventPublisher, new_kafka_producer
from aiff.events.topics import Topics, ensure_topics
from aiff.projections import writer
from aiff.settings import Settings


@dataclass
class Resources:
    """What a process needs to talk to the world; created in `open_resources`, closed on exit."""

    settings: Settings
    topics: Topics
    pool: asyncpg.Pool
    publisher: EventPublisher
    redis: aioredis.Redis | None


async def _init_connection(conn: asyncpg.Connection) -> None:
    await writer.prepare_connection(conn)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without the reset query: asyncpg still rolls back an open transaction first."""


async def create_pool(
    settings: Settings, *, min_size: int = 1, max_size: int = 10, request_sessions: bool = False
) -> asyncpg.Pool:
    """A connection pool whose connections carry the projector's temp tables (`request_sessions=True`, the
    API's pool: without them).

    No pool skips asyncpg's `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on release (a
    round trip per batch and per request): nobody sets session state on a pooled connection (advisory locks are
    transaction-scoped, or released explicitly by the API; LISTEN has its own connection), and the temp tables
    are meant to stay. asyncpg still rolls back a transaction left open.
    """
    init = None if request_sessions else _init_connection
    return await asyncpg.create_pool(
        settings.asyncpg_dsn, min_size=min_size, max_size=max_size, init=init, reset=_keep_session
    )


def freeze_startup_heap() -> None:
    """Move everything allocated so far (imported modules, models, pools) out of the collector's reach.

    With scikit-learn, pandas and FastAPI loaded a full collection walks ~260k objects and pauses the event
    loop for ~140 ms; after the freeze a collection only walks what requests and batches allocate since.
    """
    gc.collect()
    gc.freeze()


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    with_redis: bool = False,
    pool_size: int = 10,
    create_topics: bool = True,
    request_sessions: bool = False,
) -> AsyncIterator[Resources]:
    """Open the database pool, the Kafka producer (and Redis), creating topics first; close them all on exit."""
    topics = Topics(settings.topic_prefix)
    if create_topics:
        await ensure_topics(
            settings.kafka_bootstrap_servers, topics, settings.topic_partitions, settings.topic_retention_ms
        )
    pool = await create_pool(settings, max_size=pool_size, request_sessions=request_sessions)
    producer = new_kafka_producer(settings.kafka_bootstrap_servers, linger_ms=settings.kafka_linger_ms)
    await producer.start()
    redis_client = aioredis.from_url(settings.redis_url) if with_redis else None
    try:
        yield Resources(settings, topics, pool, EventPublisher(producer, topics), redis_client)
    finally:
        await producer.stop()
        await pool.close()
        if redis_client is not None:
            await redis_client.aclose()
