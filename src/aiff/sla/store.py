"""The SLA clocks in Postgres: load what `decide` needs, store the clocks it returns, find the clocks due.

Every writer (the batch handler and the timer) first takes one transaction-scoped advisory lock, so two
evaluations of the same ticket never race: the second sees the first one's flags and publishes nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta

import asyncpg

from aiff.events.envelope import Envelope
from aiff.sla.clock import Clock, TicketView, decide

LOCK_KEY = zlib.crc32(b"aiff.sla_clocks")
"""pg_advisory_xact_lock key of the SLA clocks (one writer at a time, released at commit or rollback)."""
MAX_DUE_PER_TICK = 5000

_TICKETS_SQL = """
SELECT t.id, t.status, t.due_date, t.created_at, pv.planned_end, pv.planned_at
  FROM tickets t
  LEFT JOIN LATERAL (SELECT v.planned_end, p.updated_at AS planned_at FROM plan_visits v JOIN plans p USING (team_id, plan_date)
                      WHERE v.ticket_id = t.id ORDER BY p.updated_at DESC, v.plan_date DESC LIMIT 1) pv ON true
 WHERE t.id = ANY($1::bigint[])"""

_UPSERT_SQL = """
INSERT INTO sla_clocks (ticket_id, due_date, open, at_risk_event_id, at_risk_at, breached_event_id, breached_at)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bool[], $4::uuid[], $5::timestamptz[], $6::uuid[], $7::timestamptz[])
ON CONFLICT (ticket_id) DO UPDATE SET due_date = EXCLUDED.due_date, open = EXCLUDED.open,
    at_risk_event_id = EXCLUDED.at_risk_event_id, at_risk_at = EXCLUDED.at_risk_at,
    breached_event_id = EXCLUDED.breached_event_id, breached_at = EXCLUDED.breached_at"""


async def lock(conn: asyncpg.Connection) -> None:
    """Serialise SLA evaluations until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)


async def load(conn: asyncpg.Connection, ticket_ids: Iterable[int]) -> tuple[dict[int, TicketView], dict[int, Clock]]:
    ids = list(ticket_ids)
    tickets = {
        r["id"]: TicketView(r["id"], r["status"], r["due_date"], r["planned_end"], r["created_at"], r["planned_at"])
        for r in await conn.fetch(_TICKETS_SQL, ids)
    }
    clocks = {
        r["ticket_id"]: Clock(**dict(r)) for r in await conn.fetch("SELECT * FROM sla_clocks WHERE ticket_id = ANY($1::bigint[])", ids)
    }
    return tickets, clocks


async def write(conn: asyncpg.Connection, clocks: list[Clock]) -> None:
    if not clocks:
        return
    columns = ("ticket_id", "due_date", "open", "at_risk_event_id", "at_risk_at", "breached_event_id", "breached_at")
    await conn.execute(_UPSERT_SQL, *([getattr(c, name) for c in clocks] for name in columns))


async def due_ticket_ids(conn: asyncpg.Connection, now: datetime, horizon: timedelta) -> list[int]:
    """Open clocks whose due time passed without a breach, or is within the horizon without an at-risk yet."""
    rows = await conn.fetch(
        """SELECT ticket_id FROM sla_clocks WHERE open AND breached_event_id IS NULL
             AND (due_date <= $1 OR (at_risk_event_id IS NULL AND due_date <= $2))
           ORDER BY due_date LIMIT $3""",
        now, now + horizon, MAX_DUE_PER_TICK,
    )  # fmt: skip
    return [r["ticket_id"] for r in rows]


async def evaluate(conn: asyncpg.Connection, ticket_ids: Iterable[int], now: datetime, horizon: timedelta) -> list[Envelope]:
    """Decide for each ticket, store the changed clocks; returns the events to publish in this transaction."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return []
    tickets, clocks = await load(conn, ids)
    changed: list[Clock] = []
    events: list[Envelope] = []
    for ticket_id in ids:
        before = clocks.get(ticket_id)
        decision = decide(tickets.get(ticket_id), before, now, horizon)
        if decision.clock is not None and decision.clock != before:
            changed.append(decision.clock)
        events.extend(decision.events)
    await write(conn, changed)
    return events
