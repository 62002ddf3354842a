"""What the assignment engine reads from the read models, and its own bookkeeping tables."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime

import asyncpg

from aiff.assignment.model import TeamSpec, TicketSpec
from aiff.assignment.revise import CurrentAssignment
from aiff.errors import TransientError
from aiff.zones import ZONES_BY_NAME

DECISION_LOCK = 0x41_49_46_46  # "AIFF": one engine decision at a time, across instances

_TICKET_COLUMNS = """t.id, t.zone, t.latitude, t.longitude, t.priority,
    coalesce(t.category, e.suggested_category) AS skill, t.created_at, t.due_date"""


def _ticket(r: asyncpg.Record) -> TicketSpec:
    zone = ZONES_BY_NAME.get(r["zone"])
    lat = r["latitude"] if r["latitude"] is not None else (zone.latitude if zone else 0.0)
    lon = r["longitude"] if r["longitude"] is not None else (zone.longitude if zone else 0.0)
    return TicketSpec(r["id"], r["zone"], lat, lon, r["priority"], r["skill"], r["created_at"], r["due_date"])


async def pending_tickets(conn: asyncpg.Connection, ticket_ids: Iterable[int] | None = None, limit: int = 20_000) -> list[TicketSpec]:
    """Open or reopened tickets: in auto-mode zones, or exactly the ids asked for."""
    if ticket_ids is None:
        rows = await conn.fetch(
            f"""SELECT {_TICKET_COLUMNS} FROM tickets t LEFT JOIN ticket_enrichments e ON e.ticket_id = t.id
                WHERE t.status IN ('open', 'reopened')
                  AND t.zone IN (SELECT name FROM zones WHERE assignment_mode = 'auto')
                ORDER BY t.due_date NULLS LAST, t.id LIMIT $1""",
            limit,
        )
    else:
        rows = await conn.fetch(
            f"""SELECT {_TICKET_COLUMNS} FROM tickets t LEFT JOIN ticket_enrichments e ON e.ticket_id = t.id
                WHERE t.id = ANY($1::bigint[]) AND t.status IN ('open', 'reopened', 'assigned')""",
            list(ticket_ids),
        )
    return [_ticket(r) for r in rows]


async def tickets_by_id(conn: asyncpg.Connection, ticket_ids: list[int]) -> list[TicketSpec]:
    rows = await conn.fetch(
        f"SELECT {_TICKET_COLUMNS} FROM tickets t LEFT JOIN ticket_enrichments e ON e.ticket_id = t.id WHERE t.id = ANY($1::bigint[])",
        ticket_ids,
    )
    return [_ticket(r) for r in rows]


async def teams_with_load(conn: asyncpg.Connection) -> list[TeamSpec]:
    """Active teams and how many open tickets each holds now (the capacity check's input)."""
    rows = await conn.fetch(
        """SELECT tm.id, tm.zone, tm.latitude, tm.longitude, tm.skills, tm.capacity, tm.status,
                  tm.tickets_completed, tm.customer_rating, tm.efficiency, coalesce(l.n, 0) AS open_tickets
           FROM teams tm
           LEFT JOIN (SELECT assigned_team, count(*) AS n FROM tickets
                      WHERE status IN ('assigned', 'in_progress') GROUP BY assigned_team) l ON l.assigned_team = tm.id
           WHERE tm.is_active"""
    )
    out = []
    for r in rows:
        zone = ZONES_BY_NAME.get(r["zone"])
        lat = r["latitude"] if r["latitude"] is not None else (zone.latitude if zone else 0.0)
        lon = r["longitude"] if r["longitude"] is not None else (zone.longitude if zone else 0.0)
        out.append(
            TeamSpec(r["id"], r["zone"], lat, lon, frozenset(r["skills"] or ()), r["capacity"], r["open_tickets"],
                     r["status"], r["tickets_completed"], float(r["customer_rating"]), float(r["efficiency"]))  # fmt: skip
        )
    return out


async def current_assignments(conn: asyncpg.Connection) -> dict[int, CurrentAssignment]:
    rows = await conn.fetch("SELECT ticket_id, team_id, status, frozen FROM assignments WHERE status IN ('assigned', 'in_progress')")
    return {r["ticket_id"]: CurrentAssignment(r["team_id"], r["status"], r["frozen"]) for r in rows}


async def unstarted_of(conn: asyncpg.Connection, team_ids: set[int]) -> list[tuple[int, int]]:
    """(ticket, team) pairs assigned to these teams but not started: they go back to the queue."""
    rows = await conn.fetch(
        "SELECT ticket_id, team_id FROM assignments WHERE team_id = ANY($1::int[]) AND status = 'assigned'", list(team_ids)
    )
    return [(r["ticket_id"], r["team_id"]) for r in rows]


async def wait_for_projector(conn: asyncpg.Connection, needed: dict[tuple[str, int], int], timeout_s: float = 30.0) -> None:
    """Wait until the projector applied every record up to `needed` offsets, so decisions see current rows."""
    if not needed:
        return
    deadline = time.monotonic() + timeout_s
    topics = [t for t, _ in needed]
    parts = [p for _, p in needed]
    while True:
        rows = await conn.fetch(
            """SELECT topic, partition, next_offset FROM projection_positions
               WHERE projection = 'projector' AND (topic, partition) IN (SELECT * FROM unnest($1::text[], $2::int[]))""",
            topics,
            parts,
        )
        done = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        if all(done.get(tp, 0) > offset for tp, offset in needed.items()):
            return
        if time.monotonic() > deadline:
            raise TransientError("the projector is behind; is `aiff worker projector` running?")
        await asyncio.sleep(0.01)


async def outbox(conn: asyncpg.Connection) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, last_offset FROM engine_outbox")
    return {(r["topic"], r["partition"]): r["last_offset"] for r in rows}


async def record_outbox(conn: asyncpg.Connection, offsets: dict[tuple[str, int], int]) -> None:
    if offsets:
        await conn.executemany(
            """INSERT INTO engine_outbox (topic, partition, last_offset) VALUES ($1, $2, $3)
               ON CONFLICT (topic, partition) DO UPDATE SET last_offset = GREATEST(engine_outbox.last_offset, EXCLUDED.last_offset)""",
            [(t, p, o) for (t, p), o in offsets.items()],
        )


async def forget_deferrals(conn: asyncpg.Connection, ticket_ids: list[int]) -> None:
    """An assigned ticket's last deferral is history: if it waits again, that is news."""
    if ticket_ids:
        await conn.execute("DELETE FROM engine_deferrals WHERE ticket_id = ANY($1::bigint[])", ticket_ids)


async def changed_deferrals(conn: asyncpg.Connection, reasons: dict[int, str]) -> dict[int, str]:
    """The deferrals whose key (`reason` column: what makes one news, see the engine's `_Deferral.key`) is new for
    the ticket, so a waiting ticket is not re-announced every batch."""
    if not reasons:
        return {}
    rows = await conn.fetch("SELECT ticket_id, reason FROM engine_deferrals WHERE ticket_id = ANY($1::bigint[])", list(reasons))
    known = {r["ticket_id"]: r["reason"] for r in rows}
    fresh = {t: r for t, r in reasons.items() if known.get(t) != r}
    if fresh:
        await conn.executemany(
            """INSERT INTO engine_deferrals (ticket_id, reason) VALUES ($1, $2)
               ON CONFLICT (ticket_id) DO UPDATE SET reason = EXCLUDED.reason, deferred_at = now()""",
            list(fresh.items()),
        )
    return fresh


async def record_shadow(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    if rows:
        await conn.copy_records_to_table(
            "shadow_decisions",
            records=rows,
            columns=("ticket_id", "strategy", "live_strategy", "team_id", "live_team_id", "distance_km",
                     "live_distance_km", "score", "breakdown", "reason", "decided_at"),  # fmt: skip
        )


def now_utc() -> datetime:
    from aiff.events.envelope import utcnow

    return utcnow()
