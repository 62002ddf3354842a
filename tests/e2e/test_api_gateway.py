"""Gateway concerns: rate limits in Redis, health, metrics, CORS, correlation ids."""

from __future__ import annotations

import pytest

from aiff.settings import Settings
from tests.e2e.conftest import Harness, running_api
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


async def test_rate_limit_then_recovery(settings: Settings) -> None:
    tight = settings.model_copy(update={"rate_limit_per_hour": 3})
    async with running_api(tight, rate_limit_window_s=1.5) as api:
        h = api.headers["analyst"]
        statuses = [(await api.client.get("/tickets", headers=h)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        r = await api.client.get("/api/tickets", headers=h)  # same endpoint under /api shares the budget
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 2
        assert r.json()["error"]["code"] == "rate_limited"
        # other endpoints and other users have their own budgets
        assert (await api.client.get("/auth/teams", headers=h)).status_code == 200
        assert (await api.client.get("/tickets", headers=api.headers["user"])).status_code == 200

        async def recovered() -> bool:
            return (await api.client.get("/tickets", headers=h)).status_code == 200

        await wait_until(recovered, timeout=10, interval=0.3, what="the rate-limit window to expire")


async def test_health_metrics_cors(shared_api: Harness) -> None:
    c = shared_api.client
    r = await c.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "healthy" and set(body["checks"]) == {"kafka", "postgres", "redis"}
    assert all(check["status"] == "up" for check in body["checks"].values()) and body["version"]
    assert (await c.get("/api/health")).status_code == 200
    await c.get("/tickets", headers=shared_api.headers["admin"])
    r = await c.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'http_requests_total{endpoint="/tickets",method="GET",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text and "active_connections" in text
    assert "aiff_events_published_total" in text
    r = await c.options("/tickets", headers={"Origin": "http://example.com", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] in ("*", "http://example.com")
    r = await c.get("/health", headers={"X-Correlation-ID": "abc-123"})
    assert r.headers["x-correlation-id"] == "abc-123"
    assert len((await c.get("/health", headers={"X-Correlation-ID": "bad id with spaces"})).headers["x-correlation-id"]) == 32
    r = await c.get("/no/such/path")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await c.get("/openapi.json")
    assert r.status_code == 200 and "/tickets/{ticket_id}" in r.json()["paths"]
