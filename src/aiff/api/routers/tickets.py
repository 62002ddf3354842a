"""Tickets: queries on the projections, every change published as a ticket event (read-your-writes)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import desc, func, select

from aiff.ids import API_SOURCE
from aiff.api.asof import AsOf, board_as_of, on_board
from aiff.api.commands import publish, publish_all, publish_and_wait, wait_applied
from aiff.dispatch.section import decision_section
from aiff.api.deps import ConnDep, CorrelationId, CurrentUser, Dispatcher, ResourcesDep, WaiterDep
from aiff.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from aiff.api.routers.teams import load_team
from aiff.api.schemas import (
    ACCEPTED_DOC,
    MAX_BIGINT,
    MAX_INT,
    Accepted,
    AssignmentInfo,
    AssignRequest,
    AssignResponse,
    AutoAssignAccepted,
    AutoAssignRequest,
    DailyCount,
    HistoryEntry,
    PlannedSlot,
    PriorityPerformance,
    StatusChange,
    Text,
    TicketCreate,
    TicketDetail,
    TicketOverview,
    TicketPage,
    TicketPerformance,
    StrictDigits,
    TicketUpdate,
    UnservedAssignment,
    UnservedInfo,
    ZoneName,
)
from aiff.api.security import Principal
from aiff.api.sql import fetch, fetchrow, fetchval, one_of
from aiff.errors import ContractViolation, RuleViolation, UnknownEntity
from aiff.events.envelope import utcnow
from aiff.events.requests import AutoAssignRequested
from aiff.events.tickets import (
    TicketAssigned, TicketCreated, TicketDeleted, TicketPinned, TicketStatusChanged, TicketUpdated, ticket_event,
)
from aiff.events.vocabulary import ACTIVE_STATUSES, Priority, TicketStatus, transition_error
from aiff.geo import haversine_km
from aiff.projections.schema import assignments, event_history, tickets

MALAYSIA = timezone(timedelta(hours=8))

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)

TicketIdPath = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="Ticket id."), StrictDigits]
FIELD_STATUSES = frozenset({"in_progress", "completed"})


# --- reads -----------------------------------------------------------------------------------------


async def _ticket_row(conn: asyncpg.Connection, ticket_id: int) -> asyncpg.Record | None:
    return await fetchrow(conn, select(tickets).where(tickets.c.id == ticket_id))


async def _active_assignment(conn: asyncpg.Connection, ticket_id: int) -> AssignmentInfo | None:
    row = await fetchrow(
        conn,
        select(assignments)
        .where(assignments.c.ticket_id == ticket_id, one_of(assignments.c.status, sorted(ACTIVE_STATUSES)))
        .order_by(desc(assignments.c.assigned_at))
        .limit(1),
    )
    return AssignmentInfo.model_validate(dict(row)) if row else None


async def load_ticket(conn: asyncpg.Connection, ticket_id: int) -> TicketDetail | None:
    """The ticket with its active assignment (and score breakdown), or None."""
    row = await _ticket_row(conn, ticket_id)
    if row is None:
        return None
    return TicketDetail(**dict(row), assignment=await _active_assignment(conn, ticket_id))


def _check_visible(principal: Principal, row: asyncpg.Record | TicketDetail) -> None:
    """Field users see only their own team's tickets."""
    team = row["assigned_team"] if isinstance(row, asyncpg.Record) else row.assigned_team
    if principal.role == "field" and (principal.team_id is None or team != principal.team_id):
        raise HTTPException(403, "field users may only see their own team's tickets")


