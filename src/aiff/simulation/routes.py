"""The `routes` strategy: the planner core re-plans each zone's days; teams follow their planned routes.

Per zone (the decomposition: a zone's teams plan that zone's visits; aiff.planning.decompose splits big
zones further for the scale bench), on a decision tick with changes in the zone, and at once for the zone
of a critical or high arrival:

- teams = the zone's teams on shift, each available where and when its current job and the urgent
  tickets committed to it are planned to end (category median - the planner does not know the true
  duration), its lunch still to take (window
  12:00-14:00, or from when it is free if later), home = base, max overtime 1 h, and its 08:00-17:00
  shifts on the next working days of the horizon (`SimConfig.horizon_days`, default 3);
- visits = the open and queued tickets the zone plans (`_homes`: the zone of the nearest team with the
  skill - the ticket's own zone unless nobody there has it) whose customer window (if any) lies in the
  horizon, service = median;
- pinned: a team's planned next visit when it departs within PIN_MINUTES (sequence 0, never moved), from
  a plan the teams have been following (not one made earlier in the same decision);
- warm start: the zone's previous plan of the same day, with the planner's churn threshold; the search
  runs a fixed number of PyVRP iterations, so a run is reproducible;
- afterwards each team's queue is today's planned order; visits planned for a later day or left out stay
  in the pool.

The urgency rule is part of every decision (`_urgent`): each critical and high ticket, most urgent first,
goes to the team that can be there soonest among ALL teams on shift - free ones and busy ones, from where
and when their current job and the urgent work already committed to them end - ahead of the visits that
team has not started (pre-emption; never of a job in progress): the least drive among teams finishing
with URGENT_SLACK x service to spare before the due time, else the earliest finish (up to LATE_GRACE x
service late - 0.3 for high, 1.0 for critical: half the jobs run shorter than the median). A `nearest`
dispatcher only sees free teams.
Critical tickets are committed before the zones are re-planned, so the plans route around them, and
ahead of the high tickets a team is committed to (`_urgency`). A committed ticket stays with its team
unless that team can no longer make it and another can. A critical or high ticket already overdue goes to
the team that finishes it first today, after the committed work that can still be on time (left to the
plans, it waited behind their on-time work: days, in an overloaded zone). Tickets no team can take today
are left to the plans: a critical or high ticket its zone's plan does not finish on time today spills to
the plan of the zone with the next-nearest capable team (`_spill`).
"""

from __future__ import annotations

import time
from datetime import timedelta

from aiff.planning import Costs, LunchBreak, Plan, Team, Visit, plan
from aiff.planning.costs import CHURN_COST
from aiff.simulation.policies import MAX_KM, Policy
from aiff.simulation.world import (DAY, LUNCH, LUNCH_EARLIEST, LUNCH_LATEST, MAX_OVERTIME, MIN, SHIFT_END, SHIFT_START,
                                   at)

PIN_MINUTES = 30
URGENT = ("critical", "high")
# x service: an urgent job expected this late still has a fair chance (services vary). Critical: up to a
# whole median - no other team does better, and sent now it is at least the least late (left to the plans,
# an overdue critical ticket waits behind their work).
LATE_GRACE = {"critical": 1.0, "high": 0.3}
RULE_ALWAYS = ("critical", "high")  # dispatched by the urgency rule whenever a team can take them today
URGENT_SLACK = 0.6  # x service: spare time an urgent job should have before its due time (jobs overrun)
SPILL_ROUNDS = 2
COSTS = Costs(churn_cost=CHURN_COST)


def _urgency(sim, tid: str, now: int) -> int:
    """Order of committed urgent work: critical, high, then the critical and the high ones already overdue
    (a 4 h SLA cannot wait behind a 24 h one; a ticket still on time comes before one that is lost anyway)."""
    tk = sim.tickets[tid]
    rank = URGENT.index(tk.priority) if tk.priority in URGENT else 2 * len(URGENT)
    return rank + len(URGENT) if tk.due <= now else rank


