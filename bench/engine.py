"""The live assignment engine under steady load, a burst, silence and mixed load (issue 21 item 5).

Needs the running system (`make up`: API, workers incl. `aiff worker assignment` and the AI consumer, demo data).
The bench is an upstream producer: it publishes `aiff.ticket.created.v1` events straight to Kafka (source
`urn:bench:engine`) into the zones whose assignment mode is `auto`, with realistic text and sites (the demo
generator's catalogue and towns) and ticket ids in a bench-only range that is fresh for every run (so runs can
repeat on the same system). Everything it measures it reads back from Kafka itself: one plain aiokafka consumer
(no group) reads the tickets and teams topics from the offsets they had when the run started and records, per bench
ticket, its creation, the engine's decisions (`ticket.assigned`, `ticket.unassigned`, `assignment.deferred`,
source `urn:aiff:assignment`), the plans that name it (`plan.updated` on the teams topic) and its AI enrichment
(`ticket.enriched`, source `urn:aiff:ai`). Times are Kafka record timestamps (producer create time, one host's
clock). The engine's lag is its stored positions (Postgres `projection_positions`, what `aiff offsets show`
reads) against the log end of the topics it consumes.

Phases (all by default; pick some with --phases steady,burst,quiet,churn[,load]):
  steady  N creations/s for S s -> creation -> first decision latency p50/p95/p99/max (target p99 < 5 s), undecided.
          Baseline: the Kafka round trip of the same creation records (publish -> the bench's own consumer).
  burst   K creations published at once -> time until every one is decided (target <= 60 s) and until the engine's
          lag is 0 (target <= 90 s); the AI enrichment rate while the burst is a backlog (target >= 1,000 tickets/s).
          Baseline: time until the bench's own consumer has read all K creations.
  load    (only with --load-rate or in --phases) R ticket events/s of mixed types (creations, updates, status changes
          of the run's own tickets) for T s; engine lag sampled every second, as seconds of work (lag / the engine's
          measured consumption rate), its max, and how long after the load the lag reaches 0.
  quiet   once the engine's lag is 0 and nothing more is published: count every ticket.assigned, ticket.unassigned,
          assignment.deferred and plan.updated the engine publishes for Q s (stillness: target 0).
  churn   over the whole run, per bench ticket: assignment changes (assigned to another team than its previous one,
          or unassigned) and plan placement changes (planned on another team-day: plan.updated visits, planned_later
          deferrals, assignments with a plan_date) -> mean, p99, max.

Afterwards the bench cancels its tickets that are still open (`--keep` leaves them), so later runs plan against the
same world. Order of the phases: steady, burst, load, quiet (the quiet window is the last thing before clean-up).

One vs two engine instances (DESIGN "Targets"): `measure_phase(ctx, phase, group=...)` measures one phase for a
consumer group; a driver can start a second `aiff worker assignment` (same group: Kafka splits the partitions),
call it again and compare. Every phase reports the group's live member count. This bench starts no engine process.

    .venv/bin/python bench/engine.py                                    # all default phases
    .venv/bin/python bench/engine.py --steady-seconds 20 --burst 500 --quiet-seconds 30   # a short run
    .venv/bin/python bench/engine.py --burst 10000 --load-rate 300 --load-seconds 300 --json out.json --save
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.bootstrap import Resources, open_resources
from aiff.demo.catalog import compose
from aiff.demo.names import person_name
from aiff.demo.places import PLACES_BY_ZONE
from aiff.events.envelope import Envelope
from aiff.events.topics import end_offsets, partitions_of
from aiff.events.tickets import TicketCreated, TicketStatusChanged, TicketUpdated, ticket_event
from aiff.events.vocabulary import SKILLS
from aiff.ids import UPSTREAM_TICKET_IDS
from aiff.settings import Settings
from aiff.tools.catchup import applied_positions
from aiff.tools.offsets import group_id, live_members

_live_spec = importlib.util.spec_from_file_location("bench_live", Path(__file__).resolve().parent / "live.py")
assert _live_spec is not None and _live_spec.loader is not None
bench_live = importlib.util.module_from_spec(_live_spec)
_live_spec.loader.exec_module(bench_live)  # settle() and behind(): the same catch-up rule as bench/live.py

SOURCE = "urn:bench:engine"
ENGINE_SOURCE = "urn:aiff:assignment"
AI_SOURCE = "urn:aiff:ai"
T_CREATED = TicketCreated.event_type()
T_ASSIGNED = "aiff.ticket.assigned.v1"
T_UNASSIGNED = "aiff.ticket.unassigned.v1"
T_DEFERRED = "aiff.assignment.deferred.v1"
T_ENRICHED = "aiff.ticket.enriched.v1"
T_PLAN = "aiff.plan.updated.v1"
T_STATUS = TicketStatusChanged.event_type()
ENGINE_TYPES = (T_ASSIGNED, T_UNASSIGNED, T_DEFERRED, T_PLAN)
ID_BASE = 6_000_000_000
"""Bench ticket ids live in [6e9, 1e10): upstream ids (aiff.ids.UPSTREAM_TICKET_IDS; the API allocates above), each run
above the previous runs' tickets and the clock's share of the range."""
ID_LIMIT = UPSTREAM_TICKET_IDS.stop
PRIORITY_WEIGHTS = {"critical": 0.05, "high": 0.20, "medium": 0.45, "low": 0.30}
PLANNED_FOR = re.compile(r"planned for team (\d+) on (\d{4}-\d{2}-\d{2})")
TARGETS = {"steady_p99_s": 5.0, "burst_decided_s": 60.0, "burst_lag0_s": 90.0, "quiet_events": 0, "enrich_per_s": 1000.0,
           "load_lag0_after_s": 5.0}  # fmt: skip


# ---------------------------------------------------------------------------------------------- pure helpers


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (the same rule as bench/live.py and bench/api.py); NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    """count, mean, p50, p95, p99, max (None when empty)."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    r = lambda v: round(v, digits)  # noqa: E731
    return {"count": len(values), "mean": r(sum(values) / len(values)), "p50": r(percentile(values, 50)),
            "p95": r(percentile(values, 95)), "p99": r(percentile(values, 99)), "max": r(max(values))}  # fmt: skip


