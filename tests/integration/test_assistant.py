"""The NRO-Bots assistant over demo read models: tools against SQL, a benchmark sample, follow-ups, field scoping,
and actions that need a confirmation and the right role (over HTTP, published through the API's commands)."""

from __future__ import annotations

import importlib.util
import pathlib
import uuid

import pytest

from aiff.ai.chat import chat
from aiff.assistant import tools
from aiff.assistant.dates import MYT, named_range
from aiff.assistant.demo_db import load_demo
from aiff.assistant.state import ConversationStore
from tests.e2e.conftest import running_api
from tests.helpers import wait_until
from tests.integration.test_ai_assistant import history

pytestmark = pytest.mark.integration
OPEN = "('open','assigned','in_progress','reopened')"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_assistant", pathlib.Path(__file__).parents[2] / "bench" / "assistant.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
async def demo(resources):
    async with resources.pool.acquire() as conn:
        await load_demo(conn, seed=5, teams=30, tickets=900, days=40)
    return resources


async def test_tools_match_sql(demo):
    pool = demo.pool
    for zone, pri in (("Selangor", "critical"), ("Johor", None), (None, "high")):
        got = await tools.count_tickets(pool, zone=zone, priority=pri)
        want = await pool.fetchval(f"SELECT count(*) FROM tickets WHERE ($1::text IS NULL OR zone=$1) AND ($2::text IS NULL OR priority=$2) AND status IN {OPEN}", zone, pri)
        assert got["count"] == want
    week = named_range("this_week")
    got = await tools.count_tickets(pool, status=None, range=week)
    assert got["count"] == await pool.fetchval("SELECT count(*) FROM tickets WHERE created_at >= $1 AND created_at < $2", week.start, week.end)
    zones = await tools.rank_zones(pool, "backlog")
    top = await pool.fetchrow(f"SELECT zone, count(*) AS n FROM tickets WHERE status IN {OPEN} GROUP BY zone ORDER BY n DESC, zone LIMIT 1")
    assert (zones["zones"][0]["zone"], zones["zones"][0]["value"]) == (top["zone"], top["n"])
    month = named_range("last_30_days")
    teams = await tools.rank_teams(pool, "completed", range=month)
    best = await pool.fetchrow(
        "SELECT assigned_team, count(*) AS n FROM tickets WHERE status IN ('completed','closed') AND completed_at >= $1 AND completed_at < $2 GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1",
        month.start, month.end)  # fmt: skip
    assert (teams["teams"][0]["team_id"], teams["teams"][0]["completed"]) == (best["assigned_team"], best["n"])
    sla = await tools.sla_summary(pool, zone="Selangor", range=month)
    want = await pool.fetchrow(
        """SELECT count(*) AS n, count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date) AS met FROM tickets
           WHERE zone = 'Selangor' AND status IN ('completed','closed') AND completed_at >= $1 AND completed_at < $2""", month.start, month.end)  # fmt: skip
    assert (sla["completed"], sla["sla_met"]) == (want["n"], want["met"])
    listed = await tools.list_tickets(pool, zone="Johor", status="unassigned", limit=3)
    rows = await pool.fetch("SELECT ticket_number FROM tickets WHERE zone='Johor' AND status IN ('open','reopened') ORDER BY CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, due_date NULLS LAST, id LIMIT 3")
    assert listed["ticket_numbers"] == [r[0] for r in rows]
    cap = await tools.capacity(pool, zone="Johor")
    assert cap["capacity"] == await pool.fetchval("SELECT coalesce(sum(capacity), 0) FROM teams WHERE zone='Johor' AND is_active AND status IN ('available','busy')")
    team = best["assigned_team"]
    scoped = await tools.count_tickets(pool, scope_team=team)
    assert scoped["count"] == await pool.fetchval(f"SELECT count(*) FROM tickets WHERE assigned_team=$1 AND status IN {OPEN}", team)
    other = await pool.fetchval("SELECT ticket_number FROM tickets WHERE assigned_team <> $1 LIMIT 1", team)
    assert (await tools.ticket_detail(pool, other, scope_team=team))["found"] is False
    before = await pool.fetchval("SELECT count(*) FROM event_history")
    sim = await tools.what_if_offline(pool, team)
    assert sim["affected"] == await pool.fetchval("SELECT count(*) FROM tickets WHERE assigned_team=$1 AND status IN ('assigned','in_progress')", team)
    assert await pool.fetchval("SELECT count(*) FROM event_history") == before  # a dry run changes nothing
    zone = await pool.fetchval("SELECT zone FROM teams WHERE id = $1", team)
    for m in sim["moves"]:  # re-planned onto another working team of the zone, or unserved with a reason
        assert (m["to_team_id"] is None) == (m["unserved_reason"] is not None) and m["to_team_id"] != team
        if m["to_team_id"] is not None:
            assert await pool.fetchval("SELECT zone FROM teams WHERE id = $1", m["to_team_id"]) == zone


