"""The simulation through the real system: one simulated day driven through real Kafka, the projector and the live
assignment engine (routes) on the simulated clock; the sim's teams do exactly what the engine decided."""

from __future__ import annotations

import time

import pytest

from aiff.bootstrap import Resources
from aiff.simulation.engine import SimConfig
from aiff.simulation.metrics import compute
from aiff.simulation.report import table
from aiff.simulation.through_kafka import NAME, sim_id, simulate

pytestmark = pytest.mark.integration

CONFIG = SimConfig(days=1, teams=8, tickets_per_day=20, seed=11)


async def test_a_simulated_day_through_kafka_follows_the_engine_and_gives_the_kpi_row(resources: Resources) -> None:
    started = time.monotonic()
    # the demo teams' own capacities (3-8), so the engine's capacity cut is exercised
    sim, outcome = await simulate(CONFIG, resources, capacity=None)
    assert time.monotonic() - started < 90
    assert outcome.latencies, "the engine was asked to decide"

    # every ticket the sim's teams served was decided by the engine for that team, and nothing else was served
    served = {j["ticket"]: j["team"] for j in sim.jobs if j["done"]}
    rows = {sim_id(r["id"]): r for r in await resources.pool.fetch("SELECT id, status, assigned_team FROM tickets")}
    assert set(rows) <= set(sim.tickets) and len(rows) >= len(served)
    completed = {tid: r["assigned_team"] for tid, r in rows.items() if r["status"] == "completed"}
    assert completed == served and outcome.disagree == []
    # what the engine holds at the end is not served by anyone else in the sim: in progress by that team, or waiting
    for tid, r in rows.items():
        if r["status"] == "in_progress" and sim.team(r["assigned_team"]).ill_at is None:
            assert sim.status[tid] == "active" and sim.team_of[tid] == r["assigned_team"]
        elif r["status"] in ("assigned", "open"):
            assert sim.status[tid] in ("open", "queued"), (tid, r["status"], sim.status[tid])
            if sim.status[tid] == "queued":
                assert sim.team_of[tid] == r["assigned_team"]
    engine_assigned = {r["ticket_id"] for r in await resources.pool.fetch(
        "SELECT DISTINCT ticket_id FROM assignments WHERE assigned_by = 'engine'")}  # fmt: skip
    assert {int(tid[1:]) for tid in served} <= engine_assigned

    # no team ever held more than its capacity (checked after every decision), and the invariant holds at the end
    assert outcome.held_max and all(n <= outcome.capacity[t] for t, n in outcome.held_max.items()), outcome.held_max
    over = await resources.pool.fetch(
        """SELECT tm.id FROM teams tm JOIN tickets t ON t.assigned_team = tm.id AND t.status IN ('assigned', 'in_progress')
           GROUP BY tm.id, tm.capacity HAVING count(*) > tm.capacity""")  # fmt: skip
    assert over == []

    metrics = compute(sim, NAME)
    assert metrics.completed > 0
    assert NAME in table([metrics]) and "completed / arrived" in table([metrics])
