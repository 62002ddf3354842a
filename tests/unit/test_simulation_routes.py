"""The `routes` strategy's cross-zone rules: a ticket is planned where a capable team is, and urgent work
the zone's plan cannot make on time is offered to the next zone or a free team elsewhere."""

from __future__ import annotations

from aiff.simulation.engine import SimConfig, setup
from aiff.simulation.routes import Routes
from aiff.simulation.world import SHIFT_START

CONFIG = SimConfig(days=1, teams=12, tickets_per_day=30, seed=5, plan_iterations=40)


def _open(sim, tid: str) -> None:
    sim.status[tid] = "open"
    sim.open.add(tid)


def test_a_ticket_is_planned_by_its_zone_unless_nobody_there_can_serve_it() -> None:
    sim = setup(CONFIG)
    sim._by_id = {t.id: t for t in sim.teams}
    policy = Routes(CONFIG)
    tk = next(t for t in sim.tickets.values() if any(m.zone == t.zone and t.skill in m.skills for m in sim.teams))
    _open(sim, tk.id)
    policy._homes(sim)
    assert policy.home[tk.id] == tk.zone
    for m in sim.teams:  # everyone in the ticket's zone with its skill falls ill
        if m.zone == tk.zone and tk.skill in m.skills:
            m.ill_at = 0
    changed = policy._homes(sim)
    able = [m for m in sim.teams if m.ill_at is None and tk.skill in m.skills]
    nearest = min(able, key=lambda m: sim.travel.seconds[m.base, sim.loc[tk.id]])
    assert policy.home[tk.id] == nearest.zone != tk.zone
    assert {tk.zone, nearest.zone} <= changed


def test_an_urgent_ticket_no_plan_serves_goes_to_the_nearest_free_team_that_makes_it() -> None:
    sim = setup(CONFIG)
    sim._by_id = {t.id: t for t in sim.teams}
    policy = Routes(CONFIG)
    now = SHIFT_START + 60 * 60  # day 0, 09:00
    tk = next(t for t in sim.tickets.values() if t.priority in ("critical", "high"))
    sim.tickets[tk.id] = type(tk)(**{**tk.__dict__, "due": now + 8 * 3600, "arrive": now})
    _open(sim, tk.id)
    able = [m for m in sim.teams if tk.skill in m.skills and sim.feasible(m, tk.id, now) is not None]
    assert able, "the scenario has no team that could take the ticket"
    assert policy._borrow(sim, now)
    team = sim.team(sim.team_of[tk.id])
    assert team.queue[0] == tk.id and sim.status[tk.id] == "queued"
    assert team in able and team.id == min(able, key=lambda m: (sim.travel.seconds[m.pos, sim.loc[tk.id]])).id
