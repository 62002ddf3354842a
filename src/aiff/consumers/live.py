"""The live consumer group: ticket and team events -> coalesced state messages on Redis, for /ws.

Two modes, chosen by `AIFF_LIVE_PROJECTOR_WAIT_S`:
- 0 (default): *events-first*, described below. The dashboard gets a change as soon as Kafka has it.
- > 0: *consistent*. Per batch it waits (up to that many seconds) until the projector has applied the
  batch (its stored positions passed it, `aiff.live.watch`), reads the touched rows back and publishes
  them: what the dashboard shows, Postgres already holds. Latency = projector latency + this consumer's.

Events-first: per batch it (1) folds the events into a small in-memory view of the touched tickets and teams
(`aiff.live.state.LiveState`: rows filled from the events themselves -- TicketCreated carries zone,
priority, title, coordinates -- and, for ids it has not seen, from ONE batched Postgres query); (2) publishes
ONE message (split when huge) through `aiff.live.channel.LivePublisher`: seq, stream, pub/sub.

Trade-off of events-first: it does not wait for the projector, at the price that an entry is the state
*the events imply*, not a row read back from Postgres:
- the projector's lifecycle rules are re-checked on the cached row (`transition_error`, unknown ids,
  duplicate creations), so an event the projector refuses is normally not shown; but the live view can
  differ from Postgres for a moment when its cached row is stale (e.g. a row loaded from Postgres while the
  projector still had older events of that ticket to apply, after a restart), and it does not know about
  writes that bypass Kafka. Entries carry full state, so the next event of that entity corrects it, and a
  client's snapshot / list reload always reads Postgres (a client that reads `/tickets/{id}` right after a
  live change may see the projection a few milliseconds behind it);
- KPIs stay computed from Postgres by the API's hub (coalesced, at most ~1/s, a short settle delay after a
  change so the projector has committed it): counters may trail the entries by up to about a second.

Positions live in Redis, not Postgres: the Lua call that publishes a batch's message also stores the Kafka
positions after it (`LivePublisher.publish(..., positions)`), so one Redis round trip per batch is the
whole hot path. A crash before that call re-reads the batch and publishes it then; its response lost after
it ran means a retry publishes the same entries again under a new seq, which is harmless because entries
carry the latest state (not deltas). The same holds when a rebalance briefly hands a partition to two
instances. If Redis loses its data, the positions go with the feed they describe: the consumer starts at
the log end and clients, whose `since` is then ahead of the feed, get a fresh snapshot.

A Redis failure raises, so the runner retries the batch (its transient errors include OSError; redis'
ConnectionError is wrapped here into one). A retried batch is folded again on the cached rows, whose
state is only advanced (`LiveState.commit`) after the publish succeeded, so the retry yields the same entries.

A fresh group (no stored positions) starts at the log end: the live feed shows news, not history.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import redis.asyncio as aioredis
from aiokafka import TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aiff.bootstrap import Resources
from aiff.consumers.runner import BATCH_SECONDS, EVENTS_APPLIED, BatchConsumer, ConsumerConfig, consumer_config, next_offsets
from aiff.live.channel import LiveKeys, LivePublisher, Positions
from aiff.live.state import LiveState
from aiff.live.summary import build_entries
from aiff.live.watch import ProjectorWatch
from aiff.projections.projector import Record, Rejected

log = logging.getLogger(__name__)

NAME = "live"
MAX_ENTRIES_PER_MESSAGE = 500


class LiveConsumer(BatchConsumer):
    """A BatchConsumer whose positions are stored in Redis with each published message (see the module doc)."""

    def __init__(self, config: ConsumerConfig, resources: Resources, handler: LiveHandler, *, fresh_from_end: bool = True) -> None:
        super().__init__(config, resources.pool, resources.publisher, handler)  # type: ignore[arg-type]
        self.live_handler = handler
        self._fresh_from_end = fresh_from_end
        self._floor: Positions = {}
        self._publishing: asyncio.Task[None] | None = None

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.kafka
        assert consumer is not None
        stored = await self.live_handler.publisher.load_positions()
        fresh = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
                self._floor[(tp.topic, tp.partition)] = stored[(tp.topic, tp.partition)]
        if fresh and self._fresh_from_end:
            await consumer.seek_to_end(*fresh)
        elif fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info("%s: assigned %d partitions (%d fresh, from the %s)", self.config.name, len(assigned), len(fresh),
                 "end" if self._fresh_from_end else "beginning")  # fmt: skip
        self.ready.set()

    async def handle_batch(self, records: list[Record]) -> None:
        """Publish the batch in the background and return, so that FastStream fetches the next batch meanwhile.

        aiokafka keeps one long-poll fetch per broker in flight and leaves partitions with undrained records out
        of it; draining them while the previous batch publishes keeps every partition in the next fetch, so a new
        event is not held back until an unrelated fetch returns. Batches still publish in order: each waits for the
        one before it.
        """
        if not records:
            return
        previous = self._publishing
        self._publishing = asyncio.create_task(self._after(previous, records))
        await asyncio.sleep(0)  # let it start before the next fetch is awaited

    async def _after(self, previous: asyncio.Task[None] | None, records: list[Record]) -> None:
        if previous is not None:
            await asyncio.shield(previous)
        await BatchConsumer.handle_batch(self, records)

    async def _rewind(self, records: list[Record]) -> None:
        """Back to what the feed has published (its positions are in Redis, not Postgres)."""
        consumer = self.kafka
        if consumer is None:
            return
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            if tp in consumer.assignment():
                consumer.seek(tp, self._floor.get((r.topic, r.partition), min(x.offset for x in records if x.topic == r.topic and x.partition == r.partition)))

    async def _rewind_lost_commits(self) -> None:
        """Nothing to check in Postgres: the feed's positions are in Redis, kept in `_floor`."""

    async def after_stop(self) -> None:
        """The last batch's publish finishes before the worker exits."""
        if self._publishing is not None:
            await asyncio.gather(self._publishing, return_exceptions=True)

    async def _dead_letter_alone(self, rejected: Rejected) -> None:
        """The live feed only shows events; the projector dead-letters bad ones. A record the feed cannot show is
        skipped (its position is stored with the next published batch)."""
        r = rejected.record
        log.error("%s: skipping %s[%d]@%d: %s", self.config.name, r.topic, r.partition, r.offset, rejected.reason)
        self._floor[(r.topic, r.partition)] = r.offset + 1
        self._next_offsets[(r.topic, r.partition)] = r.offset + 1

    async def apply(self, records: list[Record]) -> int:
        """Publish one batch with its positions; no Postgres transaction (the positions are in Redis)."""
        started = time.perf_counter()
        todo = [r for r in records if r.offset >= self._floor.get((r.topic, r.partition), 0)]
        if not todo:
            return 0
        applied_up_to = next_offsets(todo)
        shown = await self.live_handler.publish_batch(self._pool, todo, applied_up_to)
        self._floor.update(applied_up_to)
        self._next_offsets.update(applied_up_to)
        EVENTS_APPLIED.labels(self.config.name).inc(len(todo))
        BATCH_SECONDS.labels(self.config.name).observe(time.perf_counter() - started)
        return shown


