"""Plan thousands of teams by parts: the planner core builds one matrix per team, so one solve of 1,500 teams
is out of reach; small clusters of nearby teams each plan the visits nearest to them.

- `partition`: recursive bisection of the team start positions along their wider axis at the median,
  until a cluster has at most `max_teams` teams (deterministic; clusters are compact);
- each visit goes to the cluster holding the nearest team (great-circle, start positions) with its skill;
- `Decomposed.plan_all` plans every cluster; `Decomposed.add`/`replan` re-plan only the clusters a change
  touches, warm-started from their previous plans: an incremental re-plan costs one small cluster's solve.

The price: a visit is only ever planned by its cluster's teams, even when a team next door is idle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from aiff.planning.costs import Costs
from aiff.planning.model import Plan, Team, Visit
from aiff.planning.solver import plan
from aiff.planning.travel import HaversineTravel, TravelModel


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, l = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def partition(teams: list[Team], max_teams: int) -> list[list[Team]]:
    """Clusters of at most `max_teams` teams by recursive median bisection of their start positions."""
    if len(teams) <= max_teams:
        return [list(teams)] if teams else []
    lat = np.array([t.start.lat for t in teams])
    lon = np.array([t.start.lon for t in teams])
    axis = lat if np.ptp(lat) >= np.ptp(lon) * np.cos(np.radians(lat.mean())) else lon
    order = np.argsort(axis, kind="stable")
    half = len(teams) // 2
    return partition([teams[i] for i in order[:half]], max_teams) + partition([teams[i] for i in order[half:]], max_teams)


def assign_visits(clusters: list[list[Team]], visits: list[Visit]) -> list[int]:
    """Cluster index per visit: the cluster of the nearest team with the visit's skill (-1: no such team)."""
    from scipy.spatial import cKDTree

    members = [(c, t) for c, ts in enumerate(clusters) for t in ts]
    out = [-1] * len(visits)
    for skill in sorted({v.skill for v in visits}):
        able = [(c, t) for c, t in members if skill in t.skills]
        rows = [i for i, v in enumerate(visits) if v.skill == skill]
        if not able:
            continue
        tree = cKDTree(_xyz(np.array([t.start.lat for _, t in able]), np.array([t.start.lon for _, t in able])))
        _, idx = tree.query(_xyz(np.array([visits[i].position.lat for i in rows]),
                                 np.array([visits[i].position.lon for i in rows])))
        for i, k in zip(rows, np.atleast_1d(idx)):
            out[i] = able[int(k)][0]
    return out


@dataclass
class Decomposed:
    """Per-cluster plans of one planning day, re-planned cluster by cluster."""

    teams: list[Team]
    max_teams: int = 10
    travel: TravelModel = field(default_factory=HaversineTravel)
    seconds: float = 0.2
    seed: int = 0
    costs: Costs | None = None
    clusters: list[list[Team]] = field(init=False)
    visits: list[dict[str, Visit]] = field(init=False)
    plans: list[Plan | None] = field(init=False)
    unplaceable: list[Visit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clusters = partition(self.teams, self.max_teams)
        self.visits = [{} for _ in self.clusters]
        self.plans = [None] * len(self.clusters)

    def add(self, visits: list[Visit]) -> set[int]:
        """Place visits in their clusters; returns the clusters that changed."""
        changed = set()
        for v, c in zip(visits, assign_visits(self.clusters, visits)):
            if c < 0:
                self.unplaceable.append(v)
                continue
            self.visits[c][v.ticket_id] = v
            changed.add(c)
        return changed

    def replan(self, clusters: set[int] | list[int], now: datetime, seconds: float | None = None) -> list[float]:
        """Re-plan the given clusters (warm-started); wall seconds per cluster."""
        times = []
        for c in sorted(clusters):
            t0 = time.perf_counter()
            self.plans[c] = plan(self.clusters[c], list(self.visits[c].values()), travel=self.travel, now=now,
                                 seconds=self.seconds if seconds is None else seconds, seed=self.seed,
                                 previous=self.plans[c], costs=self.costs)
            times.append(time.perf_counter() - t0)
        return times

    def plan_all(self, now: datetime, seconds: float | None = None) -> list[float]:
        return self.replan(range(len(self.clusters)), now, seconds)

    def merged(self) -> Plan:
        """One Plan over every cluster (cost and solve time summed)."""
        teams, unserved, cost, secs = {}, [], 0, 0.0
        for p in self.plans:
            if p is None:
                continue
            teams.update(p.teams)
            unserved.extend(p.unserved)
            cost += p.cost
            secs += p.solve_seconds
        return Plan(teams=teams, unserved=tuple(unserved), cost=cost, solve_seconds=secs)
