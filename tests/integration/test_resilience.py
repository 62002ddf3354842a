"""Resilience of the building blocks on the real stack: a publisher replaces a producer that died, answers
`EventBusUnavailable` in time when Kafka is unreachable; a consumer never exits on an outage and dead-letters
a record that fails on its own while the rest of the partition moves on."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from aiff.bootstrap import Resources
from aiff.consumers.runner import CONSUMER_DEGRADED, BatchConsumer, consumer_config
from aiff.events.producer import PRODUCER_REPLACED, EventBusUnavailable, EventPublisher, new_kafka_producer
from aiff.events.tickets import TicketCreated, ticket_event
from aiff.projections.projector import Record, Rejected
from tests.helpers import running, wait_until
from tests.integration.upstream import Upstream, ticket_created

pytestmark = pytest.mark.integration


def _event(ticket_id: int) -> TicketCreated:
    return ticket_event(TicketCreated, {"ticket_id": ticket_id, "title": "t", "priority": "low", "zone": "Johor"})  # type: ignore[return-value]


async def test_a_producer_whose_sender_died_is_replaced_and_the_event_delivered(resources: Resources) -> None:
    publisher = resources.publisher
    first = await publisher.publish(_event(1))
    dead = publisher._producer
    assert dead is not None
    dead._sender.sender_task.cancel()  # what OutOfOrderSequenceNumber does to aiokafka's sender after a broker restart
    await asyncio.sleep(0)
    replaced_before = PRODUCER_REPLACED._value.get()

    second = await publisher.publish(_event(2))

    assert publisher._producer is not dead
    assert PRODUCER_REPLACED._value.get() == replaced_before + 1
    assert (second.topic, second.partition) != (first.topic, first.partition) or second.offset > first.offset


async def test_an_unreachable_broker_fails_fast_with_a_transient_error(resources: Resources) -> None:
    publisher = EventPublisher(lambda: new_kafka_producer("127.0.0.1:9"), resources.topics, timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(EventBusUnavailable) as caught:
        await publisher.publish(_event(3))
    assert time.monotonic() - started < 3.0
    assert caught.value.status == 503
    await publisher.stop()


class _FlakyHandler:
    """Fails like a database restart for the first `outages` calls, and always on the record with `poison` in it."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.applied: list[bytes] = []

    async def __call__(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        if self.outages > 0:
            self.outages -= 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        if any(b"poison" in (r.value or b"") for r in records):
            raise ZeroDivisionError("a bug that only this record triggers")
        self.applied.extend(r.value or b"" for r in records)
        return [], len(records)


async def test_a_consumer_waits_out_outages_and_dead_letters_a_record_that_fails_alone(resources: Resources) -> None:
    t = resources.topics
    handler = _FlakyHandler(outages=3)
    config = consumer_config(resources.settings, "flaky", [t.tickets], dead_letter=True)
    consumer = BatchConsumer(config, resources.pool, resources.publisher, handler)
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [ticket_created(1), b'{"poison": true}', ticket_created(2)], key="k")
        async with running(consumer):
            await wait_until(lambda: _async(len(handler.applied) == 2), timeout=60, what="both good records applied")
            await wait_until(lambda: _async(CONSUMER_DEGRADED.labels("flaky")._value.get() == 0), what="degraded back to 0")

    letters = await _dead_letters(resources)
    assert len(letters) == 1
    headers = dict(letters[0])
    assert headers["dlq_error_code"] == "consumer_error"
    assert "ZeroDivisionError" in headers["dlq_reason"] and headers["dlq_consumer"] == "flaky"
    stored = await resources.pool.fetchval("SELECT sum(next_offset) FROM projection_positions WHERE projection = 'flaky'")
    assert stored == 3


async def _async(value: object) -> object:
    return value


async def _dead_letters(resources: Resources) -> list[list[tuple[str, str]]]:
    consumer = AIOKafkaConsumer(
        resources.topics.dead_letters, bootstrap_servers=resources.settings.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        letters: list[list[tuple[str, str]]] = []

        async def some() -> bool:
            for msgs in (await consumer.getmany(timeout_ms=200)).values():
                letters.extend([(k, v.decode()) for k, v in m.headers] for m in msgs)
            return bool(letters)

        await wait_until(some, timeout=20, what="a dead letter")
        return letters
    finally:
        await consumer.stop()


class _GatedHandler:
    """Blocks its first batch until released, so a test can stop the worker while a batch is in flight."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.applied = 0

    async def __call__(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        self.entered.set()
        await self.release.wait()
        self.applied += len(records)
        return [], len(records)


async def test_on_stop_a_worker_finishes_its_batch_commits_and_exits(resources: Resources) -> None:
    t = resources.topics
    handler = _GatedHandler()
    consumer = BatchConsumer(consumer_config(resources.settings, "graceful", [t.tickets]), resources.pool, resources.publisher, handler)
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [ticket_created(i) for i in range(1, 6)], key="k")
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.wait_for(handler.entered.wait(), 60)
        stop.set()  # what SIGTERM does in `aiff worker`
        await asyncio.sleep(0.2)
        assert not task.done()  # still finishing the batch in flight
        handler.release.set()
        await asyncio.wait_for(task, 30)

    assert handler.applied == 5
    stored = await resources.pool.fetchval("SELECT sum(next_offset) FROM projection_positions WHERE projection = 'graceful'")
    assert stored == 5
    received = [s for m in REGISTRY.collect() if m.name == "faststream_received_messages" for s in m.samples
                if s.name.endswith("_total") and t.tickets in s.labels.get("handler", "")]  # fmt: skip
    assert received and sum(s.value for s in received) >= 1  # FastStream's Prometheus middleware counted the batch