class LiveHandler:
    def __init__(
        self, redis: aioredis.Redis, keys: LiveKeys, watch: ProjectorWatch | None = None, wait_s: float = 0.0, consumer: str = NAME
    ) -> None:
        """`watch` given: wait for the projector and read rows back (consistent mode); None: from the events."""
        self.publisher = LivePublisher(redis, keys, consumer=consumer)
        self._watch = watch
        self._wait_s = wait_s
        self.state = LiveState()
        self.published = 0

    async def _entries(self, pool: asyncpg.Pool, records: list[Record]) -> tuple[list[dict], bool]:
        if self._watch is None:
            return await self.state.entries(pool, records)
        needed = next_offsets(records)
        async with pool.acquire() as conn:
            if not await self._watch.wait(conn, needed, self._wait_s):
                log.warning("live: projector has not applied %s after %.1fs; publishing the current rows", needed, self._wait_s)
            return await build_entries(conn, records)

    async def close(self) -> None:
        if self._watch is not None:
            await self._watch.close()

    async def publish_batch(self, pool: asyncpg.Pool, records: list[Record], positions: Positions) -> int:
        """Publish the batch's entries (in chunks) and store `positions` with the last one; returns entries sent."""
        entries, kpis_changed = await self._entries(pool, records)
        try:
            if not entries:
                await self.publisher.store_positions(positions)
            for start in range(0, len(entries), MAX_ENTRIES_PER_MESSAGE):
                chunk = entries[start : start + MAX_ENTRIES_PER_MESSAGE]
                last = start + MAX_ENTRIES_PER_MESSAGE >= len(entries)
                body = {"events": chunk, "kpis_changed": kpis_changed, "ts": time.time()}
                await self.publisher.publish(body, positions if last else None)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise OSError(f"redis publish failed: {exc}") from exc
        self.state.commit()
        self.published += len(entries)
        return len(entries)


def build(resources: Resources, name: str = NAME, *, fresh_from_end: bool = True) -> LiveConsumer:
    """The live consumer: tickets and teams topics, small fast batches, publishes to `{prefix}:live`.

    `fresh_from_end=False` starts partitions without stored positions at the beginning (tests replaying
    what they published before the consumer started).
    """
    s = resources.settings
    redis = resources.redis if resources.redis is not None else aioredis.from_url(s.redis_url)
    # getmany returns as soon as records arrive; the timeout only bounds an idle wait (a short one cost ~4% CPU
    # of an idle machine in wake-ups).
    config = consumer_config(s, name, [resources.topics.tickets, resources.topics.teams], batch_size=2000, batch_timeout_ms=200)
    wait_s = s.live_projector_wait_s
    watch = ProjectorWatch(s.asyncpg_dsn) if wait_s > 0 else None
    handler = LiveHandler(redis, LiveKeys(s.topic_prefix), watch, wait_s=wait_s, consumer=name)
    return LiveConsumer(config, resources, handler, fresh_from_end=fresh_from_end)