async def _visible_ticket(conn: asyncpg.Connection, principal: Principal, ticket_id: int) -> asyncpg.Record:
    row = await _ticket_row(conn, ticket_id)
    if row is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    _check_visible(principal, row)
    return row


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# The two hot reads (list and one ticket) run hand-written SQL cached per filter combination, and
# answer with the validated model serialised by pydantic directly (FastAPI would validate the returned
# model a second time, convert it to plain Python and encode that with json.dumps).
_TICKET_COLUMNS = ", ".join(c.name for c in tickets.c)
_ASSIGNMENT_NAMES = tuple(c.name for c in assignments.c)
# The ticket and its active assignment in one round trip; the assignment's columns come back as `a_<name>`.
_TICKET_WITH_ASSIGNMENT_SQL = (
    f"SELECT {', '.join('t.' + c.name for c in tickets.c)}, {', '.join(f'a.{n} AS a_{n}' for n in _ASSIGNMENT_NAMES)} "
    f"FROM tickets t LEFT JOIN LATERAL (SELECT {', '.join(_ASSIGNMENT_NAMES)} FROM assignments "
    f"WHERE ticket_id = t.id AND status IN ({', '.join(repr(s) for s in sorted(ACTIVE_STATUSES))}) "
    f"ORDER BY assigned_at DESC LIMIT 1) a ON true WHERE t.id = $1"
)
_ASSIGNMENT_KEYS = tuple((f"a_{n}", n) for n in _ASSIGNMENT_NAMES)
_LIST_SQL: dict[tuple[str, ...], tuple[str, str]] = {}
_TOTAL = "aiff_total_rows"


def _list_sql(filters: tuple[str, ...]) -> tuple[str, str]:
    """(page query with the total as a window column, count query) for the filters present, in order."""
    cached = _LIST_SQL.get(filters)
    if cached is not None:
        return cached
    conds = []
    for n, name in enumerate(filters, start=1):
        if name == "q":
            conds.append(
                "(" + " OR ".join(f"{col} ILIKE ${n} ESCAPE E'\\\\'" for col in ("title", "description", "ticket_number", "location")) + ")"
            )
        else:
            conds.append(f"{name} = ${n}")
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    n = len(filters)
    page_sql = (
        f"SELECT {_TICKET_COLUMNS}, count(*) OVER () AS {_TOTAL} FROM tickets{where} "
        f"ORDER BY created_at DESC, id DESC LIMIT ${n + 1} OFFSET ${n + 2}"
    )
    cached = (page_sql, f"SELECT count(*) FROM tickets{where}")
    _LIST_SQL[filters] = cached
    return cached


def _json_response(model: Any) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("", response_model=TicketPage, summary="List tickets (filtered, paged, newest first)")
async def list_tickets(
    principal: CurrentUser,
    conn: ConnDep,
    status: Annotated[TicketStatus | None, Query(description="Only this status.")] = None,
    priority: Annotated[Priority | None, Query(description="Only this priority.")] = None,
    zone: Annotated[ZoneName | None, Query(description="Only this zone, e.g. Selangor.")] = None,
    assigned_team: Annotated[int | None, Query(ge=1, le=MAX_INT, description="Only tickets held by this team."), StrictDigits] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Text in title, description, number or location.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    as_of: AsOf = None,
) -> Response:
    """Newest first (ties broken by id). Field users see only their team's tickets. `as_of`: as the board was then."""
    filters: list[str] = []
    args: list[Any] = []
    if status is not None:
        filters.append("status")
        args.append(status)
    if priority is not None:
        filters.append("priority")
        args.append(priority)
    if zone is not None:
        filters.append("zone")
        args.append(zone)
    if assigned_team is not None:
        filters.append("assigned_team")
        args.append(assigned_team)
    if principal.role == "field":
        filters.append("assigned_team")
        args.append(principal.team_id or -1)
    if q:
        filters.append("q")
        args.append(_like(q))
    page_sql, count_sql = _list_sql(tuple(filters))
    if as_of is not None:
        page_sql, count_sql = on_board(page_sql), on_board(count_sql)
    async with board_as_of(conn, as_of):
        rows = await conn.fetch(page_sql, *args, limit, (page - 1) * limit)
        items = []
        total = 0
        for r in rows:
            item = dict(r)
            total = item.pop(_TOTAL)
            items.append(item)
        if not rows and page > 1:
            total = await conn.fetchval(count_sql, *args)
    return _json_response(
        TicketPage.model_validate(
            {"items": items, "total": total, "page": page, "limit": limit, "pages": math.ceil(total / limit) if total else 0}
        )
    )


@router.get("/analytics/overview", response_model=TicketOverview, summary="Ticket KPIs")
async def overview(_: CurrentUser, conn: ConnDep, as_of: AsOf = None) -> TicketOverview:
    """Counts by status, priority and zone; SLA compliance and mean times, from the tickets projection (`as_of`: as
    the board was then, overdue counted at that instant)."""
    async with board_as_of(conn, as_of):
        return await _overview(conn, as_of)


