"""The analytics consumer's reads and writes: set-based upserts of facts and daily counters per batch, team
KPIs recomputed for the teams a batch touched, and the seeds' `analytics` rows (one per team, day, metric).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime

import asyncpg

from aiff.analytics.fold import FACT_COLUMNS, AnalyticsBatch
from aiff.analytics.metrics import COUNTERS, ZONE_COUNTERS, TeamMetrics, daily_metric_rows, day_of, day_start, team_metrics
from aiff.events.envelope import Envelope
from aiff.events.teams import TeamMetricsUpdated, team_event

METRICS_NAMESPACE = uuid.UUID("6f1c1d3e-6a54-4c3e-9b43-1f0b5b0a7e11")
_FACT_TYPES = (
    "bigint", "text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "int",
    "timestamptz", "timestamptz", "int", "int", "timestamptz",
)  # fmt: skip


async def load(conn: asyncpg.Connection, ticket_ids: Iterable[int], team_ids: Iterable[int]) -> AnalyticsBatch:
    """The facts of the tickets and teams a batch refers to."""
    batch = AnalyticsBatch()
    ticket_ids, team_ids = list(set(ticket_ids)), list(set(team_ids))
    if ticket_ids:
        rows = await conn.fetch("SELECT * FROM analytics_ticket_facts WHERE ticket_id = ANY($1::bigint[])", ticket_ids)
        batch.facts = {r["ticket_id"]: dict(r) for r in rows}
    if team_ids:
        rows = await conn.fetch("SELECT * FROM analytics_team_facts WHERE team_id = ANY($1::int[])", team_ids)
        batch.teams = {r["team_id"]: dict(r) for r in rows}
    return batch


async def write(conn: asyncpg.Connection, batch: AnalyticsBatch) -> None:
    """Store changed facts and add the batch's counter deltas, one statement per table."""
    if batch.dirty_facts:
        rows = [batch.facts[t] for t in sorted(batch.dirty_facts)]
        cols = ", ".join(FACT_COLUMNS)
        params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(_FACT_TYPES))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_COLUMNS if c != "ticket_id")
        await conn.execute(
            f"INSERT INTO analytics_ticket_facts ({cols}) SELECT * FROM unnest({params}) "
            f"ON CONFLICT (ticket_id) DO UPDATE SET {updates}",
            *[[r[c] for r in rows] for c in FACT_COLUMNS],
        )
    if batch.dirty_teams:
        rows = [batch.teams[t] for t in sorted(batch.dirty_teams)]
        await conn.execute(
            """INSERT INTO analytics_team_facts (team_id, zone, capacity, is_active)
               SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::bool[])
               ON CONFLICT (team_id) DO UPDATE SET zone = EXCLUDED.zone, capacity = EXCLUDED.capacity,
                   is_active = EXCLUDED.is_active""",
            *[[r[c] for r in rows] for c in ("team_id", "zone", "capacity", "is_active")],
        )
    if batch.team_days:
        keys = sorted(batch.team_days)
        await _add_counters(
            conn, "team_daily_stats", ("team_id", "int"), COUNTERS, keys,
            [batch.team_zone(t) for t, _ in keys], [batch.team_days[k] for k in keys],
        )  # fmt: skip
    if batch.zone_days:
        keys = sorted(batch.zone_days)
        await _add_counters(conn, "zone_daily_stats", ("zone", "text"), ZONE_COUNTERS, keys, None, [batch.zone_days[k] for k in keys])


async def _add_counters(
    conn: asyncpg.Connection,
    table: str,
    key: tuple[str, str],
    counters: tuple[str, ...],
    keys: list[tuple],
    zones: list[str | None] | None,
    deltas: list[dict[str, float]],
) -> None:
    key_col, key_type = key
    cols = [key_col, "day"] + (["zone"] if zones is not None else []) + list(counters)
    types = [key_type, "date"] + (["text"] if zones is not None else []) + [
        "float8" if c.startswith("sum_") or c == "rating_sum" else "int" for c in counters
    ]
    values: list[list] = [[k[0] for k in keys], [k[1] for k in keys]]
    if zones is not None:
        values.append(zones)
    for c in counters:
        as_int = not (c.startswith("sum_") or c == "rating_sum")
        values.append([int(d.get(c, 0)) if as_int else float(d.get(c, 0.0)) for d in deltas])
    params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    updates = [f"{c} = {table}.{c} + EXCLUDED.{c}" for c in counters]
    if zones is not None:
        updates.append(f"zone = COALESCE({table}.zone, EXCLUDED.zone)")
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM unnest({params}) "
        f"ON CONFLICT ({key_col}, day) DO UPDATE SET {', '.join(updates)}",
        *values,
    )


