"""The consume loop every consumer group shares: batches in, one transaction per batch, positions in Postgres.

Offsets live in `projection_positions`, written in the same transaction as the consumer's effects, and
the consumer seeks to them whenever partitions are assigned (aiokafka's "storing offsets outside Kafka").
Kafka's own committed offsets are updated afterwards only so that lag tools see progress.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram

from aiff.bootstrap import is_outage, until_available
from aiff.consumers.dead_letters import send_dead_letters
from aiff.events.producer import EventPublisher
from aiff.logs import CORRELATION_HEADER, bind_correlation, correlation_of
from aiff.metrics import EVENTS_REJECTED, observe_positions, observe_stale
from aiff.projections import positions
from aiff.projections.projector import Record, Rejected
from aiff.settings import Settings

log = logging.getLogger(__name__)

BatchHandler = Callable[[asyncpg.Connection, list[Record]], Awaitable[tuple[list[Rejected], int]]]

EVENTS_APPLIED = Counter("aiff_events_projected_total", "Events applied by a consumer", ["consumer"])
BATCH_SECONDS = Histogram("aiff_batch_seconds", "Time to apply and commit one batch", ["consumer"])
CONSUMER_LAG = Gauge("aiff_consumer_lag", "Records not yet applied", ["consumer", "topic", "partition"])

KAFKA_COMMIT_INTERVAL_S = 1.0

CONSUMER_DEGRADED = Gauge("aiff_consumer_degraded", "1 while the consumer's last batch failed and is being retried", ["consumer"])

MAX_BACKOFF_S = 10.0
POISON_SUSPECT_AFTER = 3
"""A batch failing this often for a reason other than an outage is searched for the record that causes it."""


@dataclass
class ConsumerConfig:
    """How one consumer group reads: its name is its group id suffix and its position key."""

    name: str
    topics: list[str]
    bootstrap: str
    group_prefix: str = "aiff"
    batch_size: int = 5000
    batch_timeout_ms: int = 50
    dead_letter: bool = False
    session_timeout_ms: int = 10_000
    fetch_min_bytes: int = 1
    """> 1 lets the broker hold a fetch until this much data (or `fetch_max_wait_ms`): fewer, larger batches."""
    fetch_max_wait_ms: int = 500


def fetch_window(max_wait_ms: int, fill_bytes: int) -> dict[str, int]:
    """ConsumerConfig overrides that let the broker hold a fetch up to `max_wait_ms` unless `fill_bytes` arrived:
    under a trickle of events, one batch per window instead of one per few events (each batch has a fixed cost
    in round trips). 0 ms: no window, records come as soon as they are there."""
    return {"fetch_min_bytes": fill_bytes, "fetch_max_wait_ms": max_wait_ms} if max_wait_ms > 0 else {}


THROUGHPUT_FETCH = fetch_window(250, 256 * 1024)
"""For consumers nobody waits on event by event (analytics, AI): at most ~4 fetches and batches a second
under a trickle of events instead of one per event, which is most of their CPU and much of the broker's."""


def next_offsets(records: list[Record]) -> dict[tuple[str, int], int]:
    """Per (topic, partition), the offset after the last of `records`: the position once they are applied."""
    out: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        out[key] = max(out.get(key, 0), r.offset + 1)
    return out


def consumer_config(settings: Settings, name: str, topics: list[str], **overrides: object) -> ConsumerConfig:
    """A consumer group's config from settings: group `<topic prefix>.<name>`, batch and session defaults."""
    options: dict[str, object] = {
        "bootstrap": settings.kafka_bootstrap_servers,
        "group_prefix": settings.topic_prefix,
        "batch_size": settings.projector_batch_size,
        "batch_timeout_ms": settings.projector_batch_timeout_ms,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
    }
    options.update(overrides)
    return ConsumerConfig(name=name, topics=topics, **options)  # type: ignore[arg-type]


MAX_BOUND_CORRELATIONS = 5


def batch_correlation(records: list[Record]) -> str | None:
    """The correlation id(s) a batch's log lines carry: the requests whose events it holds (the first few when a
    batch mixes many, e.g. under a burst), so a request's id can be searched from the API into every consumer.
    A tight loop over the raw headers: it runs for every batch, not only when something is logged."""
    seen: dict[bytes, None] = {}
    for record in records:
        for key, value in record.headers:
            if key == CORRELATION_HEADER:
                if value and value not in seen:
                    seen[value] = None
                break
        if len(seen) > MAX_BOUND_CORRELATIONS:
            break
    if not seen:
        return None
    ids = [v.decode(errors="replace") for v in seen]
    return ",".join(ids[:MAX_BOUND_CORRELATIONS]) + (",…" if len(ids) > MAX_BOUND_CORRELATIONS else "")


