"""The simulation through the real system: the live assignment engine decides, on the simulated clock.

`aiff simulate --through-kafka` runs the same simulated days (same seed: arrivals, teams, illness, service
times) as the in-process strategies, but the decisions come from the REAL projector and assignment consumer
(`routes` strategy) on real Kafka and Postgres, in a topic prefix and schema of their own:

- setup: every zone in auto mode, every sim team as `team.created` (base, skills, the sim's shift calendar:
  08:00-17:00 Mon-Sat, lunch 45 min between 12:00 and 14:00, 60 min overtime; capacity CAPACITY, which does not
  bind - the in-process policies have none - unless a test asks for the demo teams' own);
- a decision (`ThroughKafka.decide`): the engine's clock is set to the simulated time, what happened in the
  world since the last decision is published with its simulated times (`ticket.created` with the planner's
  median as service_minutes; a rebooked customer window as `ticket.updated`; a team leaving for a job as
  `ticket.status_changed` in_progress - the engine then plans the drive from where the team last reported and
  the median from when it left, i.e. the job's expected end; a job finished as `completed` plus
  `team.position_reported` at the site; the ill team as `team.status_changed` offline); the engine re-plans what
  those events touch (its own triggers, within its live window of simulated time) and, at the start of each
  day, every zone (`full_replan`: the night's events are too old to trigger); then we wait until projector and
  engine have applied everything (the decision latency) and every sim team's queue becomes its planned order
  for today, read back from Postgres (`plan_visits` of today, tickets it holds); what the engine left
  unassigned or planned for a later day stays in the pool.
- decisions happen on every decision tick, at the start of a day, at the illness, and at once on a critical or
  high arrival (the in-process `routes` re-plans then too); other arrivals and finished jobs wait for the tick.

Nothing here decides who does what: the sim only follows the engine's plans (`next_job`: the first job of its
queue that it can still do today, as in `aiff.simulation.routes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.bootstrap import Resources, open_resources
from aiff.consumers import assignment, projector
from aiff.consumers.runner import BatchConsumer
from aiff.consumers.stream import run_consumers
from aiff.events.envelope import Envelope
from aiff.events.plans import TeamPositionReported
from aiff.events.shifts import DEFAULT_SHIFT
from aiff.events.teams import TeamCreated, TeamStatusChanged, ZoneConfigured, team_event
from aiff.events.tickets import TicketCreated, TicketStatusChanged, TicketUpdated, ticket_event
from aiff.events.topics import Topics, delete_topics, leaders_elected, partitions_of
from aiff.isolation import isolated as own_schema
from aiff.settings import Settings
from aiff.simulation.engine import Sim, SimConfig, setup
from aiff.simulation.metrics import Metrics, compute
from aiff.simulation.policies import Policy
from aiff.simulation.routes import URGENT, Routes
from aiff.simulation.world import DAY, MIN, SHIFT_START, at
from aiff.zones import ZONES

NAME = "routes (through Kafka)"
CAPACITY = 20
"""Tickets a team may hold: more than a day's route ever has, so the engine's capacity cut does not bind (the
in-process policies have no capacity)."""
SHIFT = dict(DEFAULT_SHIFT)
"""The sim's shift calendar (aiff.simulation.world) is the contract's default one; published explicitly."""
SETTLE_TIMEOUT_S = 300.0
T = TypeVar("T")


class SimClock:
    """The engine's "now": the simulated time of the decision being made."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Outcome:
    """What a run through Kafka gives besides the sim's log: decision latencies and the engine's view."""

    latencies: list[float] = field(default_factory=list)  # seconds from publishing a decision's events to settled
    events: int = 0  # events published for the world
    held_max: dict[int, int] = field(default_factory=dict)  # team -> most tickets the engine had it hold at once
    capacity: dict[int, int] = field(default_factory=dict)  # team -> the capacity published
    deferred: dict[str, int] = field(default_factory=dict)  # open tickets at the end -> the engine's last reason code
    disagree: list[str] = field(default_factory=list)  # tickets done in the sim that the engine does not have completed by that team
    stranded: list[str] = field(default_factory=list)  # in progress in the engine with a team that went offline

    def lines(self) -> list[str]:
        """The latency, and what the engine left open at the end and why, for under the KPI table."""
        out = [self.latency_line()]
        if self.deferred:
            out.append("open at the end (engine's last deferral code): " + ", ".join(f"{c} {n}" for c, n in self.deferred.items()))
        if self.stranded:
            out.append(f"in progress with the team that fell ill (no way back to the queue in the lifecycle): {', '.join(self.stranded)}")
        out.append(f"tickets the sim served that the engine does not have completed by that team: {', '.join(self.disagree) or 'none'}")
        over = sorted(t for t, n in self.held_max.items() if n > self.capacity.get(t, n))
        out.append(f"most tickets a team held at once: {max(self.held_max.values(), default=0)}; "
                   f"teams over capacity: {', '.join(map(str, over)) or 'none'}")
        return out

    def latency_line(self) -> str:
        if not self.latencies:
            return "decision latency (sim tick -> engine settled): no decisions"
        ms = np.array(self.latencies) * 1000
        return (f"decision latency (sim tick -> engine settled), {len(ms)} decisions: p50 {np.percentile(ms, 50):.0f} ms, "
                f"p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms; {self.events} world events published")