@dataclass(frozen=True)
class Obs:
    """One observation about one ticket, in log order: what churn counting needs.

    kind: assigned (team_id, plan_date may be set), unassigned, deferred (code, reason), planned (a plan.updated
    visit: team_id, plan_date)."""

    ts: int  # record timestamp (ms)
    seq: int  # consumption order (ties)
    kind: str
    team_id: int | None = None
    plan_date: str | None = None
    code: str | None = None
    reason: str | None = None


@dataclass
class Churn:
    assignment_changes: int = 0
    placement_changes: int = 0
    day_changes: int = 0


def churn_of(observations: list[Obs]) -> Churn:
    """Count one ticket's churn from its observations (sorted here by time, then consumption order).

    Assignment change: `ticket.assigned` to a team other than the one it was last assigned to (the first
    assignment is no change), or a `ticket.unassigned`. Placement change: the ticket planned on another team-day
    than where it was last planned — from plan.updated visits, `planned_later` deferrals (whose reason names team
    and day) and assignments carrying a plan_date; `day_changes` counts those whose plan_date differs.
    """
    out = Churn()
    last_team: int | None = None
    placed: tuple[int, str] | None = None
    for o in sorted(observations, key=lambda o: (o.ts, o.seq)):
        where: tuple[int, str] | None = None
        if o.kind == "assigned":
            if last_team is not None and o.team_id != last_team:
                out.assignment_changes += 1
            last_team = o.team_id
            if o.plan_date is not None and o.team_id is not None:
                where = (o.team_id, o.plan_date)
        elif o.kind == "unassigned":
            out.assignment_changes += 1
        elif o.kind == "deferred" and o.code == "planned_later" and o.reason:
            m = PLANNED_FOR.search(o.reason)
            if m:
                where = (int(m.group(1)), m.group(2))
        elif o.kind == "planned" and o.team_id is not None and o.plan_date is not None:
            where = (o.team_id, o.plan_date)
        if where is not None:
            if placed is not None and where != placed:
                out.placement_changes += 1
                if where[1] != placed[1]:
                    out.day_changes += 1
            placed = where
    return out


def churn_summary(per_ticket: dict[int, list[Obs]], tickets: list[int]) -> dict[str, Any]:
    """mean / p99 / max per ticket of each churn count over `tickets` (a ticket never observed counts 0)."""
    counts = [churn_of(per_ticket.get(t, [])) for t in tickets]
    out: dict[str, Any] = {"tickets": len(tickets)}
    for name in ("assignment_changes", "placement_changes", "day_changes"):
        vals = [float(getattr(c, name)) for c in counts]
        out[name] = {"mean": round(sum(vals) / len(vals), 4) if vals else None, "p99": percentile(vals, 99) if vals else None,
                     "max": max(vals) if vals else None, "total": int(sum(vals)), "tickets_with_any": sum(1 for v in vals if v)}  # fmt: skip
    return out


def decision_latencies(created: dict[int, int], decided: dict[int, int], tickets: list[int]) -> tuple[list[float], list[int]]:
    """Seconds from creation to first decision for `tickets` (record timestamps, ms) and the undecided ones."""
    lat, undecided = [], []
    for t in tickets:
        if t in created and t in decided:
            lat.append((decided[t] - created[t]) / 1000)
        else:
            undecided.append(t)
    return lat, undecided


def rate_while_backlogged(samples: list[tuple[float, int, int]]) -> float | None:
    """Records/s a consumer applied over the sampling intervals that began with a backlog.

    samples: (monotonic s, lag records, applied records) in time order. None when it never had a backlog."""
    done, spent = 0, 0.0
    for (t0, lag0, a0), (t1, _, a1) in zip(samples, samples[1:]):
        if lag0 > 0 and t1 > t0:
            done += max(0, a1 - a0)
            spent += t1 - t0
    return done / spent if spent > 0 and done > 0 else None