class Routes(Policy):
    def __init__(self, config) -> None:
        self.config = config
        self.plans: dict[str, tuple[int, Plan]] = {}  # zone -> (day, plan)
        self.home: dict[str, str] = {}  # ticket -> the zone that plans it (see `_homes`)
        self.borrowed: dict[str, int] = {}  # urgent ticket -> the idle team of another plan that took it
        self.moved: dict[str, list[str]] = {}  # urgent ticket -> zones tried so far (see `_spill`)
        self.made: dict[str, int] = {}  # zone -> when its plan was made
        self.exhausted: set[str] = set()  # urgent tickets no zone within reach could serve on time

    def next_job(self, sim, team, now: int) -> str | None:
        for tid in team.queue:  # planned order; skip what can no longer be done today
            if sim.feasible(team, tid, now) is not None:
                return tid
        return None

    def day_start(self, sim, now: int) -> None:
        super().day_start(sim, now)
        self.plans.clear()

    def _homes(self, sim) -> set[str]:
        """Each open ticket is planned by the zone of the nearest (from base, by drive time) working team with
        its skill that can drive there, serve it and drive back within one day - its own zone unless that zone
        has no such team (none with the skill, the one fell ill, or all too far), so a ticket is never stranded
        where nobody can serve it. Returns the zones whose tickets changed."""
        able: dict[str, list] = {}
        for t in sim.teams:
            if t.ill_at is None:
                for s in t.skills:
                    able.setdefault(s, []).append(t)
        changed = set()
        day = SHIFT_END - SHIFT_START + MAX_OVERTIME - LUNCH
        for tid in sim.open:
            tk = sim.tickets[tid]
            reach = [t for t in able.get(tk.skill, ())
                     if 2 * sim.travel.seconds[t.base, sim.loc[tid]] + tk.median <= day]  # there and back in a day
            own = [t for t in reach if t.zone == tk.zone]
            pool = own or reach or able.get(tk.skill, ())
            zone = tk.zone if not pool else min(pool, key=lambda t: (sim.travel.seconds[t.base, sim.loc[tid]], t.id)).zone
            if tid in self.moved:
                zone = self.moved[tid][-1]
            if self.home.get(tid) != zone:
                changed.update(z for z in (self.home.get(tid), zone) if z is not None)
                self.home[tid] = zone
            if tk.zone in sim.dirty:
                changed.add(zone)
        return changed

    reactive = True  # called on every arrival and free team; re-plans on ticks and on urgent arrivals only

    def decide(self, sim, now: int):
        tick = now % (self.config.tick_minutes * MIN) == 0
        changed = self._homes(sim)
        if tick:
            zones = sorted(sim.dirty | changed)
            sim.dirty.clear()
        else:  # between ticks: only the zones an urgent ticket just arrived in; the rest waits for the tick
            sim.dirty |= changed
            zones = sorted({self.home[tid] for tid in sim.open if sim.tickets[tid].arrive == now
                            and sim.tickets[tid].priority in URGENT and tid in self.home})
            sim.dirty -= set(zones)
        times = []
        t0 = time.perf_counter()
        if self._urgent(sim, now, ("critical",)):
            times.append(time.perf_counter() - t0)
        for _ in range(SPILL_ROUNDS + 1):
            planned = []
            for zone in zones:
                t0 = time.perf_counter()
                if self._replan(sim, zone, now):
                    times.append(time.perf_counter() - t0)
                    planned.append(zone)
            zones = sorted(self._spill(sim, planned, now))  # only plans made now say who is left out
            if not zones:
                break
        t0 = time.perf_counter()
        if self._urgent(sim, now):
            times.append(time.perf_counter() - t0)
        return times

    def _spill(self, sim, zones: list[str], now: int) -> set[str]:
        """Cross-zone help, planned: a critical or high ticket that its zone's plan does not serve on time
        today, but that could still be on time, is handed to the zone of the next-nearest team with its skill
        (within MAX_KM, each zone tried once); the zones it went to are re-planned in the same decision."""
        out = set()
        for zone in zones:
            entry = self.plans.get(zone)
            if entry is None:
                continue
            p = entry[1]
            for tid in [v for v in sim.open if self.home.get(v) == zone]:
                tk = sim.tickets[tid]
                if tk.priority not in URGENT or tk.due < now + tk.median or sim.status[tid] not in ("open", "queued"):
                    continue
                pv = p.visit(tid)
                if pv is not None and pv.day == 0 and pv.on_time:
                    continue
                if tid in self.exhausted:
                    continue
                tried = self.moved.setdefault(tid, [zone])
                nxt = self._next_zone(sim, tid, tried)
                if nxt is None:  # no zone serves it on time: back to where it is nearest, for good
                    self.exhausted.add(tid)
                    del self.moved[tid]
                    continue
                tried.append(nxt)
                self.home[tid] = nxt
                out.add(nxt)
        return out

    def _next_zone(self, sim, tid: str, tried: list[str]) -> str | None:
        tk = sim.tickets[tid]
        best = None
        for t in sim.teams:
            if t.ill_at is not None or tk.skill not in t.skills or t.zone in tried:
                continue
            if sim.travel.metres[t.base, sim.loc[tid]] > MAX_KM * 1000:
                continue
            d = sim.travel.seconds[t.base, sim.loc[tid]]
            if best is None or d < best[0]:
                best = (d, t.zone)
        return None if best is None else best[1]

    def _free_at(self, sim, team, now: int, ahead_of: str | None = None) -> tuple[int, int, bool]:
        """(when, where, lunch taken) `team` can next leave for a new job, as far as a planner knows: after
        its current job (median end), its lunch, and the urgent tickets already committed to it, in order -
        for `ahead_of`, only those at least as urgent (a critical ticket goes ahead of committed high ones)."""
        day = now // DAY
        limit = None if ahead_of is None else _urgency(sim, ahead_of, now)  # skip the less urgent ones
        avail, pos, lunched = now, team.pos, team.lunch_day == day
        if team.job is not None:
            avail = max(now, team.job_end_planned)
        elif team.busy:  # at lunch
            avail = max(now, next(e for tid, s, e in reversed(sim.lunches) if tid == team.id))
        for q in team.queue:
            if self.borrowed.get(q) != team.id or (limit is not None and _urgency(sim, q, now) > limit):
                continue
            if not lunched and avail - day * DAY >= LUNCH_EARLIEST:
                avail, lunched = avail + LUNCH, True
            avail += sim.travel.drive(pos, sim.loc[q])[0]
            w = sim.window.get(q)
            avail = max(avail, w[0]) if w else avail
            avail, pos = avail + sim.tickets[q].median, sim.loc[q]
        if not lunched and avail - day * DAY >= LUNCH_EARLIEST:
            avail, lunched = avail + LUNCH, True
        return avail, pos, lunched

    def _finish(self, sim, team, tid: str, now: int, grace: float = 0.0) -> tuple[int, int, int] | None:
        """(expected finish, drive seconds, deadline) if `team` takes `tid` next after what it is committed to,
        when that ends by the due time + grace x service and within its shift + overtime (the deadline: the
        earlier of the due time and the latest finish its shift allows); else None."""
        tk = sim.tickets[tid]
        if tk.skill not in team.skills or not team.on_shift(now):
            return None
        avail, pos, _ = self._free_at(sim, team, now, tid)
        if sim.travel.metres[pos, sim.loc[tid]] > MAX_KM * 1000:
            return None
        drive = sim.travel.drive(pos, sim.loc[tid])[0]
        start = avail + drive
        w = sim.window.get(tid)
        if w is not None:
            if start > w[1]:
                return None
            start = max(start, w[0])
        end = start + tk.median
        home = sim.travel.drive(sim.loc[tid], team.base)[0]
        last = (now // DAY) * DAY + SHIFT_END + MAX_OVERTIME - home  # latest finish the shift allows
        if end > tk.due + grace * tk.median or end > last:
            return None
        return end, drive, min(tk.due, last)

    def _pick(self, sim, tid: str, now: int):
        """The team for an urgent ticket, over ALL teams on shift - also those busy now, which will be free
        after their current job (the visits they have not started are pre-empted): the least drive among
        teams that finish it with URGENT_SLACK x service to spare before its due time and before the end of
        their shift + overtime (jobs overrun; a job not started today may be late tomorrow), else
        the earliest finish among those that make it at all, else (a chance: half the jobs run shorter than
        the median) the earliest finish within LATE_GRACE[priority] x service after the due time."""
        tk = sim.tickets[tid]
        grace = LATE_GRACE.get(tk.priority, 0.0) if tk.due > now else float("inf")  # overdue: any finish today
        options = [(f, t) for t in sim.teams if (f := self._finish(sim, t, tid, now, grace)) is not None]
        if not options:
            return None
        safe = [(f, t) for f, t in options if f[0] + URGENT_SLACK * tk.median <= f[2]]
        if safe:
            return min(safe, key=lambda o: (o[0][1], o[0][0], o[1].id))[1]
        return min(options, key=lambda o: (o[0][0], o[0][1], o[1].id))[1]

    def _commit(self, sim, tid: str, team, now: int) -> None:
        """`tid` goes right after the team's other committed tickets that are at least as urgent, ahead of
        its planned visits (and of the committed high tickets, if `tid` is critical)."""
        sim.assign(tid, team)
        rest = [q for q in team.queue if q != tid]
        rank = _urgency(sim, tid, now)
        head = [q for q in rest if self.borrowed.get(q) == team.id and _urgency(sim, q, now) <= rank]
        team.queue = head + [tid] + [q for q in rest if q not in head]
        self.borrowed[tid] = team.id
        sim.dirty.add(team.zone)

    def _urgent(self, sim, now: int, priorities=URGENT) -> bool:
        """The urgency rule. Critical tickets are always dispatched this way, the moment they arrive; high ones
        when the plan does not finish them on time: each goes to the team that can be there soonest among ALL
        teams (see `_pick`) - what a planner that sees every route can do and a dispatcher of free teams cannot.
        A committed ticket stays with its team unless that team can no longer make it on time (a job ran long)
        and another can. An overdue one goes to the earliest finish today and stays there. Returns whether
        anything changed."""
        for tid in [t for t, team in self.borrowed.items() if sim.status.get(t) != "queued" or sim.team_of.get(t) != team]:
            del self.borrowed[tid]
        todo = sorted((tid for tid in sim.open if sim.tickets[tid].priority in priorities
                       and sim.status[tid] in ("open", "queued")), key=lambda x: (sim.tickets[x].due <= now, sim.tickets[x].due, x))
        changed = False
        for tid in todo:
            tk = sim.tickets[tid]
            mine = self.borrowed.get(tid)
            if tk.due <= now:  # overdue: the earliest finish today, after the work that can still be on time
                if mine is None and (team := self._pick(sim, tid, now)) is not None:
                    changed = True
                    self._commit(sim, tid, team, now)
                continue
            if mine is not None:
                if self._finish_committed(sim, sim.team(mine), tid, now):
                    continue
                del self.borrowed[tid]
            elif tk.priority not in RULE_ALWAYS and self._plan_on_time(sim, tid):
                continue
            team = self._pick(sim, tid, now)
            if team is None or (mine is not None and self._finish(sim, team, tid, now) is None):
                if mine is not None:  # nobody else makes it on time: keep it where it was
                    self.borrowed[tid] = mine
                continue
            if team.id != mine:
                changed = True
            self._commit(sim, tid, team, now)
        return changed

    def _finish_committed(self, sim, team, tid: str, now: int) -> bool:
        """Does `team` still finish its committed `tid` on time (its chain up to `tid`)?"""
        others = [q for q in team.queue if self.borrowed.get(q) == team.id]
        cut = others.index(tid) if tid in others else len(others)
        saved = {q: self.borrowed.pop(q) for q in others[cut:]}
        try:
            return self._finish(sim, team, tid, now) is not None
        finally:
            self.borrowed.update(saved)

    def _plan_on_time(self, sim, tid: str) -> bool:
        """Queued by a plan that finishes it by its due time (today, or on a later day before it is due)."""
        entry = self.plans.get(self.home.get(tid, sim.tickets[tid].zone))
        v = None if entry is None else entry[1].visit(tid)
        return v is not None and bool(v.on_time) and (sim.status[tid] == "queued" or v.day > 0)

    def _teams(self, sim, zone: str, now: int) -> list[Team]:
        day = now // DAY
        out = []
        for t in sim.teams:
            if t.zone != zone or not t.on_shift(now):
                continue
            avail, pos, lunched = self._free_at(sim, t, now)  # after its job and committed urgent tickets
            lunch = None
            if not lunched:
                early = max(day * DAY + LUNCH_EARLIEST, avail)
                late = max(day * DAY + LUNCH_LATEST, early + LUNCH)
                lunch = LunchBreak(at(early), at(late), timedelta(seconds=LUNCH))
            out.append(Team(id=str(t.id), skills=t.skills, shift_start=at(avail), shift_end=at(day * DAY + SHIFT_END),
                            start=sim.point(pos), end=sim.point(t.base), lunch=lunch,
                            max_overtime=timedelta(seconds=MAX_OVERTIME), later_shifts=self._later(day)))
        return out

    def _later(self, day: int) -> tuple:
        """08:00-17:00 on the next working days of the horizon (the planner deducts the lunch)."""
        out, d = [], day + 1
        while len(out) < self.config.horizon_days - 1:
            if d % 7 != 6:
                out.append((at(d * DAY + SHIFT_START), at(d * DAY + SHIFT_END)))
            d += 1
        return tuple(out)

    def _visits(self, sim, zone: str, now: int, previous: Plan | None) -> list[Visit]:
        day = now // DAY
        pinned: dict[str, str] = {}
        if previous is not None:
            for tp in previous.teams.values():
                team = sim.team(int(tp.team_id))
                head = next((v for v in tp.visits if v.ticket_id in team.queue), None)
                if head is not None and head.eta - timedelta(minutes=head.travel_minutes) <= at(now + PIN_MINUTES * MIN):
                    pinned[head.ticket_id] = tp.team_id
        out = []
        for tid in sorted(sim.open):
            tk = sim.tickets[tid]
            if self.home.get(tid, tk.zone) != zone or sim.status[tid] not in ("open", "queued") or tid in self.borrowed:
                continue
            w = sim.window.get(tid)
            if w is not None and (w[1] < now or (self.config.horizon_days <= 1 and w[0] // DAY != day)):
                continue
            team = pinned.get(tid)
            if team is not None and int(team) != sim.team_of.get(tid):
                team = None
            out.append(Visit(ticket_id=tid, position=sim.point(sim.loc[tid]), skill=tk.skill,
                             service=timedelta(seconds=tk.median), priority=tk.priority,
                             window=None if w is None else (at(w[0]), at(w[1])), due=at(tk.due),
                             pinned_team=team, pinned_sequence=None if team is None else 0))
        return out

    def _replan(self, sim, zone: str, now: int) -> bool:
        teams = self._teams(sim, zone, now)
        if not teams:
            return False
        prev = self.plans.get(zone)
        previous = prev[1] if prev is not None and prev[0] == now // DAY else None
        # pins come from a plan the teams have been following, not one made earlier in this same decision
        visits = self._visits(sim, zone, now, previous if self.made.get(zone) != now else None)
        if not visits and previous is None:
            return False
        result = plan(teams, visits, travel=sim.travel, now=at(now), seed=self.config.seed,
                      iterations=self.config.plan_iterations, previous=previous, costs=COSTS)
        self.plans[zone] = (now // DAY, result)
        self.made[zone] = now
        planned = set()
        for tp in result.teams.values():  # today's routes; visits planned on a later day stay in the pool
            team = sim.team(int(tp.team_id))
            order = [v.ticket_id for v in tp.visits]
            for tid in order:
                sim.assign(tid, team)
            team.queue = [t for t in team.queue if self.borrowed.get(t) == team.id] + order
            planned.update(order)
        for v in visits:
            if v.ticket_id not in planned:
                sim.release(v.ticket_id)
        return True
