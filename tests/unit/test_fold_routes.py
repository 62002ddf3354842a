"""Fold rules of the route facts: plans replace a team-day unless older, positions keep the latest, pins,
visit windows and shifts; replaying the same events gives the same rows."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest

from aiff.errors import RuleViolation, UnknownEntity
from aiff.events.plans import PlanUpdated, TeamPositionReported
from aiff.events.teams import TeamCreated, TeamUpdated, team_event
from aiff.events.tickets import (
    TicketAssigned,
    TicketCreated,
    TicketPinned,
    TicketStatusChanged,
    TicketUnpinned,
    TicketUpdated,
    ticket_event,
)
from aiff.projections.fold import BatchState, apply

T = datetime(2026, 3, 2, 1, tzinfo=UTC)
DAY = date(2026, 3, 2)


def team(team_id: int = 3, **shift: object) -> TeamCreated:
    return team_event(TeamCreated, {"team_id": team_id, "name": f"Pasukan {team_id}", "zone": "Perak", **shift}, time=T)


def visit(ticket_id: int, sequence: int, minutes: int) -> dict:
    start = T + timedelta(minutes=minutes)
    return {"ticket_id": ticket_id, "sequence": sequence, "eta": start, "planned_start": start,
            "planned_end": start + timedelta(minutes=45), "travel_minutes": 10, "travel_km": 7}  # fmt: skip


def plan(revision: int, visits: list[dict], team_id: int = 3) -> PlanUpdated:
    return team_event(PlanUpdated, {"team_id": team_id, "plan_date": DAY, "revision": revision, "strategy": "route",
                                    "visits": visits, "totals": {"drive_minutes": 20 * revision}}, time=T)  # fmt: skip


def position(minutes: int, lat: float = 4.6, team_id: int = 3) -> TeamPositionReported:
    return team_event(TeamPositionReported, {"team_id": team_id, "latitude": lat, "longitude": 101.1,
                                             "reported_at": T + timedelta(minutes=minutes), "source": "tracker"}, time=T)  # fmt: skip


def ticket(tid: int = 1, **extra: object) -> TicketCreated:
    return ticket_event(TicketCreated, {"ticket_id": tid, "title": "Fiber cut", "priority": "high", "zone": "Perak", **extra}, time=T)


def test_a_plan_replaces_the_team_day_and_an_older_revision_is_ignored() -> None:
    state = BatchState()
    apply(state, team())
    apply(state, plan(2, [visit(10, 1, 0), visit(11, 2, 60)]))
    apply(state, plan(3, [visit(11, 1, 0)]))
    apply(state, plan(1, [visit(10, 1, 0), visit(11, 2, 60), visit(12, 3, 120)]))  # late: older than 3
    row = state.plans[(3, DAY)]
    assert (row["revision"], row["drive_minutes"]) == (3, 60)
    assert [(v["ticket_id"], v["sequence"]) for v in state.plan_visits[(3, DAY)]] == [(11, 1)]
    assert state.dirty_plans == {(3, DAY)}


def test_an_older_revision_than_the_stored_one_changes_nothing() -> None:
    state = BatchState()
    apply(state, team())
    state.plans[(3, DAY)] = {"revision": 5}
    apply(state, plan(4, [visit(10, 1, 0)]))
    assert state.plans[(3, DAY)] == {"revision": 5} and not state.dirty_plans and not state.plan_visits


def test_plans_and_positions_of_unknown_teams_are_refused() -> None:
    state = BatchState()
    with pytest.raises(UnknownEntity, match="unknown team 3"):
        apply(state, plan(1, []))
    with pytest.raises(UnknownEntity, match="unknown team 3"):
        apply(state, position(0))
    assert not state.plans and not state.positions


def test_the_latest_measured_position_wins() -> None:
    state = BatchState()
    apply(state, team())
    apply(state, position(10, lat=4.0))
    apply(state, position(5, lat=5.0))  # measured earlier, arrived later
    assert state.positions[3]["latitude"] == 4.0
    apply(state, position(20, lat=6.0))
    assert state.positions[3]["latitude"] == 6.0 and state.positions[3]["source"] == "tracker"


def test_replaying_the_same_events_gives_the_same_rows() -> None:
    events = [team(), ticket(1, service_minutes=30), position(5), plan(1, [visit(1, 1, 0)]), plan(2, [visit(1, 1, 30)]),
              ticket_event(TicketPinned, {"ticket_id": 1, "team_id": 3, "sequence": 1, "pinned_by": "user:1"}, time=T)]  # fmt: skip

    def fold() -> BatchState:
        state = BatchState()
        for e in events:
            apply(state, e)
        return state

    one, two = fold(), fold()
    for attr in ("tickets", "teams", "positions", "plans", "plan_visits"):
        assert getattr(one, attr) == getattr(two, attr), attr


def test_shift_defaults_and_updates_stay_consistent() -> None:
    state = BatchState()
    apply(state, team())
    row = state.teams[3]
    assert (row["shift_start"], row["shift_end"], row["working_days"], row["lunch_minutes"], row["max_overtime_minutes"]) == (
        "08:00", "17:00", ["mon", "tue", "wed", "thu", "fri", "sat"], 45, 60)  # fmt: skip
    apply(state, team_event(TeamUpdated, {"team_id": 3, "shift_end": "18:00", "working_days": ["mon"]}, time=T))
    assert (row["shift_end"], row["working_days"]) == ("18:00", ["mon"])
    before = copy.deepcopy(row)
    with pytest.raises(RuleViolation, match="shift_end 07:00 must be after shift_start 08:00"):
        apply(state, team_event(TeamUpdated, {"team_id": 3, "shift_end": "07:00"}, time=T))
    assert row == before


def test_windows_stay_ordered_across_updates() -> None:
    state = BatchState()
    apply(state, ticket(1, window_start=T, window_end=T + timedelta(hours=2)))
    with pytest.raises(RuleViolation, match="window_end"):
        apply(state, ticket_event(TicketUpdated, {"ticket_id": 1, "window_end": T - timedelta(hours=1)}, time=T))
    assert state.tickets[1]["window_end"] == T + timedelta(hours=2)
    apply(state, ticket_event(TicketUpdated, {"ticket_id": 1, "service_minutes": 90}, time=T))
    assert state.tickets[1]["service_minutes"] == 90


def test_pins_freeze_and_release_and_a_manual_assignment_is_a_pin() -> None:
    state = BatchState()
    apply(state, team(3))
    apply(state, team(4))
    apply(state, ticket(1))
    apply(state, ticket_event(TicketAssigned, {"ticket_id": 1, "team_id": 3, "strategy": "manual", "frozen": True, "sequence": 2}, time=T))
    row = state.tickets[1]
    assert (row["pinned"], row["pinned_team"], row["pinned_sequence"]) == (True, 3, 2)
    assert state.active[1]["sequence"] == 2
    apply(state, ticket_event(TicketUnpinned, {"ticket_id": 1, "unpinned_by": "user:1"}, time=T))
    assert (row["pinned"], row["pinned_team"]) == (False, None)
    apply(state, ticket_event(TicketPinned, {"ticket_id": 1, "team_id": 4, "sequence": 1, "plan_date": DAY, "pinned_by": "u"}, time=T))
    assert (row["pinned"], row["pinned_team"], row["pinned_sequence"], row["pinned_date"]) == (True, 4, 1, DAY)
    with pytest.raises(UnknownEntity, match="unknown team 9"):
        apply(state, ticket_event(TicketPinned, {"ticket_id": 1, "team_id": 9, "pinned_by": "u"}, time=T))
    apply(state, ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "cancelled"}, time=T))
    assert row["pinned"] is False
    with pytest.raises(RuleViolation, match="no visit left to pin"):
        apply(state, ticket_event(TicketPinned, {"ticket_id": 1, "pinned_by": "u"}, time=T))
