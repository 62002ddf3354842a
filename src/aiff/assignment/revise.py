"""Revising live assignments: re-solve the assigned-but-unstarted, non-frozen tickets and keep only moves
whose gain beats the hysteresis.

Rules: tickets ``in_progress`` or ``frozen`` (a dispatcher chose the team) are never moved, and they keep
consuming their team's capacity. Movable tickets release their slot for the re-solve; staying with the
current team costs its plain cost, any other team costs `hysteresis_km` more (a switching cost inside the
optimisation), and a move is proposed only when gain = old cost - new cost >= hysteresis_km and
>= min_gain_ratio * old cost. Dropping a rejected move could leave a team over capacity; such conflicts are
repaired by dropping the lowest-gain moves into the over-full team until every team fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

import numpy as np

from .cost import CostModel
from .model import Criteria, TeamSpec, TicketSpec, pair_distance_km, team_arrays, ticket_arrays
from .optimal import solve_sparse


@dataclass(frozen=True, slots=True)
class CurrentAssignment:
    team_id: int
    status: str = "assigned"  # "assigned" (movable) or "in_progress"
    frozen: bool = False


@dataclass(frozen=True, slots=True)
class Move:
    ticket_id: int
    from_team_id: int
    to_team_id: int
    old_cost: float
    new_cost: float
    gain: float
    reason: str


def plan_revision(current_assignments: Mapping[int, CurrentAssignment], tickets: Sequence[TicketSpec],
                  teams: Sequence[TeamSpec], now: datetime, *, hysteresis_km: float = 10.0,
                  min_gain_ratio: float = 0.2, criteria: Criteria = Criteria()) -> list[Move]:
    """Moves for movable assigned tickets (`teams[*].open_tickets` must include every current assignment)."""
    movable = [t for t in tickets
               if (a := current_assignments.get(t.ticket_id)) is not None and a.status == "assigned" and not a.frozen]
    if not movable:
        return []
    tk, tm = ticket_arrays(movable, now), team_arrays(teams)
    index = {int(tid): j for j, tid in enumerate(tm.ids)}
    cur = np.array([index.get(current_assignments[t.ticket_id].team_id, -1) for t in movable], dtype=np.int64)
    released = np.bincount(cur[cur >= 0], minlength=len(tm))
    free = np.where(tm.working, np.maximum(tm.capacity - tm.open_tickets + released, 0), 0)
    # the current team stays an option while it may still work (offline/on_leave teams force a move)
    keep = np.where((cur >= 0) & tm.working[np.maximum(cur, 0)], cur, -1)
    model = CostModel.build(tk, tm, keep_team=keep, switch_km=hysteresis_km, free=free)
    forced = np.flatnonzero(keep >= 0)
    sol = solve_sparse(tk, tm, criteria, model=model, free=free, forced_pairs=(forced, keep[forced]))
    has_cur = keep >= 0
    base_model = CostModel.build(tk, tm, free=free)
    old_d = pair_distance_km(tk, tm, np.arange(len(tk)), np.maximum(cur, 0))
    old_cost = np.where(has_cur, base_model.total(np.arange(len(tk)), np.maximum(cur, 0), old_d), np.inf)
    cand: list[tuple[float, int, int, float, float]] = []
    for i in np.flatnonzero((sol.team_of >= 0) & (sol.team_of != cur)):
        j = int(sol.team_of[i])
        new_cost = float(base_model.total(np.array([i]), np.array([j]), np.array([sol.distance[i]]))[0])
        oc = float(old_cost[i])
        gain = oc - new_cost
        if has_cur[i] and (gain < hysteresis_km or gain < min_gain_ratio * oc):
            continue
        cand.append((gain, int(i), j, oc, new_cost))
    # capacity repair: accepted moves must leave every team within capacity
    accepted = sorted(cand, reverse=True)
    while True:
        load = tm.open_tickets.copy()
        for _, i, j, _, _ in accepted:
            load[j] += 1
            if cur[i] >= 0:
                load[cur[i]] -= 1
        over = [j for j in np.flatnonzero(load > tm.capacity) if any(m[2] == j for m in accepted)]
        if not over:
            break
        j_bad = over[0]
        worst = min((m for m in accepted if m[2] == j_bad), key=lambda m: m[0])
        accepted.remove(worst)
    moves = []
    for gain, i, j, oc, nc in accepted:
        from_id = current_assignments[movable[i].ticket_id].team_id
        moves.append(Move(movable[i].ticket_id, int(from_id), int(tm.ids[j]), oc, nc, gain,
                          f"revision: cost {oc:.1f} -> {nc:.1f} km-eq (gain {gain:.1f} >= hysteresis {hysteresis_km:.0f})"))
    return moves
