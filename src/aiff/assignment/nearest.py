"""The sensible dispatcher's rule: ticket by ticket, most urgent first (earliest due date, then highest
priority), the nearest (haversine) team that may take work (status available/busy, free capacity), has the
skill and lies within the maximum distance (300 km unless `Criteria.max_distance_km`), any zone unless
`Criteria.same_zone_only`."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Sequence

import numpy as np

from aiff.events.vocabulary import SKILLS

from .cost import DEFAULT_MAX_DISTANCE_KM
from .model import Criteria, Decision, Plan, TeamArrays, TeamSpec, TicketArrays, TicketSpec, pair_distance_km, team_arrays, ticket_arrays


def urgency_order(tk: TicketArrays) -> np.ndarray:
    """Earliest due first, then highest priority, then input order."""
    return np.lexsort((np.arange(len(tk)), -tk.prio, tk.remaining_h))


def unassigned_reason(tk: TicketArrays, tm: TeamArrays, i: int, criteria: Criteria, max_km: float,
                      free: np.ndarray | None = None) -> str:
    """Why ticket i could not be placed, in a dispatcher's words."""
    s = tk.skill[i]
    skill_ok = tm.skills[:, s] if (criteria.respect_skills and s >= 0) else np.ones(len(tm), dtype=bool)
    working = tm.working & skill_ok
    if criteria.same_zone_only:
        working &= tm.zone == tk.zone[i]
    if not working.any():
        return f"no working team with skill {SKILLS[s]}" if s >= 0 else "no working team"
    free = tm.free if free is None else free
    d = pair_distance_km(tk, tm, np.full(len(tm), i), np.arange(len(tm)))
    if not (working & (free > 0) & (d <= max_km)).any():
        return f"no free capacity within {max_km:.0f} km"
    return "capacity within reach went to more urgent or closer tickets in this batch"


def unassigned_reasons(tk: TicketArrays, tm: TeamArrays, rows: np.ndarray, criteria: Criteria, max_km: float,
                       free: np.ndarray | None = None) -> list[str]:
    """`unassigned_reason` for many tickets at once: one KD-tree query per group of tickets that share the
    same feasible teams (skill, and zone under `same_zone_only`), instead of m distances per ticket."""
    from scipy.spatial import cKDTree

    from aiff.geo import EARTH_RADIUS_KM

    from .model import unit_vectors

    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(rows.size, "capacity within reach went to more urgent or closer tickets in this batch", dtype=object)
    if rows.size == 0:
        return []
    free = tm.free if free is None else free
    skill = tk.skill[rows] if criteria.respect_skills else np.full(rows.size, -1)
    zone = tk.zone[rows] if criteria.same_zone_only else np.full(rows.size, -1)
    key = (skill + 1) * 64 + (zone + 1)
    chord = 2.0 * np.sin(min(max_km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM)) * (1 + 1e-9)
    tv, mv = unit_vectors(tk.lat[rows], tk.lon[rows]), unit_vectors(tm.lat, tm.lon)
    for k in np.unique(key):
        sel = np.flatnonzero(key == k)
        s, z = int(skill[sel[0]]), int(zone[sel[0]])
        working = tm.working.copy()
        if s >= 0:
            working &= tm.skills[:, s]
        if criteria.same_zone_only:
            working &= tm.zone == z
        if not working.any():
            out[sel] = f"no working team with skill {SKILLS[s]}" if s >= 0 else "no working team"
            continue
        able = np.flatnonzero(working & (free > 0))
        if able.size == 0:
            out[sel] = f"no free capacity within {max_km:.0f} km"
            continue
        dist, _ = cKDTree(mv[able]).query(tv[sel], k=1, distance_upper_bound=chord)
        out[sel[~np.isfinite(dist)]] = f"no free capacity within {max_km:.0f} km"
    return out.tolist()


def nearest_indices(tk: TicketArrays, tm: TeamArrays, criteria: Criteria, open_tickets: np.ndarray | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(team index per ticket or -1, distance km or nan); updates `open_tickets` in place if given."""
    n, m = len(tk), len(tm)
    load = tm.open_tickets.copy() if open_tickets is None else open_tickets
    max_km = criteria.max_distance_km if criteria.max_distance_km is not None else DEFAULT_MAX_DISTANCE_KM
    team_of = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    cols = np.arange(m)
    can = tm.working & (load < tm.capacity)
    for i in urgency_order(tk):
        ok = can.copy()
        s = tk.skill[i]
        if criteria.respect_skills and s >= 0:
            ok &= tm.skills[:, s]
        if criteria.same_zone_only:
            ok &= tm.zone == tk.zone[i]
        if not ok.any():
            continue
        d = pair_distance_km(tk, tm, np.full(m, i), cols)
        d = np.where(ok & (d <= max_km), d, np.inf)
        j = int(np.argmin(d))
        if not np.isfinite(d[j]):
            continue
        team_of[i] = j
        dist[i] = d[j]
        load[j] += 1
        if load[j] >= tm.capacity[j]:
            can[j] = False
    return team_of, dist


def nearest(tickets: Sequence[TicketSpec], teams: Sequence[TeamSpec], criteria: Criteria, now: datetime) -> Plan:
    t0 = time.perf_counter()
    tk, tm = ticket_arrays(tickets, now), team_arrays(teams)
    free0 = tm.free.copy()
    team_of, dist = nearest_indices(tk, tm, criteria)
    max_km = criteria.max_distance_km if criteria.max_distance_km is not None else DEFAULT_MAX_DISTANCE_KM
    miss = np.flatnonzero(team_of < 0)
    why = dict(zip(miss.tolist(), unassigned_reasons(tk, tm, miss, criteria, max_km, free0)))
    decisions = []
    for i, t in enumerate(tickets):
        j = int(team_of[i])
        if j < 0:
            decisions.append(Decision(t.ticket_id, None, "nearest", None, None, {}, why[i]))
            continue
        d = float(dist[i])
        decisions.append(Decision(t.ticket_id, teams[j].team_id, "nearest", d, d, {"distance_km": d},
                                  f"nearest team with skill and free capacity: {d:.1f} km"))
    return Plan(tuple(decisions), "nearest", time.perf_counter() - t0)
