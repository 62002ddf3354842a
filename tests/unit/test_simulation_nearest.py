"""`nearest` dispatches from where teams ARE, not from their bases; same seed, same results."""

from __future__ import annotations

from aiff.planning.travel import Point
from aiff.simulation.arrivals import Ticket
from aiff.simulation.engine import Sim, SimConfig
from aiff.simulation.policies import Nearest
from aiff.simulation.runner import run_all
from aiff.simulation.world import HOUR, Lookup, SimTeam


def _sim() -> Sim:
    # KL-ish line of points: A's base is next to the site, but A is out at a far job; B is based far, now near.
    site, base_a, far, base_b, near = (Point(3.10, 101.60), Point(3.11, 101.60), Point(3.60, 101.60),
                                       Point(3.70, 101.60), Point(3.14, 101.60))
    travel = Lookup([site, base_a, far, base_b, near])
    a = SimTeam(id=1, zone="Selangor", base=1, skills=frozenset({"fiber"}), capacity=5, pos=2)
    b = SimTeam(id=2, zone="Selangor", base=3, skills=frozenset({"fiber"}), capacity=5, pos=4)
    now = 9 * HOUR
    tk = Ticket("T00001", now, "Selangor", "x", site.lat, site.lon, "high", "fiber", 3600, 3600, now + 24 * HOUR)
    sim = Sim(config=SimConfig(), teams=[a, b], tickets={tk.id: tk}, travel=travel, loc={tk.id: 0}, days=[0])
    sim._by_id = {1: a, 2: b}
    sim.status[tk.id], sim.window[tk.id] = "open", None
    sim.open.add(tk.id)
    return sim


def test_nearest_uses_current_positions() -> None:
    sim = _sim()
    a, b = sim.teams
    # by base, A is nearer; by current position, B is
    assert sim.travel.seconds[a.base, 0] < sim.travel.seconds[b.base, 0]
    assert sim.travel.seconds[b.pos, 0] < sim.travel.seconds[a.pos, 0]
    Nearest().decide(sim, 9 * HOUR)
    assert sim.team_of["T00001"] == b.id and b.queue == ["T00001"]


def test_nearest_skips_busy_and_unskilled_teams() -> None:
    sim = _sim()
    a, b = sim.teams
    b.busy = True  # B is the nearest but not free
    Nearest().decide(sim, 9 * HOUR)
    assert sim.team_of["T00001"] == a.id
    sim = _sim()
    sim.teams[1].skills = frozenset({"power"})
    Nearest().decide(sim, 9 * HOUR)
    assert sim.team_of["T00001"] == 1


def test_same_seed_same_results() -> None:
    config = SimConfig(days=1, teams=6, tickets_per_day=30, seed=11, plan_iterations=50)
    first = run_all(config, ("nearest", "routes"), progress=False)
    again = run_all(config, ("nearest", "routes"), progress=False)
    strip = lambda ms: [repr({**m.__dict__, "decide_p50_ms": 0, "decide_p99_ms": 0}) for m in ms]  # wall clock differs; nan-safe
    assert strip(first) == strip(again)
    other = run_all(SimConfig(days=1, teams=6, tickets_per_day=30, seed=12, plan_iterations=50), ("nearest",), progress=False)
    assert strip(other)[0] != strip(first)[0]
