"""Invariant 3 in the routes re-plan (aiff.dispatch.replan): what a team holds after a plan never exceeds its
capacity, counting what it keeps holding off the route (a dispatcher's pins the plan left out, the visit in
progress, tickets of other zones). Pure: no Kafka or Postgres."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiff.dispatch.publish import Holding, changes
from aiff.dispatch.replan import TEAM_AT_CAPACITY, replan_zone
from tests.unit.test_dispatch_inputs import FREEZE, TRAVEL, TUESDAY_9AM, team_row, ticket_row

KW = {"freeze": FREEZE, "seconds": 0.05, "travel": TRAVEL, "churn_threshold_minutes": 10}


def _held_after(tickets: list[dict], out) -> Counter:  # noqa: ANN001
    """Per team, the tickets held once the plan's events are applied (the projector's view)."""
    team_of = {t["id"]: t["assigned_team"] for t in tickets if t["status"] in ("assigned", "in_progress")}
    for u in out.unassigned:
        team_of.pop(u["ticket_id"], None)
    for a in out.assigned:
        team_of[a["ticket_id"]] = a["team_id"]
    return Counter(team_of.values())


def _holding(tickets: list[dict]) -> dict[int, Holding]:
    return {t["id"]: Holding(t["assigned_team"], t["status"], bool(t["pinned"]) and t["pinned_team"] == t["assigned_team"])
            for t in tickets if t["status"] in ("assigned", "in_progress")}  # fmt: skip


def test_pinned_tickets_the_plan_leaves_out_still_count_against_capacity() -> None:
    # the reported case: team capacity 4 holds 3 pinned tickets it cannot serve today; two new tickets nearby
    held = [ticket_row(i, status="assigned", assigned_team=1, skill="power", pinned=True, pinned_team=1) for i in (1, 2, 3)]
    new = [ticket_row(4, lat=1.501), ticket_row(5, lat=1.502)]
    tickets = held + new
    result = replan_zone([team_row(1, capacity=4)], tickets, None, TUESDAY_9AM, current={}, **KW)
    out = changes(result, stored={}, holding=_holding(tickets), cleared={}, travel=TRAVEL, cause="test")
    assert len(out.assigned) == 1
    assert _held_after(tickets, out)[1] == 4
    assert [code for _, code in out.deferred.values()] == [TEAM_AT_CAPACITY]


def test_tickets_held_in_another_zones_replan_count_against_capacity() -> None:
    tickets = [ticket_row(i, lat=1.50 + i * 0.002) for i in range(1, 4)]
    result = replan_zone([team_row(1, capacity=3)], tickets, None, TUESDAY_9AM, current={}, held_elsewhere={"1": 2}, **KW)
    assert len(result.plan.teams["1"].visits) == 1
    assert sum(u.reason == TEAM_AT_CAPACITY for u in result.plan.unserved) == 2


def test_a_team_over_capacity_keeps_only_what_it_cannot_release() -> None:
    # capacity lowered to 1 while the team holds one visit in progress and two assigned: both assigned go back
    tickets = [ticket_row(1, status="in_progress", assigned_team=1, started_at=TUESDAY_9AM),
               ticket_row(2, status="assigned", assigned_team=1, lat=1.51),
               ticket_row(3, status="assigned", assigned_team=1, lat=1.52)]  # fmt: skip
    result = replan_zone([team_row(1, capacity=1)], tickets, None, TUESDAY_9AM, current={"2": "1", "3": "1"}, **KW)
    out = changes(result, stored={}, holding=_holding(tickets), cleared={}, travel=TRAVEL, cause="test")
    assert sorted(u["ticket_id"] for u in out.unassigned) == [2, 3]
    assert _held_after(tickets, out)[1] == 1


ticket_states = st.sampled_from(["open", "assigned", "assigned_pinned", "in_progress", "pinned_elsewhere", "unskilled_pinned"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacities=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       states=st.lists(st.tuples(ticket_states, st.integers(0, 2), st.integers(0, 20)), min_size=1, max_size=12),
       elsewhere=st.lists(st.integers(0, 2), min_size=3, max_size=3))
def test_no_plan_leaves_a_team_holding_more_than_its_capacity(capacities, states, elsewhere) -> None:  # noqa: ANN001
    teams = [team_row(k + 1, lat=1.45 + 0.03 * k, capacity=c) for k, c in enumerate(capacities)]
    ids = [t["id"] for t in teams]
    tickets = []
    for i, (state, k, d) in enumerate(states, start=1):
        team = ids[k % len(ids)]
        lat = 1.45 + d * 0.004
        if state == "open":
            tickets.append(ticket_row(i, lat=lat))
        elif state == "assigned":
            tickets.append(ticket_row(i, lat=lat, status="assigned", assigned_team=team))
        elif state == "assigned_pinned":
            tickets.append(ticket_row(i, lat=lat, status="assigned", assigned_team=team, pinned=True, pinned_team=team))
        elif state == "in_progress":
            tickets.append(ticket_row(i, lat=lat, status="in_progress", assigned_team=team, started_at=TUESDAY_9AM))
        elif state == "pinned_elsewhere":
            other = ids[(k + 1) % len(ids)]
            tickets.append(ticket_row(i, lat=lat, status="assigned", assigned_team=team, pinned=True, pinned_team=other))
        else:
            tickets.append(ticket_row(i, lat=lat, status="assigned", assigned_team=team, skill="power", pinned=True, pinned_team=team))
    sticky = Counter(t["assigned_team"] for t in tickets if t["status"] == "in_progress"
                     or (t["pinned"] and t["pinned_team"] == t["assigned_team"]))  # fmt: skip
    extra = {str(t): e for t, e in zip(ids, elsewhere)}
    current = {str(t["id"]): str(t["assigned_team"]) for t in tickets if t["status"] == "assigned"}
    result = replan_zone(teams, tickets, None, TUESDAY_9AM, current=current, held_elsewhere=extra, **KW)
    out = changes(result, stored={}, holding=_holding(tickets), cleared={}, travel=TRAVEL, cause="test")
    after = _held_after(tickets, out)
    for team in teams:
        limit = max(team["capacity"], sticky[team["id"]] + extra[str(team["id"])])  # what nobody may release
        assert after[team["id"]] + extra[str(team["id"])] <= limit, (team, after, out.assigned)
        if after[team["id"]] + extra[str(team["id"])] > team["capacity"]:
            assert not [a for a in out.assigned if a["team_id"] == team["id"]]  # over only by what it cannot release


def test_a_team_day_drifting_by_minutes_is_no_news_a_new_order_or_a_big_shift_is() -> None:
    from datetime import timedelta

    from aiff.dispatch.publish import ETA_TOLERANCE, same_day, signature

    t = TUESDAY_9AM
    stored = signature([(1, t, t), (2, t + timedelta(hours=1), t + timedelta(hours=1))], None)
    drift = signature([(1, t + timedelta(minutes=3), t + timedelta(minutes=3)), (2, t + timedelta(minutes=63), t + timedelta(minutes=63))], None)
    assert same_day(stored, drift)
    later = signature([(1, t + ETA_TOLERANCE + timedelta(minutes=1), t + ETA_TOLERANCE + timedelta(minutes=1)),
                       (2, t + timedelta(hours=1), t + timedelta(hours=1))], None)  # fmt: skip
    assert not same_day(stored, later)
    swapped = signature([(2, t, t), (1, t + timedelta(hours=1), t + timedelta(hours=1))], None)
    assert not same_day(stored, swapped)
    assert not same_day(stored, signature([(1, t, t)], None))
    assert not same_day(stored, signature([(1, t, t), (2, t + timedelta(hours=1), t + timedelta(hours=1))], t))


def test_a_replan_over_many_zones_shares_one_search_budget() -> None:
    from aiff.dispatch.routes import MIN_SECONDS, RouteSettings, search_seconds

    config = RouteSettings(seconds=0.3, batch_seconds=1.0)
    one = search_seconds({"Johor": 50}, config)
    assert one == {"Johor": 0.3}  # alone, a zone gets its own time
    many = search_seconds({f"z{k}": 50 for k in range(15)}, config)
    assert sum(many.values()) <= 1.0 + 1e-9 and len(set(many.values())) == 1
    tiny = search_seconds({f"z{k}": 50 for k in range(100)}, config)
    assert min(tiny.values()) == MIN_SECONDS
