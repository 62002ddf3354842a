"""Tickets over HTTP: filters and paging checked against SQL, the lifecycle, assignment rules, errors."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.e2e.conftest import Harness
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

ZONES = ("Selangor", "Johor", "Sabah")
PRIORITIES = ("low", "medium", "high", "critical")


async def test_filters_and_pages_match_sql(api: Harness) -> None:
    c, h = api.client, api.headers
    combos = list(itertools.islice(itertools.cycle(itertools.product(ZONES, PRIORITIES)), 30))
    created = []
    for i, (zone, priority) in enumerate(combos):
        title = f"Outage {i} {'fibre' if i % 3 == 0 else 'copper'} at Jalan {i}"
        created.append(await api.create_ticket(title=title, zone=zone, priority=priority, location=f"Town{i % 4}"))
    for t in created[:3]:
        r = await c.post("/tickets/assign", json={"ticket_id": t["id"], "team_id": api.team_id}, headers=h["dispatcher"])
        assert r.status_code == 200, r.text
        assert r.json()["ticket"]["status"] == "assigned"

    async def sql_ids(where: str, *args) -> list[int]:
        async with api.resources.pool.acquire() as conn:
            rows = await conn.fetch(f"SELECT id FROM tickets WHERE {where} ORDER BY created_at DESC, id DESC", *args)
        return [r["id"] for r in rows]

    cases = [
        ({}, "true", ()),
        ({"zone": "Johor"}, "zone = $1", ("Johor",)),
        ({"priority": "critical"}, "priority = $1", ("critical",)),
        ({"status": "assigned"}, "status = $1", ("assigned",)),
        ({"assigned_team": api.team_id}, "assigned_team = $1", (api.team_id,)),
        ({"zone": "Sabah", "priority": "low"}, "zone = $1 AND priority = $2", ("Sabah", "low")),
        ({"q": "FIBRE"}, "title ILIKE $1 OR description ILIKE $1 OR ticket_number ILIKE $1 OR location ILIKE $1", ("%fibre%",)),
        ({"q": "town2"}, "title ILIKE $1 OR description ILIKE $1 OR ticket_number ILIKE $1 OR location ILIKE $1", ("%town2%",)),
        ({"q": "100%"}, "false", ()),
        ({"zone": "penang"}, "zone = $1", ("Pulau Pinang",)),
    ]
    for params, where, args in cases:
        expected = await sql_ids(where, *args)
        for limit in (7, 100):
            got: list[int] = []
            page = 1
            while True:
                r = await c.get("/tickets", params={**params, "page": page, "limit": limit}, headers=h["analyst"])
                assert r.status_code == 200, r.text
                body = r.json()
                assert body["total"] == len(expected), (params, body["total"], len(expected))
                assert body["pages"] == -(-len(expected) // limit)
                got += [t["id"] for t in body["items"]]
                if page >= max(body["pages"], 1):
                    break
                page += 1
            assert got == expected, params
    r = await c.get("/tickets", params={"page": 99}, headers=h["analyst"])
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 30


async def test_lifecycle_flow_with_history(api: Harness) -> None:
    c, h = api.client, api.headers
    ticket = await api.create_ticket(title="Router down", latitude=3.1, longitude=101.6)
    tid = ticket["id"]
    assert ticket["status"] == "open" and ticket["ticket_number"].endswith(f"{tid:06d}")
    r = await c.post("/tickets/assign", json={"ticket_id": tid, "team_id": api.team_id, "reason": "nearest"}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    assignment = r.json()["ticket"]["assignment"]
    assert assignment["strategy"] == "manual" and assignment["frozen"] is True and assignment["team_id"] == api.team_id
    assert assignment["distance_km"] is not None
    r = await c.post(f"/tickets/{tid}/status", json={"status": "in_progress", "notes": "on site"}, headers=h["field"])
    assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
    r = await c.post(
        f"/tickets/{tid}/status", json={"status": "completed", "notes": "spliced", "customer_rating": 4.5}, headers=h["field"]
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["customer_rating"] == 4.5 and done["resolution_notes"] == "spliced"
    assert done["assignment"] is None
    r = await c.get(f"/tickets/{tid}/history", headers=h["analyst"])
    assert [e["type"] for e in r.json()] == [
        "aiff.ticket.created.v1", "aiff.ticket.assigned.v1", "aiff.ticket.pinned.v1", "aiff.ticket.status_changed.v1",
        "aiff.ticket.status_changed.v1",
    ]  # fmt: skip
    assert r.json()[1]["data"]["assigned_by"].isdigit() and r.json()[1]["data"]["strategy"] == "manual"
    r = await c.post(f"/tickets/{tid}/status", json={"status": "in_progress"}, headers=h["dispatcher"])
    assert r.status_code == 409
    assert "cannot move a ticket from 'completed' to 'in_progress'" in r.json()["error"]["message"]
    r = await c.put(f"/tickets/{tid}", json={"status": "closed"}, headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["status"] == "closed"
    overview = (await c.get("/tickets/analytics/overview", headers=h["analyst"])).json()
    assert overview["by_status"]["closed"] == 1 and overview["sla_compliance_pct"] == 100.0


async def test_refused_changes(api: Harness) -> None:
    c, h = api.client, api.headers
    t = await api.create_ticket()
    r = await c.post(f"/tickets/{t['id']}/status", json={"status": "completed"}, headers=h["dispatcher"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = await c.put(f"/tickets/{t['id']}", json={"status": "assigned"}, headers=h["dispatcher"])
    assert r.status_code == 409 and "/tickets/assign" in r.json()["error"]["message"]
    # capacity: the fixture's team holds 3
    small = await api.create_team(capacity=1)
    first, second = await api.create_ticket(), await api.create_ticket()
    assert (await c.post("/tickets/assign", json={"ticket_id": first["id"], "team_id": small["id"]}, headers=h["dispatcher"])).status_code == 200
    r = await c.post("/tickets/assign", json={"ticket_id": second["id"], "team_id": small["id"]}, headers=h["dispatcher"])
    assert r.status_code == 409 and "full" in r.json()["error"]["message"]
    offline = await api.create_team()
    r = await c.put(f"/auth/teams/{offline['id']}", json={"status": "offline"}, headers=h["admin"])
    assert r.status_code == 200 and r.json()["status"] == "offline"
    r = await c.post("/tickets/assign", json={"ticket_id": second["id"], "team_id": offline["id"]}, headers=h["dispatcher"])
    assert r.status_code == 409 and "offline" in r.json()["error"]["message"]
    other_skill = await api.create_team(skills=["power"], zone="Johor")
    r = await c.post("/tickets/assign", json={"ticket_id": second["id"], "team_id": other_skill["id"]}, headers=h["dispatcher"])
    assert r.status_code == 200 and len(r.json()["warnings"]) == 2
    # cancelled is terminal
    r = await c.post(f"/tickets/{second['id']}/status", json={"status": "cancelled"}, headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await c.post("/tickets/assign", json={"ticket_id": second["id"], "team_id": api.team_id}, headers=h["dispatcher"])
    assert r.status_code == 409


async def test_not_found_and_bad_input(api: Harness) -> None:
    c, h = api.client, api.headers
    for path in ("/tickets/424242", "/tickets/424242/history", "/auth/teams/4242"):
        r = await c.get(path, headers=h["admin"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
        assert r.json()["correlation_id"] == r.headers["x-correlation-id"]
    r = await c.post("/tickets/assign", json={"ticket_id": 424242, "team_id": api.team_id}, headers=h["dispatcher"])
    assert r.status_code == 404
    r = await c.post("/tickets", json={"title": "", "zone": "Atlantis", "priority": "urgent"}, headers=h["dispatcher"])
    assert r.status_code == 422
    fields = {tuple(d["loc"]) for d in r.json()["error"]["details"]}
    assert {("body", "title"), ("body", "zone"), ("body", "priority")} <= fields
    assert "title" in r.json()["error"]["message"]
    for path in ("/tickets/99999999999999999999999", "/tickets/abc", "/tickets/0"):
        r = await c.get(path, headers=h["admin"])
        assert r.status_code == 422, (path, r.text)
    for params in ({"page": 0}, {"limit": 101}, {"zone": "Mars"}, {"q": "a\x00b"}, {"assigned_team": 2**40}):
        r = await c.get("/tickets", params=params, headers=h["admin"])
        assert r.status_code == 422, (params, r.text)
    r = await c.post("/tickets", content=b"{not json", headers={**h["dispatcher"], "content-type": "application/json"})
    assert r.status_code == 422
    r = await c.post("/tickets", json={"title": "x\x00y", "zone": "Johor"}, headers=h["dispatcher"])
    assert r.status_code == 422
    r = await c.patch("/tickets/1", json={}, headers=h["admin"])
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    big = {"title": "big", "zone": "Johor", "description": "x" * (api.settings.max_body_bytes + 10)}
    r = await c.post("/tickets", json=big, headers=h["dispatcher"])
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    async def chunks():
        for _ in range(20):
            yield b"x" * (api.settings.max_body_bytes // 10)

    r = await c.post("/tickets", content=chunks(), headers={**h["dispatcher"], "content-type": "application/json"})
    assert r.status_code == 413


async def test_read_your_writes_and_correlation(api: Harness) -> None:
    c, h = api.client, api.headers
    cid = "test-corr-123"
    results = await asyncio.gather(
        *(c.post("/tickets", json={"title": f"RYW {i}", "zone": "Kedah"}, headers={**h["dispatcher"], "X-Correlation-ID": cid}) for i in range(10))
    )
    for r in results:
        assert r.status_code == 201, r.text
        assert r.headers["x-correlation-id"] == cid
        got = await c.get(f"/tickets/{r.json()['id']}", headers=h["analyst"])
        assert got.status_code == 200 and got.json()["title"] == r.json()["title"]
    async with api.resources.pool.acquire() as conn:
        n = await conn.fetchval("SELECT count(*) FROM event_history WHERE correlation_id = $1", cid)
    assert n == 10
    r = await c.delete(f"/tickets/{results[0].json()['id']}", headers=h["dispatcher"])
    assert r.status_code == 204
    assert (await c.get(f"/tickets/{results[0].json()['id']}", headers=h["analyst"])).status_code == 404
    r = await c.post("/tickets/auto-assign", json={"ticket_ids": [results[1].json()["id"]], "criteria": {"strategy": "nearest"}},
                   headers={**h["dispatcher"], "X-Correlation-ID": "auto-1"})
    assert r.status_code == 202 and r.json()["request_id"]
    request_id = r.json()["request_id"]

    async def recorded():
        async with api.resources.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT correlation_id FROM event_history WHERE entity_type = 'request' AND entity_id = $1", request_id
            )

    row = await wait_until(recorded, timeout=10, what="the auto-assign request in the log")
    assert row["correlation_id"] == "auto-1"


async def test_ryw_timeout_answers_202(api: Harness) -> None:
    """With the projector unable to keep up (timeout 0), writes answer 202 with a Location."""
    api.settings.__dict__["read_your_writes_timeout_s"] = 0.0
    try:
        r = await api.client.post("/tickets", json={"title": "slow", "zone": "Perak"}, headers=api.headers["dispatcher"])
    finally:
        api.settings.__dict__["read_your_writes_timeout_s"] = 3.0
    assert r.status_code == 202, r.text
    assert r.headers["location"] == r.json()["location"] and r.json()["location"].startswith("/tickets/")
