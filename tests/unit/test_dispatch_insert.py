"""The fast path of a re-plan (aiff.dispatch.insert): new tickets inserted into the stored routes at their
cheapest feasible slot, nothing already planned moved, capacity, windows and shifts kept. Pure."""

from __future__ import annotations

from datetime import timedelta

from aiff.dispatch.publish import changes
from aiff.dispatch.replan import replan_zone
from tests.unit.test_capacity_invariant import KW, _holding
from tests.unit.test_dispatch_inputs import TRAVEL, TUESDAY_9AM, team_row, ticket_row


def _planned(teams: list[dict], tickets: list[dict]):  # noqa: ANN202
    """A zone planned from scratch: the stored plan the fast path starts from."""
    current = {str(t["id"]): str(t["assigned_team"]) for t in tickets if t["status"] == "assigned"}
    return replan_zone(teams, tickets, None, TUESDAY_9AM, current=current, **KW).plan


def test_a_new_ticket_goes_to_the_cheapest_slot_and_nothing_planned_moves() -> None:
    teams = [team_row(1, lat=1.40), team_row(2, lat=1.60)]
    tickets = [ticket_row(1, lat=1.41, status="assigned", assigned_team=1),
               ticket_row(2, lat=1.61, status="assigned", assigned_team=2)]  # fmt: skip
    stored = _planned(teams, tickets)
    before = {tid: stored.team_of(tid) for tid in ("1", "2")}
    new = ticket_row(3, lat=1.605)
    result = replan_zone(teams, tickets + [new], stored, TUESDAY_9AM, current={"1": before["1"], "2": before["2"]},
                         new=["3"], **KW)  # fmt: skip
    assert result.plan.team_of("3") == "2"  # next to team 2's stop
    assert {tid: result.plan.team_of(tid) for tid in ("1", "2")} == before
    out = changes(result, stored={}, holding=_holding(tickets), cleared={}, travel=TRAVEL, cause="test")
    assert [(a["ticket_id"], a["team_id"]) for a in out.assigned] == [(3, 2)]
    assert out.unassigned == [] and out.deferred == {}


def test_a_full_team_or_a_closed_window_is_no_slot() -> None:
    teams = [team_row(1, lat=1.50, capacity=1), team_row(2, lat=1.70)]
    tickets = [ticket_row(1, lat=1.50, status="assigned", assigned_team=1)]
    stored = _planned(teams, tickets)
    assert stored.team_of("1") == "1"
    new = ticket_row(2, lat=1.501)  # next to team 1, which is full: team 2 drives
    result = replan_zone(teams, tickets + [new], stored, TUESDAY_9AM, current={"1": "1"}, new=["2"], **KW)
    assert result.plan.team_of("2") == "2"
    gone = ticket_row(3, lat=1.70, window_start=TUESDAY_9AM - timedelta(hours=3), window_end=TUESDAY_9AM - timedelta(hours=1))
    closed = replan_zone(teams, tickets + [gone], stored, TUESDAY_9AM, current={"1": "1"}, new=["3"], **KW)
    assert closed.plan.team_of("3") is None and [u.ticket_id for u in closed.plan.unserved] == ["3"]


def test_no_stored_plan_or_a_vanished_visit_falls_back_to_the_full_replan() -> None:
    teams = [team_row(1)]
    tickets = [ticket_row(1, status="assigned", assigned_team=1), ticket_row(2, lat=1.52)]
    stored = _planned(teams, tickets[:1])
    # ticket 1 was completed meanwhile (not among the rows): the stored plan no longer fits, the zone is solved
    result = replan_zone(teams, tickets[1:], stored, TUESDAY_9AM, current={}, new=["2"], **KW)
    assert result.plan.team_of("2") == "1" and result.plan.team_of("1") is None


def test_a_new_ticket_no_team_can_serve_says_why() -> None:
    teams = [team_row(1)]
    tickets = [ticket_row(1, status="assigned", assigned_team=1)]
    stored = _planned(teams, tickets)
    result = replan_zone(teams, tickets + [ticket_row(2, skill="power")], stored, TUESDAY_9AM, current={"1": "1"}, new=["2"], **KW)
    assert [(u.ticket_id, u.reason) for u in result.plan.unserved] == [("2", "no_team_with_skill")]


def test_a_ticket_already_planned_on_a_later_day_is_not_inserted_twice() -> None:
    teams = [team_row(1, capacity=1)]
    tickets = [ticket_row(1, status="assigned", assigned_team=1), ticket_row(2, lat=1.52, priority="low")]
    stored = replan_zone(teams, tickets, None, TUESDAY_9AM, current={"1": "1"}, horizon_days=3, **KW).plan
    later = [v.ticket_id for tps in stored.later.values() for tp in tps for v in tp.visits]
    assert later == ["2"]  # today is full: ticket 2 has a later day
    again = replan_zone(teams, tickets, stored, TUESDAY_9AM, current={"1": "1"}, horizon_days=3, new=["2"], **KW)
    placed = [v.ticket_id for tp in again.plan.all_team_plans() for v in tp.visits]
    assert sorted(placed) == ["1", "2"]
