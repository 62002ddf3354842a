"""Exact batch min-cost assignment of pending tickets to team capacity (see `cost.py` for the cost).

The problem is a transportation problem: each ticket goes to one team (or stays unassigned at its drop
penalty), each team takes at most its free capacity. We solve it as a **min-cost flow** on the compact graph

    ticket i (supply 1) --[cap 1, cost c_ij]--> team j --[cap free_j, cost 0]--> sink T (demand n)
    ticket i            --[cap 1, cost drop_i]------------------------------------> sink T

with `ortools.graph.python.min_cost_flow.SimpleMinCostFlow` (cost-scaling push-relabel, exact on integers).
The "unassigned" arc makes every instance feasible, and an integral optimal flow *is* an assignment.

**Integer costs.** OR-tools needs integer unit costs: every cost (km-equivalents) is multiplied by
`COST_SCALE` = 1000 and rounded, i.e. costs are in metre-equivalents. Each arc moves by at most 0.5 unit, so
for any plan |integer cost / COST_SCALE - float cost| <= n * 0.5 / COST_SCALE, and the plan that is optimal
for the integer costs is within n / COST_SCALE km-eq of the exact float optimum: 1 km-eq for 1,000 tickets,
10 km-eq for 10,000, against plan costs of 10^5..10^7 km-eq (a relative gap < 1e-5; the benchmark measures
~0). Magnitudes stay far inside int64 (max |cost| ~ 2e7 units times ~1e4 nodes inside OR-tools' scaling).

Solvers:

- `solve_sparse` (what `optimal` uses): candidates pruned to the K nearest feasible teams per ticket
  (dense unit-vector dot products per skill group + `numpy.argpartition`; plus, per team, its nearest
  tickets), one min-cost flow, then **certified** optimal for the *unpruned* problem: node potentials of
  the optimal flow's residual graph are computed by a vectorised Bellman-Ford (SPFA-style: only arcs out of
  nodes that changed) on the graph contracted over tickets (teams + sink, see `potentials`), and every
  pruned feasible (ticket, team) pair's reduced cost is checked in integer units, vectorised over dense
  distance blocks, after a cheap per-ticket lower bound has cleared most tickets. Pruned pairs with a
  negative reduced cost are added to the graph and the flow is re-solved. With no violation the potentials
  are a dual certificate that the pruned solution is optimal for the full (integer-cost) problem.
- `solve_exact_sparse`: the same min-cost flow on the *unpruned* feasible graph (reference for big cases).
- `solve_exact_dense`: every feasible pair, dense slot matrix, `scipy.optimize.linear_sum_assignment` on
  float costs: an independent exact reference for small cases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from aiff.geo import EARTH_RADIUS_KM, haversine_matrix

from .cost import DEFAULT_MAX_DISTANCE_KM, CostModel
from .model import Criteria, TeamArrays, TicketArrays, pair_distance_km, unit_vectors

DEFAULT_K = 8
DEFAULT_REVERSE_K = 20
COST_SCALE = 1000  # integer cost units per km-eq (metre-equivalents)
_BLOCK = 1 << 20  # max entries of one dense (tickets x teams) block


@dataclass(slots=True)
class Solution:
    team_of: np.ndarray  # (n,) team index or -1 (unassigned)
    distance: np.ndarray  # (n,) km, nan when unassigned
    cost: float  # total plan cost (assigned totals + drop penalties), float km-eq
    model: CostModel
    stats: dict[str, float] = field(default_factory=dict)


def max_km_of(criteria: Criteria) -> float:
    return float(criteria.max_distance_km) if criteria.max_distance_km is not None else DEFAULT_MAX_DISTANCE_KM


def to_units(x: np.ndarray) -> np.ndarray:
    """km-eq -> integer cost units (see module doc for the rounding bound)."""
    return np.rint(np.asarray(x, dtype=float) * COST_SCALE).astype(np.int64)


def _groups(tk: TicketArrays, criteria: Criteria) -> np.ndarray:
    """Group key per ticket: tickets in one group share the same feasible team set."""
    skill = tk.skill if criteria.respect_skills else np.full(len(tk), -1)
    zone = tk.zone if criteria.same_zone_only else np.full(len(tk), -1)
    return (skill + 1) * 64 + (zone + 1)


def _group_teams(tk: TicketArrays, tm: TeamArrays, criteria: Criteria, first: int, eligible: np.ndarray) -> np.ndarray:
    ok = eligible.copy()
    s = tk.skill[first]
    if criteria.respect_skills and s >= 0:
        ok &= tm.skills[:, s]
    if criteria.same_zone_only:
        ok &= tm.zone == tk.zone[first]
    return np.flatnonzero(ok)


def _split_groups(tk: TicketArrays, criteria: Criteria, rows: np.ndarray | None = None):
    """(rows of one group) for each group among `rows` (all tickets when None)."""
    rows = np.arange(len(tk)) if rows is None else rows
    if rows.size == 0:
        return []
    keys = _groups(tk, criteria)[rows]
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ends = np.append(starts[1:], sk.size)
    return [rows[order[a:b]] for a, b in zip(starts, ends)]


def _chunks(rows: np.ndarray, width: int):
    step = max(1, _BLOCK // max(1, width))
    for a in range(0, rows.size, step):
        yield rows[a:a + step]


def _chord(km: float) -> float:
    return 2.0 * np.sin(min(km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))


def _dedupe(ti: np.ndarray, tj: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (ti, tj) pairs, sorted by ticket (sort-based: np.unique's hash path is slow for this)."""
    key = np.sort(ti * m + tj)
    if key.size:
        key = key[np.r_[True, key[1:] != key[:-1]]]
    return key // m, key % m


