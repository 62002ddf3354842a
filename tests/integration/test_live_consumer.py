"""The live consumer on real Kafka and Redis: positions stored with each message, restart without gaps or repeats."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from aiff.bootstrap import Resources
from aiff.consumers import live
from aiff.events.tickets import TicketCreated, ticket_event
from aiff.events.topics import end_offsets
from aiff.live.channel import LiveKeys, replay
from tests.helpers import running, wait_until

pytestmark = pytest.mark.integration


def _created(ticket_id: int) -> TicketCreated:
    return ticket_event(TicketCreated, {"ticket_id": ticket_id, "title": f"outage {ticket_id}", "priority": "high",
                                        "zone": "Penang", "latitude": 5.4, "longitude": 100.3})  # fmt: skip


async def _shown(resources: Resources) -> Counter[int]:
    """How many times each ticket id appears in the messages on the live stream."""
    keys = LiveKeys(resources.settings.topic_prefix)
    messages = await replay(resources.redis, keys, 0) or []
    return Counter(e["ticket_id"] for _, text in messages for e in orjson.loads(text)["events"] if e["kind"] == "ticket")


async def test_restart_resumes_from_the_positions_stored_with_the_messages(resources: Resources) -> None:
    keys = LiveKeys(resources.settings.topic_prefix)
    topics = [resources.topics.tickets, resources.topics.teams]
    await resources.publisher.publish_many(_created(i) for i in (1, 2, 3))
    first = live.build(resources, fresh_from_end=False)
    async with running(first):
        await wait_until(lambda: _has(resources, {1, 2, 3}), what="tickets 1-3 on the live stream")
    # The positions in Redis are exactly the log end of every partition the consumer read: nothing more to do.
    stored = await first.live_handler.publisher.load_positions()
    ends = await end_offsets(resources.settings.kafka_bootstrap_servers, topics)
    assert {tp: stored[tp] for tp, end in ends.items() if end > 0} == {tp: end for tp, end in ends.items() if end > 0}
    assert await resources.redis.hlen(keys.positions(live.NAME)) == len(stored)

    await resources.publisher.publish_many(_created(i) for i in (4, 5))
    second = live.build(resources, fresh_from_end=False)  # a new process: no memory of the first one
    async with running(second):
        await wait_until(lambda: _has(resources, {4, 5}), what="tickets 4-5 on the live stream")
    shown = await _shown(resources)
    assert shown == Counter({1: 1, 2: 1, 3: 1, 4: 1, 5: 1}), "each event is shown once across the restart"
    await resources.redis.delete(keys.stream, keys.seq, keys.positions(live.NAME))


async def test_a_fresh_consumer_starts_at_the_log_end(resources: Resources) -> None:
    keys = LiveKeys(resources.settings.topic_prefix)
    await resources.publisher.publish_many(_created(i) for i in (11, 12))
    consumer = live.build(resources)
    async with running(consumer):
        await wait_until(lambda: _ready(consumer), what="partitions assigned")
        await resources.publisher.publish(_created(13))
        await wait_until(lambda: _has(resources, {13}), what="ticket 13 on the live stream")
    assert set(await _shown(resources)) == {13}, "history published before the first start is not replayed to the feed"
    await resources.redis.delete(keys.stream, keys.seq, keys.positions(live.NAME))


async def _has(resources: Resources, ids: set[int]) -> bool:
    return ids <= set(await _shown(resources))


async def _ready(consumer: live.LiveConsumer) -> bool:
    return consumer.ready.is_set()
