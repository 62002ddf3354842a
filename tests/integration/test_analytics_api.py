"""Analytics and AI endpoints over HTTP (a real uvicorn API with the projector and analytics consumer)."""

from __future__ import annotations

import asyncio
import base64

import pytest

from aiff.consumers import analytics as analytics_consumer
from tests.e2e.conftest import running_api
from tests.helpers import wait_until
from tests.integration.test_ai_assistant import history

pytestmark = pytest.mark.integration


async def test_analytics_and_ai_endpoints(settings):
    async with running_api(settings) as h:
        await h.resources.publisher.publish_many(history())
        stop = asyncio.Event()
        consumer = analytics_consumer.build(h.resources)
        task = asyncio.create_task(consumer.run(stop))
        try:
            pool = h.resources.pool

            async def done():
                return await pool.fetchval("SELECT coalesce(sum(completed), 0) FROM team_daily_stats") == 1 and \
                    await pool.fetchval("SELECT count(*) FROM tickets") == 8

            await wait_until(done, timeout=60, what="history analysed")
            c, hdr = h.client, h.headers["analyst"]

            r = await c.get("/analytics/overview", headers=hdr)
            assert r.status_code == 200, r.text
            ov = r.json()
            open_sql = await pool.fetchval("SELECT count(*) FROM tickets WHERE status IN ('open','assigned','in_progress','reopened')")
            assert ov["backlog"]["open"] == open_sql and ov["all_time"]["completed"] == 1

            r = await c.get("/api/analytics/performance", params={"period": "week", "zone": "Sabah"}, headers=hdr)
            assert r.status_code == 200 and r.json()["summary"]["completed"] == 1
            assert (await c.get("/analytics/performance", params={"period": "year"}, headers=hdr)).status_code == 422
            assert (await c.get("/analytics/performance", params={"team_id": 999}, headers=hdr)).status_code == 404

            r = await c.get("/analytics/trends", headers=hdr)
            assert r.status_code == 200 and len(r.json()["volume_forecast"]["daily"]) == 14

            r = await c.post("/analytics/reports", json={"period": "week"}, headers=hdr)
            rep = r.json()
            assert r.status_code == 200 and set(rep) >= {"summary", "metrics", "trends", "recommendations", "charts"}
            assert base64.b64decode(rep["charts"]["volume"])[:8] == b"\x89PNG\r\n\x1a\n"
            assert (await c.get("/analytics/reports", params={"period": "month", "include_charts": "false"}, headers=hdr)).status_code == 200

            r = await c.post("/analytics/calculate", headers=h.headers["dispatcher"])
            assert r.status_code == 200 and r.json()["teams"] >= 2

            r = await c.get("/analytics/export", params={"dataset": "tickets", "period": "all"}, headers=hdr)
            lines = r.text.strip().splitlines()
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            assert lines[0].startswith("id,ticket_number") and len(lines) == 1 + 8
            r = await c.get("/analytics/export", params={"dataset": "tickets", "period": "all", "zone": "Johor"}, headers=hdr)
            assert len(r.text.strip().splitlines()) == 1 + 2

            assert (await c.get("/analytics/overview", headers=h.headers["user"])).status_code == 403
            assert (await c.get("/analytics/overview")).status_code == 401

            for kind in ("ticket_volume", "team_performance", "customer_satisfaction"):
                r = await c.post("/ai/predict", json={"prediction_type": kind, "data": {"zone": "Sabah"}}, headers=hdr)
                assert r.status_code == 200, r.text
            vol = (await c.post("/ai/predict", json={"prediction_type": "ticket_volume", "data": {"horizon": 14}}, headers=hdr)).json()
            assert len(vol["zones"]) == 15 and len(vol["total"]["daily"]) == 14
            r = await c.post("/ai/predict", json={"prediction_type": "weather"}, headers=hdr)
            assert r.status_code == 400 and "invalid prediction type" in r.json()["error"]["message"]

            r = await c.post("/ai/analyze", json={"data": {"period": "week"}}, headers=hdr)
            an = r.json()
            assert r.status_code == 200 and 0 < an["confidence"] < 1 and an["recommendations"]
            assert (await c.get("/ai/insights", params={"type": "all"}, headers=hdr)).status_code == 200
            st = (await c.get("/ai/status", headers=hdr)).json()
            assert st["engine"] == "local" and st["health"]["status"] == "ok"

            r = await c.post("/ai/chat", json={"message": "berapa tiket kritikal terbuka di Sabah?", "context": {"conversation_id": "x"}}, headers=h.headers["field"])
            body = r.json()
            # A field user's assistant counts only its own team's tickets (the new team holds none of Sabah's).
            assert r.status_code == 200 and body["data"]["count"] == 0 and body["context"]["conversation_id"] == "x"
            r = await c.post("/ai/chat", json={"message": "berapa tiket kritikal terbuka di Sabah?"}, headers=h.headers["dispatcher"])
            assert r.status_code == 200 and r.json()["data"]["count"] == 2
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