def candidate_pairs(tk: TicketArrays, tm: TeamArrays, criteria: Criteria, k: int | None, eligible: np.ndarray,
                    max_km: float, reverse_k: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k nearest feasible teams per ticket (all feasible teams when k is None), within max_km.

    One KD-tree per skill group over the teams' unit vectors (chord length is monotone in great-circle
    distance). With `reverse_k`, each team also gets its reverse_k nearest tickets of the group (spare
    capacity a little further away is in the graph from the start, so the certificate rarely has to add
    edges). Returns (ti, tj, d_km, bound_km): pairs and, per ticket, a lower bound on the distance of every
    feasible team that is *not* among its k nearest (inf when none is left out)."""
    n, m = len(tk), len(tm)
    bound = np.full(n, np.inf)
    out_i, out_j = [], []
    chord_max = _chord(max_km) * (1 + 1e-9) + 1e-12
    tv, mv = unit_vectors(tk.lat, tk.lon), unit_vectors(tm.lat, tm.lon)
    for rows in _split_groups(tk, criteria):
        teams = _group_teams(tk, tm, criteria, rows[0], eligible)
        if teams.size == 0:
            continue
        if k is None:  # every feasible team within max_km
            tree = cKDTree(mv[teams])
            for r in _chunks(rows, teams.size):
                sp = tree.sparse_distance_matrix(cKDTree(tv[r]), chord_max, output_type="ndarray")
                out_i.append(r[sp["j"]])
                out_j.append(teams[sp["i"]])
            continue
        kk = min(k, teams.size)
        q = min(kk + 1, teams.size)
        dist, idx = cKDTree(mv[teams]).query(tv[rows], k=q, distance_upper_bound=chord_max)
        dist, idx = dist.reshape(rows.size, q), idx.reshape(rows.size, q)
        if q > kk:  # the (k+1)-th nearest feasible team bounds every pruned one (1 mm margin for rounding)
            c = dist[:, kk]
            far = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, c / 2)) - 1e-6
            bound[rows] = np.where(np.isfinite(c), far, np.inf)
        r, c = np.nonzero(idx[:, :kk] < teams.size)
        out_i.append(rows[r])
        out_j.append(teams[idx[r, c]])
        if reverse_k and rows.size > kk:
            rq = min(reverse_k, rows.size)
            _, ridx = cKDTree(tv[rows]).query(mv[teams], k=rq, distance_upper_bound=chord_max)
            ridx = ridx.reshape(teams.size, rq)
            rr, rc = np.nonzero(ridx < rows.size)
            out_i.append(rows[ridx[rr, rc]])
            out_j.append(teams[rr])
    if not out_i:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0), bound
    ti = np.concatenate(out_i).astype(np.int64)
    tj = np.concatenate(out_j).astype(np.int64)
    if k is not None and reverse_k:
        ti, tj = _dedupe(ti, tj, m)
    d = pair_distance_km(tk, tm, ti, tj)
    keep = d <= max_km
    return ti[keep], tj[keep], d[keep], bound


def min_cost_flow(n: int, m: int, ti: np.ndarray, tj: np.ndarray, cost: np.ndarray, free: np.ndarray,
                  drop: np.ndarray) -> np.ndarray:
    """Exact min-cost assignment restricted to the given pairs (integer unit costs); team index per ticket."""
    team_of = np.full(n, -1, dtype=np.int64)
    if n == 0 or ti.size == 0:
        return team_of
    sink = n + m
    teams = np.flatnonzero(free > 0)
    tails = np.concatenate((ti, np.arange(n), n + teams)).astype(np.int32)
    heads = np.concatenate((n + tj, np.full(n + teams.size, sink))).astype(np.int32)
    caps = np.concatenate((np.ones(ti.size + n, dtype=np.int64), free[teams].astype(np.int64)))
    costs = np.concatenate((cost, drop, np.zeros(teams.size, dtype=np.int64))).astype(np.int64)
    f = SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = np.zeros(sink + 1, dtype=np.int64)
    supply[:n] = 1
    supply[sink] = -n
    f.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supply)
    status = f.solve()
    if status != f.OPTIMAL:  # cannot happen: the drop arcs make every instance feasible
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flow = f.flows(np.arange(ti.size, dtype=np.int32))
    hit = flow > 0
    team_of[ti[hit]] = tj[hit]
    return team_of


def potentials(n: int, m: int, ti: np.ndarray, tj: np.ndarray, cost: np.ndarray, team_of: np.ndarray,
               free: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Feasible node potentials of the optimal flow's residual graph (integer units), or None when the
    residual graph has a negative cycle (the flow is not optimal for these arcs).

    Tickets are contracted: ticket i's only residual in-arc comes from the node holding it (its team a, or
    the sink T when unassigned), so p_i = p_a - c_ia and each path a -> i -> j' becomes one arc a -> j' of
    cost c_ij' - c_ia (a -> T: drop_i - c_ia; T -> j': c_ij' - drop_i for an unassigned ticket). Teams with
    slack have j -> T (0), teams in use T -> j (0). Bellman-Ford from a virtual root (0 to every node).
    Returns (p over m teams + T, tau per ticket, iterations) with tau_i = c_i,a(i) - p_a(i) (or
    drop_i - p_T): a missing pair (i, j) has a non-negative reduced cost iff c_ij - p_j >= tau_i."""
    T = m
    assigned = team_of >= 0
    own = team_of[ti] == tj
    c_own = np.zeros(n, dtype=np.int64)
    c_own[ti[own]] = cost[own]
    base = np.where(assigned, c_own, drop)
    holder = np.where(assigned, team_of, T)
    e = ~own
    ai = np.flatnonzero(assigned)
    used = np.bincount(team_of[ai], minlength=m)
    slack = np.flatnonzero(used < free)
    inuse = np.flatnonzero(used > 0)
    src = np.concatenate((holder[ti[e]], team_of[ai], slack, np.full(inuse.size, T)))
    dst = np.concatenate((tj[e], np.full(ai.size, T), np.full(slack.size, T), inuse))
    w = np.concatenate((cost[e] - base[ti[e]], drop[ai] - c_own[ai],
                        np.zeros(slack.size + inuse.size, dtype=np.int64)))
    # keep the cheapest arc per (src, dst): duplicates are common (many tickets held by one team)
    key = src * (m + 1) + dst
    order = np.lexsort((w, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]] if key.size else np.zeros(0, dtype=bool)
    sel = order[first]
    src, dst, w = src[sel], dst[sel], w[sel]
    p = np.zeros(m + 1, dtype=np.int64)
    changed = np.ones(m + 1, dtype=bool)
    it = 0
    while True:
        act = changed[src]
        if not act.any():
            break
        it += 1
        if it > m + 2:
            return None
        new = p.copy()
        np.minimum.at(new, dst[act], p[src[act]] + w[act])
        changed = new < p
        p = new
    tau = np.where(assigned, c_own - p[np.maximum(team_of, 0)], drop - p[T])
    return p, tau, it


