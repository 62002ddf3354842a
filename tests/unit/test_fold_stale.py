"""Decisions of AIFF's own that the ticket's state overtook are stale, not bad input: the fold refuses them with
StaleDecision (recorded, counted, not dead-lettered); the same events from an upstream source stay RuleViolations,
and unknown tickets or teams stay unknown whoever sent them."""

from __future__ import annotations

import pytest

from aiff.errors import RuleViolation, StaleDecision, UnknownEntity
from aiff.events.tickets import TicketAssigned, TicketMoved, TicketPinned, TicketStatusChanged, TicketUnassigned, ticket_event
from aiff.projections.fold import BatchState, apply
from tests.unit.test_fold import T, created, status, with_teams

ENGINE = "urn:aiff:assignment"
API = "urn:aiff:api"
UPSTREAM = "urn:crm:test"


def engine_assigned(tid: int, team: int, source: str = ENGINE) -> TicketAssigned:
    return ticket_event(TicketAssigned, {"ticket_id": tid, "team_id": team, "strategy": "routes"}, time=T, source=source)


def released(tid: int, team: int, source: str = ENGINE) -> TicketUnassigned:
    return ticket_event(TicketUnassigned, {"ticket_id": tid, "team_id": team, "reason": "re-plan"}, time=T, source=source)


def cancelled_ticket(tid: int = 1) -> BatchState:
    state = with_teams(7, 8)
    apply(state, created(tid))
    apply(state, status(tid, "cancelled"))
    return state


def refusal(state: BatchState, event) -> Exception:
    """The error the fold raises, after checking the ticket's row did not change."""
    before = dict(state.tickets[event.data.ticket_id])
    with pytest.raises(RuleViolation) as caught:
        apply(state, event)
    assert state.tickets[event.data.ticket_id] == before
    return caught.value


def test_an_engine_assignment_of_a_cancelled_ticket_is_stale() -> None:
    state = cancelled_ticket()
    error = refusal(state, engine_assigned(1, 7))
    assert isinstance(error, StaleDecision) and "'cancelled' to 'assigned'" in error.message
    assert 1 not in state.active


def test_the_same_assignment_from_upstream_is_a_rule_violation() -> None:
    assert type(refusal(cancelled_ticket(), engine_assigned(1, 7, UPSTREAM))) is RuleViolation


def test_a_release_of_a_ticket_no_longer_assigned_to_that_team_is_stale() -> None:
    state = with_teams(7, 8)
    apply(state, created(1))
    apply(state, engine_assigned(1, 8))
    assert isinstance(refusal(state, released(1, 7)), StaleDecision)  # reassigned meanwhile
    apply(state, status(1, "in_progress"))
    assert isinstance(refusal(state, released(1, 8)), StaleDecision)  # started meanwhile
    assert type(refusal(state, released(1, 8, UPSTREAM))) is RuleViolation


def test_a_release_naming_an_unknown_team_is_not_stale() -> None:
    state = cancelled_ticket()
    assert type(refusal(state, released(1, 99))) is RuleViolation


def test_an_api_cancel_of_a_cancelled_ticket_is_stale_and_upstreams_is_not() -> None:
    state = cancelled_ticket()
    again = ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "cancelled"}, time=T, source=API)
    assert isinstance(refusal(state, again), StaleDecision)
    upstream = ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "cancelled"}, time=T, source=UPSTREAM)
    assert type(refusal(state, upstream)) is RuleViolation


def test_a_status_only_assignment_events_reach_is_never_stale() -> None:
    state = with_teams(7)
    apply(state, created(1))
    odd = ticket_event(TicketStatusChanged, {"ticket_id": 1, "status": "open"}, time=T, source=API)
    assert type(refusal(state, odd)) is RuleViolation


def test_a_pin_or_move_of_an_ended_visit_is_stale_from_the_api() -> None:
    state = cancelled_ticket()
    pin = ticket_event(TicketPinned, {"ticket_id": 1, "team_id": 7, "pinned_by": "d"}, time=T, source=API)
    move = ticket_event(TicketMoved, {"ticket_id": 1, "team_id": 7, "sequence": 1, "moved_by": "d"}, time=T, source=API)
    assert isinstance(refusal(state, pin), StaleDecision) and isinstance(refusal(state, move), StaleDecision)
    with pytest.raises(UnknownEntity):
        apply(state, ticket_event(TicketMoved, {"ticket_id": 1, "team_id": 99, "sequence": 1, "moved_by": "d"}, time=T, source=API))


def test_unknown_tickets_stay_unknown_for_own_sources() -> None:
    with pytest.raises(UnknownEntity):
        apply(with_teams(7), engine_assigned(5, 7))
