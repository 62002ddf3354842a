"""What the route planner reads from the read models: teams with shifts and positions, the tickets a zone's
re-plan covers, and the stored plans (warm start, revisions, change detection)."""

from __future__ import annotations

from datetime import date
from typing import Iterable

import asyncpg

from aiff.dispatch.inputs import Row

_TEAMS = """SELECT tm.id, tm.zone, tm.latitude, tm.longitude, tm.skills, tm.capacity, tm.status, tm.is_active,
    tm.shift_start, tm.shift_end, tm.working_days, tm.lunch_earliest, tm.lunch_latest, tm.lunch_minutes,
    tm.max_overtime_minutes, p.latitude AS position_lat, p.longitude AS position_lon, p.reported_at
FROM teams tm LEFT JOIN team_positions p ON p.team_id = tm.id WHERE tm.zone = ANY($1::text[]) AND tm.is_active"""

# A ticket belongs to the re-plan of the zone of the team that holds or is pinned to it, else of its own zone.
_TICKETS = """SELECT * FROM (
  SELECT t.id, t.zone, t.latitude, t.longitude, t.priority, coalesce(t.category, e.suggested_category) AS skill,
         t.due_date, t.window_start, t.window_end, t.service_minutes, t.status, t.started_at, t.assigned_team,
         t.pinned, t.pinned_team, t.pinned_sequence, t.pinned_date,
         coalesce(pt.zone, at.zone, t.zone) AS owner_zone, z.assignment_mode
  FROM tickets t LEFT JOIN ticket_enrichments e ON e.ticket_id = t.id
  LEFT JOIN teams pt ON pt.id = t.pinned_team LEFT JOIN teams at ON at.id = t.assigned_team
  LEFT JOIN zones z ON z.name = t.zone
  WHERE t.status IN ('open', 'reopened', 'assigned', 'in_progress')) s
WHERE owner_zone = ANY($1::text[])
  AND (status IN ('assigned', 'in_progress') OR pinned OR assignment_mode IS DISTINCT FROM 'manual' OR id = ANY($2::bigint[]))
ORDER BY id"""


async def team_rows(conn: asyncpg.Connection, zones: Iterable[str]) -> list[Row]:
    return [dict(r) for r in await conn.fetch(_TEAMS, sorted(zones))]


async def ticket_rows(conn: asyncpg.Connection, zones: Iterable[str], requested: Iterable[int] = ()) -> list[Row]:
    """Open tickets of auto zones (and of manual zones when `requested`), and every ticket held by or pinned to a
    team of these zones."""
    return [dict(r) for r in await conn.fetch(_TICKETS, sorted(zones), sorted(requested))]


async def zones_of(conn: asyncpg.Connection, ticket_ids: Iterable[int], team_ids: Iterable[int]) -> set[str]:
    """The zones whose re-plan these tickets and teams touch (a ticket's own zone and its team's)."""
    rows = await conn.fetch(
        """SELECT t.zone, at.zone AS team_zone, pt.zone AS pin_zone FROM tickets t
           LEFT JOIN teams at ON at.id = t.assigned_team LEFT JOIN teams pt ON pt.id = t.pinned_team
           WHERE t.id = ANY($1::bigint[])
           UNION ALL SELECT zone, NULL, NULL FROM teams WHERE id = ANY($2::int[])""",
        sorted(ticket_ids), sorted(team_ids),
    )  # fmt: skip
    return {z for r in rows for z in (r["zone"], r["team_zone"], r["pin_zone"]) if z}


async def held_by(conn: asyncpg.Connection, team_ids: Iterable[int]) -> dict[int, set[int]]:
    """The tickets each of these teams holds now (assigned or in progress): what its capacity is counted on."""
    rows = await conn.fetch(
        "SELECT id, assigned_team FROM tickets WHERE assigned_team = ANY($1::int[]) AND status IN ('assigned', 'in_progress')",
        sorted(team_ids),
    )
    out: dict[int, set[int]] = {}
    for r in rows:
        out.setdefault(r["assigned_team"], set()).add(r["id"])
    return out


async def all_zones(conn: asyncpg.Connection) -> set[str]:
    return {r["zone"] for r in await conn.fetch("SELECT DISTINCT zone FROM teams WHERE is_active")}


async def stored_plans(conn: asyncpg.Connection, team_ids: list[int], since: date) -> tuple[list[Row], list[Row]]:
    """The team-days on record from `since` on, and their visits."""
    plans = [dict(r) for r in await conn.fetch(
        "SELECT * FROM plans WHERE team_id = ANY($1::int[]) AND plan_date >= $2 ORDER BY team_id, plan_date", team_ids, since
    )]  # fmt: skip
    visits = [dict(r) for r in await conn.fetch(
        "SELECT * FROM plan_visits WHERE team_id = ANY($1::int[]) AND plan_date >= $2 ORDER BY team_id, plan_date, sequence",
        team_ids, since,
    )]  # fmt: skip
    return plans, visits
