"""FastStream wiring of the consumer groups: one `KafkaBroker` per worker process, one batch subscriber per group.

Each group is a subscriber with `batch=True`, `AckPolicy.MANUAL` (FastStream never commits: positions live in
Postgres, written in the batch's own transaction) and a rebalance listener that seeks every assigned partition
to its stored position. Records reach the handler as our own `Record`s, built in one pass by a custom parser and
decoder (FastStream's defaults would build a message, decode headers and parse JSON per record; the batch
functions validate the JSON themselves, in bulk). The handler is a few lines around `BatchConsumer.handle_batch`,
which retries, isolates poison records and never lets a batch be skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from aiff.bootstrap import until_available
from aiff.events.producer import EventBusUnavailable
from aiff.projections.projector import Record

if TYPE_CHECKING:
    from aiokafka.structs import ConsumerRecord

    from aiff.consumers.runner import BatchConsumer

log = logging.getLogger(__name__)

PER_DEAD_LETTER_S = 0.002
"""Extra time allowed per dead letter of one batch, on top of the publish timeout."""
GRACEFUL_TIMEOUT_S = 30.0
"""On SIGTERM a subscriber finishes the batch it is applying (and commits it) before the worker exits."""
PROMETHEUS = KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="faststream")
"""Per-subscriber message counts, sizes and processing time (one 'message' is one batch here)."""


def records_of(raw: Sequence[ConsumerRecord]) -> list[Record]:
    """Our records from aiokafka's, in one pass: topic, partition, offset, key, value and raw headers."""
    return [Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ())) for m in raw]


async def parse_batch(raw: tuple[ConsumerRecord, ...]) -> KafkaMessage:
    """FastStream's message for a batch: the raw values as its body (what its Prometheus middleware measures), no
    per-record header decoding."""
    first = raw[0] if raw else None
    return KafkaMessage(
        raw_message=raw,
        body=[m.value or b"" for m in raw],
        message_id=f"{first.topic}-{first.partition}-{first.offset}" if first else None,
        correlation_id=_correlation(first),
        consumer=None,  # type: ignore[arg-type] - never acked: positions are stored with the read models
    )


async def decode_batch(message: KafkaMessage) -> list[Record]:
    """Our records, built in one pass; the batch functions validate the JSON themselves, in bulk."""
    return records_of(message.raw_message)


def _correlation(record: ConsumerRecord | None) -> str | None:
    if record is None:
        return None
    for key, value in record.headers or ():
        if key == "correlation_id":
            return value.decode(errors="replace")
    return None


class FastStreamDeadLetters:
    """Dead letters through a FastStream publisher: the refused value and key unchanged, our headers (FastStream
    adds only an empty `content-type` when the original had none, and a `correlation_id`), bounded in time."""

    def __init__(self, publisher: Any, topics: Any, timeout_s: float) -> None:
        self._publisher = publisher
        self.topics = topics
        self._timeout_s = timeout_s

    async def publish_raw_many(self, topic: str, records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]) -> None:
        """Queue every (value, key, headers) without waiting (one produce request carries many), then wait for all
        acknowledgements, within a time that grows with the count (a batch of thousands of refusals is no outage)."""
        budget = self._timeout_s + PER_DEAD_LETTER_S * len(records)
        try:
            async with asyncio.timeout(budget):
                pending = [await self._send(value, key, headers) for value, key, headers in records]
                await asyncio.gather(*pending)
        except TimeoutError as exc:
            raise EventBusUnavailable(f"event bus unavailable: {len(records)} dead letters not acknowledged in {budget:.0f}s") from exc

    async def _send(self, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
        text = {k: v.decode(errors="replace") for k, v in headers}
        return await self._publisher.publish(
            value, key=key if key is not None or value is not None else b"",
            headers=text, correlation_id=text.get("correlation_id"), no_confirm=True,
        )  # fmt: skip


class SeekToStoredPositions(ConsumerRebalanceListener):
    """On every assignment, seek each partition to the position stored with the consumer's effects."""

    def __init__(self, consumer: BatchConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._consumer.on_assigned(assigned)


def new_broker(bootstrap: str) -> KafkaBroker:
    """A broker for consumers: FastStream's producer (dead letters) is not idempotent, so a broker restart cannot
    leave it with a broken sequence; a dead letter sent twice is harmless."""
    return KafkaBroker(
        bootstrap,
        acks="all",
        enable_idempotence=False,
        graceful_timeout=GRACEFUL_TIMEOUT_S,
        middlewares=[PROMETHEUS],
        apply_types=False,
        logger=log,
        log_level=logging.DEBUG,  # FastStream's "Received"/"Processed" line per batch: too chatty for INFO
        client_id="aiff",
    )


def subscribe(broker: KafkaBroker, consumer: BatchConsumer) -> Any:
    """Register one consumer group as a batch subscriber of `broker`."""
    c = consumer.config
    subscriber = broker.subscriber(
        *c.topics,
        batch=True,
        group_id=f"{c.group_prefix}.{c.name}",
        ack_policy=AckPolicy.MANUAL,
        listener=SeekToStoredPositions(consumer),
        auto_offset_reset="earliest",
        max_records=c.batch_size,
        max_poll_records=c.batch_size,
        batch_timeout_ms=c.batch_timeout_ms,
        fetch_min_bytes=c.fetch_min_bytes,
        fetch_max_wait_ms=c.fetch_max_wait_ms,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        session_timeout_ms=c.session_timeout_ms,
        heartbeat_interval_ms=max(1000, c.session_timeout_ms // 4),
        isolation_level="read_uncommitted",
        parser=parse_batch,
        decoder=decode_batch,
        title=f"{c.name} consumer group",
        description=consumer.__doc__,
    )

    async def handle(records: list[Record]) -> None:
        await consumer.handle_batch(records)

    subscriber(handle)
    consumer.attach(subscriber, broker.publisher(consumer.dead_letter_topic, include_in_schema=False))
    return subscriber


async def run_consumers(consumers: Sequence[BatchConsumer], stop: asyncio.Event) -> None:
    """Run consumer groups on one broker until `stop`: wait for Kafka at start-up (a worker never exits because a
    dependency is down), then let each subscriber finish its batch on the way out."""
    consumers = [c for group in consumers for c in (group, *group.companions)]
    if not consumers:
        return
    bootstrap = consumers[0].config.bootstrap

    async def started() -> KafkaBroker:
        broker = new_broker(bootstrap)
        for consumer in consumers:
            subscribe(broker, consumer)
        try:
            await broker.start()
        except BaseException:
            await broker.stop()
            raise
        return broker

    broker = await until_available("Kafka (consumers)", started, patient=True)
    logging.getLogger("aiff").info("workers running: %s", ", ".join(c.config.name for c in consumers))
    flushers = [asyncio.create_task(c.mirror_positions_periodically(stop)) for c in consumers]
    try:
        await stop.wait()
    finally:
        for consumer in consumers:
            await consumer.before_stop()
        await broker.stop()
        for consumer in consumers:
            await consumer.after_stop()
        for task in flushers:
            task.cancel()
        await asyncio.gather(*flushers, return_exceptions=True)
