"""Planned days (issue 13): every team-day's route with names instead of ids, a team's own plan, a ticket's ETA."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Query

from aiff.api.asof import AsOf, board_as_of, on_board
from aiff.api.deps import ConnDep, CurrentUser
from aiff.api.errors import ERROR_RESPONSES, NOT_FOUND
from aiff.api.routers.teams import TeamIdPath
from aiff.api.routers.tickets import TicketIdPath, _check_visible
from aiff.api.schemas import ZoneName
from aiff.api.schemas_routes import PlanOut, PlanPage, TicketEta
from aiff.api.security import Principal
from aiff.errors import UnknownEntity
from aiff.events.bounds import PlanDate

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES)
MALAYSIA = timezone(timedelta(hours=8))
DateQuery = Annotated[PlanDate | None, Query(description="Day (Malaysia time), YYYY-MM-DD; default today (with `as_of`: that instant's day).")]

_PLAN_SQL = """SELECT p.*, t.name AS team_name, t.zone, count(*) OVER () AS total_rows
FROM plans p JOIN teams t ON t.id = p.team_id WHERE p.plan_date = $1 {where}
ORDER BY t.name, p.team_id LIMIT {limit} OFFSET {offset}"""
_VISITS_SQL = """SELECT v.*, k.ticket_number, k.title, k.priority, k.status, k.due_date
FROM plan_visits v LEFT JOIN tickets k ON k.id = v.ticket_id
WHERE (v.team_id, v.plan_date) IN (SELECT * FROM unnest($1::int[], $2::date[])) ORDER BY v.team_id, v.sequence"""
_ETA_SQL = """SELECT v.*, p.revision, t.name AS team_name FROM plan_visits v
JOIN plans p ON p.team_id = v.team_id AND p.plan_date = v.plan_date JOIN teams t ON t.id = v.team_id
WHERE v.ticket_id = $1 ORDER BY v.plan_date DESC, p.updated_at DESC LIMIT 1"""


def today() -> date:
    return datetime.now(MALAYSIA).date()


def _day(day: date | None, as_of: datetime | None) -> date:
    """The day asked for; by default today, or with `as_of` the Malaysian day of that instant."""
    if day is not None:
        return day
    return as_of.astimezone(MALAYSIA).date() if as_of is not None else today()


def _sql(sql: str, as_of: datetime | None) -> str:
    return on_board(sql) if as_of is not None else sql


def _on_time(end: datetime, due: datetime | None) -> bool | None:
    return None if due is None else end <= due


async def _plans(
    conn: asyncpg.Connection, day: date, filters: dict[str, Any], page: int, limit: int, as_of: datetime | None = None
) -> tuple[list[PlanOut], int]:
    """A page of the day's plans; with `as_of`, read from the board of that instant (`board_as_of` must be open)."""
    where, args = [], [day]
    for column, value in filters.items():
        args.append(value)
        where.append(f"AND {column} = ${len(args)}")
    plan_sql = _PLAN_SQL.format(where=" ".join(where), limit=int(limit), offset=int((page - 1) * limit))
    rows = await conn.fetch(_sql(plan_sql, as_of), *args)
    if not rows:
        count_sql = f"SELECT count(*) FROM plans p JOIN teams t ON t.id = p.team_id WHERE p.plan_date = $1 {' '.join(where)}"
        total = 0 if page == 1 else await conn.fetchval(_sql(count_sql, as_of), *args)
        return [], total
    visits: dict[int, list[dict[str, Any]]] = {}
    for v in await conn.fetch(_sql(_VISITS_SQL, as_of), [r["team_id"] for r in rows], [day] * len(rows)):
        visit = dict(v)
        visit["on_time"] = _on_time(visit["planned_end"], visit["due_date"])
        visits.setdefault(visit["team_id"], []).append(visit)
    plans = [PlanOut.model_validate({**dict(r), "visits": visits.get(r["team_id"], [])}) for r in rows]
    return plans, rows[0]["total_rows"]


