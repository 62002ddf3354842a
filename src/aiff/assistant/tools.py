"""The assistant's typed read tools over the read models (tickets, teams, assignments, plans).

Every tool returns a JSON-able dict holding the figures it found and a small `table` (columns + rows) that the
dashboard shows and links; `scope_team` (a field user's team) limits every ticket query to that team's tickets.
Nothing here writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


from aiff.ai import tools as legacy
from aiff.api.routers.plans import _ETA_SQL, _VISITS_SQL, MALAYSIA
from aiff.assistant.dates import DateRange, named_range
from aiff.events.vocabulary import OPEN_STATUSES, PRIORITIES, SKILLS
from aiff.geo import haversine_km
from aiff.zones import ZONES

OPEN = sorted(OPEN_STATUSES)
DONE = ["completed", "closed"]
STATUS_SETS = {"open": OPEN, "unassigned": ["open", "reopened"], "completed": DONE}
PRIORITY_ORDER = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"


def _iso(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def _table(columns: list[str], rows: list[dict]) -> dict:
    return {"columns": columns, "rows": [[_iso(r.get(c)) for c in columns] for r in rows]}


def ticket_filter(zone=None, priority=None, status=None, category=None, team_id=None, range: DateRange | None = None, overdue=False, scope_team=None, start: int = 1, older_than_hours: int | None = None) -> tuple[str, list]:
    """A WHERE clause over `tickets` and its arguments ($start..)."""
    statuses = STATUS_SETS.get(status or "", [status] if status else None)
    if overdue and statuses is None:
        statuses = OPEN
    date_col = "completed_at" if status in ("completed", "closed") else "created_at"
    conds, args = [], []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        conds.append(sql.replace("$?", f"${start + len(args) - 1}"))

    if zone:
        add("zone = $?", zone)
    if priority:
        add("priority = $?", priority)
    if statuses:
        add("status = ANY($?::text[])", statuses)
    if category:
        add("category = $?", category)
    if team_id is not None:
        add("assigned_team = $?", team_id)
    if scope_team is not None:
        add("assigned_team = $?", scope_team)
    if range is not None:
        add(f"{date_col} >= $?", range.start)
        add(f"{date_col} < $?", range.end)
    if overdue:
        conds.append("due_date < coalesce(completed_at, now())")
    if older_than_hours:
        add("created_at < now() - $? * interval '1 hour'", int(older_than_hours))
    return (" AND ".join(conds) or "TRUE"), args


def _filters(zone, priority, status, category, team_id, range, overdue) -> dict:
    return {"zone": zone, "priority": priority, "status": status, "category": category, "team_id": team_id, "range": range.as_dict() if range else None, "overdue": overdue or None}


async def count_tickets(pool, zone=None, priority=None, status="open", category=None, team_id=None, range=None, overdue=False, scope_team=None, older_than_hours=None) -> dict:
    """How many tickets match (status 'open' = not finished); with the first ids."""
    where, args = ticket_filter(zone, priority, status, category, team_id, range, overdue, scope_team, older_than_hours=older_than_hours)
    n = await pool.fetchval(f"SELECT count(*) FROM tickets WHERE {where}", *args)
    rows = await pool.fetch(f"SELECT id, ticket_number FROM tickets WHERE {where} ORDER BY {PRIORITY_ORDER}, created_at LIMIT 10", *args)
    statuses = STATUS_SETS.get(status or "", [status] if status else None)
    return {"count": int(n), **_filters(zone, priority, status, category, team_id, range, overdue), "statuses": statuses,
            "ticket_ids": [r["id"] for r in rows], "ticket_numbers": [r["ticket_number"] for r in rows]}  # fmt: skip


async def list_tickets(pool, zone=None, priority=None, status="open", category=None, team_id=None, range=None, overdue=False, scope_team=None, limit=10, older_than_hours=None, oldest=False) -> dict:
    """The matching tickets, most urgent first (priority, then due date), or oldest first."""
    where, args = ticket_filter(zone, priority, status, category, team_id, range, overdue, scope_team, older_than_hours=older_than_hours)
    total = await pool.fetchval(f"SELECT count(*) FROM tickets WHERE {where}", *args)
    rows = [dict(r) for r in await pool.fetch(
        f"""SELECT id, ticket_number, title, priority, status, category, zone, assigned_team, created_at, due_date FROM tickets
            WHERE {where} ORDER BY {"created_at, id" if oldest else PRIORITY_ORDER + ", due_date NULLS LAST, id"} LIMIT {int(limit)}""", *args)]  # fmt: skip
    cols = ["ticket_number", "priority", "status", "category", "zone", "assigned_team", "created_at" if oldest else "due_date"]
    return {"count": int(total), "shown": len(rows), **_filters(zone, priority, status, category, team_id, range, overdue),
            "ticket_ids": [r["id"] for r in rows], "ticket_numbers": [r["ticket_number"] for r in rows], "tickets": [{k: _iso(v) for k, v in r.items()} for r in rows],
            "table": _table(cols, rows)}  # fmt: skip


ZONE_METRICS = {"backlog": ("open tickets", None), "created": ("new tickets", None), "overdue": ("overdue open tickets", None), "completed": ("completed tickets", None), "unassigned": ("unassigned tickets", None)}


async def rank_zones(pool, metric="backlog", priority=None, category=None, range=None, ascending=False, limit=5, scope_team=None) -> dict:
    """Zones ranked by backlog (open tickets), new tickets, overdue, unassigned or completed tickets."""
    metric = metric if metric in ZONE_METRICS else "backlog"
    status = {"backlog": "open", "overdue": "open", "unassigned": "unassigned", "completed": "completed", "created": None}[metric]
    where, args = ticket_filter(None, priority, status, category, None, range, metric == "overdue", scope_team)
    rows = {r["zone"]: r["n"] for r in await pool.fetch(f"SELECT zone, count(*)::int AS n FROM tickets WHERE {where} GROUP BY zone", *args)}
    ranked = sorted(({"zone": z.name, "value": rows.get(z.name, 0)} for z in ZONES), key=lambda r: (r["value"] if ascending else -r["value"], r["zone"]))
    top = ranked[: max(1, limit or 5)]
    return {"metric": metric, "label": ZONE_METRICS[metric][0], "priority": priority, "category": category, "range": range.as_dict() if range else None,
            "ascending": ascending, "zones": top, "all": ranked, "table": _table(["zone", "value"], top)}  # fmt: skip


TEAM_METRICS = ("sla", "response", "rating", "completed", "utilisation", "backlog")


async def rank_teams(pool, metric="sla", zone=None, range=None, ascending=False, limit=5, category=None, scope_team=None) -> dict:
    """Teams ranked by SLA efficiency, response time (minutes from assignment to start, as in the analytics), rating,
    completed work, utilisation or backlog.

    Finished-work metrics use tickets completed in the range (default: the last 30 days); utilisation and backlog
    are now (active tickets / capacity, open tickets held)."""
    metric = metric if metric in TEAM_METRICS else "sla"
    range = range or named_range("last_30_days")
    rows = [dict(r) for r in await pool.fetch(
        """WITH done AS (
             SELECT assigned_team AS team_id, count(*)::int AS completed,
                    count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date)::int AS sla_met,
                    avg(extract(epoch FROM (started_at - assigned_at)) / 60) FILTER (WHERE started_at IS NOT NULL AND assigned_at IS NOT NULL) AS response_min,
                    avg(customer_rating) AS rating, count(customer_rating)::int AS ratings
             FROM tickets WHERE status = ANY('{completed,closed}') AND completed_at >= $2 AND completed_at < $3
               AND assigned_team IS NOT NULL AND ($5::text IS NULL OR category = $5) GROUP BY 1),
           now_load AS (
             SELECT assigned_team AS team_id, count(*) FILTER (WHERE status IN ('assigned', 'in_progress'))::int AS active,
                    count(*)::int AS open FROM tickets WHERE status = ANY($4::text[]) AND assigned_team IS NOT NULL GROUP BY 1)
           SELECT t.id AS team_id, t.name, t.zone, t.capacity, t.status AS team_status, coalesce(d.completed, 0) AS completed,
                  coalesce(d.sla_met, 0) AS sla_met, coalesce(d.completed, 0) - coalesce(d.sla_met, 0) AS sla_missed,
                  d.response_min, d.rating, coalesce(d.ratings, 0) AS ratings, coalesce(l.active, 0) AS active, coalesce(l.open, 0) AS open
           FROM teams t LEFT JOIN done d ON d.team_id = t.id LEFT JOIN now_load l ON l.team_id = t.id
           WHERE t.is_active AND ($1::text IS NULL OR t.zone = $1) AND ($6::int IS NULL OR t.id = $6)""",
        zone, range.start, range.end, OPEN, category, scope_team)]  # fmt: skip
    for r in rows:
        r["efficiency"] = round(100 * r["sla_met"] / r["completed"], 1) if r["completed"] else None
        r["response_min"] = round(float(r["response_min"]), 1) if r["response_min"] is not None else None
        r["rating"] = round(float(r["rating"]), 2) if r["rating"] is not None else None
        r["utilisation"] = round(100 * r["active"] / r["capacity"], 1) if r["capacity"] else None
        r["backlog"] = r["open"]
    key = {"sla": "efficiency", "response": "response_min", "rating": "rating", "completed": "completed", "utilisation": "utilisation", "backlog": "backlog"}[metric]
    ranked = [r for r in rows if r[key] is not None and (metric not in ("sla", "response", "rating") or r["completed"] > 0)]
    lower_is_better = metric == "response"
    desc = ascending == lower_is_better  # best first unless asked for the worst
    tiebreak = "sla_met" if metric == "sla" else "active" if metric == "utilisation" else "completed"
    ranked.sort(key=lambda r: ((-r[key] if desc else r[key]), -r[tiebreak], r["team_id"]))
    top = ranked[: max(1, limit or 5)]
    cols = ["team_id", "name", "zone", key] + (["completed", "sla_met"] if metric == "sla" else ["completed"] if metric in ("response", "rating") else ["active", "capacity"] if metric == "utilisation" else [])
    return {"metric": metric, "value_key": key, "zone": zone, "range": range.as_dict(), "ascending": ascending, "teams": top,
            "team_ids": [r["team_id"] for r in top], "table": _table(cols, top)}  # fmt: skip


async def sla_summary(pool, zone=None, range=None, team_id=None, priority=None, category=None, scope_team=None) -> dict:
    """Work finished in a range (default the last 30 days): how many, % within SLA, mean response (assignment to
    start) and resolution minutes, mean rating."""
    range = range or named_range("last_30_days")
    where, args = ticket_filter(zone, priority, "completed", category, team_id, range, False, scope_team)
    r = await pool.fetchrow(
        f"""SELECT count(*)::int AS completed, count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date)::int AS sla_met,
                   avg(extract(epoch FROM (started_at - assigned_at)) / 60) FILTER (WHERE started_at IS NOT NULL AND assigned_at IS NOT NULL) AS response_min,
                   avg(extract(epoch FROM (completed_at - created_at)) / 60) AS resolve_min, avg(customer_rating) AS rating
            FROM tickets WHERE {where}""", *args)  # fmt: skip
    out = {"zone": zone, "team_id": team_id, "priority": priority, "category": category, "range": range.as_dict(), "completed": r["completed"], "sla_met": r["sla_met"],
           "sla_missed": r["completed"] - r["sla_met"], "sla_pct": round(100 * r["sla_met"] / r["completed"], 1) if r["completed"] else None,
           "response_min": round(float(r["response_min"]), 1) if r["response_min"] is not None else None,
           "resolve_min": round(float(r["resolve_min"]), 1) if r["resolve_min"] is not None else None,
           "rating": round(float(r["rating"]), 2) if r["rating"] is not None else None}  # fmt: skip
    out["table"] = _table(["completed", "sla_met", "sla_pct", "response_min", "resolve_min", "rating"], [out])
    return out


async def find_ticket(pool, ticket, scope_team=None) -> dict | None:
    row = await legacy.find_ticket(pool, ticket)
    if row is None or (scope_team is not None and row["assigned_team"] != scope_team):
        return None
    return dict(row)


TICKET_COLS = ("id", "ticket_number", "title", "priority", "status", "category", "zone", "location", "assigned_team", "created_at", "assigned_at", "started_at", "due_date", "completed_at", "customer_rating")


async def ticket_detail(pool, ticket, scope_team=None) -> dict:
    """One ticket by number or id: its fields, team, and planned visit."""
    row = await find_ticket(pool, ticket, scope_team)
    if row is None:
        return {"found": False, "ticket": ticket}
    t = {k: _iso(row.get(k)) for k in TICKET_COLS}
    team = await pool.fetchrow("SELECT id, name, zone FROM teams WHERE id = $1", row["assigned_team"]) if row["assigned_team"] else None
    visit = await pool.fetchrow(_ETA_SQL, row["id"])
    overdue = row["due_date"] is not None and row["due_date"] < (row["completed_at"] or datetime.now(UTC))
    return {"found": True, "ticket": t, "ticket_ids": [row["id"]], "team": dict(team) if team else None, "overdue": overdue,
            "visit": {k: _iso(visit[k]) for k in ("team_id", "team_name", "plan_date", "sequence", "eta", "planned_end")} if visit else None,
            "table": _table(["ticket_number", "priority", "status", "zone", "assigned_team", "due_date"], [t])}  # fmt: skip


async def explain_late(pool, ticket, scope_team=None) -> dict:
    """Why a ticket is (or was) late: its SLA clock against the time spent waiting, travelling and working."""
    row = await find_ticket(pool, ticket, scope_team)
    if row is None:
        return {"found": False, "ticket": ticket}
    now = datetime.now(UTC)
    end = row["completed_at"] or now
    mins = lambda a, b: round((b - a).total_seconds() / 60) if a and b else None  # noqa: E731
    waited = mins(row["created_at"], row["assigned_at"] or end)
    to_start = mins(row["assigned_at"], row["started_at"] or end) if row["assigned_at"] else None
    working = mins(row["started_at"], end) if row["started_at"] else None
    late = mins(row["due_date"], end) if row["due_date"] else None
    load = None
    if row["assigned_team"]:
        load = await pool.fetchrow("SELECT t.name, t.capacity, (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned','in_progress'))::int AS active FROM teams t WHERE t.id = $1", row["assigned_team"])
    reasons = []
    if waited is not None and waited > 60:
        reasons.append(("unassigned", waited))
    if to_start is not None and to_start > 60:
        reasons.append(("waiting_to_start", to_start))
    if working is not None and working > 120:
        reasons.append(("long_work", working))
    return {"found": True, "ticket": {k: _iso(row.get(k)) for k in TICKET_COLS}, "ticket_ids": [row["id"]], "late_minutes": late, "is_late": late is not None and late > 0,
            "minutes_unassigned": waited, "minutes_assigned_before_start": to_start, "minutes_working": working,
            "team": dict(load) if load else None, "reasons": [{"reason": r, "minutes": m} for r, m in reasons],
            "table": _table(["stage", "minutes"], [{"stage": "unassigned", "minutes": waited}, {"stage": "assigned, not started", "minutes": to_start}, {"stage": "working", "minutes": working}, {"stage": "past due", "minutes": late}])}  # fmt: skip


async def candidate_teams(pool, row: dict, exclude: set[int] = frozenset(), used: dict[int, int] | None = None, limit: int = 5) -> list[dict]:
    """Working teams with the ticket's skill, nearest first, with their free capacity (after `used`)."""
    used = used or {}
    teams = await pool.fetch(
        """SELECT t.id, t.name, t.zone, t.capacity, t.status, t.latitude, t.longitude, t.skills,
                  (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned','in_progress'))::int AS active
           FROM teams t WHERE t.is_active""")
    out = []
    for t in teams:
        if t["id"] in exclude:
            continue
        skill = row.get("category") is None or row["category"] in t["skills"]
        free = t["capacity"] - t["active"] - used.get(t["id"], 0)
        dist = haversine_km(t["latitude"], t["longitude"], row["latitude"], row["longitude"]) if None not in (t["latitude"], row.get("latitude")) else None
        out.append({"team_id": t["id"], "name": t["name"], "zone": t["zone"], "status": t["status"], "has_skill": skill, "free": free,
                    "distance_km": round(dist, 1) if dist is not None else None})  # fmt: skip
    return sorted(out, key=lambda c: (c["distance_km"] is None, c["distance_km"] or 0))[: limit * 20]


