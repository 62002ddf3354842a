"""Analytics endpoints (the seeds' analytics service): overview, performance, trends, reports, recalculation
and CSV export, all over the analytics consumer's pre-aggregated read models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from aiff.analytics import queries, store
from aiff.api.asof import AsOf, board_as_of
from aiff.api.deps import ConnDep, ResourcesDep, require_roles
from aiff.api.schemas import MAX_INT, StrictDigits, TeamId, ZoneName
from aiff.api.security import Principal

router = APIRouter(tags=["analytics"])

# Every signed-in role except self-registered `user` accounts reads analytics; field users only their own team's.
Viewer = Annotated[Principal, Depends(require_roles("admin", "dispatcher", "analyst", "field"))]
Reader = Annotated[Principal, Depends(require_roles("admin", "dispatcher", "analyst"))]
Operator = Annotated[Principal, Depends(require_roles("admin", "dispatcher"))]
Period = Literal["day", "week", "month", "quarter"]
TeamIdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT, description="Only this team."), StrictDigits]
ZoneQuery = Annotated[ZoneName | None, Query(description="Only this zone (one of the 15), e.g. Selangor.")]


def own_teams(principal: Principal, team_ids: list[int] | None) -> list[int] | None:
    """The teams a caller may see KPIs of: field users only their own (asking for another team is a 403)."""
    if principal.role != "field":
        return team_ids
    if principal.team_id is None:
        raise HTTPException(403, "a field user without a team has no team analytics")
    if team_ids and set(team_ids) != {principal.team_id}:
        raise HTTPException(403, "field users only see their own team's analytics")
    return [principal.team_id]


def own_team(principal: Principal, team_id: int | None) -> int | None:
    """`own_teams` for a single optional team id."""
    teams = own_teams(principal, [team_id] if team_id is not None else None)
    return teams[0] if teams else None


class ReportRequest(BaseModel):
    team_ids: list[TeamId] = Field(default_factory=list, max_length=1000, description="Teams to report on; empty means all teams.")
    period: Period = Field("week", description="day, week, month or quarter, ending today (Malaysian days).")
    zone: ZoneName | None = Field(None, description="Only teams/tickets of this zone (one of the 15).")
    include_charts: bool = Field(True, description="Render charts as base64 PNG.")


@router.get("/analytics/overview", summary="System-wide KPIs, backlog and utilisation")
async def get_overview(_: Viewer, conn: ConnDep, as_of: AsOf = None) -> dict[str, Any]:
    """`as_of`: backlog and team utilisation as the board was at that instant; the day counters through the last
    whole Malaysian day before it (`today` is null: a day's counters cannot be cut within the day)."""
    if as_of is None:
        return await queries.overview(conn)
    async with board_as_of(conn, as_of):
        return await queries.overview_as_of(conn, as_of)


@router.get("/analytics/performance", summary="Performance by period, team and zone (field users: their team)")
async def get_performance(
    principal: Viewer, conn: ConnDep, period: Period = "week", team_id: TeamIdQuery = None, zone: ZoneQuery = None
) -> dict[str, Any]:
    return await queries.performance(conn, period, own_team(principal, team_id), zone)


@router.get("/analytics/trends", summary="LinearRegression trend (as in the seeds), slopes and a volume forecast")
async def get_trends(
    _: Viewer, conn: ConnDep, days: int = Query(30, ge=3, le=365), zone: ZoneQuery = None, horizon: int = Query(14, ge=1, le=30)
) -> dict[str, Any]:
    return await queries.trends(conn, days, zone, horizon)


@router.get("/analytics/reports", summary="A performance report for query-string filters (field users: their team)")
async def get_report(
    principal: Viewer, conn: ConnDep, period: Period = "week",
    team_ids: list[Annotated[int, Field(ge=1, le=MAX_INT), StrictDigits]] = Query(default_factory=list, max_length=1000),
    zone: ZoneQuery = None, include_charts: bool = True,
) -> dict[str, Any]:  # fmt: skip
    return await queries.report(conn, own_teams(principal, team_ids), period, zone, include_charts)


@router.post("/analytics/reports", summary="Generate a custom report: summary, metrics, trends, recommendations, charts")
async def post_report(body: ReportRequest, principal: Viewer, conn: ConnDep) -> dict[str, Any]:
    return await queries.report(conn, own_teams(principal, body.team_ids), body.period, body.zone, body.include_charts)


@router.post("/analytics/calculate", summary="Recompute every team's KPIs now and publish the changed ones")
async def calculate(_: Operator, resources: ResourcesDep) -> dict[str, Any]:
    """Recomputes KPIs from the daily stats for all teams, stores them (and today's snapshot rows), and
    publishes `TeamMetricsUpdated` for teams whose values changed (the projector updates `teams`)."""
    now = datetime.now(UTC)
    async with resources.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('aiff-analytics-recompute'))")
            metrics, events = await store.recompute(conn, now, None)
            if events:
                await resources.publisher.publish_many(events)
    return {
        "calculated_at": now.isoformat(),
        "teams": len(metrics),
        "published": len(events),
        "metrics": {str(k): v.as_dict() for k, v in sorted(metrics.items())},
    }


@router.get("/analytics/export", summary="CSV export (streamed from a server-side cursor)", response_class=StreamingResponse)
async def export(
    _: Reader,
    resources: ResourcesDep,
    dataset: Literal["tickets", "team_daily", "analytics"] = "tickets",
    period: Literal["day", "week", "month", "quarter", "all"] = "month",
    team_id: TeamIdQuery = None,
    zone: ZoneQuery = None,
) -> StreamingResponse:
    filename = f"aiff-{dataset}-{period}.csv"
    return StreamingResponse(
        queries.export_csv(resources.pool, dataset, period, team_id, zone),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