def solve_sparse(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *, k: int = DEFAULT_K,
                 certify: bool = True, reverse_k: int = DEFAULT_REVERSE_K, model: CostModel | None = None,
                 free: np.ndarray | None = None, forced_pairs: tuple[np.ndarray, np.ndarray] | None = None,
                 max_rounds: int = 8, margin_km: float = 0.0) -> Solution:
    """Pruned exact solve with an optimality certificate for the unpruned problem (see module doc)."""
    t0 = time.perf_counter()
    n, m = len(tk), len(tm)
    free = tm.free if free is None else free
    eligible = free > 0
    max_km = max_km_of(criteria)
    model = model or CostModel.build(tk, tm, free=free)
    ti, tj, d, bound = candidate_pairs(tk, tm, criteria, k, eligible, max_km, reverse_k)
    if forced_pairs is not None and forced_pairs[0].size:
        fi, fj = forced_pairs
        fd = pair_distance_km(tk, tm, fi, fj)
        ti, tj, d = np.concatenate((ti, fi)), np.concatenate((tj, fj)), np.concatenate((d, fd))
        key = ti * m + tj
        order = np.argsort(key, kind="stable")
        first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
        ti, tj, d = ti[first], tj[first], d[first]
    cost = to_units(model.total(ti, tj, d))
    drop = to_units(model.drop)
    margin = int(round(margin_km * COST_SCALE))
    slope = COST_SCALE * (1.0 + model.urgency)  # cost >= (1 + u_i) * d_ij + perf_j
    stats: dict[str, float] = {"candidates": float(ti.size), "rounds": 0.0, "certified": 0.0, "violations": 0.0,
                               "checked_rows": 0.0, "bf_iterations": 0.0,
                               "candidates_seconds": time.perf_counter() - t0, "flow_seconds": 0.0,
                               "certificate_seconds": 0.0}
    rounds = 0
    while True:
        rounds += 1
        t1 = time.perf_counter()
        team_of = min_cost_flow(n, m, ti, tj, cost, free, drop)
        t2 = time.perf_counter()
        stats["flow_seconds"] += t2 - t1
        if not certify:
            break
        pot = potentials(n, m, ti, tj, cost, team_of, free, drop)
        if pot is None:  # cannot happen for an optimal flow; be loud in tests, safe in production
            stats["certified"] = -1.0
            break
        p, tau, iters = pot
        stats["bf_iterations"] += iters
        # cheap bound: a pruned pair costs >= COST_SCALE * (d_ij + perf_j) - 0.5 units with d_ij >= bound_i,
        # so c_ij - p_j >= COST_SCALE * bound_i + h_j - 0.5 with h_j = COST_SCALE * perf_j - p_j
        h = COST_SCALE * model.perf - p[:m]
        suspect = _suspects(tk, tm, criteria, eligible, h, tau, bound, slope)
        stats["checked_rows"] += suspect.size
        add_i, add_j, add_d = _violations(tk, tm, criteria, model, suspect, eligible, max_km, p[:m], h, tau, slope, margin)
        stats["certificate_seconds"] += time.perf_counter() - t2
        if add_i.size == 0:
            stats["certified"] = 1.0
            break
        stats["violations"] += add_i.size
        if rounds >= max_rounds:
            break
        ti, tj, d = np.concatenate((ti, add_i)), np.concatenate((tj, add_j)), np.concatenate((d, add_d))
        cost = np.concatenate((cost, to_units(model.total(add_i, add_j, add_d))))
    stats["rounds"] = float(rounds)
    stats["edges"] = float(ti.size)
    stats["seconds"] = time.perf_counter() - t0
    return _finish(tk, tm, model, team_of, stats)


