"""The planner: build the PyVRP model, solve it within a time limit (warm-started when a plan exists), read it back.

Breaks are solved in two phases (see aiff.planning.build): a share of the time with free breaks to find
where each team takes its break, then the rest with each break anchored at the stop it follows, warm-started
from the first phase, so the published times are exactly what the travel model says. A re-plan from a
previous plan anchors the breaks where that plan had them and runs one phase from its routes.

Churn: a re-plan is warm-started from the previous plan (its routes are the initial solution). With a
churn cost (Costs.churn_cost, per moved visit) it is solved twice: once free, once holding every visit the
previous plan had on a team to that team (any order, any day; new visits go anywhere). The free plan is
taken only when it beats the held one by more than churn_cost x the visits it moves to another team, so a
visit moves only when that saves more than the threshold; pinned visits are never moved either way.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime

from aiff.planning.build import Instance, build
from aiff.planning.costs import Costs
from aiff.planning.horizon import with_horizon
from aiff.planning.model import Plan, PlannedBreak, PlannedVisit, Team, TeamPlan, Visit
from aiff.planning.reasons import unserved_reason
from aiff.planning.travel import HaversineTravel, TravelModel

BREAK_PHASE_SHARE = 0.3


def solve_data(data: pyvrp.ProblemData, seconds: float, seed: int = 0,
               initial: pyvrp.Solution | None = None, iterations: int | None = None) -> pyvrp.Result:
    """PyVRP's iterated local search on one core for `seconds` (the path the Solomon benchmark measures), or
    for a fixed number of `iterations` when given (reproducible: the result no longer depends on the clock)."""
    stop = MaxRuntime(seconds) if iterations is None else MaxIterations(max(1, iterations))
    return pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial)


def plan(teams: list[Team], visits: list[Visit], *, travel: TravelModel | None = None, now: datetime | None = None,
         seconds: float = 1.0, seed: int = 0, costs: Costs | None = None, previous: Plan | None = None,
         iterations: int | None = None, horizon_days: int | None = None) -> Plan:
    """Plan every team's route from `now` (default: the earliest shift start); `iterations` instead of
    `seconds` makes the search deterministic (used by the simulation). `horizon_days` (e.g. 3) also plans
    the following working days (Mon-Sat, same shift hours) for teams without `later_shifts`: visits that do
    not fit today get a planned day (`PlannedVisit.day`, `Plan.later`). Default: the teams' own shifts."""
    started = time.perf_counter()
    if now is None:
        now = min((t.shift_start for t in teams), default=datetime.now(timezone.utc))
    if horizon_days is not None:
        teams = with_horizon(teams, horizon_days)
    travel, costs = travel or HaversineTravel(), costs or Costs()
    if previous is None or costs.churn_cost <= 0:
        return _plan_once(teams, visits, travel, now, seconds, seed, costs, previous, iterations, None, started)
    before = {v.ticket_id: v.team_id for tp in previous.all_team_plans() for v in tp.visits}
    present = {t.id for t in teams}
    hold = {v.ticket_id: before[v.ticket_id] for v in visits
            if before.get(v.ticket_id) in present and v.pinned_team is None}
    if not hold:
        return _plan_once(teams, visits, travel, now, seconds, seed, costs, previous, iterations, None, started)
    half = seconds / 2
    held = _plan_once(teams, visits, travel, now, half, seed, costs, previous, iterations, hold, started)
    free = _plan_once(teams, visits, travel, now, half, seed, costs, previous, iterations, None, started)
    moved = sum(1 for tid, team in hold.items() if free.team_of(tid) not in (None, team))
    chosen = free if held.cost - free.cost > costs.churn_cost * moved else held
    chosen.stats.update({"moved": float(moved if chosen is free else 0), "churn_saving": float(held.cost - free.cost)})
    return chosen


