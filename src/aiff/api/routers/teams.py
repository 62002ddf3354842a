"""Teams (the seeds' /auth/teams paths): queries on the teams projection, changes as team events."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import and_, func, select

from aiff.ids import API_SOURCE
from aiff.api.commands import publish_and_wait
from aiff.api.deps import Admin, ConnDep, CorrelationId, CurrentUser, ResourcesDep, WaiterDep
from aiff.api.errors import ERROR_RESPONSES, NOT_FOUND
from aiff.api.schemas import (
    ACCEPTED_DOC,
    MAX_INT,
    Accepted,
    EnhancedTeamResponse,
    ProductivityData,
    TeamCreate,
    TeamResponse,
    StrictDigits,
    TeamUpdate,
    ZoneAnalytics,
    ZoneName,
)
from aiff.api.sql import fetch, fetchrow, one_of
from aiff.errors import ContractViolation, UnknownEntity
from aiff.events.shifts import SHIFT_FIELDS, shift_error
from aiff.events.teams import TeamCreated, TeamDeleted, TeamStatusChanged, TeamUpdated, team_event
from aiff.events.vocabulary import ACTIVE_STATUSES, TeamStatus
from aiff.projections.schema import teams, tickets, zones

router = APIRouter(prefix="/auth/teams", tags=["teams"], responses=ERROR_RESPONSES)

TeamIdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="Team id."), StrictDigits]

_open = (
    select(tickets.c.assigned_team.label("team_id"), func.count().label("open_tickets"))
    .where(one_of(tickets.c.status, sorted(ACTIVE_STATUSES)), tickets.c.assigned_team.is_not(None))
    .group_by(tickets.c.assigned_team)
    .subquery("open_counts")
)
_team_select = select(teams, func.coalesce(_open.c.open_tickets, 0).label("open_tickets")).select_from(
    teams.outerjoin(_open, _open.c.team_id == teams.c.id)
)


async def load_team(conn: asyncpg.Connection, team_id: int) -> TeamResponse | None:
    row = await fetchrow(conn, _team_select.where(teams.c.id == team_id))
    return TeamResponse.model_validate(dict(row)) if row else None


def _accepted(team_id: int, event_id: str) -> JSONResponse:
    location = f"/auth/teams/{team_id}"
    return JSONResponse(
        Accepted(location=location, event_id=event_id).model_dump(), status_code=202, headers={"Location": location}
    )


@router.get("", response_model=list[TeamResponse], summary="List teams")
async def list_teams(
    _: CurrentUser,
    conn: ConnDep,
    zone: Annotated[ZoneName | None, Query(description="Only teams of this zone.")] = None,
    status: Annotated[TeamStatus | None, Query(description="Only teams with this availability.")] = None,
    include_inactive: Annotated[bool, Query(description="Include retired teams.")] = False,
) -> list[TeamResponse]:
    """Teams with their performance data and current open tickets, by id."""
    stmt = _team_select
    if zone is not None:
        stmt = stmt.where(teams.c.zone == zone)
    if status is not None:
        stmt = stmt.where(teams.c.status == status)
    if not include_inactive:
        stmt = stmt.where(teams.c.is_active.is_(True))
    return [TeamResponse.model_validate(dict(r)) for r in await fetch(conn, stmt.order_by(teams.c.id))]


@router.get("/analytics/zones", response_model=list[ZoneAnalytics], summary="Teams per zone with performance")
async def zone_analytics(_: CurrentUser, conn: ConnDep) -> list[ZoneAnalytics]:
    """For each of the 15 zones: teams, availability, capacity, open tickets and mean performance."""
    team_stats = (
        select(
            teams.c.zone,
            func.count().label("teams"),
            func.count().filter(teams.c.is_active).label("active_teams"),
            func.count().filter(and_(teams.c.is_active, teams.c.status == "available")).label("available_teams"),
            func.coalesce(func.sum(teams.c.capacity).filter(teams.c.is_active), 0).label("capacity"),
            func.coalesce(func.sum(teams.c.tickets_completed), 0).label("tickets_completed"),
            func.coalesce(func.avg(teams.c.customer_rating).filter(teams.c.is_active), 0).label("avg_customer_rating"),
            func.coalesce(func.avg(teams.c.efficiency).filter(teams.c.is_active), 0).label("avg_efficiency"),
        )
        .group_by(teams.c.zone)
        .subquery("ts")
    )
    open_by_zone = (
        select(tickets.c.zone, func.count().label("open_tickets"))
        .where(tickets.c.status.in_(["open", "assigned", "in_progress", "reopened"]))
        .group_by(tickets.c.zone)
        .subquery("ob")
    )
    stmt = (
        select(
            zones.c.name.label("zone"), zones.c.code, zones.c.region, zones.c.latitude, zones.c.longitude,
            zones.c.assignment_mode,
            *(func.coalesce(getattr(team_stats.c, c), 0).label(c) for c in (
                "teams", "active_teams", "available_teams", "capacity", "tickets_completed", "avg_customer_rating",
                "avg_efficiency")),
            func.coalesce(open_by_zone.c.open_tickets, 0).label("open_tickets"),
        )
        .select_from(
            zones.outerjoin(team_stats, team_stats.c.zone == zones.c.name).outerjoin(
                open_by_zone, open_by_zone.c.zone == zones.c.name
            )
        )
        .order_by(zones.c.name)
    )  # fmt: skip
    return [ZoneAnalytics.model_validate(dict(r)) for r in await fetch(conn, stmt)]


@router.get("/analytics/performance", response_model=list[EnhancedTeamResponse], summary="Team performance ranking")
async def team_performance(
    _: CurrentUser,
    conn: ConnDep,
    zone: Annotated[ZoneName | None, Query(description="Only teams of this zone.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[EnhancedTeamResponse]:
    """Active teams ranked by efficiency, then rating, each with the seeds' `productivity` block."""
    stmt = _team_select.where(teams.c.is_active.is_(True))
    if zone is not None:
        stmt = stmt.where(teams.c.zone == zone)
    stmt = stmt.order_by(teams.c.efficiency.desc(), teams.c.customer_rating.desc(), teams.c.id).limit(limit)
    out = []
    for row in await fetch(conn, stmt):
        team = TeamResponse.model_validate(dict(row))
        out.append(
            EnhancedTeamResponse(
                **team.model_dump(),
                productivity=ProductivityData(
                    ticketsCompleted=team.tickets_completed,
                    customerRating=team.customer_rating,
                    responseTime=team.response_time,
                    completionRate=team.completion_rate,
                    efficiency=team.efficiency,
                ),
            )
        )
    return out