def _suspects(tk, tm, criteria, eligible, h, tau, bound, slope, buckets: int = 6) -> np.ndarray:
    """Tickets that may have a pruned pair with a negative reduced cost (a superset: the rest are cleared).

    A pruned pair (i, j) violates only if slope_i * d_ij + h_j < tau_i (slope_i = COST_SCALE * (1 + u_i),
    h_j = COST_SCALE * perf_j - p_j: every other cost term is >= 0), and d_ij >= bound_i. Eligible teams are split into buckets by h; per bucket
    d_ij >= the distance to the bucket's nearest team (one KD-tree query, skills ignored = still a bound)
    and h_j >= the bucket's minimum, so ticket i is cleared when every bucket's bound reaches tau_i."""
    teams = np.flatnonzero(eligible)
    n = len(tk)
    if teams.size == 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    hs = h[teams]
    rows = np.flatnonzero(slope * np.minimum(bound, 1e12) + hs.min() - 1.0 < tau)  # crude: one bucket
    if rows.size == 0 or teams.size <= buckets:
        return rows
    order = np.argsort(hs, kind="stable")
    tv, mv = unit_vectors(tk.lat[rows], tk.lon[rows]), unit_vectors(tm.lat, tm.lon)
    lb = np.full(rows.size, np.inf)
    for part in np.array_split(order, buckets):
        chord, _ = cKDTree(mv[teams[part]]).query(tv, k=1)
        dmin = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2)) - 1e-6
        lb = np.minimum(lb, slope[rows] * np.maximum(bound[rows], dmin) + hs[part].min() - 1.0)
    return rows[lb < tau[rows]]


