"""The API answers a status change the ticket's state no longer allows with 409 before publishing anything: two
cancels racing each other publish one cancellation, and a cancel of a cancelled ticket publishes none."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.conftest import Harness
from tests.integration.test_stale_decisions import _log

STATUS_CHANGED = "aiff.ticket.status_changed.v1"


async def _status_changes(api: Harness, ticket_id: int) -> list[str]:
    """The statuses published for the ticket, read from the tickets topic itself."""
    events = [json.loads(r.value) for r in await _log(api.resources, api.resources.topics.tickets)]
    return [e["data"]["status"] for e in events if e["type"] == STATUS_CHANGED and e["data"]["ticket_id"] == ticket_id]


async def test_racing_cancels_publish_one_cancellation(api: Harness) -> None:
    c, h = api.client, api.headers
    ticket = await api.create_ticket()
    cancel = {"status": "cancelled", "notes": "customer withdrew"}
    answers = await asyncio.gather(*(c.post(f"/tickets/{ticket['id']}/status", json=cancel, headers=h["dispatcher"]) for _ in range(2)))
    assert sorted(r.status_code for r in answers) == [200, 409]
    refused = next(r for r in answers if r.status_code == 409).json()
    assert refused["error"]["code"] == "conflict" and refused["error"]["message"] == f"ticket {ticket['id']} is already cancelled"
    assert await _status_changes(api, ticket["id"]) == ["cancelled"]
    assert await _log(api.resources, api.resources.topics.dead_letters) == []


async def test_a_cancel_of_a_cancelled_ticket_is_409_and_publishes_nothing(api: Harness) -> None:
    c, h = api.client, api.headers
    ticket = await api.create_ticket()
    path = f"/tickets/{ticket['id']}/status"
    assert (await c.post(path, json={"status": "cancelled"}, headers=h["dispatcher"])).status_code == 200
    r = await c.post(path, json={"status": "cancelled"}, headers=h["dispatcher"])
    assert r.status_code == 409 and r.json()["error"]["message"] == f"ticket {ticket['id']} is already cancelled"
    assert await _status_changes(api, ticket["id"]) == ["cancelled"]