# ------------------------------------------------------------------------------------------------ world -> events


def ticket_id(tid: str) -> int:
    return int(tid[1:])


def sim_id(ticket: int) -> str:
    return f"T{ticket:05d}"


def setup_events(sim: Sim, capacity: int | None) -> list[Envelope]:
    """Every zone in auto mode and every team (capacity None: the demo team's own)."""
    when = at(sim.days[0] * DAY)
    out: list[Envelope] = [team_event(ZoneConfigured, {"zone": z.name, "assignment_mode": "auto", "configured_by": "simulation"},
                                      time=when) for z in ZONES]  # fmt: skip
    for t in sim.teams:
        base = sim.point(t.base)
        out.append(team_event(TeamCreated, {
            "team_id": t.id, "name": f"Sim team {t.id}", "zone": t.zone, "latitude": base.lat, "longitude": base.lon,
            "skills": sorted(t.skills), "capacity": t.capacity if capacity is None else capacity, **SHIFT,
        }, time=when))  # fmt: skip
    return out


def created(sim: Sim, tid: str) -> Envelope:
    tk = sim.tickets[tid]
    w = sim.window.get(tid)
    return ticket_event(TicketCreated, {
        "ticket_id": ticket_id(tid), "title": f"{tk.skill} job at {tk.town}", "priority": tk.priority, "category": tk.skill,
        "zone": tk.zone, "location": tk.town, "latitude": tk.lat, "longitude": tk.lon, "due_date": at(tk.due),
        "service_minutes": tk.median // MIN, "created_by": "simulation",
        **({} if w is None else {"window_start": at(w[0]), "window_end": at(w[1])}),
    }, time=at(tk.arrive))  # fmt: skip


def status(tid: str, new: str, t: int) -> Envelope:
    return ticket_event(TicketStatusChanged, {"ticket_id": ticket_id(tid), "status": new, "changed_by": "simulation"}, time=at(t))


def position(sim: Sim, team: int, loc: int, t: int) -> Envelope:
    p = sim.point(loc)
    return team_event(TeamPositionReported, {"team_id": team, "latitude": p.lat, "longitude": p.lon, "reported_at": at(t),
                                             "source": "tracker"}, time=at(t))  # fmt: skip


