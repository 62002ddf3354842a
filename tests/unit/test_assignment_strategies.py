"""Assignment strategies: seeds' greedy formula, hard constraints, exactness of optimal, revisions, backtest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aiff.assignment import STRATEGIES, Criteria, TeamSpec, TicketSpec, choose
from aiff.assignment.backtest import format_table, run_backtest
from aiff.assignment.greedy import calculate_assignment_score, greedy
from aiff.assignment.model import team_arrays, ticket_arrays
from aiff.assignment.optimal import solve_exact_dense, solve_exact_sparse, solve_sparse
from aiff.assignment.revise import CurrentAssignment, plan_revision
from aiff.assignment.synthetic import make_history, make_scenario
from aiff.geo import haversine_km

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


def team(tid, zone="Selangor", lat=3.07, lon=101.52, skills=("fiber",), cap=3, open_t=0, status="available",
         completed=0, rating=4.0, eff=80.0):
    return TeamSpec(tid, zone, lat, lon, frozenset(skills), cap, open_t, status, completed, rating, eff)


def ticket(tid, zone="Selangor", lat=3.07, lon=101.52, prio="medium", skill="fiber", age_h=1.0):
    c = NOW - timedelta(hours=age_h)
    return TicketSpec(tid, zone, lat, lon, prio, skill, c, None)


# --- greedy: the seeds' formula ------------------------------------------------------------------------

def test_seed_formula_hand_computed():
    t = ticket(1)
    assert calculate_assignment_score(t, team(1, completed=50, rating=4.0)) == pytest.approx(0.4 + 0.3 + 0.1 + 0.08)
    assert calculate_assignment_score(t, team(2, zone="Johor", status="busy", completed=0, rating=5.0)) == pytest.approx(0.2 + 0.1)
    assert calculate_assignment_score(t, team(3, completed=150, rating=0.0)) == pytest.approx(0.7 - 0.1)


def test_greedy_picks_max_seed_score_and_updates_load():
    teams = [team(1, completed=80, rating=5.0, cap=1), team(2, completed=10, rating=3.0, cap=1),
             team(3, zone="Johor", completed=0, rating=5.0), team(4, completed=0, status="busy")]
    # scores in zone: t1 0.7+0.04+0.1=0.84, t2 0.7+0.18+0.06=0.94 -> t2 first, then t1 (t2 full)
    plan = greedy([ticket(10), ticket(11), ticket(12)], teams, Criteria(), NOW)
    got = [d.team_id for d in plan.decisions]
    assert got == [2, 1, None]
    d0 = plan.decisions[0]
    assert d0.score == pytest.approx(0.94)
    assert set(d0.breakdown) == {"zone", "availability", "workload", "rating"}
    assert sum(d0.breakdown.values()) == pytest.approx(d0.score)
    assert "capacity" in plan.decisions[2].reason


def test_greedy_respects_skill():
    plan = greedy([ticket(1, skill="power")], [team(1, skills=("fiber",)), team(2, skills=("power",), completed=99)],
                  Criteria(), NOW)
    assert plan.decisions[0].team_id == 2


# --- hard constraints, every strategy, several seeds ----------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_no_strategy_breaks_hard_constraints(seed, name):
    sc = make_scenario(300, 40, seed=seed)
    plan = choose(name)(sc.tickets, sc.teams, Criteria(), sc.now)
    assert [d.ticket_id for d in plan.decisions] == [t.ticket_id for t in sc.tickets]
    teams = {t.team_id: t for t in sc.teams}
    tickets = {t.ticket_id: t for t in sc.tickets}
    load = {tid: 0 for tid in teams}
    for d in plan.decisions:
        if d.team_id is None:
            assert d.reason
            continue
        tm, tk = teams[d.team_id], tickets[d.ticket_id]
        assert tm.status in ("available", "busy")
        assert tk.skill in tm.skills
        assert d.distance_km == pytest.approx(haversine_km(tk.latitude, tk.longitude, tm.latitude, tm.longitude), abs=1e-6)
        load[d.team_id] += 1
    for tid, k in load.items():
        assert k <= teams[tid].free_capacity


def test_unplaceable_tickets_get_reasons():
    teams = [team(1, skills=("fiber",))]
    tickets = [ticket(1, skill="power"), ticket(2, lat=6.44, lon=100.2, zone="Perlis")]
    for name in ("nearest", "optimal"):
        plan = choose(name)(tickets, teams, Criteria(), NOW)
        r = [d.reason for d in plan.decisions]
        assert plan.decisions[0].team_id is None and "skill power" in r[0]
        assert plan.decisions[1].team_id is None and "within 300 km" in r[1]


def test_same_zone_only_and_max_distance():
    teams = [team(1, zone="Kuala Lumpur", lat=3.14, lon=101.69), team(2, zone="Selangor", lat=3.5, lon=101.2)]
    t = [ticket(1, lat=3.13, lon=101.68)]  # Selangor ticket right next to the KL team
    assert choose("optimal")(t, teams, Criteria(), NOW).decisions[0].team_id == 1
    assert choose("optimal")(t, teams, Criteria(same_zone_only=True), NOW).decisions[0].team_id == 2
    assert choose("nearest")(t, teams, Criteria(same_zone_only=True), NOW).decisions[0].team_id == 2
    assert choose("optimal")(t, teams[1:], Criteria(max_distance_km=10), NOW).decisions[0].team_id is None


def test_optimal_serves_critical_first_when_capacity_short():
    teams = [team(1, cap=1)]
    tickets = [ticket(1, prio="low", lat=3.071), ticket(2, prio="critical", lat=3.2)]
    plan = choose("optimal")(tickets, teams, Criteria(), NOW)
    assert [d.team_id for d in plan.decisions] == [None, 1]
    bd = plan.decisions[1].breakdown
    assert set(bd) >= {"travel", "cross_zone", "sla", "performance", "total"}
    assert bd["total"] == pytest.approx(bd["travel"] + bd["cross_zone"] + bd["sla"] + bd["performance"])


# --- exactness -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_optimal_equals_dense_exact_on_small_cases(seed):
    sc = make_scenario(60, 12, seed=100 + seed)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    exact = solve_exact_dense(tk, tm)
    for k in (1, 3, 20):  # even absurdly small K is repaired by the certificate
        sol = solve_sparse(tk, tm, k=k, reverse_k=0)
        assert sol.stats["certified"] == 1.0
        assert sol.cost == pytest.approx(exact.cost, rel=1e-9)


@pytest.mark.parametrize("seed", [7, 8])
def test_sparse_equals_exact_on_medium_cases(seed):
    sc = make_scenario(800, 120, seed=seed)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    sol = solve_sparse(tk, tm)
    assert sol.stats["certified"] == 1.0
    assert sol.cost == pytest.approx(solve_exact_sparse(tk, tm).cost, rel=1e-9)
    assert sol.cost == pytest.approx(solve_exact_dense(tk, tm).cost, rel=1e-9)


def test_optimal_beats_baselines_on_cost():
    from aiff.assignment.nearest import nearest_indices
    from aiff.assignment.optimal import _finish
    sc = make_scenario(500, 80, seed=3)
    tk, tm = ticket_arrays(sc.tickets, sc.now), team_arrays(sc.teams)
    opt = solve_sparse(tk, tm)
    near, _ = nearest_indices(tk, tm, Criteria())
    assert _finish(tk, tm, opt.model, near, {}).cost >= opt.cost - 1e-6


# --- revisions -------------------------------------------------------------------------------------------

def _revision_setup():
    # two Selangor teams 60 km apart; tickets near team 2 but assigned to team 1
    teams = [team(1, lat=3.07, lon=101.52, cap=4, open_t=3), team(2, lat=3.60, lon=101.52, cap=4, open_t=0)]
    tickets = [ticket(1, lat=3.60, lon=101.53), ticket(2, lat=3.61, lon=101.52), ticket(3, lat=3.59, lon=101.51)]
    return teams, tickets


def test_revision_moves_only_movable_tickets():
    teams, tickets = _revision_setup()
    cur = {1: CurrentAssignment(1, "assigned"), 2: CurrentAssignment(1, "in_progress"), 3: CurrentAssignment(1, "assigned", frozen=True)}
    moves = plan_revision(cur, tickets, teams, NOW, hysteresis_km=5)
    assert [(m.ticket_id, m.from_team_id, m.to_team_id) for m in moves] == [(1, 1, 2)]
    assert moves[0].gain >= 5


def test_revision_respects_hysteresis():
    teams, tickets = _revision_setup()
    cur = {t.ticket_id: CurrentAssignment(1) for t in tickets}
    assert len(plan_revision(cur, tickets, teams, NOW, hysteresis_km=5)) == 3
    assert plan_revision(cur, tickets, teams, NOW, hysteresis_km=100) == []
    assert plan_revision(cur, tickets, teams, NOW, hysteresis_km=1, min_gain_ratio=1.5) == []


def test_revision_never_overfills():
    teams, tickets = _revision_setup()
    teams[1] = team(2, lat=3.60, lon=101.52, cap=2, open_t=1)
    cur = {t.ticket_id: CurrentAssignment(1) for t in tickets}
    moves = plan_revision(cur, tickets, teams, NOW, hysteresis_km=5)
    assert len(moves) == 1


# --- backtest --------------------------------------------------------------------------------------------

def test_backtest_kpis_add_up():
    sc = make_history(600, 40, seed=5)
    res = run_backtest(["greedy", "nearest", "optimal"], sc.tickets, sc.teams, sc.service_minutes)
    for k in res.values():
        assert k.assigned + k.never_assigned == 600
        assert k.total_breaches <= 600 and min(k.breaches.values()) >= 0
        assert k.total_breaches >= k.never_assigned
        assert k.mean_km == pytest.approx(k.total_km / k.assigned)
        assert 0 <= k.cross_zone_share <= 1 and k.mean_minutes_to_assign >= 0
    assert res["greedy"].cross_zone_share == 0.0
    assert res["nearest"].mean_km < res["greedy"].mean_km
    text = format_table(res)
    assert "optimal" in text and "SLA breaches critical" in text
