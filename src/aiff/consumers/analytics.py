"""The analytics consumer group: ticket and team events into daily stats, team KPIs and `TeamMetricsUpdated`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from aiff.analytics import store
from aiff.bootstrap import Resources
from aiff.consumers.runner import THROUGHPUT_FETCH, BatchConsumer, consumer_config
from aiff.consumers.accepted import accepted_events
from aiff.events.envelope import Envelope
from aiff.events.producer import EventPublisher
from aiff.projections.projector import Record, Rejected

NAME = "analytics"
log = logging.getLogger(__name__)


async def analytics_batch(conn: asyncpg.Connection, events: list[Envelope]) -> tuple[int, list[Envelope]]:
    """Fold a batch of events into the analytics tables; returns (events applied, metrics events to publish)."""
    ticket_ids = {e.data.ticket_id for e in events if e.topic_kind == "tickets"}
    team_ids = {getattr(e.data, "team_id", None) for e in events} - {None}
    batch = await store.load(conn, ticket_ids, team_ids)
    # Team facts first: the teams topic is read independently, so a team may come later in the batch.
    for event in sorted(events, key=lambda e: e.topic_kind != "teams"):
        batch.apply(event)
    await store.write(conn, batch)
    if not batch.touched_teams:
        return batch.applied, []
    latest = max((e.time for e in events), default=datetime.now(UTC))
    metrics, to_publish = await store.recompute(conn, latest, sorted(batch.touched_teams))
    await store.write_daily_analytics(conn, batch.team_days.keys(), {}, None)
    return batch.applied, to_publish


def make_handler(publisher: EventPublisher):
    """The batch handler: fold, write, then publish changed KPIs before the transaction commits.

    Publishing inside the transaction is at-least-once; the ids are deterministic (see
    `store.store_changed_metrics`), so a retried batch republishes the same events and the projector
    applies them once.
    """

    async def handle(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        events, skipped = await accepted_events(conn, records)  # only facts the read models took
        applied, to_publish = await analytics_batch(conn, events)
        if to_publish:
            await publisher.publish_many(to_publish)
        return skipped, applied

    return handle


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The analytics consumer: tickets and teams topics, big batches, no dead-lettering (the projector does);
    it counts only the events the projector applied."""
    s = resources.settings
    config = consumer_config(s, name, [resources.topics.tickets, resources.topics.teams], **THROUGHPUT_FETCH)
    return BatchConsumer(config, resources.pool, resources.publisher, make_handler(resources.publisher))
