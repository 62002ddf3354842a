"""One zone's re-plan with churn as a cost: the planner's free answer is taken only when it beats keeping every
assigned visit with its team by more than the churn threshold; otherwise the no-churn plan stands.

The two are compared on one price list (`objective`: drive, overtime, visits left out, lateness by priority).
Both solves warm-start from the stored plan and keep the fixed visits (in progress, dispatcher's pins and
moves, departing within the freeze horizon). Afterwards each route is cut to the team's capacity (the
invariant "a team never holds more open tickets than its capacity"): the tail beyond it is unserved. With a
horizon (`horizon_days` > 1) the later days' routes are compared, re-timed and cut the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import logging
from functools import partial
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from aiff.dispatch.inputs import Inputs, Row, build_inputs
from aiff.dispatch.insert import insert
from aiff.dispatch.schedule import compact
from aiff.planning import Costs, Plan, TeamPlan, TravelModel, Unserved, plan
from aiff.planning.model import OUTRANKED, TEAM_AT_CAPACITY

log = logging.getLogger(__name__)
COSTS = Costs(today_bonus_pinned=True)
"""The planner's price list here: a pinned (or held) visit, too, is worth more today than on a later day."""


@dataclass(frozen=True)
class Replan:
    """The chosen plan of a zone and how it was chosen."""

    inputs: Inputs
    plan: Plan
    moved: bool  # the free plan won: some assigned visits changed team
    churn_gain_minutes: float | None  # keep-cost minus free-cost, when both were solved


def replan_zone(team_rows: Sequence[Row], ticket_rows: Sequence[Row], previous: Plan | None, now: datetime, *,
                freeze: timedelta, churn_threshold_minutes: float, seconds: float, travel: TravelModel,
                current: Mapping[str, str], horizon_days: int = 1, held_elsewhere: Mapping[str, int] | None = None,
                new: Sequence[str] = (), improve_only: bool = False) -> Replan:
    """`current`: ticket id -> team id of the assigned, unstarted tickets (what a move would change);
    `horizon_days`: today and the next working days of each team; `held_elsewhere`: team id -> how many tickets
    it holds that are not among `ticket_rows` (they count against its capacity whatever this plan does); `new`:
    when all that changed is these new tickets, they are inserted into the stored plan (aiff.dispatch.insert)
    instead of solving the zone again; `improve_only` (a re-plan no event asked for): the stored plan stands while
    it is still feasible and the new one is not better by more than the churn threshold (stillness)."""
    if new and len(new) <= INSERT_AT_MOST:  # no stored plan yet (every team free) is an empty one
        stored = previous if previous is not None else Plan(teams={}, unserved=(), cost=0, solve_seconds=0.0)
        fast = _inserted(team_rows, ticket_rows, stored, now, freeze, travel, horizon_days, held_elsewhere or {}, new)
        if fast is not None:
            return fast
    ticket_rows, waiting = shortlist(team_rows, ticket_rows, previous, horizon_days)
    result = _replan(team_rows, ticket_rows, previous, now, freeze=freeze, churn_threshold_minutes=churn_threshold_minutes,
                     seconds=seconds, travel=travel, current=current, horizon_days=horizon_days, held_elsewhere=held_elsewhere)
    if improve_only and previous is not None:
        result = _unless_better(result, previous, now, travel, churn_threshold_minutes)
    if not waiting:
        return result
    why = (f"{len(waiting)} open tickets wait behind the {len(ticket_rows)} more urgent ones the zone's teams are "
           f"planned for: their capacity over the horizon is taken")  # fmt: skip
    unserved = tuple(Unserved(str(r["id"]), TEAM_AT_CAPACITY, why) for r in waiting)
    return replace(result, plan=replace(result.plan, unserved=result.plan.unserved + unserved))


INSERT_AT_MOST = 20
"""More new tickets than this in one zone at once (a burst) are planned by one solve, not one insertion each:
a solve places many tickets for about the price of one, an insertion costs the same for each."""


