"""Why a visit has its team and slot, in the planner's own terms (minutes of driving), for the plan's events."""

from __future__ import annotations

import numpy as np

from aiff.dispatch.inputs import Inputs
from aiff.geo import haversine_km
from aiff.planning import Costs, PlannedVisit, TravelModel, Visit

MAX_MINUTES = 100_000.0
"""The contract's bound on minutes and km (aiff.events.bounds); lateness is bounded at 10**7."""
MAX_LATENESS = 1e7

FIXED_WHY = {"in_progress": "in progress", "pinned": "pinned by a dispatcher", "moved": "moved here by a dispatcher",
             "freeze": "departing within the freeze horizon"}  # fmt: skip


class Explainer:
    """Explains the visits of one re-plan; knows every capable team's drive to every visit (one matrix per run)."""

    def __init__(self, inputs: Inputs, travel: TravelModel, costs: Costs | None = None) -> None:
        self.inputs = inputs
        self.costs = costs or Costs()
        self.visits: dict[str, Visit] = {v.ticket_id: v for v in inputs.visits}
        teams = [d.team for d in inputs.teams]
        self.teams = teams
        self.col = {t: len(teams) + k for k, t in enumerate(self.visits)}
        self._travel = travel
        self._durations: np.ndarray | None = None

    @property
    def durations(self) -> np.ndarray:
        """Every capable team's drive to every visit: computed on the first explanation (a re-plan that changes
        nothing explains nothing)."""
        if self._durations is None:
            points = [t.start for t in self.teams] + [v.position for v in self.visits.values()]
            self._durations = self._travel.matrices(points)[0] if points and self.teams else np.zeros((0, 0), dtype=np.int64)
        return self._durations

    def explain(self, pv: PlannedVisit, current_team: str | None, churn_gain: float | None) -> dict:
        v = self.visits[pv.ticket_id]
        late = 0.0 if v.due is None else min(max(0.0, (pv.planned_end - v.due).total_seconds() / 60), MAX_LATENESS)
        weight = (self.costs.serve(v.priority) + (self.costs.bonus(v.priority) if late == 0 else 0)) / 60
        fixed = self.inputs.fixed.get(pv.ticket_id)
        if fixed or pv.frozen:
            churn = "pinned"
        elif current_team is None:
            churn = "new"
        else:
            churn = "kept" if current_team == pv.team_id else "moved"
        best_team, best_minutes = self._next_best(v, pv.team_id)
        parts = [f"{pv.travel_minutes:.0f} min drive from the previous stop"]
        if fixed:
            parts.insert(0, FIXED_WHY.get(fixed, "fixed"))
        parts.append("on time" if late == 0 else f"{late:.0f} min past the due time")
        parts.append(f"{v.priority} priority worth {weight:.0f} min of driving")
        if churn == "moved":
            parts.append(f"moved from team {current_team}: saves {churn_gain or 0:.0f} min over keeping every visit")
        elif churn == "kept":
            parts.append("kept with its team")
        if best_team is not None:
            parts.append(f"next nearest capable team {best_team} is {best_minutes:.0f} min from its start")
        return {
            "travel_minutes": bounded(pv.travel_minutes, 2), "travel_km": bounded(pv.travel_km, 3),
            "lateness_minutes": round(late, 1), "priority": v.priority, "priority_weight_minutes": round(weight, 1),
            "churn": churn, "churn_gain_minutes": None if churn != "moved" or churn_gain is None else round(churn_gain, 1),
            "next_best_team_id": None if best_team is None else int(best_team),
            "next_best_travel_minutes": None if best_minutes is None else bounded(best_minutes, 1),
            "summary": "; ".join(parts)[:1000],
        }  # fmt: skip

    def base_km(self, team_id: str, ticket_id: str) -> float | None:
        """Great-circle km from the team's base to the site (what `ticket.assigned.distance_km` states)."""
        team = next((t for t in self.teams if t.id == team_id), None)
        v = self.visits.get(ticket_id)
        if team is None or v is None:
            return None
        return round(haversine_km(team.end.lat, team.end.lon, v.position.lat, v.position.lon), 3)

    def _next_best(self, v: Visit, team_id: str) -> tuple[str | None, float | None]:
        best = None
        for k, t in enumerate(self.teams):
            if t.id == team_id or v.skill not in t.skills:
                continue
            minutes = float(self.durations[k, self.col[v.ticket_id]]) / 60
            if best is None or minutes < best[1]:
                best = (t.id, minutes)
        return best if best is not None else (None, None)


def bounded(value: float, digits: int) -> float:
    """Rounded and within the contract's bound (an unroutable leg of a road service is huge)."""
    return round(min(max(value, 0.0), MAX_MINUTES), digits)