def _plan_once(teams: list[Team], visits: list[Visit], travel: TravelModel, now: datetime, seconds: float, seed: int,
               costs: Costs, previous: Plan | None, iterations: int | None, hold: dict[str, str] | None,
               started: float) -> Plan:
    inst = build(teams, visits, travel, now, costs, hold)
    if not inst.slots:
        return _read_back(inst, None, started)
    has_breaks = any(s.break_client is not None for s in inst.slots)
    if previous is not None:
        # An incremental re-plan keeps each break where the previous plan had it, so the previous routes
        # are a valid start and the result is never worse than them.
        inst.place_breaks(_previous_anchors(inst, previous))
        has_breaks = False
    data = inst.data()
    initial = _warm_start(inst, data, previous) if previous is not None else None
    if has_breaks:
        first_its = None if iterations is None else int(iterations * BREAK_PHASE_SHARE)
        first = solve_data(data, seconds * BREAK_PHASE_SHARE, seed, initial, first_its).best
        inst.place_breaks(_break_anchors(inst, first))
        data = inst.data()
        initial = pyvrp.Solution(data, [pyvrp.Route(data, _route_clients(r), r.vehicle_type()) for r in first.routes()])
        seconds *= 1 - BREAK_PHASE_SHARE
        iterations = None if iterations is None else iterations - int(iterations * BREAK_PHASE_SHARE)
    best = solve_data(data, seconds, seed, initial, iterations).best
    return _read_back(inst, best, started)


def _route_clients(route: pyvrp.Route) -> list[int]:
    return [a.idx for a in route if a.is_client()]


def _break_anchors(inst: Instance, sol: pyvrp.Solution) -> dict[int, int]:
    """Per team slot: the location of the stop its break follows (its start when the break comes first)."""
    anchors = {}
    for route in sol.routes():
        k = route.vehicle_type()
        prev = inst.slots[k].start_loc
        for act in route:
            if not act.is_client():
                continue
            if act.idx == inst.slots[k].break_client:
                anchors[k] = prev
                break
            prev = inst.pyvrp_clients[act.idx].location
    return anchors


def _previous_anchors(inst: Instance, previous: Plan) -> dict[int, int]:
    """Per team slot: the location where the previous plan took its break (its start if that place is gone)."""
    anchors = {}
    for k, slot in enumerate(inst.slots):
        tp = previous.teams.get(slot.team.id)
        anchors[k] = slot.start_loc
        if tp is None or tp.lunch is None:
            continue
        # the place may be a stop now on another route (the solver had moved the break there)
        places = [slot.start_loc] + sorted(inst.visit_loc.values())
        anchors[k] = next((loc for loc in places if inst.points[loc] == tp.lunch.position), slot.start_loc)
    return anchors


def _warm_start(inst: Instance, data: pyvrp.ProblemData, previous: Plan) -> pyvrp.Solution:
    """The previous plan's routes, restricted to visits still open and still allowed for their team."""
    copies: dict[str, list[int]] = {}
    for idx, ref in enumerate(inst.clients):
        if ref.visit is not None:
            copies.setdefault(ref.visit.ticket_id, []).append(idx)

    def copy_of(v) -> int:  # the first copy whose window still takes the previous planned start
        options = copies[v.ticket_id]
        start = inst.secs(v.planned_start)
        return next((i for i in options if inst.pyvrp_clients[i].tw_late >= start), options[-1])

    routes = []
    seen: set[str] = set()
    for k, slot in enumerate(inst.slots):
        if slot.day == 0:
            tp = previous.teams.get(slot.team.id)
        else:
            later = previous.later.get(slot.team.id, ())
            tp = later[slot.day - 1] if slot.day <= len(later) else None
        visits = [] if tp is None else [v for v in tp.visits if not v.frozen]
        keep = [v.ticket_id in copies and v.ticket_id not in seen and bool(inst.allowed[k][inst.visit_loc[v.ticket_id]])
                for v in visits]
        seen.update(v.ticket_id for v, ok in zip(visits, keep) if ok)
        clients = [copy_of(v) for v, ok in zip(visits, keep) if ok]
        if slot.break_client is not None:
            if tp is not None and tp.lunch is not None:
                after = tp.lunch.after_sequence - (len(tp.visits) - len(visits))  # among the unfrozen visits
                pos = sum(keep[: max(after + 1, 0)])
            else:
                pos = len(clients) // 2
            clients.insert(min(pos, len(clients)), slot.break_client)
        if clients:
            routes.append(pyvrp.Route(data, clients, k))
    return pyvrp.Solution(data, routes)


