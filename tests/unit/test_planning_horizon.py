"""Lateness priced per hour by priority, the multi-day horizon and the churn threshold change the planner's
decisions: small hand-made days where the right answer is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from aiff.planning import Costs, Point, Team, Visit, plan
from aiff.planning.costs import CHURN_COST
from aiff.planning.horizon import next_shifts, with_horizon

MYT = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 3, 2, tzinfo=MYT)
BASE = Point(3.10, 101.60)


def at(h: int, m: int = 0, day: int = 0) -> datetime:
    return MONDAY.replace(hour=h, minute=m) + timedelta(days=day)


def team(tid: str = "T", start: Point = BASE, end_h: int = 17) -> Team:
    return Team(tid, frozenset({"fiber"}), at(8), at(end_h), start, start)


def test_a_high_visit_at_risk_goes_before_a_low_one_that_can_wait():
    # Room for one 3 h job today: the high one (due today 14:00) must take it, the low one goes tomorrow.
    high = Visit("HIGH", Point(3.12, 101.62), "fiber", timedelta(hours=3), "high", due=at(14))
    low = Visit("LOW", Point(3.11, 101.61), "fiber", timedelta(hours=3), "low", due=at(17, day=5))
    p = plan([team(end_h=12)], [low, high], now=at(8), seconds=0.3, horizon_days=3)
    assert [v.ticket_id for v in p.teams["T"].visits] == ["HIGH"]
    assert p.teams["T"].visits[0].on_time
    tomorrow = p.visit("LOW")
    assert tomorrow is not None and tomorrow.day == 1 and tomorrow.on_time
    assert tomorrow.planned_start.date() == at(8, day=1).date()


def test_an_overflow_visit_gets_a_planned_day_and_its_sla_outcome():
    # Three 4 h jobs, a 9 h shift: one per day over the horizon; the one that ends on day 3 is known late.
    visits = [Visit(f"V{i}", Point(3.11 + i / 100, 101.61), "fiber", timedelta(hours=4), "medium",
                    due=at(17, day=1)) for i in range(3)]
    p = plan([team()], visits, now=at(8), seconds=0.5, horizon_days=3)
    days = sorted(p.visit(v.ticket_id).day for v in visits)
    assert not p.unserved
    assert days[:2] in ([0, 0], [0, 1]) and days[-1] >= 1
    late = [p.visit(v.ticket_id) for v in visits if p.visit(v.ticket_id).day == 2]
    assert all(v.on_time is False for v in late)
    assert p.later["T"][0].day == 1 and p.later["T"][0].depart >= at(8, day=1)


def test_without_a_horizon_the_overflow_is_unserved_as_before():
    visits = [Visit(f"V{i}", Point(3.11 + i / 100, 101.61), "fiber", timedelta(hours=4), "medium") for i in range(3)]
    p = plan([team()], visits, now=at(8), seconds=0.3)
    assert not p.later and len(p.unserved) == 1


def test_the_horizon_skips_sunday():
    saturday = replace(team(), shift_start=at(8, day=5), shift_end=at(17, day=5))
    shifts = next_shifts(saturday, 3)
    assert [s.weekday() for s, _ in shifts] == [0, 1]
    assert with_horizon([saturday], 1)[0].later_shifts == ()


def test_lateness_is_priced_per_hour_by_priority():
    c = Costs()
    assert c.late_prize("high", 3600) > c.late_prize("high", 4 * 3600) > c.late_prize("low", 3600)
    assert c.late_prize("critical", 10**6) == int(c.serve("critical") * c.late_floor)
    # an on-time critical is worth more than several medium visits
    assert c.serve("critical") + c.bonus("critical") > 4 * (c.serve("medium") + c.bonus("medium"))


def test_a_critical_due_soon_beats_a_high_already_late():
    # Room for one: the critical that can still be on time wins over a high that is late whatever happens.
    crit = Visit("CRIT", Point(3.13, 101.63), "fiber", timedelta(hours=2), "critical", due=at(10, 30))
    high = Visit("HIGH", Point(3.11, 101.61), "fiber", timedelta(hours=2), "high", due=at(7))
    p = plan([team(end_h=11)], [high, crit], now=at(8), seconds=0.3)
    assert [v.ticket_id for v in p.teams["T"].visits] == ["CRIT"]


def _two_teams() -> list[Team]:
    return [team("A", Point(3.10, 101.60)), team("B", Point(3.30, 101.80))]


def test_a_replan_does_not_move_a_visit_for_less_than_the_churn_threshold():
    # V sits between A and B; the previous plan put it on B. Moving it to A saves a few minutes of driving.
    v = Visit("V", Point(3.19, 101.69), "fiber", timedelta(minutes=30), "medium")
    first = plan(_two_teams(), [v], now=at(8), seconds=0.2, costs=Costs(churn_cost=0))
    owner = first.team_of("V")
    other = "A" if owner == "B" else "B"
    forced = plan(_two_teams(), [replace(v, pinned_team=other)], now=at(8), seconds=0.2)
    assert forced.team_of("V") == other
    held = plan(_two_teams(), [v], now=at(8), seconds=0.4, previous=forced, costs=Costs(churn_cost=3600))
    assert held.team_of("V") == other and held.stats["moved"] == 0
    free = plan(_two_teams(), [v], now=at(8), seconds=0.4, previous=forced, costs=Costs(churn_cost=0))
    assert free.team_of("V") == owner


def test_a_replan_moves_a_visit_when_that_saves_more_than_the_threshold():
    # The previous plan had V on a team an hour away; a 15-minute threshold does not hold it there.
    far = team("FAR", Point(2.75, 101.95))  # Seremban
    near = team("NEAR", BASE)
    v = Visit("V", Point(3.11, 101.61), "fiber", timedelta(minutes=30), "medium")
    forced = plan([far, near], [replace(v, pinned_team="FAR")], now=at(8), seconds=0.2)
    assert forced.team_of("V") == "FAR"
    again = plan([far, near], [v], now=at(8), seconds=0.4, previous=forced, costs=Costs(churn_cost=CHURN_COST))
    assert again.team_of("V") == "NEAR" and again.stats["moved"] == 1


def test_a_pinned_visit_never_moves_on_a_replan():
    far = team("FAR", Point(2.75, 101.95))
    near = team("NEAR", BASE)
    v = Visit("V", Point(3.11, 101.61), "fiber", timedelta(minutes=30), "medium", pinned_team="FAR")
    first = plan([far, near], [v], now=at(8), seconds=0.2)
    again = plan([far, near], [v], now=at(8), seconds=0.3, previous=first, costs=Costs(churn_cost=0))
    assert first.team_of("V") == again.team_of("V") == "FAR"


def test_a_due_time_becomes_copies_worth_less_the_later_they_finish():
    from aiff.planning.build import build
    from aiff.planning.travel import HaversineTravel

    v = Visit("V", Point(3.11, 101.61), "fiber", timedelta(hours=1), "high", due=at(12))
    inst = build(with_horizon([team()], 3), [v], HaversineTravel(), at(8), Costs())
    copies = [c for c in inst.pyvrp_clients if c.name == "V"]
    lates = [c.tw_late for c in copies]
    prizes = [c.prize for c in copies]
    assert lates == sorted(lates) and len(set(lates)) == len(lates)
    assert prizes == sorted(prizes, reverse=True)
    assert len(inst.groups) == 1 and len(copies) >= 4  # on time, late tiers, today, later days
    # the on-time copy aims at due - 1.5 x service (slack for overruns): latest start 10:30
    assert lates[0] == int((at(10, 30) - at(8)).total_seconds())
    # served today: the today bonus at least (more: on the last day it would be far later than the tiers price)
    assert prizes[0] >= Costs().serve("high") + Costs().bonus("high") + Costs().today_bonus["high"]


def test_a_visit_already_late_is_still_worth_more_the_sooner_it_is_served():
    # A critical ticket due two days ago: every late tier is behind it, so only the day it is served on can
    # tell its copies apart - sooner must be worth more, or it could be put off to the horizon's last day.
    from aiff.planning.build import build
    from aiff.planning.travel import HaversineTravel

    v = Visit("LATE", Point(3.11, 101.61), "fiber", timedelta(hours=2), "critical", due=at(9, day=-2))
    inst = build(with_horizon([team()], 3), [v], HaversineTravel(), at(8), Costs())
    copies = sorted((c for c in inst.pyvrp_clients if c.name == "LATE"), key=lambda c: c.tw_late)
    day_ends = sorted({(at(18, day=d) - at(8)).total_seconds() for d in range(3)})
    bounds = list(zip([-1.0] + day_ends[:-1], day_ends))
    by_day = [max(c.prize for c in copies if lo < c.tw_late <= hi) for lo, hi in bounds]
    assert by_day[0] > by_day[1] > by_day[2] > 0


def test_a_late_visit_that_cannot_be_served_today_goes_to_the_next_day_not_a_later_one():
    v = Visit("LATE", Point(3.11, 101.61), "fiber", timedelta(hours=2), "critical", due=at(9, day=-2))
    p = plan([team()], [v], now=at(16, 30), seconds=0.3, horizon_days=3)  # too late today for a 2 h job
    planned = p.visit("LATE")
    assert planned is not None and planned.day == 1


def test_a_high_ticket_already_days_late_goes_before_mediums_that_would_only_just_be_late():
    # Tomorrow has room for two 4 h jobs. Two mediums due tomorrow evening would be on time there; the high one
    # is two days late already. Its lateness keeps costing 0.5 h per hour (mediums 0.1), so it takes a slot
    # tomorrow and one medium waits a day - rather than the high one waiting for the horizon's last day.
    late = Visit("LATE", Point(3.11, 101.61), "fiber", timedelta(hours=4), "high", due=at(9, day=-2))
    mediums = [Visit(f"M{i}", Point(3.11, 101.61 + i / 100), "fiber", timedelta(hours=4), "medium",
                     due=at(17, day=1)) for i in range(2)]
    p = plan([team()], [late, *mediums], now=at(16, 30), seconds=0.5, horizon_days=3)
    assert p.visit("LATE") is not None and p.visit("LATE").day == 1
