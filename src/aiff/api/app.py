"""The FastAPI application: routers at the root and, identically, under /api; resources opened in the lifespan.

Optional routers written elsewhere (`aiff.api.routers.analytics`, `aiff.api.routers.ai`, `aiff.api.ws`)
are included when their modules exist; each exposes `router`. The UI in `api/static` is served at `/`
(index.html), `/field` (field.html), `/static/**` and `/assets/**` when present.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from aiff.api import errors, redact
from aiff.api.middleware import API_PREFIX, GatewayMiddleware
from aiff.api.ratelimit import RateLimiter
from aiff.api.readyourwrites import PositionWaiter
from aiff.api.routers import auth, dispatch, health, plans, teams, tickets
from aiff.bootstrap import freeze_startup_heap, open_resources
from aiff.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
OPTIONAL_ROUTERS = ("aiff.api.routers.analytics", "aiff.api.routers.ai", "aiff.api.ws")
DESCRIPTION = """
AI Field Force: tickets, teams and assignments for field-service crews across Malaysia.

Queries read the Postgres projections; every change is published to Kafka as an event and applied by the
projector. A write answers with the resulting resource once it is applied (201/200), or **202** with a
`Location` when the projector takes longer than the read-your-writes timeout.

Authenticate with `POST /auth/login` and send `Authorization: Bearer <token>`. Every path is also served
under `/api`. Errors share one shape: `{"error": {"code", "message", "details"}, "correlation_id"}`.
"""


def _optional_routers() -> list[APIRouter]:
    found = []
    for module in OPTIONAL_ROUTERS:
        try:
            found.append(importlib.import_module(module).router)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return found


def create_app(settings: Settings | None = None, *, rate_limit_window_s: float | None = None) -> FastAPI:
    """Build the app; connections open when it starts (lifespan), never at import or build time.

    Args:
        settings: defaults to the process settings.
        rate_limit_window_s: the rate-limit window; defaults to `settings.rate_limit_window_s` or one hour.
    """
    redact.install()
    settings = settings or get_settings()
    window = rate_limit_window_s or float(getattr(settings, "rate_limit_window_s", 3600.0))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.jwt_key  # noqa: B018 - the signing key exists (or fails) at start-up, not at the first login
        async with open_resources(settings, with_redis=True, pool_size=20, request_sessions=True, patient=True) as resources:
            waiter = PositionWaiter(settings.asyncpg_dsn)
            await waiter.start()
            app.state.resources = resources
            app.state.waiter = waiter
            assert resources.redis is not None
            app.state.rate_limiter = RateLimiter(
                resources.redis, limit=settings.rate_limit_per_hour, window_s=window, namespace=settings.topic_prefix
            )
            freeze_startup_heap()
            try:
                yield
            finally:
                from aiff.api import ws as live_ws

                await live_ws.close_hub(app)
                await waiter.close()

    app = FastAPI(
        title="AIFF API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "auth", "description": "Registration, login and user administration."},
            {"name": "teams", "description": "Field teams and their performance."},
            {"name": "tickets", "description": "Tickets, assignment, lifecycle and audit trail."},
            {"name": "health", "description": "Health checks and metrics."},
        ],
    )
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(GatewayMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials="*" not in settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Correlation-ID", "Retry-After", "Location"],
    )

    routers = [health.router, auth.router, teams.router, tickets.router, plans.router, dispatch.router, *_optional_routers()]
    for router in routers:
        app.include_router(router)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, include_in_schema=False)
    _mount_prefixed_docs(app)
    _mount_ui(app)
    return app


def _mount_prefixed_docs(app: FastAPI) -> None:
    """`/api/openapi.json`, `/api/docs` and `/api/redoc`: every path is served under `/api` too (README)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.responses import HTMLResponse, JSONResponse

    openapi_url = API_PREFIX + (app.openapi_url or "/openapi.json")

    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect"
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc")

    for path, endpoint in (("/openapi.json", openapi), ("/docs", docs), ("/docs/oauth2-redirect", oauth2_redirect), ("/redoc", redoc)):
        app.add_api_route(API_PREFIX + path, endpoint, include_in_schema=False, methods=["GET"])


def _mount_ui(app: FastAPI) -> None:
    def page(name: str):
        async def serve() -> FileResponse:
            target = STATIC_DIR / name
            if not target.is_file():
                from fastapi import HTTPException

                raise HTTPException(404, f"{name} is not built")
            return FileResponse(target)

        return serve

    app.add_api_route("/", page("index.html"), include_in_schema=False, methods=["GET"])
    app.add_api_route("/field", page("field.html"), include_in_schema=False, methods=["GET"])
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
        if (STATIC_DIR / "assets").is_dir():
            app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")
