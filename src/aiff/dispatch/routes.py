"""The `routes` strategy of the assignment consumer: re-plan the affected zones' days and say what changed.

A zone is the unit of re-planning (its teams plan the tickets of the zone and those held by or pinned to
them), as in the simulation; a batch re-plans only the zones its events touch, the scheduled full re-plan
every zone with teams. With `horizon_days` > 1 each team also plans its next working days (see
aiff.dispatch.publish for why a visit planned on a later day stays unassigned but planned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import asyncpg

from aiff.dispatch import store
from aiff.dispatch.inputs import MALAYSIA, point_of, stored_horizon, team_day
from aiff.dispatch.publish import Changes, Holding, Stored, changes, signature
from aiff.dispatch.replan import replan_zone
from aiff.planning import HaversineTravel, TravelModel


SECONDS_BASE = 0.05
SECONDS_PER_VISIT = 0.01
"""A zone's search time grows with its visits up to the configured cap: a handful of visits needs no 0.3 s."""
MIN_SECONDS = 0.02


@dataclass(frozen=True)
class RouteSettings:
    freeze: timedelta = timedelta(minutes=30)
    churn_threshold_minutes: float = 10.0
    seconds: float = 0.3
    travel: TravelModel = HaversineTravel()
    horizon_days: int = 1  # today and the next working days (AIFF_ASSIGNMENT_HORIZON_DAYS)
    batch_seconds: float = 1.0  # most search time of one re-plan, all zones together (AIFF_ASSIGNMENT_BATCH_SECONDS)


async def replan(conn: asyncpg.Connection, zones: Iterable[str], now: datetime, config: RouteSettings, *,
                 requested: Iterable[int] = (), cause: str = "a change", exclude: Iterable[int] = (),
                 new: Iterable[int] | None = None, improve_only: bool = False) -> Changes:
    """Re-plan each zone in turn and collect the changes (events to publish) of all of them. The rows of every
    zone are read at once (four queries, not four per zone), and the search time is shared: each zone gets
    its own (by its visits, up to `config.seconds`) until the batch's total would pass `config.batch_seconds`,
    then all are scaled down alike - a backlog touching every zone costs one bounded re-plan, not 15 full ones.
    `new`: when all that changed is these new tickets, each zone inserts them into its stored plan instead."""
    out = Changes()
    requested, exclude = set(requested), set(exclude)
    zones = sorted(set(zones))
    team_rows = await store.team_rows(conn, zones)
    ticket_rows = [t for t in await store.ticket_rows(conn, zones, requested) if t["id"] not in exclude]
    teams_of: dict[str, list] = {}
    for r in team_rows:
        teams_of.setdefault(r["zone"], []).append(r)
    tickets_of: dict[str, list] = {}
    for t in ticket_rows:
        tickets_of.setdefault(t["owner_zone"], []).append(t)
    days = {r["id"]: team_day(r, now, days=config.horizon_days) for r in team_rows}
    plans, visits = await store.stored_plans(conn, list(days), now.astimezone(MALAYSIA).date())
    held = await store.held_by(conn, list(days))
    seconds = search_seconds({z: len(tickets_of.get(z, ())) for z in zones}, config)
    created = None if new is None else set(new)
    for zone in zones:
        teams, tickets = teams_of.get(zone, []), tickets_of.get(zone, [])
        mine = {r["id"] for r in teams}
        zone_plans = [p for p in plans if p["team_id"] in mine]
        zone_visits = [v for v in visits if v["team_id"] in mine]
        if not tickets and not zone_visits:
            continue  # nothing to plan and no planned visit to clear
        fresh = [str(t["id"]) for t in tickets if t["id"] in created] if created is not None else []
        if created is not None and not fresh:
            continue  # only new tickets changed, none of them here: nothing to re-plan
        zone_changes = _replan_zone(teams, tickets, zone_plans, zone_visits, {t: days[t] for t in mine},
                                    {t: held.get(t, set()) for t in mine}, now, config, seconds[zone], cause, fresh, improve_only)
        out.plans += zone_changes.plans
        out.assigned += zone_changes.assigned
        out.unassigned += zone_changes.unassigned
        out.deferred.update(zone_changes.deferred)
    return out


def search_seconds(visits: dict[str, int], config: RouteSettings) -> dict[str, float]:
    """Each zone's search time: SECONDS_BASE + SECONDS_PER_VISIT per visit up to `config.seconds`, all scaled down
    alike when their sum passes `config.batch_seconds` (never below MIN_SECONDS: a warm-started short search
    still repairs the stored plan)."""
    own = {z: min(config.seconds, SECONDS_BASE + SECONDS_PER_VISIT * n) for z, n in visits.items()}
    total = sum(own.values())
    if total <= config.batch_seconds:
        return own
    scale = config.batch_seconds / total
    return {z: max(MIN_SECONDS, s * scale) for z, s in own.items()}


def _replan_zone(teams: list, tickets: list, plans: list, visits: list, days: dict, held: dict[int, set[int]],
                 now: datetime, config: RouteSettings, seconds: float, cause: str, new: list[str],
                 improve_only: bool = False) -> Changes:
    """One zone: the stored plans as the warm start, the planner's re-plan, and what changed."""
    positions = {str(t["id"]): point_of(t["latitude"], t["longitude"], t["zone"]) for t in tickets}
    previous = stored_horizon(plans, visits, positions, days)
    holding = {t["id"]: Holding(t["assigned_team"], t["status"], bool(t["pinned"]) and t["pinned_team"] == t["assigned_team"]) for t in tickets
               if t["status"] in ("assigned", "in_progress") and t["assigned_team"] is not None}  # fmt: skip
    current = {str(t): str(h.team_id) for t, h in holding.items() if h.status == "assigned"}
    in_plan = {t["id"] for t in tickets}
    elsewhere = {str(team): len(ids - in_plan) for team, ids in held.items()}
    result = replan_zone(teams, tickets, previous, now, freeze=config.freeze, seconds=seconds,
                         churn_threshold_minutes=config.churn_threshold_minutes, travel=config.travel, current=current,
                         horizon_days=config.horizon_days, held_elsewhere=elsewhere, new=new, improve_only=improve_only)
    by_key: dict[tuple, list] = {}
    for v in visits:
        by_key.setdefault((v["team_id"], v["plan_date"]), []).append((v["ticket_id"], v["eta"], v["planned_start"]))
    stored = {(p["team_id"], p["plan_date"]): Stored(p["revision"], signature(by_key.get((p["team_id"], p["plan_date"]), []), p["break_start"]))
              for p in plans}  # fmt: skip
    status = {t["id"]: t["status"] for t in teams}
    cleared = {key: f"team is {status.get(key[0], 'retired')}: its visits are re-planned elsewhere"
               for key in stored if days.get(key[0]) is None and by_key.get(key)}  # fmt: skip
    cleared |= {key: "the day left the planning horizon: its visits are re-planned" for key in stored
                if (d := days.get(key[0])) is not None and key[1] > d.plan_date and by_key.get(key)}  # fmt: skip
    return changes(result, stored=stored, holding=holding, cleared=cleared, travel=config.travel, cause=cause)