_SUMS = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in COUNTERS)


async def compute_team_metrics(conn: asyncpg.Connection, team_ids: list[int] | None = None) -> dict[int, TeamMetrics]:
    """KPIs of the given teams (all known teams when None) from the daily counters and open facts."""
    where = "WHERE team_id = ANY($1::int[])" if team_ids is not None else ""
    args = [team_ids] if team_ids is not None else []
    sums = {r["team_id"]: dict(r) for r in await conn.fetch(f"SELECT team_id, {_SUMS} FROM team_daily_stats {where} GROUP BY team_id", *args)}
    open_where = "AND assigned_team = ANY($1::int[])" if team_ids is not None else ""
    open_counts = {
        r["assigned_team"]: r["n"]
        for r in await conn.fetch(
            f"""SELECT assigned_team, count(*) AS n FROM analytics_ticket_facts
                WHERE status IN ('assigned', 'in_progress') AND assigned_team IS NOT NULL {open_where}
                GROUP BY assigned_team""",
            *args,
        )
    }
    capacity = {r["team_id"]: r["capacity"] for r in await conn.fetch(f"SELECT team_id, capacity FROM analytics_team_facts {where}", *args)}
    ids = set(team_ids) if team_ids is not None else set(sums) | set(open_counts) | set(capacity)
    return {t: team_metrics(sums.get(t, {}), open_counts.get(t, 0), capacity.get(t, 0)) for t in ids}


async def store_changed_metrics(
    conn: asyncpg.Connection, metrics: dict[int, TeamMetrics], at: datetime
) -> list[Envelope]:
    """Save the teams' KPIs; returns a `TeamMetricsUpdated` for every team whose published values changed.

    Event ids are derived from the team, a per-team sequence, the values and the time, so a batch retried after a
    rollback republishes the same events (the projector applies each id once).
    """
    if not metrics:
        return []
    prev = {
        r["team_id"]: r
        for r in await conn.fetch("SELECT * FROM analytics_team_metrics WHERE team_id = ANY($1::int[])", list(metrics))
    }
    events: list[Envelope] = []
    rows = []
    for team_id, m in sorted(metrics.items()):
        old = prev.get(team_id)
        old_part = (
            None if old is None else (
                old["tickets_completed"], old["customer_rating"], old["response_time"], old["completion_rate"],
                old["efficiency"], old["open_tickets"],
            )
        )  # fmt: skip
        seq = old["seq"] if old is not None else 0
        if old_part != m.published_part():
            seq += 1
            # The time is part of the fact: one id never carries two contents (that is a conflict for the projector).
            event_id = uuid.uuid5(METRICS_NAMESPACE, f"{team_id}:{seq}:{m.published_part()}:{at.isoformat()}")
            events.append(
                team_event(
                    TeamMetricsUpdated,
                    {"team_id": team_id, **{k: v for k, v in m.as_dict().items() if k in TeamMetricsUpdated.model_fields["data"].annotation.model_fields}},
                    id=event_id,
                    time=at,
                    source="urn:aiff:analytics",
                )
            )
        rows.append((team_id, m, seq))
    await conn.execute(
        """INSERT INTO analytics_team_metrics (team_id, tickets_completed, customer_rating, response_time,
               completion_rate, efficiency, open_tickets, first_time_fix, reopen_rate, utilization, seq, updated_at)
           SELECT *, now() FROM unnest($1::int[], $2::int[], $3::float8[], $4::int[], $5::float8[], $6::float8[],
                                  $7::int[], $8::float8[], $9::float8[], $10::float8[], $11::int[])
           ON CONFLICT (team_id) DO UPDATE SET tickets_completed = EXCLUDED.tickets_completed,
               customer_rating = EXCLUDED.customer_rating, response_time = EXCLUDED.response_time,
               completion_rate = EXCLUDED.completion_rate, efficiency = EXCLUDED.efficiency,
               open_tickets = EXCLUDED.open_tickets, first_time_fix = EXCLUDED.first_time_fix,
               reopen_rate = EXCLUDED.reopen_rate, utilization = EXCLUDED.utilization, seq = EXCLUDED.seq,
               updated_at = now()""",
        [r[0] for r in rows],
        [r[1].tickets_completed for r in rows],
        [r[1].customer_rating for r in rows],
        [r[1].response_time for r in rows],
        [r[1].completion_rate for r in rows],
        [r[1].efficiency for r in rows],
        [r[1].open_tickets for r in rows],
        [r[1].first_time_fix for r in rows],
        [r[1].reopen_rate for r in rows],
        [r[1].utilization for r in rows],
        [r[2] for r in rows],
    )
    return events