def _inserted(team_rows: Sequence[Row], ticket_rows: Sequence[Row], previous: Plan, now: datetime, freeze: timedelta,
              travel: TravelModel, horizon_days: int, held_elsewhere: Mapping[str, int], new: Sequence[str]) -> Replan | None:
    """The fast path: the new tickets inserted into the stored routes; None when that does not apply (a new
    ticket is not open, or the stored plan no longer fits the world)."""
    rows = {str(r["id"]): r for r in ticket_rows}
    planned = {v.ticket_id for tp in previous.all_team_plans() for v in tp.visits}
    new = [t for t in dict.fromkeys(new) if t in rows and rows[t]["status"] in ("open", "reopened") and not rows[t].get("pinned")
           and t not in planned]  # not decided yet (a ticket planned on a later day is open but has its slot)
    inputs = _with_capacity(build_inputs(team_rows, ticket_rows, previous, now, freeze, horizon_days=horizon_days),
                            sticky_holdings(ticket_rows), held_elsewhere)
    result = insert(inputs, previous, list(new), now, travel)
    if result is None:
        return None
    shown = {v.ticket_id for tp in result.all_team_plans() for v in tp.visits} | set(new)
    return Replan(replace(inputs, visits=[v for v in inputs.visits if v.ticket_id in shown]), result, False, None)


def _unless_better(result: Replan, previous: Plan, now: datetime, travel: TravelModel, threshold: float) -> Replan:
    """The stored plan, re-timed from now, unless it no longer holds (a visit gone, a team off, a window or shift
    end missed, over capacity, a pin not kept) or `result` beats it by more than `threshold` minutes."""
    inputs = result.inputs
    kept = insert(inputs, previous, [], now, travel)
    if kept is None:
        return result
    kept = compact(kept, inputs, now)
    visits = {v.ticket_id: v for v in inputs.visits}
    teams = {d.team.id: d for d in inputs.teams}
    for tp in kept.all_team_plans():
        d = teams[tp.team_id]
        cap = (d.team.capacity if d.team.capacity is not None else d.capacity) if tp.day == 0 else d.capacity
        shift_end = d.team.shift_end if tp.day == 0 else d.team.later_shifts[tp.day - 1][1]
        if len(tp.visits) > cap or (tp.visits and tp.visits[-1].planned_end > shift_end + d.team.max_overtime):
            return result
        for pv in tp.visits:
            v = visits[pv.ticket_id]
            if (v.window is not None and pv.planned_start > v.window[1]) or v.pinned_team not in (None, tp.team_id):
                return result
    placed = {v.ticket_id for tp in kept.all_team_plans() for v in tp.visits}
    if any(v.pinned_team is not None and v.ticket_id not in placed for v in inputs.visits):
        return result
    why = {u.ticket_id: u for u in result.plan.unserved}
    unserved = tuple(why.get(t) or Unserved(t, OUTRANKED, "the stored plan stands: no better one was found")
                     for t in visits if t not in placed)  # fmt: skip
    kept = replace(kept, unserved=unserved)
    if (objective(kept, inputs) - objective(result.plan, result.inputs)) / 60 > threshold:
        return result
    return Replan(inputs, kept, False, None)


SHORTLIST_FACTOR = 1.5
"""How many open tickets a zone's re-plan offers the solver: this many times the visits its teams can hold over the
horizon (capacity per day-route). The solver's cost grows with the square of its visits; a zone with hundreds
of open tickets for a few dozen slots re-planned them all on every event (seconds per zone) to defer most."""
PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def shortlist(team_rows: Sequence[Row], ticket_rows: Sequence[Row], previous: Plan | None,
              horizon_days: int) -> tuple[list[Row], list[Row]]:
    """(offered, waiting): every held, started, pinned or already planned ticket, and the most urgent open ones
    (priority, then due time) up to SHORTLIST_FACTOR x the slots of the zone's working teams; the rest wait."""
    slots = sum(int(r["capacity"]) for r in team_rows if r["status"] in ("available", "busy") and r.get("is_active", True))
    planned = {v.ticket_id for tp in previous.all_team_plans() for v in tp.visits} if previous is not None else set()
    def waits(r: Row) -> bool:  # open, not pinned, not on any stored route: may wait behind more urgent ones
        return r["status"] in ("open", "reopened") and not r.get("pinned") and str(r["id"]) not in planned

    fixed = [r for r in ticket_rows if not waits(r)]
    open_ = [r for r in ticket_rows if waits(r)]
    room = max(int(SHORTLIST_FACTOR * slots * horizon_days) - len(fixed), 0)
    if len(open_) <= room:
        return list(ticket_rows), []
    open_.sort(key=lambda r: (PRIORITY_RANK.get(r.get("priority") or "medium", 2), r["due_date"] is None, r["due_date"] or 0, r["id"]))
    offered = {r["id"] for r in fixed} | {r["id"] for r in open_[:room]}
    return [r for r in ticket_rows if r["id"] in offered], open_[room:]


