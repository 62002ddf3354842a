"""Publishing events: idempotent, acks=all, keyed by entity, with the correlation id in headers.

A broker restart can leave aiokafka's idempotent producer broken for good: its sender task dies on
`OutOfOrderSequenceNumber` (the broker lost the producer's sequence state) and every later send waits for a
delivery that never comes. So the publisher owns its producer: it notices a dead or fatally failed producer,
replaces it with a fresh one (a new producer id), and re-sends what was not acknowledged. Re-sending is safe
because every consumer ignores an event id it has already applied. Each call is bounded by `timeout_s`:
when Kafka stays unreachable the caller gets `EventBusUnavailable` (a transient error: the API answers 503
with `Retry-After`, a consumer retries its batch) instead of a hang.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    IllegalStateError,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter

from aiff.errors import TransientError
from aiff.events.envelope import CONTENT_TYPE, Envelope
from aiff.events.topics import Topics

log = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter("aiff_events_published_total", "Events acknowledged by Kafka", ["type"])
PRODUCER_REPLACED = Counter("aiff_producer_replaced_total", "Kafka producers replaced after a fatal error")

FATAL = (OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId, ProducerClosed, IllegalStateError)
"""Errors after which a producer never delivers again: only a new producer (new producer id) helps."""
RETRY_PAUSE_S = 0.25
STOP_TIMEOUT_S = 2.0

RawRecord = tuple[str, bytes, bytes | None, list[tuple[str, bytes]]] | tuple[str, bytes, bytes | None, list[tuple[str, bytes]], int]
"""(topic, value, key, headers), or with the partition to send to last"""


class EventBusUnavailable(TransientError):
    """Kafka did not acknowledge within the publish timeout; the events may or may not have landed."""


def headers_for(event: Envelope) -> list[tuple[str, bytes]]:
    """Kafka headers: content type and type (so routers need not parse), and the correlation id."""
    headers = [("content-type", CONTENT_TYPE.encode()), ("ce_type", event.type.encode())]
    if event.correlationid:
        headers.append(("correlation_id", event.correlationid.encode()))
    return headers


def new_kafka_producer(bootstrap: str, **overrides: object) -> AIOKafkaProducer:
    """An idempotent producer: acks=all, so an acknowledged event survives a broker restart.

    No linger by default: a send goes out at once, and while one request is in flight the next events batch up
    on their own (the dashboard's latency starts at the upstream producer). `AIFF_KAFKA_LINGER_MS` trades
    latency for fewer, larger requests.
    """
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 0,  # overridden from settings.kafka_linger_ms by bootstrap
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 30_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def producer_alive(producer: AIOKafkaProducer) -> bool:
    """False once the producer can no longer deliver: stopped, or its sender task ended (a fatal error)."""
    if getattr(producer, "_closed", False):
        return False
    sender = getattr(producer, "_sender", None)
    task = getattr(sender, "sender_task", None)
    return task is None or not task.done()


async def stop_quietly(producer: AIOKafkaProducer) -> None:
    """Stop a producer that is being discarded without waiting for deliveries that may never come."""
    try:
        await asyncio.wait_for(producer.stop(), STOP_TIMEOUT_S)
    except BaseException as exc:  # noqa: BLE001 - it is being thrown away; nothing useful to do with the error
        log.debug("discarded producer did not stop cleanly: %r", exc)


class EventPublisher:
    """Publishes typed events to the topic of their kind; `publish` returns once Kafka acknowledged.

    Args:
        producer_factory: builds a new (not started) producer; called at start and whenever one must be replaced.
        topics: topic names.
        timeout_s: how long one call may try (including replacing the producer) before `EventBusUnavailable`.
    """

    def __init__(self, producer_factory: Callable[[], AIOKafkaProducer], topics: Topics, *, timeout_s: float = 5.0) -> None:
        self._factory = producer_factory
        self.topics = topics
        self.timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._started_once = False
        self._closed = False

    async def start(self) -> None:
        """Start the first producer (raises `EventBusUnavailable` when Kafka does not answer in time)."""
        await self._current(time.monotonic() + self.timeout_s)

    async def stop(self) -> None:
        """Flush and stop the producer (bounded: a broker that is down does not hold up shutdown)."""
        self._closed = True
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), self.timeout_s)
            except BaseException:  # noqa: BLE001 - shutting down; undelivered events were never acknowledged
                log.warning("Kafka producer did not flush within %.1fs on shutdown", self.timeout_s)

    @property
    def healthy(self) -> bool:
        """True when the current producer can still deliver (a replacement happens on the next publish)."""
        return self._producer is not None and producer_alive(self._producer)

    async def check(self) -> None:
        """Raise unless Kafka answers a metadata request through a live producer (for /health)."""
        producer = await self._current(time.monotonic() + self.timeout_s)
        if not await producer.client.fetch_all_metadata():
            raise EventBusUnavailable("Kafka returned no metadata")

    async def _current(self, deadline: float) -> AIOKafkaProducer:
        """The live producer, replacing a dead one first (one replacement at a time)."""
        producer = self._producer
        if producer is not None and producer_alive(producer):
            return producer
        async with self._lock:
            producer = self._producer
            if producer is not None and producer_alive(producer):
                return producer
            if self._closed:
                raise EventBusUnavailable("event bus unavailable: the publisher is closed")
            self._producer = None
            if producer is not None:
                log.warning("Kafka producer is dead; replacing it")
                asyncio.get_running_loop().create_task(stop_quietly(producer))
            fresh = self._factory()
            try:
                await asyncio.wait_for(fresh.start(), max(0.1, deadline - time.monotonic()))
            except BaseException as exc:  # including cancellation (a /health probe's own timeout): never leak it
                asyncio.get_running_loop().create_task(stop_quietly(fresh))
                if isinstance(exc, (KafkaError, OSError, asyncio.TimeoutError)):
                    raise EventBusUnavailable(f"event bus unavailable: {type(exc).__name__}") from exc
                raise
            if self._started_once:
                PRODUCER_REPLACED.inc()
            self._started_once = True
            self._producer = fresh
            return fresh

    def _discard(self, producer: AIOKafkaProducer) -> None:
        """Drop a producer after a fatal error, so the next attempt builds a new one."""
        if self._producer is producer:
            self._producer = None
            asyncio.get_running_loop().create_task(stop_quietly(producer))

    async def _send_all(self, records: Sequence[RawRecord]) -> list[RecordMetadata]:
        """Send records pipelined with retries and producer replacement, all within `timeout_s`."""
        deadline = time.monotonic() + self.timeout_s
        last: BaseException | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = type(last).__name__ if last is not None else "timeout"
                raise EventBusUnavailable(f"event bus unavailable: {reason}") from last
            producer = await self._current(deadline)
            try:
                return await asyncio.wait_for(_send_pipelined(producer, records), remaining)
            except FATAL as exc:
                last = exc
                log.warning("Kafka producer failed fatally (%s); replacing it and re-sending", type(exc).__name__)
                self._discard(producer)
            except (KafkaError, OSError) as exc:
                last = exc
                if not producer_alive(producer):
                    self._discard(producer)
                await asyncio.sleep(min(RETRY_PAUSE_S, max(0.0, deadline - time.monotonic())))
            except asyncio.TimeoutError as exc:
                last = exc
                if not producer_alive(producer):
                    self._discard(producer)

    async def publish(self, event: Envelope) -> RecordMetadata:
        """Publish one event and wait for the broker's acknowledgement; returns where it landed."""
        (metadata,) = await self.publish_many([event])
        return metadata

    async def publish_many(self, events: Iterable[Envelope]) -> list[RecordMetadata]:
        """Publish events pipelined (order per key kept by the idempotent producer); wait for all acks and return
        where each landed (one produce request per partition and flight, not one round trip per event)."""
        events = list(events)
        records = [(self.topics.for_kind(e.topic_kind), e.to_json(), e.key(), headers_for(e)) for e in events]
        landed = await self._send_all(records)
        for event in events:
            EVENTS_PUBLISHED.labels(event.type).inc()
        return landed

    async def publish_raw_many(self, topic: str, records: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]) -> None:
        """Publish (value, key, headers) records pipelined; returns once Kafka acknowledged them all."""
        await self._send_all([(topic, value, key, headers) for value, key, headers in records])

    async def publish_to_partitions(self, topic: str, records: list[tuple[bytes, bytes | None, list[tuple[str, bytes]], int]]) -> list[RecordMetadata]:
        """Publish (value, key, headers, partition) records, each to the partition given (a work topic whose
        partitions mean something: one region each); returns where they landed."""
        return await self._send_all([(topic, value, key, headers, partition) for value, key, headers, partition in records])

    async def publish_raw(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        """Publish bytes as they are (dead letters, re-drives)."""
        await self._send_all([(topic, value, key, headers)])


async def _send_pipelined(producer: AIOKafkaProducer, records: Sequence[RawRecord]) -> list[RecordMetadata]:
    """Queue every record, then wait for all acknowledgements (the first failure is raised)."""
    futures = [await producer.send(r[0], r[1], key=r[2], headers=r[3], partition=r[4] if len(r) > 4 else None) for r in records]
    return list(await asyncio.gather(*futures))
