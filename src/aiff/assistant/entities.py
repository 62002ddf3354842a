"""Entity extraction for dispatchers' questions in English, Malay and a mix: zones (with Malay, common and capital
names), teams, ticket numbers, priorities, statuses, categories, dates, metrics, ordinals; tolerant of typos.

`extract` returns the entities and a masked text (entities replaced by placeholders such as ZONE and TICKET) that
the intent model reads, so that it learns the shape of a question rather than the names in it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from aiff.assistant.dates import DateRange, parse_range
from aiff.zones import ZONES

ZONE_TERMS: dict[str, str] = {z.name.lower(): z.name for z in ZONES} | {
    "penang": "Pulau Pinang", "pinang": "Pulau Pinang", "p. pinang": "Pulau Pinang", "pg": "Pulau Pinang", "george town": "Pulau Pinang", "georgetown": "Pulau Pinang",
    "malacca": "Melaka", "melaka": "Melaka", "mlk": "Melaka",
    "n9": "Negeri Sembilan", "ns": "Negeri Sembilan", "negri sembilan": "Negeri Sembilan", "n. sembilan": "Negeri Sembilan", "seremban": "Negeri Sembilan", "nogori": "Negeri Sembilan",
    "kl": "Kuala Lumpur", "wilayah": "Kuala Lumpur", "wp kl": "Kuala Lumpur", "w.p. kuala lumpur": "Kuala Lumpur", "wpkl": "Kuala Lumpur", "k.l.": "Kuala Lumpur", "bandaraya": "Kuala Lumpur", "wp kuala lumpur": "Kuala Lumpur", "wilayah persekutuan": "Kuala Lumpur", "putrajaya": "Kuala Lumpur", "kay el": "Kuala Lumpur",
    "johore": "Johor", "jb": "Johor", "johor bahru": "Johor", "johor baru": "Johor",
    "trengganu": "Terengganu", "ganu": "Terengganu", "kuala terengganu": "Terengganu",
    "kota kinabalu": "Sabah", "kk": "Sabah", "kuching": "Sarawak", "shah alam": "Selangor", "sgor": "Selangor", "slgr": "Selangor",
    "alor setar": "Kedah", "alor star": "Kedah", "kota bharu": "Kelantan", "kota baru": "Kelantan", "kuantan": "Pahang", "ipoh": "Perak", "kangar": "Perlis",
    "wp labuan": "Labuan", "pulau labuan": "Labuan",
}  # fmt: skip
PRIORITY_TERMS: dict[str, str] = {
    "critical": "critical", "kritikal": "critical", "kritical": "critical", "critcal": "critical", "criticial": "critical", "p1": "critical", "crit": "critical", "krit": "critical", "kritkal": "critical", "genting": "critical", "kecemasan": "critical", "emergency": "critical",
    "high": "high", "tinggi": "high", "p2": "high", "urgent": "high",
    "medium": "medium", "sederhana": "medium", "p3": "medium", "normal": "medium",
    "low": "low", "rendah": "low", "p4": "low",
}  # fmt: skip
STATUS_TERMS: dict[str, str] = {
    "not finished": "open", "not done": "open", "unfinished": "open", "not completed": "open", "not closed": "open", "not yet done": "open", "not resolved": "open",
    "open": "open", "terbuka": "open", "outstanding": "open", "pending": "open", "belum selesai": "open", "tertunggak": "open", "backlog": "open", "active": "open", "aktif": "open", "x siap": "open", "tak siap": "open", "belum siap": "open",
    "unassigned": "unassigned", "not assigned": "unassigned", "belum ditugaskan": "unassigned", "belum diberi": "unassigned", "tiada pasukan": "unassigned", "without a team": "unassigned", "no team": "unassigned", "tak assign": "unassigned", "belum assign": "unassigned", "unasigned": "unassigned", "belum ada team": "unassigned", "belum ada pasukan": "unassigned", "takde team": "unassigned", "takde pasukan": "unassigned", "tak ada team": "unassigned", "tak ada pasukan": "unassigned", "tiada team": "unassigned", "x ada team": "unassigned", "xde team": "unassigned", "belum di-assign": "unassigned", "belum diassign": "unassigned", "blm assign": "unassigned", "x assign": "unassigned", "not yet assigned": "unassigned", "no crew": "unassigned", "blm ada team": "unassigned", "blm ada pasukan": "unassigned", "belum ada crew": "unassigned", "blm ada crew": "unassigned", "takde crew": "unassigned", "tiada crew": "unassigned", "no team yet": "unassigned", "nobody assigned": "unassigned", "no one assigned": "unassigned", "picked up by nobody": "unassigned", "nobody has picked up": "unassigned", "no one has picked up": "unassigned", "nobody picked up": "unassigned", "takde orang ambil": "unassigned", "tiada siapa ambil": "unassigned", "belum ada orang ambil": "unassigned", "without a crew": "unassigned", "nobody assigned": "unassigned", "no one assigned": "unassigned", "unallocated": "unassigned", "waiting for a team": "unassigned", "waiting for a crew": "unassigned", "waiting for team": "unassigned", "menunggu pasukan": "unassigned", "tunggu team": "unassigned", "tunggu pasukan": "unassigned", "belum ada orang ambil": "unassigned", "takde orang ambil": "unassigned", "tak ada orang ambil": "unassigned", "belum diambil": "unassigned", "tak diambil": "unassigned", "x diambil": "unassigned", "not picked up": "unassigned", "nobody has taken": "unassigned", "no one has taken": "unassigned", "unowned": "unassigned", "not allocated": "unassigned",
    "assigned": "assigned", "ditugaskan": "assigned", "diberi": "assigned",
    "in progress": "in_progress", "in-progress": "in_progress", "in_progress": "in_progress", "dalam proses": "in_progress", "sedang dibaiki": "in_progress", "sedang berjalan": "in_progress", "being worked on": "in_progress", "started": "in_progress", "on site": "in_progress", "tgh dibaiki": "in_progress", "tengah dibaiki": "in_progress", "sedang dibuat": "in_progress", "tengah buat": "in_progress", "tgh buat": "in_progress", "being fixed": "in_progress", "being repaired": "in_progress", "ongoing": "in_progress", "in prog": "in_progress", "wip": "in_progress", "work in progress": "in_progress", "sedang dikerjakan": "in_progress", "tengah jalan": "in_progress",
    "completed": "completed", "complete": "completed", "selesai": "completed", "siap": "completed", "diselesaikan": "completed", "done": "completed", "finished": "completed", "finish": "completed", "completing": "completed", "closed out": "completed", "siapkan": "completed", "disiapkan": "completed", "selesaikan": "completed", "menyelesaikan": "completed", "fixed": "completed", "dibaiki": "completed", "resolved": "completed", "solved": "completed", "completd": "completed",
    "closed": "closed", "ditutup": "closed", "tutup": "closed", "close": "completed", "we closed": "completed", "did we close": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "dibatalkan": "cancelled", "batal": "cancelled", "cancel": "cancelled", "batalkan": "cancelled",
    "reopened": "reopened", "dibuka semula": "reopened", "buka semula": "reopened", "re-opened": "reopened", "reopen": "reopened", "re-open": "reopened",
    "start": "in_progress", "mulakan": "in_progress", "mula": "in_progress",
    "belum mula": "assigned", "belum bermula": "assigned", "belum start": "assigned", "blm mula": "assigned", "tak mula lagi": "assigned", "x mula lagi": "assigned", "belum dimulakan": "assigned",
    "not started": "assigned", "not yet started": "assigned", "yet to start": "assigned", "haven't started": "assigned", "hasn't started": "assigned", "waiting to start": "assigned", "not started yet": "assigned",
}  # fmt: skip
CATEGORY_TERMS: dict[str, str] = {
    "fiber": "fiber", "fibre": "fiber", "gentian": "fiber", "gentian optik": "fiber", "fiber optic": "fiber", "ftth": "fiber",
    "copper": "copper", "tembaga": "copper", "dsl": "copper",
    "wireless": "wireless", "tanpa wayar": "wireless", "tower": "wireless", "menara": "wireless",
    "power": "power", "kuasa": "power", "elektrik": "power", "electrical": "power",
    "installation": "installation", "install": "installation", "pemasangan": "installation", "instalation": "installation",
    "equipment": "equipment", "peralatan": "equipment", "router": "equipment", "modem": "equipment",
}  # fmt: skip
METRIC_TERMS: dict[str, str] = {
    "sla": "sla", "slas": "sla", "efficiency": "sla", "kecekapan": "sla", "on time": "sla", "on-time": "sla", "tepat masa": "sla", "within sla": "sla",
    "response time": "response", "response": "response", "respons": "response", "masa respons": "response", "masa tindak balas": "response", "fastest": "response", "paling cepat": "response", "quickest": "response", "slowest": "response", "paling lambat": "response", "laju": "response",
    "rating": "rating", "ratings": "rating", "rated": "rating", "penilaian": "rating", "satisfaction": "rating", "puas hati": "rating", "feedback": "rating", "maklum balas": "rating", "happy customers": "rating", "happiest customers": "rating", "csat": "rating", "review": "rating", "reviews": "rating", "kepuasan": "rating", "bintang": "rating", "stars": "rating", "reting": "rating",
    "completed work": "completed", "most completed": "completed", "buat kerja": "completed", "banyak kerja": "completed", "most work": "completed", "most jobs": "completed", "did the most": "completed", "hardest working": "completed", "paling rajin": "completed", "most tickets completed": "completed", "jobs completed": "completed", "jobs done": "completed", "tickets completed": "completed", "tickets closed": "completed", "completed the most": "completed", "finished the most": "completed", "siapkan kerja": "completed", "kerja siap": "completed", "paling banyak siapkan": "completed", "banyak siapkan": "completed", "throughput": "completed", "paling banyak siap": "completed", "closed the most": "completed", "paling banyak selesai": "completed", "productive": "completed", "produktif": "completed",
    "utilisation": "utilisation", "utilization": "utilisation", "utilisasi": "utilisation", "busiest": "utilisation", "paling sibuk": "utilisation", "sibuk": "utilisation", "workload": "utilisation", "beban kerja": "utilisation", "loaded": "utilisation", "kapasiti digunakan": "utilisation", "utilised": "utilisation", "utilized": "utilisation",
    "backlog": "backlog", "tertunggak": "backlog", "open tickets": "backlog", "tiket terbuka": "backlog",
    "overdue": "overdue", "lewat": "overdue", "late": "overdue", "melebihi sla": "overdue", "breach": "overdue", "breached": "overdue", "breaching": "overdue", "lepas tarikh akhir": "overdue", "melebihi tarikh akhir": "overdue", "melepasi tarikh akhir": "overdue", "lewat tarikh akhir": "overdue", "lepas due": "overdue", "lewat due": "overdue", "over due": "overdue", "past deadline": "overdue", "missed deadline": "overdue", "missed the deadline": "overdue", "past the deadline": "overdue", "breaches": "overdue", "past due": "overdue", "past their due": "overdue", "missed sla": "overdue", "melepasi sla": "overdue", "terlepas sla": "overdue", "langgar sla": "overdue", "lambat": "overdue", "overdue": "overdue",
    "new tickets": "created", "tiket baru": "created", "tiket baharu": "created", "created": "created", "incoming": "created", "dicipta": "created", "masuk": "created",
}  # fmt: skip
ASC_WORDS = ("worst", "lowest", "least", "fewest", "paling rendah", "paling sikit", "paling sedikit", "paling teruk", "teruk", "terendah", "paling kurang", "bottom", "poorest", "slowest", "paling lambat", "smallest", "terkecil")
ORDINALS = {
    "first": 1, "1st": 1, "pertama": 1, "second": 2, "2nd": 2, "kedua": 2, "third": 3, "3rd": 3, "ketiga": 3,
    "fourth": 4, "4th": 4, "keempat": 4, "fifth": 5, "5th": 5, "kelima": 5, "last one": -1, "terakhir": -1,
}  # fmt: skip
MS_MARKERS = {
    "berapa", "banyak", "tiket", "pasukan", "kenapa", "mengapa", "zon", "mana", "paling", "yang", "di", "untuk", "ada", "siapa", "bila",
    "apa", "dan", "tak", "tidak", "belum", "semalam", "minggu", "bulan", "hari", "ini", "lepas", "senarai", "senaraikan", "tunjuk", "tunjukkan",
    "ramalan", "sampai", "akan", "buat", "sedang", "tolong", "boleh", "kah", "lagi", "je", "jer", "ke", "dah", "sudah", "kita", "saya",
    "terbuka", "kritikal", "tinggi", "rendah", "selesai", "siap", "lewat", "tertunggak", "kalau", "jika", "tukar", "beri", "berikan", "negeri", "sahaja", "saja",
    "pula", "macam", "mana", "dgn", "dengan", "yg", "utk", "brp", "knp", "ni", "tu", "nak", "hari", "sekarang", "esok", "hantar", "bagi",
}  # fmt: skip
EN_MARKERS = {
    "how", "many", "what", "which", "why", "when", "who", "the", "is", "are", "was", "in", "of", "show", "list", "tickets", "team", "teams", "zone",
    "zones", "most", "best", "worst", "today", "yesterday", "week", "month", "last", "this", "and", "only", "please", "give", "me", "will", "does",
    "do", "it", "reach", "doing", "if", "goes", "offline", "late", "open", "assign", "change", "status", "to", "for", "by", "with",
}  # fmt: skip

_TICKET_NO = re.compile(r"\btkt[-\s]?(\d{4})[-\s]?(\d{1,12})\b", re.IGNORECASE)
_TICKET_SHORT = re.compile(r"(?<![\w-])(20\d{2})-(\d{1,6})(?![\w-])")  # "ticket 2026-38": year and sequence without the prefix
_TICKET_ID = re.compile(r"(?:\b(?:ticket|tiket|tkt|id)\s*(?:no\.?|number|nombor|num|id|#)?\s*#?|#)\s*(\d{1,12})\b", re.IGNORECASE)
_TEAM_ID = re.compile(r"\b(?:team|pasukan|unit|pskn|tim|crew|kru|squad|skuad|grup)\s*(?:no\.?|number|nombor|#|id)?\s*#?(\d{1,5})\b", re.IGNORECASE)
_TOP_N = re.compile(r"\b(?:top|best|worst|bottom|first|teratas|terbaik|senarai)\s+(\d{1,2})\b|\b(\d{1,2})\s+(?:teratas|terbaik|terburuk|pasukan|teams|zones|zon)\b", re.IGNORECASE)
_HORIZON = re.compile(r"\b(?:next|coming|dalam|untuk|for the next)\s+(\d{1,2})\s+(?:days|hari)\b|\b(\d{1,2})\s+(?:days|hari)\s+(?:akan datang|ahead|lagi|from now)\b", re.IGNORECASE)
_NEGATION = re.compile(r"(?:\b(?:belum|blm|tak|x|tidak|not|never|yet to be|not yet|masih belum)\s*)$")
_OLDER = re.compile(r"\b(?:older than|more than|over|lebih dari(?:pada)?|lebih|melebihi)\s+(\d{1,3})\s*(days?|hari|hours?|jam|weeks?|minggu)(?:\s+(?:old|lama|ago))?\b|\b(\d{1,3})\s*(days?|hari|hours?|jam|weeks?|minggu)\s+(?:old|or older|atau lebih)\b")
_STOP_FUZZY = {"bulan", "lepas", "depan", "tahun", "minggu ini", "bulan ini", "bulan lepas", "kecekapan", "status", "statuses", "tickets", "ticket", "teams", "which", "where", "sebab", "semua", "sahaja", "selesai", "terbuka", "tertunggak", "paling", "banyak", "minggu", "bulan", "semalam", "kenapa", "pasukan", "senarai", "berapa", "sampai", "selepas", "sebelum", "johor", "kedua", "ketiga", "pertama", "tinggi", "rendah", "sederhana", "hari", "kelima", "keempat", "backlog", "stats", "sabar", "pegang", "senang", "pulang", "petang", "sedang", "kurang", "barang", "jabatan", "perlu", "pahat", "rating", "ratings", "penang", "perak", "pahang", "perlis", "offline", "online", "assign", "dengan", "setiap", "capai", "kapasiti", "tugaskan", "laporan", "pending"}


_COMMON = MS_MARKERS | EN_MARKERS | _STOP_FUZZY | {w for t in (*STATUS_TERMS, *METRIC_TERMS, *CATEGORY_TERMS, *PRIORITY_TERMS) for w in t.split()}


@dataclass
class Entities:
    zones: list[str] = field(default_factory=list)
    tickets: list[str | int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    priority: str | None = None
    status: str | None = None
    category: str | None = None
    metric: str | None = None
    ascending: bool = False
    worst: bool = False
    limit: int | None = None
    ordinal: int | None = None
    range: DateRange | None = None
    older_than_hours: int | None = None
    oldest: bool = False
    horizon: int | None = None
    language: str = "en"
    masked: str = ""

    @property
    def zone(self) -> str | None:
        return self.zones[0] if self.zones else None

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, [], False, "") and k not in ("masked", "range")}
        if self.range is not None:
            out["range"] = self.range.as_dict()
        return out


def _find_terms(low: str, terms: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, value) of every term occurrence, longest terms first, no overlaps."""
    taken: list[tuple[int, int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w-]){re.escape(term)}(?:'s)?(?![\w-])", low):
            if not any(m.start() < e and s < m.end() for s, e, _ in taken):
                taken.append((m.start(), m.end(), terms[term]))
    return sorted(taken)


def _fuzzy_terms(low: str, terms: dict[str, str], taken: list[tuple[int, int, str]], cutoff: float = 0.82) -> list[tuple[int, int, str]]:
    """Misspelt terms (e.g. 'selngor', 'kelantn', 'kritkal'): words or word pairs close to a term of 5+ letters."""
    found = []
    keys = [t for t in terms if len(t) >= 5]
    words = list(re.finditer(r"[a-z]+", low))
    for n in (2, 1):
        for i in range(len(words) - n + 1):
            s, e = words[i].start(), words[i + n - 1].end()
            text = low[s:e]
            if len(text) < 5 or text in _STOP_FUZZY or all(w.group() in _COMMON for w in words[i : i + n]) or any(s < te and ts < e for ts, te, _ in taken + found):
                continue
            match = difflib.get_close_matches(text, keys, n=1, cutoff=cutoff)
            if match:
                found.append((s, e, terms[match[0]]))
    return found


def _priority(low: str) -> list[tuple[int, int, str]]:
    hits = []
    for s, e, v in _find_terms(low, PRIORITY_TERMS):
        before = low[max(0, s - 12) : s]
        word = low[s:e]
        if re.match(r"\s*(priority|prio|keutamaan)", low[e:]) or re.search(r"(keutamaan|priority|prioriti)\s*$", before):
            hits.append((s, e, v))
            continue
        if word in ("tinggi", "rendah", "high", "low", "normal") and re.search(r"(paling|lebih|most|more|very|sangat|amat)\s*$", before):
            continue  # "paling tinggi" = highest, not a priority
        if word in ("high", "low") and re.match(r"\s*(backlog|load|beban|number|count|volume)", low[e:]):
            continue
        hits.append((s, e, v))
    return hits


def language_of(low: str) -> str:
    words = re.findall(r"[a-z]+", low)
    ms = sum(w in MS_MARKERS for w in words)
    en = sum(w in EN_MARKERS for w in words)
    return "ms" if ms > en or (ms and ms == en) else "en"


def extract(message: str, teams: dict[str, int] | None = None, now: datetime | None = None) -> Entities:
    """Entities of a message; `teams` maps lowercased team names (and short names) to ids."""
    text = " ".join(message.strip().split())
    low = text.lower()
    ent = Entities(language=language_of(low))
    spans: list[tuple[int, int, str]] = []

    for m in _TICKET_NO.finditer(text):
        ent.tickets.append(f"TKT-{m.group(1)}-{int(m.group(2)):06d}")
        spans.append((m.start(), m.end(), "TICKET"))
    for m in _TICKET_SHORT.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e, _ in spans):
            ent.tickets.append(f"TKT-{m.group(1)}-{int(m.group(2)):06d}")
            spans.append((m.start(), m.end(), "TICKET"))
    for m in _TICKET_ID.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e, _ in spans):
            ent.tickets.append(int(m.group(1)))
            spans.append((m.start(), m.end(), "TICKET"))
    for m in _TEAM_ID.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e, _ in spans):
            ent.team_ids.append(int(m.group(1)))
            spans.append((m.start(), m.end(), "TEAM"))
    if teams:
        for s, e, tid in _find_terms(low, {k: str(v) for k, v in teams.items()}):
            if not any(s < e2 and s2 < e for s2, e2, _ in spans):
                ent.team_ids.append(int(tid))
                spans.append((s, e, "TEAM"))
    zone_hits = [h for h in _find_terms(low, ZONE_TERMS) if not any(h[0] < e and s < h[1] for s, e, _ in spans)]
    zone_hits += _fuzzy_terms(low, {k: v for k, v in ZONE_TERMS.items() if len(k) >= 5}, spans + zone_hits, cutoff=0.8)
    for s, e, z in sorted(zone_hits):
        if z not in ent.zones:
            ent.zones.append(z)
        spans.append((s, e, "ZONE"))
    pri = _priority(low)
    pri = [h for h in pri if not any(h[0] < e and s < h[1] for s, e, _ in spans)]
    pri += _fuzzy_terms(low, {k: v for k, v in PRIORITY_TERMS.items() if len(k) >= 7}, spans + pri, cutoff=0.8)
    if pri:
        ent.priority = pri[0][2]
    for table, attr in ((STATUS_TERMS, "status"), (CATEGORY_TERMS, "category"), (METRIC_TERMS, "metric")):
        hits = [h for h in _find_terms(low, table) if not any(h[0] < e and s < h[1] for s, e, _ in spans if _ in ("TICKET", "TEAM", "ZONE"))]
        if hits:
            value = hits[0][2]
            if attr == "status" and value in ("completed", "closed", "assigned") and _NEGATION.search(low[max(0, hits[0][0] - 12) : hits[0][0]]):
                value = "open" if value != "assigned" else "unassigned"  # "belum siap", "not yet completed", "tak assign"
            setattr(ent, attr, value)
    ent.oldest = re.search(r"\b(oldest|longest waiting|waiting longest|paling lama|paling lma|terlama|tertua)\b", low) is not None
    ent.worst = re.search(r"\b(worst|teruk|terburuk|paling teruk)\b", low) is not None
    ent.ascending = any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", low) for w in ASC_WORDS)
    if (m := _TOP_N.search(low)) is not None:
        ent.limit = max(1, min(50, int(m.group(1) or m.group(2))))
    for w, n in ORDINALS.items():
        if re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", low):
            ent.ordinal = n
            break
    if (m := re.search(r"\b(?:no\.?|number|nombor|nombor ke|yang ke|ke-?|#)\s*(\d)\b(?!\d)", low)) and ent.ordinal is None and not ent.tickets:
        ent.ordinal = int(m.group(1))
    if (m := _OLDER.search(low)) is not None:
        n = int(m.group(1) or m.group(3))
        unit = m.group(2) or m.group(4)
        ent.older_than_hours = n * (24 if unit.startswith(("day", "hari")) else 168 if unit.startswith(("week", "minggu")) else 1)
        low_for_range = low[: m.start()] + low[m.end() :]
    else:
        low_for_range = low
    ent.range = parse_range(low_for_range, now)
    if (m := _HORIZON.search(low)) is not None:
        ent.horizon = max(1, min(30, int(m.group(1) or m.group(2))))
    elif re.search(r"\b(next month|bulan depan|30 days|30 hari)\b", low):
        ent.horizon = 30
    elif re.search(r"\b(two weeks|2 weeks|dua minggu|2 minggu|14 days|14 hari|fortnight)\b", low):
        ent.horizon = 14
    elif re.search(r"\b(tomorrow|esok|besok)\b", low):
        ent.horizon = 1
    ent.masked = mask(low, spans)
    return ent


def mask(low: str, spans: list[tuple[int, int, str]]) -> str:
    out, at = [], 0
    for s, e, tag in sorted(spans):
        if s < at:
            continue
        out.append(low[at:s])
        out.append(f" {tag} ")
        at = e
    out.append(low[at:])
    masked = "".join(out)
    masked = re.sub(r"\b\d+\b", " NUM ", masked)
    return " ".join(masked.split())