def _replan(team_rows: Sequence[Row], ticket_rows: Sequence[Row], previous: Plan | None, now: datetime, *,
            freeze: timedelta, churn_threshold_minutes: float, seconds: float, travel: TravelModel,
            current: Mapping[str, str], horizon_days: int, held_elsewhere: Mapping[str, int] | None) -> Replan:
    sticky, held_elsewhere = sticky_holdings(ticket_rows), held_elsewhere or {}
    _cap = partial(_capped, sticky=sticky, held_elsewhere=held_elsewhere)
    free_in = _with_capacity(build_inputs(team_rows, ticket_rows, previous, now, freeze, horizon_days=horizon_days),
                             sticky, held_elsewhere)
    if not free_in.teams:
        return Replan(free_in, plan([], free_in.visits, travel=travel, now=now), False, None)
    free = _cap(free_in, compact(plan([d.team for d in free_in.teams], free_in.visits, travel=travel, now=now,
                                      seconds=seconds, previous=previous, costs=COSTS), free_in, now))
    later = _planned_later(previous, ticket_rows)
    changed = [t for t, team in (current | later).items() if free.team_of(t) not in (None, team)]
    changed += [t for t, day in _days(previous, later).items() if (v := free.visit(t)) is not None and v.day != day]
    if not changed:
        return Replan(free_in, free, False, None)
    keep_in = _with_capacity(build_inputs(team_rows, ticket_rows, previous, now, freeze, keep_teams=True,
                                          horizon_days=horizon_days, keep=later), sticky, held_elsewhere)
    keep = _cap(keep_in, compact(plan([d.team for d in keep_in.teams], keep_in.visits, travel=travel, now=now,
                                      seconds=seconds, previous=previous, costs=COSTS), keep_in, now))
    # both priced after the capacity cut: keeping visits a team may no longer hold costs what leaving them out costs
    gain = (objective(keep, keep_in) - objective(free, free_in)) / 60
    if gain > churn_threshold_minutes:
        return Replan(free_in, free, True, gain)
    return Replan(keep_in, keep, False, gain)


def objective(result: Plan, inputs: Inputs, costs: Costs | None = None) -> float:
    """The planner's terms in seconds of driving, priced the same for both plans (the planner's own `cost` is not
    comparable: a pinned visit carries a far larger prize): drive + overtime + the worth of every visit left out
    + the on-time bonus of every late one + the today-first bonus of every visit put off to a later day."""
    costs = costs or Costs()
    visits = {v.ticket_id: v for v in inputs.visits}
    total = 0.0
    days = 1 + max((len(tps) for tps in result.later.values()), default=0)
    for tp in result.all_team_plans():
        total += tp.travel_minutes * 60 + costs.overtime_cost * tp.overtime_minutes * 60
        total += sum(costs.bonus(visits[v.ticket_id].priority) for v in tp.visits if v.on_time is False and v.ticket_id in visits)
        if tp.day > 0:  # a visit put off to a later day misses (part of) the today-first bonus
            total += sum(costs.sooner_bonus(p, 0, days) - costs.sooner_bonus(p, tp.day, days)
                         for p in (visits[v.ticket_id].priority for v in tp.visits if v.ticket_id in visits))
    for u in result.unserved:
        v = visits.get(u.ticket_id)
        if v is not None:
            total += costs.serve(v.priority) + (costs.bonus(v.priority) if v.due is not None else 0)
    return total


def _planned_later(previous: Plan | None, ticket_rows: Sequence[Row]) -> dict[str, str]:
    """Open tickets the stored plan put on a later day: ticket -> team. A customer told a team and a day keeps
    them unless a move is worth more than the churn threshold, as an assigned visit does."""
    if previous is None:
        return {}
    waiting = {str(r["id"]) for r in ticket_rows if r["status"] in ("open", "reopened")}
    return {v.ticket_id: team for team, tps in previous.later.items() for tp in tps for v in tp.visits if v.ticket_id in waiting}


