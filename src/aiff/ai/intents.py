"""Intent parsing for the dispatcher assistant, English and Bahasa Malaysia, by rules (no model needed).

Intents: count_tickets, top_team_sla, explain_assignment, suggest_assignment, forecast_load, overview,
help. Slots: zone (canonical name), priority, status, category, period (day/week/month), horizon (days),
ticket (number like TKT-2026-000123 or an id), team_id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiff.zones import ZONE_ALIASES, ZONES

PRIORITY_WORDS = {
    "critical": ("critical", "kritikal", "kritikal", "p1", "genting"),
    "high": ("high", "tinggi", "p2"),
    "medium": ("medium", "sederhana", "p3"),
    "low": ("low", "rendah", "p4"),
}
STATUS_WORDS = {
    "in_progress": ("in progress", "in-progress", "dalam proses", "sedang dibaiki", "sedang berjalan", "being worked"),
    "completed": ("completed", "complete", "finished", "resolved", "selesai", "siap", "diselesaikan"),
    "cancelled": ("cancelled", "canceled", "dibatalkan", "batal"),
    "assigned": ("assigned", "ditugaskan", "diberikan"),
    "unassigned": ("unassigned", "belum ditugaskan", "waiting", "pending", "menunggu"),
    "open": ("open", "opened", "terbuka", "belum selesai", "aktif", "active", "outstanding"),
}
CATEGORY_WORDS = {
    "fiber": ("fiber", "fibre", "gentian"),
    "copper": ("copper", "tembaga"),
    "wireless": ("wireless", "tanpa wayar"),
    "power": ("power", "kuasa", "elektrik"),
    "installation": ("installation", "install", "pemasangan"),
    "equipment": ("equipment", "peralatan"),
}
PERIOD_WORDS = {
    "day": ("today", "hari ini", "harini"),
    "week": ("this week", "minggu ini", "past week", "last 7 days", "7 hari"),
    "month": ("this month", "bulan ini", "past month", "last 30 days", "30 hari"),
}
_TICKET_RE = re.compile(r"\b(TKT-\d{4}-\d{1,8})\b", re.IGNORECASE)
_TICKET_ID_RE = re.compile(r"\b(?:ticket|tiket)\s*(?:no\.?|number|nombor|#)?\s*(\d{1,12})\b", re.IGNORECASE)
_TEAM_RE = re.compile(r"\b(?:team|pasukan)\s*(?:no\.?|#)?\s*(\d{1,9})\b", re.IGNORECASE)
_DAYS_RE = re.compile(r"\b(?:next|coming|dalam|untuk)\s+(\d{1,2})\s+(?:days|hari)\b|\b(\d{1,2})\s+(?:days|hari)\s+(?:akan datang|ahead|lagi)\b", re.IGNORECASE)

_ZONE_TERMS: list[tuple[str, str]] = sorted(
    [(z.name.lower(), z.name) for z in ZONES] + list(ZONE_ALIASES.items()), key=lambda kv: -len(kv[0])
)


def _has(text: str, words) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words)


def _first(text: str, table: dict[str, tuple[str, ...]]) -> str | None:
    best = None
    for label, words in table.items():
        for w in words:
            m = re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)
            if m and (best is None or len(w) > best[1]):
                best = (label, len(w))
    return best[0] if best else None


@dataclass
class Intent:
    name: str
    slots: dict = field(default_factory=dict)
    language: str = "en"


BM_MARKERS = ("berapa", "pasukan", "kenapa", "mengapa", "tiket", "terbuka", "kritikal", "minggu", "beban", "di ", "yang", "siapa", "ramalan", "diberi", "bagi")


def parse_zone(text: str) -> str | None:
    low = text.lower()
    for term, name in _ZONE_TERMS:
        if re.search(rf"(?<![\w-]){re.escape(term)}(?:'s)?(?![\w-])", low):
            return name
    return None


def parse(message: str) -> Intent:
    """The intent and slots of a dispatcher's question."""
    text = " ".join(message.strip().split())
    low = text.lower()
    slots: dict = {}
    if (zone := parse_zone(low)) is not None:
        slots["zone"] = zone
    if (priority := _first(low, PRIORITY_WORDS)) is not None:
        slots["priority"] = priority
    if (status := _first(low, STATUS_WORDS)) is not None:
        slots["status"] = status
    if (category := _first(low, CATEGORY_WORDS)) is not None:
        slots["category"] = category
    if (period := _first(low, PERIOD_WORDS)) is not None:
        slots["period"] = period
    if (m := _TICKET_RE.search(text)) is not None:
        slots["ticket"] = m.group(1).upper()
    elif (m := _TICKET_ID_RE.search(text)) is not None:
        slots["ticket"] = int(m.group(1))
    if (m := _TEAM_RE.search(text)) is not None:
        slots["team_id"] = int(m.group(1))
    language = "ms" if sum(marker in f"{low} " for marker in BM_MARKERS) >= 2 else "en"

    if "ticket" in slots and _has(low, ("why", "kenapa", "mengapa", "explain", "terangkan", "sebab")):
        return Intent("explain_assignment", slots, language)
    if "ticket" in slots and _has(low, ("who should", "suggest", "recommend", "cadang", "cadangkan", "siapa patut", "siapa yang patut", "assign", "tugaskan", "which team should")):
        return Intent("suggest_assignment", slots, language)
    if _has(low, ("forecast", "predict", "prediction", "will", "next week", "next month", "load", "ramalan", "ramal", "jangkaan", "beban", "minggu depan", "bulan depan", "akan datang")):
        slots["horizon"] = _horizon(low)
        return Intent("forecast_load", slots, language)
    if _has(low, ("which team", "what team", "best team", "top team", "top teams", "pasukan mana", "pasukan manakah", "pasukan terbaik", "pasukan yang paling")):
        slots.setdefault("period", "week")
        return Intent("top_team_sla", slots, language)
    if _has(low, ("how many", "count", "number of", "berapa", "berapakah", "jumlah", "bilangan")):
        slots.setdefault("status", "open")
        return Intent("count_tickets", slots, language)
    if _has(low, ("overview", "summary", "ringkasan", "status", "kpi", "how are we", "keadaan", "prestasi")):
        return Intent("overview", slots, language)
    return Intent("help", slots, language)


def _horizon(low: str) -> int:
    if (m := _DAYS_RE.search(low)) is not None:
        return max(1, min(30, int(m.group(1) or m.group(2))))
    if _has(low, ("next month", "bulan depan", "30 days", "30 hari")):
        return 30
    if _has(low, ("two weeks", "2 weeks", "fortnight", "dua minggu", "2 minggu", "14 days", "14 hari")):
        return 14
    if _has(low, ("tomorrow", "esok")):
        return 1
    return 7
