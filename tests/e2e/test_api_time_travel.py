"""`?as_of=` over HTTP: the board read at an earlier instant equals what the API answered at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import Harness
from tests.e2e.test_api_plans import DAY, _publish_plan, _visit

pytestmark = pytest.mark.e2e


async def test_as_of_answers_what_the_board_was_then(api: Harness) -> None:
    c, h = api.client, api.headers
    first = [await api.create_ticket(title=f"Outage {i}", priority=("low", "high", "critical")[i]) for i in range(3)]
    r = await c.post("/tickets/assign", json={"ticket_id": first[0]["id"], "team_id": api.team_id}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    then_list = (await c.get("/tickets", params={"limit": 2, "page": 2}, headers=h["analyst"])).json()
    then_all = (await c.get("/tickets", headers=h["analyst"])).json()
    then_one = (await c.get(f"/tickets/{first[0]['id']}", headers=h["analyst"])).json()
    then_kpis = (await c.get("/tickets/analytics/overview", headers=h["analyst"])).json()
    then_field = (await c.get("/tickets", headers=h["field"])).json()
    instant = datetime.now(UTC).isoformat()

    later = await api.create_ticket(title="Later")  # after the instant: not on the board then
    r = await c.post(f"/tickets/{first[0]['id']}/status", json={"status": "in_progress"}, headers=h["field"])
    assert r.status_code in (200, 202), r.text
    assert (await c.get(f"/tickets/{first[0]['id']}", headers=h["analyst"])).json()["status"] == "in_progress"

    assert then_all["total"] == 3 and then_field["total"] == 1
    assert (await c.get("/tickets", params={"as_of": instant}, headers=h["analyst"])).json() == then_all
    assert (await c.get("/tickets", params={"as_of": instant, "limit": 2, "page": 2}, headers=h["analyst"])).json() == then_list
    assert (await c.get("/tickets", params={"as_of": instant}, headers=h["field"])).json() == then_field
    assert (await c.get("/tickets", params={"as_of": instant, "priority": "critical"}, headers=h["analyst"])).json()["total"] == 1
    assert (await c.get(f"/tickets/{first[0]['id']}", params={"as_of": instant}, headers=h["analyst"])).json() == then_one
    assert (await c.get(f"/tickets/{later['id']}", params={"as_of": instant}, headers=h["analyst"])).status_code == 404
    assert (await c.get("/tickets/analytics/overview", params={"as_of": instant}, headers=h["analyst"])).json() == then_kpis


async def test_plans_as_of_answer_what_they_were_then(api: Harness) -> None:
    c, h = api.client, api.headers
    t1, t2 = await api.create_ticket(title="Fibre cut"), await api.create_ticket(title="Copper fault")
    await _publish_plan(api, api.team_id, 1, [_visit(t1["id"], 1, 0), _visit(t2["id"], 2, 1)])
    then_all = (await c.get("/plans", params={"date": DAY}, headers=h["dispatcher"])).json()
    then_field = (await c.get("/plans", params={"date": DAY}, headers=h["field"])).json()
    then_team = (await c.get(f"/auth/teams/{api.team_id}/plan", params={"date": DAY}, headers=h["field"])).json()
    instant = datetime.now(UTC).isoformat()

    await _publish_plan(api, api.team_id, 2, [_visit(t2["id"], 1, 0)])  # a re-plan after the instant
    r = await c.post(f"/tickets/{t1['id']}/status", json={"status": "cancelled"}, headers=h["dispatcher"])
    assert r.status_code in (200, 202), r.text
    now_team = (await c.get(f"/auth/teams/{api.team_id}/plan", params={"date": DAY}, headers=h["field"])).json()
    assert now_team["revision"] == 2 and len(then_team["visits"]) == 2 and then_team["revision"] == 1

    as_of = {"date": DAY, "as_of": instant}
    assert (await c.get("/plans", params=as_of, headers=h["dispatcher"])).json() == then_all
    assert (await c.get("/plans", params=as_of, headers=h["field"])).json() == then_field
    assert (await c.get(f"/auth/teams/{api.team_id}/plan", params=as_of, headers=h["field"])).json() == then_team
    before = {"date": DAY, "as_of": "2020-01-01T00:00:00+00:00"}  # before the team existed
    assert (await c.get(f"/auth/teams/{api.team_id}/plan", params=before, headers=h["dispatcher"])).status_code == 404
    assert (await c.get("/plans", params=before, headers=h["dispatcher"])).json()["total"] == 0
    r = await c.get("/analytics/overview", params={"as_of": instant}, headers=h["analyst"])
    assert r.status_code == 200 and r.json()["today"] is None and r.json()["backlog"]["open"] >= 2, r.text


BAD = ["yesterday", "2026-01-01T00:00:00", "1999-12-31T00:00:00Z", "2026-13-01T00:00:00Z", "", "9999-01-01T00:00:00+00:00"]


async def test_bad_or_future_as_of_is_a_422(api: Harness) -> None:
    for as_of in BAD:
        for path in ("/tickets", "/tickets/1", "/tickets/analytics/overview", "/plans", "/auth/teams/1/plan", "/analytics/overview"):
            r = await api.client.get(path, params={"as_of": as_of}, headers=api.headers["analyst"])
            assert r.status_code == 422, (path, as_of, r.text)
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    r = await api.client.get("/tickets", params={"as_of": future}, headers=api.headers["analyst"])
    assert r.status_code == 422 and "future" in r.text
