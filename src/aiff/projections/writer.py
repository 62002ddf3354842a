"""Set-based reads and writes of a batch's rows: COPY into session temp tables, then one upsert per table."""

from __future__ import annotations

import json
from operator import itemgetter
from collections.abc import Iterable, Sequence

import asyncpg

from aiff.ids import API_TEAM_IDS, API_TICKET_IDS
from aiff.projections.fold import BatchState, Row

TICKET_COLUMNS = (
    "id", "ticket_number", "title", "description", "priority", "status", "category", "assigned_team",
    "assigned_to", "zone", "location", "latitude", "longitude", "customer_name", "created_by",
    "customer_rating", "resolution_notes", "version", "created_at", "updated_at", "assigned_at",
    "started_at", "due_date", "completed_at", "window_start", "window_end", "service_minutes", "pinned",
    "pinned_team", "pinned_sequence", "pinned_date",
)  # fmt: skip
TEAM_COLUMNS = (
    "id", "name", "zone", "description", "is_active", "tickets_completed", "customer_rating", "response_time",
    "completion_rate", "efficiency", "status", "base_town", "latitude", "longitude", "skills", "capacity",
    "members", "version", "created_at", "updated_at", "shift_start", "shift_end", "working_days",
    "lunch_earliest", "lunch_latest", "lunch_minutes", "max_overtime_minutes",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "event_id", "ticket_id", "team_id", "assigned_at", "status", "notes", "strategy", "assigned_by",
    "distance_km", "score", "breakdown", "frozen", "ended_at", "planned_start", "eta", "sequence", "plan_date",
)  # fmt: skip
POSITION_COLUMNS = ("team_id", "latitude", "longitude", "reported_at", "accuracy_m", "source", "event_id")
PLAN_COLUMNS = (
    "team_id", "plan_date", "revision", "strategy", "drive_minutes", "drive_km", "overtime_minutes", "break_start",
    "break_end", "unserved", "reason", "updated_at", "event_id",
)  # fmt: skip
VISIT_COLUMNS = (
    "team_id", "plan_date", "ticket_id", "sequence", "eta", "planned_start", "planned_end", "travel_minutes",
    "travel_km", "pinned", "explanation",
)  # fmt: skip
HISTORY_COLUMNS = (
    "event_id", "entity_type", "entity_id", "type", "time", "source", "correlation_id", "topic", "partition",
    "offset", "event",
)  # fmt: skip
REFUSED_COLUMNS = (*HISTORY_COLUMNS, "outcome", "reason")
"""A history row of an event refused as stale: recorded (it happened, and a redelivery must find it), not applied."""

