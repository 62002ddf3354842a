"""Fixtures on the real local stack (started by `make test`), or on testcontainers where Docker runs."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator

import pytest

from aiff.bootstrap import Resources, open_resources
from aiff.events.topics import delete_topics
from aiff.settings import Settings
from tests.helpers import isolated_settings


def _reachable(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def _docker_engine() -> bool:
    return os.path.exists("/var/run/docker.sock")


@pytest.fixture(scope="session")
def stack_settings() -> Settings:
    """Settings of the running stack. Fails clearly when it is not up (run `make test`, which starts it)."""
    settings = Settings(AIFF_ENV="test")
    kafka = settings.kafka_bootstrap_servers.split(",")[0]
    pg = settings.asyncpg_dsn.rsplit("@", 1)[-1].split("/")[0]
    redis_hostport = settings.redis_url.split("//", 1)[-1].split("/")[0]
    missing = [name for name, hp in (("Kafka", kafka), ("Postgres", pg), ("Redis", redis_hostport)) if not _reachable(hp)]
    if missing and _docker_engine() and not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.fail("stack not running; with Docker available, start it with `docker compose up -d kafka postgres redis`")
    if missing:
        pytest.fail(f"{', '.join(missing)} not reachable; start the stack with `make stack` (or run `make test`)")
    return settings


@pytest.fixture
async def settings(stack_settings: Settings) -> AsyncIterator[Settings]:
    """Per-test isolation: its own Postgres schema and Kafka topic prefix."""
    async with isolated_settings(stack_settings) as isolated:
        yield isolated


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings, with_redis=True) as res:
        yield res
    await delete_topics(settings.kafka_bootstrap_servers, res.topics)
