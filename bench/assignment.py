"""Assignment benchmark: greedy vs nearest vs optimal (pruned min-cost flow + certificate) vs exact, on seeded
synthetic Malaysian scenarios.

- comparable (headline for quality): free capacity ~1.3x the pending tickets (150 teams, capacity 3-8, 20-40%
  in use -> ~430 pending; and 1,500 teams -> ~4,200), so every strategy can place (nearly) every ticket and
  travel is comparable. Quality PASS/FAIL is judged here.
- capacity-short (the target sizes): 1,000 pending x 150 teams and 10,000 x 1,500 with ~0.6 free slot per
  ticket (strategies assign different numbers of tickets, so travel is not comparable; shown for speed,
  exactness, capacity and SLA). Speed PASS/FAIL is judged on both kinds.

Exact reference: dense `linear_sum_assignment` on float costs (small), the unpruned min-cost flow (big).

    .venv/bin/python bench/assignment.py [--quick] [--runs N]

Static SLA breach: a critical/high ticket left unassigned, or any ticket assigned to a team whose travel
time (haversine km at 60 km/h) exceeds the time left to its due date.
Cost: the `aiff.assignment.cost` model (assigned costs + drop penalties of unassigned tickets).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from aiff.assignment.greedy import greedy_indices
from aiff.assignment.model import Criteria, TRAVEL_SPEED_KMH, team_arrays, ticket_arrays
from aiff.assignment.nearest import nearest_indices
from aiff.assignment.optimal import _finish, optimal, solve_exact_dense, solve_exact_sparse, solve_sparse
from aiff.assignment.synthetic import make_comparable_scenario, make_scenario
from aiff.events.vocabulary import PRIORITIES


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def evaluate(tk, tm, team_of, model):
    n = len(tk)
    sol = _finish(tk, tm, model, np.asarray(team_of), {})
    a = team_of >= 0
    load = np.bincount(team_of[a], minlength=len(tm))
    cap_viol = int(np.maximum(load - tm.free, 0).sum()) + int((load[~tm.working] > 0).sum())
    late = a & (sol.distance / TRAVEL_SPEED_KMH > tk.remaining_h)
    breach = (~a & (tk.prio >= 2)) | late
    by_p = {p: int((breach & (tk.prio == k)).sum()) for k, p in enumerate(PRIORITIES)}
    return dict(assigned=int(a.sum()), km=float(np.nansum(sol.distance)), mean=float(np.nanmean(sol.distance)) if a.any() else 0.0,
                breaches=by_p, cap=cap_viol, cost=sol.cost)


def run_scenario(kind: str, size: int, seed: int, runs: int, big: bool) -> bool:
    sc = make_comparable_scenario(size, seed=seed) if kind == "comparable" else make_scenario(size * 20 // 3, size, seed=seed)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    n, m = len(tk), len(tm)
    log(f"== {kind}: {n} pending tickets x {m} teams (seed {seed}), free capacity {int(tm.free.sum())} slots ==")
    rows = {}
    crit = Criteria()
    log("   greedy ...")
    g, tg = timed(lambda: greedy_indices(tk, tm, crit)[0], runs)
    log("   nearest ...")
    nr, tn = timed(lambda: nearest_indices(tk, tm, crit)[0], runs)
    log("   optimal (pruned K nearest, one min-cost flow, no certificate) ...")
    o1, to1 = timed(lambda: solve_sparse(tk, tm, crit, certify=False), runs)
    log("   optimal (pruned + certificate, re-solve until certified) ...")
    o, to = timed(lambda: solve_sparse(tk, tm, crit, certify=True), runs)
    plan_t = None
    if not big:
        log("   optimal strategy call incl. arrays + Plan/decisions ...")
        _, plan_t = timed(lambda: optimal(sc.tickets, sc.teams, crit, sc.now), runs)
        log("   exact (dense linear_sum_assignment, float costs) ...")
        e, te = timed(lambda: solve_exact_dense(tk, tm, crit), max(1, runs // 2))
        exact_name, exact_runs = "exact (dense LSA)", max(1, runs // 2)
    else:
        log("   exact (unpruned min-cost flow) ...")
        e, te = timed(lambda: solve_exact_sparse(tk, tm, crit), 1)
        exact_name, exact_runs = "exact (unpruned MCF)", 1
    model = o.model
    rows["greedy"] = (evaluate(tk, tm, g, model), tg)
    rows["nearest"] = (evaluate(tk, tm, nr, model), tn)
    rows["optimal (no cert)"] = (evaluate(tk, tm, o1.team_of, model), to1)
    rows["optimal (certified)"] = (evaluate(tk, tm, o.team_of, model), to)
    rows[exact_name] = (evaluate(tk, tm, e.team_of, model), te)
    best = rows[exact_name][0]["cost"]
    hdr = f"{'strategy':<21}{'assigned':>9}{'travel km':>12}{'mean km':>9}{'SLA breaches c/h/m/l':>22}{'cap viol':>9}{'cost':>15}{'gap %':>10}{'ms':>10}"
    print(f"\n{kind}: {n} x {m}  (seed {seed}; free slots {int(tm.free.sum())}; median of {runs} runs; exact {exact_runs} run(s))")
    print(hdr)
    for name, (r, t) in rows.items():
        b = r["breaches"]
        br = f"{b['critical']}/{b['high']}/{b['medium']}/{b['low']} ={sum(b.values())}"
        gap = 100 * (r["cost"] - best) / best
        print(f"{name:<21}{r['assigned']:>9}{r['km']:>12,.0f}{r['mean']:>9.1f}{br:>22}{r['cap']:>9}{r['cost']:>15,.0f}{gap:>10.4f}{1000 * t:>10.1f}")
    st = o.stats
    print(f"  optimal: {st['candidates']:.0f} candidate arcs, {st['rounds']:.0f} flow solve(s), {st['violations']:.0f} arcs added by the"
          f" certificate, last run: candidates {1000 * st['candidates_seconds']:.1f} ms, flows {1000 * st['flow_seconds']:.1f} ms,"
          f" certificate {1000 * st['certificate_seconds']:.1f} ms" + (f"; full strategy call {1000 * plan_t:.1f} ms" if plan_t else ""))
    opt = rows["optimal (certified)"][0]
    gr, ne = rows["greedy"][0], rows["nearest"][0]
    red = lambda a, b: 1 - a / b if b else 0.0
    gap = (opt["cost"] - best) / best
    limit = 2.0 if big else 0.05
    sb = lambda r: sum(r["breaches"].values())
    checks = [
        (f"optimal certified time {1000 * to:.0f} ms < {1000 * limit:.0f} ms", to < limit),
        (f"capacity violations {opt['cap']} == 0", opt["cap"] == 0),
        (f"cost gap to exact {100 * gap:.5f}% <= 0.5%", gap <= 0.005),
        (f"certificate {'proved' if st.get('certified') == 1 else 'NOT proved'} optimality on the unpruned problem", st.get("certified") == 1),
        (f"SLA breaches {sb(opt)} <= greedy {sb(gr)} and nearest {sb(ne)}", sb(opt) <= min(sb(gr), sb(ne))),
    ]
    if kind == "comparable":
        checks += [
            (f"total travel vs nearest -{100 * red(opt['km'], ne['km']):.1f}% ({opt['assigned']} vs {ne['assigned']} assigned) >= 5%",
             red(opt["km"], ne["km"]) >= 0.05),
            (f"mean km/ticket vs nearest -{100 * red(opt['mean'], ne['mean']):.1f}% >= 5%", red(opt["mean"], ne["mean"]) >= 0.05),
            (f"total travel vs greedy -{100 * red(opt['km'], gr['km']):.1f}% ({opt['assigned']} vs {gr['assigned']} assigned) >= 70%",
             red(opt["km"], gr["km"]) >= 0.70),
            (f"mean km/ticket vs greedy -{100 * red(opt['mean'], gr['mean']):.1f}% >= 70%", red(opt["mean"], gr["mean"]) >= 0.70),
        ]
    ok = True
    for text, passed in checks:
        ok &= passed
        print(f"  [{'PASS' if passed else 'FAIL'}] {text}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 150-team scenarios")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    ok = run_scenario("comparable", 150, args.seed, args.runs, big=False)
    ok &= run_scenario("capacity-short", 150, args.seed, args.runs, big=False)
    if not args.quick:
        ok &= run_scenario("comparable", 1500, args.seed, args.runs, big=True)
        ok &= run_scenario("capacity-short", 1500, args.seed, args.runs, big=True)
    print("\nOVERALL:", "PASS" if ok else "FAIL (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
