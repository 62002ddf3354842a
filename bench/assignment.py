"""Assignment benchmark: greedy vs nearest vs optimal (pruned + certified) vs exact, on seeded synthetic
Malaysian scenarios (1,000 pending x 150 teams; 10,000 x 1,500).

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
from aiff.assignment.optimal import _finish, solve_exact_dense, solve_exact_sparse, solve_sparse
from aiff.assignment.synthetic import make_scenario
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


def run_scenario(n: int, m: int, seed: int, runs: int, big: bool) -> bool:
    log(f"== scenario {n} pending tickets x {m} teams (seed {seed}) ==")
    sc = make_scenario(n, m, seed=seed)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    log(f"   free capacity {int(tm.free.sum())} slots for {n} tickets")
    rows = {}
    crit = Criteria()
    log("   greedy ...")
    g, tg = timed(lambda: greedy_indices(tk, tm, crit)[0], runs)
    log("   nearest ...")
    nr, tn = timed(lambda: nearest_indices(tk, tm, crit)[0], runs)
    log("   optimal (pruned K nearest, one exact solve, no certificate) ...")
    o1, to1 = timed(lambda: solve_sparse(tk, tm, crit, certify=False), runs)
    log("   optimal (pruned + certificate, re-solve until certified) ...")
    o, to = timed(lambda: solve_sparse(tk, tm, crit, certify=True), runs)
    if not big:
        log("   exact (dense linear_sum_assignment) ...")
        e, te = timed(lambda: solve_exact_dense(tk, tm, crit), max(1, runs // 2))
        exact_name = "exact (dense)"
    else:
        log("   exact (unpruned sparse graph, LAPJVsp) — slow ...")
        e, te = timed(lambda: solve_exact_sparse(tk, tm, crit), 1)
        exact_name = "exact (unpruned)"
    model = o.model
    rows["greedy"] = (evaluate(tk, tm, g, model), tg)
    rows["nearest"] = (evaluate(tk, tm, nr, model), tn)
    rows["optimal (no cert)"] = (evaluate(tk, tm, o1.team_of, model), to1)
    rows["optimal (certified)"] = (evaluate(tk, tm, o.team_of, model), to)
    rows[exact_name] = (evaluate(tk, tm, e.team_of, model), te)
    best = rows[exact_name][0]["cost"]
    hdr = f"{'strategy':<21}{'assigned':>9}{'travel km':>12}{'mean km':>9}{'SLA breaches c/h/m/l':>22}{'cap viol':>9}{'cost':>13}{'gap %':>8}{'ms':>10}"
    print(f"\n{n} x {m}  (seed {seed}; median of {runs} runs; exact {1 if big else max(1, runs // 2)} run(s))")
    print(hdr)
    for name, (r, t) in rows.items():
        b = r["breaches"]
        br = f"{b['critical']}/{b['high']}/{b['medium']}/{b['low']} ={sum(b.values())}"
        gap = 100 * (r["cost"] - best) / best
        print(f"{name:<21}{r['assigned']:>9}{r['km']:>12,.0f}{r['mean']:>9.1f}{br:>22}{r['cap']:>9}{r['cost']:>13,.0f}{gap:>8.3f}{1000 * t:>10.1f}")
    opt = rows["optimal (certified)"][0]
    red_g = 1 - opt["km"] / rows["greedy"][0]["km"]
    red_n = 1 - opt["km"] / rows["nearest"][0]["km"]
    red_gm = 1 - opt["mean"] / rows["greedy"][0]["mean"]
    red_nm = 1 - opt["mean"] / rows["nearest"][0]["mean"]
    gap = (opt["cost"] - best) / best
    limit = 2.0 if big else 0.05
    sb = lambda r: sum(r["breaches"].values())
    checks = [
        (f"optimal certified time {1000 * to:.0f} ms < {1000 * limit:.0f} ms", to < limit),
        (f"optimal uncertified time {1000 * to1:.0f} ms < {1000 * limit:.0f} ms", to1 < limit),
        (f"total travel vs greedy  -{100 * red_g:.1f}% (mean/ticket -{100 * red_gm:.1f}%) >= 70%", red_g >= 0.70),
        (f"total travel vs nearest -{100 * red_n:.1f}% (mean/ticket -{100 * red_nm:.1f}%) >= 5%", red_n >= 0.05),
        (f"SLA breaches {sb(opt)} <= greedy {sb(rows['greedy'][0])} and nearest {sb(rows['nearest'][0])}",
         sb(opt) <= min(sb(rows["greedy"][0]), sb(rows["nearest"][0]))),
        (f"capacity violations {opt['cap']} == 0", opt["cap"] == 0),
        (f"cost gap to exact {100 * gap:.4f}% <= 0.5%", gap <= 0.005),
        (f"certificate {'proved' if o.stats.get('certified') == 1 else 'NOT proved'} optimality on the unpruned problem "
         f"(rounds {o.stats.get('rounds', 0):.0f}, edges added {o.stats.get('violations', 0):.0f})", o.stats.get("certified") == 1),
    ]
    ok = True
    for text, passed in checks:
        ok &= passed
        print(f"  [{'PASS' if passed else 'FAIL'}] {text}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the 1,000 x 150 scenario")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    ok = run_scenario(1000, 150, args.seed, args.runs, big=False)
    if not args.quick:
        ok &= run_scenario(10000, 1500, args.seed, max(1, min(args.runs, 2)), big=True)
    print("\nOVERALL:", "PASS" if ok else "FAIL (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
