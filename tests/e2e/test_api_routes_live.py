"""The routes strategy through the API: why a ticket has its team and slot, why another is unassigned, a dispatcher's
move landing at its position, a manual assignment that is a pin, and a ticket planned on a later day of the horizon."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from aiff.consumers import assignment
from aiff.dispatch.inputs import MALAYSIA
from aiff.settings import Settings
from tests.e2e.conftest import Harness, running_api
from tests.helpers import wait_until
from tests.integration.test_assignment_routes import roomy_shift, short_shift

pytestmark = pytest.mark.e2e


@contextlib.asynccontextmanager
async def routes_api(settings: Settings) -> AsyncIterator[Harness]:
    settings = settings.model_copy(update={
        "assignment_strategy": "routes", "assignment_route_seconds": 0.1, "assignment_full_replan_interval_s": 0,
    })  # fmt: skip
    async with running_api(settings) as api:
        stop = asyncio.Event()
        engine = assignment.build(api.resources)
        task = asyncio.create_task(engine.run(stop))
        try:
            await asyncio.wait_for(engine.ready.wait(), 30)
            yield api
        finally:
            stop.set()
            await task


async def _ticket(api: Harness, ticket_id: int) -> dict:
    return (await api.client.get(f"/tickets/{ticket_id}", headers=api.headers["dispatcher"])).json()


async def test_explanations_moves_and_manual_pins_through_the_api(settings: Settings, record_property) -> None:  # noqa: ANN001
    async with routes_api(settings) as api:
        c, h = api.client, api.headers["dispatcher"]
        r = await c.put(f"/auth/teams/{api.team_id}", json=roomy_shift(), headers=api.headers["admin"])
        assert r.status_code == 200, r.text
        other = await api.create_team(latitude=3.30, longitude=101.60, capacity=3, **roomy_shift())  # ~30 km from the tickets
        started = time.monotonic()
        near = await api.create_ticket(latitude=3.071, longitude=101.521)

        async def assigned(ticket_id: int, team_id: int | None = None):  # noqa: ANN202
            t = await _ticket(api, ticket_id)
            return t if t["status"] == "assigned" and (team_id is None or t["assigned_team"] == team_id) else None

        body = await wait_until(lambda: assigned(near["id"]), timeout=15, interval=0.02, what="the engine to plan the ticket")
        record_property("seconds_to_planned_assignment", round(time.monotonic() - started, 3))  # a figure, not an assertion
        assert body["assigned_team"] == api.team_id

        r = await c.get(f"/tickets/{near['id']}/assignment", headers=h)
        assert r.status_code == 200, r.text
        why = r.json()
        assert why["assigned"] is True and why["strategy"] == "routes" and why["sequence"] == 1 and why["eta"]
        slot = why["planned"]
        assert slot["team_id"] == api.team_id and slot["sequence"] == 1
        terms = slot["explanation"]
        assert terms["churn"] == "new" and terms["lateness_minutes"] == 0 and terms["priority"] == "high"
        assert terms["next_best_team_id"] == other["id"] and terms["next_best_travel_minutes"] > terms["travel_minutes"]
        assert "min drive" in terms["summary"]

        # no team has the skill: unassigned, and the binding reason says so
        odd = await api.create_ticket(category="power", latitude=3.07, longitude=101.52)

        async def unserved():  # noqa: ANN202
            r = await c.get(f"/tickets/{odd['id']}/assignment", headers=h)
            return r.json() if r.status_code == 200 else None

        why = await wait_until(unserved, timeout=15, what="the deferral of the power ticket")
        assert why["assigned"] is False and why["status"] == "open"
        assert why["unserved"]["code"] == "no_team_with_skill" and "power" in why["unserved"]["reason"]

        # a dispatcher moves the ticket to the far team, first in its day
        r = await c.post(f"/tickets/{near['id']}/move", json={"team_id": other["id"], "position": 1}, headers=h)
        assert r.status_code in (200, 202), r.text
        await wait_until(lambda: assigned(near["id"], other["id"]), timeout=15, what="the move to land")
        eta = (await c.get(f"/tickets/{near['id']}/eta", headers=h)).json()
        assert (eta["team_id"], eta["sequence"], eta["pinned"]) == (other["id"], 1, True)
        why = (await c.get(f"/tickets/{near['id']}/assignment", headers=h)).json()
        assert why["planned"]["explanation"]["churn"] == "pinned" and "moved here by a dispatcher" in why["planned"]["explanation"]["summary"]

        # bad moves: unknown team 404, position 0 422, a finished ticket 409; the field role may not move
        assert (await c.post(f"/tickets/{near['id']}/move", json={"team_id": 999_999, "position": 1}, headers=h)).status_code == 404
        assert (await c.post(f"/tickets/{near['id']}/move", json={"team_id": other["id"], "position": 0}, headers=h)).status_code == 422
        assert (await c.post(f"/tickets/{near['id']}/move", json={"team_id": other["id"], "position": 1},
                             headers=api.headers["field"])).status_code == 403  # fmt: skip
        assert (await c.post("/tickets/999999/move", json={"team_id": other["id"], "position": 1}, headers=h)).status_code == 404

        # a manual assignment is a pin: the engine keeps the ticket with that team
        third = await api.create_ticket(latitude=3.072, longitude=101.522)
        planned = await wait_until(lambda: assigned(third["id"]), timeout=15, what="the third ticket to be planned")
        target = api.team_id if planned["assigned_team"] == other["id"] else other["id"]
        r = await c.post("/tickets/assign", json={"ticket_id": third["id"], "team_id": target}, headers=h)
        assert r.status_code in (200, 202), r.text
        body = await wait_until(lambda: assigned(third["id"], target), timeout=15, what="the manual assignment")
        assert body["pinned"] is True and body["pinned_team"] == target
        types = [e["type"] for e in (await c.get(f"/tickets/{third['id']}/history", headers=h)).json()]
        assert "aiff.ticket.pinned.v1" in types
        await api.create_ticket(latitude=3.073, longitude=101.523)  # another re-plan of the zone
        await wait_until(lambda: assigned(third["id"], target), timeout=15, what="the pin to hold")
        slot = (await c.get(f"/tickets/{third['id']}/assignment", headers=h)).json()
        assert slot["strategy"] == "manual" and slot["frozen"] is True


async def test_a_ticket_planned_on_a_later_day_shows_that_day_through_the_api(settings: Settings) -> None:
    now = datetime.now(MALAYSIA)
    if not 1 <= now.hour < 21:
        pytest.skip("the test's shift (now - 1 h to now + 2 h) would cross midnight in Malaysia time")
    skipped, expected = now.date() + timedelta(days=1), now.date() + timedelta(days=2)
    async with routes_api(settings) as api:
        c, h = api.client, api.headers["dispatcher"]
        r = await c.put(f"/auth/teams/{api.team_id}", json=short_shift(skipped), headers=api.headers["admin"])
        assert r.status_code == 200, r.text
        due = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
        made = [await api.create_ticket(latitude=3.071, longitude=101.521, due_date=due) for _ in range(2)]

        async def later_one():  # noqa: ANN202 - the ticket planned on a later day, once the engine has planned both
            for t in made:
                eta = await c.get(f"/tickets/{t['id']}/eta", headers=h)
                if eta.status_code == 200 and eta.json()["plan_date"] == expected.isoformat():
                    return eta.json()
            return None

        eta = await wait_until(later_one, timeout=15, what="a ticket planned on the next working day")
        assert eta["team_id"] == api.team_id and eta["status"] == "open" and eta["on_time"] is False and eta["minutes_late"] > 0
        why = (await c.get(f"/tickets/{eta['ticket_id']}/assignment", headers=h)).json()
        assert why["assigned"] is False and why["unserved"]["code"] == "planned_later" and expected.isoformat() in why["unserved"]["reason"]
        assert why["planned"]["plan_date"] == expected.isoformat() and why["planned"]["eta"] and why["planned"]["team_id"] == api.team_id
        day = (await c.get("/plans", params={"date": expected.isoformat()}, headers=h)).json()
        assert [v["ticket_id"] for p in day["items"] for v in p["visits"]] == [eta["ticket_id"]]
        assert (await c.get("/plans", params={"date": skipped.isoformat()}, headers=h)).json()["total"] == 0