def _violations(tk, tm, criteria, model, suspect, eligible, max_km, p_team, h, tau, slope, margin=0):
    """Feasible pairs of the suspect tickets with a negative reduced cost (c_ij - p_j < tau_i), in dense
    blocks: an approximate distance from unit-vector dot products discards most pairs safely (a violation
    needs slope_i * d_ij + cross-zone_ij * COST_SCALE + h_j < tau_i), the few survivors get the exact
    haversine and integer cost. With `margin` > 0, pairs with reduced cost < margin are returned too."""
    e = np.zeros(0, dtype=np.int64)
    if suspect.size == 0:
        return e, e, np.zeros(0)
    tv, mv = unit_vectors(tk.lat, tk.lon), unit_vectors(tm.lat, tm.lon)
    out_i, out_j = [], []
    for rows in _split_groups(tk, criteria, suspect):
        teams = _group_teams(tk, tm, criteria, rows[0], eligible)
        if teams.size == 0:
            continue
        mvt, ht, zt = mv[teams].T, h[teams], model.team_zone[teams]
        for r in _chunks(rows, teams.size):
            approx = EARTH_RADIUS_KM * np.arccos(np.clip(tv[r] @ mvt, -1.0, 1.0))
            # 10 m of slack covers the dot-product approximation of the haversine distance
            cross = np.where(tk.zone[r][:, None] == zt[None, :], 0.0, COST_SCALE * model.cross_penalty[r][:, None])
            lb = slope[r][:, None] * (approx - 0.01) + cross + ht[None, :]
            ok = (lb < tau[r][:, None] + margin) & (approx <= max_km + 0.01)
            rr, cc = np.nonzero(ok)
            out_i.append(r[rr])
            out_j.append(teams[cc])
    if not out_i:
        return e, e, np.zeros(0)
    gi, gj = np.concatenate(out_i), np.concatenate(out_j)
    gd = pair_distance_km(tk, tm, gi, gj)
    keep = gd <= max_km
    gi, gj, gd = gi[keep], gj[keep], gd[keep]
    red = to_units(model.total(gi, gj, gd)) - p_team[gj] - tau[gi]
    bad = red < margin
    return gi[bad], gj[bad], gd[bad]


def _finish(tk: TicketArrays, tm: TeamArrays, model: CostModel, team_of: np.ndarray, stats: dict) -> Solution:
    n = len(tk)
    a = np.flatnonzero(team_of >= 0)
    dist = np.full(n, np.nan)
    dist[a] = pair_distance_km(tk, tm, a, team_of[a])
    cost = float(model.total(a, team_of[a], dist[a]).sum() + model.drop[team_of < 0].sum())
    return Solution(team_of, dist, cost, model, stats)


