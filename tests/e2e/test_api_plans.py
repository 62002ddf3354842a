"""Route endpoints over HTTP: plans with names, a team's own plan, ticket ETAs, positions, pins; roles, 404 and 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiff.events.plans import PlanUpdated
from aiff.events.teams import team_event
from tests.e2e.conftest import Harness
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e
DAY = "2026-11-23"


def _visit(ticket_id: int, sequence: int, hour: int) -> dict:
    start = datetime(2026, 11, 23, hour, tzinfo=UTC)
    return {"ticket_id": ticket_id, "sequence": sequence, "eta": start, "planned_start": start + timedelta(minutes=5),
            "planned_end": start + timedelta(minutes=50), "travel_minutes": 12, "travel_km": 8}  # fmt: skip


async def _publish_plan(api: Harness, team_id: int, revision: int, visits: list[dict]) -> None:
    event = team_event(PlanUpdated, {"team_id": team_id, "plan_date": DAY, "revision": revision, "strategy": "route",
                                     "visits": visits, "totals": {"drive_minutes": 42, "drive_km": 30}})  # fmt: skip
    await api.resources.publisher.publish(event)

    async def applied() -> bool:
        return await api.resources.pool.fetchval(
            "SELECT revision FROM plans WHERE team_id = $1 AND plan_date = $2::date", team_id, datetime.fromisoformat(DAY).date()
        ) == revision

    await wait_until(applied, timeout=20, what=f"plan revision {revision} of team {team_id}")


async def test_plans_etas_and_role_rules(api: Harness) -> None:
    c, h = api.client, api.headers
    other = await api.create_team(zone="Johor")
    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC).isoformat()  # before the second visit ends: late
    t1 = await api.create_ticket(title="Fibre cut at Jalan Ampang")
    t2 = await api.create_ticket(title="Copper fault at Klang", due_date=due)
    t3 = await api.create_ticket(title="Johor outage", zone="Johor")
    await _publish_plan(api, api.team_id, 1, [_visit(t1["id"], 1, 0), _visit(t2["id"], 2, 1)])
    await _publish_plan(api, other["id"], 1, [_visit(t3["id"], 1, 2)])

    r = await c.get("/plans", params={"date": DAY}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and {p["team_id"] for p in page["items"]} == {api.team_id, other["id"]}
    mine = next(p for p in page["items"] if p["team_id"] == api.team_id)
    assert mine["team_name"].startswith("Pasukan") and mine["drive_minutes"] == 42
    assert [(v["title"], v["sequence"]) for v in mine["visits"]] == [("Fibre cut at Jalan Ampang", 1), ("Copper fault at Klang", 2)]
    assert [v["on_time"] for v in mine["visits"]] == [True, False]
    r = await c.get("/plans", params={"date": DAY, "zone": "Johor"}, headers=h["dispatcher"])
    assert [p["team_id"] for p in r.json()["items"]] == [other["id"]]
    r = await c.get("/plans", params={"date": DAY, "limit": 1, "page": 2}, headers=h["dispatcher"])
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1 and r.json()["pages"] == 2
    assert (await c.get("/plans", params={"date": "2026-11-24"}, headers=h["dispatcher"])).json()["total"] == 0
    r = await c.get("/plans", params={"date": DAY}, headers=h["field"])  # field: only its own team
    assert [p["team_id"] for p in r.json()["items"]] == [api.team_id]
    assert (await c.get("/plans", params={"date": DAY, "team_id": other["id"]}, headers=h["field"])).status_code == 403
    for bad in ({"date": "2026-13-01"}, {"date": "1999-01-01"}, {"zone": "Atlantis"}, {"limit": 0}):
        r = await c.get("/plans", params=bad, headers=h["dispatcher"])
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (bad, r.text)
    assert (await c.get("/plans")).status_code == 401

    r = await c.get(f"/auth/teams/{api.team_id}/plan", params={"date": DAY}, headers=h["field"])
    assert r.status_code == 200 and len(r.json()["visits"]) == 2
    assert (await c.get(f"/auth/teams/{other['id']}/plan", params={"date": DAY}, headers=h["field"])).status_code == 403
    assert (await c.get(f"/auth/teams/{api.team_id}/plan", params={"date": "2026-11-25"}, headers=h["field"])).status_code == 404
    assert (await c.get("/auth/teams/2147483000/plan", params={"date": DAY}, headers=h["admin"])).status_code == 404

    r = await c.get(f"/tickets/{t2['id']}/eta", headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    eta = r.json()
    assert (eta["team_id"], eta["sequence"], eta["on_time"], eta["minutes_late"]) == (api.team_id, 2, False, 20.0)
    assert (await c.get(f"/tickets/{t2['id']}/eta", headers=h["field"])).status_code == 200
    assert (await c.get(f"/tickets/{t3['id']}/eta", headers=h["field"])).status_code == 403
    unplanned = await api.create_ticket(title="Not planned")
    r = await c.get(f"/tickets/{unplanned['id']}/eta", headers=h["dispatcher"])
    assert r.status_code == 404 and "no planned visit" in r.json()["error"]["message"]
    assert (await c.get("/tickets/99999999999/eta", headers=h["dispatcher"])).status_code == 404

    await _publish_plan(api, api.team_id, 2, [_visit(t2["id"], 1, 0)])  # a re-plan replaces the day
    r = await c.get(f"/auth/teams/{api.team_id}/plan", params={"date": DAY}, headers=h["dispatcher"])
    assert [v["ticket_id"] for v in r.json()["visits"]] == [t2["id"]] and r.json()["revision"] == 2


async def test_positions_by_role(api: Harness) -> None:
    c, h = api.client, api.headers
    other = await api.create_team()
    r = await c.post(f"/auth/teams/{api.team_id}/position", json={"latitude": 3.1, "longitude": 101.6, "accuracy_m": 8}, headers=h["field"])
    assert r.status_code in (201, 202), r.text
    if r.status_code == 201:
        assert (r.json()["team_id"], r.json()["source"], r.json()["accuracy_m"]) == (api.team_id, "field_portal", 8)
    assert (await c.post(f"/auth/teams/{other['id']}/position", json={"latitude": 3, "longitude": 101}, headers=h["field"])).status_code == 403
    for role in ("analyst", "user"):
        assert (await c.post(f"/auth/teams/{api.team_id}/position", json={"latitude": 3, "longitude": 101}, headers=h[role])).status_code == 403
    r = await c.post(f"/auth/teams/{other['id']}/position", json={"latitude": 3.2, "longitude": 101.7, "source": "tracker"}, headers=h["dispatcher"])
    assert r.status_code == 201 and r.json()["source"] == "tracker", r.text
    assert (await c.post("/auth/teams/2147483000/position", json={"latitude": 3, "longitude": 101}, headers=h["admin"])).status_code == 404
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for bad in ({"latitude": 91, "longitude": 101}, {"latitude": 3}, {"latitude": 3, "longitude": 101, "source": "satellite"},
                {"latitude": 3, "longitude": 101, "reported_at": "2026-11-23T09:00:00"},
                {"latitude": 3, "longitude": 101, "reported_at": future}):  # fmt: skip
        r = await c.post(f"/auth/teams/{api.team_id}/position", json=bad, headers=h["admin"])
        assert r.status_code == 422, (bad, r.text)


async def test_pin_unpin_windows_and_shifts(api: Harness) -> None:
    c, h = api.client, api.headers
    other = await api.create_team(shift_start="07:00", shift_end="16:00", working_days=["mon", "tue", "wed"], lunch_minutes=30)
    assert (other["shift_start"], other["working_days"], other["lunch_minutes"], other["max_overtime_minutes"]) == ("07:00", ["mon", "tue", "wed"], 30, 60)
    assert (await c.get(f"/auth/teams/{api.team_id}", headers=h["admin"])).json()["shift_end"] == "17:00"
    r = await c.put(f"/auth/teams/{other['id']}", json={"shift_end": "06:00"}, headers=h["admin"])
    assert r.status_code == 422 and "shift_end" in r.json()["error"]["message"]
    r = await c.post("/auth/teams", json={"name": "Bad shift", "zone": "Selangor", "shift_start": "25:00"}, headers=h["admin"])
    assert r.status_code == 422

    ticket = await api.create_ticket(window_start="2026-11-23T09:00:00+08:00", window_end="2026-11-23T12:00:00+08:00", service_minutes=40)
    assert ticket["service_minutes"] == 40 and ticket["window_end"] > ticket["window_start"]
    r = await c.post("/tickets", json={"title": "x", "zone": "Selangor", "window_start": "2026-11-23T12:00:00+08:00",
                                       "window_end": "2026-11-23T11:00:00+08:00"}, headers=h["dispatcher"])  # fmt: skip
    assert r.status_code == 422 and "window_end must be after window_start" in r.text
    r = await c.put(f"/tickets/{ticket['id']}", json={"window_end": "2026-11-23T08:00:00+08:00"}, headers=h["dispatcher"])
    assert r.status_code == 422 and "window_end" in r.json()["error"]["message"]
    r = await c.put(f"/tickets/{ticket['id']}", json={"service_minutes": 0}, headers=h["dispatcher"])
    assert r.status_code == 422

    tid = ticket["id"]
    assert (await c.post(f"/tickets/{tid}/pin", json={}, headers=h["field"])).status_code == 403
    assert (await c.post(f"/tickets/{tid}/unpin", headers=h["dispatcher"])).status_code == 409  # not pinned
    r = await c.post(f"/tickets/{tid}/pin", json={"team_id": other["id"], "sequence": 2, "plan_date": DAY}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    assert (r.json()["pinned"], r.json()["pinned_team"], r.json()["pinned_sequence"], r.json()["pinned_date"]) == (True, other["id"], 2, DAY)
    assert (await c.post(f"/tickets/{tid}/pin", json={"team_id": 2147483000}, headers=h["dispatcher"])).status_code == 404
    assert (await c.post(f"/tickets/{tid}/pin", json={"sequence": 0}, headers=h["dispatcher"])).status_code == 422
    assert (await c.post("/tickets/99999999999/pin", json={}, headers=h["dispatcher"])).status_code == 404
    r = await c.post(f"/tickets/{tid}/unpin", json={"reason": "customer rescheduled"}, headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["pinned"] is False and r.json()["pinned_team"] is None

    r = await c.post("/tickets/assign", json={"ticket_id": tid, "team_id": api.team_id}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    assert (r.json()["ticket"]["pinned"], r.json()["ticket"]["pinned_team"]) == (True, api.team_id)  # a manual assignment is a pin
    await c.put(f"/tickets/{tid}", json={"status": "cancelled"}, headers=h["dispatcher"])
    r = await c.post(f"/tickets/{tid}/pin", json={}, headers=h["dispatcher"])
    assert r.status_code == 409 and "cancelled" in r.json()["error"]["message"]
