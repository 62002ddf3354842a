"""Identity: registration, login, the caller, and user administration (users are rows, not events)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Path
from sqlalchemy import func, insert, select, update

from aiff.api import security
from aiff.api.deps import Admin, ConnDep, CurrentUser, SettingsDep
from aiff.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from aiff.api.schemas import MAX_INT, Credentials, StrictDigits, RoleUpdate, TokenResponse, UserCreate, UserResponse
from aiff.api.sql import fetch, fetchrow, fetchval
from aiff.errors import RuleViolation, UnknownEntity
from aiff.projections.schema import teams, users

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)

USER_COLUMNS = (users.c.id, users.c.username, users.c.email, users.c.role, users.c.team_id, users.c.is_active, users.c.created_at)


def _user(row: asyncpg.Record) -> UserResponse:
    return UserResponse.model_validate(dict(row))


@router.post("/register", response_model=UserResponse, status_code=201, summary="Register a read-only user",
             responses={**CONFLICT, 403: ERROR_RESPONSES[403]})  # fmt: skip
async def register(body: UserCreate, conn: ConnDep) -> UserResponse:
    """Create an account with the `user` role (read-only). Other roles are granted by an admin."""
    if body.role != "user":
        raise HTTPException(403, "self-registration creates 'user' accounts only; an admin grants other roles")
    password_hash = await security.hash_password_async(body.password)
    try:
        row = await fetchrow(
            conn,
            insert(users)
            .values(username=body.username, email=str(body.email), password_hash=password_hash, role="user")
            .returning(*USER_COLUMNS),
        )
    except asyncpg.UniqueViolationError as exc:
        raise RuleViolation("username or email already registered") from exc
    assert row is not None
    return _user(row)


@router.post("/login", response_model=TokenResponse, summary="Log in and get an access token")
async def login(body: Credentials, conn: ConnDep, settings: SettingsDep) -> TokenResponse:
    """Exchange username and password for a JWT access token (send it as `Authorization: Bearer`)."""
    row = await fetchrow(conn, select(*USER_COLUMNS, users.c.password_hash).where(users.c.username == body.username))
    ok = await security.verify_password_async(body.password, row["password_hash"] if row else None)
    if row is None or not ok or not row["is_active"]:
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    token, expires_in = security.create_access_token(
        settings, user_id=row["id"], username=row["username"], role=row["role"], team_id=row["team_id"]
    )
    return TokenResponse(access_token=token, expires_in=expires_in, user=_user(row))


@router.get("/me", response_model=UserResponse, summary="The caller's account", responses=NOT_FOUND)
async def me(principal: CurrentUser, conn: ConnDep) -> UserResponse:
    row = await fetchrow(conn, select(*USER_COLUMNS).where(users.c.id == principal.id))
    if row is None:
        raise UnknownEntity("your account no longer exists")
    return _user(row)


@router.get("/users", response_model=list[UserResponse], summary="List users (admin)")
async def list_users(_: Admin, conn: ConnDep) -> list[UserResponse]:
    return [_user(r) for r in await fetch(conn, select(*USER_COLUMNS).order_by(users.c.id))]


@router.put("/users/{user_id}/role", response_model=UserResponse, summary="Set a user's role and team (admin)",
            responses={**NOT_FOUND, **CONFLICT})  # fmt: skip
async def set_role(
    body: RoleUpdate, admin: Admin, conn: ConnDep, user_id: Annotated[int, Path(ge=1, le=MAX_INT), StrictDigits]
) -> UserResponse:
    """Grant a role. A field user must name the team whose tickets they work on."""
    if body.role == "field" and body.team_id is None:
        raise RuleViolation("a field user needs a team_id")
    if body.team_id is not None and await fetchval(conn, select(teams.c.id).where(teams.c.id == body.team_id)) is None:
        raise UnknownEntity(f"team {body.team_id} not found")
    if user_id == admin.id and (body.role != "admin" or body.is_active is False):
        raise RuleViolation("admins cannot demote or deactivate themselves")
    values: dict = {"role": body.role, "team_id": body.team_id}
    if body.is_active is not None:
        values["is_active"] = body.is_active
    row = await fetchrow(
        conn, update(users).where(users.c.id == user_id).values(**values, updated_at=func.now()).returning(*USER_COLUMNS)
    )
    if row is None:
        raise UnknownEntity(f"user {user_id} not found")
    return _user(row)
