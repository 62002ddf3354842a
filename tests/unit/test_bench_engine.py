"""bench/engine.py's pure parts: percentiles, decision latencies, churn counting, rates (issue 21 item 5)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bench_engine", Path(__file__).resolve().parents[2] / "bench" / "engine.py")
assert _spec is not None and _spec.loader is not None
bench_engine = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_engine  # dataclasses look their module up while the file executes
_spec.loader.exec_module(bench_engine)

Obs = bench_engine.Obs


def test_percentile_is_nearest_rank_and_nan_when_empty() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert bench_engine.percentile(values, 50) == 51.0  # round(0.5 * 99) = 50 -> the 51st value
    assert bench_engine.percentile(values, 99) == 99.0
    assert bench_engine.percentile(values, 100) == 100.0
    assert bench_engine.percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert math.isnan(bench_engine.percentile([], 99))
    s = bench_engine.summary([1.0, 2.0, 3.0, 4.0])
    assert s["count"] == 4 and s["max"] == 4.0 and s["mean"] == 2.5
    assert bench_engine.summary([])["p99"] is None


def test_decision_latencies_from_record_timestamps() -> None:
    created = {1: 1_000, 2: 2_000, 3: 3_000}
    decided = {1: 1_500, 2: 6_000}
    lat, undecided = bench_engine.decision_latencies(created, decided, [1, 2, 3])
    assert lat == [0.5, 4.0]
    assert undecided == [3]


def test_churn_counts_reassignments_and_unassignments_not_the_first_assignment() -> None:
    obs = [
        Obs(10, 1, "assigned", team_id=7),
        Obs(20, 2, "assigned", team_id=7),  # same team again: no change
        Obs(30, 3, "assigned", team_id=8),  # another team: 1
        Obs(40, 4, "unassigned", team_id=8),  # 2
        Obs(50, 5, "assigned", team_id=8),  # back to the team it last had: no change
    ]
    c = bench_engine.churn_of(obs)
    assert c.assignment_changes == 2
    assert bench_engine.churn_of([Obs(1, 1, "assigned", team_id=3)]).assignment_changes == 0
    assert bench_engine.churn_of([]).assignment_changes == 0


def test_churn_counts_placements_from_plans_deferrals_and_assignments_in_time_order() -> None:
    reason = "planned for team 5 on 2026-12-09: no room on a current day"
    obs = [
        # out of consumption order on purpose: sorted by timestamp, then sequence
        Obs(30, 9, "planned", team_id=6, plan_date="2026-12-09"),  # same day, another team: placement 2
        Obs(10, 1, "deferred", code="planned_later", reason=reason),  # first placement: (5, 12-09)
        Obs(20, 2, "planned", team_id=5, plan_date="2026-12-09"),  # the same team-day: no change
        Obs(40, 3, "deferred", code="outranked", reason="outranked: ..."),  # not a placement
        Obs(50, 4, "assigned", team_id=6, plan_date="2026-12-08"),  # another day: placement 3 (a day change)
        Obs(60, 5, "planned", team_id=6, plan_date="2026-12-08"),  # the plan that goes with it: no change
    ]
    c = bench_engine.churn_of(obs)
    assert c.placement_changes == 2
    assert c.day_changes == 1
    assert c.assignment_changes == 0  # the first assignment is no change


def test_churn_summary_counts_unseen_tickets_as_zero() -> None:
    per_ticket = {1: [Obs(1, 1, "assigned", team_id=1), Obs(2, 2, "assigned", team_id=2)]}
    s = bench_engine.churn_summary(per_ticket, [1, 2, 3, 4])
    assert s["tickets"] == 4
    assert s["assignment_changes"] == {"mean": 0.25, "p99": 1.0, "max": 1.0, "total": 1, "tickets_with_any": 1}


def test_rate_while_backlogged_uses_only_intervals_that_start_behind() -> None:
    samples = [(0.0, 100, 0), (1.0, 50, 100), (2.0, 0, 200), (3.0, 0, 200), (4.0, 0, 210)]
    assert bench_engine.rate_while_backlogged(samples) == 100.0
    assert bench_engine.rate_while_backlogged([(0.0, 0, 0), (1.0, 0, 5)]) is None


def test_enrichment_rate_leaves_out_the_first_batch_when_draining() -> None:
    start = 1_000
    times = [2_000] * 100 + [2_500] * 100 + [3_000] * 100  # three batches, 1 s apart in all
    r = bench_engine.enrichment_rate(times, start)
    assert r["count"] == 300
    assert r["per_s"] == 200.0  # the 200 after the first batch over the 1 s they took
    assert r["per_s_from_burst"] == 150.0  # 300 over the 2 s since the burst
    assert r["first_after_s"] == 1.0 and r["all_done_after_s"] == 2.0
    assert bench_engine.enrichment_rate([5_000] * 10, start)["per_s"] is None  # one batch: no draining rate
    assert bench_engine.enrichment_rate([], start)["count"] == 0


def test_clusters_groups_events_by_gaps() -> None:
    out = bench_engine.clusters([10_500, 10_000, 11_000, 20_000, 20_100], 0)
    assert out == [{"at_s": 10.0, "events": 3}, {"at_s": 20.0, "events": 2}]
    assert bench_engine.clusters([], 0) == []
