"""The composition root: builds connections, the publisher and consumers from settings, and closes them."""

from __future__ import annotations

import contextlib
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


async def create_pool(settings: Settings, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool whose connections carry the projector's temp tables."""
    return await asyncpg.create_pool(settings.asyncpg_dsn, min_size=min_size, max_size=max_size, init=_init_connection)


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, *, with_redis: bool = False, pool_size: int = 10, create_topics: bool = True
) -> AsyncIterator[Resources]:
    """Open the database pool, the Kafka producer (and Redis), creating topics first; close them all on exit."""
    topics = Topics(settings.topic_prefix)
    if create_topics:
        await ensure_topics(
            settings.kafka_bootstrap_servers, topics, settings.topic_partitions, settings.topic_retention_ms
        )
    pool = await create_pool(settings, max_size=pool_size)
    producer = new_kafka_producer(settings.kafka_bootstrap_servers)
    await producer.start()
    redis_client = aioredis.from_url(settings.redis_url) if with_redis else None
    try:
        yield Resources(settings, topics, pool, EventPublisher(producer, topics), redis_client)
    finally:
        await producer.stop()
        await pool.close()
        if redis_client is not None:
            await redis_client.aclose()
