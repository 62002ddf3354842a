"""Dispatcher and field commands of route-aware dispatch, each published as an event (read-your-writes):
a team's position, pinning or unpinning a ticket, and moving it to a team and position (a pin there)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from aiff.api.commands import publish_all, publish_and_wait, wait_applied
from aiff.dispatch.section import decision_section
from aiff.ids import API_SOURCE
from aiff.api.deps import ConnDep, CorrelationId, CurrentUser, Dispatcher, ResourcesDep, WaiterDep
from aiff.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from aiff.api.routers.teams import TeamIdPath, load_team
from aiff.api.routers.tickets import TicketIdPath, _answer, _ticket_row
from aiff.api.schemas import ACCEPTED_DOC, Accepted, TicketDetail
from aiff.api.schemas_routes import MoveRequest, PinRequest, PositionReport, TeamPosition, UnpinRequest
from aiff.errors import ContractViolation, RuleViolation, UnknownEntity
from aiff.events.envelope import utcnow
from aiff.events.plans import TeamPositionReported
from aiff.events.teams import team_event
from aiff.events.tickets import TicketMoved, TicketPinned, TicketUnpinned, ticket_event

router = APIRouter(tags=["dispatch"], responses=ERROR_RESPONSES)
CLOCK_SKEW = timedelta(minutes=5)
TERMINAL = ("completed", "closed", "cancelled")


@router.post("/auth/teams/{team_id}/position", response_model=TeamPosition, status_code=201,
             summary="Report a team's position", responses={**NOT_FOUND, **ACCEPTED_DOC})  # fmt: skip
async def report_position(
    team_id: TeamIdPath, body: PositionReport, principal: CurrentUser, conn: ConnDep, resources: ResourcesDep,
    waiter: WaiterDep, cid: CorrelationId,
) -> Any:  # fmt: skip
    """Field users for their own team, dispatchers and admins for any: publishes TeamPositionReported.
    Answers the team's latest position (a report measured before the stored one does not replace it)."""
    if principal.role not in ("admin", "dispatcher", "field"):
        raise HTTPException(403, f"role {principal.role!r} may not report positions")
    if principal.role == "field" and principal.team_id != team_id:
        raise HTTPException(403, "field users may only report their own team's position")
    if await load_team(conn, team_id) is None:
        raise UnknownEntity(f"team {team_id} not found")
    now = utcnow()
    reported_at = body.reported_at or now
    if reported_at > now + CLOCK_SKEW:
        raise ContractViolation("reported_at lies in the future")
    data = {**body.model_dump(exclude_none=True), "team_id": team_id, "reported_at": reported_at}
    event = team_event(TeamPositionReported, data, correlationid=cid, source=API_SOURCE, time=now)
    location = f"/auth/teams/{team_id}"
    if await publish_and_wait(resources, waiter, [event]):
        row = await conn.fetchrow("SELECT * FROM team_positions WHERE team_id = $1", team_id)
        if row is not None:
            return TeamPosition.model_validate(dict(row))
    return JSONResponse(Accepted(location=location, event_id=str(event.id)).model_dump(), status_code=202, headers={"Location": location})


async def _pinnable(conn: ConnDep, ticket_id: int) -> Any:
    ticket = await _ticket_row(conn, ticket_id)
    if ticket is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    if ticket["status"] in TERMINAL:
        raise RuleViolation(f"ticket {ticket_id} is {ticket['status']}: there is no visit to pin or unpin")
    return ticket


@router.post("/tickets/{ticket_id}/pin", response_model=TicketDetail, summary="Pin (freeze) or move a ticket",
             responses={**NOT_FOUND, **CONFLICT, **ACCEPTED_DOC})  # fmt: skip