_OVERVIEW_SQL = """SELECT count(*) AS total,
                  count(*) FILTER (WHERE status IN ('open','reopened','assigned','in_progress')) AS open,
                  count(*) FILTER (WHERE status IN ('open','reopened','assigned','in_progress') AND due_date < now()) AS overdue,
                  100.0 * count(*) FILTER (WHERE completed_at IS NOT NULL AND completed_at <= due_date)
                        / NULLIF(count(*) FILTER (WHERE completed_at IS NOT NULL AND status IN ('completed','closed')), 0)
                        AS sla_compliance_pct,
                  avg(EXTRACT(EPOCH FROM assigned_at - created_at) / 60) AS mean_time_to_assign_min,
                  avg(EXTRACT(EPOCH FROM started_at - assigned_at) / 60) AS mean_time_to_start_min,
                  avg(EXTRACT(EPOCH FROM completed_at - created_at) / 3600)
                        FILTER (WHERE status IN ('completed','closed')) AS mean_resolution_hours,
                  avg(customer_rating) AS avg_customer_rating
           FROM tickets"""


async def _overview(conn: asyncpg.Connection, as_of: Any) -> TicketOverview:
    if as_of is None:
        totals = await conn.fetchrow(_OVERVIEW_SQL)
    else:
        totals = await conn.fetchrow(on_board(_OVERVIEW_SQL).replace("now()", "$1::timestamptz"), as_of)
    groups: dict[str, dict[str, int]] = {}
    for col in ("status", "priority", "zone"):
        sql = f"SELECT coalesce({col}, 'unknown') AS k, count(*) AS n FROM tickets GROUP BY 1 ORDER BY 1"
        rows = await conn.fetch(on_board(sql) if as_of is not None else sql)
        groups[col] = {r["k"]: r["n"] for r in rows}
    values = {k: (float(v) if v is not None and k not in ("total", "open", "overdue") else v) for k, v in dict(totals).items()}
    return TicketOverview(**values, by_status=groups["status"], by_priority=groups["priority"], by_zone=groups["zone"])


@router.get("/analytics/performance", response_model=TicketPerformance, summary="SLA and resolution by priority, daily flow")
async def performance(
    _: CurrentUser, conn: ConnDep, days: Annotated[int, Query(ge=1, le=365, description="Days of daily counts.")] = 30
) -> TicketPerformance:
    rows = await conn.fetch(
        """SELECT priority, count(*) AS total,
                  count(*) FILTER (WHERE status IN ('completed','closed')) AS completed,
                  count(*) FILTER (WHERE status IN ('completed','closed') AND completed_at <= due_date) AS sla_met,
                  avg(EXTRACT(EPOCH FROM completed_at - created_at) / 3600)
                        FILTER (WHERE status IN ('completed','closed')) AS mean_resolution_hours
           FROM tickets GROUP BY priority ORDER BY priority"""
    )
    by_priority = [
        PriorityPerformance(
            priority=r["priority"], total=r["total"], completed=r["completed"], sla_met=r["sla_met"],
            sla_compliance_pct=100.0 * r["sla_met"] / r["completed"] if r["completed"] else None,
            mean_resolution_hours=float(r["mean_resolution_hours"]) if r["mean_resolution_hours"] is not None else None,
        )
        for r in rows
    ]  # fmt: skip
    daily = await conn.fetch(
        """WITH d AS (SELECT generate_series((now() AT TIME ZONE 'UTC')::date - ($1::int - 1), (now() AT TIME ZONE 'UTC')::date, '1 day')::date AS day)
           SELECT d.day,
                  (SELECT count(*) FROM tickets t WHERE (t.created_at AT TIME ZONE 'UTC')::date = d.day) AS created,
                  (SELECT count(*) FROM tickets t WHERE (t.completed_at AT TIME ZONE 'UTC')::date = d.day) AS completed
           FROM d ORDER BY d.day""",
        days,
    )
    return TicketPerformance(
        by_priority=by_priority,
        daily=[DailyCount(day=r["day"].isoformat(), created=r["created"], completed=r["completed"]) for r in daily],
    )


