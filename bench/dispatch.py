"""Dispatch strategies in the discrete-event simulation, and the route planner's re-plan times at scale.

    bench/dispatch.py [--days 5 --teams 40 --tickets-per-day 100 --seed 7]
        every strategy on the same simulated days; prints the KPI table, ratios vs `nearest`, PASS/FAIL
    bench/dispatch.py --through-kafka [--strategy nearest --strategy routes ...]
        the same, plus a column `routes (through Kafka)`: the days driven through real Kafka, the projector and
        the live assignment engine on the simulated clock (aiff.simulation.through_kafka; the stack must be up)
    bench/dispatch.py --replan-scale [--incremental-seconds 0.2 --full-budget 45]
        incremental re-plan p50/p99 at 1,000 open visits x 150 teams (target p99 < 1 s) and a full plan of
        10,000 visits x 1,500 teams (target <= 60 s), both through aiff.planning.decompose
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import numpy as np

from aiff.planning import Costs, LunchBreak, Point, Team, Visit
from aiff.planning.costs import CHURN_COST
from aiff.planning.decompose import Decomposed
from aiff.simulation import arrivals
from aiff.simulation.engine import SimConfig
from aiff.simulation.runner import report
from aiff.simulation.world import DAY, HOUR, LUNCH, MAX_OVERTIME, SHIFT_END, SHIFT_START, at, demo_teams, working_days


def _world(seed: int, n_teams: int, n_visits: int) -> tuple[list[Team], list[Visit], list[Visit]]:
    """Demo teams at their bases at 08:00 on a Monday; `n_visits` open visits plus spare arrivals."""
    day = 0
    teams = [Team(id=str(i), skills=s, shift_start=at(SHIFT_START), shift_end=at(SHIFT_END), start=Point(la, lo),
                  end=Point(la, lo), lunch=LunchBreak(at(12 * HOUR), at(14 * HOUR), timedelta(seconds=LUNCH)),
                  max_overtime=timedelta(seconds=MAX_OVERTIME))
             for i, _, la, lo, s, _ in demo_teams(seed, n_teams)]
    per_day = n_visits + 200
    tickets = arrivals.generate(seed, working_days(1), per_day)
    visits = [Visit(ticket_id=t.id, position=Point(t.lat, t.lon), skill=t.skill, service=timedelta(seconds=t.median),
                    priority=t.priority, due=at(max(t.due, day * DAY + SHIFT_START + 4 * HOUR))) for t in tickets]
    return teams, visits[:n_visits], visits[n_visits:n_visits + 100]


def replan_scale(seed: int, incremental_seconds: float, full_budget: float, events: int) -> None:
    now = at(SHIFT_START)
    teams, visits, spare = _world(seed, 150, 1000)
    d = Decomposed(teams, max_teams=10, seconds=incremental_seconds, seed=seed, costs=Costs(churn_cost=CHURN_COST))
    d.add(visits)
    t0 = time.perf_counter()
    d.plan_all(now)
    initial = time.perf_counter() - t0
    times = []
    for v in spare[:events]:
        t0 = time.perf_counter()
        d.replan(d.add([v]), now)
        times.append(time.perf_counter() - t0)
    p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
    served = sum(len(tp.visits) for tp in d.merged().teams.values())
    print(f"incremental re-plan, 1,000 open visits x 150 teams ({len(d.clusters)} clusters of <= 10 teams, "
          f"{incremental_seconds:.2f} s search per touched cluster): {events} arrivals, p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; initial plan {initial:.1f} s, {served} visits planned")
    print(f"{'PASS' if p99 < 1.0 else 'FAIL'}  incremental re-plan p99 < 1 s: {p99:.3f} s")

    teams, visits, _ = _world(seed, 1500, 10000)
    d = Decomposed(teams, max_teams=10, seed=seed)
    t0 = time.perf_counter()
    d.add(visits)
    each = full_budget / len(d.clusters)
    d.plan_all(now, seconds=each)
    total = time.perf_counter() - t0
    merged = d.merged()
    served = sum(len(tp.visits) for tp in merged.teams.values())
    drive = sum(tp.travel_minutes for tp in merged.teams.values()) / 60
    print(f"full plan, 10,000 visits x 1,500 teams ({len(d.clusters)} clusters, {each:.2f} s search each): {total:.1f} s wall, "
          f"{served} visits planned, {len(merged.unserved) + len(d.unplaceable)} left out, {drive / max(served, 1):.2f} drive h per planned visit")
    print(f"{'PASS' if total <= 60 else 'FAIL'}  full plan <= 60 s: {total:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=SimConfig.days)
    ap.add_argument("--teams", type=int, default=SimConfig.teams)
    ap.add_argument("--tickets-per-day", type=int, default=SimConfig.tickets_per_day)
    ap.add_argument("--seed", type=int, default=SimConfig.seed)
    ap.add_argument("--tick-minutes", type=int, default=SimConfig.tick_minutes)
    ap.add_argument("--plan-iterations", type=int, default=SimConfig.plan_iterations)
    ap.add_argument("--horizon-days", type=int, default=SimConfig.horizon_days, help="routes: working days planned ahead")
    ap.add_argument("--strategy", action="append", help="strategy to run (repeatable; default all)")
    ap.add_argument("--through-kafka", action="store_true", help="also run the live engine through real Kafka (routes)")
    ap.add_argument("--replan-scale", action="store_true")
    ap.add_argument("--incremental-seconds", type=float, default=0.2)
    ap.add_argument("--full-budget", type=float, default=45.0, help="total search seconds over all clusters")
    ap.add_argument("--events", type=int, default=50)
    args = ap.parse_args()
    if args.replan_scale:
        replan_scale(args.seed, args.incremental_seconds, args.full_budget, args.events)
        return
    config = SimConfig(days=args.days, teams=args.teams, tickets_per_day=args.tickets_per_day, seed=args.seed,
                       tick_minutes=args.tick_minutes, plan_iterations=args.plan_iterations,
                       horizon_days=args.horizon_days)
    from aiff.simulation.policies import STRATEGIES

    print(report(config, tuple(args.strategy or STRATEGIES), through_kafka=args.through_kafka))


if __name__ == "__main__":
    main()
