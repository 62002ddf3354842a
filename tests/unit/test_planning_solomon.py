"""The planner core's PyVRP path on a Solomon instance (C102, first 25 customers), checked independently."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from aiff.planning.solomon import read_solomon
from aiff.planning.solver import solve_data

C102 = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "vrptw" / "C102.vrptw"

pytestmark = pytest.mark.skipif(not C102.exists(), reason=f"Solomon instance not found at {C102} "
                                "(the repo is expected beside shared/)")


@pytest.fixture(scope="module")
def c102_25():
    return read_solomon(C102, customers=25)


def test_reader_scales_distances_windows_and_service(c102_25):
    inst = c102_25
    assert len(inst.coords) == 26 and inst.vehicles == 10 and inst.capacity == 200
    (x0, y0), (x1, y1) = inst.coords[0], inst.coords[1]
    assert inst.matrix[0, 1] == math.floor(10 * math.hypot(x1 - x0, y1 - y0))
    assert inst.windows[0].tolist() == [0, 12360]  # depot 0..1236, x SCALE 10
    assert inst.service[0] == 0 and inst.service[1] == 900


def test_a_short_solve_is_feasible_and_complete(c102_25):
    inst = c102_25
    best = solve_data(inst.data(), seconds=1.0, seed=1).best
    assert best.is_feasible() and best.is_complete()
    seen = []
    total = 0
    for route in best.routes():
        clients = [a.idx + 1 for a in route if a.is_client()]  # client i is node i + 1
        seen += clients
        assert sum(inst.demand[c] for c in clients) <= inst.capacity
        t, here = int(inst.windows[0, 0]), 0
        for c in clients:  # recompute the schedule from the instance, not from PyVRP
            t = max(t + int(inst.matrix[here, c]), int(inst.windows[c, 0]))
            assert t <= inst.windows[c, 1]
            t += int(inst.service[c])
            total += int(inst.matrix[here, c])
            here = c
        total += int(inst.matrix[here, 0])
        assert t + inst.matrix[here, 0] <= inst.windows[0, 1]
    assert sorted(seen) == list(range(1, 26))
    assert total == best.distance()
    # Solomon's C102 with 25 customers: optimum 190.3 (1903 here); within 1% after a 1 s solve.
    assert 1850 <= total <= 1903 * 1.01