@router.get("/{ticket_id}", response_model=TicketDetail, summary="One ticket with its active assignment", responses={**NOT_FOUND})
async def get_ticket(ticket_id: TicketIdPath, principal: CurrentUser, conn: ConnDep, as_of: AsOf = None) -> Response:
    """`as_of`: the ticket as it was then (404 when it did not exist yet or was deleted by then)."""
    async with board_as_of(conn, as_of):
        row = await conn.fetchrow(on_board(_TICKET_WITH_ASSIGNMENT_SQL) if as_of else _TICKET_WITH_ASSIGNMENT_SQL, ticket_id)
    if row is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    _check_visible(principal, row)
    detail = dict(row)
    assignment = {name: detail.pop(key) for key, name in _ASSIGNMENT_KEYS}
    detail["assignment"] = assignment if assignment["id"] is not None else None
    return _json_response(TicketDetail.model_validate(detail))


_PLANNED_SQL = """SELECT v.team_id, v.plan_date, p.revision, v.sequence, v.eta, v.planned_start, v.planned_end,
       v.travel_minutes, v.travel_km, v.pinned, v.explanation
FROM plan_visits v JOIN plans p ON p.team_id = v.team_id AND p.plan_date = v.plan_date
WHERE v.ticket_id = $1 ORDER BY v.plan_date DESC, p.updated_at DESC LIMIT 1"""
_DEFERRED_SQL = """SELECT event, time FROM event_history
WHERE entity_type = 'ticket' AND entity_id = $1 AND type = 'aiff.assignment.deferred.v1' ORDER BY time DESC LIMIT 1"""


@router.get("/{ticket_id}/assignment", response_model=AssignmentInfo | UnservedAssignment,
            summary="Why the ticket's team and slot were chosen, or why it is unassigned", responses=NOT_FOUND)  # fmt: skip
async def get_assignment(ticket_id: TicketIdPath, principal: CurrentUser, conn: ConnDep) -> AssignmentInfo | UnservedAssignment:
    """The active assignment with the strategy's score breakdown and, when the team's day is planned, the visit's
    slot with the planner's explanation (travel, lateness, priority, churn terms). Without an active assignment:
    the binding reason of the engine's latest deferral (`assigned: false`) and, when the ticket is planned on a
    later day of the horizon, that `planned` slot (day, ETA); 404 when there is neither."""
    ticket = await _visible_ticket(conn, principal, ticket_id)
    assignment = await _active_assignment(conn, ticket_id)
    if assignment is not None:
        slot = await conn.fetchrow(_PLANNED_SQL, ticket_id)
        if slot is not None and slot["team_id"] == assignment.team_id:
            assignment.planned = PlannedSlot.model_validate(dict(slot))
        return assignment
    deferred = await conn.fetchrow(_DEFERRED_SQL, str(ticket_id))
    if deferred is None:
        raise UnknownEntity(f"ticket {ticket_id} has no active assignment")
    data = json.loads(deferred["event"]) if isinstance(deferred["event"], str) else deferred["event"]
    data = data.get("data", {})
    slot = await conn.fetchrow(_PLANNED_SQL, ticket_id)
    planned = PlannedSlot.model_validate(dict(slot)) if slot is not None and slot["plan_date"] >= _malaysia_today() else None
    return UnservedAssignment(ticket_id=ticket_id, status=ticket["status"], planned=planned,
                              unserved=UnservedInfo(code=data.get("code"), reason=data.get("reason") or "", strategy=data.get("strategy") or "",
                                                    decided_at=deferred["time"]))  # fmt: skip


def _malaysia_today() -> date:
    """Today in Malaysia time (plan dates are Malaysia days): an older planned slot is history, not a plan."""
    return datetime.now(MALAYSIA).date()


