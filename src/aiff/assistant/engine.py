"""The offline assistant: entities + intent model -> a typed tool -> a worded answer with its data, in the user's
language; follow-ups reuse the conversation's last question; actions are proposed and wait for a confirmation."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from aiff.ai import tools as legacy
from aiff.ai.chat import _explain_text
from aiff.assistant import tools
from aiff.assistant.dates import MYT, describe, named_range
from aiff.assistant.entities import Entities, extract
from aiff.assistant.model import model

TICKET_INTENTS = {"ticket_detail", "explain_assignment", "explain_late", "explain_unassigned", "ticket_eta", "suggest_assignment", "action_assign", "action_status", "action_pin"}
TEAM_INTENTS = {"team_day", "what_if_offline"}
ACTIONS = {"action_assign", "action_status", "action_pin"}
ACTION_ROLES = ("admin", "dispatcher")
FOLLOW_UP = re.compile(r"^\s*(and|dan|what about|how about|bagaimana dengan|macam mana dengan|mcm mana dgn|only|hanya|just|cuma|for|untuk|in|di|kat|then|lepas tu|pula|also|juga|same for|yang|the)\b", re.I)
RANK_WORDS = re.compile(r"\b(which|what zone|what state|where|rank|ranking|top|most|largest|biggest|highest|lowest|least|fewest|mana|paling|ter\w+|susun|kedudukan|compare|banding)\b", re.I)
ZONE_QUESTION = re.compile(r"\b(which|what|top|rank\w*)\s+(zones?|states?|regions?|areas?|negeri|zon)\b|\b(zon|negeri|kawasan|state|zone)\s+(mana|manakah|apa)\b", re.I)
TEAM_QUESTION = re.compile(r"\b(which|what|top|rank\w*)\s+(teams?|crews?|pasukan|units?)\b|\b(pasukan|team|unit|crew)\s+(mana|manakah)\b", re.I)
CREATED_WORDS = re.compile(r"\b(created|new|raised|opened|logged|came in|received|baru|baharu|masuk|dicipta|dibuka|dilaporkan|diterima)\b", re.I)
DEICTIC = re.compile(r"\b(there|in that zone|that zone|those|these|them|situ|sana|zon itu|zon tu|negeri itu|tersebut|instead|pula)\b", re.I)
FILTER_SLOTS = ("zone", "zones", "priority", "status", "category", "range", "team_id", "metric", "older_than_hours", "oldest")
STATUS_QUESTION = re.compile(r"\b(ke belum|ke tak|atau belum|ke\?|kah|has it|is it|did it|was it|have they|sudah ke|dah ke)\b|\b(dah|sudah|already)\b.*\?\s*$", re.I)
LATE_WORDS = re.compile(r"\b(late|lewat|lmbt|lambat|overdue|deadline|past due|delay(?:ed)?|tertangguh|missed|terlepas|breach(?:ed)?)\b", re.I)
WHY_ANYWHERE = re.compile(r"\b(why|how come|kenapa|knp|kenape|mengapa|apa sebab|apesal|sebab apa|apa punca|punca)\b", re.I)
WHY = re.compile(r"^\s*(why|how come|what is the reason|reason|kenapa|knp|mengapa|apa sebab|apesal|asal|sebab apa)\b", re.I)
FUTURE = re.compile(r"\b(next week|next month|next \d+ days|coming week|tomorrow|minggu depan|bulan depan|esok|besok|akan datang|expect(ed)?|anticipate|predict\w*|project(ed|ion)|jangka\w*|ramal\w*|unjuran|anggar\w*)\b", re.I)
CAPACITY_WORDS = re.compile(r"\b(slots?|kapasiti|capacity|spare|room|free (teams?|crews?|pasukan)|(teams?|crews?|pasukan) (free|kosong|available)|idle)\b", re.I)
WHAT_IF = re.compile(r"\b(what if|if|kalau|klu|jika|andai\w*|suppose|supposing|sekiranya|seandainya|assume|katakan)\b.*\b(offline|off|cuti|leave|sick|mc|absent|tak datang|x datang|tak masuk|out|down|drops?|unavailable|hilang|rosak|breaks? down|tak boleh kerja|x boleh kerja|berhenti|lose|losing|lost|kehilangan)\b|\b(simulat\w*|simulasi|dry run|what-if)\b|\b(losing|lose|kehilangan)\s+(team|crew|pasukan|TEAM)\b", re.I)
OFF_TOPIC = re.compile(r"\b(weather|cuaca|hujan|rain|football|bola|song|lagu|joke|lawak|pizza|makan\w*|food|movie|filem|recipe|resipi|flight|tiket wayang|cinema|stock price|saham)\b", re.I)
TICKET_WORDS = re.compile(r"\b(tickets?|tiket|tkt|jobs?|kes|cases?|kerja)\b", re.I)
COUNT_WORDS = re.compile(r"\b(how many|berapa|brp|brapa|jumlah|count|number of|total)\b", re.I)
CONFIRM = re.compile(r"^\s*(yes|ya|yup|ok|okay|confirm|confirmed|sahkan|setuju|betul|go ahead|teruskan|proceed|do it|buat)\b", re.I)
CANCEL = re.compile(r"^\s*(no|tidak|tak|jangan|cancel it|abort|nope|x payah|tak payah|tak jadi)\b", re.I)
PRI_MS = {"critical": "kritikal", "high": "keutamaan tinggi", "medium": "sederhana", "low": "keutamaan rendah"}
STATUS_EN = {"open": "open", "unassigned": "unassigned", "assigned": "assigned", "in_progress": "in progress", "completed": "completed", "closed": "closed", "cancelled": "cancelled", "reopened": "reopened"}
STATUS_MS = {"open": "terbuka", "unassigned": "belum ditugaskan", "assigned": "ditugaskan", "in_progress": "dalam proses", "completed": "selesai", "closed": "ditutup", "cancelled": "dibatalkan", "reopened": "dibuka semula"}
METRIC_EN = {"sla": "SLA efficiency", "response": "mean response time", "rating": "customer rating", "completed": "completed tickets", "utilisation": "utilisation", "backlog": "open tickets"}
METRIC_MS = {"sla": "kecekapan SLA", "response": "purata masa respons", "rating": "penilaian pelanggan", "completed": "tiket selesai", "utilisation": "penggunaan kapasiti", "backlog": "tiket terbuka"}
UNIT = {"sla": "%", "response": " min", "rating": "/5", "completed": "", "utilisation": "%", "backlog": ""}

SUGGEST = {
    "count_tickets": (["List them", "Only critical ones", "Which zone has the largest backlog?"], ["Senaraikan", "Yang kritikal sahaja", "Zon mana paling banyak tiket tertunggak?"]),
    "list_tickets": (["The first one", "Why is the first one late?", "How many are overdue?"], ["Yang pertama", "Kenapa yang pertama lewat?", "Berapa yang lewat?"]),
    "rank_zones": (["And only critical ones", "List the open tickets in the top zone", "How much free capacity is there?"], ["Yang kritikal sahaja", "Senaraikan tiket terbuka di zon teratas", "Berapa kapasiti kosong?"]),
    "rank_teams": (["What is the first one doing today?", "Rank by response time", "Rank by customer rating"], ["Apa yang pertama buat hari ini?", "Ikut masa respons", "Ikut penilaian pelanggan"]),
    "ticket_detail": (["Why this team?", "When will the team reach it?", "Why is it late?"], ["Kenapa pasukan ini?", "Bila pasukan sampai?", "Kenapa lewat?"]),
    "team_day": (["What if this team goes offline now?", "Rank teams by utilisation"], ["Apa jadi kalau pasukan ini offline?", "Pasukan paling sibuk"]),
    "forecast_load": (["And next month?", "How much free capacity is there?"], ["Bulan depan pula?", "Berapa kapasiti kosong?"]),
}
DEFAULT_SUGGEST = (["How many critical tickets are open in Selangor?", "Which zone has the largest backlog?", "Which team met the most SLAs this week?"],
                   ["Berapa tiket kritikal terbuka di Selangor?", "Zon mana paling banyak tiket tertunggak?", "Pasukan mana paling banyak capai SLA minggu ini?"])
CAN_DO = (
    "I can count and list tickets by zone, priority, status, category, team and date; rank zones by backlog and teams by SLA, response time, rating, completed work or utilisation; look up a ticket (TKT-…); explain why a team got a ticket, why one is late or unassigned; give ETAs and a team's day; forecast load and free capacity; run a what-if (a team offline); and propose assignments, pins and status changes for you to confirm.",
    "Saya boleh mengira dan menyenaraikan tiket ikut zon, keutamaan, status, kategori, pasukan dan tarikh; menyusun zon ikut tiket tertunggak dan pasukan ikut SLA, masa respons, penilaian, kerja siap atau penggunaan; mencari tiket (TKT-…); menerangkan kenapa pasukan dapat tiket, kenapa lewat atau belum ditugaskan; memberi ETA dan jadual pasukan; meramal beban dan kapasiti kosong; simulasi pasukan offline; dan mencadangkan tugasan, pin dan perubahan status untuk anda sahkan.",
)


EXAMPLES = {
    "count_tickets": ("count tickets (e.g. “how many critical tickets are open in Selangor?”)", "mengira tiket (cth. “berapa tiket kritikal terbuka di Selangor?”)"),
    "list_tickets": ("list tickets (e.g. “show overdue tickets in Johor”)", "menyenaraikan tiket (cth. “senaraikan tiket lewat di Johor”)"),
    "rank_zones": ("rank zones (e.g. “which zone has the largest backlog?”)", "menyusun zon (cth. “zon mana paling banyak tiket tertunggak?”)"),
    "rank_teams": ("rank teams (e.g. “which team met the most SLAs this week?”)", "menyusun pasukan (cth. “pasukan mana paling banyak capai SLA minggu ini?”)"),
    "ticket_detail": ("look up a ticket (e.g. “TKT-2026-000123”)", "mencari tiket (cth. “status TKT-2026-000123”)"),
    "explain_assignment": ("explain an assignment (e.g. “why did team 4 get TKT-2026-000123?”)", "menerangkan tugasan (cth. “kenapa TKT-2026-000123 diberi kepada pasukan 4?”)"),
    "explain_late": ("explain a late ticket (e.g. “why is TKT-2026-000123 late?”)", "menerangkan kelewatan (cth. “kenapa TKT-2026-000123 lewat?”)"),
    "explain_unassigned": ("explain an unassigned ticket", "menerangkan tiket belum ditugaskan"),
    "ticket_eta": ("give an ETA (e.g. “when will the team reach TKT-2026-000123?”)", "memberi ETA (cth. “bila pasukan sampai ke TKT-2026-000123?”)"),
    "team_day": ("show a team's day (e.g. “what is team 12 doing today?”)", "jadual pasukan (cth. “apa pasukan 12 buat hari ini?”)"),
    "forecast_load": ("forecast load (e.g. “forecast for Sabah next week”)", "meramal beban (cth. “ramalan Sabah minggu depan”)"),
    "capacity": ("show free capacity (e.g. “how much capacity is left in Perak?”)", "kapasiti kosong (cth. “berapa kapasiti kosong di Perak?”)"),
    "what_if_offline": ("run a what-if (e.g. “what if team 3 goes offline now?”)", "simulasi (cth. “kalau pasukan 3 offline sekarang?”)"),
    "suggest_assignment": ("suggest a team (e.g. “who should take TKT-2026-000123?”)", "mencadangkan pasukan (cth. “siapa patut ambil TKT-2026-000123?”)"),
    "action_assign": ("assign a ticket, after you confirm", "menugaskan tiket, selepas anda sahkan"),
    "action_status": ("change a ticket's status, after you confirm", "menukar status tiket, selepas anda sahkan"),
    "action_pin": ("pin a ticket, after you confirm", "pin tiket, selepas anda sahkan"),
    "overview": ("give an overview (e.g. “how are we doing today?”)", "ringkasan (cth. “bagaimana keadaan sekarang?”)"),
    "sla_summary": ("report SLA compliance (e.g. “what % of tickets met SLA this week?”)", "pematuhan SLA (cth. “berapa peratus tiket capai SLA minggu ini?”)"),
}


def closest(masked: str, lang: str, n: int = 2) -> tuple[str, list[str]]:
    """The intents nearest to a question the assistant cannot answer, worded, with example questions."""
    near = [i for i, _ in model().ranked(masked) if i in EXAMPLES][:n]
    k = 1 if lang == "ms" else 0
    said = [EXAMPLES[i][k] for i in near]
    head = ("Saya tidak pasti maksud soalan itu. Yang paling hampir yang saya boleh buat: " if lang == "ms" else "I am not sure what you mean. The closest things I can do: ") + "; ".join(said) + ". "
    asks = [re.search(r"“(.+?)”", x).group(1) for x in said if "“" in x]
    return head, asks


@dataclass
class Turn:
    intent: str
    confidence: float
    slots: dict
    language: str
    text: str
    data: Any
    table: dict | None
    proposed_action: dict | None = None
    follow_up: bool = False
    suggestions: list[str] | None = None


class TeamNames:
    """Team names (full, "Unit Kuching 03" short form, and lead name) -> id, per database pool, refreshed every minute."""

    def __init__(self) -> None:
        self._by_pool: dict[int, tuple[float, dict[str, int]]] = {}

    async def get(self, pool: asyncpg.Pool) -> dict[str, int]:
        loaded_at, names = self._by_pool.get(id(pool), (0.0, {}))
        if time.time() - loaded_at > 60:
            names = {}
            for r in await pool.fetch("SELECT id, name FROM teams"):
                full = r["name"].lower()
                names[full] = r["id"]
                for part in re.split(r"\s+[–-]\s+", full):
                    if len(part) >= 6 and part not in names:
                        names[part] = r["id"]
            self._by_pool[id(pool)] = (time.time(), names)
        return names


TEAM_NAMES = TeamNames()


def slots_of(ent: Entities) -> dict:
    s: dict[str, Any] = {}
    for k in ("zone", "priority", "status", "category", "metric", "limit", "ordinal", "horizon"):
        v = getattr(ent, k)
        if v is not None:
            s[k] = v
    if ent.ascending:
        s["ascending"] = True
    if ent.worst:
        s["worst"] = True
    if len(ent.zones) > 1:
        s["zones"] = ent.zones
    if ent.tickets:
        s["ticket"] = ent.tickets[0]
    if ent.team_ids:
        s["team_id"] = ent.team_ids[0]
    if len(ent.team_ids) > 1:
        s["team_ids"] = ent.team_ids
    if ent.range is not None:
        s["range"] = ent.range.label
    if ent.older_than_hours:
        s["older_than_hours"] = ent.older_than_hours
    if ent.oldest:
        s["oldest"] = True
    return s


def decide(message: str, ent: Entities, prev: dict) -> tuple[str, float, dict, bool]:
    """The intent and slots of this turn, using the previous turn for follow-ups ("and in Johor?", "the second one")."""
    pred = model().predict(ent.masked)
    intent, conf = pred.intent, pred.confidence
    if intent == "action_status" and STATUS_QUESTION.search(message):
        intent = "ticket_detail"  # "dah siap ke belum?", "is it done?": a question about the status, not an order
    if intent in ("ticket_detail", "team_day") and ent.oldest and not ent.tickets:
        intent = "list_tickets"
    if ent.tickets and intent not in TICKET_INTENTS:
        # A ticket number names the subject: the likeliest intent that takes a ticket (usually its details).
        intent, conf = next((i, round(p, 3)) for i, p in model().ranked(ent.masked) if i in TICKET_INTENTS)
    if intent == "ticket_detail" and ent.tickets and WHY_ANYWHERE.search(message) and LATE_WORDS.search(message):
        intent = "explain_late"  # "how come TKT-… missed its deadline": a why about lateness, not the ticket card
    if intent in ("ticket_detail", "explain_late") and ent.tickets and WHY_ANYWHERE.search(message) and ent.status == "unassigned":
        intent = "explain_unassigned"  # "kenapa TKT-… blm ada team": a why about the missing team
    if OFF_TOPIC.search(message) and not (ent.tickets or ent.team_ids or ent.zones or ent.status or ent.priority or ent.category):
        intent = "help"  # "apa khabar cuaca esok": not about the work; say what it can do instead of guessing
    if ent.team_ids and not ent.tickets and intent not in ("what_if_offline", "sla_summary") and WHAT_IF.search(message):
        intent = "what_if_offline"  # "andai team 5 cuti sakit hari ni": a dry run, not the team's day
    if intent == "rank_teams" and len(ent.team_ids) == 1 and ent.metric is None and TICKET_WORDS.search(message) and not ent.tickets:
        intent = "count_tickets" if COUNT_WORDS.search(message) else "list_tickets"  # "which tickets has team 9 got": its tickets
    if intent in ACTIONS | {"suggest_assignment"} and WHY.search(message):
        # "kenapa TKT-… bagi kat team tu": a why-question explains, it never orders
        intent, conf = next(((i, round(p, 3)) for i, p in model().ranked(ent.masked) if i.startswith("explain_")), ("explain_assignment", conf))
    if intent in ("count_tickets", "list_tickets", "overview") and not ent.tickets and not ent.team_ids and FUTURE.search(message) and not ent.range:
        intent = "forecast_load"  # "how many tickets should we expect next week": no ticket exists yet, so a forecast
    if intent in ("count_tickets", "list_tickets", "overview", "help") and not ent.tickets and not ent.team_ids and CAPACITY_WORDS.search(message) and not (ent.priority or ent.category or ent.range):
        intent = "capacity"  # "berapa slot kosong kat Selangor": free capacity, not tickets
    slots = slots_of(ent)
    if intent == "rank_teams" and slots.get("metric") not in tools.TEAM_METRICS and slots.get("status") in ("completed", "closed"):
        slots["metric"] = "completed"  # "who completed the most this week", "siapa paling banyak siapkan": completed work
    if slots.get("range") == "today" and slots.get("status") in ("open", "unassigned", "in_progress", "assigned") and not CREATED_WORDS.search(message):
        del slots["range"]  # "open tickets today" = open now, not opened today
    words = len(ent.masked.split())
    follow = bool(prev.get("intent")) and prev["intent"] not in ("help", *ACTIONS, "suggest_assignment") and (
        FOLLOW_UP.match(message) is not None and words <= 8 or (conf < 0.55 and words <= 5) or (intent == "help" and words <= 5 and bool(slots))
    )
    if "ordinal" in slots and prev.get("ids") and "ticket" not in slots and "team_id" not in slots:
        follow = True
    if not follow and prev.get("intent") in ("count_tickets", "list_tickets") and intent in ("count_tickets", "list_tickets") and words <= 3:
        return intent, conf, {**prev.get("slots", {}), **slots}, True  # "list them", "how many?"
    if follow and "ordinal" in slots and prev.get("ids"):
        ids = prev["ids"]
        k = slots.pop("ordinal")
        pick = ids[k - 1] if 0 < k <= len(ids) else ids[-1] if k == -1 else None
        kind = prev.get("id_kind")
        if pick is not None:
            if kind == "ticket":
                guess = intent if intent in TICKET_INTENTS and conf >= 0.5 else "ticket_detail"
                return guess, conf, {**slots, "ticket": pick}, True
            if kind == "team":
                guess = intent if intent in TEAM_INTENTS and conf >= 0.5 else "team_day"
                return guess, conf, {**slots, "team_id": pick}, True
            if kind == "zone":
                keep = {k: v for k, v in prev.get("slots", {}).items() if k in FILTER_SLOTS and k not in ("zone", "zones")}
                return "count_tickets", conf, {**keep, **slots, "zone": pick, "status": slots.get("status", keep.get("status", "open"))}, True
    if follow:
        merged = {k: v for k, v in prev.get("slots", {}).items() if k not in ("ordinal",)}
        if "zone" in slots and "zones" not in slots:
            merged.pop("zones", None)
        merged.update(slots)
        again = prev["intent"]
        if again in ("rank_zones", "capacity") and "zone" in slots and again == "rank_zones":
            again = "count_tickets"  # "and in Johor?" after a zone ranking: the same filters in that zone
        return again, conf, merged, True
    if intent in ("count_tickets", "list_tickets", "overview", "help") and not ent.zones and ZONE_QUESTION.search(message):
        intent = "rank_zones"  # "which state has the highest number of ...", "negeri mana ..."
    elif intent in ("count_tickets", "list_tickets", "overview", "help", "rank_zones") and not ent.team_ids and TEAM_QUESTION.search(message):
        intent = "rank_teams"
    elif intent == "rank_teams" and not ent.team_ids and ZONE_QUESTION.search(message) and not TEAM_QUESTION.search(message) and slots.get("metric") not in ("sla", "response", "rating", "utilisation"):
        intent = "rank_zones"  # "which zones have the most jobs waiting for a team": zones, whatever other word is there
    elif intent == "capacity" and not ent.team_ids and TEAM_QUESTION.search(message) and slots.get("metric") in tools.TEAM_METRICS and RANK_WORDS.search(message):
        intent = "rank_teams"  # "which crews are most utilised": a ranking of teams, not the zone's free slots
    if intent == "rank_zones" and len(ent.zones) == 1 and not RANK_WORDS.search(message):
        intent = "count_tickets"  # "what's the backlog in KL": one zone's figure, not a ranking
    if prev.get("intent") and prev["intent"] not in ("help", *ACTIONS) and not (ent.tickets or ent.team_ids) and (
        DEICTIC.search(message) or (intent == prev["intent"] and words <= 5 and not ent.zones)
    ):
        # "list the tickets there", "by rating instead": this question, on the previous one's filters
        keep = {k: v for k, v in prev.get("slots", {}).items() if k in FILTER_SLOTS}
        if "zone" in slots:
            keep.pop("zones", None)
        return intent, conf, {**keep, **slots}, True
    if intent in TICKET_INTENTS and "ticket" not in slots and prev.get("slots", {}).get("ticket") is not None:
        slots["ticket"] = prev["slots"]["ticket"]  # "why is it late?" after a ticket question
    if intent in TEAM_INTENTS and "team_id" not in slots and prev.get("slots", {}).get("team_id") is not None:
        slots["team_id"] = prev["slots"]["team_id"]
    return intent, conf, slots, False


def _range(slots: dict):
    return named_range(slots["range"]) if slots.get("range") else None


def _where(slots: dict, ms: bool) -> str:
    parts = []
    if slots.get("zone"):
        parts.append(f"{'di' if ms else 'in'} {slots['zone']}")
    if slots.get("team_id") is not None:
        done = slots.get("status") in ("completed", "closed", "cancelled")
        parts.append(f"{('oleh pasukan' if done else 'milik pasukan') if ms else ('by team' if done else 'held by team')} {slots['team_id']}")
    return (" " + " ".join(parts)) if parts else ""


def _when(slots: dict, ms: bool, status: str | None) -> str:
    if not slots.get("range"):
        return ""
    verb = "" if status in ("completed", "closed") else (" dicipta" if ms else " created")  # "completed" already says when
    label = slots["range"]
    prep = " in" if (not ms and label.startswith("last_") and label.endswith("_days")) else ""
    return f"{verb}{prep} {describe(label, 'ms' if ms else 'en')}"


def _ticket_filters(slots: dict) -> dict:
    status = slots.get("status")
    overdue = slots.get("metric") == "overdue"
    if status is None and not slots.get("range"):
        status = "open"
    return {"zone": slots.get("zone"), "priority": slots.get("priority"), "status": status, "category": slots.get("category"),
            "team_id": slots.get("team_id"), "range": _range(slots), "overdue": overdue, "older_than_hours": slots.get("older_than_hours")}  # fmt: skip


def _tickets_phrase(n: int, f: dict, slots: dict, ms: bool) -> str:
    text = _tickets_phrase_core(n, f, slots, ms)
    if f.get("older_than_hours"):
        h = f["older_than_hours"]
        age = (f"{h // 24} hari" if ms else f"{h // 24} days") if h % 24 == 0 else (f"{h} jam" if ms else f"{h} hours")
        text = text[:-1] + (f", berumur lebih {age}." if ms else f", older than {age}.")
    return text


def _tickets_phrase_core(n: int, f: dict, slots: dict, ms: bool) -> str:
    if ms:
        bits = ["tiket"] + ([f["category"]] if f["category"] else []) + ([PRI_MS[f["priority"]]] if f["priority"] else [])
        bits += [STATUS_MS.get(f["status"], f["status"])] if f["status"] else []
        bits += ["yang lewat"] if f["overdue"] else []
        return f"Ada {n} {' '.join(bits)}{_where(slots, ms)}{_when(slots, ms, f['status'])}."
    bits = ([f["priority"]] if f["priority"] else []) + (["overdue"] if f["overdue"] else []) + ([STATUS_EN.get(f["status"], f["status"])] if f["status"] else [])
    bits += [f["category"]] if f["category"] else []
    noun = "ticket" if n == 1 else "tickets"
    return f"There {'is' if n == 1 else 'are'} {n} {' '.join(bits + [noun])}{_where(slots, ms)}{_when(slots, ms, f['status'])}."


async def run(pool: asyncpg.Pool, intent: str, slots: dict, lang: str, scope_team: int | None = None, role: str | None = None) -> tuple[str, Any, dict | None, dict | None, tuple[str, list] | None]:
    """Run the tool of an intent; returns (text, data, table, proposed action, (id kind, ids) for follow-ups)."""
    ms = lang == "ms"
    if intent in TICKET_INTENTS and slots.get("ticket") is None:
        return ("Tiket mana? Beri nombor tiket, contohnya TKT-2026-000123." if ms else "Which ticket? Give its number, e.g. TKT-2026-000123."), None, None, None, None
    if intent in TEAM_INTENTS and slots.get("team_id") is None:
        return ("Pasukan mana? Contohnya 'pasukan 12'." if ms else "Which team? E.g. 'team 12'."), None, None, None, None
    if intent in ("count_tickets", "list_tickets"):
        f = _ticket_filters(slots)
        if intent == "count_tickets" and len(slots.get("zones") or []) > 1:
            per = [await tools.count_tickets(pool, **{**f, "zone": z}, scope_team=scope_team) for z in slots["zones"]]
            rows = [{"zone": d["zone"], "count": d["count"]} for d in per]
            head = _tickets_phrase(sum(r["count"] for r in rows), {**f, "zone": None}, {**slots, "zone": None}, ms).rstrip(".")
            text = head + ": " + ", ".join(f"{r['zone']} {r['count']}" for r in rows) + "."
            data = {"zones": rows, "count": sum(r["count"] for r in rows), "ticket_ids": [i for d in per for i in d["ticket_ids"]]}
            return text, data, tools._table(["zone", "count"], rows), None, ("zone", [r["zone"] for r in rows])
        if intent == "count_tickets":
            data = await tools.count_tickets(pool, **f, scope_team=scope_team)
            return _tickets_phrase(data["count"], f, slots, ms), data, tools._table(["ticket_number"], [{"ticket_number": n} for n in data["ticket_numbers"]]), None, ("ticket", data["ticket_numbers"])
        data = await tools.list_tickets(pool, **f, scope_team=scope_team, limit=slots.get("limit") or (3 if slots.get("oldest") else 10), oldest=bool(slots.get("oldest")))
        head = _tickets_phrase(data["count"], f, slots, ms)
        if data["shown"] and slots.get("oldest"):
            lst = ", ".join(f"{t['ticket_number']} ({t['created_at'][:16].replace('T', ' ')} UTC, {PRI_MS[t['priority']] if ms else t['priority']})" for t in data["tickets"])
            head += f" {'Paling lama' if ms else 'Oldest first'}: {lst}."
        elif data["shown"]:
            lst = ", ".join(f"{t['ticket_number']} ({PRI_MS[t['priority']] if ms else t['priority']}, {STATUS_MS[t['status']] if ms else STATUS_EN[t['status']]})" for t in data["tickets"])
            head += (f" {'Yang paling mendesak' if ms else 'Most urgent first'}: {lst}.")
        return head, data, data["table"], None, ("ticket", data["ticket_numbers"])
    if intent == "rank_zones":
        metric = slots.get("metric") if slots.get("metric") in tools.ZONE_METRICS else ("unassigned" if slots.get("status") == "unassigned" else "completed" if slots.get("status") in ("completed", "closed") else "backlog")
        if metric == "completed" and slots.get("status") in ("open", "unassigned"):
            metric = "unassigned" if slots["status"] == "unassigned" else "backlog"  # "most jobs waiting for a team": the status decides
        # For a zone, "worst" is the most backlog/overdue; only "fewest", "least", "paling sikit" sort upwards.
        ascending = slots.get("ascending", False) and not slots.get("worst")
        data = await tools.rank_zones(pool, metric, slots.get("priority"), slots.get("category"), _range(slots), ascending, slots.get("limit") or 5, scope_team)
        z = data["zones"]
        label = {"backlog": ("tiket terbuka", "open tickets"), "created": ("tiket baharu", "new tickets"), "overdue": ("tiket lewat", "overdue tickets"), "completed": ("tiket selesai", "completed tickets"), "unassigned": ("tiket belum ditugaskan", "unassigned tickets")}[metric]
        pri = f" {PRI_MS[slots['priority']] if ms else slots['priority']}" if slots.get("priority") else ""
        when = f" ({describe(slots['range'], lang)})" if slots.get("range") else ""
        rest = ", ".join(f"{r['zone']} {r['value']}" for r in z[1:])
        if ms:
            text = f"{z[0]['zone']} {'paling sedikit' if data['ascending'] else 'paling banyak'} {label[0]}{pri}{when}: {z[0]['value']}." + (f" Seterusnya: {rest}." if rest else "")
        else:
            text = f"{z[0]['zone']} has the {'fewest' if data['ascending'] else 'most'}{pri} {label[1]}{when}: {z[0]['value']}." + (f" Next: {rest}." if rest else "")
        return text, data, data["table"], None, ("zone", [r["zone"] for r in z])
    if intent == "rank_teams":
        metric = slots.get("metric") if slots.get("metric") in tools.TEAM_METRICS else "sla"
        only = scope_team if scope_team is not None else slots.get("team_id")  # "average rating of team 5": that team's figures
        data = await tools.rank_teams(pool, metric, slots.get("zone"), _range(slots), slots.get("ascending", False), slots.get("limit") or 5, slots.get("category"), only)
        when = ("sekarang" if ms else "now") if metric in ("utilisation", "backlog") else describe(slots["range"], lang) if slots.get("range") else ("30 hari lepas" if ms else "the last 30 days")
        where = f" {'di' if ms else 'in'} {slots['zone']}" if slots.get("zone") else ""
        if not data["teams"]:
            return (f"Tiada data pasukan{where} untuk {when}." if ms else f"No team data{where} for {when}."), data, data["table"], None, None
        key, unit = data["value_key"], UNIT[metric]

        def fmt(r):
            extra = f" ({r['sla_met']}/{r['completed']})" if metric == "sla" else f" ({r['active']}/{r['capacity']})" if metric == "utilisation" else ""
            return f"{r['name']} (team {r['team_id']}) {r[key]}{unit}{extra}"

        best, rest = data["teams"][0], "; ".join(fmt(r) for r in data["teams"][1:])
        m = (METRIC_MS if ms else METRIC_EN)[metric]
        worst = data["ascending"]
        if ms:
            text = f"{'Paling rendah' if worst else 'Terbaik'} ikut {m}{where} ({when}): {fmt(best).replace('(team', '(pasukan')}." + (f" Seterusnya: {rest.replace('(team', '(pasukan')}." if rest else "")
        else:
            text = f"{'Lowest' if worst else 'Top'} by {m}{where} ({when}): {fmt(best)}." + (f" Next: {rest}." if rest else "")
        return text, data, data["table"], None, ("team", data["team_ids"])
    if intent == "ticket_detail":
        data = await tools.ticket_detail(pool, slots["ticket"], scope_team)
        if not data["found"]:
            return _not_found(slots["ticket"], ms), data, None, None, None
        t, team = data["ticket"], data["team"]
        who = (f"{team['name']} (pasukan {team['id']})" if ms else f"{team['name']} (team {team['id']})") if team else ("tiada pasukan" if ms else "no team")
        due = t["due_date"][:16].replace("T", " ") if t["due_date"] else "-"
        if ms:
            text = f"{t['ticket_number']} (id {t['id']}): {t['title']} — {PRI_MS[t['priority']]}, {STATUS_MS.get(t['status'], t['status'])}, {t['category'] or '-'}, {t['zone']}; pasukan: {who}; tarikh akhir {due} UTC{' (lewat)' if data['overdue'] else ''}."
        else:
            text = f"{t['ticket_number']} (id {t['id']}): {t['title']} — {t['priority']}, {STATUS_EN.get(t['status'], t['status'])}, {t['category'] or '-'}, {t['zone']}; team: {who}; due {due} UTC{' (overdue)' if data['overdue'] else ''}."
        if data["visit"]:
            text += f" ETA {data['visit']['eta'][11:16]} UTC."
        return text, data, data["table"], None, ("ticket", [t["ticket_number"]])
    if intent == "explain_assignment":
        data = await legacy.explain_assignment(pool, slots["ticket"], slots.get("team_id"))
        if not data["found"] or (scope_team is not None and data["ticket"]["assigned_team"] != scope_team):
            return _not_found(slots["ticket"], ms), {"found": False}, None, None, None
        if data["assignment"] is None and slots.get("team_id") is None:
            return await run(pool, "explain_unassigned", slots, lang, scope_team, role)
        table = tools._table(["factor", "value"], [{"factor": k, "value": v} for k, v in (data["assignment"] or {}).get("breakdown", {}).items()])
        data["ticket_ids"] = [data["ticket"]["id"]]
        return _explain_text(data, ms), data, table, None, ("ticket", [data["ticket"]["ticket_number"]])
    if intent == "explain_late":
        data = await tools.explain_late(pool, slots["ticket"], scope_team)
        if not data["found"]:
            return _not_found(slots["ticket"], ms), data, None, None, None
        t = data["ticket"]
        if not data["is_late"]:
            left = -(data["late_minutes"] or 0)
            text = (f"{t['ticket_number']} belum lewat: baki {left} minit sebelum tarikh akhir SLA." if ms else f"{t['ticket_number']} is not late: {left} minutes left before its SLA due time.") if data["late_minutes"] is not None else (f"{t['ticket_number']} tiada tarikh akhir." if ms else f"{t['ticket_number']} has no due date.")
        else:
            why = {"unassigned": ("menunggu pasukan", "waiting for a team"), "waiting_to_start": ("ditugaskan tetapi belum dimulakan", "assigned but not started"), "long_work": ("kerja mengambil masa lama", "long time on site")}
            parts = ", ".join(f"{why[r['reason']][0 if ms else 1]} {r['minutes']} min" for r in data["reasons"]) or ("tiada punca jelas" if ms else "no single stage stands out")
            team = data["team"]
            load = (f"; pasukan {team['name']} ada {team['active']}/{team['capacity']} tiket aktif" if ms else f"; team {team['name']} holds {team['active']}/{team['capacity']} active tickets") if team else ""
            text = (f"{t['ticket_number']} lewat {data['late_minutes']} minit ({PRI_MS[t['priority']]}): {parts}{load}." if ms
                    else f"{t['ticket_number']} is {data['late_minutes']} minutes past its SLA ({t['priority']}): {parts}{load}.")  # fmt: skip
        return text, data, data["table"], None, ("ticket", [t["ticket_number"]])
    if intent == "explain_unassigned":
        data = await tools.explain_unassigned(pool, slots["ticket"], scope_team)
        if not data["found"]:
            return _not_found(slots["ticket"], ms), data, None, None, None
        t, c = data["ticket"], data["counts"]
        if data["assigned"]:
            text = f"{t['ticket_number']} sudah ditugaskan kepada pasukan {t['assigned_team']}." if ms else f"{t['ticket_number']} is assigned, to team {t['assigned_team']}."
        else:
            mode = (" Zon ini dalam mod manual: enjin tidak menugaskan secara automatik." if ms else " Its zone is in manual mode: the engine does not assign automatically.") if data["zone_mode"] == "manual" else ""
            text = (f"{t['ticket_number']} belum ditugaskan. Daripada 5 pasukan terdekat dengan kemahiran {t['category']}: {c['free']} ada kapasiti, {c['full']} penuh, {c['offline']} offline/cuti.{mode}" if ms
                    else f"{t['ticket_number']} is unassigned. Of the 5 nearest teams with the {t['category']} skill: {c['free']} have free capacity, {c['full']} are full, {c['offline']} are offline or on leave.{mode}")  # fmt: skip
        return text, data, data["table"], None, ("team", data["team_ids"])
    if intent == "ticket_eta":
        data = await tools.ticket_eta(pool, slots["ticket"], scope_team)
        if not data["found"]:
            return _not_found(slots["ticket"], ms), data, None, None, None
        t = data["ticket"]
        if not data["planned"]:
            return (f"{t['ticket_number']} belum ada lawatan dirancang (status {STATUS_MS.get(t['status'], t['status'])})." if ms else f"{t['ticket_number']} has no planned visit yet (status {STATUS_EN.get(t['status'], t['status'])})."), data, None, None, None
        v = data["visit"]
        ontime = "" if data["on_time"] is None else ((" (dalam SLA)" if data["on_time"] else " (selepas tarikh akhir)") if ms else (" (within SLA)" if data["on_time"] else " (after the due time)"))
        at = datetime.fromisoformat(str(v["eta"])).astimezone(MYT).strftime("%Y-%m-%d %H:%M")  # dispatchers read Malaysian time
        text = (f"{v['team_name']} (pasukan {v['team_id']}) dijangka sampai ke {t['ticket_number']} pada {at} MYT, lawatan ke-{v['sequence']} hari itu{ontime}." if ms
                else f"{v['team_name']} (team {v['team_id']}) should reach {t['ticket_number']} at {at} MYT, visit {v['sequence']} of its day{ontime}.")  # fmt: skip
        return text, data, data["table"], None, ("ticket", [t["ticket_number"]])
    if intent == "team_day":
        data = await tools.team_day(pool, slots["team_id"], scope_team)
        if not data["found"]:
            return (f"Pasukan {slots['team_id']} tidak dijumpai." if ms else f"Team {slots['team_id']} was not found."), data, None, None, None
        tm = data["team"]
        if data["visits"]:
            stops = ", ".join(f"{v['ticket_number']} {v['eta'][11:16]}" for v in data["visits"])
            text = (f"{tm['name']} (pasukan {tm['id']}) ada {len(data['visits'])} lawatan dirancang hari ini: {stops}." if ms else f"{tm['name']} (team {tm['id']}) has {len(data['visits'])} planned visits today: {stops}.")
        else:
            act = ", ".join(a["ticket_number"] for a in data["active"]) or "-"
            text = (f"{tm['name']} (pasukan {tm['id']}, {tm['status']}) tiada pelan hari ini; {len(data['active'])} tiket aktif: {act}; {data['completed_today']} selesai hari ini." if ms
                    else f"{tm['name']} (team {tm['id']}, {tm['status']}) has no plan today; {len(data['active'])} active tickets: {act}; {data['completed_today']} completed today.")  # fmt: skip
        return text, data, data["table"], None, ("ticket", [a["ticket_number"] for a in data["active"]])
    if intent == "what_if_offline":
        data = await tools.what_if_offline(pool, slots["team_id"], scope_team)
        if not data["found"]:
            return (f"Pasukan {slots['team_id']} tidak dijumpai." if ms else f"Team {slots['team_id']} was not found."), data, None, None, None
        tm = data["team"]
        def dest(m):
            if m["to_team_id"]:
                eta = datetime.fromisoformat(m["eta"]).astimezone(MYT).strftime("%H:%M")
                return f"{'pasukan' if ms else 'team'} {m['to_team_id']} ETA {eta} MYT" + ("" if m["on_time"] is not False else (" (lewat)" if ms else " (late)"))
            return ("tiada" if ms else "none") + f" ({m['unserved_reason']})"

        moves = "; ".join(f"{m['ticket_number']} → {dest(m)}" for m in data["moves"][:6])
        text = (f"Simulasi (tiada apa diubah): jika {tm['name']} (pasukan {tm['id']}) offline sekarang, {data['affected']} tiket aktifnya terjejas; pelan semula {tm['zone']} ({data['teams_in_plan']} pasukan) meletakkan {data['reassigned']} pada pasukan lain ({data['late']} lewat), {data['stranded']} tidak dapat dilayan hari ini. {moves}" if ms
                else f"Dry run (nothing changed): if {tm['name']} (team {tm['id']}) went offline now, its {data['affected']} active tickets would be affected; a re-plan of {tm['zone']} ({data['teams_in_plan']} teams) places {data['reassigned']} with other teams ({data['late']} late) and leaves {data['stranded']} unserved today. {moves}")  # fmt: skip
        return text.strip(), data, data["table"], None, ("ticket", [m["ticket_number"] for m in data["moves"]])
    if intent == "forecast_load":
        data = await tools.forecast_load(pool, slots.get("zone"), slots.get("horizon") or 7)
        where = data["zone"] or ("semua zon" if ms else "all zones")
        text = (f"Ramalan {where} untuk {data['horizon_days']} hari akan datang: kira-kira {data['total']:.0f} tiket baharu (julat 80%: {data['total_lower']:.0f}–{data['total_upper']:.0f}); purata terkini {data['recent_daily_mean']} sehari." if ms
                else f"Forecast for {where}, next {data['horizon_days']} days: about {data['total']:.0f} new tickets (80% range {data['total_lower']:.0f}–{data['total_upper']:.0f}); recent average {data['recent_daily_mean']} per day.")  # fmt: skip
        return text, data, data.get("table"), None, None
    if intent == "capacity":
        data = await tools.capacity(pool, slots.get("zone"), scope_team)
        where = f" {'di' if ms else 'in'} {slots['zone']}" if slots.get("zone") else ""
        st = data["by_status"]
        text = (f"Kapasiti{where}: {data['working_teams']} daripada {data['teams']} pasukan bertugas ({st.get('available', 0)} available, {st.get('busy', 0)} sibuk, {st.get('offline', 0)} offline, {st.get('on_leave', 0)} cuti), {data['active']}/{data['capacity']} slot digunakan, {data['free']} slot kosong; {data['unassigned_tickets']} tiket belum ditugaskan." if ms
                else f"Capacity{where}: {data['working_teams']} of {data['teams']} teams working ({st.get('available', 0)} available, {st.get('busy', 0)} busy, {st.get('offline', 0)} offline, {st.get('on_leave', 0)} on leave), {data['active']}/{data['capacity']} slots in use, {data['free']} free slots; {data['unassigned_tickets']} tickets unassigned.")  # fmt: skip
        return text, data, data["table"], None, ("team", data["team_ids"])
    if intent == "sla_summary":
        data = await tools.sla_summary(pool, slots.get("zone"), _range(slots), slots.get("team_id"), slots.get("priority"), slots.get("category"), scope_team)
        when = describe(slots["range"], lang) if slots.get("range") else ("30 hari lepas" if ms else "the last 30 days")
        where = _where(slots, ms)
        if not data["completed"]:
            return (f"Tiada tiket diselesaikan{where} ({when})." if ms else f"No tickets were completed{where} ({when})."), data, data["table"], None, None
        extra = lambda v, unit: "-" if v is None else f"{v}{unit}"  # noqa: E731
        text = (f"SLA{where} ({when}): {data['sla_met']} daripada {data['completed']} tiket selesai dalam SLA ({data['sla_pct']}%); purata respons {extra(data['response_min'], ' min')}, penyelesaian {extra(data['resolve_min'], ' min')}, penilaian {extra(data['rating'], '/5')}." if ms
                else f"SLA{where} ({when}): {data['sla_met']} of {data['completed']} completed tickets within SLA ({data['sla_pct']}%); mean response {extra(data['response_min'], ' min')}, resolution {extra(data['resolve_min'], ' min')}, rating {extra(data['rating'], '/5')}.")  # fmt: skip
        return text, data, data["table"], None, None
    if intent == "overview":
        data = await tools.overview(pool, scope_team, slots.get("zone"))
        crit = data["open_by_priority"]["critical"]
        where = f" {'di' if ms else 'in'} {slots['zone']}" if slots.get("zone") else ""
        text = (f"{data['open']} tiket terbuka{where} ({crit} kritikal), {data['overdue_open']} melebihi tarikh akhir SLA." if ms
                else f"{data['open']} open tickets{where} ({crit} critical); {data['overdue_open']} are past their SLA due date.")  # fmt: skip
        return text, data, data["table"], None, None
    if intent == "suggest_assignment" or intent in ACTIONS:
        return await propose(pool, intent, slots, lang, scope_team, role)
    head = "" if slots.get("_greeting") else closest(slots.get("_masked", ""), lang)[0]
    return head + CAN_DO[1 if ms else 0], None, None, None, None


def _not_found(ticket, ms: bool) -> str:
    return f"Tiket {ticket} tidak dijumpai." if ms else f"Ticket {ticket} was not found."


async def propose(pool, intent: str, slots: dict, lang: str, scope_team, role) -> tuple:
    """Word a proposed action; nothing is published until the user confirms (and only for an allowed role)."""
    ms = lang == "ms"
    row = await tools.find_ticket(pool, slots["ticket"], scope_team)
    if row is None:
        return _not_found(slots["ticket"], ms), {"found": False}, None, None, None
    t = {k: tools._iso(row.get(k)) for k in tools.TICKET_COLS}
    team_id = slots.get("team_id")
    if intent == "suggest_assignment" or (intent == "action_assign" and team_id is None):
        sug = await legacy.suggest_assignment(pool, row["id"])
        if sug.get("team") is None:
            return ("Tiada pasukan yang sesuai dengan kapasiti kosong." if ms else "No available team with the skill and free capacity."), sug, None, None, None
        team_id = sug["team"]["id"]
        intent = "action_assign"
        head = (f"Cadangan: {sug['team']['name']} (pasukan {team_id}), {sug['team']['distance_km']} km dari lokasi, {sug['team']['open_tickets']}/{sug['team']['capacity']} tiket aktif. " if ms
                else f"Suggestion: {sug['team']['name']} (team {team_id}), {sug['team']['distance_km']} km away, {sug['team']['open_tickets']}/{sug['team']['capacity']} open tickets. ")  # fmt: skip
    else:
        head = ""
    if intent == "action_assign":
        action = {"type": "reassign" if row["assigned_team"] else "assign", "ticket_id": row["id"], "ticket_number": row["ticket_number"], "team_id": team_id,
                  "reason": "proposed by the assistant"}  # fmt: skip
        what = (f"tugaskan {row['ticket_number']} kepada pasukan {team_id}" if ms else f"assign {row['ticket_number']} to team {team_id}")
    elif intent == "action_pin":
        action = {"type": "pin", "ticket_id": row["id"], "ticket_number": row["ticket_number"], "team_id": team_id}
        what = (f"pin {row['ticket_number']}" + (f" pada pasukan {team_id}" if team_id else "")) if ms else (f"pin {row['ticket_number']}" + (f" to team {team_id}" if team_id else ""))
    else:
        status = slots.get("status")
        if status in (None, "open", "unassigned"):
            return ("Status apa? Contohnya: dalam proses, selesai, dibatalkan." if ms else "Which status? E.g. in progress, completed, cancelled."), None, None, None, None
        action = {"type": "status", "ticket_id": row["id"], "ticket_number": row["ticket_number"], "status": status}
        what = f"tukar status {row['ticket_number']} kepada {STATUS_MS.get(status, status)}" if ms else f"set {row['ticket_number']} to {STATUS_EN.get(status, status)}"
    allowed = role in ACTION_ROLES or (role == "field" and action["type"] == "status" and action["status"] in ("in_progress", "completed"))
    action["allowed"] = allowed
    if not allowed:
        text = f"{head}Peranan anda ({role}) tidak dibenarkan untuk {what}." if ms else f"{head}Your role ({role}) may not {what}."
        return text, {"ticket": t, "ticket_ids": [row["id"]], "action": action}, None, None, None
    text = f"{head}Sahkan untuk {what}? Jawab 'ya' untuk teruskan atau 'tidak' untuk batal." if ms else f"{head}Confirm to {what}? Reply 'yes' to go ahead or 'no' to cancel."
    return text, {"ticket": t, "ticket_ids": [row["id"]], "action": action}, None, action, ("ticket", [row["ticket_number"]])


async def answer(pool: asyncpg.Pool, message: str, prev: dict, scope_team: int | None = None, role: str | None = None) -> tuple[Turn, dict]:
    """One turn: returns the answer and the conversation state to keep."""
    ent = extract(message, await TEAM_NAMES.get(pool))
    intent, conf, slots, follow = decide(message, ent, prev)
    if scope_team is not None and intent in TEAM_INTENTS and slots.get("team_id") is None:
        slots["team_id"] = scope_team
    text, data, table, action, ids = await run(pool, intent, {**slots, "_masked": ent.masked, "_greeting": intent == "help" and conf >= 0.6}, ent.language, scope_team, role)
    turn = Turn(intent, conf, slots, ent.language, text, data, table, action, follow)
    if intent == "help" and conf < 0.6:
        turn.suggestions = closest(ent.masked, ent.language)[1] or None
    state = {"intent": intent, "slots": slots, "ids": ids[1] if ids else prev.get("ids", []), "id_kind": ids[0] if ids else prev.get("id_kind"),
             "pending_action": action, "language": ent.language}  # fmt: skip
    return turn, state


def suggestions(intent: str, lang: str) -> list[str]:
    en, ms = SUGGEST.get(intent, DEFAULT_SUGGEST)
    return ms if lang == "ms" else en


def is_confirm(message: str) -> bool:
    return CONFIRM.match(message) is not None and len(message.split()) <= 4


def is_cancel(message: str) -> bool:
    return CANCEL.match(message) is not None and len(message.split()) <= 4 and not re.search(r"tkt|\d{3,}", message, re.I)
