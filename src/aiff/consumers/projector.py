"""The projector consumer group: every topic's events into the Postgres read models."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config, fetch_window
from aiff.consumers.timer import every
from aiff.projections import snapshots
from aiff.projections.projector import Record, project_batch

log = logging.getLogger(__name__)

NAME = "projector"
WINDOW_FILL_BYTES = 64 * 1024
"""A fetch this large ends the projector's window early (a burst is applied at once)."""


class ProjectorConsumer(BatchConsumer):
    """Reads the teams topic first: an assignment is refused when its team does not exist, so a replay from offset 0
    (where the tickets backlog could fill batches before any team is fetched) must see the teams first, as the live
    projector did when they were published. After each assignment of partitions, the other topics' partitions are
    paused until the teams partitions reached their log end of that moment; later, each batch applies its team
    records first (the order within each partition is kept)."""

    def __init__(self, *args: object, first_topic: str, snapshot_every_s: float = 0.0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.first_topic = first_topic
        self.snapshot_every_s = snapshot_every_s
        self._gate: dict[TopicPartition, int] = {}
        self._held: set[TopicPartition] = set()

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.kafka
        assert consumer is not None
        # Paused before anything is awaited: while the positions and log ends are looked up, the fetcher runs and
        # the consume loop could otherwise hand out ticket records ahead of the teams.
        others = {tp for tp in assigned if tp.topic != self.first_topic}
        if others:
            consumer.pause(*others)
        await super().on_assigned(assigned)
        first = [tp for tp in assigned if tp.topic == self.first_topic]
        try:
            ends = await consumer.end_offsets(first) if first else {}
        except KafkaError as exc:  # no gate rather than no projector; the next assignment tries again
            log.warning("projector: teams log end unknown (%s); not waiting for the teams topic", exc)
            ends = {}
        self._gate = {tp: end for tp, end in ends.items() if await consumer.position(tp) < end}
        self._held = others if self._gate else set()
        if not self._gate and others:
            consumer.resume(*others)
        if self._held:
            log.info("projector: other topics wait until the teams topic reached %s", {str(tp): o for tp, o in self._gate.items()})

    async def handle_batch(self, records: list[Record]) -> None:
        await super().handle_batch(sorted(records, key=lambda r: r.topic != self.first_topic))
        if self._gate:
            await self._release_when_teams_caught_up()

    async def _release_when_teams_caught_up(self) -> None:
        consumer = self.kafka
        if consumer is None:
            return
        assignment = consumer.assignment()
        for tp, end in self._gate.items():
            if tp in assignment and await consumer.position(tp) < end:
                return
        consumer.resume(*(tp for tp in self._held if tp in assignment))
        self._gate, self._held = {}, set()


    async def mirror_positions_periodically(self, stop: asyncio.Event) -> None:
        """The runner's periodic task; this one also extends the time-travel snapshots (`projections.snapshots`)."""
        await asyncio.gather(super().mirror_positions_periodically(stop), self._snapshot_periodically(stop))

    async def _snapshot_periodically(self, stop: asyncio.Event) -> None:
        await every(self.snapshot_every_s, stop, self._take_snapshots, "projector: snapshots")

    async def _take_snapshots(self) -> None:
        async with self._pool.acquire() as conn:
            stored = await snapshots.take(conn)
        if stored:
            log.info("projector: %d time-travel snapshot(s) stored", stored)


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The projector: large batches (bulk writes are the whole game), dead-letters what it refuses.

    Each batch is a transaction of ~10 round trips whatever its size, so under a steady trickle (hundreds of events
    a second) the projector would spend most of its and Postgres' CPU on them; a short fetch window
    (`AIFF_PROJECTOR_WINDOW_MS`) bounds the batch rate and adds at most that much to a projection's delay.
    """
    s = resources.settings
    window = fetch_window(s.projector_window_ms, WINDOW_FILL_BYTES)
    config = consumer_config(s, name, resources.topics.domain, dead_letter=True, **window)
    return ProjectorConsumer(config, resources.pool, resources.publisher, project_batch, first_topic=resources.topics.teams,
                             snapshot_every_s=s.snapshot_interval_s if name == NAME else 0.0)  # fmt: skip