async def write_daily_analytics(
    conn: asyncpg.Connection, team_days: Iterable[tuple[int, date]], snapshots: dict[int, TeamMetrics], snapshot_day: date | None
) -> int:
    """Upsert the seeds' `analytics` rows: per-day team metrics for the (team, day) pairs given, plus the
    team's open tickets and utilization as a snapshot on `snapshot_day`. Returns rows written."""
    keys = sorted(set(team_days))
    names, values, teams, zones, dates, metas = [], [], [], [], [], []
    if keys:
        rows = await conn.fetch(
            """SELECT s.* FROM team_daily_stats s JOIN unnest($1::int[], $2::date[]) AS k(t, d)
                ON s.team_id = k.t AND s.day = k.d""",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        for r in rows:
            sums = {c: r[c] for c in COUNTERS}
            meta = json.dumps({"source": "analytics", "period": "day", "counts": {c: r[c] for c in COUNTERS if r[c]}})
            for name, value in daily_metric_rows(sums).items():
                names.append(name)
                values.append(value)
                teams.append(r["team_id"])
                zones.append(r["zone"])
                dates.append(day_start(r["day"]))
                metas.append(meta)
    if snapshot_day is not None and snapshots:
        team_zone = {
            r["team_id"]: r["zone"]
            for r in await conn.fetch("SELECT team_id, zone FROM analytics_team_facts WHERE team_id = ANY($1::int[])", list(snapshots))
        }
        meta = json.dumps({"source": "analytics", "period": "snapshot"})
        for team_id, m in snapshots.items():
            for name in ("open_tickets", "utilization"):
                names.append(name)
                values.append(float(getattr(m, name)))
                teams.append(team_id)
                zones.append(team_zone.get(team_id))
                dates.append(day_start(snapshot_day))
                metas.append(meta)
    if not names:
        return 0
    await conn.execute(
        """INSERT INTO analytics (metric_name, metric_value, team_id, zone, date_recorded, metadata)
           SELECT n, v, t, z, d, m::jsonb FROM unnest($1::text[], $2::numeric[], $3::int[], $4::text[],
                                                      $5::timestamptz[], $6::text[]) AS x(n, v, t, z, d, m)
           ON CONFLICT (metric_name, team_id, zone, date_recorded)
           DO UPDATE SET metric_value = EXCLUDED.metric_value, metadata = EXCLUDED.metadata""",
        names, values, teams, zones, dates, metas,
    )  # fmt: skip
    return len(names)


async def recompute(conn: asyncpg.Connection, at: datetime, team_ids: list[int] | None = None) -> tuple[dict[int, TeamMetrics], list[Envelope]]:
    """Recompute KPIs (all teams when None), store them and the snapshot rows; returns the events to publish."""
    metrics = await compute_team_metrics(conn, team_ids)
    events = await store_changed_metrics(conn, metrics, at)
    await write_daily_analytics(conn, [], metrics, day_of(at))
    return metrics, events
