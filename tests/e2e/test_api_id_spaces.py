"""Issue 11 item 5: an acknowledged creation is never lost and never shadows another. Upstream publishers and the
API allocate ticket ids from disjoint ranges, so the race that used to hand out an upstream's id cannot happen."""

from __future__ import annotations

import asyncio

import pytest

from aiff.ids import API_TICKET_IDS, UPSTREAM_TICKET_IDS
from tests.e2e.conftest import Harness
from tests.helpers import wait_until
from tests.integration.upstream import Upstream, ticket_created

pytestmark = pytest.mark.e2e

TICKET = {"title": "Race drill", "priority": "high", "zone": "Selangor", "category": "fiber"}


async def test_api_and_upstream_creations_racing_never_collide(api: Harness) -> None:
    """Upstream creations wait in Kafka (the projector has not applied them) while the API creates tickets: every
    creation of both sides ends up as its own ticket. With one shared id space, the API's ids collided with the
    pending upstream ids (the old allocator only moved past ids the projector had already applied)."""
    t = api.resources.topics
    dispatcher = api.headers["dispatcher"]
    upstream_ids = list(range(1, 41))  # the ids an allocator starting from the projected maximum would hand out

    async def api_creations() -> list[int]:
        answers = await asyncio.gather(*(api.client.post("/tickets", json=TICKET, headers=dispatcher) for _ in range(20)))
        assert all(a.status_code in (201, 202) for a in answers), [a.text for a in answers]
        return [a.json()["id"] if a.status_code == 201 else int(a.headers["location"].rsplit("/", 1)[1]) for a in answers]

    async with Upstream(api.settings.kafka_bootstrap_servers) as up:
        publishing = asyncio.create_task(up.send(t.tickets, [ticket_created(i) for i in upstream_ids], key=None))
        api_ids = await api_creations()
        await publishing

    assert len(set(api_ids)) == len(api_ids)
    assert all(i in API_TICKET_IDS for i in api_ids) and all(i in UPSTREAM_TICKET_IDS for i in upstream_ids)
    wanted = set(api_ids) | set(upstream_ids)

    async def all_there() -> bool:
        rows = await api.resources.pool.fetch("SELECT id, title FROM tickets WHERE id = ANY($1::bigint[])", list(wanted))
        return len(rows) == len(wanted) and rows

    rows = await wait_until(all_there, timeout=30, what="every API and upstream creation projected")
    titles = {r["id"]: r["title"] for r in rows}
    assert all(titles[i] == "Race drill" for i in api_ids)  # nobody else's ticket behind an API id
    assert all(titles[i] == f"Fiber cut {i}" for i in upstream_ids)


async def test_an_upstream_creation_in_the_apis_range_is_dead_lettered_with_the_reason(api: Harness) -> None:
    t = api.resources.topics
    reserved = API_TICKET_IDS.start + 123
    async with Upstream(api.settings.kafka_bootstrap_servers) as up:
        await up.send(t.tickets, [ticket_created(reserved), ticket_created(77)], key=None)

    async def projected() -> bool:
        return await api.resources.pool.fetchval("SELECT count(*) FROM tickets WHERE id = 77") == 1

    await wait_until(projected, timeout=30, what="the valid upstream creation")
    assert await api.resources.pool.fetchval("SELECT count(*) FROM tickets WHERE id = $1", reserved) == 0
    r = await api.client.post("/tickets", json=TICKET, headers=api.headers["dispatcher"])
    assert r.status_code == 201 and r.json()["id"] != reserved
