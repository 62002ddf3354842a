"""`aiff users create`: accounts written straight into the users table (how the first admin is made).

Users and passwords are not events; identity lives in ordinary tables owned by the API.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from aiff.api.security import ROLES, hash_password_async
from aiff.settings import get_settings


class UserExists(Exception):
    """The username or e-mail is taken."""


async def create_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password: str,
    role: str = "user",
    email: str | None = None,
    team_id: int | None = None,
    password_hash: str | None = None,
) -> int:
    """Insert a user with an argon2 password hash; returns the new id.

    `password_hash` may carry a precomputed hash of `password` (tests make many users with one password).

    Raises:
        ValueError: unknown role, a field user without a team, or a password shorter than 8 characters.
        UserExists: the username or e-mail is already registered.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if role == "field" and team_id is None:
        raise ValueError("a field user needs --team")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    password_hash = password_hash or await hash_password_async(password)
    try:
        return await conn.fetchval(
            "INSERT INTO users (username, email, password_hash, role, team_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            username,
            email or f"{username}@aiff.local",
            password_hash,
            role,
            team_id,
        )
    except asyncpg.UniqueViolationError as exc:
        raise UserExists(f"user {username!r} (or e-mail {email or username + '@aiff.local'!r}) already exists") from exc


async def _create(username: str, password: str, role: str, email: str | None, team: int | None) -> int:
    settings = get_settings()
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        user_id = await create_user(conn, username=username, password=password, role=role, email=email, team_id=team)
    finally:
        await conn.close()
    print(f"created user {username!r} (id {user_id}, role {role})")
    return 0


def cmd_users_create(*, username: str, password: str, role: str = "user", email: str | None = None, team: int | None = None) -> int:
    """Entry point of `aiff users create`."""
    try:
        return asyncio.run(_create(username, password, role, email, team))
    except (ValueError, UserExists) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