class World:
    """What of the simulated world the system has been told, and the events for what it has not."""

    def __init__(self, sim: Sim) -> None:
        self.arrivals = sorted(sim.tickets.values(), key=lambda tk: (tk.arrive, tk.id))
        self.next_arrival = 0
        self.windows: dict[str, tuple[int, int] | None] = {}
        self.started: set[tuple[str, int]] = set()
        self.finished: set[tuple[str, int]] = set()
        self.ill: set[int] = set()

    def urgent_arrival(self, now: int) -> bool:
        """A critical or high ticket arrived now and the system has not been told."""
        for tk in self.arrivals[self.next_arrival:]:
            if tk.arrive > now:
                return False
            if tk.arrive == now and tk.priority in URGENT:
                return True
        return False

    def ill_pending(self, sim: Sim) -> bool:
        return any(t.ill_at is not None and t.id not in self.ill for t in sim.teams)

    def news(self, sim: Sim, now: int) -> list[Envelope]:
        """The events of everything that happened up to `now` and was not published yet, in time order."""
        out: list[tuple[int, int, Envelope]] = []  # (time, rank, event): a ticket is created before it starts
        while self.next_arrival < len(self.arrivals) and self.arrivals[self.next_arrival].arrive <= now:
            tk = self.arrivals[self.next_arrival]
            self.next_arrival += 1
            self.windows[tk.id] = sim.window.get(tk.id)
            out.append((tk.arrive, 0, created(sim, tk.id)))
        for tid in sim.open:  # a missed customer window rebooked (engine.Sim._day_start)
            w = sim.window.get(tid)
            if tid in self.windows and w != self.windows[tid] and w is not None:
                self.windows[tid] = w
                out.append((now, 1, ticket_event(TicketUpdated, {"ticket_id": ticket_id(tid), "window_start": at(w[0]),
                                                                 "window_end": at(w[1]), "updated_by": "simulation"}, time=at(now))))  # fmt: skip
        for job in sim.jobs:
            key = (job["ticket"], job["depart"])
            if job["done"] and key not in self.finished:
                self.finished.add(key)
                out.append((job["end"], 2, status(job["ticket"], "completed", job["end"])))
                out.append((job["end"], 3, position(sim, job["team"], sim.loc[job["ticket"]], job["end"])))
            if key not in self.started:
                self.started.add(key)
                out.append((job["depart"], 5, status(job["ticket"], "in_progress", job["depart"])))
        for team in sim.teams:
            if team.ill_at is not None and team.id not in self.ill:
                self.ill.add(team.id)
                out.append((team.ill_at, 4, team_event(TeamStatusChanged, {"team_id": team.id, "status": "offline", "reason": "fell ill"},
                                                       time=at(team.ill_at))))  # fmt: skip
        return [e for _, _, e in sorted(out, key=lambda x: (x[0], x[1]))]


# ------------------------------------------------------------------------------------------------ the system side


