"""The assistant's tools: small read-only queries over the projections that return real numbers.

Each tool takes the pool and plain arguments and returns a JSON-able dict. The local engine calls them
from parsed intents; the OpenAI engine offers the same tools through function calling (`TOOL_SPECS`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np

from aiff.ai.forecast import forecast
from aiff.analytics.metrics import MYT, day_of
from aiff.events.vocabulary import OPEN_STATUSES, PRIORITIES, SKILLS
from aiff.geo import haversine_km
from aiff.zones import ZONES, canonical_zone

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91}
STATUS_SETS = {
    "open": sorted(OPEN_STATUSES),
    "unassigned": ["open", "reopened"],
}


def _zone(zone: str | None) -> str | None:
    if zone is None:
        return None
    canon = canonical_zone(zone)
    if canon is None:
        raise ValueError(f"unknown zone {zone!r}")
    return canon


async def count_tickets(
    pool: asyncpg.Pool, zone: str | None = None, priority: str | None = None, status: str | None = "open", category: str | None = None
) -> dict[str, Any]:
    """How many tickets match; status 'open' means not finished (open, assigned, in progress, reopened)."""
    zone = _zone(zone)
    statuses = STATUS_SETS.get(status or "", [status] if status else None)
    n = await pool.fetchval(
        """SELECT count(*) FROM tickets
           WHERE ($1::text IS NULL OR zone = $1) AND ($2::text IS NULL OR priority = $2)
             AND ($3::text[] IS NULL OR status = ANY($3)) AND ($4::text IS NULL OR category = $4)""",
        zone, priority, statuses, category,
    )  # fmt: skip
    return {"count": int(n), "zone": zone, "priority": priority, "status": status, "statuses": statuses, "category": category}


def period_start(period: str, today: date) -> date:
    return today - timedelta(days=PERIOD_DAYS.get(period, 7) - 1)


async def top_teams_sla(pool: asyncpg.Pool, zone: str | None = None, period: str = "week", limit: int = 5, today: date | None = None) -> dict[str, Any]:
    """Teams ranked by SLAs met in the period (Malaysian days, today included), with their efficiency."""
    zone = _zone(zone)
    today = today or day_of(datetime.now(UTC))
    since = period_start(period, today)
    rows = await pool.fetch(
        """SELECT s.team_id, coalesce(t.name, 'team ' || s.team_id) AS name, coalesce(t.zone, s.zone) AS zone,
                  sum(s.sla_met)::int AS sla_met, sum(s.sla_missed)::int AS sla_missed, sum(s.completed)::int AS completed
           FROM team_daily_stats s LEFT JOIN teams t ON t.id = s.team_id
           WHERE s.day BETWEEN $2 AND $3 AND ($1::text IS NULL OR coalesce(t.zone, s.zone) = $1)
           GROUP BY 1, 2, 3 HAVING sum(s.completed) > 0
           ORDER BY sla_met DESC, sla_missed ASC, s.team_id LIMIT $4""",
        zone, since, today, limit,
    )  # fmt: skip
    teams = [
        {**dict(r), "efficiency": round(100 * r["sla_met"] / r["completed"], 1) if r["completed"] else 0.0} for r in rows
    ]
    return {"zone": zone, "period": period, "from": since.isoformat(), "to": today.isoformat(), "teams": teams}


async def find_ticket(pool: asyncpg.Pool, ticket: str | int) -> asyncpg.Record | None:
    if isinstance(ticket, int) or str(ticket).isdigit():
        return await pool.fetchrow("SELECT * FROM tickets WHERE id = $1", int(ticket))
    return await pool.fetchrow("SELECT * FROM tickets WHERE ticket_number = $1", str(ticket).upper())


async def explain_assignment(pool: asyncpg.Pool, ticket: str | int, team_id: int | None = None) -> dict[str, Any]:
    """Why a ticket went to a team: the assignment's strategy, distance, score and per-factor breakdown."""
    row = await find_ticket(pool, ticket)
    if row is None:
        return {"found": False, "ticket": ticket}
    assignments = await pool.fetch(
        """SELECT a.*, t.name AS team_name, t.zone AS team_zone, t.base_town FROM assignments a
           LEFT JOIN teams t ON t.id = a.team_id WHERE a.ticket_id = $1 ORDER BY a.assigned_at DESC, a.id DESC""",
        row["id"],
    )
    chosen = next((a for a in assignments if team_id is None or a["team_id"] == team_id), None)
    out: dict[str, Any] = {
        "found": True,
        "ticket": {k: _jsonable(row[k]) for k in ("id", "ticket_number", "title", "priority", "status", "category", "zone", "location", "assigned_team")},
        "asked_team_id": team_id,
        "assignment": None,
        "history": [{"team_id": a["team_id"], "strategy": a["strategy"], "status": a["status"], "assigned_at": a["assigned_at"].isoformat()} for a in assignments],
    }
    if chosen is not None:
        breakdown = chosen["breakdown"]
        if isinstance(breakdown, str):
            import json

            breakdown = json.loads(breakdown)
        out["assignment"] = {
            "team_id": chosen["team_id"], "team_name": chosen["team_name"], "team_zone": chosen["team_zone"],
            "base_town": chosen["base_town"], "strategy": chosen["strategy"], "assigned_by": chosen["assigned_by"],
            "distance_km": chosen["distance_km"], "score": chosen["score"], "breakdown": breakdown or {},
            "reason": chosen["notes"], "status": chosen["status"], "assigned_at": chosen["assigned_at"].isoformat(),
            "frozen": chosen["frozen"],
        }  # fmt: skip
    return out


