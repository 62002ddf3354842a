"""Exact batch min-cost assignment of pending tickets to team capacity (see `cost.py` for the cost).

The problem is a transportation problem: each ticket goes to one team (or to "unassigned", at its drop
penalty), each team takes at most its free capacity. We solve it as a bipartite matching over *capacity
slots* (a team with k free slots contributes k identical columns) plus one dummy "unassigned" column per
ticket, so a full matching of the ticket rows always exists.

Two exact solvers:

- `solve_exact_dense`: every feasible pair, dense matrix, `scipy.optimize.linear_sum_assignment`.
  For small cases and as the reference.
- `solve_sparse` (what `optimal` uses): candidates pruned to the K nearest feasible teams per ticket
  (KD-tree on unit vectors: chord length is monotone in haversine distance), solved exactly with
  `scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) on the sparse slot graph, then
  **certified** optimal for the *unpruned* problem: we compute node potentials on the residual graph of the
  solution (tickets contracted, so it is a graph over teams + "unassigned" + sink, solved by vectorised
  Bellman-Ford) and check that no pruned feasible edge has negative reduced cost. A cheap lower bound
  (the (K+1)-th nearest distance minus the largest performance bonus) clears most tickets at once; the rest
  get their full row checked. If any pruned edge violates, it is added to the graph and we re-solve.
  With no violation the potentials are a dual certificate: the pruned solution is optimal for the full
  problem, so pruning provably lost nothing.
- `solve_exact_sparse`: the same matching on the *unpruned* feasible graph (reference for big cases).

The graph is split into connected components first (e.g. Peninsular vs East Malaysia) and each one is
solved separately, which is exact and faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from aiff.geo import EARTH_RADIUS_KM, haversine_matrix

from .cost import DEFAULT_MAX_DISTANCE_KM, CostModel
from .model import Criteria, TeamArrays, TicketArrays, pair_distance_km, unit_vectors

DEFAULT_K = 12
DEFAULT_REVERSE_K = 8


@dataclass(slots=True)
class Solution:
    team_of: np.ndarray  # (n,) team index or -1 (unassigned)
    distance: np.ndarray  # (n,) km, nan when unassigned
    cost: float  # total plan cost (assigned totals + drop penalties)
    model: CostModel
    stats: dict[str, float] = field(default_factory=dict)


def max_km_of(criteria: Criteria) -> float:
    return float(criteria.max_distance_km) if criteria.max_distance_km is not None else DEFAULT_MAX_DISTANCE_KM


def _chord(km: float) -> float:
    return 2.0 * np.sin(min(km, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))


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


def candidate_pairs(tk: TicketArrays, tm: TeamArrays, criteria: Criteria, k: int | None, eligible: np.ndarray,
                    max_km: float, reverse_k: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k nearest feasible teams per ticket (all feasible teams when k is None).

    Returns (ti, tj, d_km, bound_km): pairs and, per ticket, the distance of the nearest feasible team that
    was *not* included (inf when none was left out)."""
    n = len(tk)
    keys = _groups(tk, criteria)
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    ends = np.append(starts[1:], n)
    bound = np.full(n, np.inf)
    out_i, out_j = [], []
    chord_max = _chord(max_km) * (1 + 1e-9) + 1e-12
    team_vec = unit_vectors(tm.lat, tm.lon)
    tick_vec = unit_vectors(tk.lat, tk.lon)
    for a, b in zip(starts, ends):
        rows = order[a:b]
        teams = _group_teams(tk, tm, criteria, rows[0], eligible)
        if teams.size == 0:
            continue
        kk = teams.size if k is None else min(k, teams.size)
        q = min(kk + 1, teams.size)
        tree = cKDTree(team_vec[teams])
        dist, idx = tree.query(tick_vec[rows], k=q, distance_upper_bound=chord_max)
        dist = dist.reshape(len(rows), q)
        idx = idx.reshape(len(rows), q)
        if q > kk:  # the (k+1)-th nearest feasible team bounds every pruned edge
            c = dist[:, kk]
            bound[rows] = np.where(np.isfinite(c), 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, c / 2)), np.inf)
        valid = idx[:, :kk] < teams.size
        r, cidx = np.nonzero(valid)
        out_i.append(rows[r])
        out_j.append(teams[idx[:, :kk][r, cidx]])
        if k is not None and reverse_k and rows.size > kk:
            # reverse neighbours: each team also sees its nearest tickets of the group, so spare capacity a
            # little further away is in the graph from the start (fewer certificate rounds)
            rq = min(reverse_k, rows.size)
            rtree = cKDTree(tick_vec[rows])
            _, ridx = rtree.query(team_vec[teams], k=rq, distance_upper_bound=chord_max)
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
        uniq_pairs = np.unique(ti * len(tm) + tj)
        ti, tj = uniq_pairs // len(tm), uniq_pairs % len(tm)
    d = pair_distance_km(tk, tm, ti, tj)
    keep = d <= max_km
    return ti[keep], tj[keep], d[keep], bound