@router.get("/{ticket_id}/history", response_model=list[HistoryEntry], summary="Audit trail of the ticket", responses=NOT_FOUND)
async def history(ticket_id: TicketIdPath, principal: CurrentUser, conn: ConnDep) -> list[HistoryEntry]:
    """Every event applied to the ticket, in order (kept after deletion), and the decisions refused as stale."""
    row = await _ticket_row(conn, ticket_id)
    if row is not None:
        _check_visible(principal, row)
    elif principal.role == "field":
        raise UnknownEntity(f"ticket {ticket_id} not found")
    rows = await fetch(
        conn,
        select(event_history)
        .where(event_history.c.entity_type == "ticket", event_history.c.entity_id == str(ticket_id))
        .order_by(event_history.c.time, event_history.c.partition, event_history.c.offset),
    )
    if not rows and row is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    out = []
    for r in rows:
        event = json.loads(r["event"]) if isinstance(r["event"], str) else r["event"]
        out.append(
            HistoryEntry(
                event_id=str(r["event_id"]), type=r["type"], time=r["time"], source=r["source"],
                correlation_id=r["correlation_id"], topic=r["topic"], partition=r["partition"], offset=r["offset"],
                data=event.get("data") or {}, applied_at=r["applied_at"], outcome=r["outcome"], reason=r["reason"],
            )
        )  # fmt: skip
    return out


# --- writes ----------------------------------------------------------------------------------------


def _accepted(ticket_id: int, event_id: uuid.UUID) -> JSONResponse:
    location = f"/tickets/{ticket_id}"
    return JSONResponse(
        Accepted(location=location, event_id=str(event_id)).model_dump(), status_code=202, headers={"Location": location}
    )


async def _answer(conn: asyncpg.Connection, applied: bool, ticket_id: int, event_id: uuid.UUID) -> Any:
    if not applied:
        return _accepted(ticket_id, event_id)
    ticket = await load_ticket(conn, ticket_id)
    if ticket is None:
        raise UnknownEntity(f"ticket {ticket_id} not found")
    return ticket


async def _allocate_ticket_id(conn: asyncpg.Connection) -> int:
    """The next id of the API's own range (`aiff.ids.API_TICKET_IDS`): one sequence is the only authority for
    API ids, and upstream publishers may not use that range, so an API id never shadows an upstream ticket."""
    return int(await conn.fetchval("SELECT nextval('ticket_id_seq')"))


@router.post("", response_model=TicketDetail, status_code=201, summary="Create a ticket", responses=ACCEPTED_DOC)
async def create_ticket(
    body: TicketCreate, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep, cid: CorrelationId
) -> Any:
    """Publishes TicketCreated; answers 201 with the ticket once projected, or 202 with its location."""
    ticket_id = await _allocate_ticket_id(conn)
    now = utcnow()
    data = {
        "ticket_id": ticket_id,
        "ticket_number": f"TKT-{now.year}-{ticket_id:06d}",
        **body.model_dump(exclude_none=True),
        "created_by": principal.username[:100] or principal.actor,
    }
    event = ticket_event(TicketCreated, data, correlationid=cid, source=API_SOURCE, time=now)
    applied = await publish_and_wait(resources, waiter, [event])
    return await _answer(conn, applied, ticket_id, event.id)


@asynccontextmanager
async def _lifecycle_turn(conn: asyncpg.Connection, ticket_id: int) -> AsyncIterator[None]:
    """One status command per ticket at a time (across API instances), from reading its status until its event is
    applied or the wait times out: a second cancel racing the first reads `cancelled` and gets 409, instead of
    publishing a change the projector would have to refuse. (One that slips past a timed-out wait is refused by the
    projector as stale, never dead-lettered.)"""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('aiff.ticket.lifecycle:' || $1::bigint, 0))", ticket_id)
        yield


def _status_event(current: str, change: StatusChange, principal: Principal, ticket_id: int, cid: str | None):
    if current == change.status:
        raise RuleViolation(f"ticket {ticket_id} is already {current}")
    if (error := transition_error(current, change.status)) is not None:
        raise RuleViolation(error)
    if change.customer_rating is not None and change.status != "completed":
        raise ContractViolation("customer_rating is given only when completing a ticket")
    return ticket_event(
        TicketStatusChanged,
        {
            "ticket_id": ticket_id, "status": change.status, "notes": change.notes,
            "customer_rating": change.customer_rating, "changed_by": principal.actor,
        },
        correlationid=cid, source=API_SOURCE,
    )  # fmt: skip


@router.put("/{ticket_id}", response_model=TicketDetail, summary="Update a ticket (and optionally its status)",
            responses={**NOT_FOUND, **CONFLICT, **ACCEPTED_DOC})  # fmt: skip
