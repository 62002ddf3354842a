"""The live consumer group: ticket and team events -> coalesced state messages on Redis, for /ws.

Per batch it (1) waits until the projector has applied the batch (its stored positions passed it), so what
the dashboard shows is what Postgres holds; (2) reads the touched tickets' and teams' current rows; (3)
publishes ONE message (split when huge) through `aiff.live.channel.LivePublisher`: seq, stream, pub/sub.

It publishes inside the runner's transaction, before its own position commits, on purpose: a crash between
publish and commit re-publishes the same entries, which is harmless because entries carry the latest state
(not deltas); publishing in `after_commit` would instead lose the update on such a crash (at-most-once).
A Redis failure raises, so the runner retries the batch (its transient errors include OSError; redis'
ConnectionError is wrapped here into one).

A fresh group (no stored positions) starts at the log end: the live feed shows news, not history.
"""

from __future__ import annotations

import logging
import time

import asyncpg
import redis.asyncio as aioredis
from aiokafka import TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config
from aiff.live.channel import LiveKeys, LivePublisher
from aiff.live.summary import build_entries
from aiff.live.watch import ProjectorWatch
from aiff.projections import positions
from aiff.projections.projector import Record, Rejected

log = logging.getLogger(__name__)

NAME = "live"
MAX_ENTRIES_PER_MESSAGE = 500


class LiveConsumer(BatchConsumer):
    """A BatchConsumer whose partitions without a stored position start at the end of the log."""

    async def seek_to_stored(self, assigned: set[TopicPartition]) -> None:
        consumer = self._consumer
        assert consumer is not None
        async with self._pool.acquire() as conn:
            stored = await positions.load(conn, self.config.name, self.config.topics)
        fresh = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
        if fresh:
            await consumer.seek_to_end(*fresh)
        log.info("%s: assigned %d partitions (%d fresh, from the end)", self.config.name, len(assigned), len(fresh))
        self.ready.set()


class LiveHandler:
    def __init__(self, redis: aioredis.Redis, keys: LiveKeys, watch: ProjectorWatch, wait_s: float = 5.0) -> None:
        self.publisher = LivePublisher(redis, keys)
        self._watch = watch
        self._wait_s = wait_s
        self.published = 0

    async def __call__(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        needed: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            needed[key] = max(needed.get(key, 0), r.offset + 1)
        if not await self._watch.wait(conn, needed, self._wait_s):
            log.warning("live: projector has not applied %s after %.1fs; publishing the current rows", needed, self._wait_s)
        entries, kpis_changed = await build_entries(conn, records)
        if not entries:
            return [], 0
        try:
            for start in range(0, len(entries), MAX_ENTRIES_PER_MESSAGE):
                chunk = entries[start : start + MAX_ENTRIES_PER_MESSAGE]
                await self.publisher.publish({"events": chunk, "kpis_changed": kpis_changed, "ts": time.time()})
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise OSError(f"redis publish failed: {exc}") from exc
        self.published += len(entries)
        return [], len(records)


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The live consumer: tickets and teams topics, small fast batches, publishes to `{prefix}:live`."""
    s = resources.settings
    redis = resources.redis if resources.redis is not None else aioredis.from_url(s.redis_url)
    config = consumer_config(s, name, [resources.topics.tickets, resources.topics.teams], batch_size=2000, batch_timeout_ms=20)
    handler = LiveHandler(redis, LiveKeys(s.topic_prefix), ProjectorWatch(s.asyncpg_dsn), wait_s=s.live_projector_wait_s)
    consumer = LiveConsumer(config, resources.pool, resources.publisher, handler)
    consumer.live_handler = handler  # type: ignore[attr-defined]
    return consumer
