"""The event loop: arrivals, decision ticks, teams driving, serving, lunching and going home, one illness.

Every strategy runs through the same engine; a policy only decides *which team does which ticket in which
order* (`aiff.simulation.policies`). Rules that hold for every strategy:

- shifts 08:00-17:00 Mon-Sat from the team's base; a team never starts a job it does not expect (by the
  category median) to finish and drive home from by 17:00 + MAX_OVERTIME, nor one it has no skill for;
- lunch: 45 minutes at the team's first free moment from 12:00 (a job running through 14:00 delays it);
- a customer window bounds the start of service (the team waits at most WAIT_MAX for it); a missed window
  is rebooked to the same slot of the next working day;
- at the end of its day a team drives home; overtime = home arrival - 17:00;
- the ill team drops its job and queue at once and does nothing more; its tickets go back to the pool.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

from aiff.planning.travel import Point
from aiff.simulation import arrivals
from aiff.simulation.world import (DAY, LUNCH, LUNCH_EARLIEST, MAX_OVERTIME, MIN, SHIFT_END, SHIFT_START, Lookup, SimTeam,
                                   demo_teams, pick_ill, working_days)

WAIT_MAX = 45 * MIN
DAY_START, ILL, ARRIVAL, TICK, FREE, SHIFT_OVER = range(6)


@dataclass(frozen=True)
class SimConfig:
    days: int = 5  # a working week: enough critical tickets (~25-30) that one ticket is not the whole difference
    teams: int = 40
    tickets_per_day: int = 100
    seed: int = 7
    tick_minutes: int = 10
    plan_iterations: int = 300  # PyVRP iterations per zone re-plan (deterministic, unlike a time limit)
    ill: bool = True
    horizon_days: int = 3  # routes: today + the next working days (aiff.planning.horizon)


@dataclass
class Sim:
    """State and log of one run; policies read and change it through `assign`/`release`."""

    config: SimConfig
    teams: list[SimTeam]
    tickets: dict[str, arrivals.Ticket]
    travel: Lookup
    loc: dict[str, int]  # ticket -> location index
    days: list[int]
    status: dict[str, str] = field(default_factory=dict)  # open / queued / active / done
    team_of: dict[str, int | None] = field(default_factory=dict)
    window: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)
    jobs: list[dict] = field(default_factory=list)
    legs: list[dict] = field(default_factory=list)
    homes: list[tuple[int, int, int]] = field(default_factory=list)  # (team, day, home arrival)
    lunches: list[tuple[int, int, int]] = field(default_factory=list)
    moves: int = 0
    decide_seconds: list[float] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)  # zones with changes since the last decision
    ill: tuple[int, int] | None = None
    ill_released: list[str] = field(default_factory=list)  # tickets the ill team held when it fell ill
    _heap: list = field(default_factory=list)
    _seq: int = 0

    # ------------------------------------------------------------------ policy API
    def team(self, team_id: int) -> SimTeam:
        return self._by_id[team_id]

    def assign(self, tid: str, team: SimTeam) -> None:
        """Put ticket `tid` on `team` (its queue order is the policy's business); counts a move if it changes team."""
        before = self.team_of.get(tid)
        if before is not None and before != team.id:
            self.moves += 1
            self.team(before).queue = [q for q in self.team(before).queue if q != tid]
        self.team_of[tid] = team.id
        self.status[tid] = "queued"
        if tid not in team.queue:
            team.queue.append(tid)

    def release(self, tid: str) -> None:
        """Back to the pool (still remembering its last team, so a later re-assignment counts as a move)."""
        t = self.team_of.get(tid)
        if t is not None:
            self.team(t).queue = [q for q in self.team(t).queue if q != tid]
        if self.status.get(tid) == "queued":
            self.status[tid] = "open"

    def feasible(self, team: SimTeam, tid: str, now: int) -> int | None:
        """Expected start of service if `team` left for `tid` now and all rules hold, else None."""
        tk = self.tickets[tid]
        if tk.skill not in team.skills:
            return None
        drive, _ = self.travel.drive(team.pos, self.loc[tid])
        arrive = now + drive
        start = arrive
        w = self.window.get(tid)
        if w is not None:
            if arrive > w[1] or w[0] - arrive > WAIT_MAX:
                return None
            start = max(arrive, w[0])
        home, _ = self.travel.drive(self.loc[tid], team.base)
        if start + tk.median + home > (now // DAY) * DAY + SHIFT_END + MAX_OVERTIME:
            return None
        return start

    def free_teams(self, now: int) -> list[SimTeam]:
        return [t for t in self.teams if t.on_shift(now) and not t.busy and t.job is None]

    def point(self, loc: int) -> Point:
        return self.travel.points[loc]

    # ------------------------------------------------------------------ engine
    def push(self, t: int, kind: int, arg=None, epoch: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, arg, epoch))

    def _start_job(self, team: SimTeam, tid: str, now: int) -> None:
        tk = self.tickets[tid]
        secs, metres = self.travel.drive(team.pos, self.loc[tid])
        arrive = now + secs
        w = self.window.get(tid)
        start = max(arrive, w[0]) if w else arrive
        end = start + tk.service
        self.legs.append({"team": team.id, "depart": now, "secs": secs, "metres": metres, "to": tid})
        self.jobs.append({"ticket": tid, "team": team.id, "depart": now, "arrive": arrive, "start": start, "end": end,
                          "service": tk.service, "done": False, "skill": tk.skill})
        team.queue = [q for q in team.queue if q != tid]
        self.team_of[tid] = team.id
        team.pos, team.job, team.busy = self.loc[tid], tid, True
        team.job_end_planned = start + tk.median
        self.status[tid] = "active"
        self.open.discard(tid)
        team.epoch += 1
        self.push(end, FREE, team.id, team.epoch)

    def _go_home(self, team: SimTeam, now: int) -> None:
        secs, metres = self.travel.drive(team.pos, team.base)
        if secs:
            self.legs.append({"team": team.id, "depart": now, "secs": secs, "metres": metres, "to": None})
        self.homes.append((team.id, now // DAY, now + secs))
        team.pos, team.home_day = team.base, now // DAY
        team.epoch += 1

    def step(self, team: SimTeam, now: int, policy) -> None:
        """A free team chooses: lunch, its next job, home (after 17:00), or waiting where it is."""
        if not team.on_shift(now) or team.busy:
            return
        day, s = divmod(now, DAY)
        if team.lunch_day != day and s >= LUNCH_EARLIEST:
            team.lunch_day, team.busy = day, True
            self.lunches.append((team.id, now, now + LUNCH))
            team.epoch += 1
            self.push(now + LUNCH, FREE, team.id, team.epoch)
            return
        tid = policy.next_job(self, team, now)
        if tid is not None:
            self._start_job(team, tid, now)
        elif s >= SHIFT_END:
            self._go_home(team, now)

    def _wake(self, now: int, policy) -> None:
        for team in self.teams:
            if not team.busy and team.on_shift(now):
                self.step(team, now, policy)

    def _decide(self, policy, now: int) -> None:
        t0 = time.perf_counter()
        called = policy.decide(self, now)
        if called:
            self.decide_seconds.extend(called if isinstance(called, list) else [time.perf_counter() - t0])

    def handle(self, t: int, kind: int, arg, epoch: int, policy) -> None:
        if kind == ARRIVAL:
            tk = self.tickets[arg]
            self.status[arg], self.window[arg] = "open", tk.window
            self.open.add(arg)
            self.dirty.add(tk.zone)
            if policy.reactive:
                self._decide(policy, t)
                self._wake(t, policy)
        elif kind == TICK:
            self._decide(policy, t)
            self._wake(t, policy)
        elif kind == FREE:
            team = self.team(arg)
            if epoch != team.epoch or team.ill_at is not None:
                return
            team.busy = False
            if team.job is not None:
                self._finish(team, t)
            if policy.reactive:
                self._decide(policy, t)
            self.step(team, t, policy)
        elif kind == DAY_START:
            self._day_start(t, policy)
        elif kind == SHIFT_OVER:
            for team in self.teams:
                if team.on_shift(t) and not team.busy:
                    self.step(team, t, policy)
        elif kind == ILL:
            self._fall_ill(self.team(arg), t, policy)

    def _finish(self, team: SimTeam, now: int) -> None:
        tid = team.job
        job = self.jobs[-1] if self.jobs[-1]["ticket"] == tid else next(j for j in reversed(self.jobs) if j["ticket"] == tid)
        job["done"] = True
        self.status[tid] = "done"
        team.job, team.completed = None, team.completed + 1
        if abs(now - team.job_end_planned) > 15 * MIN:
            self.dirty.add(team.zone)  # the plan's times are off: worth a re-plan

    def _day_start(self, now: int, policy) -> None:
        day = now // DAY
        for tid in self.open | {q for t in self.teams for q in t.queue}:
            w = self.window.get(tid)
            if w is not None and w[1] < now:  # missed: rebook the same slot today
                self.window[tid] = (day * DAY + w[0] % DAY, day * DAY + w[1] % DAY)
        for team in self.teams:
            if team.ill_at is None:
                team.pos, team.busy, team.job = team.base, False, None
                team.epoch += 1
            self.dirty.add(team.zone)
        policy.day_start(self, now)
        self._decide(policy, now)
        self._wake(now, policy)

    def _fall_ill(self, team: SimTeam, now: int, policy) -> None:
        team.ill_at, team.busy = now, False
        team.epoch += 1
        self.ill_released = ([team.job] if team.job else []) + list(team.queue)
        if team.job is not None:
            tid = team.job
            self.jobs = [j for j in self.jobs if not (j["ticket"] == tid and not j["done"])]  # abandoned, not served
            self.status[tid] = "queued"
            self.open.add(tid)
            team.job = None
            self.release(tid)
        for tid in list(team.queue):
            self.release(tid)
        team.queue = []
        self.dirty.add(team.zone)
        policy.on_ill(self, team, now)
        self._decide(policy, now)
        self._wake(now, policy)

    def run(self, policy, progress=None) -> "Sim":
        self._by_id = {t.id: t for t in self.teams}
        for tk in self.tickets.values():
            self.push(tk.arrive, ARRIVAL, tk.id)
        tick = self.config.tick_minutes * MIN
        for d in self.days:
            base = d * DAY
            self.push(base + SHIFT_START, DAY_START)
            self.push(base + SHIFT_END, SHIFT_OVER)
            for t in range(base + SHIFT_START + tick, base + SHIFT_END + MAX_OVERTIME, tick):
                self.push(t, TICK)
        if self.ill is not None:
            self.push(self.ill[1], ILL, self.ill[0])
        end = (self.days[-1] + 1) * DAY
        day_done = None
        while self._heap and self._heap[0][0] < end:
            t, kind, _, arg, epoch = heapq.heappop(self._heap)
            if progress is not None and kind == DAY_START:
                if day_done is not None:
                    progress(1)
                day_done = t
            self.handle(t, kind, arg, epoch, policy)
        if progress is not None:
            progress(1)
        self.end = end
        return self


def setup(config: SimConfig) -> Sim:
    """Teams, tickets and the travel matrix for a configuration (the same for every strategy)."""
    days = working_days(config.days)
    raw = demo_teams(config.seed, config.teams)
    tickets = arrivals.generate(config.seed, days, config.tickets_per_day)
    points = [Point(lat, lon) for _, _, lat, lon, _, _ in raw] + [Point(t.lat, t.lon) for t in tickets]
    travel = Lookup(list(dict.fromkeys(points)))
    teams = [SimTeam(id=i, zone=z, base=travel.index[Point(lat, lon)], skills=s, capacity=c, pos=travel.index[Point(lat, lon)])
             for i, z, lat, lon, s, c in raw]
    loc = {t.id: travel.index[Point(t.lat, t.lon)] for t in tickets}
    sim = Sim(config=config, teams=teams, tickets={t.id: t for t in tickets}, travel=travel, loc=loc, days=days)
    if config.ill:
        sim.ill = pick_ill(config.seed, [t.id for t in teams], days)
    return sim


def run(config: SimConfig, strategy: str, progress=None) -> Sim:
    """One strategy over the configured days (a fresh world each time, so runs never share state)."""
    from aiff.simulation.policies import make

    return setup(config).run(make(strategy, config), progress)
