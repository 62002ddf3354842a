"""The `routes` strategy's cross-zone rules: a ticket is planned where a capable team is, and urgent work
the zone's plan cannot make on time is offered to the next zone or to the team of any zone that can be
there soonest (the urgency rule: also busy teams, ahead of the visits they have not started)."""

from __future__ import annotations

from aiff.simulation.engine import SimConfig, setup
from aiff.simulation import routes
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


def test_a_ticket_its_zone_cannot_reach_and_return_from_in_a_day_is_planned_where_a_team_can() -> None:
    # A zone's own team based so far away that a round trip plus the job does not fit one working day would
    # leave the ticket unserved for ever (its zone's plan can never take it): the nearest team that can wins.
    sim = setup(CONFIG)
    sim._by_id = {t.id: t for t in sim.teams}
    policy = Routes(CONFIG)
    tk = next(t for t in sim.tickets.values() if any(m.zone == t.zone and t.skill in m.skills for m in sim.teams)
              and any(m.zone != t.zone and t.skill in m.skills for m in sim.teams))
    _open(sim, tk.id)
    own = [m for m in sim.teams if m.zone == tk.zone and tk.skill in m.skills]
    helper = next(m for m in sim.teams if m.zone != tk.zone and tk.skill in m.skills)
    sim.travel.seconds[:, sim.loc[tk.id]] = 6 * 3600  # six hours from everywhere...
    sim.travel.seconds[helper.base, sim.loc[tk.id]] = 20 * 60  # ...but 20 minutes from the helper's base
    policy._homes(sim)
    assert own and policy.home[tk.id] == helper.zone


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
    assert policy._urgent(sim, now)
    team = sim.team(sim.team_of[tk.id])
    assert team.queue[0] == tk.id and sim.status[tk.id] == "queued"
    assert team in able and team.id == min(able, key=lambda m: (sim.travel.seconds[m.pos, sim.loc[tk.id]])).id


NOW = SHIFT_START + 60 * 60  # day 0, 09:00
HOUR = 3600


def _urgent_world(priority: str = "critical"):
    """A critical ticket at 09:00; team A with the skill is busy right at its site until 09:30 and has a planned
    visit queued; B is the farthest other team with the skill that could go now, free at its base; everyone
    else is off sick."""
    sim = setup(CONFIG)
    sim._by_id = {t.id: t for t in sim.teams}
    tk = next(t for t in sim.tickets.values()
              if sum(t.skill in m.skills and sim.feasible(m, t.id, NOW) is not None for m in sim.teams) >= 2)
    able = [m for m in sim.teams if tk.skill in m.skills]
    a = min(able, key=lambda m: sim.travel.seconds[m.base, sim.loc[tk.id]])
    b = max((m for m in able if m is not a and sim.feasible(m, tk.id, NOW) is not None),
            key=lambda m: sim.travel.seconds[m.base, sim.loc[tk.id]])
    for m in sim.teams:
        if m not in (a, b):
            m.ill_at = 0
    for m in (a, b):
        m.lunch_day = 0  # lunch taken: keeps the arithmetic simple
    other = next(t.id for t in sim.tickets.values() if t.id != tk.id)
    a.pos, a.job, a.busy, a.job_end_planned = sim.loc[tk.id], other, True, NOW + 30 * 60
    planned = next(t.id for t in sim.tickets.values() if t.id not in (tk.id, other))
    _open(sim, planned)
    sim.assign(planned, a)
    tk = type(tk)(**{**tk.__dict__, "arrive": NOW, "due": NOW + 8 * HOUR, "priority": priority})
    sim.tickets[tk.id] = tk
    _open(sim, tk.id)
    return sim, tk, a, b, planned


def test_a_critical_ticket_goes_to_a_busy_team_that_is_there_soonest_ahead_of_its_planned_visits() -> None:
    sim, tk, a, b, planned = _urgent_world()
    policy = Routes(CONFIG)
    assert sim.feasible(b, tk.id, NOW) is not None  # the free team could take it: nearest would send B
    assert policy._urgent(sim, NOW)
    assert sim.team_of[tk.id] == a.id and a.queue == [tk.id, planned]
    avail, pos, _ = policy._free_at(sim, a, NOW)  # the planner sees A free only after the committed ticket
    assert (avail, pos) == (NOW + 30 * 60 + tk.median, sim.loc[tk.id])


def test_when_nobody_is_safely_on_time_the_earliest_finish_wins() -> None:
    sim, tk, a, b, _ = _urgent_world()
    drive_b = sim.travel.seconds[b.pos, sim.loc[tk.id]]
    assert drive_b > 45 * 60, "the scenario needs B farther away than A's job lasts"
    a.pos = b.pos  # A now has as far to drive as B, and is busy 30 min longer ...
    sim.tickets[tk.id] = tk = type(tk)(**{**tk.__dict__, "due": NOW + 10 * 60 + int(drive_b) + tk.median})
    policy = Routes(CONFIG)
    assert policy._pick(sim, tk.id, NOW) is b  # ... so B, free now, finishes first (neither has the slack)


def test_a_committed_ticket_moves_when_its_team_can_no_longer_make_it() -> None:
    sim, tk, a, b, _ = _urgent_world()
    policy = Routes(CONFIG)
    policy._urgent(sim, NOW)
    assert sim.team_of[tk.id] == a.id
    a.job_end_planned = NOW + 7 * HOUR  # A's job runs long: it cannot finish the ticket by its due time
    assert policy._urgent(sim, NOW + 60)
    assert sim.team_of[tk.id] == b.id and b.queue[0] == tk.id and tk.id not in a.queue


