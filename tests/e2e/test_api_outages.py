"""The API while a dependency is down: 503 with `Retry-After` within its timeouts (never a hang or a 500),
reads keep working while only Kafka is down, `/health` names what is down, and everything recovers by itself."""

from __future__ import annotations

import time

import pytest

from aiff.events.producer import new_kafka_producer
from tests.e2e.conftest import Harness

pytestmark = pytest.mark.e2e

TICKET = {"title": "Outage drill", "priority": "high", "zone": "Selangor", "category": "fiber"}


async def test_kafka_unreachable_answers_503_with_retry_after_and_recovers(api: Harness) -> None:
    publisher = api.app.state.resources.publisher
    publisher.timeout_s = 1.0
    real_factory = publisher._factory
    publisher._factory = lambda: new_kafka_producer("127.0.0.1:9")  # a broker that never answers
    publisher._producer._sender.sender_task.cancel()  # the live producer dies, as after a broker restart
    dispatcher = api.headers["dispatcher"]

    started = time.monotonic()
    r = await api.client.post("/tickets", json=TICKET, headers=dispatcher)
    assert r.status_code == 503, r.text
    assert time.monotonic() - started < 5
    assert int(r.headers["retry-after"]) > 0
    assert "event bus unavailable" in r.json()["error"]["message"]

    assert (await api.client.get("/tickets", headers=dispatcher)).status_code == 200  # reads keep working
    health = await api.client.get("/health")
    assert health.status_code == 503 and "retry-after" in health.headers
    assert health.json()["checks"]["kafka"]["status"] == "down"
    assert health.json()["checks"]["postgres"]["status"] == "up"

    publisher._factory = real_factory  # the broker is back: the next request builds a working producer
    r = await api.client.post("/tickets", json=TICKET, headers=dispatcher)
    assert r.status_code in (201, 202), r.text
    assert (await api.client.get("/health")).status_code == 200


async def test_database_connections_dropped_answer_503_then_the_pool_recovers(api: Harness) -> None:
    dispatcher = api.headers["dispatcher"]
    pool = api.app.state.resources.pool
    assert (await api.client.get("/tickets", headers=dispatcher)).status_code == 200
    async with pool.acquire() as conn:
        pids = [c._con.get_server_pid() for c in pool._holders if c._con is not None and not c._con.is_closed()]
        await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid WHERE pid <> pg_backend_pid()", pids)
    # every idle pooled connection is now dead, as after a Postgres restart
    answers = [await api.client.get("/tickets", headers=dispatcher) for _ in range(3)]
    statuses = [a.status_code for a in answers]
    assert 500 not in statuses, [a.text for a in answers]
    for a in answers:
        if a.status_code == 503:
            assert int(a.headers["retry-after"]) > 0 and a.json()["error"]["code"] == "unavailable"
    r = await api.client.get("/tickets", headers=dispatcher)
    assert r.status_code == 200


async def test_an_exhausted_database_pool_answers_503_not_500(api: Harness) -> None:
    """What a database restart looks like from the API: requests queue for connections that do not come."""
    dispatcher = api.headers["dispatcher"]
    resources = api.app.state.resources
    resources.settings.db_timeout_s = 0.3
    held = [await resources.pool.acquire() for _ in range(resources.pool.get_max_size())]
    try:
        r = await api.client.get("/tickets", headers=dispatcher)
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) > 0
        assert r.json()["error"]["message"].startswith("a dependency unavailable") or "unavailable" in r.json()["error"]["message"]
    finally:
        for conn in held:
            await resources.pool.release(conn)
    assert (await api.client.get("/tickets", headers=dispatcher)).status_code == 200
