"""The simulated log obeys the rules for every strategy: skills, shifts, one thing at a time, the illness."""

from __future__ import annotations

import pytest

from aiff.simulation.engine import SimConfig, setup
from aiff.simulation.metrics import compute
from aiff.simulation.policies import STRATEGIES, make
from aiff.simulation.world import DAY, MAX_OVERTIME, SHIFT_END, SHIFT_START

CONFIG = SimConfig(days=2, teams=8, tickets_per_day=40, seed=3, plan_iterations=60)


@pytest.fixture(scope="module", params=STRATEGIES)
def sim(request):
    s = setup(CONFIG).run(make(request.param, CONFIG))
    s.strategy = request.param
    return s


def test_skills_and_shifts(sim) -> None:
    teams = {t.id: t for t in sim.teams}
    assert sim.jobs, "nothing was served: the scenario is too small to test anything"
    for j in sim.jobs:
        team = teams[j["team"]]
        assert j["skill"] in team.skills
        day, s = divmod(j["depart"], DAY)
        assert day in sim.days and s >= SHIFT_START
        median = sim.tickets[j["ticket"]].median
        home, _ = sim.travel.drive(sim.loc[j["ticket"]], team.base)
        # expected end (the planners' median) + the drive home within 17:00 + max overtime
        assert j["start"] + median + home <= day * DAY + SHIFT_END + MAX_OVERTIME
        w = sim.tickets[j["ticket"]].window
        if w is not None:
            assert j["start"] % DAY >= w[0] % DAY and j["arrive"] % DAY <= w[1] % DAY


def test_one_thing_at_a_time(sim) -> None:
    spans: dict[int, list[tuple[int, int]]] = {}
    for j in sim.jobs:
        spans.setdefault(j["team"], []).append((j["depart"], j["end"]))
    for team, s, e in sim.lunches:
        spans.setdefault(team, []).append((s, e))
    for team, items in spans.items():
        items.sort()
        for (a0, a1), (b0, _) in zip(items, items[1:]):
            assert b0 >= a1, f"team {team} overlaps"


def test_ill_team_stops_and_its_work_is_served_or_reported(sim) -> None:
    team_id, when = sim.ill
    assert all(j["depart"] < when for j in sim.jobs if j["team"] == team_id)
    assert all(j["end"] <= when for j in sim.jobs if j["team"] == team_id and j["done"])
    done = {j["ticket"]: j["team"] for j in sim.jobs if j["done"]}
    for tid in sim.ill_released:
        assert done.get(tid, None) != team_id
        assert tid in done or sim.status[tid] in ("open", "queued")  # served by another team, or reported open
    m = compute(sim, sim.strategy)
    assert m.completed + len([t for t in sim.tickets if sim.status.get(t) != "done"]) == m.tickets


def test_ill_team_held_work() -> None:
    """The scenario must actually exercise the illness: the ill team held tickets under some strategy."""
    held = 0
    for name in ("nearest", "routes"):
        s = setup(CONFIG).run(make(name, CONFIG))
        held += len(s.ill_released)
    assert held > 0