async def pin(
    ticket_id: TicketIdPath, body: PinRequest, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep,
    waiter: WaiterDep, cid: CorrelationId,
) -> Any:  # fmt: skip
    """Publishes TicketPinned: the planner never moves the ticket. With `team_id` (and `sequence`, `plan_date`)
    it is a move: the planner places it on that team at that position at its next re-plan. 409 for a finished
    ticket or a retired, offline or on-leave team. (`POST /tickets/assign` is an immediate pin to a team.)"""
    ticket = await _pinnable(conn, ticket_id)
    data = {**body.model_dump(exclude_none=True), "ticket_id": ticket_id, "pinned_by": principal.actor}
    event = ticket_event(TicketPinned, data, correlationid=cid, source=API_SOURCE)
    if body.team_id is None:
        return await _answer(conn, await publish_and_wait(resources, waiter, [event]), ticket_id, event.id)
    async with decision_section(conn) as section:
        await _check_can_take(conn, body.team_id, ticket)
        metadata = await publish_all(resources, [event])
        section.published(metadata)
    return await _answer(conn, await wait_applied(resources, waiter, metadata), ticket_id, event.id)


async def _check_can_take(conn: ConnDep, team_id: int, ticket: Any) -> None:
    """409 unless the team may take the ticket: it exists, works, and has a free slot (a ticket it holds already
    needs none). Called inside the decision section, so the count is current and nobody takes the slot meanwhile."""
    team = await load_team(conn, team_id)
    if team is None:
        raise UnknownEntity(f"team {team_id} not found")
    if not team.is_active or team.status in ("offline", "on_leave"):
        raise RuleViolation(f"team {team.id} is {'retired' if not team.is_active else team.status} and cannot take tickets")
    if ticket["assigned_team"] != team.id:
        holding = await conn.fetchval(
            "SELECT count(*) FROM tickets WHERE assigned_team = $1 AND status IN ('assigned', 'in_progress')", team.id
        )
        if holding >= team.capacity:
            raise RuleViolation(f"team {team.id} is full: {holding} open tickets, capacity {team.capacity}")


@router.post("/tickets/{ticket_id}/move", response_model=TicketDetail, summary="Move a ticket to a team and position",
             responses={**NOT_FOUND, **CONFLICT, **ACCEPTED_DOC})  # fmt: skip
async def move(
    ticket_id: TicketIdPath, body: MoveRequest, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep,
    waiter: WaiterDep, cid: CorrelationId,
) -> Any:  # fmt: skip
    """Publishes TicketMoved: the planner places the visit on that team at that position of its day at the next
    re-plan (which the event itself triggers) and keeps it there: a pin. 409 for a ticket finished or in
    progress, or a retired, offline, on-leave or full team."""
    ticket = await _pinnable(conn, ticket_id)
    if ticket["status"] == "in_progress":
        raise RuleViolation(f"ticket {ticket_id} is in progress: only a visit not yet started can move")
    data = {"ticket_id": ticket_id, "team_id": body.team_id, "sequence": body.position, "plan_date": body.plan_date,
            "moved_by": principal.actor, "reason": body.reason}  # fmt: skip
    event = ticket_event(TicketMoved, {k: v for k, v in data.items() if v is not None}, correlationid=cid, source=API_SOURCE)
    async with decision_section(conn) as section:
        await _check_can_take(conn, body.team_id, ticket)
        metadata = await publish_all(resources, [event])
        section.published(metadata)
    return await _answer(conn, await wait_applied(resources, waiter, metadata), ticket_id, event.id)


@router.post("/tickets/{ticket_id}/unpin", response_model=TicketDetail, summary="Release a pin",
             responses={**NOT_FOUND, **CONFLICT, **ACCEPTED_DOC})  # fmt: skip
async def unpin(
    ticket_id: TicketIdPath, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep,
    cid: CorrelationId, body: UnpinRequest | None = None,
) -> Any:  # fmt: skip
    """Publishes TicketUnpinned: the planner may move the ticket again. 409 when it is not pinned."""
    ticket = await _pinnable(conn, ticket_id)
    if not ticket["pinned"]:
        raise RuleViolation(f"ticket {ticket_id} is not pinned")
    data = {"ticket_id": ticket_id, "unpinned_by": principal.actor, "reason": body.reason if body else None}
    event = ticket_event(TicketUnpinned, data, correlationid=cid, source=API_SOURCE)
    return await _answer(conn, await publish_and_wait(resources, waiter, [event]), ticket_id, event.id)


__all__ = ["router"]