async def explain_unassigned(pool, ticket, scope_team=None) -> dict:
    """Why a ticket has no team: the nearby teams with the skill, and which are offline or full."""
    row = await find_ticket(pool, ticket, scope_team)
    if row is None:
        return {"found": False, "ticket": ticket}
    cands = [c for c in await candidate_teams(pool, row) if c["has_skill"]][:5]
    zone_mode = await pool.fetchval("SELECT assignment_mode FROM zones WHERE name = $1", row["zone"])
    counts = {"offline": sum(c["status"] in ("offline", "on_leave") for c in cands), "full": sum(c["free"] <= 0 and c["status"] not in ("offline", "on_leave") for c in cands),
              "free": sum(c["free"] > 0 and c["status"] in ("available", "busy") for c in cands)}  # fmt: skip
    return {"found": True, "ticket": {k: _iso(row.get(k)) for k in TICKET_COLS}, "ticket_ids": [row["id"]], "assigned": row["assigned_team"] is not None,
            "zone_mode": zone_mode, "nearest_skilled": cands, "counts": counts, "team_ids": [c["team_id"] for c in cands],
            "table": _table(["team_id", "name", "status", "free", "distance_km"], cands)}  # fmt: skip


async def ticket_eta(pool, ticket, scope_team=None) -> dict:
    """When the planned team reaches a ticket (the same query as GET /tickets/{id}/eta)."""
    row = await find_ticket(pool, ticket, scope_team)
    if row is None:
        return {"found": False, "ticket": ticket}
    visit = await pool.fetchrow(_ETA_SQL, row["id"])
    t = {k: _iso(row.get(k)) for k in TICKET_COLS}
    if visit is None or row["status"] in ("completed", "closed", "cancelled"):
        return {"found": True, "planned": False, "ticket": t, "ticket_ids": [row["id"]]}
    v = {k: _iso(visit[k]) for k in ("team_id", "team_name", "plan_date", "sequence", "eta", "planned_start", "planned_end", "pinned")}
    on_time = None if row["due_date"] is None else visit["planned_end"] <= row["due_date"]
    return {"found": True, "planned": True, "ticket": t, "ticket_ids": [row["id"]], "team_ids": [visit["team_id"]], "visit": v, "on_time": on_time,
            "table": _table(["team_id", "team_name", "sequence", "eta", "planned_end"], [v])}  # fmt: skip


