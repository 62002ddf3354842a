"""The planner consumer group: the assignment engine's re-plans, shared out by region.

It reads the work topic (one partition per region, `aiff.dispatch.work`). Kafka's group protocol gives each
engine instance its regions, so two instances plan disjoint regions at once, each under its region's lock
(`aiff.dispatch.section`). A batch of work items is coalesced into one re-plan per region. Work positions are
stored with the decisions' bookkeeping, so an instance given a dead instance's regions goes on from the first
work item not yet committed (none is lost); before its first decision it waits until the projector holds the
whole log - the decisions the previous owner published but had not recorded included - so none is made twice.
The scheduled full re-plan covers the instance's own regions only.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiokafka import TopicPartition
from pydantic import ValidationError

from aiff.consumers.runner import BatchConsumer, consumer_config, fetch_window
from aiff.consumers.timer import every
from aiff.dispatch.work import ReplanRequest
from aiff.events.topics import end_offsets
from aiff.projections.projector import Record, Rejected
from aiff.zones import REGIONS

NAME = "planner"
WINDOW_MS = 50
log = logging.getLogger(__name__)


class PlannerConsumer(BatchConsumer):
    def __init__(self, *args, engine, interval_s: float, **kwargs) -> None:  # noqa: ANN001 - engine: AssignmentEngine
        super().__init__(*args, handler=self.handle_work, **kwargs)
        self.engine = engine
        self.interval_s = interval_s
        self.full_replans = 0
        """Full re-plans completed (committed) since start."""
        self._catch_up = True

    def regions(self) -> set[str]:
        """The regions this instance plans now (its partitions of the work topic)."""
        consumer = self.kafka
        if consumer is None:
            return set()
        return {REGIONS[tp.partition] for tp in consumer.assignment() if tp.partition < len(REGIONS)}

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        await super().on_assigned(assigned)
        self._catch_up = True
        log.info("planner: plans %s", ", ".join(sorted(self.regions())) or "no region")

    async def handle_work(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        requests, rejected = [], []
        for r in records:
            try:
                requests.append(ReplanRequest.model_validate_json(r.value or b""))
            except ValidationError as exc:  # not ours to dead-letter (it is no fact): dropped, loudly
                log.error("planner: unreadable work item at %s[%d]@%d: %s", r.topic, r.partition, r.offset, exc)
        if not requests:
            return rejected, 0
        return rejected, await self.engine.plan_work(conn, requests, await self._log_end())

    async def _log_end(self) -> dict[tuple[str, int], int] | None:
        """Once after regions were given to this instance: the last offset of every fact partition, for the
        projector to reach before deciding (what a previous owner published is in the read models)."""
        if not self._catch_up:
            return None
        topics = self._publisher.topics.domain
        ends = await end_offsets(self.config.bootstrap, topics)
        self._catch_up = False
        return {tp: end - 1 for tp, end in ends.items() if end > 0}

    async def full_replan(self, regions: set[str] | None = None) -> int:
        """One full re-plan of `regions` (all when None) in its own transaction (the region locks are
        transaction-scoped)."""
        catch_up = await self._log_end()
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                published = await self.engine.full_replan(conn, regions, catch_up)
        self.full_replans += 1
        return published

    async def mirror_positions_periodically(self, stop: asyncio.Event) -> None:
        jobs = [super().mirror_positions_periodically(stop)]
        if self.engine.routes:
            jobs.append(every(self.interval_s, stop, lambda: self.full_replan(self.regions()), "planner: full re-plan"))
        await asyncio.gather(*jobs)


def build(resources, engine, interval_s: float) -> PlannerConsumer:  # noqa: ANN001 - Resources, AssignmentEngine
    """The planner group over the work topic; small windows (work items are few and already coalesced)."""
    config = consumer_config(resources.settings, NAME, [resources.topics.work], batch_size=500, batch_timeout_ms=WINDOW_MS,
                             **fetch_window(WINDOW_MS, 64 * 1024))  # fmt: skip
    return PlannerConsumer(config, resources.pool, resources.publisher, engine=engine, interval_s=interval_s)
