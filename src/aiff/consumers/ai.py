"""The AI consumer group: enrich new tickets (`TicketEnriched`), keep AI insights, retrain periodically."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg

from aiff.ai.engine import AiEngine
from aiff.ai.insights import refresh_insights
from aiff.bootstrap import Resources
from aiff.consumers.accepted import accepted_events
from aiff.consumers.runner import THROUGHPUT_FETCH, BatchConsumer, consumer_config
from aiff.events.producer import EventPublisher
from aiff.events.tickets import TicketCreated
from aiff.projections.projector import Record, Rejected

NAME = "ai"
RETRAIN_EVERY_S = 3600.0
INSIGHTS_EVERY_S = 60.0
log = logging.getLogger(__name__)


class AiWorker:
    """Holds the models between batches; trains lazily on the first batch, then every `retrain_every_s`."""

    def __init__(
        self, pool: asyncpg.Pool, publisher: EventPublisher, retrain_every_s: float = RETRAIN_EVERY_S, insights_every_s: float = INSIGHTS_EVERY_S
    ) -> None:
        self.engine = AiEngine()
        self.pool = pool
        self.publisher = publisher
        self._training: asyncio.Task | None = None
        self.retrain_every_s = retrain_every_s
        self.insights_every_s = insights_every_s
        self._insights_at = 0.0

    async def handle(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        if not self.engine.trained_at:
            await self.engine.train(self.pool)  # first batch waits: enrich with the best model available
        elif time.time() - self.engine.trained_at > self.retrain_every_s and (self._training is None or self._training.done()):
            self._training = asyncio.create_task(self._retrain())  # later ones train beside the stream
        accepted, skipped = await accepted_events(conn, records)  # never enrich a ticket the projector refused
        created = _first_creation_per_ticket(accepted)
        events = await self.engine.enrich(conn, created)
        if time.time() - self._insights_at > self.insights_every_s:
            await refresh_insights(conn)
            self._insights_at = time.time()
        if events:
            await self.publisher.publish_many(events)
        return skipped, len(events)

    async def _retrain(self) -> None:
        try:
            await self.engine.train(self.pool)
        except Exception:  # noqa: BLE001 - keep serving with the previous models, retry next period
            log.exception("ai: retraining failed; keeping the previous models")
            self.engine.trained_at = time.time()


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The AI consumer on the tickets topic (smaller batches: it does per-ticket model work)."""
    s = resources.settings
    config = consumer_config(s, name, [resources.topics.tickets], batch_size=min(s.projector_batch_size, 1000), **THROUGHPUT_FETCH)
    worker = AiWorker(resources.pool, resources.publisher)
    consumer = BatchConsumer(config, resources.pool, resources.publisher, worker.handle)
    consumer.worker = worker  # type: ignore[attr-defined]  # for tests and status
    return consumer


def _first_creation_per_ticket(events: list) -> list[TicketCreated]:
    """The batch's TicketCreated events, one per ticket: the projector keeps the first creation of an id and
    refuses repeats, and one upsert may not touch the same row twice."""
    seen: set[int] = set()
    out = []
    for e in events:
        if isinstance(e, TicketCreated) and e.data.ticket_id not in seen:
            seen.add(e.data.ticket_id)
            out.append(e)
    return out
