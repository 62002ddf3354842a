"""The board at a past instant: snapshots of the projected state plus a replay of the events after them.

`state_at(conn, t)` loads the latest snapshot at or before `t` and folds, with the projector's own rules
(`fold.apply`), every applied event of `event_history` with snapshot.at < time <= t, in event-time order (ties:
team facts first, then log position). A snapshot is that same fold up to its `at`, so an answer equals a fold of
the whole history cut at `t`. Memory and time are bounded by the board's size plus the events after the
snapshot: `take` stores one at the first hour mark after at least `min_events` events (compressed, columnar
JSON), so at most that many events plus an hour's worth are folded per answer.

Late events (applied after a snapshot covering their time was taken) invalidate the snapshots from their
time on; `take` finds them through `event_history.applied_at` and rebuilds.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import Date, DateTime, Numeric, Table
from sqlalchemy.dialects.postgresql import UUID

from aiff.errors import PermanentError
from aiff.events.registry import decode
from aiff.projections import fold, schema
from aiff.projections.fold import BatchState

PARTS: dict[str, Table] = {
    "tickets": schema.tickets, "teams": schema.teams, "active": schema.assignments, "positions": schema.team_positions,
    "plans": schema.plans, "visits": schema.plan_visits,
}  # fmt: skip
"""What a snapshot holds: the rows the fold reads and the board shows (`active`: the active assignments)."""
HOUR = timedelta(hours=1)
SETTLE = timedelta(minutes=1)
"""Snapshots cover instants at least this far in the past (events of the last moments may still be in flight)."""
LATE_MARGIN = timedelta(minutes=5)
"""How far back `take` looks for late events before its last run (a projector transaction open that long is not expected)."""
_ORDER = "ORDER BY time, (entity_type <> 'team'), topic, partition, \"offset\""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _converters(table: Table) -> list[Callable[[Any], Any] | None]:
    out: list[Callable[[Any], Any] | None] = []
    for c in table.c:
        t = c.type
        out.append(
            datetime.fromisoformat if isinstance(t, DateTime) else date.fromisoformat if isinstance(t, Date)
            else uuid.UUID if isinstance(t, UUID) else Decimal if isinstance(t, Numeric) else None
        )  # fmt: skip
    return out


_COLUMNS = {part: [c.name for c in table.c] for part, table in PARTS.items()}
_DECODERS = {part: _converters(table) for part, table in PARTS.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def _rows(state: BatchState) -> dict[str, list[dict]]:
    return {
        "tickets": [r for r in state.tickets.values() if r is not None],
        "teams": list(state.teams.values()),
        "active": list(state.active.values()),
        "positions": list(state.positions.values()),
        "plans": list(state.plans.values()),
        "visits": [v for visits in state.plan_visits.values() for v in visits],
    }


def encode(state: BatchState) -> bytes:
    """The board as compressed columnar JSON: per part, the column names once and one list per row."""
    body = {
        part: [[row.get(c) for c in _COLUMNS[part]] for row in rows]
        for part, rows in _rows(state).items()
    }
    body["zone_modes"] = state.zone_modes  # type: ignore[assignment]
    return zlib.compress(json.dumps(body, default=_plain, separators=(",", ":")).encode(), 6)


def _decode_rows(part: str, rows: list[list[Any]]) -> list[dict]:
    cols, convs = _COLUMNS[part], _DECODERS[part]
    out = []
    for values in rows:
        out.append({c: (conv(v) if conv is not None and v is not None else v) for c, conv, v in zip(cols, convs, values)})
    return out


def decode_state(blob: bytes) -> BatchState:
    """The board a snapshot holds, ready for the fold to carry on."""
    body = json.loads(zlib.decompress(blob))
    state = BatchState()
    for row in _decode_rows("tickets", body["tickets"]):
        state.tickets[row["id"]] = row
        state.taken_numbers.add(row["ticket_number"])
    for row in _decode_rows("teams", body["teams"]):
        state.teams[row["id"]] = row
    for row in _decode_rows("active", body["active"]):
        state.active[row["ticket_id"]] = row
    for row in _decode_rows("positions", body["positions"]):
        state.positions[row["team_id"]] = row
    for row in _decode_rows("plans", body["plans"]):
        state.plans[(row["team_id"], row["plan_date"])] = row
    for row in _decode_rows("visits", body["visits"]):
        state.plan_visits.setdefault((row["team_id"], row["plan_date"]), []).append(row)
    state.zone_modes = dict(body.get("zone_modes") or {})
    return state


def fold_events(state: BatchState, events: list[str | bytes]) -> int:
    """Fold stored events into `state` with the projector's rules (one it refuses here changes nothing, as live)."""
    for raw in events:
        try:
            fold.apply(state, decode(raw))
        except PermanentError:
            continue
    state.new_assignments.clear()  # only the active ones matter to the board; the rest would grow without bound
    state.ended_assignments.clear()
    return len(events)


