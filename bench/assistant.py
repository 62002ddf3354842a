"""Assistant benchmark: 300+ labelled questions (half Malay or mixed, some with typos), answered by the offline
assistant over the demo data, each scored against the answer SQL computes on that data at run time.

The questions are written here, apart from the intent model's paraphrase set (src/aiff/assistant/data), so the
score measures generalisation. A question is right when its reply holds the expected figures and ids (the count,
the top zone and its value, the top team id, the ticket number, ...). Prints accuracy per intent and per language.

    DATABASE_URL=postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_test .venv/bin/python bench/assistant.py [--sample N] [--show-failures]

The demo data is projected into a throw-away schema (dropped at the end); the shared tables are never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
import uuid
from collections import defaultdict

import asyncpg

ZONES_EN = ["Selangor", "Johor", "Sabah", "Sarawak", "Perak", "Kedah", "Kelantan", "Pahang", "Penang", "Melaka", "KL", "Terengganu", "Negeri Sembilan", "Perlis", "Labuan"]
CANON = {"Penang": "Pulau Pinang", "KL": "Kuala Lumpur"}
TYPOS = {"Selangor": "Selngor", "Kelantan": "Kelantn", "Terengganu": "Terenganu", "Sarawak": "Srawak", "Pahang": "Pahng", "Negeri Sembilan": "Negri Sembilan", "Johor": "Johore", "Melaka": "Malacca", "Penang": "Pulau Pinang", "Perak": "Perak"}
PRI_MS = {"critical": "kritikal", "high": "keutamaan tinggi", "medium": "sederhana", "low": "keutamaan rendah"}
CAT_MS = {"fiber": "gentian optik", "copper": "tembaga", "wireless": "tanpa wayar", "power": "elektrik", "installation": "pemasangan", "equipment": "peralatan"}
PRI_EN = {"critical": "critical", "high": "high priority", "medium": "medium priority", "low": "low priority"}
MYT_DAY = "(date_trunc('day', now() AT TIME ZONE 'Asia/Kuala_Lumpur') AT TIME ZONE 'Asia/Kuala_Lumpur')"
RANGES = {
    "today": (f"{MYT_DAY}", "now() + interval '1 day'"),
    "yesterday": (f"{MYT_DAY} - interval '1 day'", MYT_DAY),
    "this_week": ("(date_trunc('week', now() AT TIME ZONE 'Asia/Kuala_Lumpur') AT TIME ZONE 'Asia/Kuala_Lumpur')", "now() + interval '1 day'"),
    "last_month": ("(date_trunc('month', (now() AT TIME ZONE 'Asia/Kuala_Lumpur') - interval '1 month') AT TIME ZONE 'Asia/Kuala_Lumpur')", "(date_trunc('month', now() AT TIME ZONE 'Asia/Kuala_Lumpur') AT TIME ZONE 'Asia/Kuala_Lumpur')"),
    "this_month": ("(date_trunc('month', now() AT TIME ZONE 'Asia/Kuala_Lumpur') AT TIME ZONE 'Asia/Kuala_Lumpur')", "now() + interval '1 day'"),
}
RANGE_WORDS = {
    "en": {"today": "today", "yesterday": "yesterday", "this_week": "this week", "last_month": "last month", "this_month": "this month"},
    "ms": {"today": "hari ini", "yesterday": "semalam", "this_week": "minggu ni", "last_month": "bulan lepas", "this_month": "bulan ini"},
}
OPEN = "('open','assigned','in_progress','reopened')"

# (language, intent, template, expectation). Placeholders: {zone} {pri} {ticket} {team} {when}.
T = [
    # --- counts -------------------------------------------------------------------------------------------
    ("en", "count_tickets", "How many {pri} tickets are still open in {zone}?", "count_open_zone_pri"),
    ("en", "count_tickets", "what's the number of open {pri} jobs in {zone} right now", "count_open_zone_pri"),
    ("en", "count_tickets", "count of {pri} tickets not finished yet in {zone}", "count_open_zone_pri"),
    ("en", "count_tickets", "open tickets in {zone} - how many?", "count_open_zone"),
    ("en", "count_tickets", "How many tickets are waiting in {zone}", "count_open_zone"),
    ("en", "count_tickets", "how many unassigned tickets do we have in {zone}", "count_unassigned_zone"),
    ("en", "count_tickets", "how many tickets were raised {when}?", "count_created_when"),
    ("en", "count_tickets", "how many tickets got completed {when} in {zone}", "count_completed_when_zone"),
    ("en", "count_tickets", "how many overdue tickets are there", "count_overdue"),
    ("en", "count_tickets", "how many tickets is team {team} holding", "count_open_team"),
    ("ms", "count_tickets", "Berapa tiket {pri} yang masih terbuka di {zone}?", "count_open_zone_pri"),
    ("ms", "count_tickets", "ada berapa tiket {pri} belum selesai kat {zone}", "count_open_zone_pri"),
    ("ms", "count_tickets", "brp tiket terbuka di {zone} skrg", "count_open_zone"),
    ("ms", "count_tickets", "jumlah tiket tertunggak {zone}", "count_open_zone"),
    ("ms", "count_tickets", "berapa tiket belum ditugaskan di {zone}?", "count_unassigned_zone"),
    ("ms", "count_tickets", "berapa tiket masuk {when}", "count_created_when"),
    ("ms", "count_tickets", "berapa tiket siap {when} di {zone}", "count_completed_when_zone"),
    ("ms", "count_tickets", "ada brp tiket lewat skrg", "count_overdue"),
    ("ms", "count_tickets", "pasukan {team} pegang berapa tiket", "count_open_team"),
    ("mixed", "count_tickets", "how many tiket {pri} open kat {zone}", "count_open_zone_pri"),
    ("mixed", "count_tickets", "berapa open tickets in {zone}", "count_open_zone"),
    ("mixed", "count_tickets", "brp tickets created {when}", "count_created_when"),
    ("mixed", "count_tickets", "how many tiket overdue sekarang", "count_overdue"),
    # --- lists --------------------------------------------------------------------------------------------
    ("en", "list_tickets", "show me the {pri} tickets open in {zone}", "list_open_zone_pri"),
    ("en", "list_tickets", "list the unassigned tickets in {zone}", "list_unassigned_zone"),
    ("en", "list_tickets", "which {pri} tickets in {zone} are still pending?", "list_open_zone_pri"),
    ("ms", "list_tickets", "senaraikan tiket {pri} terbuka di {zone}", "list_open_zone_pri"),
    ("ms", "list_tickets", "tunjuk tiket belum ditugaskan kat {zone}", "list_unassigned_zone"),
    ("mixed", "list_tickets", "list tiket {pri} yang open di {zone}", "list_open_zone_pri"),
    # --- zone rankings ------------------------------------------------------------------------------------
    ("en", "rank_zones", "which zone has the largest backlog?", "zone_backlog"),
    ("en", "rank_zones", "where is the biggest pile of open tickets", "zone_backlog"),
    ("en", "rank_zones", "which state has the most {pri} tickets open", "zone_backlog_pri"),
    ("en", "rank_zones", "zone with the most unassigned tickets?", "zone_unassigned"),
    ("ms", "rank_zones", "zon mana paling banyak tiket tertunggak?", "zone_backlog"),
    ("ms", "rank_zones", "negeri mana yang paling banyak tiket belum selesai", "zone_backlog"),
    ("ms", "rank_zones", "zon mana paling banyak tiket {pri}", "zone_backlog_pri"),
    ("mixed", "rank_zones", "zon mana ada backlog paling besar", "zone_backlog"),
    ("mixed", "rank_zones", "which zon paling byk tiket {pri} open", "zone_backlog_pri"),
    # --- team rankings ------------------------------------------------------------------------------------
    ("en", "rank_teams", "which team closed the most tickets last month?", "team_completed_month"),
    ("en", "rank_teams", "top team by completed work last month", "team_completed_month"),
    ("en", "rank_teams", "which team has the best customer rating last month", "team_rating_month"),
    ("en", "rank_teams", "who is the busiest team right now", "team_utilisation"),
    ("ms", "rank_teams", "pasukan mana paling banyak siap tiket bulan lepas?", "team_completed_month"),
    ("ms", "rank_teams", "pasukan dengan penilaian pelanggan tertinggi bulan lepas", "team_rating_month"),
    ("ms", "rank_teams", "pasukan mana paling sibuk skrg", "team_utilisation"),
    ("mixed", "rank_teams", "team mana paling produktif bulan lepas", "team_completed_month"),
    ("mixed", "rank_teams", "which pasukan paling tinggi rating bulan lepas", "team_rating_month"),
    ("en", "rank_teams", "which team had the best SLA efficiency last month?", "team_sla_month"),
    ("ms", "rank_teams", "pasukan mana paling bagus capai SLA bulan lepas", "team_sla_month"),
    ("en", "rank_teams", "which crew responded quickest last month", "team_response_month"),
    ("mixed", "rank_teams", "team mana paling cepat respons bulan lepas", "team_response_month"),
    ("en", "count_tickets", "how many {cat} tickets are open in {zone}?", "count_open_zone_cat"),
    ("ms", "count_tickets", "berapa tiket {cat} yang belum siap di {zone}", "count_open_zone_cat"),
    ("en", "count_tickets", "overdue tickets in {zone}: how many?", "count_overdue_zone"),
    ("ms", "count_tickets", "brp tiket lewat di {zone}", "count_overdue_zone"),
    ("en", "sla_summary", "what share of the tickets closed in {zone} last month were within SLA?", "sla_zone_month"),
    ("ms", "sla_summary", "peratus tiket capai SLA di {zone} bulan lepas", "sla_zone_month"),
    # --- a ticket -----------------------------------------------------------------------------------------
    ("en", "ticket_detail", "what's going on with {ticket}?", "ticket"),
    ("en", "ticket_detail", "give me the details for {ticket}", "ticket"),
    ("en", "ticket_detail", "status of {ticket} please", "ticket"),
    ("ms", "ticket_detail", "apa status {ticket}?", "ticket"),
    ("ms", "ticket_detail", "maklumat tiket {ticket}", "ticket"),
    ("mixed", "ticket_detail", "{ticket} status skrg macam mana", "ticket"),
    ("en", "explain_late", "why is {lticket} overdue?", "late"),
    ("ms", "explain_late", "kenapa {lticket} lewat?", "late"),
    ("mixed", "explain_late", "why {lticket} lambat sangat", "late"),
    ("en", "explain_unassigned", "why hasn't {uticket} been assigned yet?", "unassigned"),
    ("ms", "explain_unassigned", "kenapa {uticket} masih belum ditugaskan", "unassigned"),
    ("en", "explain_assignment", "why did {aticket} go to that team?", "assignment"),
    ("ms", "explain_assignment", "kenapa {aticket} diberi kepada pasukan itu?", "assignment"),
    # --- teams: day, capacity, what-if --------------------------------------------------------------------
    ("en", "team_day", "what is team {team} doing today?", "team_day"),
    ("ms", "team_day", "apa pasukan {team} buat hari ni", "team_day"),
    ("en", "capacity", "how much spare capacity is there in {zone}?", "capacity_zone"),
    ("ms", "capacity", "berapa kapasiti kosong di {zone}", "capacity_zone"),
    ("en", "what_if_offline", "what happens if team {team} goes offline now?", "what_if"),
    ("ms", "what_if_offline", "kalau pasukan {team} offline sekarang apa jadi", "what_if"),
    # --- actions ------------------------------------------------------------------------------------------
    ("en", "action_assign", "assign {uticket} to team {team}", "action_assign"),
    ("ms", "action_assign", "tugaskan {uticket} kepada pasukan {team}", "action_assign"),
    ("en", "suggest_assignment", "who should take {uticket}?", "suggest"),
    ("ms", "suggest_assignment", "siapa patut ambil {uticket}", "suggest"),
]


def typo(zone: str, rng: random.Random) -> str:
    if zone in TYPOS and rng.random() < 0.35:
        return TYPOS[zone]
    if rng.random() < 0.25:
        return zone.lower()
    return zone


async def sql(conn, kind: str, p: dict):
    """The expected answer: a list of tokens that must all appear in the reply."""
    z, pri, team, when = p.get("zone"), p.get("pri"), p.get("team"), p.get("when")
    if kind == "count_open_zone_pri":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND priority=$2 AND status IN {OPEN}", z, pri))]
    if kind == "count_open_zone":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND status IN {OPEN}", z))]
    if kind == "count_unassigned_zone":
        return [str(await conn.fetchval("SELECT count(*) FROM tickets WHERE zone=$1 AND status IN ('open','reopened')", z))]
    if kind == "count_created_when":
        a, b = RANGES[when]
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE created_at >= {a} AND created_at < {b}"))]
    if kind == "count_completed_when_zone":
        a, b = RANGES[when]
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND status IN ('completed','closed') AND completed_at >= {a} AND completed_at < {b}", z))]
    if kind == "count_open_zone_cat":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND category=$2 AND status IN {OPEN}", z, p["cat"]))]
    if kind == "count_overdue_zone":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND status IN {OPEN} AND due_date < now()", z))]
    if kind in ("team_sla_month", "team_response_month"):
        a, b = RANGES["last_month"]
        if kind == "team_sla_month":
            value, order = "round(100.0 * count(*) FILTER (WHERE k.due_date IS NULL OR k.completed_at <= k.due_date) / count(*), 1)", "v DESC, count(*) FILTER (WHERE k.due_date IS NULL OR k.completed_at <= k.due_date) DESC"
        else:
            value, order = "round((avg(extract(epoch FROM (k.started_at - k.assigned_at)) / 60) FILTER (WHERE k.started_at IS NOT NULL AND k.assigned_at IS NOT NULL))::numeric, 1)", "v ASC, count(*) DESC"
        r = await conn.fetchrow(
            f"""SELECT k.assigned_team, {value} AS v FROM tickets k JOIN teams t ON t.id = k.assigned_team AND t.is_active
                WHERE k.status IN ('completed','closed') AND k.completed_at >= {a} AND k.completed_at < {b}
                GROUP BY 1 HAVING {value} IS NOT NULL ORDER BY {order}, 1 LIMIT 1""")  # fmt: skip
        return [f"{r['assigned_team']})", f"{float(r['v'])}"] if r else ["!noteams"]
    if kind == "sla_zone_month":
        a, b = RANGES["last_month"]
        r = await conn.fetchrow(
            f"""SELECT count(*) AS n, count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date) AS met FROM tickets
                WHERE zone = $1 AND status IN ('completed','closed') AND completed_at >= {a} AND completed_at < {b}""", z)  # fmt: skip
        return [str(r["n"]), str(r["met"]), f"{round(100 * r['met'] / r['n'], 1)}%"] if r["n"] else ["!nocompleted"]
    if kind == "count_overdue":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE status IN {OPEN} AND due_date < now()"))]
    if kind == "count_open_team":
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE assigned_team=$1 AND status IN {OPEN}", team))]
    order = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, due_date NULLS LAST, id"
    if kind == "list_open_zone_pri":
        rows = await conn.fetch(f"SELECT ticket_number FROM tickets WHERE zone=$1 AND priority=$2 AND status IN {OPEN} ORDER BY {order} LIMIT 3", z, pri)
        n = await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone=$1 AND priority=$2 AND status IN {OPEN}", z, pri)
        return [str(n), *[r[0] for r in rows]]
    if kind == "list_unassigned_zone":
        rows = await conn.fetch(f"SELECT ticket_number FROM tickets WHERE zone=$1 AND status IN ('open','reopened') ORDER BY {order} LIMIT 3", z)
        n = await conn.fetchval("SELECT count(*) FROM tickets WHERE zone=$1 AND status IN ('open','reopened')", z)
        return [str(n), *[r[0] for r in rows]]
    if kind in ("zone_backlog", "zone_backlog_pri", "zone_unassigned"):
        statuses = "('open','reopened')" if kind == "zone_unassigned" else OPEN
        r = await conn.fetchrow(f"SELECT zone, count(*) AS n FROM tickets WHERE status IN {statuses} AND ($1::text IS NULL OR priority=$1) GROUP BY zone ORDER BY n DESC, zone LIMIT 1", pri if kind == "zone_backlog_pri" else None)
        return [r["zone"], str(r["n"])]
    if kind in ("team_completed_month", "team_rating_month"):
        a, b = RANGES["last_month"]
        value = "count(*)" if kind == "team_completed_month" else "round(avg(k.customer_rating)::numeric, 2)"
        r = await conn.fetchrow(
            f"""SELECT k.assigned_team, {value} AS v FROM tickets k JOIN teams t ON t.id = k.assigned_team AND t.is_active
                WHERE k.status IN ('completed','closed') AND k.completed_at >= {a} AND k.completed_at < {b}
                GROUP BY 1 HAVING {value} IS NOT NULL ORDER BY v DESC, count(*) DESC, 1 LIMIT 1""")  # fmt: skip
        if r is None:
            return ["!noteams"]
        v = r["v"]
        return [f"{r['assigned_team']})", f"{float(v):g}" if kind == "team_rating_month" else str(v)]
    if kind == "team_utilisation":
        r = await conn.fetchrow(
            """SELECT t.id, round(100.0 * count(k.id) / t.capacity, 1) AS u FROM teams t LEFT JOIN tickets k ON k.assigned_team = t.id AND k.status IN ('assigned','in_progress')
               WHERE t.is_active GROUP BY t.id ORDER BY u DESC, count(k.id) DESC, t.id LIMIT 1""")  # fmt: skip
        return [f"{r['id']})", f"{float(r['u'])}%"]
    if kind in ("ticket", "late", "unassigned", "assignment"):
        r = await conn.fetchrow("SELECT ticket_number, assigned_team, status FROM tickets WHERE ticket_number=$1", p["ticket_no"])
        out = [r["ticket_number"]]
        if kind in ("ticket", "assignment") and r["assigned_team"] is not None:
            out.append(str(r["assigned_team"]))
        if kind == "late":
            out.append("~" + str(await conn.fetchval("SELECT round(extract(epoch FROM (coalesce(completed_at, now()) - due_date)) / 60)::int FROM tickets WHERE ticket_number=$1", p["ticket_no"])))
        return out
    if kind == "team_day":
        n = await conn.fetchval("SELECT count(*) FROM tickets WHERE assigned_team=$1 AND status IN ('assigned','in_progress')", team)
        return [f"team {team}" if p["lang"] == "en" else f"pasukan {team}", str(n)]
    if kind == "capacity_zone":
        r = await conn.fetchrow(
            """SELECT sum(greatest(0, t.capacity - (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned','in_progress'))))
                      FILTER (WHERE t.status IN ('available','busy')) AS free FROM teams t WHERE t.is_active AND t.zone = $1""", z)  # fmt: skip
        return [str(r["free"] or 0)]
    if kind == "what_if":
        n = await conn.fetchval("SELECT count(*) FROM tickets WHERE assigned_team=$1 AND status IN ('assigned','in_progress')", team)
        return [str(team), str(n)]
    if kind == "action_assign":
        return [p["ticket_no"], f"{team}"]
    if kind == "suggest":
        free = await conn.fetchval(
            """SELECT count(*) FROM tickets k JOIN teams t ON t.is_active AND t.status = 'available' AND (k.category IS NULL OR k.category = ANY(t.skills))
                 AND t.id IS DISTINCT FROM k.assigned_team
                 AND t.capacity > (SELECT count(*) FROM tickets x WHERE x.assigned_team = t.id AND x.status IN ('assigned','in_progress'))
               WHERE k.ticket_number = $1""", p["ticket_no"])  # fmt: skip
        return [p["ticket_no"]] if free else ["!none"]
    raise ValueError(kind)


def make_questions(rows: dict, n_per: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for lang, intent, tpl, kind in T:
        for _ in range(n_per):
            zone = rng.choice(ZONES_EN)
            pri = rng.choice(["critical", "high", "medium", "low"])
            cat = rng.choice(["fiber", "copper", "wireless", "power", "installation", "equipment"])
            when = rng.choice(list(RANGES))
            team = rng.choice(rows["teams"])
            ticket = rng.choice(rows["tickets"])
            lticket, uticket, aticket = rng.choice(rows["late"]), rng.choice(rows["unassigned"]), rng.choice(rows["assigned"])
            words = "ms" if lang == "ms" or (lang == "mixed" and rng.random() < 0.5) else "en"
            chosen = {"{ticket}": ticket, "{lticket}": lticket, "{uticket}": uticket, "{aticket}": aticket}
            tkey = next((k for k in chosen if k in tpl), None)
            tno = chosen[tkey] if tkey else None
            shown = tno
            if tno and rng.random() < 0.2:
                shown = tno.lower()
            text = tpl.replace("{zone}", typo(zone, rng)).replace("{team}", str(team)).replace("{when}", RANGE_WORDS[words][when])
            text = text.replace("{pri}", PRI_MS[pri] if words == "ms" else PRI_EN[pri]).replace("{cat}", CAT_MS[cat] if words == "ms" and rng.random() < 0.5 else cat)
            if tkey:
                text = text.replace(tkey, shown)
            out.append({"lang": "ms" if lang != "en" else "en", "written": lang, "intent": intent, "kind": kind, "text": text,
                        "zone": CANON.get(zone, zone), "pri": pri, "cat": cat, "when": when, "team": team, "ticket_no": tno})  # fmt: skip
    return out


async def sample_rows(conn) -> dict:
    return {
        "teams": [r[0] for r in await conn.fetch("SELECT id FROM teams WHERE is_active ORDER BY id")],
        "tickets": [r[0] for r in await conn.fetch("SELECT ticket_number FROM tickets ORDER BY id")],
        "late": [r[0] for r in await conn.fetch(f"SELECT ticket_number FROM tickets WHERE status IN {OPEN} AND due_date < now() ORDER BY id")],
        "unassigned": [r[0] for r in await conn.fetch("SELECT ticket_number FROM tickets WHERE status IN ('open','reopened') ORDER BY id")],
        "assigned": [r[0] for r in await conn.fetch("SELECT ticket_number FROM tickets WHERE status IN ('assigned','in_progress') ORDER BY id")],
    }


def matches(reply: str, expected: list[str]) -> bool:
    low = reply.lower()
    for token in expected:
        if not token:
            continue
        if token.startswith("~"):  # a figure that moves with the clock (minutes late): within one either side
            want = int(token[1:])
            if not any(abs(int(x) - want) <= 1 for x in re.findall(r"(?<![\d.])\d+(?![\d.])", low)):
                return False
            continue
        if re.fullmatch(r"-?\d+(\.\d+)?", token):
            if not re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", low):
                return False
        elif token.lower() not in low:
            return False
    return True


async def score(pool, questions: list[dict], show_failures: bool = False) -> dict:
    """Ask every question (each in a fresh conversation) and compare the reply with the SQL answer."""
    from aiff.ai.chat import chat
    from aiff.settings import Settings

    settings = Settings(openai_api_key="")
    results = []
    async with pool.acquire() as conn:
        for q in questions:
            expected = await sql(conn, q["kind"], q)
            out = await chat(pool, settings, q["text"], {"conversation_id": uuid.uuid4().hex}, role="dispatcher")
            reply = out["response"]
            if expected == ["!nocompleted"]:
                ok = "no tickets were completed" in reply.lower() or "tiada tiket diselesaikan" in reply.lower()
            elif expected == ["!noteams"]:
                ok = "no team data" in reply.lower() or "tiada data pasukan" in reply.lower()
            elif expected == ["!none"]:
                ok = out.get("proposed_action") is None and ("no available team" in reply.lower() or "tiada pasukan" in reply.lower())
            elif q["kind"].startswith("action") or q["kind"] == "suggest":
                ok = matches(reply, expected) and out.get("proposed_action") is not None
            else:
                ok = matches(reply, expected)
            results.append({**q, "ok": ok, "expected": expected, "reply": reply, "got_intent": out.get("intent")})
            if show_failures and not ok:
                print(f"FAIL [{q['intent']}->{out.get('intent')}] {q['text']!r}\n     expected {expected}\n     reply    {reply[:300]}", file=sys.stderr)
    return summarise(results)


def summarise(results: list[dict]) -> dict:
    by_intent, by_lang = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for r in results:
        for table, key in ((by_intent, r["intent"]), (by_lang, r["lang"]), (by_lang, "all")):
            table[key][0] += r["ok"]
            table[key][1] += 1
    routed = sum(r["got_intent"] == r["intent"] for r in results) / max(1, len(results))
    return {"results": results, "by_intent": dict(by_intent), "by_lang": dict(by_lang), "accuracy": by_lang["all"][0] / max(1, by_lang["all"][1]), "routed": routed}


async def demo_schema(dsn: str, seed: int, tickets: int, teams: int):
    """A new schema with the migrated tables and the demo data projected into it; returns (name, url)."""
    from aiff.assistant.demo_db import load_demo
    from aiff.projections import migrate

    name = f"botbench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {name}")
    await conn.close()
    sep = "&" if "?" in dsn else "?"
    await asyncio.to_thread(migrate.upgrade, f"{dsn}{sep}search_path={name}")
    conn = await asyncpg.connect(dsn, server_settings={"search_path": name})
    try:
        await load_demo(conn, seed=seed, teams=teams, tickets=tickets)
    finally:
        await conn.close()
    return name


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-template", type=int, default=5, help="questions per template (83 templates)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--tickets", type=int, default=3000)
    ap.add_argument("--teams", type=int, default=60)
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    dsn = os.environ.get("DATABASE_URL", "postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_test")
    t0 = time.perf_counter()
    name = await demo_schema(dsn, args.seed, args.tickets, args.teams)
    pool = await asyncpg.create_pool(dsn, server_settings={"search_path": name}, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            questions = make_questions(await sample_rows(conn), args.per_template, args.seed)
        print(f"demo data: {args.tickets} tickets, {args.teams} teams in schema {name} ({time.perf_counter() - t0:.1f}s); {len(questions)} questions, "
              f"{sum(q['lang'] == 'ms' for q in questions)} Malay or mixed")  # fmt: skip
        t1 = time.perf_counter()
        s = await score(pool, questions, args.show_failures)
        dt = time.perf_counter() - t1
    finally:
        await pool.close()
        conn = await asyncpg.connect(dsn)
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()
    print("\n| intent | right / asked | accuracy |\n|---|---|---|")
    for k, (ok, n) in sorted(s["by_intent"].items()):
        print(f"| {k} | {ok} / {n} | {100 * ok / n:.1f}% |")
    print("\n| language | right / asked | accuracy |\n|---|---|---|")
    for k, (ok, n) in sorted(s["by_lang"].items()):
        print(f"| {k} | {ok} / {n} | {100 * ok / n:.1f}% |")
    print(f"\naccuracy {100 * s['accuracy']:.1f}% (target >= 95%); intent routed as labelled {100 * s['routed']:.1f}%; {dt / len(s['results']) * 1000:.0f} ms per question")
    print("PASS" if s["accuracy"] >= 0.95 else "FAIL")


if __name__ == "__main__":
    asyncio.run(main())
