"""The FastStream wiring of a consumer group, on FastStream's in-memory test broker (no Kafka): a published batch
reaches the consumer as our records, with topic, partition, offset, key, value and headers; the subscriber is a
batch subscriber with manual acks and the settings we tuned."""

from __future__ import annotations

from typing import Any

from faststream import AckPolicy
from faststream.kafka import TestKafkaBroker

from aiff.consumers.runner import BatchConsumer, ConsumerConfig
from aiff.consumers.stream import new_broker, subscribe
from aiff.events.topics import Topics
from aiff.projections.projector import Record


class _Publisher:
    topics = Topics("unit")
    timeout_s = 1.0


class _Recording(BatchConsumer):
    """Records what the handler was given instead of applying it."""

    def __init__(self, config: ConsumerConfig) -> None:
        super().__init__(config, pool=None, publisher=_Publisher(), handler=None)  # type: ignore[arg-type]
        self.batches: list[list[Record]] = []

    async def apply_with_retry(self, records: list[Record]) -> None:
        self.batches.append(records)


def _config(**overrides: Any) -> ConsumerConfig:
    return ConsumerConfig(name="wiring", topics=["unit.tickets"], bootstrap="127.0.0.1:9", **overrides)


async def test_a_batch_reaches_the_consumer_as_records_with_their_kafka_coordinates() -> None:
    consumer = _Recording(_config())
    broker = new_broker("127.0.0.1:9")
    subscribe(broker, consumer)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"{\"a\": 1}", b"{\"b\": 2}", topic="unit.tickets",
                                        headers={"correlation_id": "req-7", "ce_type": "x"})  # fmt: skip

    (batch,) = consumer.batches
    assert [r.value for r in batch] == [b'{"a": 1}', b'{"b": 2}']
    assert all(isinstance(r, Record) and r.topic == "unit.tickets" and r.partition >= 0 for r in batch)
    assert all(("correlation_id", b"req-7") in r.headers for r in batch)
    assert [r.offset for r in batch] == sorted(r.offset for r in batch)


async def test_the_subscriber_is_a_batch_subscriber_with_manual_acks_and_our_settings() -> None:
    config = _config(batch_size=1234, batch_timeout_ms=77, fetch_min_bytes=4096, fetch_max_wait_ms=33, session_timeout_ms=12_000)
    broker = new_broker("127.0.0.1:9")
    subscriber = subscribe(broker, _Recording(config))

    assert subscriber.batch_timeout_ms == 77 and subscriber.max_records == 1234
    args = subscriber._connection_args
    assert args["fetch_min_bytes"] == 4096 and args["fetch_max_wait_ms"] == 33
    assert args["session_timeout_ms"] == 12_000 and args["enable_auto_commit"] is False
    assert args["isolation_level"] == "read_uncommitted" and args["auto_offset_reset"] == "earliest"
    assert subscriber.ack_policy is AckPolicy.MANUAL
    assert subscriber._listener is not None


async def test_a_consumers_log_lines_carry_the_correlation_ids_of_the_batch(caplog) -> None:  # noqa: ANN001
    import logging

    from aiff.logs import current_correlation

    seen: list[str | None] = []

    class _Logging(_Recording):
        async def apply_with_retry(self, records: list[Record]) -> None:
            seen.append(current_correlation())
            logging.getLogger("aiff.test").info("applying")

    consumer = _Logging(_config())
    broker = new_broker("127.0.0.1:9")
    subscribe(broker, consumer)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{}", topic="unit.tickets", headers={"correlation_id": "req-42"})
    assert seen == ["req-42"]