@router.get("/{team_id}", response_model=TeamResponse, summary="One team", responses=NOT_FOUND)
async def get_team(team_id: TeamIdPath, _: CurrentUser, conn: ConnDep) -> TeamResponse:
    team = await load_team(conn, team_id)
    if team is None:
        raise UnknownEntity(f"team {team_id} not found")
    return team


async def _allocate_team_id(conn: asyncpg.Connection) -> int:
    """The next id of the API's own range (`aiff.ids.API_TEAM_IDS`), disjoint from the ids upstream may choose."""
    return int(await conn.fetchval("SELECT nextval('team_id_seq')"))


@router.post("", response_model=TeamResponse, status_code=201, summary="Create a team (admin)", responses=ACCEPTED_DOC)
async def create_team(
    body: TeamCreate, admin: Admin, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep, cid: CorrelationId
) -> Any:
    """Publishes TeamCreated; answers with the team once projected (201), or 202 when that takes too long."""
    team_id = await _allocate_team_id(conn)
    event = team_event(
        TeamCreated, {"team_id": team_id, **body.model_dump()}, correlationid=cid, source=API_SOURCE
    )
    if not await publish_and_wait(resources, waiter, [event]):
        return _accepted(team_id, str(event.id))
    team = await load_team(conn, team_id)
    return team if team is not None else _accepted(team_id, str(event.id))


@router.put("/{team_id}", response_model=TeamResponse, summary="Update a team (admin)", responses={**NOT_FOUND, **ACCEPTED_DOC})
async def update_team(
    team_id: TeamIdPath, body: TeamUpdate, admin: Admin, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep,
    cid: CorrelationId,
) -> Any:  # fmt: skip
    """Publishes TeamUpdated for changed fields and TeamStatusChanged for a new status."""
    current = await load_team(conn, team_id)
    if current is None:
        raise UnknownEntity(f"team {team_id} not found")
    changes = body.model_dump(exclude_none=True, exclude={"status", "status_reason"})
    if error := shift_error({**{k: getattr(current, k) for k in SHIFT_FIELDS}, **body.shift_given()}):
        raise ContractViolation(error)
    events = []
    if changes:
        events.append(team_event(TeamUpdated, {"team_id": team_id, **changes}, correlationid=cid, source=API_SOURCE))
    if body.status is not None and body.status != current.status:
        events.append(
            team_event(
                TeamStatusChanged,
                {"team_id": team_id, "status": body.status, "reason": body.status_reason},
                correlationid=cid,
                source=API_SOURCE,
            )
        )
    if not events:
        return current
    if not await publish_and_wait(resources, waiter, events):
        return _accepted(team_id, str(events[-1].id))
    return await load_team(conn, team_id)


@router.delete("/{team_id}", status_code=204, summary="Retire a team (admin)", responses={**NOT_FOUND, **ACCEPTED_DOC})
async def delete_team(
    team_id: TeamIdPath, admin: Admin, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep, cid: CorrelationId
) -> Response:
    """Publishes TeamDeleted: the team stays in the read models as inactive and offline (history keeps it)."""
    if await load_team(conn, team_id) is None:
        raise UnknownEntity(f"team {team_id} not found")
    event = team_event(TeamDeleted, {"team_id": team_id, "reason": f"deleted by user {admin.id}"}, correlationid=cid, source=API_SOURCE)
    if not await publish_and_wait(resources, waiter, [event]):
        return _accepted(team_id, str(event.id))
    return Response(status_code=204)


__all__ = ["router", "load_team"]
