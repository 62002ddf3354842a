"""Published times as early as the route allows.

The planner prices drive time, lateness and overtime but not waiting, so PyVRP is free to start a route late
(its schedule minimises route duration: it departs so as to reach the lunch window or a customer window
without waiting). A team told "start at 13:16" when it is free at 09:00 would idle; the consumer keeps the
planner's order and re-times each route forward from when the team is free: every visit starts at its ETA
(or when its window opens), the break is taken once the team reaches its window (or before a visit that
would end past the break's latest start). Earlier is never worse for due times, windows or the shift end.
A later day of the horizon is re-timed the same way from its shift start (no break: the planner shortened
that shift by it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aiff.dispatch.inputs import Inputs
from aiff.planning import Plan, PlannedBreak, PlannedVisit, Team, TeamPlan


def compact(result: Plan, inputs: Inputs, now: datetime) -> Plan:
    visits = {v.ticket_id: v for v in inputs.visits}
    teams = {d.team.id: d.team for d in inputs.teams}
    out = {}
    for team_id, tp in result.teams.items():
        team = teams.get(team_id)
        out[team_id] = tp if team is None or not tp.visits else _retime(tp, team, visits, now)
    later = {}
    for team_id, tps in result.later.items():
        team = teams.get(team_id)
        later[team_id] = tuple(tp if team is None or not tp.visits or tp.day > len(team.later_shifts)
                               else _retime(tp, _day_team(team, tp.day), visits, now) for tp in tps)  # fmt: skip
    return replace(result, teams=out, later=later)


def _day_team(team: Team, day: int) -> Team:
    """The team as it works its `day`-th later shift: from its base, no break."""
    start, end = team.later_shifts[day - 1]
    return replace(team, shift_start=start, shift_end=end, start=team.end, lunch=None, later_shifts=())


def _retime(tp: TeamPlan, team, visits, now: datetime) -> TeamPlan:  # noqa: ANN001
    t = max(now, team.shift_start)
    lunch = team.lunch
    taken: PlannedBreak | None = None if lunch is not None else tp.lunch
    timed: list[PlannedVisit] = []
    for k, pv in enumerate(tp.visits):
        if pv.frozen:
            timed.append(pv)
            t = max(t, pv.planned_end)
            continue
        v = visits[pv.ticket_id]
        service = pv.planned_end - pv.planned_start
        if lunch is not None and taken is None:
            start_by = lunch.latest - lunch.duration
            eta = t + timedelta(minutes=pv.travel_minutes)
            ends = max(eta, v.window[0]) + service if v.window else eta + service
            if t >= lunch.earliest or ends > start_by:
                b = max(t, lunch.earliest)
                taken = PlannedBreak(b, b + lunch.duration, k - 1, tp.lunch.position if tp.lunch else team.start)
                t = b + lunch.duration
        eta = t + timedelta(minutes=pv.travel_minutes)
        start = max(eta, v.window[0]) if v.window else eta
        end = start + service
        timed.append(replace(pv, eta=eta, planned_start=start, planned_end=end,
                             on_time=None if v.due is None else end <= v.due))  # fmt: skip
        t = end
    if lunch is not None and taken is None and max(t, lunch.earliest) + lunch.duration <= lunch.latest:
        b = max(t, lunch.earliest)
        taken = PlannedBreak(b, b + lunch.duration, len(timed) - 1, tp.lunch.position if tp.lunch else team.start)
    depart = timed[0].eta - timedelta(minutes=timed[0].travel_minutes)
    return replace(tp, visits=tuple(timed), lunch=taken if lunch is not None else tp.lunch, depart=depart)