async def latest_snapshot(conn: asyncpg.Connection, at: datetime) -> tuple[datetime | None, BatchState]:
    """The latest snapshot at or before `at` (its instant, its board), or (None, an empty board)."""
    row = await conn.fetchrow("SELECT at, state FROM board_snapshots WHERE at <= $1 ORDER BY at DESC LIMIT 1", at)
    if row is None:
        return None, BatchState()
    return row["at"], decode_state(row["state"])


async def state_at(conn: asyncpg.Connection, at: datetime) -> BatchState:
    """The board at instant `at`: the latest snapshot before it plus the events after the snapshot up to `at`."""
    since, state = await latest_snapshot(conn, at)
    rows = await conn.fetch(f"SELECT event FROM event_history WHERE time > $1 AND time <= $2 {_ORDER}", since or _EPOCH - HOUR, at)
    fold_events(state, [r["event"] for r in rows])
    return state


async def _invalidate_late(conn: asyncpg.Connection) -> datetime | None:
    """Drop the snapshots that a late event (applied after they were taken, with a time they cover) made stale."""
    row = await conn.fetchrow("SELECT max(taken_at) AS checked, max(at) AS newest FROM board_snapshots")
    if row["checked"] is None:
        return None
    late = await conn.fetchval(
        "SELECT min(time) FROM event_history WHERE applied_at > $1 AND time <= $2", row["checked"] - LATE_MARGIN, row["newest"]
    )
    if late is not None:
        await conn.execute("DELETE FROM board_snapshots WHERE at >= $1", late)
    return late


async def take(conn: asyncpg.Connection, *, now: datetime | None = None, min_events: int = 2000, every: timedelta = HOUR) -> int:
    """Extend the snapshots up to `now - SETTLE`: one at each `every` mark after which at least `min_events` events
    were folded since the previous one. Returns how many snapshots were stored."""
    now = now or datetime.now(UTC)
    horizon = now - SETTLE
    await _invalidate_late(conn)
    since, state = await latest_snapshot(conn, horizon)
    start = since or _EPOCH - HOUR
    stored = pending = 0
    mark: datetime | None = None
    async with conn.transaction():
        cursor = conn.cursor(f"SELECT time, event FROM event_history WHERE time > $1 AND time <= $2 {_ORDER}", start, horizon, prefetch=5000)
        batch: list[str] = []
        async for r in cursor:
            t = r["time"]
            if mark is None:
                mark = _next_mark(t, every)
            if t > mark:
                pending += fold_events(state, batch)
                batch = []
                if pending >= min_events:
                    await _store(conn, mark, pending, state)
                    stored += 1
                    pending = 0
                mark = _next_mark(t, every)
            batch.append(r["event"])
    return stored


def _next_mark(t: datetime, every: timedelta) -> datetime:
    """The first multiple of `every` (since the epoch) at or after `t`."""
    n = -((_EPOCH - t) // every)
    return _EPOCH + n * every


async def _store(conn: asyncpg.Connection, at: datetime, events: int, state: BatchState) -> None:
    await conn.execute(
        "INSERT INTO board_snapshots (at, events, state) VALUES ($1, $2, $3) ON CONFLICT (at) DO UPDATE SET "
        "taken_at = now(), events = EXCLUDED.events, state = EXCLUDED.state",
        at, events, encode(state),
    )  # fmt: skip
