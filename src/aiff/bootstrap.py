"""The composition root: builds connections, the publisher and consumers from settings, and closes them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from aiff.events.producer import EventPublisher, new_kafka_producer
from aiff.events.topics import Topics, ensure_topics
from aiff.projections import writer
from aiff.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF_S = 10.0


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


async def until_available(what: str, attempt: Callable[[], Awaitable[T]], *, patient: bool) -> T:
    """Run `attempt`; when `patient`, retry a dependency that is down with capped backoff for as long as it takes.

    Workers are patient (a worker started while Kafka or Postgres restarts waits instead of exiting); tools and
    tests are not (they should fail fast and say why).
    """
    failures = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:  # noqa: BLE001 - classified below: only outages are waited out
            if not patient or not is_outage(exc):
                raise
            failures += 1
            delay = min(MAX_BACKOFF_S, 0.5 * 2**failures) * (0.5 + random.random() / 2)
            log.warning("%s unavailable (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)


def is_outage(exc: BaseException) -> bool:
    """True for errors that mean a dependency is (temporarily) unreachable, not that the request is wrong."""
    from aiokafka.errors import KafkaError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from aiff.errors import TransientError

    return isinstance(
        exc,
        (
            TransientError, KafkaError, OSError, asyncio.TimeoutError, RedisConnectionError, RedisTimeoutError,
            asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError,
            asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.TooManyConnectionsError,
            asyncpg.ConnectionFailureError,
        ),
    )  # fmt: skip


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    with_redis: bool = False,
    pool_size: int = 10,
    create_topics: bool = True,
    request_sessions: bool = False,
    patient: bool = False,
) -> AsyncIterator[Resources]:
    """Open the database pool, the Kafka producer (and Redis), creating topics first; close them all on exit.

    `patient=True` (workers) waits out dependencies that are down at start-up instead of failing.
    """
    topics = Topics(settings.topic_prefix)
    if create_topics:
        await until_available(
            "Kafka",
            lambda: ensure_topics(settings.kafka_bootstrap_servers, topics, settings.topic_partitions, settings.topic_retention_ms),
            patient=patient,
        )
    pool = await until_available(
        "Postgres", lambda: create_pool(settings, max_size=pool_size, request_sessions=request_sessions), patient=patient
    )
    publisher = EventPublisher(
        lambda: new_kafka_producer(settings.kafka_bootstrap_servers, linger_ms=settings.kafka_linger_ms),
        topics,
        timeout_s=settings.kafka_publish_timeout_s,
    )
    redis_client = aioredis.from_url(settings.redis_url) if with_redis else None
    try:
        await until_available("Kafka", publisher.start, patient=patient)
        yield Resources(settings, topics, pool, publisher, redis_client)
    finally:
        await publisher.stop()
        try:
            await asyncio.wait_for(pool.close(), settings.db_timeout_s)
        except (asyncio.TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pool.terminate()  # a database that is down must not hold up shutdown
        if redis_client is not None:
            await redis_client.aclose()