async def team_day(pool, team_id: int, scope_team=None) -> dict:
    """What a team is doing today: its planned visits (plans read model) and its active tickets."""
    if scope_team is not None and team_id != scope_team:
        return {"found": False, "team_id": team_id}
    team = await pool.fetchrow("SELECT id, name, zone, status, capacity FROM teams WHERE id = $1", team_id)
    if team is None:
        return {"found": False, "team_id": team_id}
    day = datetime.now(MALAYSIA).date()
    visits = [dict(r) for r in await pool.fetch(_VISITS_SQL, [team_id], [day])]
    active = [dict(r) for r in await pool.fetch(
        f"SELECT id, ticket_number, priority, status, due_date FROM tickets WHERE assigned_team = $1 AND status IN ('assigned','in_progress') ORDER BY {PRIORITY_ORDER}, due_date", team_id)]  # fmt: skip
    done_today = await pool.fetchval("SELECT count(*) FROM tickets WHERE assigned_team = $1 AND completed_at >= $2", team_id, named_range("today").start)
    rows = [{"sequence": v["sequence"], "ticket_number": v["ticket_number"], "eta": v["eta"], "priority": v["priority"], "status": v["status"]} for v in visits]
    table = _table(["sequence", "ticket_number", "eta", "priority", "status"], rows) if rows else _table(["ticket_number", "priority", "status", "due_date"], active)
    return {"found": True, "team": dict(team), "team_ids": [team_id], "plan_date": day.isoformat(), "visits": [{k: _iso(v) for k, v in r.items()} for r in rows],
            "active": [{k: _iso(v) for k, v in r.items()} for r in active], "ticket_ids": [r["id"] for r in active], "completed_today": int(done_today), "table": table}  # fmt: skip