def _own_team_only(principal: Principal, team_id: int) -> None:
    if principal.role == "field" and principal.team_id != team_id:
        raise HTTPException(403, "field users may only see their own team's plan")


@router.get("/plans", response_model=PlanPage, summary="Planned days of the teams (names, not ids)")
async def list_plans(
    principal: CurrentUser,
    conn: ConnDep,
    date: DateQuery = None,
    zone: Annotated[ZoneName | None, Query(description="Only teams of this zone.")] = None,
    team_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this team.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    as_of: AsOf = None,
) -> PlanPage:
    """One entry per team with a plan on the day, by team name; visits in order with ticket titles and ETAs.
    Field users see only their own team's plan. `as_of`: the plans (revision, visits, ticket titles and statuses,
    team names) as they were at that instant."""
    filters: dict[str, Any] = {}
    if zone is not None:
        filters["t.zone"] = zone
    if team_id is not None:
        filters["p.team_id"] = team_id
    if principal.role == "field":
        if team_id is not None:
            _own_team_only(principal, team_id)
        filters["p.team_id"] = principal.team_id or -1
    day = _day(date, as_of)
    async with board_as_of(conn, as_of, plan_day=day):
        items, total = await _plans(conn, day, filters, page, limit, as_of)
    return PlanPage(items=items, total=total, page=page, limit=limit, pages=math.ceil(total / limit) if total else 0)


@router.get("/auth/teams/{team_id}/plan", response_model=PlanOut, summary="A team's planned day", responses=NOT_FOUND)
async def team_plan(
    team_id: TeamIdPath, principal: CurrentUser, conn: ConnDep, date: DateQuery = None, as_of: AsOf = None
) -> PlanOut:
    """Field users: only their own team. 404 when the team is unknown or has no plan that day (`as_of`: the plan as
    it was at that instant; 404 when the team or its plan did not exist yet)."""
    _own_team_only(principal, team_id)
    day = _day(date, as_of)
    async with board_as_of(conn, as_of, plan_day=day):
        if await conn.fetchval(_sql("SELECT 1 FROM teams WHERE id = $1", as_of), team_id) is None:
            raise UnknownEntity(f"team {team_id} not found")
        items, _ = await _plans(conn, day, {"p.team_id": team_id}, 1, 1, as_of)
    if not items:
        raise UnknownEntity(f"team {team_id} has no plan on {day.isoformat()}")
    return items[0]


@router.get("/tickets/{ticket_id}/eta", response_model=TicketEta, summary="When the ticket's visit is planned", responses=NOT_FOUND)
async def ticket_eta(ticket_id: TicketIdPath, principal: CurrentUser, conn: ConnDep) -> TicketEta:
    """The latest planned visit: team, position in its day, ETA, planned start and end, and whether it ends
    by the due date. 404 when the ticket is unknown or not planned."""
    ticket = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", ticket_id)
    if ticket is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    visit = await conn.fetchrow(_ETA_SQL, ticket_id)
    if principal.role == "field" and (visit is None or visit["team_id"] != principal.team_id):
        _check_visible(principal, ticket)
    if visit is None or ticket["status"] in ("completed", "closed", "cancelled"):
        raise UnknownEntity(f"ticket {ticket_id} has no planned visit")
    due = ticket["due_date"]
    late = max(0.0, (visit["planned_end"] - due).total_seconds() / 60) if due is not None else 0.0
    return TicketEta(
        **{k: visit[k] for k in ("team_id", "team_name", "plan_date", "revision", "sequence", "eta", "planned_start", "planned_end", "pinned")},
        ticket_id=ticket_id, ticket_number=ticket["ticket_number"], title=ticket["title"], status=ticket["status"],
        window_start=ticket["window_start"], window_end=ticket["window_end"], due_date=due,
        on_time=_on_time(visit["planned_end"], due), minutes_late=round(late, 1),
    )  # fmt: skip


__all__ = ["router", "today"]
