"""Annotated dependencies of the routers: the resources, a pooled connection, the caller and role checks.

The trivial dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in the thread
pool, a thread hop per dependency per request.

Other routers (analytics, ai, ws) use the same aliases: `ResourcesDep`, `ConnDep`, `CurrentUser`,
and `require_roles("admin", ...)` / `Reader`, `Dispatcher`, `Admin`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aiff.api.readyourwrites import PositionWaiter
from aiff.api.security import Principal
from aiff.bootstrap import Resources
from aiff.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login.")


async def get_resources(request: Request) -> Resources:
    return request.app.state.resources


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_waiter(request: Request) -> PositionWaiter:
    return request.app.state.waiter


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for the request (queries only; writes are events). Waiting longer than
    `AIFF_DB_TIMEOUT_S` for one answers 503 (errors.py maps the timeout) instead of queueing without bound."""
    resources = request.app.state.resources
    async with resources.pool.acquire(timeout=resources.settings.db_timeout_s) as conn:
        yield conn


async def get_principal(
    request: Request, _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
) -> Principal:
    """The caller the gateway middleware authenticated."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return principal


async def get_correlation_id(request: Request) -> str | None:
    return getattr(request.state, "correlation_id", None)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
WaiterDep = Annotated[PositionWaiter, Depends(get_waiter)]
ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
CorrelationId = Annotated[str | None, Depends(get_correlation_id)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only callers with one of `roles` (403 otherwise)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"role {principal.role!r} may not do this; needs one of: {', '.join(roles)}")
        return principal

    return check


Admin = Annotated[Principal, Depends(require_roles("admin"))]
Dispatcher = Annotated[Principal, Depends(require_roles("admin", "dispatcher"))]
Analyst = Annotated[Principal, Depends(require_roles("admin", "dispatcher", "analyst"))]
"""Callers who read everything, including audit trails and user-independent analytics."""
