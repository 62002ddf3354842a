"""`?as_of=` on the board's reads: the state at a past instant stands in for the live tables for one request.

The board at the instant (`projections.snapshots.state_at`) is copied into temporary tables named like the
live ones (`tickets`, `assignments`, `teams`; for a plans read also that day's `plans`, `plan_visits`), dropped when the request's transaction ends; the router's own
queries run on them with the table names qualified by `pg_temp.` (`on_board`), so filters, paging and
ordering are the live ones, and no cached plan of a live query can read the wrong table.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated

import asyncpg
from fastapi import Query
from pydantic import AfterValidator, AwareDatetime

from aiff.api.schemas import _sane_datetime
from aiff.projections import snapshots
from aiff.projections.fold import BatchState


def _not_future(value: datetime) -> datetime:
    value = _sane_datetime(value)
    if value > datetime.now(UTC):
        raise ValueError("as_of must not be in the future (the board of now: leave as_of out)")
    return value


AsOfInstant = Annotated[AwareDatetime, AfterValidator(_not_future)]
AsOf = Annotated[
    AsOfInstant | None,
    Query(description="The board as it was at this past instant (ISO 8601 with offset, e.g. 2026-05-01T09:30:00+08:00); "
                      "computed from the log. A future instant is refused (422)."),
]  # fmt: skip

_PARTS = (
    ("tickets", "tickets", ()), ("assignments", "active", ("breakdown",)), ("teams", "teams", ("members",)),
    ("plans", "plans", ("unserved",)), ("plan_visits", "visits", ("explanation",)),
)  # fmt: skip
_TABLES = tuple(table for table, _, _ in _PARTS)


_EMPTY_JSON = {"breakdown": {}, "members": [], "unserved": []}  # `explanation` is nullable: None stays null


def _records(rows: list[dict], columns: list[str], json_columns: tuple[str, ...]) -> list[tuple]:
    out = []
    for row in rows:
        values = [row.get(c) for c in columns]
        for c in json_columns:
            i = columns.index(c)
            if not isinstance(values[i], str):
                values[i] = json.dumps(values[i] if values[i] is not None else _EMPTY_JSON.get(c))
        out.append(tuple(values))
    return out


async def materialize(conn: asyncpg.Connection, state: BatchState, plan_day: date | None = None) -> None:
    """Temporary `tickets`, `assignments` (the active ones) and `teams` holding `state`, and with `plan_day` also
    `plans` and `plan_visits` of that day only (the board keeps every team-day ever planned: copying them all would
    cost every request far more than it reads); call inside a transaction."""
    rows = {
        "tickets": [r for r in state.tickets.values() if r is not None],
        "active": [{**a, "id": n} for n, a in enumerate(state.active.values(), start=1)],
        "teams": list(state.teams.values()),
        "plans": [p for (_, day), p in state.plans.items() if day == plan_day],
        "visits": [v for (_, day), visits in state.plan_visits.items() if day == plan_day for v in visits],
    }
    for table, part, json_columns in _PARTS if plan_day is not None else _PARTS[:3]:
        columns = [c.name for c in snapshots.PARTS[part].c]
        await conn.execute(f"CREATE TEMP TABLE {table} (LIKE {table}) ON COMMIT DROP")
        await conn.copy_records_to_table(table, records=_records(rows[part], columns, json_columns), columns=columns)


def on_board(sql: str) -> str:
    """A live query rewritten to read the temporary tables of `board_as_of`."""
    for table in _TABLES:
        sql = sql.replace(f"FROM {table}", f"FROM pg_temp.{table}").replace(f"JOIN {table}", f"JOIN pg_temp.{table}")
    return sql


@contextlib.asynccontextmanager
async def board_as_of(conn: asyncpg.Connection, at: datetime | None, plan_day: date | None = None) -> AsyncIterator[None]:
    """Within the block, the connection's queries see the board at `at` (no change when `at` is None); with
    `plan_day`, also that day's plans and visits."""
    if at is None:
        yield
        return
    async with conn.transaction(readonly=False):
        await materialize(conn, await snapshots.state_at(conn, at), plan_day)
        yield
