"""The fast path of a re-plan: new tickets inserted into the stored plan, each at its cheapest feasible slot.

When all that changed in a zone is new tickets, solving the zone again (seconds for a zone with hundreds of
open tickets: the solver's set-up grows with the square of its visits) is not needed to answer "who takes it,
when": the cheapest insertion into the routes the teams already follow is what a dispatcher would do, costs
milliseconds, and moves nothing already planned (no churn). Every route stays within its shift plus overtime,
its customer windows and its team's capacity; an insertion is priced like the planner prices a plan (drive
seconds, plus lateness past the due time at the priority's hourly rate, plus overtime). A ticket no slot takes
is left to the next full re-plan (`aiff.dispatch.replan`), which also improves what insertion placed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from aiff.dispatch.inputs import Inputs, TeamDay
from aiff.dispatch.schedule import _day_team, _retime
from aiff.planning import Costs, Plan, PlannedVisit, Point, Team, TeamPlan, TravelModel, Unserved, Visit
from aiff.planning.model import NO_SHIFT_TIME, NO_TEAM_WITH_SKILL, OUTSIDE_TIME_WINDOW, TEAM_AT_CAPACITY

COSTS = Costs()
log = logging.getLogger(__name__)
HEAD = frozenset({"in_progress", "freeze", "moved"})
"""Fixed visits that head their route (aiff.dispatch.inputs): nothing is inserted before them."""


def insert(inputs: Inputs, previous: Plan, new: list[str], now: datetime, travel: TravelModel) -> Plan | None:
    """`previous` (the stored plan, today and the horizon's later days) with the `new` visits inserted, most
    urgent first; None when the stored plan no longer fits the world (a team or a planned visit gone: that
    needs a full re-plan). A new visit no slot takes is unserved (`no_shift_time`)."""
    visits = {v.ticket_id: v for v in inputs.visits}
    teams = {d.team.id: d for d in inputs.teams}
    routes: dict[tuple[str, int], TeamPlan] = {}
    head = {t for t, why in inputs.fixed.items() if why in HEAD}
    for tp in previous.all_team_plans():
        if tp.team_id not in teams or any(v.ticket_id not in visits for v in tp.visits):
            log.info("insert: stored plan of team %s day %d no longer fits (team working: %s; gone: %s)", tp.team_id, tp.day,
                     tp.team_id in teams, [v.ticket_id for v in tp.visits if v.ticket_id not in visits][:5])
            return None
        routes[(tp.team_id, tp.day)] = replace(tp, visits=tuple(replace(v, frozen=v.ticket_id in head) for v in tp.visits))
    for d in inputs.teams:
        for k in range(len(d.later_dates) + 1):
            if (d.team.id, k) not in routes:
                start = d.team.shift_start if k == 0 else d.team.later_shifts[k - 1][0]
                routes[(d.team.id, k)] = TeamPlan(d.team.id, (), None, start, start, 0.0, 0.0, 0.0, day=k)
    unserved: list[Unserved] = []
    placed = {v.ticket_id for tp in routes.values() for v in tp.visits}
    for tid in sorted(set(new) - placed, key=lambda t: _urgency(visits[t])):
        legs = Legs(travel, visits[tid].position, routes, teams, visits)
        best = _best_slot(visits[tid], routes, teams, visits, now, legs)
        if best is None:
            unserved.append(_why_not(visits[tid], routes, teams, now))
            continue
        routes[best[0]] = best[1]
    return _as_plan(previous, routes, teams, unserved)


def _why_not(v: Visit, routes: dict[tuple[str, int], TeamPlan], teams: dict[str, TeamDay], now: datetime) -> Unserved:
    """The binding reason a new visit found no slot, most fundamental first (as aiff.planning.reasons)."""
    capable = [d for d in teams.values() if v.skill in d.team.skills and v.pinned_team in (None, d.team.id)]
    if not capable:
        return Unserved(v.ticket_id, NO_TEAM_WITH_SKILL, f"no team on shift has skill {v.skill!r}")
    if v.window is not None and v.window[1] < now:
        return Unserved(v.ticket_id, OUTSIDE_TIME_WINDOW, "its window has closed")
    room = [d for d in capable for (t, day), tp in routes.items() if t == d.team.id
            and len(tp.visits) < ((d.team.capacity if d.team.capacity is not None else d.capacity) if day == 0 else d.capacity)]
    if not room:
        return Unserved(v.ticket_id, TEAM_AT_CAPACITY, f"every one of {len(capable)} capable teams holds its capacity of tickets")
    return Unserved(v.ticket_id, NO_SHIFT_TIME, f"none of {len(capable)} capable teams has time for it in its planned days")


def _urgency(v: Visit) -> tuple:
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}.get(v.priority, 2)
    return (rank, v.due is None, v.due.timestamp() if v.due is not None else 0.0, v.ticket_id)


def _best_slot(v: Visit, routes: dict[tuple[str, int], TeamPlan], teams: dict[str, TeamDay], visits: dict[str, Visit],
               now: datetime, legs: Legs) -> tuple[tuple[str, int], TeamPlan] | None:
    """The cheapest feasible team-day and position for `v`: (team-day, its re-timed route); None if none is."""
    best: tuple[float, tuple[str, int], TeamPlan] | None = None
    for (team_id, day), tp in sorted(routes.items()):
        d = teams[team_id]
        if day > len(d.team.later_shifts) or v.skill not in d.team.skills or v.pinned_team not in (None, team_id):
            continue
        team = d.team if day == 0 else _day_team(d.team, day)
        cap = (d.team.capacity if d.team.capacity is not None else d.capacity) if day == 0 else d.capacity
        if len(tp.visits) + 1 > cap:
            continue
        first = max((k + 1 for k, pv in enumerate(tp.visits) if pv.frozen), default=0)  # after the fixed head
        base = list(_retime(tp, team, visits, now).visits) if tp.visits else []  # what the route costs as it is, now
        for position in range(first, len(tp.visits) + 1):
            timed = _timed(team, tp, position, v, visits, now, legs)
            if timed is None:
                continue
            cost = _cost(team, list(timed.visits), visits, base) + _day_cost(v, day, len(d.later_dates) + 1)
            if best is None or cost < best[0]:
                best = (cost, (team_id, day), timed)
    return None if best is None else (best[1], best[2])


def _day_cost(v: Visit, day: int, days: int) -> float:
    """What a later day costs: the today-first bonus it misses (the planner's own price, aiff.planning.costs)."""
    return float(COSTS.sooner_bonus(v.priority, 0, days) - COSTS.sooner_bonus(v.priority, day, days)) if day else 0.0


class Legs:
    """Drive minutes and km between one new visit and every place it may be inserted next to (team starts and
    bases, the routes' stops): one travel-matrix call per new visit, not one per leg tried."""

    def __init__(self, travel: TravelModel, at: Point, routes: dict[tuple[str, int], TeamPlan], teams: dict[str, TeamDay],
                 visits: dict[str, Visit]) -> None:
        places = {at} | {d.team.start for d in teams.values()} | {d.team.end for d in teams.values()}
        places |= {visits[v.ticket_id].position for tp in routes.values() for v in tp.visits}
        self.points = sorted(places, key=lambda p: (p.lat, p.lon))
        self.index = {p: k for k, p in enumerate(self.points)}
        self.durations, self.distances = travel.matrices(self.points)

    def __call__(self, a: Point, b: Point) -> tuple[float, float]:
        i, j = self.index[a], self.index[b]
        return float(self.durations[i, j]) / 60, float(self.distances[i, j]) / 1000


def _timed(team: Team, tp: TeamPlan, position: int, v: Visit, visits: dict[str, Visit], now: datetime,
           legs: Legs) -> TeamPlan | None:
    """The route with `v` at `position`, re-timed forward as published (aiff.dispatch.schedule); None when a
    window is missed or the team would not be home within its shift plus overtime."""
    route = list(tp.visits)
    before = team.start if position == 0 else visits[route[position - 1].ticket_id].position
    minutes, km = legs(before, v.position)
    out = route[:position] + [PlannedVisit(v.ticket_id, team.id, position, now, now, now + v.service, minutes, km, None, day=tp.day)]
    if position < len(route):
        m, k = legs(v.position, visits[route[position].ticket_id].position)
        out += [replace(route[position], travel_minutes=m, travel_km=k)] + route[position + 1:]
    draft = replace(tp, visits=tuple(replace(pv, sequence=k, day=tp.day) for k, pv in enumerate(out)))
    timed = _retime(draft, team, visits, now)
    for pv in timed.visits:
        w = visits[pv.ticket_id].window
        if w is not None and pv.planned_start > w[1]:
            return None
    last = timed.visits[-1]
    home = last.planned_end + timedelta(minutes=legs(visits[last.ticket_id].position, team.end)[0])
    if home > team.shift_end + team.max_overtime:
        return None
    return _summed(timed, team)


def _cost(team: Team, timed: list[PlannedVisit], visits: dict[str, Visit], old: list[PlannedVisit]) -> float:
    """Seconds of driving: the route's drive, lateness past due at the priority's rate, and overtime - less what
    the route cost before (so teams compare on what the insertion adds)."""
    def total(route: list[PlannedVisit]) -> float:
        drive = sum(pv.travel_minutes for pv in route) * 60
        late = 0.0
        for pv in route:
            due = visits[pv.ticket_id].due
            if due is not None and pv.planned_end > due:
                late += (pv.planned_end - due).total_seconds() * COSTS.rate(visits[pv.ticket_id].priority)
        over = max(0.0, ((route[-1].planned_end if route else team.shift_start) - team.shift_end).total_seconds())
        return drive + late + COSTS.overtime_cost * over
    return total(timed) - (total(old) if old else 0.0)


def _as_plan(previous: Plan, routes: dict[tuple[str, int], TeamPlan], teams: dict[str, TeamDay],
             unserved: list[Unserved]) -> Plan:
    today: dict[str, TeamPlan] = {}
    later: dict[str, list[TeamPlan]] = {}
    for (team_id, day), tp in sorted(routes.items()):
        if day == 0:
            today[team_id] = tp
        elif day <= len(teams[team_id].later_dates):
            later.setdefault(team_id, []).append(tp)
    return Plan(teams=today, unserved=tuple(unserved), cost=0, solve_seconds=0.0,
                later={t: tuple(sorted(tps, key=lambda tp: tp.day)) for t, tps in later.items()})


def _summed(tp: TeamPlan, team: Team) -> TeamPlan:
    """A re-timed route's totals: drive minutes and km, and overtime past the day's shift end."""
    end = tp.visits[-1].planned_end if tp.visits else team.shift_end
    return replace(tp, arrive_end=end, travel_minutes=sum(v.travel_minutes for v in tp.visits),
                   travel_km=sum(v.travel_km for v in tp.visits),
                   overtime_minutes=max(0.0, (end - team.shift_end).total_seconds() / 60))
