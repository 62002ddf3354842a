"""The KPIs on a tiny log computed by hand."""

from __future__ import annotations

import math

from aiff.planning.travel import Point
from aiff.simulation.arrivals import Ticket
from aiff.simulation.engine import Sim, SimConfig
from aiff.simulation.metrics import compute
from aiff.simulation.world import DAY, HOUR, Lookup, SimTeam


def test_metrics_by_hand() -> None:
    travel = Lookup([Point(3.1, 101.6), Point(3.2, 101.7)])
    teams = [SimTeam(id=1, zone="Selangor", base=0, skills=frozenset({"fiber"}), capacity=3),
             SimTeam(id=2, zone="Selangor", base=0, skills=frozenset({"fiber"}), capacity=3)]
    t = lambda i, prio, due: Ticket(f"T{i:05d}", 0, "Selangor", "x", 3.2, 101.7, prio, "fiber", 3600, 3600, due)
    tickets = {k.id: k for k in (t(1, "critical", 10 * HOUR), t(2, "critical", 10 * HOUR), t(3, "high", 30 * HOUR),
                                 t(4, "low", 100 * DAY))}
    sim = Sim(config=SimConfig(), teams=teams, tickets=tickets, travel=travel, loc={k: 1 for k in tickets}, days=[0])
    sim.end = DAY
    sim.legs = [{"secs": 1800, "metres": 20000}, {"secs": 1800, "metres": 20000}, {"secs": 3600, "metres": 50000}]
    sim.jobs = [{"ticket": "T00001", "end": 9 * HOUR, "service": 3600, "done": True},   # critical, on time
                {"ticket": "T00002", "end": 11 * HOUR, "service": 5400, "done": True},  # critical, late
                {"ticket": "T00003", "end": 12 * HOUR, "service": 1800, "done": False}]  # abandoned
    # T00003 (high) is not done and due after the end: not judged; T00004 (low) not done, not due: not judged
    sim.homes = [(1, 0, 17 * HOUR + 1800), (2, 0, 16 * HOUR)]
    sim.moves = 2
    sim.decide_seconds = [0.001, 0.003]
    m = compute(sim, "x")
    assert m.completed == 2 and m.unserved == 2
    assert math.isclose(m.drive_h_per_ticket, 2.0 / 2) and math.isclose(m.km_per_ticket, 90 / 2)
    assert m.on_time["critical"] == 0.5 and math.isnan(m.on_time["high"]) and math.isnan(m.on_time["low"])
    assert m.late_h["critical"] == 0.5 and math.isnan(m.late_h["high"])  # T00001 on time (0), T00002 1 h late
    assert m.per_team_day == 1.0
    assert m.overtime_h == 0.5
    assert math.isclose(m.utilisation, (3600 + 5400) / (2 * 9 * 3600))
    assert m.churn == 0.5
    assert math.isclose(m.decide_p50_ms, 2.0)


def test_a_ticket_never_done_counts_as_late_until_the_end_of_the_run() -> None:
    travel = Lookup([Point(3.1, 101.6), Point(3.2, 101.7)])
    teams = [SimTeam(id=1, zone="Selangor", base=0, skills=frozenset({"fiber"}), capacity=3)]
    t = lambda i, prio, due: Ticket(f"T{i:05d}", 0, "Selangor", "x", 3.2, 101.7, prio, "fiber", 3600, 3600, due)
    tickets = {k.id: k for k in (t(1, "high", 20 * HOUR), t(2, "high", 10 * HOUR), t(3, "high", 30 * HOUR))}
    sim = Sim(config=SimConfig(), teams=teams, tickets=tickets, travel=travel, loc={k: 1 for k in tickets}, days=[0])
    sim.end = DAY
    sim.jobs = [{"ticket": "T00002", "end": 16 * HOUR, "service": 3600, "done": True}]  # 6 h late
    m = compute(sim, "x")
    # T00001: never done, due at 20:00 -> 4 h late by the end; T00003 is due after the end: not judged
    assert m.on_time["high"] == 0.0 and m.late_h["high"] == (4 + 6) / 2
    sim.jobs.append({"ticket": "T00001", "end": 19 * HOUR, "service": 3600, "done": True})  # now on time
    assert compute(sim, "x").late_h["high"] == (0 + 6) / 2
