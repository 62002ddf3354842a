"""Read models -> planner input (aiff.dispatch.inputs), the churn rule and the capacity cut (aiff.dispatch.replan),
and the published schedule (aiff.dispatch.schedule): pure functions, no Kafka or Postgres."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiff.dispatch.inputs import ANY, MALAYSIA, build_inputs, stored_plan, team_day, visit_of
from aiff.dispatch.publish import PLANNED_LATER, Holding, Stored, changes
from aiff.dispatch.replan import TEAM_AT_CAPACITY, replan_zone
from aiff.planning import HaversineTravel, Plan, PlannedVisit, Point, TeamPlan

TUESDAY_9AM = datetime(2026, 12, 1, 9, 0, tzinfo=MALAYSIA)
FREEZE = timedelta(minutes=30)
TRAVEL = HaversineTravel()


def team_row(team_id: int, lat: float = 1.49, **kw) -> dict:
    row = {"id": team_id, "zone": "Johor", "latitude": lat, "longitude": 103.74, "skills": ["fiber"], "capacity": 5,
           "status": "available", "is_active": True, "shift_start": "08:00", "shift_end": "17:00",
           "working_days": ["mon", "tue", "wed", "thu", "fri", "sat"], "lunch_earliest": "12:00", "lunch_latest": "14:00",
           "lunch_minutes": 45, "max_overtime_minutes": 60, "position_lat": None, "position_lon": None, "reported_at": None}  # fmt: skip
    return row | kw


def ticket_row(ticket_id: int, lat: float = 1.50, **kw) -> dict:
    row = {"id": ticket_id, "zone": "Johor", "latitude": lat, "longitude": 103.75, "priority": "high", "skill": "fiber",
           "due_date": TUESDAY_9AM + timedelta(hours=8), "window_start": None, "window_end": None, "service_minutes": None,
           "status": "open", "started_at": None, "assigned_team": None, "pinned": False, "pinned_team": None,
           "pinned_sequence": None}  # fmt: skip
    return row | kw


def test_a_team_plans_its_current_shift_with_lunch_and_overtime() -> None:
    day = team_day(team_row(1), TUESDAY_9AM)
    assert day.plan_date == date(2026, 12, 1) and day.capacity == 5
    t = day.team
    assert (t.shift_start, t.shift_end) == (datetime(2026, 12, 1, 8, 0, tzinfo=MALAYSIA), datetime(2026, 12, 1, 17, 0, tzinfo=MALAYSIA))
    assert t.max_overtime == timedelta(minutes=60) and t.lunch.duration == timedelta(minutes=45)
    assert t.start == t.end == Point(1.49, 103.74) and {"fiber", ANY} <= t.skills


def test_after_the_shift_and_on_sunday_the_next_working_day_is_planned() -> None:
    evening = datetime(2026, 12, 5, 18, 30, tzinfo=MALAYSIA)  # Saturday evening
    assert team_day(team_row(1), evening).plan_date == date(2026, 12, 7)  # Monday: Sunday is not a working day
    overtime = datetime(2026, 12, 1, 17, 30, tzinfo=MALAYSIA)  # overtime finishes today's work; new work is tomorrow's
    assert team_day(team_row(1), overtime).plan_date == date(2026, 12, 2)
    afternoon = datetime(2026, 12, 1, 14, 30, tzinfo=MALAYSIA)
    assert team_day(team_row(1), afternoon).plan_date == date(2026, 12, 1)
    assert team_day(team_row(1), afternoon).team.lunch is None  # its window is over


def test_offline_on_leave_and_retired_teams_do_not_plan() -> None:
    assert team_day(team_row(1, status="offline"), TUESDAY_9AM) is None
    assert team_day(team_row(1, status="on_leave"), TUESDAY_9AM) is None
    assert team_day(team_row(1, is_active=False), TUESDAY_9AM) is None
    assert team_day(team_row(1, working_days=["sun"]), TUESDAY_9AM).plan_date == date(2026, 12, 6)


def test_a_team_starts_where_it_reported_today_else_at_base() -> None:
    today = team_day(team_row(1, position_lat=1.6, position_lon=103.6, reported_at=TUESDAY_9AM - timedelta(hours=1)), TUESDAY_9AM)
    assert today.team.start == Point(1.6, 103.6) and today.team.end == Point(1.49, 103.74)
    yesterday = team_day(team_row(1, position_lat=1.6, position_lon=103.6, reported_at=TUESDAY_9AM - timedelta(days=1)), TUESDAY_9AM)
    assert yesterday.team.start == Point(1.49, 103.74)


def test_a_visit_takes_service_by_category_window_due_and_needs_no_skill_without_a_category() -> None:
    window = (TUESDAY_9AM + timedelta(hours=1), TUESDAY_9AM + timedelta(hours=3))
    v = visit_of(ticket_row(7, window_start=window[0], window_end=window[1]), TUESDAY_9AM)
    assert (v.ticket_id, v.skill, v.service, v.window, v.priority) == ("7", "fiber", timedelta(minutes=90), window, "high")
    assert visit_of(ticket_row(8, skill=None, service_minutes=25), TUESDAY_9AM).skill == ANY
    assert visit_of(ticket_row(8, skill=None, service_minutes=25), TUESDAY_9AM).service == timedelta(minutes=25)
    started = visit_of(ticket_row(9, status="in_progress", started_at=TUESDAY_9AM - timedelta(minutes=60)), TUESDAY_9AM)
    assert started.service == timedelta(minutes=30)  # 90 planned, 60 done
    overrun = visit_of(ticket_row(9, status="in_progress", started_at=TUESDAY_9AM - timedelta(hours=5)), TUESDAY_9AM)
    assert overrun.service == timedelta(minutes=5)


def _previous(team: str, tickets: list[int], first_departs_in: timedelta) -> Plan:
    visits, t = [], TUESDAY_9AM + first_departs_in
    for k, tid in enumerate(tickets):
        visits.append(PlannedVisit(str(tid), team, k, t + timedelta(minutes=20), t + timedelta(minutes=20),
                                   t + timedelta(minutes=80), 20.0, 10.0, None))  # fmt: skip
        t += timedelta(minutes=80)
    tp = TeamPlan(team, tuple(visits), None, TUESDAY_9AM, t, 60.0, 30.0, 0.0)
    return Plan(teams={team: tp}, unserved=(), cost=0, solve_seconds=0.0)


def test_fixed_heads_in_progress_then_departing_within_the_freeze_horizon() -> None:
    tickets = [ticket_row(1, status="in_progress", assigned_team=1, started_at=TUESDAY_9AM),
               *(ticket_row(i, status="assigned", assigned_team=1) for i in (2, 3, 4))]  # fmt: skip
    previous = _previous("1", [2, 3, 4], first_departs_in=timedelta(minutes=10))
    inputs = build_inputs([team_row(1), team_row(2)], tickets, previous, TUESDAY_9AM, FREEZE)
    pins = {v.ticket_id: (v.pinned_team, v.pinned_sequence) for v in inputs.visits}
    assert pins == {"1": ("1", 0), "2": ("1", 1), "3": (None, None), "4": (None, None)}
    assert inputs.fixed == {"1": "in_progress", "2": "freeze"}
    pinned_away = [ticket_row(2, status="assigned", assigned_team=1, pinned=True, pinned_team=2),
                   *(ticket_row(i, status="assigned", assigned_team=1) for i in (3, 4))]  # fmt: skip
    away = build_inputs([team_row(1), team_row(2)], pinned_away, previous, TUESDAY_9AM, FREEZE)
    assert {v.ticket_id: v.pinned_team for v in away.visits} == {"2": "2", "3": None, "4": None}  # a pin beats the freeze
    later = build_inputs([team_row(1)], tickets, _previous("1", [2, 3, 4], timedelta(hours=2)), TUESDAY_9AM, FREEZE)
    assert {v.ticket_id: v.pinned_sequence for v in later.visits} == {"1": 0, "2": None, "3": None, "4": None}


def test_a_move_to_a_position_holds_the_visits_before_it_and_a_plain_pin_keeps_the_team_only() -> None:
    tickets = [*(ticket_row(i, status="assigned", assigned_team=1) for i in (2, 3, 4)),
               ticket_row(5, pinned=True, pinned_team=1, pinned_sequence=3),
               ticket_row(6, pinned=True, pinned_team=2)]  # fmt: skip
    previous = _previous("1", [2, 3, 4], first_departs_in=timedelta(hours=3))
    inputs = build_inputs([team_row(1), team_row(2)], tickets, previous, TUESDAY_9AM, FREEZE)
    pins = {v.ticket_id: (v.pinned_team, v.pinned_sequence) for v in inputs.visits}
    assert pins == {"2": ("1", 0), "3": ("1", 1), "5": ("1", 2), "4": (None, None), "6": ("2", None)}
    assert inputs.fixed == {"2": "freeze", "3": "freeze", "5": "moved", "6": "pinned"}


def test_keep_teams_pins_assigned_visits_to_their_team_while_it_works() -> None:
    tickets = [ticket_row(2, status="assigned", assigned_team=1), ticket_row(3, status="assigned", assigned_team=9), ticket_row(4)]
    inputs = build_inputs([team_row(1)], tickets, None, TUESDAY_9AM, FREEZE, keep_teams=True)
    assert {v.ticket_id: v.pinned_team for v in inputs.visits} == {"2": "1", "3": None, "4": None}


def test_the_stored_plan_reads_back_with_its_break_after_the_right_visit() -> None:
    p = {"team_id": 1, "plan_date": date(2026, 12, 1), "revision": 3, "break_start": TUESDAY_9AM + timedelta(hours=4),
         "break_end": TUESDAY_9AM + timedelta(hours=4, minutes=45), "drive_minutes": 50.0, "drive_km": 30.0,
         "overtime_minutes": 0.0, "updated_at": TUESDAY_9AM}  # fmt: skip
    visits = [{"team_id": 1, "ticket_id": 10 + k, "sequence": k + 1, "eta": TUESDAY_9AM + timedelta(hours=2 * k),
               "planned_start": TUESDAY_9AM + timedelta(hours=2 * k), "planned_end": TUESDAY_9AM + timedelta(hours=2 * k, minutes=90),
               "travel_minutes": 10.0, "travel_km": 5.0} for k in range(3)]  # fmt: skip
    plan = stored_plan([p], visits, {"11": Point(1.5, 103.7)})
    tp = plan.teams["1"]
    assert [v.ticket_id for v in tp.visits] == ["10", "11", "12"] and [v.sequence for v in tp.visits] == [0, 1, 2]
    assert tp.lunch.after_sequence == 1 and tp.lunch.position == Point(1.5, 103.7)


def test_a_replan_moves_an_assigned_visit_only_when_that_saves_more_than_the_threshold() -> None:
    # ticket 1 sits next to team 2 but is held by team 1, 25 km away
    teams = [team_row(1, lat=1.72), team_row(2, lat=1.50)]
    tickets = [ticket_row(1, lat=1.50, status="assigned", assigned_team=1)]
    kw = {"freeze": FREEZE, "seconds": 0.05, "travel": TRAVEL, "current": {"1": "1"}}
    moved = replan_zone(teams, tickets, None, TUESDAY_9AM, churn_threshold_minutes=5, **kw)
    assert moved.moved and moved.plan.team_of("1") == "2" and moved.churn_gain_minutes > 5
    kept = replan_zone(teams, tickets, None, TUESDAY_9AM, churn_threshold_minutes=10_000, **kw)
    assert not kept.moved and kept.plan.team_of("1") == "1" and kept.churn_gain_minutes == moved.churn_gain_minutes
    out = changes(moved, stored={}, holding={1: Holding(1, "assigned")}, cleared={}, travel=TRAVEL, cause="test")
    assert [(a["ticket_id"], a["team_id"], a["replaces_team_id"]) for a in out.assigned] == [(1, 2, 1)]
    why = out.plans[0]["visits"][0]["explanation"]
    assert why["churn"] == "moved" and why["churn_gain_minutes"] > 5 and why["next_best_team_id"] == 1


def test_routes_are_cut_to_capacity_and_times_start_when_the_team_is_free() -> None:
    tickets = [ticket_row(i, lat=1.50 + i * 0.005) for i in range(1, 5)]
    result = replan_zone([team_row(1, capacity=2)], tickets, None, TUESDAY_9AM, freeze=FREEZE, seconds=0.05, travel=TRAVEL,
                         churn_threshold_minutes=10, current={})  # fmt: skip
    tp = result.plan.teams["1"]
    assert len(tp.visits) == 2
    assert sorted(u.reason for u in result.plan.unserved) == [TEAM_AT_CAPACITY, TEAM_AT_CAPACITY]
    first = tp.visits[0]
    assert first.eta - timedelta(minutes=first.travel_minutes) == TUESDAY_9AM  # no idling before the first drive
    assert all(a.planned_end <= b.eta for a, b in zip(tp.visits, tp.visits[1:]))
    out = changes(result, stored={}, holding={}, cleared={}, travel=TRAVEL, cause="test")
    assert {c for _, c in out.deferred.values()} == {TEAM_AT_CAPACITY} and len(out.assigned) == 2
    assert [a["sequence"] for a in out.assigned] == [1, 2] and all(a["eta"] is not None for a in out.assigned)


def test_no_team_with_the_skill_is_the_binding_reason() -> None:
    result = replan_zone([team_row(1)], [ticket_row(1, skill="power")], None, TUESDAY_9AM.astimezone(UTC), freeze=FREEZE,
                         seconds=0.05, travel=TRAVEL, churn_threshold_minutes=10, current={})  # fmt: skip
    out = changes(result, stored={}, holding={}, cleared={}, travel=TRAVEL, cause="test")
    assert out.deferred[1][1] == "no_team_with_skill" and "power" in out.deferred[1][0]


def test_an_assigned_visit_left_out_goes_back_to_the_queue_unless_a_dispatcher_pinned_it() -> None:
    tickets = [ticket_row(1, status="assigned", assigned_team=1, skill="power"),
               ticket_row(2, status="assigned", assigned_team=1, skill="power", pinned=True, pinned_team=1)]  # fmt: skip
    result = replan_zone([team_row(1)], tickets, None, TUESDAY_9AM, freeze=FREEZE, seconds=0.05, travel=TRAVEL,
                         churn_threshold_minutes=10, current={"1": "1", "2": "1"})  # fmt: skip
    holding = {1: Holding(1, "assigned"), 2: Holding(1, "assigned", pinned=True)}
    out = changes(result, stored={}, holding=holding, cleared={}, travel=TRAVEL, cause="test")
    assert [u["ticket_id"] for u in out.unassigned] == [1]
    assert set(out.deferred) == {1}


def test_a_move_dated_after_the_teams_current_day_waits_for_that_day() -> None:
    tomorrow = [ticket_row(5, pinned=True, pinned_team=1, pinned_sequence=1, pinned_date=date(2026, 12, 2)), ticket_row(6)]
    assert [v.ticket_id for v in build_inputs([team_row(1)], tomorrow, None, TUESDAY_9AM, FREEZE).visits] == ["6"]
    wednesday = TUESDAY_9AM + timedelta(days=1)
    inputs = build_inputs([team_row(1)], tomorrow, None, wednesday, FREEZE)
    assert {v.ticket_id: (v.pinned_team, v.pinned_sequence) for v in inputs.visits} == {"5": ("1", 0), "6": (None, None)}


def test_the_horizon_adds_the_next_working_days_skipping_days_off_and_never_overlapping() -> None:
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=MALAYSIA)
    day = team_day(team_row(1), friday, days=3)
    assert day.plan_date == date(2026, 12, 4) and day.later_dates == (date(2026, 12, 5), date(2026, 12, 7))  # no Sunday
    assert day.team.later_shifts[1] == (datetime(2026, 12, 7, 8, 0, tzinfo=MALAYSIA), datetime(2026, 12, 7, 17, 0, tzinfo=MALAYSIA))
    assert day.date_of(0) == day.plan_date and day.date_of(2) == date(2026, 12, 7)
    assert team_day(team_row(1), friday).later_dates == ()  # horizon 1: today only
    afternoon = team_day(team_row(1), datetime(2026, 12, 1, 14, 30, tzinfo=MALAYSIA), days=2)  # today's break is over
    assert afternoon.team.later_shifts[0][1] == datetime(2026, 12, 2, 16, 15, tzinfo=MALAYSIA)  # shortened by the break itself
    roomy = team_day(team_row(1, shift_start="00:00", shift_end="23:59", lunch_minutes=0), friday, days=2)
    assert roomy.team.later_shifts[0][0] == datetime(2026, 12, 5, 0, 59, tzinfo=MALAYSIA)  # after today's overtime


def test_a_ticket_that_does_not_fit_today_is_planned_on_a_later_day_unassigned_but_planned() -> None:
    late = datetime(2026, 12, 5, 15, 0, tzinfo=MALAYSIA)  # Saturday 15:00: 2 h left (+1 h overtime); Monday next
    tickets = [ticket_row(1, lat=1.495, status="assigned", assigned_team=1, due_date=late + timedelta(hours=2)),
               ticket_row(2, lat=1.497, status="assigned", assigned_team=1, due_date=late + timedelta(hours=48)),
               ticket_row(3, lat=1.499, due_date=late + timedelta(hours=48))]  # fmt: skip
    result = replan_zone([team_row(1)], tickets, None, late, freeze=FREEZE, seconds=0.1, travel=TRAVEL, churn_threshold_minutes=10,
                         current={"1": "1", "2": "1"}, horizon_days=3)  # fmt: skip
    assert [v.ticket_id for v in result.plan.teams["1"].visits] == ["1"]  # the urgent one today
    monday = {v.ticket_id: v for tp in result.plan.later["1"] for v in tp.visits}
    assert set(monday) == {"2", "3"} and all(v.day == 1 for v in monday.values())
    assert all(v.eta.astimezone(MALAYSIA).date() == date(2026, 12, 7) for v in monday.values())
    stale = (1, date(2026, 12, 8))  # a stored later day this plan no longer uses
    holding = {1: Holding(1, "assigned"), 2: Holding(1, "assigned")}
    out = changes(result, stored={stale: Stored(2, ((3, TUESDAY_9AM, TUESDAY_9AM), None))}, holding=holding, cleared={}, travel=TRAVEL, cause="test")
    by_day = {(p["team_id"], p["plan_date"]): [v["ticket_id"] for v in p["visits"]] for p in out.plans}
    assert by_day[(1, date(2026, 12, 5))] == [1] and sorted(by_day[(1, date(2026, 12, 7))]) == [2, 3]
    assert by_day[stale] == []  # Tuesday is still in the horizon: re-published empty (the visit moved to Monday)
    assert out.assigned == []  # ticket 1 is already held; later days assign nothing
    assert [u["ticket_id"] for u in out.unassigned] == [2]  # held today but planned Monday: released, not lost
    assert {t: c for t, (_, c) in out.deferred.items()} == {2: PLANNED_LATER, 3: PLANNED_LATER}
    assert "2026-12-07" in out.deferred[3][0]
    pinned = changes(result, stored={}, holding={1: holding[1], 2: Holding(1, "assigned", pinned=True)}, cleared={}, travel=TRAVEL, cause="test")
    assert pinned.unassigned == [] and set(pinned.deferred) == {3}  # a dispatcher's pin stays with its team
