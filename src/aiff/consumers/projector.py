"""The projector consumer group: every topic's events into the Postgres read models."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config, fetch_window
from aiff.projections.projector import Record, project_batch

log = logging.getLogger(__name__)

NAME = "projector"
WINDOW_FILL_BYTES = 64 * 1024
"""A fetch this large ends the projector's window early (a burst is applied at once)."""


class ProjectorConsumer(BatchConsumer):
    """Reads the teams topic first: an assignment is refused when its team does not exist, so a replay from offset 0
    (where the tickets backlog could fill batches before any team is fetched) must see the teams first, as the live
    projector did when they were published. After each assignment of partitions it takes only team records until
    it reached the teams' log end of that moment; later, each batch takes the fetched team records first."""

    def __init__(self, *args: object, first_topic: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.first_topic = first_topic
        self._assigned: frozenset[TopicPartition] = frozenset()
        self._first_ends: dict[TopicPartition, int] = {}

    async def _behind(self, consumer: AIOKafkaConsumer, first: list[TopicPartition]) -> list[TopicPartition]:
        if frozenset(first) != self._assigned:
            self._assigned = frozenset(first)
            try:
                self._first_ends = await consumer.end_offsets(first) if first else {}
            except KafkaError as exc:  # no gate rather than no projector; the next assignment tries again
                log.warning("projector: teams log end unknown (%s); not waiting for the teams topic", exc)
                self._first_ends = {}
        return [tp for tp in first if await consumer.position(tp) < self._first_ends.get(tp, 0)]

    async def next_batch(self, consumer: AIOKafkaConsumer) -> list[Record]:
        first = [tp for tp in consumer.assignment() if tp.topic == self.first_topic]
        behind = await self._behind(consumer, first)
        if behind:
            fetched = await consumer.getmany(*behind, timeout_ms=self.config.batch_timeout_ms, max_records=self.config.batch_size)
            return [_record(m) for msgs in fetched.values() for m in msgs]
        fetched = await consumer.getmany(*first, timeout_ms=0, max_records=self.config.batch_size) if first else {}
        records = [_record(m) for msgs in fetched.values() for m in msgs]
        if not records:
            return await super().next_batch(consumer)
        room = self.config.batch_size - len(records)
        rest = await consumer.getmany(timeout_ms=0, max_records=room) if room > 0 else {}
        return records + [_record(m) for msgs in rest.values() for m in msgs]


def _record(m) -> Record:  # noqa: ANN001 - aiokafka's ConsumerRecord
    return Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The projector: large batches (bulk writes are the whole game), dead-letters what it refuses.

    Each batch is a transaction of ~10 round trips whatever its size, so under a steady trickle (hundreds of events
    a second) the projector would spend most of its and Postgres' CPU on them; a short fetch window
    (`AIFF_PROJECTOR_WINDOW_MS`) bounds the batch rate and adds at most that much to a projection's delay.
    """
    s = resources.settings
    window = fetch_window(s.projector_window_ms, WINDOW_FILL_BYTES)
    config = consumer_config(s, name, resources.topics.domain, dead_letter=True, **window)
    return ProjectorConsumer(config, resources.pool, resources.publisher, project_batch, first_topic=resources.topics.teams)
