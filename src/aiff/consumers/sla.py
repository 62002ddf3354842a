"""The SLA consumer group: keeps one clock per ticket and publishes `sla_at_risk` / `sla_breached` once per SLA.

It decides from the events the projector applied (ticket created, updated, assigned, unassigned, status changed,
deleted, pinned; plan.updated naming the ticket) read back through the read models (`tickets`, `plan_visits`),
and from the clock: a breach happens when time passes, not when an event arrives, so every batch also looks at the
clocks that fell due, and a timer does the same while no batch comes. Each evaluation runs in one transaction
under an advisory lock; the event ids go into `sla_clocks` in the transaction that publishes them (before it
commits), so a restart rebuilds every timer from the table and republishes nothing a committed row records.
A publish whose transaction then fails is retried with the same deterministic id (the projector applies it once).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from aiff.bootstrap import Resources
from aiff.consumers.accepted import accepted_events
from aiff.consumers.runner import BatchConsumer, consumer_config
from aiff.consumers.timer import every
from aiff.events.envelope import Envelope
from aiff.events.plans import PlanUpdated
from aiff.events.producer import EventPublisher
from aiff.events.tickets import TicketSlaAtRisk, TicketSlaBreached
from aiff.metrics import observe_sla
from aiff.projections.projector import Record, Rejected
from aiff.sla import store

NAME = "sla"
log = logging.getLogger(__name__)
OWN_EVENTS = (TicketSlaAtRisk, TicketSlaBreached)


def touched_tickets(events: list[Envelope]) -> set[int]:
    """Tickets whose SLA an event may change: every ticket event but our own, every ticket in a plan."""
    ids: set[int] = set()
    for e in events:
        if isinstance(e, PlanUpdated):
            ids.update(v.ticket_id for v in e.data.visits)
        elif e.topic_kind == "tickets" and not isinstance(e, OWN_EVENTS):
            ids.add(e.data.ticket_id)
    return ids


async def evaluate_and_publish(conn: asyncpg.Connection, publisher: EventPublisher, ticket_ids: set[int], horizon: timedelta,
                               now: datetime | None = None) -> list[Envelope]:  # fmt: skip
    """In the caller's transaction: lock, add the clocks that fell due, decide, store, publish (acknowledged)."""
    await store.lock(conn)
    now = now or datetime.now(UTC)
    ids = ticket_ids | set(await store.due_ticket_ids(conn, now, horizon))
    events = await store.evaluate(conn, ids, now, horizon)
    if events:
        await publisher.publish_many(events)
        observe_sla(events)
        log.info("sla: published %s", ", ".join(f"{e.type.split('.')[2]}({e.data.ticket_id})" for e in events))
    return events


def make_handler(publisher: EventPublisher, horizon: timedelta):
    async def handle(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        events, skipped = await accepted_events(conn, records)
        await evaluate_and_publish(conn, publisher, touched_tickets(events), horizon)
        return skipped, len(events)

    return handle


class SlaConsumer(BatchConsumer):
    """SLA clocks: at-risk and breach events, once per ticket and due date."""

    def __init__(self, *args, horizon: timedelta, tick_s: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.horizon = horizon
        self.tick_s = tick_s
        self.ticks = 0
        """Ticks completed (committed) since start."""

    async def tick(self) -> list[Envelope]:
        """One look at the clocks outside any batch: breaches (and near-due risks) of tickets no event touched."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                events = await evaluate_and_publish(conn, self._publisher, set(), self.horizon)
        self.ticks += 1
        return events

    async def tick_periodically(self, stop: asyncio.Event) -> None:
        """Every `tick_s` until `stop`; an outage or an error is logged and the next tick tries again."""
        await every(self.tick_s, stop, self.tick, "sla: tick")

    async def mirror_positions_periodically(self, stop: asyncio.Event) -> None:
        """The runner's periodic task of every consumer; this one also runs the SLA timer."""
        await asyncio.gather(super().mirror_positions_periodically(stop), self.tick_periodically(stop))


def build(resources: Resources, name: str = NAME, tick_s: float | None = None) -> SlaConsumer:
    """The SLA consumer: tickets and teams topics (plans), no dead-lettering (the projector does)."""
    s = resources.settings
    config = consumer_config(s, name, [resources.topics.tickets, resources.topics.teams])
    horizon = timedelta(minutes=s.sla_risk_horizon_minutes)
    handler = make_handler(resources.publisher, horizon)
    return SlaConsumer(config, resources.pool, resources.publisher, handler, horizon=horizon, tick_s=tick_s or s.sla_tick_s)