def test_a_high_ticket_goes_by_the_urgency_rule_unless_configured_to_trust_an_on_time_plan(monkeypatch) -> None:
    sim, tk, a, b, _ = _urgent_world("high")

    class OnTime:
        day, on_time = 0, True

    class Planned:
        def visit(self, tid):
            return OnTime() if tid == tk.id else None

    policy = Routes(CONFIG)
    sim.assign(tk.id, b)
    policy.home[tk.id] = tk.zone
    policy.plans[tk.zone] = (0, Planned())
    assert policy._urgent(sim, NOW) and sim.team_of[tk.id] == a.id  # high is in RULE_ALWAYS: the rule decides
    sim, tk, a, b, _ = _urgent_world("high")
    monkeypatch.setattr(routes, "RULE_ALWAYS", ("critical",))
    policy = Routes(CONFIG)
    sim.assign(tk.id, b)
    policy.home[tk.id] = tk.zone
    policy.plans[tk.zone] = (0, Planned())
    assert not policy._urgent(sim, NOW)
    assert sim.team_of[tk.id] == b.id
    policy.plans.clear()  # no plan serves it on time: the urgency rule takes it
    assert policy._urgent(sim, NOW) and sim.team_of[tk.id] == a.id


def test_a_critical_ticket_goes_ahead_of_the_high_ticket_a_team_is_committed_to() -> None:
    # A is committed to a high ticket 3 h of work away; behind it A would miss the critical ticket's due time,
    # and B is too far to make it. A critical ticket cannot wait for a high one (4 h SLA vs 24 h): A takes it
    # first, and the high ticket follows.
    sim, tk, a, b, planned = _urgent_world()
    high = next(t for t in sim.tickets.values() if t.id not in (tk.id, planned) and t.id != a.job)
    sim.tickets[high.id] = high = type(high)(**{**high.__dict__, "priority": "high", "due": NOW + 24 * HOUR})
    _open(sim, high.id)
    policy = Routes(CONFIG)
    policy._commit(sim, high.id, a, NOW)
    chain = policy._free_at(sim, a, NOW)[0] - (NOW + 30 * 60)
    assert chain > HOUR, "the scenario needs the committed high ticket to hold A up"
    drive_b = sim.travel.seconds[b.pos, sim.loc[tk.id]]
    due = NOW + 30 * 60 + tk.median + min(chain, int(drive_b)) // 2  # A without the high ticket makes it; B does not
    sim.tickets[tk.id] = tk = type(tk)(**{**tk.__dict__, "due": due})
    assert policy._urgent(sim, NOW, ("critical",))
    assert sim.team_of[tk.id] == a.id and a.queue[:3] == [tk.id, high.id, planned]
    assert policy._free_at(sim, a, NOW, tk.id)[0] == NOW + 30 * 60 + tk.median  # the high ticket comes after


def test_a_critical_ticket_expected_late_still_goes_to_the_earliest_finish_a_high_one_does_not() -> None:
    # Nobody can finish by the due time; the earliest finish is half a median late. A critical ticket is sent
    # anyway (it may still make it, and it is the least late); a high ticket that late is left to the plans.
    for priority, sent in (("critical", True), ("high", False)):
        sim, tk, a, b, _ = _urgent_world(priority)
        due = NOW + 30 * 60 + tk.median - tk.median // 2  # A (free at 09:30, at the site) finishes 0.5 x late
        sim.tickets[tk.id] = tk = type(tk)(**{**tk.__dict__, "due": due})
        assert sim.travel.seconds[b.pos, sim.loc[tk.id]] > 30 * 60 or b.pos == a.pos
        policy = Routes(CONFIG)
        assert (policy._pick(sim, tk.id, NOW) is a) == sent


def test_an_overdue_critical_ticket_goes_to_the_earliest_finish_behind_work_that_can_still_be_on_time() -> None:
    # Left to the plans, a ticket already late waited behind every new urgent ticket and the plans' on-time
    # work - days, in an overloaded zone. It goes to the team that finishes it first today (A: free at 09:30 at
    # the site), ahead of A's planned visits; a critical ticket A can still finish on time goes before it.
    sim, tk, a, b, planned = _urgent_world()
    sim.tickets[tk.id] = tk = type(tk)(**{**tk.__dict__, "arrive": NOW - 5 * HOUR, "due": NOW - HOUR})
    policy = Routes(CONFIG)
    assert policy._urgent(sim, NOW)
    assert sim.team_of[tk.id] == a.id and a.queue == [tk.id, planned]
    fresh = next(t for t in sim.tickets.values() if t.id not in (tk.id, planned, a.job))
    sim.tickets[fresh.id] = fresh = type(fresh)(**{**fresh.__dict__, "skill": tk.skill, "median": tk.median,
                                                   "priority": "critical", "arrive": NOW, "due": NOW + 8 * HOUR})
    sim.loc[fresh.id] = sim.loc[tk.id]
    _open(sim, fresh.id)
    assert policy._urgent(sim, NOW + 60)
    assert a.queue == [fresh.id, tk.id, planned]
    assert not policy._urgent(sim, NOW + 120)  # committed: it stays (no churn on every decision)
