"""The board at a past instant: snapshots of the projected state plus a replay of the events after them.

`state_at(conn, t)` loads the latest snapshot at or before `t` and folds, with the projector's own rules
(`fold.apply`), every applied event of `event_history` with snapshot.at < time <= t, in event-time order (ties:
team facts first, then log position). A snapshot is that same fold up to its `at`, so an answer equals a fold of
the whole history cut at `t`. Memory and time are bounded by the board's size plus the events after the
snapshot: `take` stores one at the first hour mark after at least `min_events` events, or a fifth of the board's
tickets when that is more (so a large board is not stored over and over), as compressed columnar JSON; an answer
folds at most that many events plus an hour's worth.

Late events (applied after a snapshot covering their time was taken) invalidate the snapshots from their time
on: each run records the projector's positions it saw, and the next looks at the history past them.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
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
_ORDER = "ORDER BY time, (entity_type <> 'team'), topic, partition, \"offset\""
_APPLIED = "outcome = 'applied'"
"""Events refused as stale are in the history too (recorded, not applied); the board folds the applied ones."""
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
    if isinstance(value, Decimal):  # the only type orjson leaves to us (datetimes, dates, UUIDs it writes itself)
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
    return zlib.compress(orjson.dumps(body, default=_plain), 3)


def _decode_rows(part: str, rows: list[list[Any]]) -> list[dict]:
    cols, convs = _COLUMNS[part], _DECODERS[part]
    out = []
    for values in rows:
        out.append({c: (conv(v) if conv is not None and v is not None else v) for c, conv, v in zip(cols, convs, values)})
    return out


def decode_state(blob: bytes) -> BatchState:
    """The board a snapshot holds, ready for the fold to carry on."""
    body = orjson.loads(zlib.decompress(blob))
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
    """The board at instant `at`: the latest snapshot before it plus the events after the snapshot up to `at`.

    Decoding and folding run in a worker thread, so a large board does not stall the event loop's other requests.
    """
    row = await conn.fetchrow("SELECT at, state FROM board_snapshots WHERE at <= $1 ORDER BY at DESC LIMIT 1", at)
    since = row["at"] if row is not None else _EPOCH - HOUR
    rows = await conn.fetch(f"SELECT event FROM event_history WHERE time > $1 AND time <= $2 AND {_APPLIED} {_ORDER}", since, at)
    return await asyncio.to_thread(_board, row["state"] if row is not None else None, [r["event"] for r in rows])


def _board(blob: bytes | None, events: list[str]) -> BatchState:
    state = decode_state(blob) if blob is not None else BatchState()
    fold_events(state, events)
    return state


async def _positions(conn: asyncpg.Connection) -> list[list]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM projection_positions WHERE projection = 'projector'")
    return [[r["topic"], r["partition"], r["next_offset"]] for r in rows]


async def _invalidate_late(conn: asyncpg.Connection) -> datetime | None:
    """Drop the snapshots that a late event made stale: one applied since the last run (past the projector positions
    that run recorded) whose time a snapshot already covers."""
    row = await conn.fetchrow("SELECT at, positions FROM board_snapshots ORDER BY at DESC LIMIT 1")
    if row is None:
        return None
    seen = orjson.loads(row["positions"]) if isinstance(row["positions"], (str, bytes)) else row["positions"]
    late = await conn.fetchval(
        """SELECT min(e.time) FROM event_history e
           LEFT JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS p(topic, partition, next_offset)
             ON p.topic = e.topic AND p.partition = e.partition
           WHERE e.time <= $4 AND e."offset" >= coalesce(p.next_offset, 0)""",
        [t for t, _, _ in seen], [p for _, p, _ in seen], [o for _, _, o in seen], row["at"],
    )  # fmt: skip
    if late is not None:
        await conn.execute("DELETE FROM board_snapshots WHERE at >= $1", late)
    return late


async def take(conn: asyncpg.Connection, *, now: datetime | None = None, min_events: int = 1000, every: timedelta = HOUR) -> int:
    """Extend the snapshots up to `now - SETTLE`: one at each `every` mark after which at least `min_events` events
    (or a fifth of the board's tickets) were folded since the previous one. Returns how many snapshots were stored."""
    now = now or datetime.now(UTC)
    horizon = now - SETTLE
    if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext(current_schema() || '.board_snapshots'))"):
        return 0  # another projector instance (or `aiff snapshots take`) is at it
    try:
        # One database snapshot for the run: the positions recorded are exactly those of the events it folds.
        async with conn.transaction(isolation="repeatable_read"):
            return await _take(conn, horizon, min_events, every)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext(current_schema() || '.board_snapshots'))")


async def _take(conn: asyncpg.Connection, horizon: datetime, min_events: int, every: timedelta) -> int:
    await _invalidate_late(conn)
    seen = orjson.dumps(await _positions(conn)).decode()
    since, state = await latest_snapshot(conn, horizon)
    start = since or _EPOCH - HOUR
    stored = pending = 0
    mark: datetime | None = None
    cursor = conn.cursor(f"SELECT time, event FROM event_history WHERE time > $1 AND time <= $2 AND {_APPLIED} {_ORDER}", start, horizon, prefetch=5000)
    batch: list[str] = []
    async for r in cursor:
        t = r["time"]
        if mark is None:
            mark = _next_mark(t, every)
        if t > mark:
            pending += fold_events(state, batch)
            batch = []
            if pending >= max(min_events, len(state.tickets) // 5):
                await _store(conn, mark, pending, state, seen)
                stored += 1
                pending = 0
            mark = _next_mark(t, every)
        batch.append(r["event"])
    await conn.execute("UPDATE board_snapshots SET positions = $1::jsonb WHERE at = (SELECT max(at) FROM board_snapshots)", seen)
    return stored


def _next_mark(t: datetime, every: timedelta) -> datetime:
    """The first multiple of `every` (since the epoch) at or after `t`."""
    n = -((_EPOCH - t) // every)
    return _EPOCH + n * every


async def _store(conn: asyncpg.Connection, at: datetime, events: int, state: BatchState, positions: str) -> None:
    await conn.execute(
        "INSERT INTO board_snapshots (at, events, positions, state) VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (at) DO UPDATE "
        "SET taken_at = now(), events = EXCLUDED.events, positions = EXCLUDED.positions, state = EXCLUDED.state",
        at, events, positions, encode(state),
    )  # fmt: skip