async def capacity(pool, zone=None, scope_team=None) -> dict:
    """Free capacity now: working teams, their capacity and active tickets, per zone or in one zone."""
    rows = [dict(r) for r in await pool.fetch(
        """SELECT t.id AS team_id, t.name, t.zone, t.status, t.capacity,
                  (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned','in_progress'))::int AS active
           FROM teams t WHERE t.is_active AND ($1::text IS NULL OR t.zone = $1) AND ($2::int IS NULL OR t.id = $2) ORDER BY t.id""", zone, scope_team)]  # fmt: skip
    working = [r for r in rows if r["status"] in ("available", "busy")]
    for r in rows:
        r["free"] = max(0, r["capacity"] - r["active"]) if r in working else 0
    unassigned = await pool.fetchval("SELECT count(*) FROM tickets WHERE status IN ('open','reopened') AND ($1::text IS NULL OR zone = $1)", zone)
    top = sorted(rows, key=lambda r: -r["free"])[:10]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {"zone": zone, "teams": len(rows), "working_teams": len(working), "by_status": by_status, "capacity": sum(r["capacity"] for r in working),
            "active": sum(r["active"] for r in working), "free": sum(r["free"] for r in rows), "unassigned_tickets": int(unassigned),
            "team_ids": [r["team_id"] for r in top], "table": _table(["team_id", "name", "status", "capacity", "active", "free"], top)}  # fmt: skip


