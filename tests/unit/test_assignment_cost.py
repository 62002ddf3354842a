"""The cost model's documented guarantees, the batched unassigned reasons, and the backtest's batching."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from aiff.assignment import Criteria, choose
from aiff.assignment.backtest import run_backtest
from aiff.assignment.cost import CostModel, DEFAULT_MAX_DISTANCE_KM
from aiff.assignment.model import team_arrays, ticket_arrays
from aiff.assignment.nearest import unassigned_reason, unassigned_reasons
from aiff.assignment.synthetic import make_history, make_scenario

from .test_assignment_strategies import NOW, team, ticket


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drop_penalty_dominates_every_feasible_assignment(seed):
    sc = make_scenario(400, 60, seed=seed)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    tk.remaining_h[::7] = -5.0  # some overdue: lateness on every pair
    model = CostModel.build(tk, tm)
    n, m = len(tk), len(tm)
    ii, jj = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    d = np.full(ii.size, DEFAULT_MAX_DISTANCE_KM)  # the worst feasible distance
    assert (model.total(ii, jj, d) < model.drop[ii]).all()


def test_nearer_cross_zone_team_beats_farther_home_team():
    teams = [team(1, zone="Kuala Lumpur", lat=3.14, lon=101.69), team(2, zone="Selangor", lat=3.20, lon=101.69)]
    plan = choose("optimal")([ticket(1, lat=3.13, lon=101.69)], teams, Criteria(), NOW)  # 1 km vs 8 km
    assert plan.decisions[0].team_id == 1
    assert plan.decisions[0].breakdown["cross_zone"] <= 2.0


def test_critical_gets_the_near_team_when_contested():
    teams = [team(1, cap=1, lat=3.07), team(2, cap=1, lat=3.27)]
    tickets = [ticket(1, prio="low", lat=3.10), ticket(2, prio="critical", lat=3.12)]
    plan = choose("optimal")(tickets, teams, Criteria(), NOW)
    assert plan.by_ticket()[2].team_id == 1 and plan.by_ticket()[1].team_id == 2


@pytest.mark.parametrize("crit", [Criteria(), Criteria(same_zone_only=True), Criteria(max_distance_km=40)])
def test_batched_reasons_equal_single_reasons(crit):
    sc = make_scenario(300, 30, seed=11)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    tm.open_tickets[::2] = tm.capacity[::2]  # half the teams full
    max_km = crit.max_distance_km or DEFAULT_MAX_DISTANCE_KM
    rows = np.arange(len(tk))
    assert unassigned_reasons(tk, tm, rows, crit, max_km) == [unassigned_reason(tk, tm, i, crit, max_km) for i in rows]


def test_backtest_optimal_does_not_hold_tickets_while_capacity_is_free():
    sc = make_history(400, 60, seed=2)
    res = run_backtest(["nearest", "optimal"], sc.tickets, sc.teams, sc.service_minutes, batch_minutes=5.0)
    opt, near = res["optimal"], res["nearest"]
    assert opt.mean_minutes_to_assign <= near.mean_minutes_to_assign + 5.0
    assert opt.breaches["critical"] <= near.breaches["critical"]
    assert opt.total_breaches <= near.total_breaches


def test_backtest_critical_is_solved_on_arrival():
    teams = [team(1, cap=5)]
    t = [ticket(1, prio="critical", age_h=0.0)]
    t = [type(t[0])(1, "Selangor", 3.07, 101.52, "critical", "fiber", NOW + timedelta(minutes=1), None)]
    res = run_backtest(["optimal"], t, teams, [60.0], batch_minutes=30.0)
    assert res["optimal"].mean_minutes_to_assign == pytest.approx(0.0)
