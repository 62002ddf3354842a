"""A zone's re-plan -> the events that announce what changed: `plan.updated` per team whose day changed,
`ticket.assigned` for visits whose team changed (with planned start, ETA and sequence), `ticket.unassigned`
for assigned visits the plan left out (never a dispatcher's pin: that stays with its team), and deferrals (with the binding reason) for open tickets left out.

Horizon (issue 13 item 4): each later day of a team is its own team-day (`plan.updated` keyed by team and
plan_date). A ticket planned on a later day stays UNASSIGNED but planned: `ticket.assigned` means "the team
holds it now", and the engine's invariant "a team never holds more open tickets than its capacity" counts
every held ticket (engine_queries.teams_with_load, the capacity cut of aiff.dispatch.replan); holding tomorrow's visits today would
eat today's capacity and block today's urgent work. Its day, ETA and SLA outcome are in the plan
(`plan_visits`, read by GET /tickets/{id}/eta, /assignment and the SLA consumer); it is assigned by the
re-plan that finds it on the team's current day (normally the first one after that day's shift starts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from aiff.dispatch.explain import Explainer, bounded
from aiff.dispatch.replan import Replan
from aiff.planning import TeamPlan, TravelModel

STRATEGY = "routes"
PLANNED_LATER = "planned_later"
"""The deferral code of a ticket planned on a later day of the horizon (unassigned but planned)."""


@dataclass(frozen=True)
class Stored:
    """A stored team-day: its revision and what a change is judged by (order and minute-rounded times)."""

    revision: int
    signature: tuple


@dataclass(frozen=True)
class Holding:
    """A ticket's current assignment."""

    team_id: int
    status: str  # assigned | in_progress
    pinned: bool = False  # a dispatcher's pin, move or manual assignment: never released by the engine


@dataclass
class Changes:
    plans: list[dict[str, Any]] = field(default_factory=list)  # PlanUpdatedData
    assigned: list[dict[str, Any]] = field(default_factory=list)  # TicketAssignedData
    unassigned: list[dict[str, Any]] = field(default_factory=list)  # TicketUnassignedData
    deferred: dict[int, tuple[str, str]] = field(default_factory=dict)  # ticket -> (reason, code)


ETA_TOLERANCE = timedelta(minutes=10)
"""A team-day whose visits keep their order is re-announced only when a time moved by more than this: the
minutes `now` advances between re-plans (a team not yet departed starts 'now') are no news to a customer."""


def signature(visits: list[tuple[int, datetime, datetime]], break_start: datetime | None) -> tuple:
    """(ticket, eta, start) per visit in order, and the break: what a team-day is judged by."""
    return tuple((t, e, s) for t, e, s in visits) + (break_start,)


def same_day(old: tuple, new: tuple, tolerance: timedelta = ETA_TOLERANCE) -> bool:
    """The same visits in the same order, every time (and the break) within `tolerance` of the stored one."""
    if len(old) != len(new) or [v[0] for v in old[:-1]] != [v[0] for v in new[:-1]]:
        return False
    if (old[-1] is None) != (new[-1] is None) or (old[-1] is not None and abs(old[-1] - new[-1]) > tolerance):
        return False
    return all(abs(a[1] - b[1]) <= tolerance and abs(a[2] - b[2]) <= tolerance for a, b in zip(old[:-1], new[:-1]))


def changes(result: Replan, *, stored: Mapping[tuple[int, date], Stored], holding: Mapping[int, Holding],
            cleared: Mapping[tuple[int, date], str], travel: TravelModel, cause: str) -> Changes:
    """`stored`: the team-days on record; `holding`: current assignments of the zone's tickets; `cleared`:
    stored team-days with visits that this plan no longer covers (the team went offline, its day moved, the
    day left the horizon) and why."""
    out = Changes()
    explainer = Explainer(result.inputs, travel)
    planned: dict[int, tuple[int, date]] = {}
    covered: set[tuple[int, date]] = set()
    for day in result.inputs.teams:
        team_id = int(day.team.id)
        later = {tp.day: tp for tp in result.plan.later.get(day.team.id, ())}
        for k in range(len(day.later_dates) + 1):
            plan_date = day.date_of(k)
            key = (team_id, plan_date)
            covered.add(key)
            tp = result.plan.teams.get(day.team.id) if k == 0 else later.get(k)
            if tp is None and (k == 0 or key not in stored):
                continue
            visits = tp.visits if tp is not None else ()
            for v in visits:
                planned[int(v.ticket_id)] = key
            if k > 0:
                _planned_later(out, [{"ticket_id": int(v.ticket_id)} for v in visits], team_id, plan_date, holding)
            old = stored.get(key)
            sig = signature([(int(v.ticket_id), v.eta, v.planned_start) for v in visits], tp.lunch.start if tp is not None and tp.lunch else None)
            if old is not None and same_day(old.signature, sig):
                continue  # judged before explaining: a still zone costs no explanations
            if old is None and not visits:
                continue
            data = (_plan_data(tp, team_id, plan_date, explainer, holding, result.churn_gain_minutes) if tp is not None
                    else {"team_id": team_id, "plan_date": plan_date, "strategy": STRATEGY, "visits": []})  # fmt: skip
            data["revision"] = (old.revision if old else 0) + 1
            data["reason"] = f"re-planned on {cause}" + (f"; moves save {result.churn_gain_minutes:.0f} min" if result.moved else "")
            out.plans.append(data)
            if k == 0:
                out.assigned += _assigned(data["visits"], team_id, plan_date, day.team.id, explainer, holding)
    for key, why in cleared.items():
        if key in stored and key not in covered:
            out.plans.append({"team_id": key[0], "plan_date": key[1], "revision": stored[key].revision + 1,
                              "strategy": STRATEGY, "visits": [], "reason": why})  # fmt: skip
    for u in result.plan.unserved:
        ticket_id = int(u.ticket_id)
        if ticket_id in planned:
            continue
        held = holding.get(ticket_id)
        reason = f"{u.reason}: {u.detail}"[:1000]
        if held is None:
            out.deferred[ticket_id] = (reason, u.reason)
        elif held.status == "assigned" and not held.pinned:
            out.unassigned.append({"ticket_id": ticket_id, "team_id": held.team_id, "reason": reason})
            out.deferred[ticket_id] = (reason, u.reason)
    return out