async def what_if_offline(pool, team_id: int, scope_team=None) -> dict:
    """Dry run: if a team went offline now, the route planner re-plans its zone without it (its active tickets
    free, the other teams' kept). Reads only; nothing is published or changed."""
    from aiff.assistant.whatif import replan_without

    out = await replan_without(pool, team_id)
    if not out["found"]:
        return out
    moves = out["moves"]
    out["team_ids"] = [team_id, *sorted({m["to_team_id"] for m in moves if m["to_team_id"]})]
    out["ticket_ids"] = [m["ticket_id"] for m in moves]
    out["table"] = _table(["ticket_number", "priority", "to_team_id", "to_team", "eta", "on_time", "unserved_reason"], moves)
    return out


async def forecast_load(pool, zone=None, horizon=7, scope_team=None) -> dict:
    out = await legacy.forecast_load(pool, zone, horizon)
    out["table"] = _table(["day", "expected", "lower", "upper"], [{"day": d.get("day") or d.get("date"), "expected": d.get("expected", d.get("mean")), "lower": d.get("lower"), "upper": d.get("upper")} for d in out.get("daily", [])]) if isinstance(out.get("daily"), list) and out["daily"] and isinstance(out["daily"][0], dict) else None
    return out


async def overview(pool, scope_team=None, zone=None) -> dict:
    """Open tickets by priority and overdue ones: everywhere, in one zone, or a field user's team."""
    if scope_team is None and zone is None:
        out = await legacy.overview(pool)
    else:
        c = await count_tickets(pool, zone=zone, scope_team=scope_team)
        out = {"zone": zone, "open": c["count"], "open_by_priority": {p: (await count_tickets(pool, zone=zone, priority=p, scope_team=scope_team))["count"] for p in PRIORITIES},
               "overdue_open": (await count_tickets(pool, zone=zone, overdue=True, scope_team=scope_team))["count"]}  # fmt: skip
    out["table"] = _table(["priority", "open"], [{"priority": p, "open": out["open_by_priority"][p]} for p in reversed(PRIORITIES)])
    return out


__all__ = ["count_tickets", "list_tickets", "rank_zones", "rank_teams", "ticket_detail", "explain_late", "explain_unassigned", "ticket_eta", "team_day", "capacity", "what_if_offline", "forecast_load", "overview", "SKILLS", "timedelta"]