async def update_ticket(
    ticket_id: TicketIdPath, body: TicketUpdate, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep,
    waiter: WaiterDep, cid: CorrelationId,
) -> Any:  # fmt: skip
    """Publishes TicketUpdated for changed fields; a `status` follows the lifecycle (409 when it cannot)."""
    async with _lifecycle_turn(conn, ticket_id):
        row = await _visible_ticket(conn, principal, ticket_id)
        events = []
        changes = body.model_dump(exclude_none=True, exclude={"status", "notes", "customer_rating"})
        start, end = changes.get("window_start", row["window_start"]), changes.get("window_end", row["window_end"])
        if start is not None and end is not None and end <= start:
            raise ContractViolation(f"window_end {end.isoformat()} must be after window_start {start.isoformat()}")
        if changes:
            events.append(
                ticket_event(TicketUpdated, {"ticket_id": ticket_id, **changes, "updated_by": principal.actor}, correlationid=cid, source=API_SOURCE)
            )
        if body.status is not None and body.status != row["status"]:
            if body.status in ("assigned", "open"):
                raise RuleViolation(f"status {body.status!r} is reached by assignment; use POST /tickets/assign")
            change = StatusChange(status=body.status, notes=body.notes, customer_rating=body.customer_rating)  # type: ignore[arg-type]
            events.append(_status_event(row["status"], change, principal, ticket_id, cid))
        elif body.notes is not None or body.customer_rating is not None:
            raise ContractViolation("notes and customer_rating go with a status change")
        if not events:
            return await _answer(conn, True, ticket_id, uuid.uuid4())
        applied = await publish_and_wait(resources, waiter, events)
    return await _answer(conn, applied, ticket_id, events[-1].id)


@router.post("/{ticket_id}/status", response_model=TicketDetail, summary="Move a ticket along its lifecycle",
             responses={**NOT_FOUND, **CONFLICT, **ACCEPTED_DOC})  # fmt: skip
async def change_status(
    ticket_id: TicketIdPath, body: StatusChange, principal: CurrentUser, conn: ConnDep, resources: ResourcesDep,
    waiter: WaiterDep, cid: CorrelationId,
) -> Any:  # fmt: skip
    """Dispatchers and admins: any lifecycle step. Field users: in_progress/completed on their team's tickets."""
    if principal.role not in ("admin", "dispatcher", "field"):
        raise HTTPException(403, f"role {principal.role!r} may not change ticket status")
    async with _lifecycle_turn(conn, ticket_id):
        row = await _visible_ticket(conn, principal, ticket_id)
        if principal.role == "field" and body.status not in FIELD_STATUSES:
            raise HTTPException(403, "field users may set only in_progress or completed")
        event = _status_event(row["status"], body, principal, ticket_id, cid)
        applied = await publish_and_wait(resources, waiter, [event])
    return await _answer(conn, applied, ticket_id, event.id)


@router.delete("/{ticket_id}", status_code=204, summary="Delete a ticket", responses={**NOT_FOUND, **ACCEPTED_DOC})
async def delete_ticket(
    ticket_id: TicketIdPath, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep, cid: CorrelationId
) -> Response:
    """Publishes TicketDeleted: the ticket leaves the read models; its history stays."""
    async with _lifecycle_turn(conn, ticket_id):
        await _visible_ticket(conn, principal, ticket_id)
        event = ticket_event(TicketDeleted, {"ticket_id": ticket_id, "deleted_by": principal.actor}, correlationid=cid, source=API_SOURCE)
        applied = await publish_and_wait(resources, waiter, [event])
    if not applied:
        return _accepted(ticket_id, event.id)
    return Response(status_code=204)


@router.post("/assign", response_model=AssignResponse, summary="Assign a ticket to a team (manual override)",
             responses={**NOT_FOUND, **CONFLICT})  # fmt: skip
