"""AI on the real stack: enrichment events, the assistant's numbers, the OpenAI path and its fallback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aiff.ai.chat import chat
from aiff.consumers import ai as ai_consumer
from aiff.consumers import analytics as analytics_consumer
from aiff.consumers import projector as projector_consumer
from aiff.events.teams import TeamCreated, team_event
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged, ticket_event
from tests.helpers import running, wait_until

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def history() -> list:
    ev = [
        team_event(TeamCreated, {"team_id": 1, "name": "Pasukan Kinabalu", "zone": "Sabah", "skills": ["fiber", "power"], "capacity": 6, "latitude": 5.98, "longitude": 116.07}, time=NOW - timedelta(days=3)),
        team_event(TeamCreated, {"team_id": 2, "name": "Pasukan Tawau", "zone": "Sabah", "skills": ["fiber"], "capacity": 6, "latitude": 4.24, "longitude": 117.89}, time=NOW - timedelta(days=3)),
    ]
    priorities = ["critical", "critical", "high", "critical", "low", "medium", "critical", "high"]
    for i, p in enumerate(priorities):
        tid = 1000 + i
        at = NOW - timedelta(hours=30 - i)
        zone = "Sabah" if i % 4 != 3 else "Johor"
        ev.append(ticket_event(TicketCreated, {"ticket_id": tid, "ticket_number": f"TKT-2026-{tid:06d}", "title": f"Kabel fiber putus {i}", "description": "Tiada internet di Jalan Gaya", "priority": p, "zone": zone, "category": "fiber", "latitude": 5.98 + i * 0.1, "longitude": 116.07}, time=at))
    # 1000: assigned (still open); 1001: completed (not open); 1002: in progress
    ev += [
        ticket_event(TicketAssigned, {"ticket_id": 1000, "team_id": 1, "strategy": "optimal", "distance_km": 4.2, "score": 12.5, "breakdown": {"travel": 4.2, "sla_urgency": 6.0, "zone": 0.0, "performance": 2.3}}, time=NOW - timedelta(hours=20)),
        ticket_event(TicketAssigned, {"ticket_id": 1001, "team_id": 1, "strategy": "nearest", "distance_km": 1.0}, time=NOW - timedelta(hours=20)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1001, "status": "in_progress"}, time=NOW - timedelta(hours=19)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1001, "status": "completed", "customer_rating": 5}, time=NOW - timedelta(hours=18)),
        ticket_event(TicketAssigned, {"ticket_id": 1002, "team_id": 2, "strategy": "manual", "assigned_by": "dispatcher7", "reason": "knows the area"}, time=NOW - timedelta(hours=20)),
        ticket_event(TicketStatusChanged, {"ticket_id": 1002, "status": "in_progress"}, time=NOW - timedelta(hours=19)),
    ]  # fmt: skip
    return ev


async def sql_critical_open_sabah(pool) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM tickets WHERE zone = 'Sabah' AND priority = 'critical' AND status IN ('open', 'assigned', 'in_progress', 'reopened')"
    )


@pytest.fixture
async def loaded(resources):
    """The history projected, analysed and enriched (all three consumers run for the test's duration)."""
    await resources.publisher.publish_many(history())
    ai = ai_consumer.build(resources)
    async with running(projector_consumer.build(resources), analytics_consumer.build(resources), ai):
        pool = resources.pool

        async def projected():
            return await pool.fetchval("SELECT count(*) FROM tickets") == 8 and await pool.fetchval("SELECT count(*) FROM ticket_enrichments") == 8 \
                and await pool.fetchval("SELECT count(*) FROM assignments") == 3

        await wait_until(projected, timeout=60, what="history projected and enriched")
        yield resources, ai


async def test_enrichment_event_for_a_new_ticket(loaded):
    resources, _ = loaded
    pool = resources.pool
    new = ticket_event(
        TicketCreated,
        {"ticket_id": 2000, "title": "Kabel fiber putus 1", "description": "Tiada internet di Jalan Gaya. Segera, hospital terjejas",
         "priority": "critical", "zone": "Sabah", "latitude": 6.08, "longitude": 116.07},
    )  # fmt: skip
    await resources.publisher.publish(new)

    async def enriched():
        return await pool.fetchrow("SELECT * FROM event_history WHERE type = 'aiff.ticket.enriched.v1' AND entity_id = '2000'")

    row = await wait_until(enriched, timeout=60, what="TicketEnriched for ticket 2000 projected")
    data = json.loads(row["event"])["data"]
    assert data["suggested_category"] in ("fiber", "copper", "wireless", "power", "installation", "equipment")
    assert {"segera", "hospital"} <= set(data["urgency_cues"])
    assert 0 <= data["sla_risk"] <= 1
    assert 1001 not in data.get("duplicate_of", [])  # completed tickets are not duplicates
    stored = await pool.fetchrow("SELECT * FROM ticket_enrichments WHERE ticket_id = 2000")
    assert stored["model_version"] == data["model_version"]
    # Ticket 1000 has the same text and is open, but 11 km away (5.98 vs 6.08 N): not a duplicate.
    assert 1000 not in stored["duplicate_of"]


async def test_duplicates_found_nearby(loaded):
    resources, _ = loaded
    pool = resources.pool
    dup = ticket_event(
        TicketCreated,
        {"ticket_id": 2001, "title": "Kabel fiber putus 0", "description": "Tiada internet di Jalan Gaya", "priority": "high",
         "zone": "Sabah", "category": "fiber", "latitude": 5.985, "longitude": 116.072},
    )  # fmt: skip
    await resources.publisher.publish(dup)

    async def stored():
        return await pool.fetchrow("SELECT * FROM ticket_enrichments WHERE ticket_id = 2001")

    row = await wait_until(stored, timeout=60, what="enrichment of 2001")
    assert list(row["duplicate_of"]) == [1000]


async def test_a_repeated_creation_in_one_batch_is_enriched_once(loaded):
    """Upstream may send a creation twice; the consumer keeps the first (like the projector) and goes on."""
    resources, _ = loaded
    pool = resources.pool

    def created(ticket_id: int, title: str):
        return ticket_event(TicketCreated, {"ticket_id": ticket_id, "title": title, "priority": "medium", "zone": "Sabah",
                                            "latitude": 5.5, "longitude": 116.5})  # fmt: skip

    await resources.publisher.publish_many([created(2002, "Tiang roboh"), created(2002, "Tiang roboh (again)"), created(2003, "Lampu padam")])

    async def enrichments_projected():
        return await pool.fetchval(
            "SELECT count(DISTINCT entity_id) FROM event_history WHERE type = 'aiff.ticket.enriched.v1' AND entity_id IN ('2002', '2003')"
        ) == 2

    await wait_until(enrichments_projected, timeout=60, what="TicketEnriched of 2002 and 2003 projected")
    assert await pool.fetchval("SELECT count(*) FROM ticket_enrichments WHERE ticket_id IN (2002, 2003)") == 2
    titles = await pool.fetchval("SELECT count(*) FROM event_history WHERE type = 'aiff.ticket.enriched.v1' AND entity_id = '2002'")
    assert titles == 1


async def test_chat_counts_match_sql_in_english_and_malay(loaded):
    resources, _ = loaded
    pool = resources.pool
    expected = await sql_critical_open_sabah(pool)
    assert expected == 2  # 1000 assigned + 1004 open (1001 completed, 1003/1007 in Johor... by construction)
    en = await chat(pool, resources.settings, "how many critical tickets are open in Sabah?", {"conversation_id": "c1"})
    assert en["engine"] == "local" and en["data"]["count"] == expected
    assert f"{expected} critical open tickets in Sabah" in en["response"]
    assert en["context"]["conversation_id"] == "c1" and en["context"]["timestamp"]
    ms = await chat(pool, resources.settings, "berapa tiket kritikal terbuka di Sabah?")
    assert ms["data"]["count"] == expected and ms["response"].startswith(f"Ada {expected} tiket kritikal terbuka di Sabah")


async def test_chat_explains_assignment_and_top_team_and_forecast(loaded):
    resources, _ = loaded
    pool = resources.pool
    why = await chat(pool, resources.settings, "why was TKT-2026-001000 given to team 1?")
    a = why["data"]["assignment"]
    assert a["strategy"] == "optimal" and a["distance_km"] == 4.2 and a["breakdown"]["sla_urgency"] == 6.0
    assert "optimal" in why["response"] and "4.2 km" in why["response"]
    kenapa = await chat(pool, resources.settings, "kenapa TKT-2026-001002 diberi kepada pasukan 2?")
    assert "dispatcher7" in kenapa["response"] and kenapa["data"]["assignment"]["team_id"] == 2

    async def top():
        r = await chat(pool, resources.settings, "which team in Sabah met the most SLAs this week?")
        return r if r["data"]["teams"] else None

    best = await wait_until(top, timeout=30, what="team stats")
    top_team = best["data"]["teams"][0]
    # 1001 (critical, 4 h SLA) was completed 11 h after creation: done, but late.
    assert (top_team["team_id"], top_team["completed"], top_team["sla_met"], top_team["sla_missed"]) == (1, 1, 0, 1)

    fc = await chat(pool, resources.settings, "what will Sabah's load be next week?")
    assert fc["data"]["zone"] == "Sabah" and len(fc["data"]["daily"]) == 7

    sug = await chat(pool, resources.settings, "who should take TKT-2026-001004?", role="dispatcher")
    assert sug["proposed_action"]["type"] == "assign" and sug["proposed_action"]["ticket_id"] == 1004
    assert sug["proposed_action"]["team_id"] == 1  # nearest available fiber team


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def fake_openai(fail: bool = False, tool: str = "count_tickets", args: dict | None = None, say=None):
    """A tiny OpenAI-compatible server: first a tool call (count_tickets), then a final answer quoting it."""
    args = {"zone": "Sabah", "priority": "critical", "status": "open"} if args is None else args
    say = say or (lambda result: f"There are {result['count']} open critical tickets in Sabah.")
    app = FastAPI()
    calls: list[dict] = []

    @app.post("/v1/chat/completions")
    async def completions(request: Request):
        body = await request.json()
        calls.append(body)
        if fail:
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, status_code=500)
        base = {"id": f"cmpl-{len(calls)}", "object": "chat.completion", "created": 0, "model": body["model"]}
        tool_msgs = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool_msgs:
            message = {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": say(json.loads(tool_msgs[-1]["content"]))}
            finish = "stop"
        return {**base, "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1", calls
    finally:
        server.should_exit = True
        await task


async def test_openai_path_with_tools_and_fallback(loaded):
    resources, _ = loaded
    pool = resources.pool
    expected = await sql_critical_open_sabah(pool)
    async with fake_openai() as (url, calls):
        settings = resources.settings.model_copy(update={"openai_api_key": "test-key", "openai_base_url": url, "openai_timeout_s": 5})
        out = await chat(pool, settings, "how many critical tickets are open in Sabah?")
    assert out["engine"] == "openai"
    assert out["response"] == f"There are {expected} open critical tickets in Sabah."
    assert out["data"]["count_tickets"]["count"] == expected
    assert len(calls) == 2 and calls[0]["tools"] and calls[1]["messages"][-1]["role"] == "tool"

    async with fake_openai(fail=True) as (url, calls):
        settings = resources.settings.model_copy(update={"openai_api_key": "test-key", "openai_base_url": url, "openai_timeout_s": 5})
        out = await chat(pool, settings, "how many critical tickets are open in Sabah?")
    assert out["engine"] == "local" and "500" in out["fallback_reason"]
    assert out["data"]["count"] == expected and len(calls) == 1


async def test_openai_path_offers_the_assistant_tools(loaded):
    """The model is offered the new tools (rankings, a ticket, what-if, ...) and its answer rests on their data."""
    resources, _ = loaded
    pool = resources.pool
    top = await pool.fetchrow("SELECT zone, count(*) AS n FROM tickets WHERE status IN ('open','assigned','in_progress','reopened') GROUP BY zone ORDER BY n DESC, zone LIMIT 1")
    say = lambda r: f"{r['zones'][0]['zone']} has the largest backlog: {r['zones'][0]['value']}."  # noqa: E731
    async with fake_openai(tool="rank_zones", args={"metric": "backlog"}, say=say) as (url, calls):
        settings = resources.settings.model_copy(update={"openai_api_key": "test-key", "openai_base_url": url, "openai_timeout_s": 5})
        out = await chat(pool, settings, "zon mana paling banyak tiket tertunggak?")
    names = {t["function"]["name"] for t in calls[0]["tools"]}
    assert {"count_tickets", "list_tickets", "rank_zones", "rank_teams", "ticket_detail", "ticket_eta", "team_day", "what_if_offline"} <= names
    assert out["engine"] == "openai" and out["response"] == f"{top['zone']} has the largest backlog: {top['n']}."
    assert out["table"]["rows"][0] == [top["zone"], top["n"]]
    async with fake_openai(tool="ticket_detail", args={"ticket": "TKT-2026-001000"}, say=lambda r: str(r["found"])) as (url, _calls):
        settings = resources.settings.model_copy(update={"openai_api_key": "test-key", "openai_base_url": url, "openai_timeout_s": 5})
        out = await chat(pool, settings, "show TKT-2026-001000", role="field", scope_team=2)
    assert out["data"]["ticket_detail"]["found"] is False  # a field user's model sees only its team's tickets
