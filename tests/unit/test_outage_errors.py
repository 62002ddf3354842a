"""Which failures are outages (answered 503 with `Retry-After`, retried by workers) and which are bugs."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError

from aiff.api import errors
from aiff.bootstrap import is_outage
from aiff.events.producer import EventBusUnavailable
from aiff.settings import Settings


@pytest.mark.parametrize(
    ("exc", "dependency"),
    [
        (asyncpg.ConnectionDoesNotExistError("closed in the middle of operation"), "database"),
        (asyncpg.CannotConnectNowError("the database system is starting up"), "database"),
        (asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"), "database"),
        (ConnectionRefusedError(111, "Connection refused"), "a dependency"),
        (asyncio.TimeoutError(), "a dependency"),
        (KafkaConnectionError("no broker"), "event bus"),
        (OutOfOrderSequenceNumber(), "event bus"),
        (RedisConnectionError("Connection refused"), "redis"),
        (ValueError("a bug"), None),
        (KeyError("a bug"), None),
    ],
)
def test_outages_are_told_from_bugs(exc: Exception, dependency: str | None) -> None:
    assert errors.unavailable_dependency(exc) == dependency
    assert is_outage(exc) is (dependency is not None)


def _app(exc: Exception) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(AIFF_ENV="test", AIFF_RETRY_AFTER_S=7)
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc", [asyncpg.ConnectionDoesNotExistError("gone"), EventBusUnavailable("event bus unavailable: timeout"), OSError("refused")]
)
def test_an_outage_answers_503_with_retry_after(exc: Exception) -> None:
    r = TestClient(_app(exc), raise_server_exceptions=False).get("/boom")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    assert r.json()["error"]["code"] == "unavailable"


def test_a_bug_still_answers_500_without_retry_after() -> None:
    r = TestClient(_app(ZeroDivisionError("bug")), raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500 and "retry-after" not in r.headers
