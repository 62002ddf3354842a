"""Publishing events: idempotent, acks=all, keyed by entity, with the correlation id in headers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter

from aiff.events.envelope import CONTENT_TYPE, Envelope
from aiff.events.topics import Topics

EVENTS_PUBLISHED = Counter("aiff_events_published_total", "Events acknowledged by Kafka", ["type"])


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


class EventPublisher:
    """Publishes typed events to the topic of their kind; `publish` returns once Kafka acknowledged."""

    def __init__(self, producer: AIOKafkaProducer, topics: Topics) -> None:
        self._producer = producer
        self.topics = topics

    async def publish(self, event: Envelope) -> RecordMetadata:
        """Publish one event and wait for the broker's acknowledgement; returns where it landed."""
        metadata = await self._producer.send_and_wait(
            self.topics.for_kind(event.topic_kind), event.to_json(), key=event.key(), headers=headers_for(event)
        )
        EVENTS_PUBLISHED.labels(event.type).inc()
        return metadata

    async def publish_many(self, events: Iterable[Envelope]) -> list[RecordMetadata]:
        """Publish events pipelined (order per key kept by the idempotent producer); wait for all acks and return
        where each landed (one produce request per partition and flight, not one round trip per event)."""
        futures = []
        for event in events:
            fut = await self._producer.send(
                self.topics.for_kind(event.topic_kind), event.to_json(), key=event.key(), headers=headers_for(event)
            )
            futures.append((event.type, fut))
        landed = await asyncio.gather(*(f for _, f in futures))
        for event_type, _ in futures:
            EVENTS_PUBLISHED.labels(event_type).inc()
        return landed

    async def publish_raw_many(self, topic: str, records: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]) -> None:
        """Publish (value, key, headers) records pipelined; returns once Kafka acknowledged them all."""
        futures = [await self._producer.send(topic, value, key=key, headers=headers) for value, key, headers in records]
        await asyncio.gather(*futures)

    async def publish_raw(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        """Publish bytes as they are (dead letters, re-drives)."""
        await self._producer.send_and_wait(topic, value, key=key, headers=headers)
