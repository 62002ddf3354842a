"""Date ranges in English and Malay ("today", "semalam", "minggu lepas", "last 3 days"), in Malaysian days.

A range is [start, end) in UTC, computed from the Malaysian calendar (UTC+8): "this week" starts on Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

MYT = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class DateRange:
    label: str
    start: datetime
    end: datetime

    def as_dict(self) -> dict:
        return {"label": self.label, "from": self.start.isoformat(), "to": self.end.isoformat()}


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=MYT).astimezone(UTC)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _prev_month_start(d: date) -> date:
    first = d.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


_N_DAYS = re.compile(r"\b(?:last|past|previous|lepas|lalu|dalam|sejak|in the last)\s+(\d{1,3})\s+(?:days?|hari)\b|\b(\d{1,3})\s+(?:days?|hari)\s+(?:lepas|lalu|terakhir|yang lalu|ago|back)\b")
_NUM_WORDS = {"two": "2", "dua": "2", "three": "3", "tiga": "3", "four": "4", "empat": "4"}
# "tiga hari lepas", "past five days": number words before a day/week unit are read as digits first.
_DAY_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fourteen": 14, "thirty": 30,
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "lapan": 8, "sembilan": 9, "sepuluh": 10, "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}  # fmt: skip
_NUMBER_UNIT = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _DAY_NUMBERS), key=len, reverse=True)) + r")\s+(days?|hari)\b")
_TODAY_PARTS = re.compile(r"\b(this morning|this afternoon|this evening|since morning|pagi tadi|pagi ni|pagi ini|petang tadi|petang ni|tengah hari tadi|tadi pagi|awal pagi tadi)\b")
_N_WEEKS = re.compile(r"\b(?:last|past|previous|in the last)\s+(\d{1,2}|two|three|four)\s+weeks?\b|\b(\d{1,2}|dua|tiga|empat)\s+minggu\s+(?:lepas|lalu|terakhir)\b")
_WORDS: list[tuple[str, tuple[str, ...]]] = [
    # Kamus Dewan: "kelmarin" is the day before "semalam" (yesterday).
    ("day_before_yesterday", ("day before yesterday", "the day before yesterday", "kelmarin", "kelmarin dulu", "hari kelmarin")),
    ("yesterday", ("yesterday", "semalam", "smlm", "yday", "ystrdy", "yesterdy")),
    ("today", ("today", "hari ini", "harini", "hr ni", "hari ni", "todays", "today's", "tdy", "2day")),
    ("last_week", ("last week", "previous week", "minggu lepas", "minggu lalu", "mgu lepas", "minggu sudah", "past week's")),
    ("this_week", ("this week", "minggu ini", "minggu ni", "mgu ni", "this wk", "current week", "so far this week", "since monday", "sejak isnin", "dari isnin", "mulai isnin", "since the start of the week", "awal minggu", "this wk", "mgu ini")),
    ("last_month", ("last month", "previous month", "bulan lepas", "bulan lalu", "bln lepas", "bulan sudah")),
    ("this_month", ("this month", "bulan ini", "bulan ni", "bln ni", "current month", "month to date", "so far this month", "since the 1st", "sejak awal bulan", "awal bulan ni", "mtd")),
]


def parse_range(low: str, now: datetime | None = None) -> DateRange | None:
    """The date range a lowercased message names, or None."""
    now = now or datetime.now(UTC)
    today = now.astimezone(MYT).date()
    low = _NUMBER_UNIT.sub(lambda m: f"{_DAY_NUMBERS[m.group(1)]} {m.group(2)}", low)
    if (m := _N_DAYS.search(low)) is not None:
        n = max(1, min(365, int(m.group(1) or m.group(2))))
        return DateRange(f"last_{n}_days", _day_start(today - timedelta(days=n - 1)), _day_start(today + timedelta(days=1)))
    if (m := _N_WEEKS.search(low)) is not None:
        n = 7 * max(1, min(52, int(_NUM_WORDS.get(m.group(1) or m.group(2), m.group(1) or m.group(2)))))
        return DateRange(f"last_{n}_days", _day_start(today - timedelta(days=n - 1)), _day_start(today + timedelta(days=1)))
    if re.search(r"\b(this year|tahun ini|tahun ni|year to date|ytd)\b", low):
        return named_range("this_year", now)
    if _TODAY_PARTS.search(low):
        return named_range("today", now)  # "pagi tadi", "since this morning": counted from the start of today
    for label, words in _WORDS:
        if any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", low) for w in words):
            return named_range(label, now)
    return None


def named_range(label: str, now: datetime | None = None) -> DateRange:
    now = now or datetime.now(UTC)
    today = now.astimezone(MYT).date()
    tomorrow = _day_start(today + timedelta(days=1))
    monday = today - timedelta(days=today.weekday())
    if label == "today":
        return DateRange(label, _day_start(today), tomorrow)
    if label == "yesterday":
        return DateRange(label, _day_start(today - timedelta(days=1)), _day_start(today))
    if label == "day_before_yesterday":
        return DateRange(label, _day_start(today - timedelta(days=2)), _day_start(today - timedelta(days=1)))
    if label == "this_week":
        return DateRange(label, _day_start(monday), tomorrow)
    if label == "last_week":
        return DateRange(label, _day_start(monday - timedelta(days=7)), _day_start(monday))
    if label == "this_month":
        return DateRange(label, _day_start(_month_start(today)), tomorrow)
    if label == "this_year":
        return DateRange(label, _day_start(today.replace(month=1, day=1)), tomorrow)
    if label == "last_month":
        return DateRange(label, _day_start(_prev_month_start(today)), _day_start(_month_start(today)))
    if label.startswith("last_") and label.endswith("_days"):
        n = int(label.split("_")[1])
        return DateRange(label, _day_start(today - timedelta(days=n - 1)), tomorrow)
    raise ValueError(f"unknown range {label}")


LABELS = {
    "en": {"this_year": "this year", "today": "today", "yesterday": "yesterday", "day_before_yesterday": "the day before yesterday", "this_week": "this week", "last_week": "last week", "this_month": "this month", "last_month": "last month"},
    "ms": {"this_year": "tahun ini", "today": "hari ini", "yesterday": "semalam", "day_before_yesterday": "kelmarin", "this_week": "minggu ini", "last_week": "minggu lepas", "this_month": "bulan ini", "last_month": "bulan lepas"},
}


def describe(label: str, lang: str) -> str:
    if label.startswith("last_") and label.endswith("_days"):
        n = label.split("_")[1]
        return f"{n} hari lepas" if lang == "ms" else f"the last {n} days"
    return LABELS[lang].get(label, label)
