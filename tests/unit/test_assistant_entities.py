"""Entity extraction, Malay/English date ranges and the intent model of the assistant (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiff.assistant.dates import parse_range
from aiff.assistant.entities import extract
from aiff.assistant.model import load_paraphrases, model

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # Tuesday 1 Dec 03:00 in Malaysia


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("hari ini", "today", "2026-11-30T16:00:00+00:00", "2026-12-01T16:00:00+00:00"),
        ("semalam", "yesterday", "2026-11-29T16:00:00+00:00", "2026-11-30T16:00:00+00:00"),
        ("minggu ini", "this_week", "2026-11-29T16:00:00+00:00", "2026-12-01T16:00:00+00:00"),
        ("minggu lepas", "last_week", "2026-11-22T16:00:00+00:00", "2026-11-29T16:00:00+00:00"),
        ("bulan lepas", "last_month", "2026-10-31T16:00:00+00:00", "2026-11-30T16:00:00+00:00"),
        ("last 3 days", "last_3_days", "2026-11-28T16:00:00+00:00", "2026-12-01T16:00:00+00:00"),
        ("dua minggu lepas", "last_14_days", "2026-11-17T16:00:00+00:00", "2026-12-01T16:00:00+00:00"),
    ],
)
def test_malaysian_calendar_ranges(text, label, start, end):
    r = parse_range(text, NOW)
    assert (r.label, r.start.isoformat(), r.end.isoformat()) == (label, start, end)


def test_entities_in_both_languages_with_typos():
    e = extract("berapa tiket kritkal yg blm siap di kelantn semalam", now=NOW)
    assert (e.zone, e.priority, e.status, e.range.label, e.language) == ("Kelantan", "critical", "open", "yesterday", "ms")
    e = extract("why is tkt-2026-999 late in penang?")
    assert e.tickets == ["TKT-2026-000999"] and e.zone == "Pulau Pinang" and e.metric == "overdue" and e.language == "en"
    assert extract("zon mana paling tinggi backlog").priority is None  # "paling tinggi" = highest, not a priority
    assert extract("which state has the most low priority tickets").priority == "low"
    assert extract("pasukan 43 pegang berapa tiket").zones == []  # "pegang" is not "Penang"
    assert extract("compare johor and KL").zones == ["Johor", "Kuala Lumpur"]
    teams = {"unit kuching 03": 41}
    e = extract("apa Unit Kuching 03 buat hari ni", teams)
    assert e.team_ids == [41] and e.zones == []  # the team's name is not the zone Sarawak
    assert extract("the second one").ordinal == 2 and extract("yang ketiga").ordinal == 3
    assert extract("open tickets older than 3 days").older_than_hours == 72


def test_intent_model_generalises_to_unseen_phrasing():
    seen = {p for _, p in load_paraphrases()}
    cases = {
        "zon mana backlog paling besar": "rank_zones",
        "how many critical jobs are still pending in ZONE": "count_tickets",
        "when does the crew arrive at TICKET": "ticket_eta",
        "kenapa TICKET lambat": "explain_late",
        "apa akan jadi kalau TEAM tak bertugas": "what_if_offline",
        "which crew has the best customer rating": "rank_teams",
    }
    for text, intent in cases.items():
        assert text not in seen
        assert model().predict(text).intent == intent, text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("brp tiket belum ada team kat Wilayah", {"status": "unassigned", "zones": ["Kuala Lumpur"]}),
        ("jobs waiting for a crew in Penang", {"status": "unassigned", "zones": ["Pulau Pinang"]}),
        ("brp tiket yg tgh dibaiki skrg", {"status": "in_progress"}),
        ("how many crit tickets still open", {"priority": "critical", "status": "open"}),
        ("tickets breaching SLA in Sarawak", {"metric": "overdue", "zones": ["Sarawak"]}),
        ("kes yang lepas tarikh akhir", {"metric": "overdue"}),
        ("pasukan mana paling ramai pelanggan puas hati", {"metric": "rating"}),
        ("suppose crew 5 drops out", {"team_ids": [5]}),
    ],
)
def test_slang_and_abbreviations(text, want):
    ent = extract(text, now=NOW)
    assert {k: getattr(ent, k) for k in want} == want


def test_since_monday_is_this_week():
    assert parse_range("tickets raised since monday", NOW).label == "this_week"
    assert parse_range("tiket dibuka sejak isnin", NOW).label == "this_week"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("tiket masuk lima hari lepas", "last_5_days"),
        ("in the past seven days", "last_7_days"),
        ("last ten days", "last_10_days"),
        ("dalam tiga hari", "last_3_days"),
        ("since this morning", "today"),
        ("tiket baru pagi tadi", "today"),
    ],
)
def test_number_words_and_parts_of_today(text, label):
    assert parse_range(text, NOW).label == label


def test_not_started_short_ticket_numbers_and_why_late():
    assert extract("tiket dah assign tapi belum mula kat Melaka").status == "assigned"
    assert extract("assigned tickets not started yet").status == "assigned"
    assert extract("dah mula ke belum").status == "in_progress"  # a lone "mula" stays in progress
    assert extract("pull up ticket 2026-38").tickets == ["TKT-2026-000038"]
    assert extract("tickets created 2026-11-30").tickets == []  # a date is not a ticket
    from aiff.assistant.engine import decide

    ent = extract("how come TKT-2026-000123 missed its deadline")
    assert decide("how come TKT-2026-000123 missed its deadline", ent, {})[0] == "explain_late"


def test_why_without_a_team_explains_the_missing_assignment():
    from aiff.assistant.engine import decide

    assert extract("tiket high yg blm ada team kat Perak").status == "unassigned"
    text = "kenapa TKT-2026-000321 blm ada team lagi"
    assert decide(text, extract(text), {})[0] == "explain_unassigned"


def test_kelmarin_is_the_day_before_yesterday() -> None:
    from datetime import UTC, datetime

    from aiff.assistant.dates import parse_range

    now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 MYT, a Monday
    kelmarin, semalam = parse_range("berapa tiket baru kelmarin", now), parse_range("berapa tiket baru semalam", now)
    assert (kelmarin.label, semalam.label) == ("day_before_yesterday", "yesterday")
    assert kelmarin.end == semalam.start and (semalam.start - kelmarin.start).days == 1
    assert parse_range("tickets the day before yesterday", now).label == "day_before_yesterday"
