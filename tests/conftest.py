"""Fixtures on the real local stack (started by `make test`), or on testcontainers where Docker runs."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator

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
    """True when a Docker engine answers (a client or a dangling socket is not enough)."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no usable engine
        return False


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """Settings of the running stack (`make test` starts it).

    When it is not running and no service address was configured but a Docker engine exists, the same
    services are started with testcontainers for the session instead.
    """
    settings = Settings(AIFF_ENV="test")
    kafka = settings.kafka_bootstrap_servers.split(",")[0]
    pg = settings.asyncpg_dsn.rsplit("@", 1)[-1].split("/")[0]
    redis_hostport = settings.redis_url.split("//", 1)[-1].split("/")[0]
    missing = [name for name, hp in (("Kafka", kafka), ("Postgres", pg), ("Redis", redis_hostport)) if not _reachable(hp)]
    configured = any(os.environ.get(v) for v in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL"))
    if missing and _docker_engine() and not configured:
        with _containers() as container_settings:
            yield container_settings
        return
    if missing:
        pytest.fail(f"{', '.join(missing)} not reachable; start the stack with `make stack` (or run `make test`)")
    yield settings


@contextlib.contextmanager
def _containers() -> Iterator[Settings]:
    """Kafka, Postgres and Redis in containers (only where a Docker engine runs)."""
    try:
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.postgres import PostgresContainer
        from testcontainers.community.redis import RedisContainer
    except ImportError:
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

    with (
        KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft() as kafka,
        PostgresContainer("postgres:15", username="aiff", password="aiffpass", dbname="aiff_test", driver=None) as pg,
        RedisContainer("redis:7-alpine") as redis_c,
    ):
        redis_url = f"redis://{redis_c.get_container_host_ip()}:{redis_c.get_exposed_port(6379)}/0"
        yield Settings(
            AIFF_ENV="test",
            kafka_bootstrap_servers=kafka.get_bootstrap_server(),
            database_url=pg.get_connection_url(),
            redis_url=redis_url,
        )


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
