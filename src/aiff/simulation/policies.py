"""Dispatch strategies as the engine sees them: `decide` (who gets which ticket) and `next_job` (in which order).

- `nearest`: a good human dispatcher. Whenever a ticket arrives or a team becomes free, the open tickets,
  most urgent first (earliest SLA due, then priority), each go to the FREE team (on shift, idle) with the
  skill that is closest by drive time from where it is NOW, if it can do the job within its shift + overtime.
  Tickets wait in the pool until such a team exists; a team holds at most one job at a time.
- `greedy`: every decision tick, the pool goes through the seeds' score (aiff.assignment.greedy: zone 40%,
  availability 30%, workload 20%, rating 10%; same-zone teams with queue room only); each team works its
  queue nearest-first from its current position.
- `optimal`: every decision tick, one exact min-cost assignment of the pool (aiff.assignment.optimal, team
  positions = current positions, capacity = the demo team's capacity minus its queue); queues nearest-first.
  Unstarted queues go back to the pool each morning (no assignment-only strategy keeps yesterday's queue).
- `routes`: the planner core (aiff.planning) re-plans a zone's teams on every decision tick with changes in
  that zone (arrivals, a job ending 15+ min off plan, the illness, the morning), warm-started from that
  zone's previous plan; a team's next visit is pinned when it departs within PIN_MINUTES; teams follow
  their planned order; critical and high tickets go by the urgency rule to the team of any zone that can
  be there soonest, busy teams included, ahead of their unstarted visits. See aiff.simulation.routes.
"""

from __future__ import annotations

from aiff.assignment.greedy import greedy
from aiff.assignment.model import Criteria, TeamSpec, TicketSpec
from aiff.assignment.optimal import optimal
from aiff.simulation.world import at

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
MAX_KM = 300.0


class Policy:
    reactive = False  # decide on every arrival and free team, not only on ticks

    def decide(self, sim, now: int):  # -> truthy when a decision was made (timed by the engine)
        return None

    def next_job(self, sim, team, now: int) -> str | None:
        """Nearest feasible queued ticket (by drive time from the current position)."""
        best = None
        for tid in team.queue:
            if sim.feasible(team, tid, now) is None:
                continue
            d = sim.travel.seconds[team.pos, sim.loc[tid]]
            if best is None or d < best[0]:
                best = (d, tid)
        return None if best is None else best[1]

    def day_start(self, sim, now: int) -> None:
        for team in sim.teams:
            for tid in list(team.queue):
                sim.release(tid)

    def on_ill(self, sim, team, now: int) -> None:
        pass


def urgency(sim, tid: str) -> tuple:
    tk = sim.tickets[tid]
    return tk.due, PRIORITY_RANK[tk.priority], tk.arrive, tid


class Nearest(Policy):
    reactive = True

    def decide(self, sim, now: int):
        free = [t for t in sim.free_teams(now) if not t.queue]
        pool = [tid for tid in sim.open if sim.status[tid] == "open"]
        if not free or not pool:
            return None
        for tid in sorted(pool, key=lambda x: urgency(sim, x)):
            best = None
            for team in free:
                if sim.feasible(team, tid, now) is None or sim.travel.metres[team.pos, sim.loc[tid]] > MAX_KM * 1000:
                    continue
                d = sim.travel.seconds[team.pos, sim.loc[tid]]
                if best is None or d < best[0]:
                    best = (d, team)
            if best is not None:
                sim.assign(tid, best[1])
                free.remove(best[1])
                if not free:
                    break
        return True


class Assigner(Policy):
    """Shared by greedy and optimal: the strategy function over the pool and the working teams."""

    def __init__(self, fn, name: str) -> None:
        self.fn, self.name = fn, name

    def decide(self, sim, now: int):
        teams = [t for t in sim.teams if t.on_shift(now)]
        pool = sorted((tid for tid in sim.open if sim.status[tid] == "open"), key=lambda x: sim.tickets[x].arrive)
        if not teams or not pool:
            return None
        specs = [TeamSpec(team_id=t.id, zone=t.zone, latitude=sim.point(t.pos).lat, longitude=sim.point(t.pos).lon,
                          skills=t.skills, capacity=t.capacity, open_tickets=len(t.queue) + (t.job is not None),
                          status="available", tickets_completed=t.completed, customer_rating=4.0, efficiency=80.0)
                 for t in teams]
        tickets = [TicketSpec(ticket_id=int(tid[1:]), zone=sim.tickets[tid].zone, latitude=sim.tickets[tid].lat,
                              longitude=sim.tickets[tid].lon, priority=sim.tickets[tid].priority, skill=sim.tickets[tid].skill,
                              created_at=at(sim.tickets[tid].arrive), due_date=at(sim.tickets[tid].due)) for tid in pool]
        plan = self.fn(tickets, specs, Criteria(), at(now))
        for d in plan.assigned:
            sim.assign(f"T{d.ticket_id:05d}", sim.team(int(d.team_id)))
        return True


def make(name: str, config):
    if name == "nearest":
        return Nearest()
    if name == "greedy":
        return Assigner(greedy, "greedy")
    if name == "optimal":
        return Assigner(optimal, "optimal")
    if name == "routes":
        from aiff.simulation.routes import Routes

        return Routes(config)
    raise ValueError(f"unknown strategy {name!r}")


STRATEGIES = ("nearest", "greedy", "optimal", "routes")
