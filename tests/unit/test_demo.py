"""Demo data generator: determinism, contract validity, lifecycle, capacity and realism of the history."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aiff.demo import DemoData, generate, iter_ticket_events, setup_events
from aiff.demo.places import PLACES, PLACES_BY_ZONE, in_malaysia
from aiff.events.registry import decode
from aiff.events.teams import TeamCreated, ZoneConfigured
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged
from aiff.events.vocabulary import ACTIVE_STATUSES, OPEN_STATUSES, SKILLS, SLA_HOURS, transition_error
from aiff.geo import haversine_km
from aiff.zones import ZONES, ZONES_BY_NAME

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
MYT = timezone(timedelta(hours=8))
PLACE_BY_NAME = {p.name: p for p in PLACES}


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=42, now=NOW)


@pytest.fixture(scope="module")
def created(data: DemoData) -> dict[int, TicketCreated]:
    return {e.data.ticket_id: e for e in data.ticket_events if isinstance(e, TicketCreated)}


@pytest.fixture(scope="module")
def teams(data: DemoData) -> dict[int, TeamCreated]:
    return {e.data.team_id: e for e in data.team_events}


@pytest.fixture(scope="module")
def final_status(data: DemoData) -> dict[int, str]:
    status: dict[int, str] = {}
    for e in data.ticket_events:
        if isinstance(e, TicketCreated):
            status[e.data.ticket_id] = "open"
        elif isinstance(e, TicketAssigned):
            status[e.data.ticket_id] = "assigned"
        else:
            status[e.data.ticket_id] = e.data.status
    return status


def _json(events) -> list[bytes]:
    return [e.to_json() for e in events]


# --------------------------------------------------------------------------- determinism and contract
def test_same_seed_gives_identical_events(data: DemoData) -> None:
    again = generate(seed=42, now=NOW)
    assert _json(again.events) == _json(data.events)
    assert again.counts == data.counts


def test_different_seed_gives_different_events(data: DemoData) -> None:
    other = generate(seed=43, now=NOW)
    assert _json(other.ticket_events) != _json(data.ticket_events)
    assert _json(other.team_events) != _json(data.team_events)
    assert {e.id for e in other.events}.isdisjoint({e.id for e in data.events})


def test_every_event_round_trips_through_the_registry(data: DemoData) -> None:
    for event in data.events:
        decoded = decode(event.to_json())
        assert type(decoded) is type(event)
        assert decoded.model_dump() == event.model_dump()
        assert event.source == "urn:aiff:demo"
        assert event.time.tzinfo is not None


def test_event_ids_unique_and_tickets_keyed_and_correlated(data: DemoData, created) -> None:
    assert len({e.id for e in data.events}) == len(data.events)
    for e in data.ticket_events:
        assert e.subject == str(e.data.ticket_id)
        assert e.correlationid == created[e.data.ticket_id].data.ticket_number


def test_iterator_and_setup_match_generate(data: DemoData) -> None:
    chunks = list(iter_ticket_events(seed=42, now=NOW, chunk_size=700))
    assert all(0 < len(c) <= 700 for c in chunks)
    assert _json(e for c in chunks for e in c) == _json(data.ticket_events)
    assert _json(setup_events(seed=42, now=NOW)) == _json([*data.zone_events, *data.team_events])


def test_default_now_is_the_current_hour() -> None:
    small = generate(teams=15, tickets=20, days=7)
    assert small.now.minute == small.now.second == small.now.microsecond == 0
    assert abs(datetime.now(UTC) - small.now) < timedelta(hours=1, minutes=1)


# --------------------------------------------------------------------------- zones and teams
def test_zone_events(data: DemoData) -> None:
    assert len(data.zone_events) == 15
    assert all(isinstance(e, ZoneConfigured) for e in data.zone_events)
    assert [e.data.zone for e in data.zone_events] == [z.name for z in ZONES]
    modes = Counter(e.data.assignment_mode for e in data.zone_events)
    assert 2 <= modes["manual"] <= 3 and modes["auto"] == 15 - modes["manual"]
    assert data.counts["zones"] == 15


def test_teams(data: DemoData, teams) -> None:
    assert sorted(teams) == list(range(1, 151)) and data.counts["teams"] == 150
    names = [t.data.name for t in teams.values()]
    assert len(set(names)) == len(names)
    assert {t.data.zone for t in teams.values()} == set(ZONES_BY_NAME)
    statuses = Counter(t.data.status for t in teams.values())
    assert statuses["available"] >= 0.7 * 150
    assert statuses["busy"] + statuses["offline"] + statuses["on_leave"] >= 3
    for t in teams.values():
        d = t.data
        assert 2 <= len(d.skills) <= 4 and set(d.skills) <= set(SKILLS)
        assert 3 <= d.capacity <= 8
        assert 2 <= len(d.members) <= 4 and len(set(d.members)) == len(d.members)
        place = PLACE_BY_NAME[d.base_town]
        assert place.zone == d.zone
        assert in_malaysia(d.latitude, d.longitude)
        assert haversine_km(place.latitude, place.longitude, d.latitude, d.longitude) <= 3.05
    # Every zone can serve every skill with its own teams.
    by_zone: dict[str, set[str]] = defaultdict(set)
    for t in teams.values():
        by_zone[t.data.zone] |= set(t.data.skills)
    assert all(skills == set(SKILLS) for skills in by_zone.values())
    # Bigger states get more teams.
    per_zone = Counter(t.data.zone for t in teams.values())
    assert per_zone["Selangor"] > per_zone["Perlis"] and per_zone["Sabah"] > per_zone["Labuan"]


def test_places_are_real_and_inside_their_state() -> None:
    assert len(PLACES) >= 120
    assert len({p.name for p in PLACES}) == len(PLACES)
    for zone in ZONES:
        places = PLACES_BY_ZONE[zone.name]
        assert len(places) >= 6
        assert any(p.name == zone.capital or (zone.capital == "Victoria" and p.name == "Victoria") for p in places)
        for p in places:
            assert in_malaysia(p.latitude, p.longitude), p
            assert p.radius_km <= 5
            # Sarawak is ~700 km long; everything else is far more compact.
            limit = 700 if zone.name == "Sarawak" else 400 if zone.name == "Sabah" else 260
            assert haversine_km(zone.latitude, zone.longitude, p.latitude, p.longitude) <= limit, p
    borneo = {p.zone for p in PLACES if p.longitude > 109}
    assert borneo == {"Sabah", "Sarawak", "Labuan"}


# --------------------------------------------------------------------------- tickets
def test_ticket_counts_and_history_span(data: DemoData, created) -> None:
    assert sorted(created) == list(range(1, 1001))
    assert data.counts["tickets"] == 1000
    times = [e.time for e in data.ticket_events]
    assert times == sorted(times)
    first = min(e.time for e in created.values())
    assert NOW - first >= timedelta(days=89, hours=12)
    assert all(NOW - timedelta(days=90) <= t <= NOW for t in times)
    assert max(e.time for e in data.team_events) < first and max(e.time for e in data.zone_events) < first


def test_ticket_fields(created) -> None:
    for tid, e in created.items():
        d = e.data
        assert d.ticket_number == f"TKT-{e.time.astimezone(MYT).year}-{tid:06d}"
        assert d.zone in ZONES_BY_NAME and d.category in SKILLS
        assert d.due_date == e.time + timedelta(hours=SLA_HOURS[d.priority])
        place = PLACE_BY_NAME[d.location]
        assert place.zone == d.zone
        assert in_malaysia(d.latitude, d.longitude)
        assert haversine_km(place.latitude, place.longitude, d.latitude, d.longitude) <= 5.05
        assert d.title and d.description
    zones = Counter(e.data.zone for e in created.values())
    assert set(zones) == set(ZONES_BY_NAME)
    assert zones["Selangor"] > zones["Johor"] > zones["Melaka"] > zones["Labuan"]
    priorities = Counter(e.data.priority for e in created.values())
    assert 0.02 <= priorities["critical"] / 1000 <= 0.09
    assert 0.15 <= priorities["high"] / 1000 <= 0.25
    assert 0.39 <= priorities["medium"] / 1000 <= 0.51
    assert 0.24 <= priorities["low"] / 1000 <= 0.36


def test_every_ticket_follows_the_lifecycle(data: DemoData) -> None:
    status: dict[int, str] = {}
    for e in data.ticket_events:
        tid = e.data.ticket_id
        if isinstance(e, TicketCreated):
            assert tid not in status
            status[tid] = "open"
            continue
        assert tid in status, "event before creation"
        target = "assigned" if isinstance(e, TicketAssigned) else e.data.status
        assert transition_error(status[tid], target) is None, (tid, status[tid], target)
        status[tid] = target


def test_capacity_is_never_exceeded(data: DemoData, teams) -> None:
    load: Counter[int] = Counter()
    holder: dict[int, int] = {}
    peak = 0
    for e in data.ticket_events:
        tid = e.data.ticket_id
        if isinstance(e, TicketAssigned):
            if tid in holder:
                load[holder[tid]] -= 1
            holder[tid] = e.data.team_id
            load[e.data.team_id] += 1
            assert load[e.data.team_id] <= teams[e.data.team_id].data.capacity, e
            peak = max(peak, load[e.data.team_id])
        elif isinstance(e, TicketStatusChanged) and e.data.status not in ACTIVE_STATUSES and tid in holder:
            load[holder.pop(tid)] -= 1
    assert min(load.values()) >= 0
    assert peak >= 3  # the live backlog actually fills teams up
    # Teams that are offline or on leave now hold no active tickets.
    for team_id, n in load.items():
        if n:
            assert teams[team_id].data.status in ("available", "busy")


def test_assignments(data: DemoData, created, teams) -> None:
    manual_zones = {e.data.zone for e in data.zone_events if e.data.assignment_mode == "manual"}
    assignments = [e for e in data.ticket_events if isinstance(e, TicketAssigned)]
    assert len(assignments) >= 700
    same_zone = 0
    for a in assignments:
        ticket, team = created[a.data.ticket_id].data, teams[a.data.team_id].data
        assert a.data.strategy in ("nearest", "manual")
        assert a.data.assigned_to in team.members
        assert ticket.category in team.skills
        expected = haversine_km(team.latitude, team.longitude, ticket.latitude, ticket.longitude)
        assert a.data.distance_km == pytest.approx(expected, abs=0.01)
        if ticket.zone in manual_zones:
            assert a.data.strategy == "manual" and a.data.assigned_by.startswith("dispatcher.") and a.data.frozen
        if a.data.strategy == "nearest":
            assert a.data.assigned_by == "engine"
        same_zone += team.zone == ticket.zone
        delay = a.time - created[a.data.ticket_id].time
        assert delay >= timedelta(minutes=1)
    assert same_zone >= 0.95 * len(assignments)
    strategies = Counter(a.data.strategy for a in assignments)
    assert strategies["nearest"] > strategies["manual"] > 0
    assert any(a.data.replaces_team_id for a in assignments)


def test_backlog_is_open_at_the_end(data: DemoData, final_status) -> None:
    statuses = Counter(final_status.values())
    open_or_active = sum(statuses[s] for s in OPEN_STATUSES)
    assert open_or_active >= 0.25 * 1000
    assert statuses["open"] > 0 and statuses["assigned"] > 0 and statuses["in_progress"] > 0
    assert statuses["closed"] > statuses["completed"] > 0
    assert data.counts["status_at_now"] == {k: v for k, v in sorted(statuses.items())}
    assert data.counts["backlog_share"] >= 0.25


def test_sla_misses_reopenings_cancellations(data: DemoData, created) -> None:
    first_completion: dict[int, datetime] = {}
    reopened, cancelled = set(), set()
    for e in data.ticket_events:
        if isinstance(e, TicketStatusChanged):
            if e.data.status == "completed":
                first_completion.setdefault(e.data.ticket_id, e.time)
                assert e.data.notes
            elif e.data.status == "reopened":
                reopened.add(e.data.ticket_id)
            elif e.data.status == "cancelled":
                cancelled.add(e.data.ticket_id)
    late = {tid for tid, t in first_completion.items() if t > created[tid].data.due_date}
    assert 0.07 <= len(late) / len(first_completion) <= 0.2
    assert len(late) == data.counts["sla_missed"]
    # Critical tickets in Sabah/Sarawak miss their SLA more often than on average.
    def rate(tickets):
        done = [t for t in tickets if t in first_completion]
        return sum(t in late for t in done) / max(1, len(done))
    crit = [t for t, e in created.items() if e.data.priority == "critical"]
    assert rate(crit) > rate(list(created))
    completed_n = len(first_completion)
    assert 0.015 <= len(reopened) / completed_n <= 0.07
    assert len(cancelled) >= 5


def test_ratings_skew_high_and_drop_when_late(data: DemoData, created) -> None:
    on_time, late = [], []
    for e in data.ticket_events:
        if isinstance(e, TicketStatusChanged) and e.data.status == "completed" and e.data.customer_rating is not None:
            (late if e.time > created[e.data.ticket_id].data.due_date else on_time).append(e.data.customer_rating)
    assert sum(on_time) / len(on_time) >= 4.0
    assert sum(late) / len(late) < sum(on_time) / len(on_time) - 0.5


def test_weekly_seasonality_and_trend() -> None:
    bigger = generate(seed=5, tickets=5000, now=NOW)  # enough tickets for the shape to beat the noise
    historical = [e.time for e in bigger.ticket_events if isinstance(e, TicketCreated) and e.time < NOW - timedelta(days=3)]
    by_day = Counter(t.astimezone(MYT).weekday() for t in historical)
    assert by_day[0] > by_day[6] * 1.6  # Mondays busier than Sundays
    assert by_day[0] == max(by_day.values()) and by_day[6] == min(by_day.values())
    start = NOW - timedelta(days=90)
    first_month = sum(1 for t in historical if t < start + timedelta(days=28))
    last_month = sum(1 for t in historical if start + timedelta(days=59) <= t < start + timedelta(days=87))
    assert last_month > 1.1 * first_month


def test_ticket_text_is_varied_and_informative(created) -> None:
    titles = [e.data.title for e in created.values()]
    assert len(set(titles)) >= 400
    # Urgency cues; "not urgent" / "tidak segera" are deliberate negations that low-priority tickets carry.
    cue = re.compile(r"hospital|bank|outage affecting|bomba|police|kecemasan|(?<!not )urgent|critical|emergency|(?<!tidak )segera", re.I)

    def cue_rate(priority):
        texts = [f"{e.data.title} {e.data.description}" for e in created.values() if e.data.priority == priority]
        return sum(bool(cue.search(t)) for t in texts) / len(texts)

    assert cue_rate("critical") > 0.6 > cue_rate("low")
    assert cue_rate("high") > cue_rate("medium") > cue_rate("low")
    malay = re.compile(r"\b(tiada|kabel|talian|pelanggan|rosak|bekalan|pemasangan|liputan)\b", re.I)
    assert sum(bool(malay.search(f"{e.data.title} {e.data.description}")) for e in created.values()) >= 100


def test_small_configurations_work() -> None:
    small = generate(seed=1, teams=5, tickets=60, days=7, now=NOW)
    assert len(small.team_events) == 5 and small.counts["tickets"] == 60
    status: dict[int, str] = {}
    for e in small.ticket_events:
        target = "open" if isinstance(e, TicketCreated) else "assigned" if isinstance(e, TicketAssigned) else e.data.status
        if not isinstance(e, TicketCreated):
            assert transition_error(status[e.data.ticket_id], target) is None
        status[e.data.ticket_id] = target
    assert generate(seed=1, teams=150, tickets=0, now=NOW).ticket_events == []
    with pytest.raises(ValueError):
        generate(teams=0)
