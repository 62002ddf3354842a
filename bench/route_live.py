"""The routes strategy's zone re-plan as the assignment consumer runs it (no stack needed): time per re-plan and
churn (assigned visits moved to another team) with and without the churn threshold.

    bench/route_live.py [--teams 10 --tickets 60 --arrivals 20 --seconds 0.3 --seed 3 --thresholds 0 10 60 --horizon 3]
    bench/route_live.py --full [--zones 15]
        the scheduled full re-plan's cost: every zone planned in turn (cold), total wall time

A zone of `--teams` teams around Shah Alam with `--tickets` open tickets is planned once; then `--arrivals`
tickets arrive one by one and each arrival re-plans the zone warm-started from the previous plan, with every
planned ticket counted as assigned to its team (what the read models would hold). Prints p50/p99 of the re-plan
wall time (conversion + solves + explanations + events) and the moves per re-plan, per churn threshold.
`--horizon` is AIFF_ASSIGNMENT_HORIZON_DAYS (1 = today only, the consumer before the horizon).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta

from aiff.dispatch.inputs import MALAYSIA
from aiff.dispatch.publish import Holding, changes
from aiff.dispatch.replan import replan_zone
from aiff.planning import HaversineTravel

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=MALAYSIA)  # a Tuesday morning
SKILLS = ["fiber", "copper", "wireless", "power", "installation", "equipment"]


def _team(i: int, rng: random.Random) -> dict:
    return {"id": i, "zone": "Selangor", "latitude": 3.07 + rng.uniform(-0.25, 0.25), "longitude": 101.52 + rng.uniform(-0.25, 0.25),
            "skills": rng.sample(SKILLS, 3), "capacity": 8, "status": "available", "is_active": True, "shift_start": "08:00",
            "shift_end": "17:00", "working_days": ["mon", "tue", "wed", "thu", "fri", "sat"], "lunch_earliest": "12:00",
            "lunch_latest": "14:00", "lunch_minutes": 45, "max_overtime_minutes": 60, "position_lat": None, "position_lon": None,
            "reported_at": None}  # fmt: skip


def _ticket(i: int, rng: random.Random) -> dict:
    return {"id": i, "zone": "Selangor", "latitude": 3.07 + rng.uniform(-0.3, 0.3), "longitude": 101.52 + rng.uniform(-0.3, 0.3),
            "priority": rng.choice(["low", "medium", "medium", "high", "critical"]), "skill": rng.choice(SKILLS),
            "due_date": NOW + timedelta(hours=rng.choice([4, 8, 24])), "window_start": None, "window_end": None,
            "service_minutes": None, "status": "open", "started_at": None, "assigned_team": None, "pinned": False,
            "pinned_team": None, "pinned_sequence": None}  # fmt: skip


def run(args: argparse.Namespace, threshold: float) -> tuple[list[float], list[int]]:
    rng = random.Random(args.seed)
    travel = HaversineTravel()
    teams = [_team(i, rng) for i in range(1, args.teams + 1)]
    tickets = [_ticket(i, rng) for i in range(1, args.tickets + 1)]
    previous, times, moves = None, [], []
    for k in range(args.arrivals + 1):
        if k:
            tickets.append(_ticket(args.tickets + k, rng))
        held = {t["id"]: t["assigned_team"] for t in tickets if t["assigned_team"] is not None}
        current = {str(t): str(team) for t, team in held.items()}
        started = time.perf_counter()
        result = replan_zone(teams, tickets, previous, NOW, freeze=timedelta(minutes=30), churn_threshold_minutes=threshold,
                             seconds=args.seconds, travel=travel, current=current, horizon_days=args.horizon)  # fmt: skip
        out = changes(result, stored={}, holding={t: Holding(team, "assigned") for t, team in held.items()}, cleared={},
                      travel=travel, cause="bench")  # fmt: skip
        elapsed = time.perf_counter() - started
        if k:
            times.append(elapsed)
            moves.append(sum(1 for a in out.assigned if a["replaces_team_id"] is not None))
        team_of = {int(v.ticket_id): int(tp.team_id) for tp in result.plan.teams.values() for v in tp.visits}
        for t in tickets:
            t["assigned_team"] = team_of.get(t["id"])
            t["status"] = "assigned" if t["assigned_team"] is not None else "open"
        previous = result.plan
    return times, moves


def full(args: argparse.Namespace) -> None:
    """Every zone planned in turn from scratch, as the scheduled full re-plan does (with the consumer's time rule)."""
    from aiff.dispatch.routes import SECONDS_BASE, SECONDS_PER_VISIT

    rng = random.Random(args.seed)
    travel = HaversineTravel()
    per_zone, total_visits, later_visits = [], 0, 0
    for z in range(args.zones):
        teams = [_team(z * 1000 + i, rng) for i in range(1, args.teams + 1)]
        tickets = [_ticket(z * 1000 + i, rng) for i in range(1, args.tickets + 1)]
        seconds = min(args.seconds, SECONDS_BASE + SECONDS_PER_VISIT * len(tickets))
        started = time.perf_counter()
        result = replan_zone(teams, tickets, None, NOW, freeze=timedelta(minutes=30), churn_threshold_minutes=10,
                             seconds=seconds, travel=travel, current={}, horizon_days=args.horizon)  # fmt: skip
        changes(result, stored={}, holding={}, cleared={}, travel=travel, cause="bench")
        per_zone.append(time.perf_counter() - started)
        total_visits += sum(len(tp.visits) for tp in result.plan.teams.values())
        later_visits += sum(len(tp.visits) for tps in result.plan.later.values() for tp in tps)
    print(f"full re-plan: {args.zones} zones x {args.teams} teams x {args.tickets} tickets in {sum(per_zone):.1f} s "
          f"(per zone p50 {statistics.median(per_zone):.2f} s, max {max(per_zone):.2f} s); {total_visits} visits planned today, "
          f"{later_visits} on later days (horizon {args.horizon})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--arrivals", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.0, 10.0, 60.0])
    parser.add_argument("--full", action="store_true", help="time a full re-plan of --zones zones instead")
    parser.add_argument("--zones", type=int, default=15)
    parser.add_argument("--horizon", type=int, default=3, help="working days planned per team (1: today only)")
    args = parser.parse_args()
    if args.full:
        full(args)
        return
    print(f"zone: {args.teams} teams, {args.tickets} open tickets, {args.arrivals} arrivals, {args.seconds} s per solve, "
          f"horizon {args.horizon} day(s)")
    for threshold in args.thresholds:
        times, moves = run(args, threshold)
        q = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
        print(f"churn threshold {threshold:>4.0f} min: re-plan p50 {statistics.median(times):.2f} s, p99 {q[98]:.2f} s; "
              f"moves per re-plan mean {statistics.mean(moves):.2f}, max {max(moves)}, total {sum(moves)}")  # fmt: skip


if __name__ == "__main__":
    main()