async def assign(
    body: AssignRequest, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep, waiter: WaiterDep, cid: CorrelationId
) -> Any:
    """Publishes TicketAssigned (strategy manual, frozen) and TicketPinned to that team: the planner keeps it there.

    409 when the ticket's status does not allow assignment, the team is retired, offline or on leave,
    or the team has no free capacity. A missing skill or another zone only warns.
    """
    ticket = await _ticket_row(conn, body.ticket_id)
    if ticket is None:
        raise UnknownEntity(f"ticket {body.ticket_id} not found")
    if (error := transition_error(ticket["status"], "assigned")) is not None:
        raise RuleViolation(error)
    if ticket["status"] == "assigned" and ticket["assigned_team"] == body.team_id:
        raise RuleViolation(f"ticket {body.ticket_id} is already assigned to team {body.team_id}")
    # The capacity check and the publication inside the decision section: no engine re-plan, other API instance
    # or dispatcher command decides on this team's capacity meanwhile (invariant 3).
    async with decision_section(conn) as section:
        team = await load_team(conn, body.team_id)
        if team is None:
            raise UnknownEntity(f"team {body.team_id} not found")
        if not team.is_active or team.status in ("offline", "on_leave"):
            raise RuleViolation(f"team {team.id} is {'retired' if not team.is_active else team.status} and cannot take tickets")
        holding = await fetchval(
            conn,
            select(func.count()).select_from(tickets).where(
                tickets.c.assigned_team == team.id, one_of(tickets.c.status, sorted(ACTIVE_STATUSES)), tickets.c.id != body.ticket_id
            ),
        )
        if holding >= team.capacity:
            raise RuleViolation(f"team {team.id} is full: {holding} open tickets, capacity {team.capacity}")
        warnings = []
        if ticket["category"] and ticket["category"] not in team.skills:
            warnings.append(f"team {team.id} lacks the skill {ticket['category']!r}")
        if ticket["zone"] and ticket["zone"] != team.zone:
            warnings.append(f"team {team.id} is based in {team.zone}, the ticket is in {ticket['zone']}")
        distance = None
        if None not in (ticket["latitude"], ticket["longitude"], team.latitude, team.longitude):
            distance = round(haversine_km(team.latitude, team.longitude, ticket["latitude"], ticket["longitude"]), 3)
        event = ticket_event(
            TicketAssigned,
            {
                "ticket_id": body.ticket_id, "team_id": team.id, "strategy": "manual", "assigned_by": principal.actor,
                "distance_km": distance, "reason": body.reason, "replaces_team_id": ticket["assigned_team"], "frozen": True,
            },
            correlationid=cid, source=API_SOURCE,
        )  # fmt: skip
        pin = ticket_event(TicketPinned, {"ticket_id": body.ticket_id, "team_id": team.id, "pinned_by": principal.actor,
                                          "reason": body.reason or "manual assignment"}, correlationid=cid, source=API_SOURCE)  # fmt: skip
        metadata = await publish_all(resources, [event, pin])
        section.published(metadata)
    applied = await wait_applied(resources, waiter, metadata)
    if not applied:
        accepted = Accepted(location=f"/tickets/{body.ticket_id}", event_id=str(event.id))
        return JSONResponse(
            AssignResponse(accepted=accepted, warnings=warnings).model_dump(mode="json"),
            status_code=202,
            headers={"Location": accepted.location},
        )
    return AssignResponse(ticket=await load_ticket(conn, body.ticket_id), warnings=warnings)


@router.post("/auto-assign", response_model=AutoAssignAccepted, status_code=202, summary="Ask the engine to assign tickets",
             responses=NOT_FOUND)  # fmt: skip
async def auto_assign(
    body: AutoAssignRequest, principal: Dispatcher, conn: ConnDep, resources: ResourcesDep, cid: CorrelationId
) -> AutoAssignAccepted:
    """Publishes AutoAssignRequested; the assignment consumer answers with TicketAssigned or AssignmentDeferred
    events whose causation id is the returned `request_id` (watch the tickets or the websocket)."""
    ids = sorted(set(body.ticket_ids))
    found = {r["id"] for r in await fetch(conn, select(tickets.c.id).where(tickets.c.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise UnknownEntity(f"unknown tickets: {', '.join(map(str, missing[:20]))}{' ...' if len(missing) > 20 else ''}")
    request_id = uuid.uuid4().hex
    event = AutoAssignRequested(
        subject=request_id,
        data={"request_id": request_id, "ticket_ids": ids, "criteria": body.criteria, "requested_by": principal.actor},
        correlationid=cid,
        source=API_SOURCE,
    )
    await publish(resources, event)
    return AutoAssignAccepted(request_id=request_id, event_id=str(event.id), ticket_ids=ids)


__all__ = ["router", "load_ticket"]
