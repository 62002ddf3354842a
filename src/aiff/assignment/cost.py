"""The documented cost of assigning ticket i to team j, used by `optimal` (and to score every plan).

All terms are in **km-equivalents** (1.0 = one kilometre of travel), so they add up and can be explained:

    total(i, j) = travel + cross_zone + sla + performance [+ switch, revisions only]

- ``travel``      = d(i, j): haversine km from the team's base to the site. Travel is what the dispatch KPIs
                    measure, so every other term is either a multiple of it (``sla``) or a small tie-breaker.
- ``cross_zone``  = 0 when the team is based in the ticket's zone; otherwise CROSS_ZONE_KM (2 km-eq, a
                    tie-breaker that prefers the home zone among teams at about the same distance), and 0 when
                    the ticket's zone is *saturated* (this batch's tickets in the zone outnumber the free
                    capacity of working teams based there), because then help from a neighbouring zone is
                    expected. (It used to be 40 km-eq: that sent tickets to farther same-zone teams and cost
                    ~4% more travel than `nearest` on the demo history.)
- ``sla``         = u(i) * d(i, j) + late(i, j)
                    u(i) = max(URGENCY[priority], due-date urgency): URGENCY = low 0, medium 0.1, high 0.25,
                    critical 0.5; due within 24 h -> at least 0.25, within 4 h (or overdue) -> at least 0.5.
                    So an urgent ticket's kilometre costs up to 1.5x: when near teams are contested, urgent
                    tickets get them (travel time matters most for them).
                    late(i, j) = LATE_FRACTION * drop(i) when d / 60 km/h exceeds the time left to the due date.
- ``performance`` = -PERFORMANCE_KM * (0.5 * efficiency/100 + 0.5 * rating/5), a bonus in [-1, 0] km-eq: a
                    tie-breaker between teams at about the same distance, never a reason to drive further.
- ``switch``      (revisions only) = hysteresis km-eq added to every team except the ticket's current one.

Skills, team status (only ``available``/``busy``), free capacity and the maximum distance
(DEFAULT_MAX_DISTANCE_KM = 300 km unless `Criteria.max_distance_km` says otherwise) are hard constraints:
such pairs are infeasible and never get a cost.

Leaving ticket i unassigned in this batch costs ``drop(i)`` = DROP_KM[priority] * (1 + 0.25 * pressure),
DROP_KM = low 1000, medium 2000, high 4000, critical 8000, pressure = clip(1 - time_left/SLA, 0, 2).
Every feasible assignment of ticket i costs less than drop(i): without lateness at most
300 * 1.5 + 2 = 452 km-eq < 1000, and the lateness term is only LATE_FRACTION = 0.5 of the ticket's own drop
(0.5 * drop + 452 < drop because drop >= 1000). So whenever any feasible team has free capacity the ticket
is served now, never left waiting to save travel; when capacity is short, the drop penalties (which grow
4x per priority step, far more than any travel difference) decide who waits: low before medium before high
before critical, distance only among equals. Since every row of the optimisation has the same number of
"one choice" constraints, adding a constant to all costs does not change the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aiff.events.vocabulary import PRIORITIES, SLA_HOURS

from .model import TRAVEL_SPEED_KMH, TeamArrays, TicketArrays

CROSS_ZONE_KM = 2.0
CROSS_ZONE_SATURATED_KM = 0.0
URGENCY = np.array([0.0, 0.1, 0.25, 0.5])  # by PRIORITY_INDEX: low, medium, high, critical
DROP_KM = np.array([1000.0, 2000.0, 4000.0, 8000.0])
SLA_H = np.array([float(SLA_HOURS[p]) for p in PRIORITIES])
LATE_FRACTION = 0.5
PERFORMANCE_KM = 1.0
DEFAULT_MAX_DISTANCE_KM = 300.0
BREAKDOWN_KEYS = ("travel", "cross_zone", "sla", "performance", "total")


@dataclass(slots=True)
class CostModel:
    """Per-ticket and per-team cost parameters for one batch; `pair_costs` is fully vectorised."""

    urgency: np.ndarray  # (n,)
    drop: np.ndarray  # (n,)
    remaining_h: np.ndarray  # (n,)
    ticket_zone: np.ndarray
    cross_penalty: np.ndarray  # (n,) km-eq charged if the team is in another zone
    team_zone: np.ndarray
    perf: np.ndarray  # (m,) <= 0
    keep_team: np.ndarray | None = None  # (n,) team index the ticket holds now (revisions), -1 none
    switch_km: float = 0.0

    @classmethod
    def build(cls, tk: TicketArrays, tm: TeamArrays, *, keep_team: np.ndarray | None = None,
              switch_km: float = 0.0, free: np.ndarray | None = None) -> "CostModel":
        rem = tk.remaining_h
        urgency = URGENCY[tk.prio]
        urgency = np.where(rem <= 24.0, np.maximum(urgency, 0.25), urgency)
        urgency = np.where(rem <= 4.0, np.maximum(urgency, 0.5), urgency)
        pressure = np.clip(1.0 - rem / SLA_H[tk.prio], 0.0, 2.0)
        drop = DROP_KM[tk.prio] * (1.0 + 0.25 * pressure)
        free = tm.free if free is None else free
        nz = 16
        demand = np.bincount(np.clip(tk.zone, 0, None), minlength=nz)[:nz]
        supply = np.bincount(np.clip(tm.zone, 0, None), weights=free, minlength=nz)[:nz]
        saturated = demand > supply
        cross = np.where(saturated[np.clip(tk.zone, 0, None)], CROSS_ZONE_SATURATED_KM, CROSS_ZONE_KM)
        perf = -PERFORMANCE_KM * (0.5 * np.clip(tm.efficiency, 0, 100) / 100.0 + 0.5 * np.clip(tm.rating, 0, 5) / 5.0)
        return cls(urgency, drop, rem, tk.zone, cross, tm.zone, perf, keep_team, switch_km)

    def pair_costs(self, ti: np.ndarray, tj: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
        travel = d
        cross = np.where(self.ticket_zone[ti] == self.team_zone[tj], 0.0, self.cross_penalty[ti])
        late = (d / TRAVEL_SPEED_KMH) > self.remaining_h[ti]
        sla = self.urgency[ti] * d + np.where(late, LATE_FRACTION * self.drop[ti], 0.0)
        perf = self.perf[tj]
        total = travel + cross + sla + perf
        out = {"travel": travel, "cross_zone": cross, "sla": sla, "performance": perf}
        if self.keep_team is not None and self.switch_km:
            sw = np.where(self.keep_team[ti] == tj, 0.0, np.where(self.keep_team[ti] >= 0, self.switch_km, 0.0))
            out["switch"] = sw
            total = total + sw
        out["total"] = total
        return out

    def total(self, ti: np.ndarray, tj: np.ndarray, d: np.ndarray) -> np.ndarray:
        return self.pair_costs(ti, tj, d)["total"]

    @property
    def min_pair_cost_offset(self) -> float:
        """Lower bound of total - travel over all pairs (used by the optimality certificate)."""
        return float(self.perf.min()) if self.perf.size else 0.0


def plan_cost(model: CostModel, ti: np.ndarray, tj: np.ndarray, d: np.ndarray, n: int) -> float:
    """Total cost of a plan: assigned pairs' totals plus the drop penalty of every unassigned ticket."""
    assigned = np.zeros(n, dtype=bool)
    assigned[ti] = True
    return float(model.total(ti, tj, d).sum() + model.drop[~assigned].sum())
