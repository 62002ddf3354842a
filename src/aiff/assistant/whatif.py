"""What if a team went offline now? A dry-run re-plan of its zone with the route planner (PyVRP), without it.

The zone's other working teams keep the tickets they hold (pinned), the offline team's active tickets are free,
and `aiff.planning.plan` builds today's routes from now. Nothing is published or stored: the answer says where each
ticket would go, at what ETA, and which would stay unserved and why.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from aiff.assistant.dates import MYT
from aiff.planning import Team, Visit, plan
from aiff.planning.travel import Point

SERVICE = {"critical": 90, "high": 75, "medium": 60, "low": 45}  # minutes on site, by priority
PLAN_SECONDS = 0.6


def _clock(day, hhmm: str) -> datetime:
    h, m = (int(x) for x in (hhmm or "08:00").split(":"))
    return datetime.combine(day, time(h, m), MYT).astimezone(UTC)


async def replan_without(pool, team_id: int, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    gone = await pool.fetchrow("SELECT id, name, zone FROM teams WHERE id = $1", team_id)
    if gone is None:
        return {"found": False, "team_id": team_id}
    teams = await pool.fetch(
        """SELECT t.id, t.name, t.skills, t.latitude, t.longitude, t.shift_start, t.shift_end, t.max_overtime_minutes,
                  p.latitude AS plat, p.longitude AS plon
           FROM teams t LEFT JOIN team_positions p ON p.team_id = t.id
           WHERE t.zone = $1 AND t.id <> $2 AND t.is_active AND t.status IN ('available', 'busy') AND t.latitude IS NOT NULL""",
        gone["zone"], team_id)  # fmt: skip
    tickets = await pool.fetch(
        """SELECT k.id, k.ticket_number, k.priority, k.category, k.latitude, k.longitude, k.due_date, k.assigned_team
           FROM tickets k JOIN teams t ON t.id = k.assigned_team
           WHERE t.zone = $1 AND k.status IN ('assigned', 'in_progress') AND k.latitude IS NOT NULL""", gone["zone"])  # fmt: skip
    day = now.astimezone(MYT).date()
    plan_teams = []
    for t in teams:
        start = max(now, _clock(day, t["shift_start"]))
        end = max(_clock(day, t["shift_end"]), start + timedelta(hours=1))
        here = Point(t["plat"], t["plon"]) if t["plat"] is not None else Point(t["latitude"], t["longitude"])
        plan_teams.append(Team(id=str(t["id"]), skills=frozenset(t["skills"]), shift_start=start, shift_end=end, start=here,
                               end=Point(t["latitude"], t["longitude"]), max_overtime=timedelta(minutes=t["max_overtime_minutes"] or 0)))  # fmt: skip
    known = {str(t["id"]) for t in teams}
    visits = []
    for k in tickets:
        mine = k["assigned_team"] == team_id
        if not mine and str(k["assigned_team"]) not in known:
            continue  # held by a team that is itself off today: not part of this re-plan
        visits.append(Visit(ticket_id=str(k["id"]), position=Point(k["latitude"], k["longitude"]), skill=k["category"] or "equipment",
                            service=timedelta(minutes=SERVICE.get(k["priority"], 60)), priority=k["priority"], due=k["due_date"],
                            pinned_team=None if mine else str(k["assigned_team"])))  # fmt: skip
    affected = [k for k in tickets if k["assigned_team"] == team_id]
    if not plan_teams or not affected:
        result = None
    else:
        result = await asyncio.to_thread(plan, plan_teams, visits, now=now, seconds=PLAN_SECONDS, seed=0)
    names = {t["id"]: t["name"] for t in teams}
    moves = []
    for k in affected:
        tid, pv, reason = None, None, None
        if result is not None:
            owner = result.team_of(str(k["id"]))
            if owner is not None:
                tid = int(owner)
                pv = next(v for v in result.teams[owner].visits if v.ticket_id == str(k["id"]))
            else:
                reason = next((u.reason for u in result.unserved if u.ticket_id == str(k["id"])), "unserved")
        else:
            reason = "no_working_team_in_zone"
        moves.append({"ticket_id": k["id"], "ticket_number": k["ticket_number"], "priority": k["priority"], "to_team_id": tid,
                      "to_team": names.get(tid), "eta": pv.eta.isoformat() if pv else None, "on_time": pv.on_time if pv else None,
                      "unserved_reason": reason})  # fmt: skip
    return {"found": True, "dry_run": True, "method": "route planner re-plan of the zone (PyVRP), nothing published", "team": dict(gone),
            "zone": gone["zone"], "teams_in_plan": len(plan_teams), "visits_in_plan": len(visits), "affected": len(affected),
            "reassigned": sum(m["to_team_id"] is not None for m in moves), "stranded": sum(m["to_team_id"] is None for m in moves),
            "late": sum(m["on_time"] is False for m in moves), "moves": moves}  # fmt: skip