def solve_exact_sparse(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *,
                       model: CostModel | None = None, free: np.ndarray | None = None) -> Solution:
    """Exact min-cost flow on the *unpruned* feasible graph (every feasible pair within the max distance)."""
    t0 = time.perf_counter()
    free = tm.free if free is None else free
    model = model or CostModel.build(tk, tm, free=free)
    ti, tj, d, _ = candidate_pairs(tk, tm, criteria, None, free > 0, max_km_of(criteria))
    team_of = min_cost_flow(len(tk), len(tm), ti, tj, to_units(model.total(ti, tj, d)), free, to_units(model.drop))
    return _finish(tk, tm, model, team_of, {"candidates": float(ti.size), "seconds": time.perf_counter() - t0})


def solve_exact_dense(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *,
                      model: CostModel | None = None, free: np.ndarray | None = None) -> Solution:
    """Independent exact reference on float costs: dense slot matrix over every feasible pair,
    `scipy.optimize.linear_sum_assignment`."""
    t0 = time.perf_counter()
    n, m = len(tk), len(tm)
    free = tm.free if free is None else free
    model = model or CostModel.build(tk, tm, free=free)
    max_km = max_km_of(criteria)
    D = haversine_matrix(tk.lat, tk.lon, tm.lat, tm.lon)
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    C = model.total(ii, jj, D.ravel()).reshape(n, m)
    feas = (D <= max_km) & (free > 0)[None, :]
    if criteria.respect_skills:
        s = tk.skill
        feas &= (s[:, None] < 0) | tm.skills[:, np.maximum(s, 0)].T
    if criteria.same_zone_only:
        feas &= tk.zone[:, None] == tm.zone[None, :]
    C = np.where(feas, C, np.inf)
    slot_team = np.repeat(np.arange(m), np.minimum(free, n))
    full = np.hstack((C[:, slot_team], np.repeat(model.drop[:, None], n, axis=1)))
    r, c = linear_sum_assignment(full)
    team_of = np.full(n, -1, dtype=np.int64)
    hit = c < slot_team.size
    team_of[r[hit]] = slot_team[c[hit]]
    return _finish(tk, tm, model, team_of, {"seconds": time.perf_counter() - t0})


def optimal(tickets, teams, criteria: Criteria, now, *, k: int = DEFAULT_K, certify: bool = True):
    """Strategy entry point: `(tickets, teams, criteria, now) -> Plan` with a cost breakdown per decision."""
    from .model import team_arrays, ticket_arrays

    t0 = time.perf_counter()
    tk, tm = ticket_arrays(tickets, now), team_arrays(teams)
    sol = solve_sparse(tk, tm, criteria, k=k, certify=certify)
    return plan_from_solution(tickets, teams, tk, tm, sol, criteria, "optimal", time.perf_counter() - t0)


def plan_from_solution(tickets, teams, tk, tm, sol: Solution, criteria: Criteria, strategy: str, seconds: float):
    from .model import Decision, Plan
    from .nearest import unassigned_reasons

    a = np.flatnonzero(sol.team_of >= 0)
    parts = sol.model.pair_costs(a, sol.team_of[a], sol.distance[a])
    pos = {int(i): k for k, i in enumerate(a)}
    cols = {key: v.tolist() for key, v in parts.items()}
    miss = np.flatnonzero(sol.team_of < 0)
    why = dict(zip(miss.tolist(), unassigned_reasons(tk, tm, miss, criteria, max_km_of(criteria))))
    drop = sol.model.drop.tolist()
    n = len(tickets)
    decisions = []
    for i, t in enumerate(tickets):
        j = int(sol.team_of[i])
        if j < 0:
            decisions.append(Decision(t.ticket_id, None, strategy, None, None, {"unassigned_penalty": drop[i]}, why[i]))
            continue
        k = pos[i]
        bd = {key: v[k] for key, v in cols.items()}
        reason = (f"min-cost batch of {n}: cost {bd['total']:.1f} km-eq = travel {bd['travel']:.1f} km"
                  f" + cross-zone {bd['cross_zone']:.0f} + SLA {bd['sla']:.1f} + performance {bd['performance']:.1f}")
        decisions.append(Decision(t.ticket_id, int(teams[j].team_id), strategy, float(sol.distance[i]),
                                  bd["total"], bd, reason))
    return Plan(tuple(decisions), strategy, seconds, dict(sol.stats, cost=sol.cost))
