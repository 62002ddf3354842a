"""Read side of analytics for the API: overview, performance by period, trends, reports, CSV export.

Everything reads the pre-aggregated daily stats and facts kept by the analytics consumer (indexed lookups,
no scans of the tickets table) except the CSV export of tickets, which streams through a server-side cursor.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from aiff.ai.forecast import forecast
from aiff.analytics import charts
from aiff.analytics.metrics import COUNTERS, MYT, day_of, team_metrics
from aiff.analytics.trends import recommendations, seeds_trend, slope
from aiff.events.vocabulary import OPEN_STATUSES
from aiff.errors import PermanentError

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91}
_SUMS = ", ".join(f"coalesce(sum({c}), 0)::float8 AS {c}" for c in COUNTERS)


def period_window(period: str, today: date | None = None) -> tuple[date, date]:
    """The inclusive Malaysian-day window of a period ending today."""
    if period not in PERIOD_DAYS:
        raise PermanentError(f"period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}")
    today = today or day_of(datetime.now(UTC))
    return today - timedelta(days=PERIOD_DAYS[period] - 1), today


def _summary(sums: dict) -> dict[str, float]:
    m = team_metrics(sums)
    return {
        "created": int(sums.get("created", 0) or 0),
        "assigned": int(sums.get("assigned", 0) or 0),
        "completed": m.tickets_completed,
        "sla_met": int(sums.get("sla_met", 0) or 0),
        "sla_missed": int(sums.get("sla_missed", 0) or 0),
        "efficiency": m.efficiency,
        "completion_rate": m.completion_rate,
        "response_time": m.response_time,
        "customer_rating": m.customer_rating,
        "first_time_fix": m.first_time_fix,
        "reopen_rate": m.reopen_rate,
        "mean_resolve_minutes": round(float(sums.get("sum_resolve_minutes") or 0) / m.tickets_completed, 1) if m.tickets_completed else 0.0,
        "mean_assign_minutes": round(float(sums.get("sum_assign_minutes") or 0) / float(sums["assigned"]), 1) if sums.get("assigned") else 0.0,
    }


async def zone_sums(conn: asyncpg.Connection, since: date, until: date, zone: str | None = None) -> dict:
    row = await conn.fetchrow(
        f"SELECT coalesce(sum(created), 0)::float8 AS created, {_SUMS} FROM zone_daily_stats WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR zone = $3)",
        since, until, zone,
    )  # fmt: skip
    return dict(row)


_BACKLOG_SQL = """SELECT zone, count(*)::int AS open, count(*) FILTER (WHERE priority = 'critical')::int AS critical,
                  count(*) FILTER (WHERE status IN ('open', 'reopened'))::int AS unassigned,
                  count(*) FILTER (WHERE due_date < $3)::int AS overdue,
                  round((extract(epoch FROM avg($3 - created_at)) / 3600)::numeric, 1)::float8 AS mean_age_hours,
                  round((extract(epoch FROM max($3 - created_at)) / 3600)::numeric, 1)::float8 AS max_age_hours
           FROM {table} WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR zone = $2) AND zone IS NOT NULL
           GROUP BY zone ORDER BY open DESC, zone"""


async def backlog(
    conn: asyncpg.Connection, zone: str | None = None, *, at: datetime | None = None, table: str = "analytics_ticket_facts"
) -> list[dict]:
    """Open tickets per zone with their mean and oldest age (hours) at `at` (default now), from the analytics
    consumer's facts or (`table`) another table of tickets with the same columns, e.g. the as-of board's."""
    rows = await conn.fetch(_BACKLOG_SQL.format(table=table), sorted(OPEN_STATUSES), zone, at or datetime.now(UTC))
    return [dict(r) for r in rows]


async def overview(conn: asyncpg.Connection, today: date | None = None) -> dict[str, Any]:
    """System-wide KPIs: today, the last 7 days, all time, backlog by zone, team utilisation."""
    today = today or day_of(datetime.now(UTC))
    week_start = today - timedelta(days=6)
    today_s = _summary(await zone_sums(conn, today, today))
    week_s = _summary(await zone_sums(conn, week_start, today))
    all_s = _summary(await zone_sums(conn, date(1970, 1, 1), today))
    teams = await conn.fetchrow(
        """SELECT count(*)::int AS teams, coalesce(avg(utilization), 0)::float8 AS mean_utilization,
                  count(*) FILTER (WHERE utilization >= 100)::int AS at_capacity,
                  coalesce(sum(open_tickets), 0)::int AS open_assigned
           FROM analytics_team_metrics"""
    )
    return {
        "as_of": datetime.now(UTC).isoformat(),
        "today": {"date": today.isoformat(), **today_s},
        "last_7_days": {"from": week_start.isoformat(), "to": today.isoformat(), **week_s},
        "all_time": all_s,
        **_backlog_and_teams(await backlog(conn), dict(teams)),
    }


# Utilisation per team from a board (the as-of one): open (assigned or in progress) tickets / capacity, as
# `metrics.team_metrics` computes it for `analytics_team_metrics`.
_BOARD_TEAMS_SQL = """WITH u AS (
  SELECT t.id, coalesce(o.n, 0) AS open_tickets,
         CASE WHEN coalesce(t.capacity, 0) > 0 THEN round(coalesce(o.n, 0) * 100.0 / t.capacity, 2) ELSE 0 END AS utilization
  FROM pg_temp.teams t LEFT JOIN (SELECT assigned_team, count(*) AS n FROM pg_temp.tickets
                                  WHERE status IN ('assigned', 'in_progress') AND assigned_team IS NOT NULL
                                  GROUP BY assigned_team) o ON o.assigned_team = t.id)