def enrichment_rate(times_ms: list[int], start_ms: int, batch_gap_ms: int = 50) -> dict[str, Any]:
    """Enrichments of a backlog over time (record timestamps, ms; the backlog began at `start_ms`).

    `per_s`: throughput while draining — the enrichments after the first published batch (those within
    `batch_gap_ms` of the first) over the time from the first to the last (None when one batch did it all);
    `per_s_from_burst`: all of them over the time from the backlog's start to the last one (includes the wait
    for the projector and the first batch); `best_second`: most in one second."""
    if not times_ms:
        return {"count": 0, "per_s": None, "per_s_from_burst": None, "best_second": None, "first_after_s": None, "all_done_after_s": None}
    ts = sorted(times_ms)
    span = (ts[-1] - ts[0]) / 1000
    after_first = sum(1 for t in ts if t - ts[0] > batch_gap_ms)
    buckets = Counter((t - ts[0]) // 1000 for t in ts)
    return {
        "count": len(ts), "per_s": round(after_first / span, 1) if after_first and span > 0 else None,
        "per_s_from_burst": round(len(ts) / max(1e-3, (ts[-1] - start_ms) / 1000), 1),
        "best_second": max(buckets.values()), "first_after_s": round((ts[0] - start_ms) / 1000, 3),
        "all_done_after_s": round((ts[-1] - start_ms) / 1000, 3),
    }  # fmt: skip


def clusters(times_ms: list[int], start_ms: int, gap_ms: int = 2000) -> list[dict[str, Any]]:
    """Events grouped into bursts (no gap longer than `gap_ms` inside one): when each began (s after `start_ms`)
    and how many it held. One burst in a quiet window is one re-plan (e.g. the scheduled full re-plan)."""
    out: list[dict[str, Any]] = []
    last = None
    for t in sorted(times_ms):
        if last is None or t - last > gap_ms:
            out.append({"at_s": round((t - start_ms) / 1000, 3), "events": 0})
        out[-1]["events"] += 1
        last = t
    return out


# ------------------------------------------------------------------------------------------- the observer


@dataclass
class Observed:
    """What the bench's consumer saw since the run's start offsets."""

    created: dict[int, int] = field(default_factory=dict)  # ticket -> record ts (ms)
    round_trip: dict[int, float] = field(default_factory=dict)  # ticket -> consumed (wall s) - record ts
    first_decision: dict[int, tuple[int, str]] = field(default_factory=dict)  # ticket -> (ts, type)
    enriched: dict[int, int] = field(default_factory=dict)  # ticket -> first enrichment ts
    per_ticket: dict[int, list[Obs]] = field(default_factory=lambda: defaultdict(list))
    engine_events: list[tuple[int, str, bool]] = field(default_factory=list)  # (ts, type, about a bench ticket)
    status: dict[int, str] = field(default_factory=dict)  # the bench's view of each bench ticket's status
    records: int = 0


class Observer:
    """Reads the tickets and teams topics from the run's start offsets (plain consumer, no group) into `Observed`."""

    def __init__(self, bootstrap: str, topics: list[str], lo: int, hi: int) -> None:
        self.bootstrap, self.topics, self.lo, self.hi = bootstrap, topics, lo, hi
        self.seen = Observed()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._seq = 0

    async def start(self) -> None:
        c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=4 * 1024 * 1024)  # fmt: skip
        await c.start()
        tps = await _partitions(self.bootstrap, self.topics)
        c.assign(tps)
        ends = await c.end_offsets(tps)
        for tp in tps:
            c.seek(tp, ends[tp])  # the run starts now: nothing before is the bench's
        self._consumer = c
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await asyncio.wait_for(self._consumer.stop(), 10)

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.time()
            for records in batches.values():
                for r in records:
                    self._record(r, now)

    def mine(self, ticket_id: int) -> bool:
        return self.lo <= ticket_id < self.hi

    def _record(self, r: Any, now: float) -> None:  # noqa: C901 - one dispatch on the event type
        seen = self.seen
        seen.records += 1
        self._seq += 1
        ce_type = next((v.decode() for k, v in (r.headers or ()) if k == "ce_type"), None)
        if r.topic.endswith(".teams"):
            if ce_type not in (None, T_PLAN):
                return
            event = _loads(r.value)
            if event is None or event.get("type") != T_PLAN or event.get("source") != ENGINE_SOURCE:
                return
            data = event.get("data") or {}
            ours = False
            for v in data.get("visits") or ():
                tid = v.get("ticket_id")
                if isinstance(tid, int) and self.mine(tid):
                    ours = True
                    seen.per_ticket[tid].append(Obs(r.timestamp, self._seq, "planned", data.get("team_id"), data.get("plan_date")))
            seen.engine_events.append((r.timestamp, T_PLAN, ours))
            return
        try:
            tid = int(r.key) if r.key else None
        except ValueError:
            tid = None
        ours = tid is not None and self.mine(tid)
        if ce_type is None:  # an upstream publisher without the optional header: read the type from the value
            event = _loads(r.value)
            ce_type = event.get("type") if event else None
        if ce_type == T_CREATED:
            if ours and tid not in seen.created:
                seen.created[tid] = r.timestamp
                seen.round_trip[tid] = now - r.timestamp / 1000
                seen.status[tid] = "open"
            return
        if ce_type == T_ENRICHED:
            if ours and tid not in seen.enriched:
                seen.enriched[tid] = r.timestamp
            return
        if ce_type == T_STATUS and ours:
            event = _loads(r.value)
            if event:
                seen.status[tid] = (event.get("data") or {}).get("status", seen.status.get(tid))
            return
        if ce_type not in (T_ASSIGNED, T_UNASSIGNED, T_DEFERRED):
            return
        event = _loads(r.value)
        if event is None:
            return
        data = event.get("data") or {}
        by_engine = event.get("source") == ENGINE_SOURCE
        if by_engine:
            seen.engine_events.append((r.timestamp, ce_type, ours))
        if not ours:
            return
        if ce_type == T_ASSIGNED:
            seen.status[tid] = "assigned"
            obs = Obs(r.timestamp, self._seq, "assigned", data.get("team_id"), data.get("plan_date"))
        elif ce_type == T_UNASSIGNED:
            seen.status[tid] = "open"
            obs = Obs(r.timestamp, self._seq, "unassigned", data.get("team_id"))
        else:
            obs = Obs(r.timestamp, self._seq, "deferred", code=data.get("code"), reason=data.get("reason"))
        seen.per_ticket[tid].append(obs)
        if by_engine and ce_type != T_UNASSIGNED and tid not in seen.first_decision:
            seen.first_decision[tid] = (r.timestamp, ce_type)


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of `topics`; a clear exit when the system is not up."""
    try:
        return await partitions_of(bootstrap, topics)
    except LookupError as exc:
        raise SystemExit(f"{exc}: is the system up (`make up`)?") from exc


def _loads(value: bytes | None) -> dict | None:
    try:
        out = json.loads(value) if value else None
    except ValueError:
        return None
    return out if isinstance(out, dict) else None


# -------------------------------------------------------------------------------------------- the engine's lag


class EngineLag:
    """The engine group's lag: log end of the topics it consumes minus its stored positions (Postgres)."""

    def __init__(self, resources: Resources, consumer_name: str) -> None:
        self.resources, self.name = resources, consumer_name
        self.topics = resources.topics.domain  # what aiff.consumers.assignment.build subscribes to
        self._probe: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []

    async def start(self) -> None:
        self._probe = AIOKafkaConsumer(bootstrap_servers=self.resources.settings.kafka_bootstrap_servers, enable_auto_commit=False)
        await self._probe.start()
        self._tps = await _partitions(self.resources.settings.kafka_bootstrap_servers, self.topics)

    async def stop(self) -> None:
        if self._probe:
            await asyncio.wait_for(self._probe.stop(), 10)

    async def sample(self) -> tuple[int, int]:
        """(lag, applied) in records, over every partition of the topics the engine reads."""
        assert self._probe is not None
        ends = {(tp.topic, tp.partition): o for tp, o in (await asyncio.wait_for(self._probe.end_offsets(self._tps), 10)).items()}
        stored = await applied_positions(self.resources.pool, self.name)
        lag = bench_live.behind(ends, stored, missing_is_caught_up=False)
        return lag, sum(min(stored.get(tp, 0), end) for tp, end in ends.items())

    async def members(self) -> int:
        s = self.resources.settings
        try:
            return len(await asyncio.wait_for(live_members(s.kafka_bootstrap_servers, group_id(s, self.name)), 10))
        except Exception:  # noqa: BLE001 - informational only
            return -1

    async def wait_zero(self, timeout_s: float, every_s: float = 0.2) -> float | None:
        """Seconds until the lag is 0, or None after `timeout_s`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            lag, _ = await self.sample()
            if lag == 0:
                return time.monotonic() - started
            await asyncio.sleep(every_s)
        return None


class Sampler:
    """Samples the engine's lag every `every_s` in the background: (monotonic, lag, applied)."""

    def __init__(self, lag: EngineLag, every_s: float) -> None:
        self.lag, self.every_s = lag, every_s
        self.samples: list[tuple[float, int, int]] = []
        self._task: asyncio.Task | None = None

    def start(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            lag, applied = await self.lag.sample()
            self.samples.append((time.monotonic(), lag, applied))
            await asyncio.sleep(self.every_s)

    async def stop(self) -> list[tuple[float, int, int]]:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.samples


# ------------------------------------------------------------------------------------------------ the tickets


class Tickets:
    """Bench tickets: fresh ids, realistic text and sites in the auto zones."""

    def __init__(self, zones: list[str], first_id: int, hi: int, seed: int) -> None:
        self.zones = [z for z in zones if PLACES_BY_ZONE.get(z)]
        if not self.zones:
            raise SystemExit("no zone with assignment_mode 'auto' is known: seed the system first (`make up`)")
        self.next_id, self.hi = first_id, hi
        self.rng = random.Random(seed)
        self.created: list[int] = []

    def create(self, n: int) -> list[Envelope]:
        out = []
        rng = self.rng
        for _ in range(n):
            if self.next_id >= self.hi:
                raise RuntimeError("the run used up its reserved id range")
            tid = self.next_id
            self.next_id += 1
            zone = rng.choice(self.zones)
            places = PLACES_BY_ZONE[zone]
            place = rng.choices(places, weights=[p.weight for p in places])[0]
            lat, lon = _near(rng, place.latitude, place.longitude, place.radius_km)
            skill = rng.choice(SKILLS)
            priority = rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()))[0]
            customer = person_name(rng, zone)
            title, description = compose(rng, skill=skill, priority=priority, town=place.name, zone=zone, customer=customer)
            out.append(ticket_event(TicketCreated, {
                "ticket_id": tid, "title": title, "description": description, "priority": priority, "category": skill,
                "zone": zone, "location": place.name, "latitude": lat, "longitude": lon, "customer_name": customer,
                "created_by": "bench-engine",
            }, source=SOURCE))  # fmt: skip
            self.created.append(tid)
        return out


