"""Liveness of the API's dependencies (Kafka, Postgres, Redis) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import asyncpg

from aiff.api.errors import retry_after
from aiff.api.schemas import HealthResponse

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 2.0


def _version() -> str:
    try:
        return version("aiff")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0.0.0"


async def _check(name: str, probe: Awaitable[Any]) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
        return name, {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means the dependency is down
        return name, {"status": "down", "error": f"{exc.__class__.__name__}: {exc}"[:300]}


async def _postgres(request: Request) -> None:
    """A connection of its own, not one from the request pool: a pool busy with slow requests is not the
    database being down, and /health must name the dependency that really is."""
    resources = request.app.state.resources
    conn = await asyncpg.connect(resources.settings.asyncpg_dsn, timeout=CHECK_TIMEOUT_S)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        conn.terminate()


async def _kafka(request: Request) -> None:
    """Metadata through the publisher's live producer (a dead producer is replaced first, or reported)."""
    await request.app.state.resources.publisher.check()


async def _redis(request: Request) -> None:
    await request.app.state.resources.redis.ping()


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Health of the API and its dependencies",
    responses={503: {"model": HealthResponse, "description": "A dependency is down; `checks` names it."}},
)
async def health(request: Request) -> Any:
    """Checks Kafka (metadata request), Postgres (select 1) and Redis (ping), each within 2 s."""
    checks = dict(
        await asyncio.gather(
            _check("kafka", _kafka(request)), _check("postgres", _postgres(request)), _check("redis", _redis(request))
        )
    )
    healthy = all(c["status"] == "up" for c in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy", checks=checks, version=_version(), timestamp=datetime.now(UTC)
    )
    if healthy:
        return JSONResponse(body.model_dump(mode="json"))
    return JSONResponse(body.model_dump(mode="json"), status_code=503, headers=retry_after(request))


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format."}})  # fmt: skip
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