async def test_benchmark_sample_is_at_least_95_percent(demo):
    bench = _bench()
    async with demo.pool.acquire() as conn:
        questions = bench.make_questions(await bench.sample_rows(conn), 1, seed=3)
    result = await bench.score(demo.pool, questions)
    assert len(questions) >= 70 and sum(q["lang"] == "ms" for q in questions) >= 30
    assert result["accuracy"] >= 0.95, [(r["text"], r["expected"], r["reply"]) for r in result["results"] if not r["ok"]]


async def test_follow_ups_keep_context(demo):
    pool, s = demo.pool, demo.settings
    store, cid = ConversationStore(demo.redis), uuid.uuid4().hex
    ask = lambda m: chat(pool, s, m, {"conversation_id": cid}, store=store, user="u1", role="dispatcher")  # noqa: E731
    first = await ask("how many tickets are open in Selangor?")
    assert first["data"]["count"] == await pool.fetchval(f"SELECT count(*) FROM tickets WHERE zone='Selangor' AND status IN {OPEN}")
    johor = await ask("and in Johor?")
    assert johor["follow_up"] and johor["data"]["count"] == await pool.fetchval(f"SELECT count(*) FROM tickets WHERE zone='Johor' AND status IN {OPEN}")
    crit = await ask("only critical ones")
    assert crit["data"]["count"] == await pool.fetchval(f"SELECT count(*) FROM tickets WHERE zone='Johor' AND priority='critical' AND status IN {OPEN}")
    listed = await ask("senaraikan")
    second = await ask("the second one")
    if len(listed["data"]["ticket_numbers"]) >= 2:
        assert second["intent"] == "ticket_detail" and second["data"]["ticket"]["ticket_number"] == listed["data"]["ticket_numbers"][1]
    other = await chat(pool, s, "and in Johor?", {"conversation_id": cid}, store=store, user="someone-else", role="dispatcher")
    assert not other.get("follow_up")  # state is per user and conversation
    unknown = await ask("book me a flight to London")
    assert "count and list tickets" in unknown["response"] and unknown["suggestions"]
    assert first["table"] is not None and first["ids"]["tickets"]