def _match_slots(n: int, m: int, ti: np.ndarray, tj: np.ndarray, w: np.ndarray, free: np.ndarray,
                 drop: np.ndarray) -> np.ndarray:
    """Min-cost matching on the slot graph: returns the team index per ticket (-1 = unassigned).

    Rows are capacity slots (a team with k usable slots gives k rows with identical edges), columns are the
    tickets plus one "stays empty" column per slot. A slot-ticket edge costs c_ij - drop_i (what assigning
    saves over leaving the ticket unassigned), an empty slot costs 0, so the minimum full matching of the
    rows minimises sum(assigned c_ij) + sum(unassigned drop_i) - sum(all drop_i): the same optimum as the
    ticket-side formulation, with fewer rows (slots <= tickets whenever capacity is short) and faster."""
    team_of = np.full(n, -1, dtype=np.int64)
    if n == 0 or ti.size == 0:
        return team_of
    deg = np.bincount(tj, minlength=m)
    slots = np.minimum(free, deg).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(slots)[:-1]))
    n_slots = int(slots.sum())
    if n_slots == 0:
        return team_of
    rep = slots[tj]
    srow = np.repeat(offsets[tj], rep) + (np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep))
    tcol = np.repeat(ti, rep)
    weights = np.repeat(w - drop[ti], rep)
    slot_team = np.repeat(np.arange(m), slots)
    all_rows = np.concatenate((srow, np.arange(n_slots)))
    all_cols = np.concatenate((tcol, n + np.arange(n_slots)))
    all_w = np.concatenate((weights, np.zeros(n_slots)))
    all_w = all_w - all_w.min() + 1.0  # strictly positive: explicit zeros are not edges; same optimum
    g = csr_matrix((all_w, (all_rows, all_cols)), shape=(n_slots, n + n_slots))
    r, c = min_weight_full_bipartite_matching(g)
    hit = c < n
    team_of[c[hit]] = slot_team[r[hit]]
    return team_of


