"""AI endpoints (the seeds' AI service): chat assistant, analysis, insights, predictions, engine status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from aiff.ai import chat as chat_service
from aiff.ai import service
from aiff.api.deps import ConnDep, CorrelationId, ResourcesDep, WaiterDep, require_roles
from aiff.api.routers.analytics import Period, own_team, own_teams
from aiff.api.schemas import TeamId, Text, ZoneName
from aiff.api.security import Principal

router = APIRouter(tags=["ai"])

Viewer = Annotated[Principal, Depends(require_roles("admin", "dispatcher", "analyst", "field"))]


class ChatContext(BaseModel):
    conversation_id: Text | None = Field(None, max_length=100, description="Carries the conversation between turns.")


class ChatMessage(BaseModel):
    message: Text = Field(min_length=1, max_length=2000, description="The question, in English or Bahasa Malaysia.")
    context: ChatContext = Field(default_factory=ChatContext, description="Carries conversation_id between turns.")


class AnalysisData(BaseModel):
    """What to analyse; unknown keys are refused so that a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    period: Period = "week"
    zone: ZoneName | None = Field(None, description="One of the 15 zones, e.g. Selangor.")
    team_id: TeamId | None = None
    team_ids: list[TeamId] | None = Field(None, max_length=1000)


class AnalysisRequest(BaseModel):
    data: AnalysisData = Field(default_factory=AnalysisData, description="period (day/week/month/quarter), zone, team_id or team_ids.")


class PredictionData(BaseModel):
    """Parameters of a prediction; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    zone: ZoneName | None = Field(None, description="One of the 15 zones, e.g. Selangor.")
    horizon: Literal[7, 14, 30] | None = Field(None, description="ticket_volume: days ahead (default 7).")
    days: Literal[7, 14, 30] | None = Field(None, description="Alias of horizon.")
    team_id: TeamId | None = Field(None, description="team_performance / customer_satisfaction: only this team.")


class PredictionRequest(BaseModel):
    prediction_type: Text = Field(max_length=100, description="ticket_volume, team_performance or customer_satisfaction.")
    data: PredictionData = Field(default_factory=PredictionData, description="ticket_volume: zone, horizon (7/14/30); others: team_id, zone.")


@router.post("/ai/chat", summary="Ask the dispatcher assistant (answers with numbers from the read models)")
async def chat(
    body: ChatMessage, principal: Viewer, resources: ResourcesDep, conn: ConnDep, waiter: WaiterDep, cid: CorrelationId
) -> dict[str, Any]:
    """Answers carry their data (`data`, `table`, `ids`). Field users see only their team's tickets. A proposed
    action (`proposed_action`) is carried out only when the same conversation replies "yes"/"ya", and then through
    the same command functions as POST /tickets/assign, /tickets/{id}/status and /tickets/{id}/pin (role checked)."""
    from aiff.assistant.actions import executor
    from aiff.assistant.state import ConversationStore

    return await chat_service.chat(
        resources.pool, resources.settings, body.message, body.context.model_dump(exclude_none=True),
        store=ConversationStore(resources.redis) if resources.redis is not None else None, user=str(principal.id), role=principal.role,
        scope_team=(principal.team_id if principal.team_id is not None else -1) if principal.role == "field" else None,
        execute=executor(principal, conn, resources, waiter, cid),
    )  # fmt: skip


@router.post("/ai/analyze", summary="Summary, insights, recommendations and a data-derived confidence")
async def analyze(body: AnalysisRequest, principal: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    data = body.data.model_dump(exclude_none=True)
    teams = data.pop("team_ids", None) or ([data.pop("team_id")] if "team_id" in data else None)
    data.pop("team_id", None)
    teams = own_teams(principal, teams)
    if teams:
        data["team_ids"] = teams
    return await service.analyze(resources.pool, data)


@router.get("/ai/insights", summary="Stored AI insights (backlog spikes, SLA risks, team drift)")
async def insights(_: Viewer, resources: ResourcesDep, type: str = "performance", scope: str = "system", period: str = "week") -> dict[str, Any]:
    return await service.insights(resources.pool, type, scope, period)


@router.post("/ai/predict", summary="Predictions: ticket_volume, team_performance, customer_satisfaction (else 400)")
async def predict(body: PredictionRequest, principal: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    data = body.data.model_dump(exclude_none=True)
    if body.prediction_type != "ticket_volume":
        team = own_team(principal, data.pop("team_id", None))
        if team is not None:
            data["team_id"] = team
    return await service.predict(resources.pool, body.prediction_type, data)


@router.get("/ai/status", summary="Engine (local or openai), model versions and accuracy, health")
async def status(_: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    return await service.status(resources.pool, resources.settings)
