"""AI endpoints (the seeds' AI service): chat assistant, analysis, insights, predictions, engine status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from aiff.ai import chat as chat_service
from aiff.ai import service
from aiff.api.deps import ResourcesDep, require_roles
from aiff.api.security import Principal

router = APIRouter(tags=["ai"])

Viewer = Annotated[Principal, Depends(require_roles("admin", "dispatcher", "analyst", "field"))]


class ChatMessage(BaseModel):
    message: str = Field(min_length=1, max_length=2000, description="The question, in English or Bahasa Malaysia.")
    context: dict[str, Any] = Field(default_factory=dict, description="Carries conversation_id between turns.")


class AnalysisRequest(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict, description="period (day/week/month/quarter), zone, team_id or team_ids.")


class PredictionRequest(BaseModel):
    prediction_type: str = Field(description="ticket_volume, team_performance or customer_satisfaction.")
    data: dict[str, Any] = Field(default_factory=dict, description="ticket_volume: zone, horizon (7/14/30); others: team_id, zone.")


@router.post("/ai/chat", summary="Ask the dispatcher assistant (answers with numbers from the read models)")
async def chat(body: ChatMessage, _: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    return await chat_service.chat(resources.pool, resources.settings, body.message, body.context)


@router.post("/ai/analyze", summary="Summary, insights, recommendations and a data-derived confidence")
async def analyze(body: AnalysisRequest, _: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    return await service.analyze(resources.pool, body.data)


@router.get("/ai/insights", summary="Stored AI insights (backlog spikes, SLA risks, team drift)")
async def insights(_: Viewer, resources: ResourcesDep, type: str = "performance", scope: str = "system", period: str = "week") -> dict[str, Any]:
    return await service.insights(resources.pool, type, scope, period)


@router.post("/ai/predict", summary="Predictions: ticket_volume, team_performance, customer_satisfaction (else 400)")
async def predict(body: PredictionRequest, _: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    return await service.predict(resources.pool, body.prediction_type, body.data)


@router.get("/ai/status", summary="Engine (local or openai), model versions and accuracy, health")
async def status(_: Viewer, resources: ResourcesDep) -> dict[str, Any]:
    return await service.status(resources.pool, resources.settings)