def _days(previous: Plan | None, later: Mapping[str, str]) -> dict[str, int]:
    """The horizon day each planned-later ticket is on in the stored plan."""
    if previous is None:
        return {}
    return {v.ticket_id: tp.day for tps in previous.later.values() for tp in tps for v in tp.visits if v.ticket_id in later}


def _with_capacity(inputs: Inputs, sticky: Mapping[str, frozenset[str]], held_elsewhere: Mapping[str, int]) -> Inputs:
    """Each team's route capacity for the solver: its capacity less what it holds that cannot be on its route
    (other zones' tickets, sticky tickets it has no skill for or that are not planned here)."""
    skill = {v.ticket_id: v.skill for v in inputs.visits}
    days = []
    for d in inputs.teams:
        off = sum(1 for t in sticky.get(d.team.id, ()) if skill.get(t) not in d.team.skills)
        cap = max(d.capacity - held_elsewhere.get(d.team.id, 0) - off, 0)
        days.append(replace(d, team=replace(d.team, capacity=cap)))
    return replace(inputs, teams=days)


def sticky_holdings(ticket_rows: Sequence[Row]) -> dict[str, frozenset[str]]:
    """Per team, the tickets it holds that no re-plan releases: the visit in progress and a dispatcher's pin (or
    manual assignment) to the team that holds it. They stay held even when the plan leaves them out."""
    out: dict[str, set[str]] = {}
    for r in ticket_rows:
        team = r.get("assigned_team")
        if team is None or r["status"] not in ("assigned", "in_progress"):
            continue
        if r["status"] == "in_progress" or (r.get("pinned") and r.get("pinned_team") == team):
            out.setdefault(str(team), set()).add(str(r["id"]))
    return {t: frozenset(ids) for t, ids in out.items()}


def _capped(inputs: Inputs, result: Plan, *, sticky: Mapping[str, frozenset[str]], held_elsewhere: Mapping[str, int]) -> Plan:
    """Cut each route to its team's capacity; the cut visits are unserved (`team_at_capacity`). Invariant 3: what a
    team holds after this plan (today's route, plus what it keeps holding off the route: sticky tickets the plan
    left out and tickets of other zones' re-plans) never exceeds its capacity. Sticky visits on the route are
    kept first (they stay held anyway), then fixed ones, then the rest in route order. A later day's route is
    what the team will hold once that day starts: cut to the capacity alone."""
    capacity = {d.team.id: d.capacity for d in inputs.teams}
    cut: list[Unserved] = []

    def capped(tp: TeamPlan) -> TeamPlan:
        cap = capacity.get(tp.team_id, len(tp.visits))
        held = sticky.get(tp.team_id, frozenset()) if tp.day == 0 else frozenset()
        on_route = {v.ticket_id for v in tp.visits}
        if tp.day == 0:
            cap -= held_elsewhere.get(tp.team_id, 0) + len(held - on_route)
        if len(tp.visits) <= cap:
            return tp
        keep = [v for v in tp.visits if v.ticket_id in held]
        keep += [v for v in tp.visits if v.frozen and v.ticket_id not in held][: max(cap - len(keep), 0)]
        keep += [v for v in tp.visits if not v.frozen and v.ticket_id not in held][: max(cap - len(keep), 0)]
        kept = {v.ticket_id for v in keep}
        cut.extend(Unserved(v.ticket_id, TEAM_AT_CAPACITY, f"team {tp.team_id} holds its capacity of {cap} tickets")
                   for v in tp.visits if v.ticket_id not in kept)  # fmt: skip
        visits = tuple(v for v in tp.visits if v.ticket_id in kept)
        lunch = tp.lunch
        if lunch is not None and lunch.after_sequence >= len(visits):
            lunch = replace(lunch, after_sequence=len(visits) - 1)
        return replace(tp, visits=visits, lunch=lunch)

    teams = {t: capped(tp) for t, tp in result.teams.items()}
    later = {t: tuple(capped(tp) for tp in tps) for t, tps in result.later.items()}
    if not cut:
        return result
    return replace(result, teams=teams, later=later, unserved=result.unserved + tuple(cut))