async def daily_series(pool_or_conn, zone: str | None, days: int, today: date | None = None) -> tuple[date, np.ndarray]:
    """Tickets created per Malaysian day for the last `days` days ending today (from the zone daily stats,
    or from the tickets projection when the analytics consumer has not filled them)."""
    today = today or day_of(datetime.now(UTC))
    start = today - timedelta(days=days - 1)
    rows = await pool_or_conn.fetch(
        """SELECT day, sum(created)::int AS n FROM zone_daily_stats
           WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR zone = $3) GROUP BY day""",
        start, today, zone,
    )  # fmt: skip
    if not rows:
        rows = await pool_or_conn.fetch(
            """SELECT (created_at AT TIME ZONE 'Asia/Kuala_Lumpur')::date AS day, count(*)::int AS n FROM tickets
               WHERE created_at >= $1 AND ($3::text IS NULL OR zone = $3)
                 AND (created_at AT TIME ZONE 'Asia/Kuala_Lumpur')::date <= $2 GROUP BY 1""",
            datetime(start.year, start.month, start.day, tzinfo=MYT), today, zone,
        )  # fmt: skip
    y = np.zeros(days)
    for r in rows:
        y[(r["day"] - start).days] = r["n"]
    return start, y


async def first_activity_day(pool_or_conn, zone: str | None) -> date | None:
    return await pool_or_conn.fetchval(
        "SELECT min(day) FROM zone_daily_stats WHERE ($1::text IS NULL OR zone = $1) AND created > 0", zone
    ) or await pool_or_conn.fetchval(
        "SELECT min((created_at AT TIME ZONE 'Asia/Kuala_Lumpur')::date) FROM tickets WHERE ($1::text IS NULL OR zone = $1)", zone
    )


async def forecast_load(pool: asyncpg.Pool, zone: str | None = None, horizon: int = 7, history_days: int = 120, today: date | None = None) -> dict[str, Any]:
    """New tickets expected per day over the next `horizon` days (80% intervals), from the zone's history.

    The series ends yesterday (today is incomplete) and starts at the zone's first ticket at the earliest.
    """
    zone = _zone(zone)
    today = today or day_of(datetime.now(UTC))
    end = today - timedelta(days=1)
    first = await first_activity_day(pool, zone)
    days = history_days if first is None else max(1, min(history_days, (end - first).days + 1))
    start, y = await daily_series(pool, zone, days, end)
    fc = forecast(y, horizon, start=start)
    rows = fc.as_rows()
    return {
        "zone": zone, "horizon_days": horizon, "history_days": int(len(y)), "recent_daily_mean": round(float(y[-28:].mean()), 2) if len(y) else 0.0,
        "total": round(float(fc.mean.sum()), 1), "total_lower": round(float(fc.lower.sum()), 1), "total_upper": round(float(fc.upper.sum()), 1),
        "interval_level": fc.level, "fit_r2": None if fc.fit_r2 is None else round(fc.fit_r2, 3), "daily": rows,
        "model": "weekly-seasonal regression, damped trend",
    }  # fmt: skip


async def suggest_assignment(pool: asyncpg.Pool, ticket: str | int) -> dict[str, Any]:
    """The nearest active, available team with the ticket's skill and free capacity (the dispatcher's rule)."""
    row = await find_ticket(pool, ticket)
    if row is None:
        return {"found": False, "ticket": ticket}
    teams = await pool.fetch(
        """SELECT t.id, t.name, t.zone, t.latitude, t.longitude, t.capacity, t.skills,
                  (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned', 'in_progress')) AS load
           FROM teams t WHERE t.is_active AND t.status = 'available' AND ($1::text IS NULL OR $1 = ANY(t.skills))""",
        row["category"],
    )
    best = None
    for t in teams:
        if t["load"] >= t["capacity"] or t["id"] == row["assigned_team"]:
            continue
        if None in (t["latitude"], row["latitude"]):
            dist = 0.0 if t["zone"] == row["zone"] else 500.0
        else:
            dist = haversine_km(row["latitude"], row["longitude"], t["latitude"], t["longitude"])
        if best is None or dist < best[0]:
            best = (dist, t)
    out: dict[str, Any] = {"found": True, "ticket": {"id": row["id"], "ticket_number": row["ticket_number"], "status": row["status"], "category": row["category"], "zone": row["zone"], "assigned_team": row["assigned_team"]}, "team": None}
    if best is not None:
        dist, t = best
        out["team"] = {"id": t["id"], "name": t["name"], "zone": t["zone"], "distance_km": round(dist, 1), "open_tickets": int(t["load"]), "capacity": t["capacity"]}
    return out