def _near(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    return round(lat + r * math.cos(a) / 111.32, 5), round(lon + r * math.sin(a) / (111.32 * math.cos(math.radians(lat))), 5)


# ---------------------------------------------------------------------------------------------------- phases


@dataclass
class Context:
    args: argparse.Namespace
    resources: Resources
    observer: Observer
    tickets: Tickets
    run_started_ms: int
    lags: dict[str, EngineLag] = field(default_factory=dict)
    engine_rate: float | None = None  # records/s the engine applied while backlogged (burst, else load)
    dead_letters_start: int = 0

    async def lag(self, group: str) -> EngineLag:
        if group not in self.lags:
            self.lags[group] = EngineLag(self.resources, group)
            await self.lags[group].start()
        return self.lags[group]


async def _until(cond, timeout_s: float, every_s: float = 0.1) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(every_s)
    return cond()


async def _publish_paced(ctx: Context, rate: float, seconds: float, make) -> int:  # noqa: ANN001
    """Publish `make(n)` events at `rate`/s for `seconds` in 50 ms slices; returns how many."""
    total, tick, sent = int(rate * seconds), 0.05, 0
    started = time.perf_counter()
    pending: list[asyncio.Task] = []
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        if due > sent:
            batch = make(due - sent)
            sent = due
            if batch:
                pending.append(asyncio.create_task(ctx.resources.publisher.publish_many(batch)))
        await asyncio.sleep(tick)
    await asyncio.gather(*pending)
    return sent


async def phase_steady(ctx: Context, group: str) -> dict[str, Any]:
    a, seen = ctx.args, ctx.observer.seen
    lag = await ctx.lag(group)
    first = len(ctx.tickets.created)
    started = time.perf_counter()
    sent = await _publish_paced(ctx, a.steady_rate, a.steady_seconds, ctx.tickets.create)
    elapsed = time.perf_counter() - started
    mine = ctx.tickets.created[first:]
    await _until(lambda: all(t in seen.first_decision for t in mine), a.decide_timeout)
    decided = {t: v[0] for t, v in seen.first_decision.items()}
    lat, undecided = decision_latencies(seen.created, decided, mine)
    rt = [seen.round_trip[t] for t in mine if t in seen.round_trip]
    kinds = Counter(seen.first_decision[t][1].split(".")[-2] for t in mine if t in seen.first_decision)
    return {"group": group, "instances": await lag.members(), "rate_target": a.steady_rate, "seconds": a.steady_seconds,
            "created": sent, "rate_achieved": round(sent / elapsed, 1), "decision_latency_s": summary(lat),
            "undecided": len(undecided), "first_decisions": dict(kinds),
            "baseline_kafka_round_trip_s": summary(rt, 4)}  # fmt: skip


async def phase_burst(ctx: Context, group: str) -> dict[str, Any]:
    a, seen = ctx.args, ctx.observer.seen
    lag = await ctx.lag(group)
    events = ctx.tickets.create(a.burst)
    mine = [int(e.subject) for e in events]
    sampler = Sampler(lag, 0.25).start()
    t0_wall = time.time()
    t0 = time.monotonic()
    await ctx.resources.publisher.publish_many(events)
    published_s = time.monotonic() - t0
    lag0_s: float | None = None
    deadline = t0 + a.burst_timeout
    while time.monotonic() < deadline:  # until every ticket is decided and enriched and the lag was 0 once
        done = all(t in seen.first_decision for t in mine)
        enriched = all(t in seen.enriched for t in mine) or a.no_enrichment
        if lag0_s is None and sampler.samples and sampler.samples[-1][0] > t0 + published_s and sampler.samples[-1][1] == 0:
            lag0_s = sampler.samples[-1][0] - t0
        if done and enriched and lag0_s is not None:
            break
        await asyncio.sleep(0.1)
    samples = await sampler.stop()
    start_ms = int(t0_wall * 1000)
    decided = {t: v[0] for t, v in seen.first_decision.items()}
    lat, undecided = decision_latencies(seen.created, decided, mine)
    decided_in = max((decided[t] for t in mine if t in decided), default=None)
    all_seen = max((seen.created[t] + seen.round_trip[t] * 1000 for t in mine if t in seen.created), default=None)
    rate = rate_while_backlogged(samples)
    if rate:
        ctx.engine_rate = rate
    kinds = Counter(seen.first_decision[t][1].split(".")[-2] for t in mine if t in seen.first_decision)
    enr = enrichment_rate([seen.enriched[t] for t in mine if t in seen.enriched], start_ms)
    return {
        "group": group, "instances": await lag.members(), "tickets": a.burst, "publish_s": round(published_s, 3),
        "decided_all_s": None if undecided or decided_in is None else round((decided_in - start_ms) / 1000, 3),
        "decided": len(mine) - len(undecided), "undecided": len(undecided), "first_decisions": dict(kinds),
        "decision_latency_s": summary(lat), "lag0_s": None if lag0_s is None else round(lag0_s, 3),
        "max_lag_records": max((s[1] for s in samples), default=None), "engine_records_per_s_backlogged": None if rate is None else round(rate, 1),
        "baseline_bench_consumer_read_all_s": None if all_seen is None else round((all_seen - start_ms) / 1000, 3),
        "enrichment": enr, "enriched": enr["count"], "timeout_s": a.burst_timeout,
    }  # fmt: skip


async def phase_load(ctx: Context, group: str) -> dict[str, Any]:
    """Mixed ticket events at a rate: 40% creations, 35% updates, 25% status changes of the run's own tickets
    (each valid from the status the bench last saw: assigned -> in_progress -> completed, else cancelled)."""
    a, seen = ctx.args, ctx.observer.seen
    rng = random.Random(a.seed + 5)
    lag = await ctx.lag(group)
    changed: set[int] = set()
    mix: Counter[str] = Counter()

    def make(n: int) -> list[Envelope]:
        out: list[Envelope] = []
        live = ctx.tickets.created
        for _ in range(n):
            roll = rng.random()
            if roll < 0.40 or len(live) < 50:
                out += ctx.tickets.create(1)
                mix["created"] += 1
                continue
            tid = live[-1 - int(rng.random() ** 2 * min(len(live), 5000))]  # mostly recent tickets
            status = seen.status.get(tid)
            if status in (None, "cancelled", "completed", "closed") or tid in changed:
                out += ctx.tickets.create(1)
                mix["created"] += 1
            elif roll < 0.75:
                out.append(ticket_event(TicketUpdated, {"ticket_id": tid, "priority": rng.choice(list(PRIORITY_WEIGHTS)),
                                                        "updated_by": "bench-engine"}, source=SOURCE))  # fmt: skip
                mix["updated"] += 1
            else:
                target = {"assigned": "in_progress", "in_progress": "completed"}.get(status, "cancelled")
                out.append(ticket_event(TicketStatusChanged, {"ticket_id": tid, "status": target, "changed_by": "bench-engine"}, source=SOURCE))
                seen.status[tid] = target  # the bench's own view until the event comes back
                changed.add(tid)  # one change per ticket in flight: never two transitions racing each other
                mix[f"status:{target}"] += 1
        return out

    async def unlock() -> None:  # a ticket may change again once its last change came back through Kafka
        while True:
            await asyncio.sleep(2)
            changed.clear()

    sampler = Sampler(lag, 1.0).start()
    unlocker = asyncio.create_task(unlock())
    started = time.perf_counter()
    sent = await _publish_paced(ctx, a.load_rate, a.load_seconds, make)
    elapsed = time.perf_counter() - started
    unlocker.cancel()
    stopped = time.monotonic()
    after = await lag.wait_zero(a.lag_timeout, every_s=0.2)
    samples = await sampler.stop()
    load_samples = [s for s in samples if s[0] <= stopped]
    rate = ctx.engine_rate or rate_while_backlogged(samples)
    source = "burst" if ctx.engine_rate else "load"
    lags = [s[1] for s in load_samples]
    work = [lag_ / rate for lag_ in lags] if rate else []
    return {
        "group": group, "instances": await lag.members(), "rate_target": a.load_rate, "seconds": a.load_seconds, "events": sent,
        "rate_achieved": round(sent / elapsed, 1), "mix": dict(mix), "max_lag_records": max(lags, default=None),
        "engine_records_per_s": None if rate is None else round(rate, 1), "engine_rate_measured_in": source,
        "max_lag_seconds_of_work": round(max(work), 3) if work else None,
        "p99_lag_seconds_of_work": round(percentile(work, 99), 3) if work else None,
        "lag0_after_load_s": None if after is None else round(after, 3),
    }  # fmt: skip


async def phase_quiet(ctx: Context, group: str) -> dict[str, Any]:
    a, seen = ctx.args, ctx.observer.seen
    lag = await ctx.lag(group)
    waited = await lag.wait_zero(a.lag_timeout, every_s=0.5)
    # the observer must have read up to now too: a decision published just before lag 0 is not quiet-phase work
    await asyncio.sleep(1.0)
    start_ms = int(time.time() * 1000)
    await asyncio.sleep(a.quiet_seconds)
    await asyncio.sleep(1.0)  # what the engine published in the last instant reaches the observer
    end_ms = start_ms + int(a.quiet_seconds * 1000)
    events = [(ts, ty, ours) for ts, ty, ours in seen.engine_events if start_ms <= ts < end_ms]
    by_type = Counter(ty.split(".", 1)[1].rsplit(".", 1)[0] for ts, ty, ours in events)
    return {"group": group, "instances": await lag.members(), "seconds": a.quiet_seconds,
            "waited_for_lag0_s": None if waited is None else round(waited, 3), "lag_reached_0": waited is not None,
            "engine_events": len(events), "by_type": {k: by_type.get(k, 0) for k in ("ticket.assigned", "ticket.unassigned",
                                                                                   "assignment.deferred", "plan.updated")},
            "about_bench_tickets": sum(1 for *_, ours in events if ours),
            "bursts": clusters([ts for ts, *_ in events], start_ms),
            "full_replan_interval_s": ctx.resources.settings.assignment_full_replan_interval_s}  # fmt: skip


def phase_churn(ctx: Context) -> dict[str, Any]:
    seen = ctx.observer.seen
    return churn_summary(seen.per_ticket, list(ctx.tickets.created))


PHASES = {"steady": phase_steady, "burst": phase_burst, "load": phase_load, "quiet": phase_quiet}


async def measure_phase(ctx: Context, phase: str, group: str = "assignment") -> dict[str, Any]:
    """Measure one phase against the engine consumer group `group` (its name without the topic prefix).

    The hook for one vs two engine instances: run `aiff worker assignment` once, `measure_phase(ctx, "burst")`,
    start a second `aiff worker assignment` (same group: Kafka splits the partitions), wait until the result's
    `instances` is 2, and measure again — the figures side by side are the comparison DESIGN asks for."""
    if phase == "churn":
        return phase_churn(ctx)
    return await PHASES[phase](ctx, group)


# ------------------------------------------------------------------------------------------------- reporting


def machine() -> dict[str, Any]:
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = round(int(next(line for line in f if line.startswith("MemTotal")).split()[1]) / 1024**2, 1)
    except (OSError, StopIteration, ValueError):
        pass
    root = Path(__file__).resolve().parents[1]

    def git(*cmd: str) -> str | None:
        try:
            return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    return {"cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(), "platform": platform.platform(),
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}  # fmt: skip


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}{unit}"
    return f"{v:,}{unit}" if isinstance(v, int) else f"{v}{unit}"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) for the table."""
    out: list[tuple[str, str, str, str]] = []

    def check(name: str, value: Any, target: str, ok: bool | None, unit: str = "") -> None:
        out.append((name, _fmt(value, unit), target, "-" if ok is None else ("PASS" if ok else "FAIL")))

    if s := results.get("steady"):
        lat = s["decision_latency_s"]
        check(f"steady {s['rate_achieved']}/s x {s['seconds']:g} s: creation -> decision p50", lat["p50"], "", None, " s")
        check("  p95", lat["p95"], "", None, " s")
        check("  p99", lat["p99"], "< 5 s", lat["p99"] is not None and lat["p99"] < TARGETS["steady_p99_s"] and not s["undecided"], " s")
        check("  max", lat["max"], "", None, " s")
        check("  undecided", s["undecided"], "0", s["undecided"] == 0)
        rt = s["baseline_kafka_round_trip_s"]
        check("  baseline: Kafka round trip p50 / p99", f"{_fmt(rt['p50'])} / {_fmt(rt['p99'])}", "(floor)", None, " s")
    if b := results.get("burst"):
        check(f"burst {b['tickets']:,} at once: every ticket decided in", b["decided_all_s"], "<= 60 s",
              b["decided_all_s"] is not None and b["decided_all_s"] <= TARGETS["burst_decided_s"], " s")  # fmt: skip
        check("  undecided", b["undecided"], "0", b["undecided"] == 0)
        check("  engine lag 0 after", b["lag0_s"], "<= 90 s", b["lag0_s"] is not None and b["lag0_s"] <= TARGETS["burst_lag0_s"], " s")
        check("  engine max lag (records) / drain rate (records/s)", f"{_fmt(b['max_lag_records'])} / {_fmt(b['engine_records_per_s_backlogged'])}", "", None)
        check("  baseline: bench consumer read all creations in", b["baseline_bench_consumer_read_all_s"], "(floor)", None, " s")
        e = b["enrichment"]
        one_batch = e["per_s"] is None and e["count"] == b["tickets"]  # enriched in one batch: no draining rate to measure
        check(f"  AI enrichment while draining the backlog ({e['count']:,} of {b['tickets']:,})",
              "one batch (burst too small)" if one_batch else e["per_s"], ">= 1,000/s",
              None if one_batch else e["per_s"] is not None and e["per_s"] >= TARGETS["enrich_per_s"] and e["count"] == b["tickets"], "" if one_batch else " /s")  # fmt: skip
        check("    from the burst's start (incl. first batch) / best second", f"{_fmt(e['per_s_from_burst'])}/s / {_fmt(e['best_second'])}", "", None)
        check("    first / last enrichment after", f"{_fmt(e['first_after_s'])} / {_fmt(e['all_done_after_s'])} s", "", None)
    if ld := results.get("load"):
        check(f"load {ld['rate_achieved']}/s x {ld['seconds']:g} s mixed: max engine lag", ld["max_lag_seconds_of_work"], "", None, " s of work")
        check(f"  (max {_fmt(ld['max_lag_records'])} records at {_fmt(ld['engine_records_per_s'])} records/s from the {ld['engine_rate_measured_in']})", "", "", None)
        check("  lag 0 after the load stopped", ld["lag0_after_load_s"], "<= 5 s (soak row)",
              ld["lag0_after_load_s"] is not None and ld["lag0_after_load_s"] <= TARGETS["load_lag0_after_s"], " s")  # fmt: skip
    if q := results.get("quiet"):
        check(f"quiet {q['seconds']:g} s: engine events", q["engine_events"], "0", q["lag_reached_0"] and q["engine_events"] == 0)
        for k, v in q["by_type"].items():
            check(f"  {k}", v, "0", None)
        if q["bursts"]:
            check("  in bursts (s into the window: events)", ", ".join(f"{b['at_s']:.0f}: {b['events']}" for b in q["bursts"][:8]), "", None)
            check(f"  (the engine's scheduled full re-plan runs every {q['full_replan_interval_s']:g} s, as configured here)", "", "", None)
    if c := results.get("churn"):
        for name in ("assignment_changes", "placement_changes", "day_changes"):
            x = c[name]
            check(f"churn per ticket ({c['tickets']:,}): {name.replace('_', ' ')} mean / p99 / max",
                  f"{_fmt(x['mean'])} / {_fmt(x['p99'])} / {_fmt(x['max'])}", "", None)  # fmt: skip
    return out


def print_table(table: list[tuple[str, str, str, str]]) -> None:
    w = [max(len(r[i]) for r in table) for i in range(4)] if table else [0] * 4
    print(f"\n{'figure':<{w[0]}}  {'value':>{w[1]}}  {'target':<{max(w[2], 6)}}  verdict")
    for name, value, target, verdict in table:
        print(f"{name:<{w[0]}}  {value:>{w[1]}}  {target:<{max(w[2], 6)}}  {verdict}")


# ---------------------------------------------------------------------------------------------------- the run


def _loopback(settings: Settings) -> None:
    """Traffic only to this machine."""
    hosts = [h.rsplit(":", 1)[0] for h in settings.kafka_bootstrap_servers.split(",")] + [urlparse(settings.database_url).hostname or ""]
    bad = [h for h in hosts if h not in ("127.0.0.1", "localhost", "::1", "[::1]")]
    if bad:
        raise SystemExit(f"refusing to run against non-loopback hosts: {bad}")


async def first_free_id(resources: Resources, reserve: int) -> int:
    """Above every bench ticket already projected, and above the clock's share of the range."""
    top = await resources.pool.fetchval("SELECT max(id) FROM tickets WHERE id >= $1 AND id < $2", ID_BASE, ID_LIMIT)
    clock = ID_BASE + max(0, int(time.time()) - 1_750_000_000) * 10
    first = max(clock, (top or 0) + 1000)
    if first + reserve >= ID_LIMIT:
        raise SystemExit("the bench id range is used up; pass --id-base")
    return first