SELECT count(*)::int AS teams, coalesce(avg(utilization), 0)::float8 AS mean_utilization,
       count(*) FILTER (WHERE utilization >= 100)::int AS at_capacity, coalesce(sum(open_tickets), 0)::int AS open_assigned
FROM u"""


async def overview_as_of(conn: asyncpg.Connection, at: datetime) -> dict[str, Any]:
    """The overview at a past instant; call inside `api.asof.board_as_of(conn, at)`.

    The backlog and the team utilisation come from the board at `at` (the same SQL, on the as-of tickets and teams,
    ages and overdue measured at `at`). The counter windows come from the consumer's daily counters, which are per
    whole Malaysian day: only the days that ended before `at` can be answered as they were, so `today` is null and
    `last_7_days` / `all_time` end on the day before `at`'s day (`counters_through`).
    """
    last = day_of(at) - timedelta(days=1)
    week_start = last - timedelta(days=6)
    week_s = _summary(await zone_sums(conn, week_start, last))
    all_s = _summary(await zone_sums(conn, date(1970, 1, 1), last))
    zones = await backlog(conn, at=at, table="pg_temp.tickets")
    teams = await conn.fetchrow(_BOARD_TEAMS_SQL)
    return {
        "as_of": at.isoformat(),
        "counters_through": last.isoformat(),
        "today": None,
        "last_7_days": {"from": week_start.isoformat(), "to": last.isoformat(), **week_s},
        "all_time": all_s,
        **_backlog_and_teams(zones, dict(teams)),
    }


def _backlog_and_teams(zones: list[dict], teams: dict[str, Any]) -> dict[str, Any]:
    return {
        "backlog": {
            "open": sum(z["open"] for z in zones),
            "critical": sum(z["critical"] for z in zones),
            "unassigned": sum(z["unassigned"] for z in zones),
            "overdue": sum(z["overdue"] for z in zones),
            "max_age_hours": max((z["max_age_hours"] or 0 for z in zones), default=0),
            "by_zone": zones,
        },
        "teams": {**teams, "mean_utilization": round(teams["mean_utilization"], 2)},
    }


async def team_rows(conn: asyncpg.Connection, since: date, until: date, team_ids: list[int] | None = None, zone: str | None = None) -> list[dict]:
    """Per-team KPIs over a window (open tickets and utilisation are current)."""
    rows = await conn.fetch(
        f"""SELECT s.team_id, max(t.name) AS name, coalesce(max(t.zone), max(s.zone)) AS zone, {_SUMS}
            FROM team_daily_stats s LEFT JOIN teams t ON t.id = s.team_id
            WHERE s.day BETWEEN $1 AND $2 AND ($3::int[] IS NULL OR s.team_id = ANY($3))
              AND ($4::text IS NULL OR coalesce(t.zone, s.zone) = $4)
            GROUP BY s.team_id ORDER BY s.team_id""",
        since, until, team_ids, zone,
    )  # fmt: skip
    current = {
        r["team_id"]: r
        for r in await conn.fetch("SELECT team_id, open_tickets, utilization FROM analytics_team_metrics WHERE team_id = ANY($1::int[])", [r["team_id"] for r in rows])
    }
    out = []
    for r in rows:
        cur = current.get(r["team_id"])
        out.append({
            "team_id": r["team_id"], "name": r["name"], "zone": r["zone"], **_summary(dict(r)),
            "open_tickets": cur["open_tickets"] if cur else 0, "utilization": cur["utilization"] if cur else 0.0,
        })  # fmt: skip
    return out


async def performance(conn: asyncpg.Connection, period: str = "week", team_id: int | None = None, zone: str | None = None) -> dict[str, Any]:
    """KPIs for a period, with the previous period of the same length for comparison."""
    since, until = period_window(period)
    length = (until - since).days + 1
    prev_since, prev_until = since - timedelta(days=length), since - timedelta(days=1)
    if team_id is not None:
        teams = await team_rows(conn, since, until, [team_id], zone)
        if not teams and await conn.fetchval("SELECT 1 FROM teams WHERE id = $1", team_id) is None:
            from aiff.errors import UnknownEntity

            raise UnknownEntity(f"team {team_id} not found")
        prev = await team_rows(conn, prev_since, prev_until, [team_id], zone)
        current_s = {k: v for k, v in teams[0].items() if k not in ("team_id", "name", "zone")} if teams else _summary({})
        previous_s = {k: v for k, v in prev[0].items() if k not in ("team_id", "name", "zone")} if prev else _summary({})
    else:
        teams = await team_rows(conn, since, until, None, zone)
        current_s = _summary(await zone_sums(conn, since, until, zone))
        previous_s = _summary(await zone_sums(conn, prev_since, prev_until, zone))
    zones = await conn.fetch(
        f"""SELECT zone, coalesce(sum(created), 0)::float8 AS created, {_SUMS} FROM zone_daily_stats
            WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR zone = $3) GROUP BY zone ORDER BY zone""",
        since, until, zone,
    )  # fmt: skip
    change = {k: round(current_s[k] - previous_s[k], 2) for k in current_s if isinstance(current_s[k], (int, float)) and k in previous_s}
    return {
        "period": period, "from": since.isoformat(), "to": until.isoformat(), "team_id": team_id, "zone": zone,
        "summary": current_s, "previous": previous_s, "change": change,
        "teams": teams, "zones": [{"zone": z["zone"], **_summary(dict(z))} for z in zones],
    }  # fmt: skip


async def daily_frame(conn: asyncpg.Connection, since: date, until: date, zone: str | None = None, team_ids: list[int] | None = None) -> dict[str, list]:
    """Per-day series (missing days are zeros) from the team or zone daily stats."""
    if team_ids:
        rows = await conn.fetch(
            f"SELECT day, 0::float8 AS created, {_SUMS} FROM team_daily_stats WHERE day BETWEEN $1 AND $2 AND team_id = ANY($3::int[]) GROUP BY day",
            since, until, team_ids,
        )  # fmt: skip
    else:
        rows = await conn.fetch(
            f"SELECT day, coalesce(sum(created), 0)::float8 AS created, {_SUMS} FROM zone_daily_stats WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR zone = $3) GROUP BY day",
            since, until, zone,
        )  # fmt: skip
    by_day = {r["day"]: dict(r) for r in rows}
    frame: dict[str, list] = {k: [] for k in ("day", "created", "completed", "response_time", "customer_rating", "efficiency", "first_time_fix")}
    d = since
    while d <= until:
        s = _summary(by_day.get(d, {}))
        frame["day"].append(d.isoformat())
        frame["created"].append(float(by_day.get(d, {}).get("created", 0) or 0))
        for k in ("completed", "response_time", "customer_rating", "efficiency", "first_time_fix"):
            frame[k].append(float(s[k]))
        d += timedelta(days=1)
    return frame


async def trends(conn: asyncpg.Connection, days: int = 30, zone: str | None = None, horizon: int = 14, team_ids: list[int] | None = None) -> dict[str, Any]:
    """The seeds' LinearRegression trend over active days, per-metric slopes, and a volume forecast."""
    today = day_of(datetime.now(UTC))
    since = today - timedelta(days=days - 1)
    frame = await daily_frame(conn, since, today, zone, team_ids)
    active = [i for i, c in enumerate(frame["completed"]) if c > 0]
    trend = seeds_trend(
        [frame["completed"][i] for i in active], [frame["response_time"][i] for i in active],
        [frame["customer_rating"][i] for i in active], [frame["efficiency"][i] for i in active],
    )  # fmt: skip
    hist_since = today - timedelta(days=119)
    hist = await daily_frame(conn, hist_since, today - timedelta(days=1), zone)
    fc = forecast(hist["created"], horizon, start=hist_since)
    return {
        "from": since.isoformat(), "to": today.isoformat(), "zone": zone,
        "efficiency_trend": trend,
        "metrics": {k: slope(frame[k]) for k in ("created", "completed", "response_time", "efficiency", "customer_rating")},
        "series": frame,
        "volume_forecast": {"horizon_days": horizon, "interval_level": fc.level, "fit_r2": None if fc.fit_r2 is None else round(fc.fit_r2, 3), "daily": fc.as_rows()},
    }  # fmt: skip


