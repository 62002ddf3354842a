"""The projector's rules, without I/O: lifecycle, assignments, refusals leave rows untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiff.errors import RuleViolation, UnknownEntity
from aiff.events.teams import TeamCreated, TeamMetricsUpdated, TeamStatusChanged, team_event
from aiff.events.tickets import (
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketStatusChanged,
    TicketUnassigned,
    ticket_event,
)
from aiff.projections.fold import BatchState, apply

T = datetime(2026, 3, 1, 9, tzinfo=UTC)


def created(tid: int = 1, zone: str = "Selangor", priority: str = "high") -> TicketCreated:
    return ticket_event(TicketCreated, {"ticket_id": tid, "title": "Fiber cut", "priority": priority, "zone": zone}, time=T)


def assigned(tid: int = 1, team: int = 7) -> TicketAssigned:
    return ticket_event(TicketAssigned, {"ticket_id": tid, "team_id": team, "strategy": "optimal", "distance_km": 3.2}, time=T)


def with_teams(*team_ids: int) -> BatchState:
    """A batch state in which these teams exist (assignments refer to existing teams only)."""
    state = BatchState()
    for team_id in team_ids:
        apply(state, team_event(TeamCreated, {"team_id": team_id, "name": f"Pasukan {team_id}", "zone": "Perak"}, time=T))
    return state


def status(tid: int, value: str, **extra: object) -> TicketStatusChanged:
    return ticket_event(TicketStatusChanged, {"ticket_id": tid, "status": value, **extra}, time=T)


def test_created_ticket_gets_a_readable_number_and_an_sla_due_date() -> None:
    state = BatchState()
    apply(state, created(42, priority="critical"))
    row = state.tickets[42]
    assert row["ticket_number"] == "TKT-2026-000042"
    assert row["status"] == "open"
    assert (row["due_date"] - row["created_at"]).total_seconds() == 4 * 3600


def test_zone_aliases_are_canonical_and_unknown_zones_are_refused() -> None:
    state = BatchState()
    apply(state, created(1, zone="penang"))
    assert state.tickets[1]["zone"] == "Pulau Pinang"
    with pytest.raises(UnknownEntity, match="unknown zone 'Gotham'"):
        apply(state, created(2, zone="Gotham"))
    assert 2 not in state.tickets


def test_full_lifecycle_moves_the_active_assignment() -> None:
    state = with_teams(3, 7, 9)
    for event in (created(), assigned(), status(1, "in_progress"), status(1, "completed", customer_rating=5)):
        apply(state, event)
    row = state.tickets[1]
    assert (row["status"], row["assigned_team"], row["customer_rating"]) == ("completed", 7, 5)
    assert row["completed_at"] == T
    assert state.active == {}
    assert [a["status"] for a in state.new_assignments] == ["completed"]


def test_reassignment_ends_the_previous_assignment() -> None:
    state = with_teams(3, 7, 9)
    for event in (created(), assigned(team=7), assigned(team=9)):
        apply(state, event)
    assert [a["status"] for a in state.new_assignments] == ["reassigned", "assigned"]
    assert state.tickets[1]["assigned_team"] == 9


@pytest.mark.parametrize(
    ("steps", "refused", "message"),
    [
        ([], status(1, "completed"), "cannot move a ticket from 'open' to 'completed'"),
        ([assigned(), status(1, "in_progress")], assigned(team=3), "from 'in_progress' to 'assigned'"),
        ([], status(1, "assigned"), "reached by assignment events"),
        ([status(1, "cancelled")], status(1, "reopened"), "from 'cancelled' to 'reopened'"),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(steps: list, refused: object, message: str) -> None:
    state = with_teams(3, 7, 9)
    apply(state, created())
    for event in steps:
        apply(state, event)
    before = dict(state.tickets[1])
    with pytest.raises(RuleViolation, match=message):
        apply(state, refused)
    assert state.tickets[1] == before


def test_unassign_only_by_the_holding_team_of_an_unstarted_ticket() -> None:
    state = with_teams(3, 7, 9)
    apply(state, created())
    apply(state, assigned(team=7))
    with pytest.raises(RuleViolation):
        apply(state, ticket_event(TicketUnassigned, {"ticket_id": 1, "team_id": 8, "reason": "x"}, time=T))
    apply(state, ticket_event(TicketUnassigned, {"ticket_id": 1, "team_id": 7, "reason": "team offline"}, time=T))
    assert state.tickets[1]["status"] == "open" and state.tickets[1]["assigned_team"] is None


def test_events_for_unknown_or_deleted_tickets_are_refused() -> None:
    state = BatchState()
    with pytest.raises(UnknownEntity, match="unknown ticket 5"):
        apply(state, status(5, "cancelled"))
    apply(state, created(5))
    apply(state, ticket_event(TicketDeleted, {"ticket_id": 5}, time=T))
    assert 5 in state.deleted_tickets
    with pytest.raises(UnknownEntity):
        apply(state, status(5, "cancelled"))


def test_team_events_keep_the_seeds_performance_fields() -> None:
    state = BatchState()
    apply(state, team_event(TeamCreated, {"team_id": 3, "name": "Pasukan Ipoh 1", "zone": "Perak", "capacity": 4}, time=T))
    apply(state, team_event(TeamStatusChanged, {"team_id": 3, "status": "offline"}, time=T))
    apply(
        state,
        team_event(TeamMetricsUpdated, {"team_id": 3, "tickets_completed": 12, "customer_rating": 4.4, "response_time": 35,
                                        "completion_rate": 92.3, "efficiency": 88.0}, time=T),  # fmt: skip
    )
    row = state.teams[3]
    assert (row["status"], row["tickets_completed"], row["customer_rating"], row["version"]) == ("offline", 12, 4.4, 3)
    with pytest.raises(RuleViolation):
        apply(state, team_event(TeamCreated, {"team_id": 3, "name": "again", "zone": "Perak"}, time=T))


def test_an_assignment_to_a_team_that_does_not_exist_is_refused_and_changes_nothing() -> None:
    state = with_teams(7)
    apply(state, created())
    before = dict(state.tickets[1])
    with pytest.raises(UnknownEntity, match="unknown team 987654"):
        apply(state, assigned(team=987654))
    assert state.tickets[1] == before and state.new_assignments == [] and state.active == {}


def test_sla_events_are_history_only_and_need_the_ticket() -> None:
    from aiff.sla.clock import TicketView, decide

    state = BatchState()
    apply(state, created(9))
    before = dict(state.tickets[9])
    due = state.tickets[9]["due_date"]
    view = TicketView(9, "open", due, planned_end=due.replace(year=due.year + 1))
    risk = decide(view, None, T, timedelta(hours=1)).events[0]
    breach = decide(view, None, due, timedelta(hours=1)).events[0]
    for event in (risk, breach):
        apply(state, event)
        assert state.tickets[9] == before
        with pytest.raises(UnknownEntity, match="unknown ticket 10"):
            apply(state, event.model_copy(update={"data": event.data.model_copy(update={"ticket_id": 10})}))
