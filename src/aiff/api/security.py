"""Passwords (argon2 via pwdlib) and access tokens (HS256 JWT via PyJWT).

The token carries the user's id, role and team, so the gateway middleware can authorise a request
without a database round trip; a role changed by an admin takes effect at the user's next login
(tokens are short-lived: `settings.jwt_expire_minutes`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from aiff.settings import Settings

ROLES: tuple[str, ...] = ("admin", "dispatcher", "analyst", "field", "user")
PRIVILEGED_ROLES = frozenset({"admin", "dispatcher", "analyst", "field"})


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    """An argon2 hash of the password."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; a missing hash still costs one verification (no user enumeration)."""
    hasher = _hasher()
    if password_hash is None:
        hasher.verify(password, _dummy_hash())
        return False
    try:
        return hasher.verify(password, password_hash)
    except Exception:  # noqa: BLE001 - a malformed stored hash is simply a failed login
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("aiff-dummy-password")


async def hash_password_async(password: str) -> str:
    """`hash_password` off the event loop (argon2 costs tens of milliseconds)."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, password_hash: str | None) -> bool:
    """`verify_password` off the event loop."""
    return await asyncio.to_thread(verify_password, password, password_hash)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the access token describes it."""

    id: int
    username: str
    role: str
    team_id: int | None

    @property
    def actor(self) -> str:
        """How the caller is named in events (`assigned_by`, `changed_by`)."""
        return str(self.id)


def create_access_token(settings: Settings, *, user_id: int, username: str, role: str, team_id: int | None) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.jwt_expire_minutes)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "username": username,
        "role": role,
        "team_id": team_id,
        "iat": now,
        "exp": now + lifetime,
        "type": "access",
    }
    return jwt.encode(claims, settings.jwt_key, algorithm=settings.jwt_algorithm), int(lifetime.total_seconds())


class InvalidToken(Exception):
    """The token is missing, malformed, expired or signed with another key."""


def decode_access_token(settings: Settings, token: str) -> Principal:
    """The principal a valid token names.

    Raises:
        InvalidToken: with a message fit for a 401 answer.
    """
    try:
        claims = jwt.decode(
            token, settings.jwt_key, algorithms=[settings.jwt_algorithm], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid token") from exc
    try:
        role = str(claims["role"])
        team = claims.get("team_id")
        principal = Principal(int(claims["sub"]), str(claims.get("username", "")), role, int(team) if team is not None else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("invalid token claims") from exc
    if claims.get("type") != "access" or role not in ROLES:
        raise InvalidToken("invalid token claims")
    return principal


_TOKEN_CACHE: dict[tuple[Any, ...], tuple[Principal, float]] = {}
_TOKEN_CACHE_MAX = 4096


def decode_access_token_cached(settings: Settings, token: str) -> Principal:
    """`decode_access_token`, remembering valid tokens until they expire (signature checks cost ~0.5 ms).

    Only tokens that decoded successfully are cached, keyed by (signing key, token) and valid strictly
    before their `exp` (PyJWT's rule with no leeway), so answers are the same as without the cache.
    """
    key = (settings.jwt_key, settings.jwt_algorithm, token)
    hit = _TOKEN_CACHE.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        _TOKEN_CACHE.pop(key, None)
    principal = decode_access_token(settings, token)
    try:
        exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return principal
    if len(_TOKEN_CACHE) >= _TOKEN_CACHE_MAX:
        _TOKEN_CACHE.clear()
    _TOKEN_CACHE[key] = (principal, exp)
    return principal