def _assigned(visits: list[dict[str, Any]], team_id: int, plan_date: date, team: str, explainer: Explainer,
              holding: Mapping[int, Holding]) -> list[dict[str, Any]]:
    """`ticket.assigned` for the visits of a team's current day that it does not hold yet."""
    out = []
    for v in visits:
        held = holding.get(v["ticket_id"])
        if held is not None and (held.team_id == team_id or held.status == "in_progress"):
            continue
        e = v["explanation"]
        out.append({
            "ticket_id": v["ticket_id"], "team_id": team_id, "strategy": STRATEGY, "assigned_by": "engine",
            "distance_km": explainer.base_km(team, str(v["ticket_id"])), "score": e["travel_minutes"] + e["lateness_minutes"],
            "reason": e["summary"], "replaces_team_id": held.team_id if held else None,
            "breakdown": {k: float(e[k]) for k in ("travel_minutes", "travel_km", "lateness_minutes", "priority_weight_minutes")}
            | ({"churn_gain_minutes": float(e["churn_gain_minutes"])} if e["churn_gain_minutes"] is not None else {}),
            "planned_start": v["planned_start"], "eta": v["eta"], "sequence": v["sequence"], "plan_date": plan_date,
        })  # fmt: skip
    return out


def _planned_later(out: Changes, visits: list[dict[str, Any]], team_id: int, plan_date: date,
                   holding: Mapping[int, Holding]) -> None:
    """A visit planned on a later day of the horizon stays unassigned but planned (see the module docstring):
    deferred with code `planned_later` (the day in the reason); a team holding it today releases it, unless a
    dispatcher pinned it there."""
    for v in visits:
        ticket_id = v["ticket_id"]
        held = holding.get(ticket_id)
        if held is not None and (held.pinned or held.status != "assigned"):
            continue
        reason = f"planned for team {team_id} on {plan_date.isoformat()}: no room on a current day"
        if held is not None:
            out.unassigned.append({"ticket_id": ticket_id, "team_id": held.team_id, "reason": reason})
        out.deferred[ticket_id] = (reason, PLANNED_LATER)


def _plan_data(tp: TeamPlan, team_id: int, plan_date: date, explainer: Explainer, holding: Mapping[int, Holding],
               churn_gain: float | None) -> dict[str, Any]:
    visits = []
    for k, v in enumerate(tp.visits):
        held = holding.get(int(v.ticket_id))
        explanation = explainer.explain(v, None if held is None else str(held.team_id), churn_gain)
        visits.append({
            "ticket_id": int(v.ticket_id), "sequence": k + 1, "eta": v.eta, "planned_start": v.planned_start,
            "planned_end": v.planned_end, "travel_minutes": bounded(v.travel_minutes, 2), "travel_km": bounded(v.travel_km, 3),
            "pinned": explanation["churn"] == "pinned", "explanation": explanation,
        })  # fmt: skip
    return {
        "team_id": team_id, "plan_date": plan_date, "strategy": STRATEGY, "visits": visits,
        "break_start": tp.lunch.start if tp.lunch else None, "break_end": tp.lunch.end if tp.lunch else None,
        "totals": {"drive_minutes": bounded(tp.travel_minutes, 2), "drive_km": bounded(tp.travel_km, 3),
                   "overtime_minutes": bounded(tp.overtime_minutes, 2)},
    }  # fmt: skip