def _components(n: int, m: int, ti: np.ndarray, tj: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the bipartite candidate graph: labels for tickets and for teams."""
    g = coo_matrix((np.ones(ti.size), (ti, n + tj)), shape=(n + m, n + m))
    k, lab = connected_components(g, directed=False)
    return k, lab[:n], lab[n:]


def _solve_pairs(n: int, m: int, ti: np.ndarray, tj: np.ndarray, cost: np.ndarray, free: np.ndarray,
                 drop: np.ndarray) -> np.ndarray:
    """Exact min-cost assignment restricted to the given pairs, component by component."""
    team_of = np.full(n, -1, dtype=np.int64)
    if ti.size == 0:
        return team_of
    k, lab_t, lab_m = _components(n, m, ti, tj)
    if k <= 1 or ti.size < 2000:
        return _match_slots(n, m, ti, tj, cost, free, drop)
    edge_lab = lab_t[ti]
    e_order = np.argsort(edge_lab, kind="stable")
    e_bounds = np.searchsorted(edge_lab[e_order], np.arange(k + 1))
    t_order = np.argsort(lab_t, kind="stable")
    t_bounds = np.searchsorted(lab_t[t_order], np.arange(k + 1))
    m_order = np.argsort(lab_m, kind="stable")
    m_bounds = np.searchsorted(lab_m[m_order], np.arange(k + 1))
    for c in range(k):
        es = e_order[e_bounds[c]:e_bounds[c + 1]]
        if es.size == 0:
            continue
        rows = t_order[t_bounds[c]:t_bounds[c + 1]]
        cols = m_order[m_bounds[c]:m_bounds[c + 1]]
        rmap = np.full(n, -1, dtype=np.int64)
        rmap[rows] = np.arange(rows.size)
        cmap = np.full(m, -1, dtype=np.int64)
        cmap[cols] = np.arange(cols.size)
        sub = _match_slots(rows.size, cols.size, rmap[ti[es]], cmap[tj[es]], cost[es], free[cols], drop[rows])
        hit = sub >= 0
        team_of[rows[hit]] = cols[sub[hit]]
    return team_of


def potentials(n: int, m: int, ti: np.ndarray, tj: np.ndarray, cost: np.ndarray, team_of: np.ndarray,
               free: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Feasible node potentials of the solution's residual graph, or None if it has a negative cycle.

    Tickets are contracted: a ticket held by team a gives arcs a -> j' (cost c_ij' - c_ia) for its other
    candidates and a -> D (drop_i - c_ia); an unassigned ticket gives D -> j' (c_ij' - drop_i). Teams with
    slack have j -> T (0), teams in use T -> j (0); D -> T (0) and T -> D (0) when something is unassigned.
    Returns (p over m teams + D + T, tau per ticket) with tau_i = c_i,a(i) - p_a(i) (or drop_i - p_D):
    a pruned edge (i, j) is harmless iff c_ij - p_j >= tau_i."""
    D, T = m, m + 1
    N = m + 2
    c_assigned = np.zeros(n)
    assigned = team_of >= 0
    is_own = team_of[ti] == tj
    c_assigned[ti[is_own]] = cost[is_own]
    src = np.where(assigned[ti], team_of[ti], D)
    base = np.where(assigned[ti], c_assigned[ti], drop[ti])
    w_edges = cost - base
    keep = ~is_own
    W = np.full(N * N, np.inf)
    np.minimum.at(W, src[keep] * N + tj[keep], w_edges[keep])
    ai = np.flatnonzero(assigned)
    np.minimum.at(W, team_of[ai] * N + D, drop[ai] - c_assigned[ai])
    used = np.bincount(team_of[ai], minlength=m)
    W = W.reshape(N, N)
    slack = np.flatnonzero(used < free)
    W[slack, T] = np.minimum(W[slack, T], 0.0)
    inuse = np.flatnonzero(used > 0)
    W[T, inuse] = np.minimum(W[T, inuse], 0.0)
    W[D, T] = min(W[D, T], 0.0)
    if (~assigned).any():
        W[T, D] = min(W[T, D], 0.0)
    # restrict Bellman-Ford to nodes that have arcs
    active = np.flatnonzero(np.isfinite(W).any(axis=0) | np.isfinite(W).any(axis=1))
    Wa = W[np.ix_(active, active)]
    p = np.zeros(active.size)
    for _ in range(active.size + 1):
        new = np.minimum(p, (p[:, None] + Wa).min(axis=0))
        if np.all(new >= p - 1e-9):
            break
        p = new
    else:
        return None
    full = np.zeros(N)
    full[active] = p
    tau = np.where(assigned, c_assigned - full[np.maximum(team_of, 0)], drop - full[D])
    return full, tau


def solve_sparse(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *, k: int = DEFAULT_K,
                 certify: bool = True, reverse_k: int = DEFAULT_REVERSE_K, model: CostModel | None = None, free: np.ndarray | None = None,
                 forced_pairs: tuple[np.ndarray, np.ndarray] | None = None, max_rounds: int = 6) -> Solution:
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
        key = np.unique(ti * m + tj, return_index=True)[1]
        ti, tj, d = ti[key], tj[key], d[key]
    cost = model.total(ti, tj, d)
    stats: dict[str, float] = {"candidates": float(ti.size), "rounds": 0.0, "certified": 0.0, "violations": 0.0}
    rounds = 0
    while True:
        rounds += 1
        team_of = _solve_pairs(n, m, ti, tj, cost, free, model.drop)
        if not certify:
            break
        pot = potentials(n, m, ti, tj, cost, team_of, free, model.drop)
        if pot is None:  # cannot happen for an optimal matching; be loud in tests, safe in production
            stats["certified"] = -1.0
            break
        p, tau = pot
        p_team = p[:m]
        # cheap bound: any pruned edge costs >= bound_i + min perf, and -p_j >= -max p
        lb = bound + model.min_pair_cost_offset - p_team[eligible].max(initial=0.0)
        suspect = np.flatnonzero(lb < tau - 1e-7)
        add_i, add_j = _violations(tk, tm, criteria, model, suspect, eligible, max_km, p_team, tau, ti, tj)
        stats["checked_rows"] = stats.get("checked_rows", 0.0) + suspect.size
        if add_i.size == 0:
            stats["certified"] = 1.0
            break
        stats["violations"] += add_i.size
        if rounds >= max_rounds:
            break
        add_d = pair_distance_km(tk, tm, add_i, add_j)
        ti, tj, d = np.concatenate((ti, add_i)), np.concatenate((tj, add_j)), np.concatenate((d, add_d))
        cost = np.concatenate((cost, model.total(add_i, add_j, add_d)))
    stats["rounds"] = float(rounds)
    stats["seconds"] = time.perf_counter() - t0
    return _finish(tk, tm, model, team_of, stats)


def _violations(tk, tm, criteria, model, suspect, eligible, max_km, p_team, tau, ti, tj):
    """Feasible edges of the suspect tickets, not yet in the graph, with negative reduced cost."""
    if suspect.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    present = set((ti[np.isin(ti, suspect)] * len(tm) + tj[np.isin(ti, suspect)]).tolist())
    out_i, out_j = [], []
    teams_all = np.flatnonzero(eligible)
    for start in range(0, suspect.size, 256):
        rows = suspect[start:start + 256]
        D = haversine_matrix(tk.lat[rows], tk.lon[rows], tm.lat[teams_all], tm.lon[teams_all])
        rr, cc = np.nonzero(D <= max_km)
        gi, gj = rows[rr], teams_all[cc]
        ok = np.ones(gi.size, dtype=bool)
        if criteria.respect_skills:
            s = tk.skill[gi]
            ok &= (s < 0) | tm.skills[gj, np.maximum(s, 0)]
        if criteria.same_zone_only:
            ok &= tk.zone[gi] == tm.zone[gj]
        gi, gj, gd = gi[ok], gj[ok], D[rr, cc][ok]
        red = model.total(gi, gj, gd) - p_team[gj] - tau[gi]
        bad = red < -1e-7
        for a, b in zip(gi[bad].tolist(), gj[bad].tolist()):
            if a * len(tm) + b not in present:
                out_i.append(a)
                out_j.append(b)
    return np.array(out_i, dtype=np.int64), np.array(out_j, dtype=np.int64)


def _finish(tk: TicketArrays, tm: TeamArrays, model: CostModel, team_of: np.ndarray, stats: dict) -> Solution:
    n = len(tk)
    a = np.flatnonzero(team_of >= 0)
    dist = np.full(n, np.nan)
    dist[a] = pair_distance_km(tk, tm, a, team_of[a])
    cost = float(model.total(a, team_of[a], dist[a]).sum() + model.drop[team_of < 0].sum())
    return Solution(team_of, dist, cost, model, stats)


def solve_exact_sparse(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *,
                       model: CostModel | None = None, free: np.ndarray | None = None) -> Solution:
    """Exact solve on the *unpruned* feasible graph (every feasible pair within the max distance)."""
    t0 = time.perf_counter()
    free = tm.free if free is None else free
    model = model or CostModel.build(tk, tm, free=free)
    ti, tj, d, _ = candidate_pairs(tk, tm, criteria, None, free > 0, max_km_of(criteria))
    team_of = _solve_pairs(len(tk), len(tm), ti, tj, model.total(ti, tj, d), free, model.drop)
    return _finish(tk, tm, model, team_of, {"candidates": float(ti.size), "seconds": time.perf_counter() - t0})


def solve_exact_dense(tk: TicketArrays, tm: TeamArrays, criteria: Criteria = Criteria(), *,
                      model: CostModel | None = None, free: np.ndarray | None = None) -> Solution:
    """Reference exact solve: dense slot matrix over every feasible pair, `linear_sum_assignment`."""
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
    from .model import Decision, Plan, team_arrays, ticket_arrays
    from .nearest import unassigned_reason

    t0 = time.perf_counter()
    tk, tm = ticket_arrays(tickets, now), team_arrays(teams)
    sol = solve_sparse(tk, tm, criteria, k=k, certify=certify)
    return plan_from_solution(tickets, teams, tk, tm, sol, criteria, "optimal", time.perf_counter() - t0)


def plan_from_solution(tickets, teams, tk, tm, sol: Solution, criteria: Criteria, strategy: str, seconds: float):
    from .model import Decision, Plan
    from .nearest import unassigned_reason

    a = np.flatnonzero(sol.team_of >= 0)
    parts = sol.model.pair_costs(a, sol.team_of[a], sol.distance[a])
    pos = {int(i): k for k, i in enumerate(a)}
    max_km = max_km_of(criteria)
    n = len(tickets)
    decisions = []
    for i, t in enumerate(tickets):
        j = int(sol.team_of[i])
        if j < 0:
            decisions.append(Decision(t.ticket_id, None, strategy, None, None,
                                      {"unassigned_penalty": float(sol.model.drop[i])},
                                      unassigned_reason(tk, tm, i, criteria, max_km)))
            continue
        k = pos[i]
        bd = {key: float(v[k]) for key, v in parts.items()}
        reason = (f"min-cost batch of {n}: cost {bd['total']:.1f} km-eq = travel {bd['travel']:.1f} km"
                  f" + cross-zone {bd['cross_zone']:.0f} + SLA {bd['sla']:.1f} + performance {bd['performance']:.1f}")
        decisions.append(Decision(t.ticket_id, int(teams[j].team_id), strategy, float(sol.distance[i]),
                                  bd["total"], bd, reason))
    return Plan(tuple(decisions), strategy, seconds, dict(sol.stats, cost=sol.cost))