def _first_offsets(records: list[Record]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for r in records:
        out.setdefault((r.topic, r.partition), r.offset)
    return out


class DeadLetterSink(Protocol):
    """Where dead letters go: `topics.dead_letters` and a pipelined raw publish."""

    topics: Any

    async def publish_raw_many(self, topic: str, records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]) -> None: ...


class PositionsLost(Exception):
    """The stored positions are behind what this consumer itself committed: Postgres lost its last commits (a crash
    with `synchronous_commit = off` loses the last few hundred ms of them, effects and positions together). The
    records after the stored positions must be read again; applying on would skip them for good."""

    def __init__(self, behind: dict[tuple[str, int], tuple[int, int]]) -> None:
        super().__init__(", ".join(f"{t}[{p}] stored {s} < committed {c}" for (t, p), (s, c) in sorted(behind.items())))
        self.behind = behind


def _retryable(exc: BaseException) -> bool:
    """An outage, or a conflict between transactions that the next attempt resolves."""
    return is_outage(exc) or isinstance(exc, (asyncpg.SerializationError, asyncpg.DeadlockDetectedError))


class BatchConsumer:
    """One consumer group: applies batches in one transaction with their positions, waits out outages, isolates
    poison records. FastStream runs the consume loop (`aiff.consumers.stream`); this class is what a batch does."""

    def __init__(
        self,
        config: ConsumerConfig,
        pool: asyncpg.Pool,
        publisher: EventPublisher,
        handler: BatchHandler,
        after_commit: Callable[[list[Record]], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self._pool = pool
        self._publisher = publisher
        self._handler = handler
        self._after_commit = after_commit
        self._subscriber: Any = None
        self._dead_letters: DeadLetterSink = publisher
        self._next_offsets: dict[tuple[str, int], int] = {}
        self._uncommitted: dict[TopicPartition, int] = {}
        self._kafka_committed_at = 0.0
        self._batches = 0
        self._last_gc = time.monotonic()
        self.ready = asyncio.Event()
        self.companions: tuple[BatchConsumer, ...] = ()
        """Consumer groups that run wherever this one runs (the assignment router's planner)."""
        CONSUMER_DEGRADED.labels(config.name).set(0)

    @property
    def dead_letter_topic(self) -> str:
        return self._publisher.topics.dead_letters

    def attach(self, subscriber: Any, dead_letters: Any) -> None:
        """Called by the FastStream wiring: the subscriber (whose aiokafka consumer seeks and commits) and the
        FastStream publisher that dead letters go through."""
        from aiff.consumers.stream import FastStreamDeadLetters

        self._subscriber = subscriber
        self._dead_letters = FastStreamDeadLetters(dead_letters, self._publisher.topics, self._publisher.timeout_s)

    @property
    def kafka(self) -> AIOKafkaConsumer | None:
        """The subscriber's aiokafka consumer, once started."""
        return getattr(self._subscriber, "consumer", None)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, on a FastStream broker of its own (tests and tools; workers share one)."""
        from aiff.consumers.stream import run_consumers

        await run_consumers([self], stop)

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Seek every newly assigned partition to the position stored with the read models (waiting for Postgres
        when it is down: consuming from anywhere else would apply records twice or skip them)."""
        consumer = self.kafka
        assert consumer is not None

        async def load() -> dict[tuple[str, int], int]:
            async with self._pool.acquire() as conn:
                return await positions.load(conn, self.config.name, self.config.topics)

        stored = await until_available(f"{self.config.name}: Postgres", load, patient=True)
        unknown = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        beginnings = await consumer.beginning_offsets(unknown) if unknown else {}
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition))
            consumer.seek(tp, offset if offset is not None else beginnings[tp])
        log.info("%s: assigned %d partitions", self.config.name, len(assigned))
        self.ready.set()

    async def handle_batch(self, records: list[Record]) -> None:
        """FastStream's handler body: apply (for as long as it takes), mirror positions, report lag.

        FastStream moves on to the next fetch whatever the handler does, so a batch that could not be applied (the
        worker is stopping mid-retry, or a bug) must not be skipped: its partitions are sought back to the stored
        positions and the records are read again.
        """
        if not records:
            return
        try:
            with bind_correlation(batch_correlation(records)):
                await self.apply_with_retry(records)
        except PositionsLost as exc:
            log.warning("%s: Postgres lost committed batches (%s); reading them again", self.config.name, exc)
            await self._rewind(records)
            self._seek_back(exc.behind)
            return
        except BaseException:
            await self._rewind(records)
            raise
        consumer = self.kafka
        if consumer is not None:
            self._mark_uncommitted(records)
            await self._commit_to_kafka(consumer)
            self._report_lag(consumer)
        self._batches += 1
        if not gc.isenabled() and (self._batches % 20 == 0 or time.monotonic() - self._last_gc > 5.0):
            gc.collect()
            self._last_gc = time.monotonic()

    async def _rewind(self, records: list[Record]) -> None:
        consumer = self.kafka
        if consumer is None:
            return
        try:
            async with self._pool.acquire() as conn:
                stored = await positions.load(conn, self.config.name, self.config.topics)
        except Exception:  # noqa: BLE001 - without the stored positions, the first record of the batch is safe
            stored = {}
        for (topic, partition), first in _first_offsets(records).items():
            tp = TopicPartition(topic, partition)
            if tp in consumer.assignment():
                consumer.seek(tp, stored.get((topic, partition), first))
            if (topic, partition) in stored:  # what was committed is what the database says, not what we remember
                self._next_offsets[(topic, partition)] = stored[(topic, partition)]
        log.warning("%s: batch not applied; partitions rewound to the stored positions", self.config.name)

    async def mirror_positions_periodically(self, stop: asyncio.Event) -> None:
        """While idle, still mirror the last batch's positions to Kafka (for lag tools) about once a second."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), KAFKA_COMMIT_INTERVAL_S)
            except asyncio.TimeoutError:
                consumer = self.kafka
                if consumer is not None and self._uncommitted:
                    await self._commit_to_kafka(consumer)

    async def before_stop(self) -> None:
        """Mirror what is applied before the subscriber's consumer closes."""
        consumer = self.kafka
        if consumer is not None and self._uncommitted:
            await self._commit_to_kafka(consumer, force=True)

    async def after_stop(self) -> None:
        """Hook for consumers with work in flight beyond the handler (the live feed's pipelined publish)."""

    async def apply_with_retry(self, records: list[Record]) -> None:
        """Apply a batch for as long as it takes: an outage (Kafka, Postgres, Redis down) is retried with capped
        backoff and never ends the worker; a batch that keeps failing for another reason is split to find the
        record(s) that cause it, which are dead-lettered so that the rest of the partition moves on."""
        failures = 0
        while True:
            try:
                await self.apply(records)
                break
            except PositionsLost:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is either waited out or isolated below
                failures += 1
                CONSUMER_DEGRADED.labels(self.config.name).set(1)
                if not _retryable(exc) and failures >= POISON_SUSPECT_AFTER:
                    log.error("%s: batch of %d failed %d times (%s: %s); isolating the records that cause it",
                              self.config.name, len(records), failures, type(exc).__name__, exc)  # fmt: skip
                    await self._isolate(records)
                    break
                delay = min(MAX_BACKOFF_S, 0.2 * 2**failures) * (0.5 + random.random() / 2)
                log.warning("%s: degraded, batch failed (%s: %s); retry %d in %.1fs",
                            self.config.name, type(exc).__name__, exc, failures, delay)  # fmt: skip
                await asyncio.sleep(delay)
        if failures:
            log.info("%s: recovered after %d failed attempt(s)", self.config.name, failures)
            await self._rewind_lost_commits()
        CONSUMER_DEGRADED.labels(self.config.name).set(0)

    async def _isolate(self, records: list[Record]) -> None:
        """Apply the batch in halves, in order, down to single records; one that still fails alone (and not
        because a dependency is down) is dead-lettered with the error as its reason, so no single record can
        stop a consumer."""
        if len(records) > 1:
            middle = len(records) // 2
            for half in (records[:middle], records[middle:]):
                try:
                    await self.apply(half)
                except PositionsLost:
                    raise
                except Exception:  # noqa: BLE001 - narrowed down further
                    await self._isolate(half)
            return
        (record,) = records
        failures = 0
        while True:
            try:
                await self.apply(records)
                return
            except PositionsLost:
                raise
            except Exception as exc:  # noqa: BLE001
                failures += 1
                if _retryable(exc) or failures < POISON_SUSPECT_AFTER:
                    await asyncio.sleep(min(MAX_BACKOFF_S, 0.2 * 2**failures))
                    continue
                with bind_correlation(correlation_of(record.headers)):
                    log.exception("%s: dead-lettering %s[%d]@%d, which fails on its own", self.config.name,
                                  record.topic, record.partition, record.offset)  # fmt: skip
                reason = f"{self.config.name} could not apply it: {type(exc).__name__}: {exc}"
                await self._dead_letter_alone(Rejected(record, reason[:2000], "consumer_error"))
                return

    async def _dead_letter_alone(self, rejected: Rejected) -> None:
        """Dead-letter one record and move this consumer's position past it, in one transaction."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                await send_dead_letters(self._dead_letters, self.config.name, [rejected])
                record = rejected.record
                await positions.advance(conn, self.config.name, {(record.topic, record.partition): record.offset + 1})
        self._next_offsets[(rejected.record.topic, rejected.record.partition)] = rejected.record.offset + 1
        EVENTS_REJECTED.labels(self.config.name).inc()
        observe_positions(self.config.name, {(rejected.record.topic, rejected.record.partition): rejected.record.offset + 1})

    async def apply(self, records: list[Record]) -> int:
        """Apply one batch in one transaction with its positions; returns how many events took effect."""
        started = time.perf_counter()
        partitions = sorted({(r.topic, r.partition) for r in records})
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                stored = await positions.lock(conn, self.config.name, partitions)
                behind = {key: (stored.get(key, 0), self._next_offsets[key]) for key in partitions
                          if stored.get(key, 0) < self._next_offsets.get(key, 0)}  # fmt: skip
                if behind:
                    raise PositionsLost(behind)
                todo = [r for r in records if r.offset >= stored.get((r.topic, r.partition), 0)]
                applied = 0
                stale: list[Rejected] = []
                if todo:
                    rejected, applied = await self._handler(conn, todo)
                    stale = [r for r in rejected if r.stale]  # overtaken, not bad input: counted, never dead-lettered
                    refused = [r for r in rejected if not r.stale]
                    EVENTS_REJECTED.labels(self.config.name).inc(len(refused))
                    if refused and self.config.dead_letter:
                        await send_dead_letters(self._dead_letters, self.config.name, refused)
                    applied_up_to = next_offsets(todo)
                    await positions.advance(conn, self.config.name, applied_up_to)
        if todo:
            self._next_offsets.update(applied_up_to)
            observe_positions(self.config.name, applied_up_to)
            observe_stale(self.config.name, stale)
        EVENTS_APPLIED.labels(self.config.name).inc(applied)
        BATCH_SECONDS.labels(self.config.name).observe(time.perf_counter() - started)
        if self._after_commit is not None and todo:
            await self._after_commit(todo)
        return applied

    async def _rewind_lost_commits(self) -> None:
        """After an outage: seek back every assigned partition whose stored position is behind what this consumer
        committed (the database lost those commits), also those no new record would reveal in `apply`."""
        consumer = self.kafka
        if consumer is None or not self._next_offsets:
            return
        try:
            async with self._pool.acquire() as conn:
                stored = await positions.load(conn, self.config.name, self.config.topics)
        except Exception as exc:  # noqa: BLE001 - the next batch's own check (`apply`) still catches its partitions
            log.warning("%s: stored positions not checked after the outage (%s)", self.config.name, exc)
            return
        behind: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in consumer.assignment():
            key = (tp.topic, tp.partition)
            committed = self._next_offsets.get(key)
            if committed is not None and stored.get(key, 0) < committed:
                behind[key] = (stored.get(key, 0), committed)
        if behind:
            log.warning("%s: Postgres lost committed batches (%s); reading them again", self.config.name, PositionsLost(behind))
            self._seek_back(behind)

    def _seek_back(self, behind: dict[tuple[str, int], tuple[int, int]]) -> None:
        """Seek each partition to the position the database holds and forget the one this consumer remembered."""
        consumer = self.kafka
        for (topic, partition), (stored, _) in behind.items():
            tp = TopicPartition(topic, partition)
            if consumer is not None and tp in consumer.assignment():
                consumer.seek(tp, stored)
            self._next_offsets[(topic, partition)] = stored

    def _mark_uncommitted(self, records: list[Record]) -> None:
        for (topic, partition), offset in next_offsets(records).items():
            tp = TopicPartition(topic, partition)
            self._uncommitted[tp] = max(self._uncommitted.get(tp, 0), offset)

    async def _commit_to_kafka(self, consumer: AIOKafkaConsumer, *, force: bool = False) -> None:
        """Mirror the stored positions to Kafka for lag tools: at most once a second (the truth is elsewhere).

        A commit per batch was one more broker round trip per batch for every consumer group; under a trickle of
        events that is a request per event.
        """
        now = time.monotonic()
        if not self._uncommitted or (not force and now - self._kafka_committed_at < KAFKA_COMMIT_INTERVAL_S):
            return
        self._kafka_committed_at = now
        offsets, self._uncommitted = self._uncommitted, {}
        offsets = {tp: o for tp, o in offsets.items() if tp in consumer.assignment()}
        try:
            if offsets:
                await consumer.commit(offsets)
        except (KafkaError, OSError) as exc:  # only informational
            log.info("%s: Kafka offset commit skipped (%s)", self.config.name, exc)

    def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            done = self._next_offsets.get((tp.topic, tp.partition))
            if high is not None and done is not None:
                CONSUMER_LAG.labels(self.config.name, tp.topic, str(tp.partition)).set(max(0, high - done))