def _cost(inst: Instance, sol: pyvrp.Solution | None) -> int:
    """Drive seconds + overtime cost + prizes of the visits left out (the objective PyVRP minimised)."""
    if sol is None:
        return 0
    return int(sol.distance_cost() + inst.overtime_cost * sol.overtime() + sol.uncollected_prizes())


def _read_back(inst: Instance, sol: pyvrp.Solution | None, started: float) -> Plan:
    """PyVRP's schedule -> a Plan with datetimes, legs in minutes and km, and a reason for each unserved visit."""
    routes = {r.vehicle_type(): r for r in sol.routes()} if sol is not None else {}
    served: set[str] = set()
    team_plans = {}
    later: dict[str, list[TeamPlan]] = {}
    full: set[int] = set()  # slots whose route reached the team's capacity
    for k, slot in enumerate(inst.slots):
        visits = list(slot.frozen)
        served.update(v.ticket_id for v in visits)
        lunch = None
        prev = slot.start_loc
        prev_end = slot.avail
        depart, arrive_end, overtime = slot.depart, slot.avail + int(inst.durations[prev, slot.end_loc]), 0
        drive_s = sum(round(v.travel_minutes * 60) for v in visits)
        metres = sum(round(v.travel_km * 1000) for v in visits)
        route = routes.get(k)
        if route is not None:
            depart, overtime = (slot.depart if slot.frozen else route.start_time()), route.overtime()
            for act in route.schedule():
                if not act.is_client():
                    continue
                c = inst.pyvrp_clients[act.idx]
                ref = inst.clients[act.idx]
                drive = int(inst.durations[prev, c.location])
                drive_s += drive
                metres += int(inst.distances[prev, c.location])
                if ref.visit is None:
                    lunch = PlannedBreak(inst.at(act.start_time), inst.at(act.end_time), len(visits) - 1,
                                         inst.points[c.location])
                else:
                    v = ref.visit
                    visits.append(PlannedVisit(
                        ticket_id=v.ticket_id, team_id=slot.team.id, sequence=len(visits), eta=inst.at(prev_end + drive),
                        planned_start=inst.at(act.start_time), planned_end=inst.at(act.end_time),
                        travel_minutes=drive / 60, travel_km=float(inst.distances[prev, c.location]) / 1000,
                        on_time=None if v.due is None else inst.at(act.end_time) <= v.due, day=slot.day))
                    served.add(v.ticket_id)
                prev, prev_end = c.location, act.end_time
            arrive_end = route.end_time()
        drive_s += int(inst.durations[prev, slot.end_loc])
        metres += int(inst.distances[prev, slot.end_loc])
        tp = TeamPlan(
            team_id=slot.team.id, visits=tuple(visits), lunch=lunch, depart=inst.at(depart), arrive_end=inst.at(arrive_end),
            travel_minutes=drive_s / 60, travel_km=metres / 1000, overtime_minutes=overtime / 60, day=slot.day)
        if slot.team.capacity is not None and len(visits) >= slot.team.capacity:
            full.add(k)
        if slot.day == 0:
            team_plans[slot.team.id] = tp
        else:
            later.setdefault(slot.team.id, []).append(tp)
    unserved = tuple(unserved_reason(inst, v, full) for tid, v in inst.visits.items() if tid not in served)
    return Plan(teams=team_plans, unserved=unserved, cost=_cost(inst, sol),
                solve_seconds=time.perf_counter() - started, feasible=sol is None or sol.is_feasible(),
                later={tid: tuple(tps) for tid, tps in later.items()})