async def overview(pool: asyncpg.Pool) -> dict[str, Any]:
    """Tickets by status, open tickets by priority, and the oldest open ticket's age."""
    by_status = {r["status"]: r["n"] for r in await pool.fetch("SELECT status, count(*)::int AS n FROM tickets GROUP BY status")}
    open_by_priority = {
        r["priority"]: r["n"]
        for r in await pool.fetch("SELECT priority, count(*)::int AS n FROM tickets WHERE status = ANY($1) GROUP BY priority", sorted(OPEN_STATUSES))
    }
    oldest = await pool.fetchval("SELECT min(created_at) FROM tickets WHERE status = ANY($1)", sorted(OPEN_STATUSES))
    overdue = await pool.fetchval("SELECT count(*) FROM tickets WHERE status = ANY($1) AND due_date < now()", sorted(OPEN_STATUSES))
    return {
        "by_status": by_status,
        "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
        "open_by_priority": {p: open_by_priority.get(p, 0) for p in PRIORITIES},
        "overdue_open": int(overdue),
        "oldest_open_hours": round((datetime.now(UTC) - oldest).total_seconds() / 3600, 1) if oldest else None,
    }


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (datetime, date)) else v


ZONE_ENUM = [z.name for z in ZONES]
TOOL_SPECS: list[dict] = [
    {"type": "function", "function": {"name": "count_tickets", "description": "Count tickets by zone, priority, status and category. status 'open' = not finished.",
     "parameters": {"type": "object", "properties": {
         "zone": {"type": "string", "enum": ZONE_ENUM}, "priority": {"type": "string", "enum": list(PRIORITIES)},
         "status": {"type": "string", "enum": ["open", "unassigned", "assigned", "in_progress", "completed", "closed", "cancelled", "reopened"]},
         "category": {"type": "string", "enum": list(SKILLS)}}}}},
    {"type": "function", "function": {"name": "top_teams_sla", "description": "Teams ranked by SLAs met in a period (day, week, month), optionally in one zone.",
     "parameters": {"type": "object", "properties": {"zone": {"type": "string", "enum": ZONE_ENUM}, "period": {"type": "string", "enum": ["day", "week", "month"]}}}}},
    {"type": "function", "function": {"name": "explain_assignment", "description": "Why a ticket (number like TKT-2026-000123 or id) was assigned to a team: strategy, distance, score breakdown.",
     "parameters": {"type": "object", "properties": {"ticket": {"type": "string"}, "team_id": {"type": "integer"}}, "required": ["ticket"]}}},
    {"type": "function", "function": {"name": "forecast_load", "description": "Forecast new tickets per day for a zone (or all) over the next N days with 80% intervals.",
     "parameters": {"type": "object", "properties": {"zone": {"type": "string", "enum": ZONE_ENUM}, "horizon": {"type": "integer", "minimum": 1, "maximum": 30}}}}},
    {"type": "function", "function": {"name": "suggest_assignment", "description": "Suggest the nearest available team with the skill and free capacity for a ticket.",
     "parameters": {"type": "object", "properties": {"ticket": {"type": "string"}}, "required": ["ticket"]}}},
    {"type": "function", "function": {"name": "overview", "description": "Tickets by status, open by priority, overdue count.", "parameters": {"type": "object", "properties": {}}}},
]  # fmt: skip

TOOLS = {
    "count_tickets": count_tickets,
    "top_teams_sla": top_teams_sla,
    "explain_assignment": explain_assignment,
    "forecast_load": forecast_load,
    "suggest_assignment": suggest_assignment,
    "overview": overview,
}


async def call_tool(pool: asyncpg.Pool, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run a tool by name with model-supplied arguments (unknown arguments are dropped)."""
    fn = TOOLS.get(name)
    if fn is None:
        return {"error": f"unknown tool {name}"}
    allowed = fn.__code__.co_varnames[1 : fn.__code__.co_argcount]
    clean = {k: v for k, v in (args or {}).items() if k in allowed and v is not None}
    if name in ("explain_assignment", "suggest_assignment") and isinstance(clean.get("ticket"), str) and clean["ticket"].isdigit():
        clean["ticket"] = int(clean["ticket"])
    try:
        return await fn(pool, **clean)
    except ValueError as exc:
        return {"error": str(exc)}
