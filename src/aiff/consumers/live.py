"""The live consumer group: ticket and team events -> coalesced state messages on Redis, for /ws.

Two modes, chosen by `AIFF_LIVE_PROJECTOR_WAIT_S`:
- > 0 (default 5): *consistent*. Per batch it waits until the projector has applied the batch (its stored
  positions passed it, `aiff.live.watch`), reads the touched rows back and publishes them: what the
  dashboard shows, Postgres already holds (a client that reads `/tickets/{id}` after seeing a live change
  sees it too). Latency = projector latency + this consumer's.
- 0: *events-first*, described below. Much lower latency; the dashboard can run ahead of Postgres.

Events-first: per batch it (1) folds the events into a small in-memory view of the touched tickets and teams
(`aiff.live.state.LiveState`: rows filled from the events themselves -- TicketCreated carries zone,
priority, title, coordinates -- and, for ids it has not seen, from ONE batched Postgres query); (2) publishes
ONE message (split when huge) through `aiff.live.channel.LivePublisher`: seq, stream, pub/sub.

Trade-off of events-first: it does not wait for the projector. The dashboard gets a change as soon
as Kafka has it (the wait on the projector's transaction + notify was most of the feed's latency), at the
price that an entry is the state *the events imply*, not a row read back from Postgres:
- the projector's lifecycle rules are re-checked on the cached row (`transition_error`, unknown ids,
  duplicate creations), so an event the projector refuses is normally not shown; but the live view can
  differ from Postgres for a moment when its cached row is stale (e.g. a row loaded from Postgres while the
  projector still had older events of that ticket to apply, after a restart), and it does not know about
  writes that bypass Kafka. Entries carry full state, so the next event of that entity corrects it, and a
  client's snapshot / list reload always reads Postgres;
- KPIs stay computed from Postgres by the API's hub (coalesced, at most ~1/s, a short settle delay after a
  change so the projector has committed it): counters may trail the entries by up to about a second.

It publishes inside the runner's transaction, before its own position commits, on purpose: a crash between
publish and commit re-publishes the same entries, which is harmless because entries carry the latest state
(not deltas); publishing in `after_commit` would instead lose the update on such a crash (at-most-once).
A Redis failure raises, so the runner retries the batch (its transient errors include OSError; redis'
ConnectionError is wrapped here into one). A retried batch is folded again on the cached rows, whose
state is only advanced (`LiveState.commit`) after the publish succeeded, so the retry yields the same entries.

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
from aiff.live.state import LiveState
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

    _kafka_committed_at = 0.0

    async def _commit_to_kafka(self, consumer, records):  # type: ignore[no-untyped-def]
        """Kafka's offsets are informational only (the truth is in Postgres): at most one round trip a second."""
        now = time.monotonic()
        if now - self._kafka_committed_at >= 1.0:
            self._kafka_committed_at = now
            await super()._commit_to_kafka(consumer, records)


class LiveHandler:
    def __init__(self, redis: aioredis.Redis, keys: LiveKeys, watch: ProjectorWatch | None = None, wait_s: float = 5.0) -> None:
        """`watch` given: wait for the projector and read rows back (consistent mode); None: from the events."""
        self.publisher = LivePublisher(redis, keys)
        self._watch = watch
        self._wait_s = wait_s
        self.state = LiveState()
        self.published = 0

    async def _entries(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[dict], bool]:
        if self._watch is None:
            return await self.state.entries(conn, records)
        needed: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            needed[key] = max(needed.get(key, 0), r.offset + 1)
        if not await self._watch.wait(conn, needed, self._wait_s):
            log.warning("live: projector has not applied %s after %.1fs; publishing the current rows", needed, self._wait_s)
        return await build_entries(conn, records)

    async def close(self) -> None:
        if self._watch is not None:
            await self._watch.close()

    async def __call__(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        # The live positions need no fsync: losing the last ones in a crash re-publishes state entries (harmless),
        # and the next batch then does not wait for this one's disk flush.
        await conn.execute("SET LOCAL synchronous_commit TO off")
        entries, kpis_changed = await self._entries(conn, records)
        if not entries:
            self.state.commit()
            return [], 0
        try:
            for start in range(0, len(entries), MAX_ENTRIES_PER_MESSAGE):
                chunk = entries[start : start + MAX_ENTRIES_PER_MESSAGE]
                await self.publisher.publish({"events": chunk, "kpis_changed": kpis_changed, "ts": time.time()})
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise OSError(f"redis publish failed: {exc}") from exc
        self.state.commit()
        self.published += len(entries)
        return [], len(records)


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The live consumer: tickets and teams topics, small fast batches, publishes to `{prefix}:live`."""
    s = resources.settings
    redis = resources.redis if resources.redis is not None else aioredis.from_url(s.redis_url)
    config = consumer_config(s, name, [resources.topics.tickets, resources.topics.teams], batch_size=2000, batch_timeout_ms=10)
    wait_s = s.live_projector_wait_s
    watch = ProjectorWatch(s.asyncpg_dsn) if wait_s > 0 else None
    handler = LiveHandler(redis, LiveKeys(s.topic_prefix), watch, wait_s=wait_s)
    consumer = LiveConsumer(config, resources.pool, resources.publisher, handler)
    consumer.live_handler = handler  # type: ignore[attr-defined]
    return consumer