async def report(conn: asyncpg.Connection, team_ids: list[int] | None, period: str = "week", zone: str | None = None, with_charts: bool = True) -> dict[str, Any]:
    """The seeds' report: summary, metrics, trends, recommendations, charts (base64 PNG)."""
    since, until = period_window(period)
    perf = await performance(conn, period, None, zone)
    teams = await team_rows(conn, since, until, team_ids or None, zone)
    if team_ids:
        sums = await conn.fetchrow(f"SELECT {_SUMS} FROM team_daily_stats WHERE day BETWEEN $1 AND $2 AND team_id = ANY($3::int[])", since, until, team_ids)
        summary = _summary(dict(sums))
    else:
        summary = perf["summary"]
    trend = await trends(conn, max(PERIOD_DAYS[period], 7), zone, 14, team_ids or None)
    out = {
        "period": period, "from": since.isoformat(), "to": until.isoformat(), "team_ids": team_ids, "zone": zone,
        "generated_at": datetime.now(UTC).isoformat(),
        "summary": summary, "metrics": teams,
        "trends": {"efficiency_trend": trend["efficiency_trend"], "metrics": trend["metrics"], "volume_forecast": trend["volume_forecast"]},
        "recommendations": recommendations(summary, teams),
        "charts": {},
    }  # fmt: skip
    if with_charts:
        frame = trend["series"]
        ranked = sorted(teams, key=lambda t: -t["completed"])[:20]

        def draw() -> dict[str, str]:
            result = {"volume": charts.volume_chart(frame["day"], frame["created"], frame["completed"])}
            if ranked:
                result["team_efficiency"] = charts.team_bar_chart([str(t["name"] or t["team_id"]) for t in ranked], [t["efficiency"] for t in ranked], "SLA efficiency % (top 20 by completions)")
            return result

        out["charts"] = await asyncio.to_thread(draw)
    return out


EXPORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets": (
        """SELECT id, ticket_number, title, priority, status, category, zone, assigned_team, created_at, assigned_at,
                  started_at, completed_at, due_date, customer_rating,
                  (completed_at IS NOT NULL AND completed_at <= due_date) AS sla_met
           FROM tickets WHERE created_at >= $1 AND created_at < $2 AND ($3::int IS NULL OR assigned_team = $3)
             AND ($4::text IS NULL OR zone = $4) ORDER BY id""",
        ("id", "ticket_number", "title", "priority", "status", "category", "zone", "assigned_team", "created_at",
         "assigned_at", "started_at", "completed_at", "due_date", "customer_rating", "sla_met"),
    ),
    "team_daily": (
        f"""SELECT team_id, day, zone, {', '.join(COUNTERS)} FROM team_daily_stats
            WHERE day >= $1::timestamptz::date AND day < $2::timestamptz::date AND ($3::int IS NULL OR team_id = $3)
              AND ($4::text IS NULL OR zone = $4) ORDER BY day, team_id""",
        ("team_id", "day", "zone", *COUNTERS),
    ),
    "analytics": (
        """SELECT metric_name, metric_value, team_id, zone, date_recorded FROM analytics
           WHERE date_recorded >= $1 AND date_recorded < $2 AND ($3::int IS NULL OR team_id = $3)
             AND ($4::text IS NULL OR zone = $4) ORDER BY date_recorded, team_id, metric_name""",
        ("metric_name", "metric_value", "team_id", "zone", "date_recorded"),
    ),
}  # fmt: skip


def export_window(period: str | None) -> tuple[datetime, datetime]:
    if period is None or period == "all":
        return datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    since, until = period_window(period)
    return datetime(since.year, since.month, since.day, tzinfo=MYT), datetime(until.year, until.month, until.day, tzinfo=MYT) + timedelta(days=1)


async def export_csv(
    pool: asyncpg.Pool, dataset: str, period: str | None, team_id: int | None, zone: str | None, chunk_rows: int = 5000
) -> AsyncIterator[bytes]:
    """CSV bytes in chunks from a server-side cursor: memory stays flat for millions of rows."""
    if dataset not in EXPORTS:
        raise PermanentError(f"dataset must be one of {', '.join(EXPORTS)}, not {dataset!r}")
    sql, columns = EXPORTS[dataset]
    since, until = export_window(period)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    yield buf.getvalue().encode()
    async with pool.acquire() as conn:
        async with conn.transaction(readonly=True):
            rows = 0
            buf.seek(0)
            buf.truncate()
            async for record in conn.cursor(sql, since, until, team_id, zone, prefetch=chunk_rows):
                writer.writerow([_csv_value(v) for v in record.values()])
                rows += 1
                if rows % chunk_rows == 0:
                    yield buf.getvalue().encode()
                    buf.seek(0)
                    buf.truncate()
            if buf.tell():
                yield buf.getvalue().encode()


def _csv_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v
