"""The planner on a small Malaysian day: every published time is recomputed from the travel model and checked
against shifts, overtime, breaks, customer windows and skills; pins hold; every left-out visit has its reason."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from aiff.planning import HaversineTravel, LunchBreak, Plan, Point, Team, Visit, plan
from aiff.planning.model import (
    NO_SHIFT_TIME, NO_TEAM_WITH_SKILL, OUTRANKED, OUTSIDE_TIME_WINDOW, PINNED_TEAM_CANNOT_FIT,
)

MYT = timezone(timedelta(hours=8))
DAY = datetime(2026, 3, 2, tzinfo=MYT)
KL = Point(3.1390, 101.6869)
KOTA_KINABALU = Point(5.9804, 116.0735)
TRAVEL = HaversineTravel()


def at(h: int, m: int = 0) -> datetime:
    return DAY.replace(hour=h, minute=m)


def near(rng: random.Random, spread: float) -> Point:
    return Point(KL.lat + rng.uniform(-spread, spread), KL.lon + rng.uniform(-spread, spread))


def scenario() -> tuple[list[Team], list[Visit]]:
    rng = random.Random(7)
    skills = [frozenset({"fiber", "power"}), frozenset({"copper", "fiber"}), frozenset({"power"}), frozenset({"copper"})]
    teams = [Team(f"T{i}", skills[i], at(8), at(17), near(rng, 0.1), near(rng, 0.1),
                  LunchBreak(at(12), at(14), timedelta(minutes=45)), timedelta(minutes=30 * (i % 2)))
             for i in range(4)]
    visits = []
    for j in range(36):
        window = None
        if j % 4 == 0:
            start = at(rng.choice([9, 10, 13, 14]))
            window = (start, start + timedelta(hours=2))
        visits.append(Visit(f"K{j}", near(rng, 0.25), rng.choice(["fiber", "power", "copper"]),
                            timedelta(minutes=rng.choice([30, 45, 60, 90])), rng.choice(["low", "medium", "high", "critical"]),
                            window, at(rng.choice([11, 15, 18])) if j % 3 == 0 else None))
    visits += [
        Visit("PINNED", near(rng, 0.05), "copper", timedelta(minutes=30), "low", pinned_team="T1"),
        Visit("FROZEN0", near(rng, 0.05), "power", timedelta(minutes=40), pinned_team="T2", pinned_sequence=0),
        Visit("FROZEN1", near(rng, 0.05), "power", timedelta(minutes=20), pinned_team="T2", pinned_sequence=1),
        Visit("NOSKILL", near(rng, 0.05), "wireless", timedelta(minutes=30), "critical"),
        Visit("WINDOW_PAST", near(rng, 0.05), "fiber", timedelta(minutes=30), "critical", window=(at(5), at(7))),
        Visit("TOO_FAR", KOTA_KINABALU, "fiber", timedelta(minutes=30), "critical"),
    ]
    return teams, visits


@pytest.fixture(scope="module")
def solved() -> tuple[list[Team], list[Visit], Plan]:
    teams, visits = scenario()
    return teams, visits, plan(teams, visits, travel=TRAVEL, now=at(8), seconds=1.5, seed=3)


def leg(a: Point, b: Point) -> tuple[int, int]:
    dur, dist = TRAVEL.matrices([a, b])
    return int(dur[0, 1]), int(dist[0, 1])


def test_recomputed_schedule_respects_shift_windows_breaks_and_skills(solved):
    teams, visits, p = solved
    by_id = {v.ticket_id: v for v in visits}
    assert p.feasible
    served = 0
    for team in teams:
        tp = p.teams[team.id]
        assert tp.depart >= team.shift_start
        here, free_at = team.start, tp.depart
        drive_total = 0
        stops = [("visit", v) for v in tp.visits]
        if tp.lunch is not None:
            stops.insert(tp.lunch.after_sequence + 1, ("lunch", tp.lunch))
        for kind, stop in stops:
            if kind == "lunch":
                drive, _ = leg(here, stop.position)
                assert stop.start >= free_at + timedelta(seconds=drive)
                assert team.lunch.earliest <= stop.start and stop.end <= team.lunch.latest
                assert stop.end - stop.start == team.lunch.duration
                here, free_at = stop.position, stop.end
                drive_total += drive
                continue
            v = by_id[stop.ticket_id]
            drive, _ = leg(here, v.position)
            assert abs((stop.eta - (free_at + timedelta(seconds=drive))).total_seconds()) <= 1
            assert stop.planned_start >= stop.eta
            assert v.skill in team.skills
            if v.window is not None:
                assert v.window[0] <= stop.planned_start <= v.window[1]
            assert stop.planned_end - stop.planned_start == v.service
            if v.due is not None:
                assert stop.on_time == (stop.planned_end <= v.due)
            here, free_at = v.position, stop.planned_end
            drive_total += drive
            served += 1
        back, _ = leg(here, team.end)
        drive_total += back
        assert tp.arrive_end >= free_at + timedelta(seconds=back)
        assert tp.arrive_end <= team.shift_end + team.max_overtime
        assert tp.overtime_minutes == pytest.approx(max(0.0, (tp.arrive_end - team.shift_end).total_seconds() / 60))
        assert tp.travel_minutes == pytest.approx(drive_total / 60, abs=0.1)
        if tp.lunch is None:  # only when the team is off through the whole break window
            assert tp.depart + timedelta(minutes=45) > team.lunch.latest
    assert served >= 15  # the plan is not trivially empty


def test_every_visit_is_planned_once_or_unserved_with_a_reason(solved):
    _, visits, p = solved
    planned = [v.ticket_id for tp in p.teams.values() for v in tp.visits]
    unserved = {u.ticket_id: u for u in p.unserved}
    assert len(planned) == len(set(planned))
    assert set(planned).isdisjoint(unserved)
    assert set(planned) | set(unserved) == {v.ticket_id for v in visits}
    assert unserved["NOSKILL"].reason == NO_TEAM_WITH_SKILL
    assert unserved["WINDOW_PAST"].reason == OUTSIDE_TIME_WINDOW
    assert unserved["TOO_FAR"].reason == NO_SHIFT_TIME
    known = {NO_TEAM_WITH_SKILL, OUTSIDE_TIME_WINDOW, NO_SHIFT_TIME, PINNED_TEAM_CANNOT_FIT, OUTRANKED}
    assert all(u.reason in known and u.detail for u in p.unserved)


def test_pinned_visits_stay_on_their_team_and_frozen_ones_lead_in_order(solved):
    _, _, p = solved
    assert p.team_of("PINNED") == "T1"
    head = p.teams["T2"].visits[:2]
    assert [v.ticket_id for v in head] == ["FROZEN0", "FROZEN1"] and all(v.frozen for v in head)
    assert not any(v.frozen for tp in p.teams.values() for v in tp.visits if not v.ticket_id.startswith("FROZEN"))


def test_a_pin_holds_even_when_another_team_is_much_closer():
    rng = random.Random(1)
    far_base, near_base = Point(2.75, 101.95), KL  # Seremban vs KL
    teams = [Team("FAR", frozenset({"fiber"}), at(8), at(17), far_base, far_base),
             Team("NEAR", frozenset({"fiber"}), at(8), at(17), near_base, near_base)]
    visits = [Visit(f"V{j}", near(rng, 0.05), "fiber", timedelta(minutes=30)) for j in range(4)]
    free = plan(teams, visits, now=at(8), seconds=0.3)
    assert all(free.team_of(v.ticket_id) == "NEAR" for v in visits)
    visits[0] = Visit("V0", visits[0].position, "fiber", timedelta(minutes=30), pinned_team="FAR")
    pinned = plan(teams, visits, now=at(8), seconds=0.3)
    assert pinned.team_of("V0") == "FAR"
    assert all(pinned.team_of(v.ticket_id) == "NEAR" for v in visits[1:])


def test_a_skill_is_never_given_to_a_team_without_it():
    rng = random.Random(2)
    teams = [Team("COPPER", frozenset({"copper"}), at(8), at(17), KL, KL),
             Team("POWER", frozenset({"power"}), at(8), at(17), Point(2.75, 101.95), Point(2.75, 101.95))]
    visits = [Visit(f"P{j}", near(rng, 0.05), "power", timedelta(minutes=20)) for j in range(3)]
    p = plan(teams, visits, now=at(8), seconds=0.3)
    assert all(p.team_of(v.ticket_id) == "POWER" for v in visits)  # although COPPER sits next to them


def test_a_warm_started_replan_is_no_worse_than_the_plan_it_starts_from(solved):
    teams, visits, p = solved
    again = plan(teams, visits, travel=TRAVEL, now=at(8), seconds=0.5, seed=11, previous=p)
    assert again.feasible
    assert again.cost <= p.cost
    assert again.team_of("PINNED") == "T1"


def test_a_critical_visit_due_early_is_served_on_time_before_a_low_one():
    base = Point(3.10, 101.60)
    team = Team("T", frozenset({"fiber"}), at(8), at(10), base, base)
    crit = Visit("CRIT", Point(3.12, 101.62), "fiber", timedelta(minutes=50), "critical", due=at(9))
    low = Visit("LOW", Point(3.08, 101.58), "fiber", timedelta(minutes=50), "low", due=at(9))
    p = plan([team], [low, crit], now=at(8), seconds=0.3)
    first = p.teams["T"].visits[0]
    assert first.ticket_id == "CRIT" and first.on_time