class Settled:
    """Waits until every consumer group we run has applied everything in the topics it reads (the tests' `quiet`,
    for any set of groups: the projector, the assignment engine and whatever runs with it)."""

    def __init__(self, resources: Resources, consumers: list[BatchConsumer]) -> None:
        self.resources = resources
        groups = [g for c in consumers for g in (c, *getattr(c, "companions", ()))]
        self.reads = {g.config.name: list(g.config.topics) for g in groups}
        self._probe: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []

    async def start(self) -> None:
        bootstrap = self.resources.settings.kafka_bootstrap_servers
        self._tps = await partitions_of(bootstrap, sorted({t for ts in self.reads.values() for t in ts}))
        self._probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await self._probe.start()

    async def stop(self) -> None:
        if self._probe is not None:
            await self._probe.stop()

    async def _ends(self) -> dict[tuple[str, int], int]:
        assert self._probe is not None
        return {(tp.topic, tp.partition): o for tp, o in (await self._probe.end_offsets(self._tps)).items()}

    async def _caught_up(self, ends: dict[tuple[str, int], int]) -> bool:
        rows = await self.resources.pool.fetch(
            "SELECT projection, topic, partition, next_offset FROM projection_positions WHERE projection = ANY($1::text[])",
            list(self.reads))  # fmt: skip
        stored = {(r["projection"], r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return all(stored.get((name, t, p), 0) >= end for name, topics in self.reads.items()
                   for (t, p), end in ends.items() if end and t in topics)  # fmt: skip

    async def wait(self, timeout_s: float = SETTLE_TIMEOUT_S, every_s: float = 0.01) -> None:
        """Until every group reached the end of its topics, and no end moved meanwhile (a group's own output is in
        the log before its position moves past the cause; the others must apply it too)."""
        deadline = time.monotonic() + timeout_s
        ends = await self._ends()
        while True:
            if await self._caught_up(ends):
                again = await self._ends()
                if again == ends:
                    return
                ends = again
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(self.reads)} did not settle within {timeout_s:.0f} s")
            await asyncio.sleep(every_s)


_PLANNED = """SELECT v.team_id, v.ticket_id FROM plan_visits v
JOIN tickets t ON t.id = v.ticket_id AND t.assigned_team = v.team_id AND t.status = 'assigned'
WHERE v.plan_date = $1 ORDER BY v.team_id, v.sequence"""
_HELD = """SELECT assigned_team, count(*) AS n FROM tickets WHERE status IN ('assigned', 'in_progress')
AND assigned_team IS NOT NULL GROUP BY assigned_team"""


class ThroughKafka(Policy):
    """The engine decides, the sim follows (see the module docstring). Runs in a worker thread; every call to
    the system goes to the event loop that owns `resources` and runs the consumers."""

    reactive = True  # asked on every arrival and freed team; answers only on ticks, days, illness, urgent arrivals
    next_job = Routes.next_job  # the planned order: the first job it can still do today

    def __init__(self, config: SimConfig, resources: Resources, consumer: assignment.AssignmentConsumer, clock: SimClock,
                 settled: Settled, loop: asyncio.AbstractEventLoop, outcome: Outcome) -> None:
        self.config, self.resources, self.consumer, self.clock = config, resources, consumer, clock
        self.settled, self.loop, self.outcome = settled, loop, outcome
        self.world: World | None = None

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def decide(self, sim: Sim, now: int):
        if self.world is None:
            self.world = World(sim)
        morning = now % DAY == SHIFT_START
        tick = now % (self.config.tick_minutes * MIN) == 0
        if not (morning or tick or self.world.ill_pending(sim) or self.world.urgent_arrival(now)):
            return None
        news = self.world.news(sim, now)
        if not news and not morning:
            return None  # nothing the engine does not know: its plans stand
        self.clock.now = at(now)
        started = time.perf_counter()
        self._call(self._round(news, full=morning))
        latency = time.perf_counter() - started
        self.outcome.latencies.append(latency)
        self.outcome.events += len(news)
        self._follow(sim, self._call(self._plans(at(now).date())))
        return [latency]

    async def _round(self, news: list[Envelope], full: bool) -> None:
        """Publish, let the engine decide (at the start of a day: every zone), wait until it all settled."""
        if news:
            await self.resources.publisher.publish_many(news)
        await self.settled.wait()
        if full:
            await self.consumer.full_replan()
            await self.settled.wait()

    async def _plans(self, day) -> dict[int, list[int]]:  # noqa: ANN001 - a date
        """Per team, the tickets it holds in its planned order for `day`; also tracks what each team holds."""
        out: dict[int, list[int]] = {}
        for r in await self.resources.pool.fetch(_PLANNED, day):
            out.setdefault(r["team_id"], []).append(r["ticket_id"])
        for r in await self.resources.pool.fetch(_HELD):
            held = self.outcome.held_max
            held[r["assigned_team"]] = max(held.get(r["assigned_team"], 0), r["n"])
        return out

    @staticmethod
    def _follow(sim: Sim, plans: dict[int, list[int]]) -> None:
        """Each team's queue := its planned order (tickets the sim has not started); the rest back to the pool."""
        orders = {t.id: [tid for tid in map(sim_id, plans.get(t.id, ())) if sim.status.get(tid) in ("open", "queued")]
                  for t in sim.teams if t.ill_at is None}  # fmt: skip
        planned = {tid for order in orders.values() for tid in order}
        for team in sim.teams:
            for tid in list(team.queue):
                if tid not in planned:
                    sim.release(tid)
        for team in sim.teams:
            if team.id in orders:
                for tid in orders[team.id]:
                    sim.assign(tid, team)
                team.queue = list(orders[team.id])


# ------------------------------------------------------------------------------------------------ running it


def run_settings(settings: Settings, config: SimConfig) -> Settings:
    """The engine as it runs live (`routes`), planning the sim's horizon; re-plans come from events and the
    morning's full re-plan on the simulated clock, never from a wall-clock timer."""
    return settings.model_copy(update={"assignment_strategy": "routes", "assignment_full_replan_interval_s": 0,
                                       "assignment_horizon_days": config.horizon_days})  # fmt: skip


async def simulate(config: SimConfig, resources: Resources, *, capacity: int | None = CAPACITY,
                   progress: Callable[[int], object] | None = None) -> tuple[Sim, Outcome]:
    """One run of `config` through the projector and the assignment engine on `resources` (their own topics and
    schema: nothing else may use them). The sim runs in a worker thread; this loop runs the consumers."""
    resources.settings = run_settings(resources.settings, config)
    sim = setup(config)
    clock = SimClock(at(sim.days[0] * DAY))
    engine = assignment.build(resources, clock=clock)
    consumers: list[BatchConsumer] = [projector.build(resources), engine]
    settled = Settled(resources, consumers)
    outcome = Outcome(capacity={t.id: t.capacity if capacity is None else capacity for t in sim.teams})
    policy = ThroughKafka(config, resources, engine, clock, settled, asyncio.get_running_loop(), outcome)
    stop = asyncio.Event()
    consumers = asyncio.create_task(run_consumers(consumers, stop))
    try:
        await leaders_elected(resources.settings.kafka_bootstrap_servers, resources.topics.domain, resources.settings.topic_partitions)
        await settled.start()
        try:
            await resources.publisher.publish_many(setup_events(sim, capacity))
            await settled.wait()
            await asyncio.to_thread(sim.run, policy, progress)
            outcome.deferred = await _left_open(resources.pool)
            outcome.disagree, outcome.stranded = await _agreement(sim, resources.pool)
        finally:
            await settled.stop()
    finally:
        stop.set()
        await consumers
    return sim, outcome


async def _agreement(sim: Sim, pool: asyncpg.Pool) -> tuple[list[str], list[str]]:
    """(tickets the sim served that the engine does not have completed by that team, tickets in progress in the
    engine with a team that went offline)."""
    rows = {sim_id(r["id"]): r for r in await pool.fetch(
        """SELECT t.id, t.status, t.assigned_team, tm.status AS team_status FROM tickets t
           LEFT JOIN teams tm ON tm.id = t.assigned_team""")}  # fmt: skip
    served = {j["ticket"]: j["team"] for j in sim.jobs if j["done"]}
    disagree = sorted(t for t, team in served.items()
                      if t not in rows or rows[t]["status"] != "completed" or rows[t]["assigned_team"] != team)
    stranded = sorted(t for t, r in rows.items() if r["status"] == "in_progress" and r["team_status"] in ("offline", "on_leave"))
    return disagree, stranded


async def _left_open(pool: asyncpg.Pool) -> dict[str, int]:
    """Tickets open at the end, by the engine's last deferral code (why it did not assign them)."""
    rows = await pool.fetch(
        """SELECT coalesce((SELECT h.event->'data'->>'code' FROM event_history h WHERE h.entity_id = t.id::text
                   AND h.type = 'aiff.assignment.deferred.v1' ORDER BY h.time DESC, h."offset" DESC LIMIT 1), 'never deferred') AS code,
                  count(*) AS n
           FROM tickets t WHERE t.status IN ('open', 'reopened') GROUP BY 1 ORDER BY 2 DESC""")  # fmt: skip
    return {r["code"]: r["n"] for r in rows}


def isolated(settings: Settings, seed: int) -> contextlib.AbstractAsyncContextManager[Settings]:
    """A fresh topic prefix (`sim-<seed>-<random>`) and Postgres schema, migrated; the schema removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    return own_schema(settings, f"sim_{seed}_{tag}", prefix=f"sim-{seed}-{tag}")


async def run_isolated(config: SimConfig, settings: Settings, progress: Callable[[int], object] | None = None) -> tuple[Metrics, Outcome]:
    """`simulate` in a topic prefix and schema of its own (removed afterwards); the KPIs as row NAME."""
    async with isolated(settings, config.seed) as own:
        try:
            async with open_resources(own) as resources:
                sim, outcome = await simulate(config, resources, progress=progress)
        finally:
            await delete_topics(own.kafka_bootstrap_servers, Topics(own.topic_prefix))
    return compute(sim, NAME), outcome


def run(config: SimConfig, settings: Settings | None = None, progress: bool = True) -> tuple[Metrics, Outcome]:
    """The CLI's and the bench's entry: one run through Kafka with a progress bar (days done)."""
    from aiff.tools.progress import Bar

    settings = settings or Settings()
    if not progress:
        return asyncio.run(run_isolated(config, settings))
    with Bar(f"simulate {NAME}", total=config.days, unit="days") as bar:
        return asyncio.run(run_isolated(config, settings, bar.advance))