async def test_action_needs_confirmation_and_role(settings):
    async with running_api(settings) as h:
        await h.resources.publisher.publish_many(history())
        pool, c = h.resources.pool, h.client
        await wait_until(lambda: pool.fetchval("SELECT count(*) = 8 FROM tickets"), timeout=60, what="history projected")
        msg = "assign TKT-2026-001004 to team 2"
        denied = (await c.post("/ai/chat", json={"message": msg, "context": {"conversation_id": "a1"}}, headers=h.headers["analyst"])).json()
        assert denied["proposed_action"] is None and "may not" in denied["response"]
        yes = (await c.post("/ai/chat", json={"message": "yes", "context": {"conversation_id": "a1"}}, headers=h.headers["analyst"])).json()
        assert yes["intent"] != "confirm_action"
        r = await c.post("/ai/chat", json={"message": msg, "context": {"conversation_id": "d1"}}, headers=h.headers["dispatcher"])
        body = r.json()
        assert r.status_code == 200 and body["proposed_action"]["team_id"] == 2 and body["proposed_action"]["ticket_id"] == 1004
        assert await pool.fetchval("SELECT assigned_team FROM tickets WHERE id = 1004") is None  # nothing happens before the yes
        done = (await c.post("/ai/chat", json={"message": "ya", "context": {"conversation_id": "d1"}}, headers=h.headers["dispatcher"])).json()
        assert done["intent"] == "confirm_action" and done["data"]["executed"], done
        row = await pool.fetchrow("SELECT a.strategy, a.assigned_by, t.assigned_team FROM tickets t JOIN assignments a ON a.ticket_id = t.id WHERE t.id = 1004")
        assert row["assigned_team"] == 2 and row["strategy"] == "manual"  # the same TicketAssigned as POST /tickets/assign
        field = (await c.post("/ai/chat", json={"message": "show TKT-2026-001000"}, headers=h.headers["field"])).json()
        assert field["data"]["found"] is False  # not the field user's team's ticket

        async def say(text: str, cid: str, who: str = "dispatcher") -> dict:
            r = await c.post("/ai/chat", json={"message": text, "context": {"conversation_id": cid}}, headers=h.headers[who])
            assert r.status_code == 200, r.text
            return r.json()

        assert (await say("tukar status TKT-2026-001002 kepada selesai", "d2"))["proposed_action"]["status"] == "completed"
        assert (await say("tidak", "d2"))["data"]["executed"] is False  # cancelled: nothing published
        assert await pool.fetchval("SELECT status FROM tickets WHERE id = 1002") == "in_progress"
        assert (await say("mark TKT-2026-001002 as completed", "d3"))["proposed_action"]["type"] == "status"
        assert (await say("yes", "d3"))["data"]["executed"]
        assert await pool.fetchval("SELECT status FROM tickets WHERE id = 1002") == "completed"
        # An unassigned ticket: main's projector dead-letters a pin of an assigned ticket ("unknown team"), see the report.
        assert (await say("pin TKT-2026-001005", "d4"))["proposed_action"]["type"] == "pin"
        assert (await say("ok", "d4"))["data"]["executed"]
        await wait_until(lambda: pool.fetchval("SELECT pinned FROM tickets WHERE id = 1005"), timeout=20, what="ticket 1005 pinned")
        key = ConversationStore.key(None, "d4")
        assert await h.resources.redis.ttl(key.replace("anon", str(await pool.fetchval("SELECT id FROM users WHERE role = 'dispatcher' ORDER BY id LIMIT 1")))) > 0


async def test_eta_and_team_day_from_the_plans_read_model(demo):
    """With a plan in the read model, "when will the team reach TKT-…" and "what is <team name> doing today" answer
    from it (the same query as GET /tickets/{id}/eta)."""
    from datetime import UTC, datetime, timedelta

    from aiff.api.routers.plans import today

    pool, s = demo.pool, demo.settings
    t = await pool.fetchrow("SELECT id, ticket_number, assigned_team FROM tickets WHERE status = 'assigned' ORDER BY id LIMIT 1")
    team = await pool.fetchrow("SELECT id, name FROM teams WHERE id = $1", t["assigned_team"])
    eta = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    await pool.execute(
        "INSERT INTO plans (team_id, plan_date, revision, strategy, updated_at, event_id) VALUES ($1, $2, 3, 'routes', now(), $3)",
        team["id"], today(), uuid.uuid4())  # fmt: skip
    await pool.execute(
        """INSERT INTO plan_visits (team_id, plan_date, ticket_id, sequence, eta, planned_start, planned_end)
           VALUES ($1, $2, $3, 2, $4, $4, $5)""", team["id"], today(), t["id"], eta, eta + timedelta(minutes=45))  # fmt: skip
    out = await chat(pool, s, f"when will the team reach {t['ticket_number']}?", role="dispatcher")
    assert out["intent"] == "ticket_eta" and out["data"]["visit"]["team_id"] == team["id"] and out["data"]["visit"]["sequence"] == 2
    assert f"{eta.astimezone(MYT):%Y-%m-%d %H:%M} MYT" in out["response"] and out["ids"]["teams"] == [team["id"]]  # Malaysian time
    short = team["name"].split(" – ")[0]
    day = await chat(pool, s, f"apa {short} buat hari ni?", role="dispatcher")
    assert day["intent"] == "team_day" and day["data"]["team"]["id"] == team["id"] and t["ticket_number"] in day["response"]