async def cleanup(ctx: Context) -> int:
    """Cancel the run's tickets that the read models hold still open (cancelled is valid from each open status)."""
    await asyncio.sleep(1.0)
    rows = await ctx.resources.pool.fetch("SELECT id FROM tickets WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[])",
                                          ctx.tickets.created, ["open", "assigned", "in_progress", "reopened"])  # fmt: skip
    todo = [r["id"] for r in rows]
    for at in range(0, len(todo), 2000):
        await ctx.resources.publisher.publish_many(
            ticket_event(TicketStatusChanged, {"ticket_id": t, "status": "cancelled", "changed_by": "bench-engine",
                                               "notes": "bench clean-up"}, source=SOURCE) for t in todo[at : at + 2000])  # fmt: skip
    return len(todo)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    settings = settings.model_copy(update={"kafka_publish_timeout_s": max(settings.kafka_publish_timeout_s, 60.0)})
    _loopback(settings)
    phases = [p for p in ("steady", "burst", "load", "quiet", "churn") if p in args.phases]
    results: dict[str, Any] = {}
    async with open_resources(settings, with_redis=True, create_topics=False, pool_size=4) as resources:
        zones = [r["name"] for r in await resources.pool.fetch("SELECT name FROM zones WHERE assignment_mode = 'auto' ORDER BY name")]
        reserve = int(args.steady_rate * args.steady_seconds) + args.burst + int(args.load_rate * args.load_seconds) + 1000
        first_id = args.id_base or await first_free_id(resources, reserve)
        print(f"engine bench: tickets {first_id:,} … in {len(zones)} auto zones; phases {', '.join(phases)}; "
              f"consumer group {group_id(settings, args.group)}", flush=True)  # fmt: skip
        if not args.no_settle:
            await bench_live.settle(resources, timeout_s=args.lag_timeout)
        dlq_start = sum((await end_offsets(settings.kafka_bootstrap_servers, [resources.topics.dead_letters])).values())
        observer = Observer(settings.kafka_bootstrap_servers, [resources.topics.tickets, resources.topics.teams], first_id, first_id + reserve)
        await observer.start()
        ctx = Context(args, resources, observer, Tickets(zones, first_id, first_id + reserve, args.seed), int(time.time() * 1000))
        try:
            for phase in phases:
                if phase in ("burst", "load") and not args.no_settle:  # start from an idle engine (and AI, for the rate)
                    await bench_live.settle(resources, timeout_s=args.lag_timeout)
                print(f"-- {phase}", flush=True)
                t = time.monotonic()
                results[phase] = await measure_phase(ctx, phase, args.group)
                print(f"   {phase} done in {time.monotonic() - t:.1f} s: {json.dumps(results[phase], default=str)[:600]}", flush=True)
        finally:
            if not args.keep and ctx.tickets.created:
                n = await cleanup(ctx)
                print(f"cancelled {n:,} of the run's {len(ctx.tickets.created):,} tickets (--keep leaves them)", flush=True)
            dead_letters = sum((await end_offsets(settings.kafka_bootstrap_servers, [resources.topics.dead_letters])).values()) - dlq_start
            if dead_letters:
                print(f"note: {dead_letters:,} dead letters during the run (`aiff dlq list`; a status change racing the engine is refused)", flush=True)
            await observer.stop()
            for lag in ctx.lags.values():
                await lag.stop()
    return {"bench": "engine", "time": datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
            "config": {k: v for k, v in vars(args).items() if k not in ("json",)} | {"first_ticket_id": first_id,
                       "tickets_created": len(ctx.tickets.created), "dead_letters_during_run": dead_letters, "observer_records": observer.seen.records,
                       "topic_prefix": settings.topic_prefix},
            "results": results}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phases", default=None, help="comma list of steady,burst,load,quiet,churn (default: all but load; load when --load-rate is given)")
    ap.add_argument("--steady-rate", type=float, default=20.0, help="creations/s (default 20)")
    ap.add_argument("--steady-seconds", type=float, default=60.0)
    ap.add_argument("--burst", type=int, default=3000, help="creations published at once (10000: the issue's target)")
    ap.add_argument("--burst-timeout", type=float, default=300.0, help="most seconds to wait for the burst's figures")
    ap.add_argument("--quiet-seconds", type=float, default=120.0)
    ap.add_argument("--load-rate", type=float, default=None, help="mixed ticket events/s (e.g. 300); enables the load phase")
    ap.add_argument("--load-seconds", type=float, default=300.0)
    ap.add_argument("--decide-timeout", type=float, default=60.0, help="steady: most seconds to wait for decisions after the last creation")
    ap.add_argument("--lag-timeout", type=float, default=300.0, help="most seconds to wait for a lag of 0 / the consumers to catch up")
    ap.add_argument("--group", default="assignment", help="the engine's consumer (group <prefix>.<name>)")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--id-base", type=int, default=None, help="first ticket id (default: fresh above earlier runs)")
    ap.add_argument("--no-settle", action="store_true", help="do not wait for every consumer to catch up before the run and the burst/load")
    ap.add_argument("--no-enrichment", action="store_true", help="burst: do not wait for the AI's enrichments")
    ap.add_argument("--keep", action="store_true", help="leave the run's tickets open (default: cancel them after the run)")
    ap.add_argument("--json", metavar="PATH", help="write the figures, the machine and the commit as JSON")
    ap.add_argument("--save", action="store_true", help="also write bench/results/engine-<date>.json")
    args = ap.parse_args(argv)
    if args.phases is None:
        args.phases = "steady,burst,quiet,churn" + (",load" if args.load_rate else "")
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - {"steady", "burst", "load", "quiet", "churn"}
    if unknown:
        ap.error(f"unknown phases: {sorted(unknown)}")
    if "load" in args.phases and not args.load_rate:
        args.load_rate = 300.0
    if not args.load_rate:
        args.load_rate, args.load_seconds = 0.0, 0.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    table = rows(report["results"])
    report["table"] = [dict(zip(("figure", "value", "target", "verdict"), r)) for r in table]
    m = report["machine"]
    print(f"\nengine bench on {m['cores']} cores, {m['memory_gib']} GiB, commit {str(m['git_commit'])[:10]}{' (dirty)' if m['git_dirty'] else ''}")
    print_table(table)
    paths = [args.json] if args.json else []
    if args.save:
        paths.append(str(Path(__file__).resolve().parent / "results" / f"engine-{date.today().isoformat()}.json"))
    for p in paths:
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        Path(p).write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"wrote {p}")
    return 0 if all(r[3] != "FAIL" for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