_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS tmp_tickets (LIKE tickets) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_teams (LIKE teams) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_team_positions (LIKE team_positions) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tmp_plans (LIKE plans) ON COMMIT DELETE ROWS;
"""


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str] = ("id",)) -> str:
    cols = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM tmp_{table} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_UPSERT_TICKETS = _upsert_sql("tickets", TICKET_COLUMNS)
_UPSERT_TEAMS = _upsert_sql("teams", TEAM_COLUMNS)
_UPSERT_POSITIONS = _upsert_sql("team_positions", POSITION_COLUMNS, ("team_id",))
_UPSERT_PLANS = _upsert_sql("plans", PLAN_COLUMNS, ("team_id", "plan_date"))


async def prepare_connection(conn: asyncpg.Connection) -> None:
    """Per-connection set-up: the temp tables COPY writes into (emptied at every commit)."""
    await conn.execute(_TEMP_TABLES)


async def applied_events(conn: asyncpg.Connection, event_ids: list) -> dict:
    """The history rows of the ids already applied: {id: (event as stored, topic, partition, offset)}, so a
    reused id can be told apart from a redelivery."""
    if not event_ids:
        return {}
    rows = await conn.fetch(
        'SELECT event_id, event, topic, partition, "offset" FROM event_history WHERE event_id = ANY($1::uuid[])', event_ids
    )
    return {r["event_id"]: (r["event"], r["topic"], r["partition"], r["offset"]) for r in rows}


async def load_state(
    conn: asyncpg.Connection,
    ticket_ids: set[int],
    team_ids: set[int],
    new_numbers: set[str],
    position_teams: set[int] = frozenset(),  # type: ignore[assignment]
    plan_keys: set[tuple] = frozenset(),  # type: ignore[assignment]
) -> BatchState:
    """Read every row a batch touches, in one indexed query per table."""
    state = BatchState()
    if position_teams:
        for r in await conn.fetch(
            f"SELECT {', '.join(POSITION_COLUMNS)} FROM team_positions WHERE team_id = ANY($1::int[])", list(position_teams)
        ):
            state.positions[r["team_id"]] = dict(r)
    if plan_keys:
        keys = list(plan_keys)
        for r in await conn.fetch(
            f"SELECT {', '.join(PLAN_COLUMNS)} FROM plans "
            "WHERE (team_id, plan_date) IN (SELECT * FROM unnest($1::int[], $2::date[]))",
            [k[0] for k in keys],
            [k[1] for k in keys],
        ):
            state.plans[(r["team_id"], r["plan_date"])] = dict(r)
    if ticket_ids:
        ids = list(ticket_ids)
        for r in await conn.fetch(f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets WHERE id = ANY($1::bigint[])", ids):
            state.tickets[r["id"]] = dict(r)
        for r in await conn.fetch(
            f"SELECT {', '.join(ASSIGNMENT_COLUMNS)} FROM assignments "
            "WHERE ticket_id = ANY($1::bigint[]) AND status IN ('assigned', 'in_progress')",
            ids,
        ):
            state.active[r["ticket_id"]] = dict(r)
    if new_numbers:
        rows = await conn.fetch("SELECT ticket_number FROM tickets WHERE ticket_number = ANY($1::text[])", list(new_numbers))
        state.taken_numbers = {r["ticket_number"] for r in rows}
    # A ticket's stored team too: a pin naming no team pins the ticket to it, and the fold checks it exists.
    team_ids = set(team_ids) | {t["assigned_team"] for t in state.tickets.values() if t.get("assigned_team") is not None}
    if team_ids:
        for r in await conn.fetch(f"SELECT {', '.join(TEAM_COLUMNS)} FROM teams WHERE id = ANY($1::int[])", list(team_ids)):
            row = dict(r)
            row["members"] = json.loads(row["members"]) if isinstance(row["members"], str) else row["members"]
            state.teams[r["id"]] = row
    return state


def _records(rows: Iterable[Row], columns: Sequence[str], json_columns: frozenset[str] = frozenset()) -> list[tuple]:
    pick = itemgetter(*columns)
    if not json_columns:
        return [pick(row) for row in rows]
    positions = [i for i, c in enumerate(columns) if c in json_columns]
    out = []
    for row in rows:
        values = list(pick(row))
        for i in positions:
            values[i] = json.dumps(values[i])
        out.append(tuple(values))
    return out


async def write_state(conn: asyncpg.Connection, state: BatchState, history: list[tuple], refused: Sequence[tuple] = ()) -> None:
    """Store the batch's final rows and its history (inside the caller's transaction); `refused`: rows of
    REFUSED_COLUMNS for the events refused as stale."""
    if history:
        await conn.copy_records_to_table("event_history", records=history, columns=HISTORY_COLUMNS)
    if refused:
        await conn.copy_records_to_table("event_history", records=list(refused), columns=REFUSED_COLUMNS)
    if state.deleted_tickets:
        await conn.execute("DELETE FROM tickets WHERE id = ANY($1::bigint[])", list(state.deleted_tickets))
    if state.dirty_tickets:
        rows = [state.tickets[i] for i in state.dirty_tickets if state.tickets.get(i) is not None]
        await conn.copy_records_to_table("tmp_tickets", records=_records(rows, TICKET_COLUMNS), columns=TICKET_COLUMNS)
        await conn.execute(_UPSERT_TICKETS)
    if state.ended_assignments:
        ended = list(state.ended_assignments.values())
        await conn.execute(
            """UPDATE assignments AS a SET status = v.s, ended_at = v.e
               FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, s, e) WHERE a.event_id = v.id""",
            [a["event_id"] for a in ended],
            [a["status"] for a in ended],
            [a["ended_at"] for a in ended],
        )
    if state.new_assignments:
        await conn.copy_records_to_table(
            "assignments",
            records=_records(state.new_assignments, ASSIGNMENT_COLUMNS, frozenset({"breakdown"})),
            columns=ASSIGNMENT_COLUMNS,
        )
    if state.dirty_teams:
        rows = [state.teams[i] for i in state.dirty_teams]
        await conn.copy_records_to_table(
            "tmp_teams", records=_records(rows, TEAM_COLUMNS, frozenset({"members"})), columns=TEAM_COLUMNS
        )
        await conn.execute(_UPSERT_TEAMS)
    await _write_routes(conn, state)
    await _bump_sequence(conn, "ticket_id_seq", max((i for i in state.dirty_tickets if i in API_TICKET_IDS), default=0), API_TICKET_IDS)
    await _bump_sequence(conn, "team_id_seq", max((i for i in state.dirty_teams if i in API_TEAM_IDS), default=0), API_TEAM_IDS)
    if state.zone_modes:
        await conn.execute(
            """UPDATE zones AS z SET assignment_mode = v.m, updated_at = now()
               FROM unnest($1::text[], $2::text[]) AS v(n, m) WHERE z.name = v.n""",
            list(state.zone_modes),
            list(state.zone_modes.values()),
        )


async def _write_routes(conn: asyncpg.Connection, state: BatchState) -> None:
    """Latest positions and replaced team-days: COPY + one upsert each; a team-day's visits are deleted and
    copied anew (a plan is the whole day)."""
    if state.dirty_positions:
        rows = [state.positions[i] for i in state.dirty_positions]
        await conn.copy_records_to_table("tmp_team_positions", records=_records(rows, POSITION_COLUMNS), columns=POSITION_COLUMNS)
        await conn.execute(_UPSERT_POSITIONS)
    if state.dirty_plans:
        keys = list(state.dirty_plans)
        rows = [state.plans[k] for k in keys]
        await conn.copy_records_to_table(
            "tmp_plans", records=_records(rows, PLAN_COLUMNS, frozenset({"unserved"})), columns=PLAN_COLUMNS
        )
        await conn.execute(_UPSERT_PLANS)
        await conn.execute(
            "DELETE FROM plan_visits WHERE (team_id, plan_date) IN (SELECT * FROM unnest($1::int[], $2::date[]))",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        visits = [v for k in keys for v in state.plan_visits.get(k, ())]
        if visits:
            await conn.copy_records_to_table("plan_visits", records=_records(visits, VISIT_COLUMNS, frozenset({"explanation"})), columns=VISIT_COLUMNS)


async def _bump_sequence(conn: asyncpg.Connection, sequence: str, seen_id: int, api_range: range) -> None:
    """Keep the API's allocator past every id of its own range already in the log (a database rebuilt from the
    log starts its sequences afresh); ids outside that range are upstream's and never concern it."""
    if seen_id in api_range:
        await conn.execute(
            f"SELECT setval('{sequence}', $1) WHERE $1 > (SELECT last_value FROM {sequence})", seen_id
        )
