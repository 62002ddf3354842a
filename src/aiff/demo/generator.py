"""Deterministic demo data for AIFF, as events.

``generate()`` builds a :class:`DemoData` holding three ordered lists of contract events:

* ``zone_events`` – one ``ZoneConfigured`` per zone (most ``auto``, two or three ``manual``);
* ``team_events`` – one ``TeamCreated`` per team (ids 1..N), spread over zones by population;
* ``ticket_events`` – the full history of ``tickets`` tickets in time order: ``TicketCreated``,
  ``TicketAssigned`` and ``TicketStatusChanged`` events that follow the lifecycle of
  :mod:`aiff.events.vocabulary` (assignment, start, completion, closure, reopenings, reassignments,
  cancellations, SLA misses), ending with a live backlog of open and active tickets at ``now``.

The history is a discrete-event simulation: every assignment takes a slot of the team's capacity and
completion, cancellation or reassignment gives it back, so at no time does a team hold more active
(assigned or in progress) tickets than its capacity. Nothing here does I/O; everything, including event
ids, comes from RNGs seeded by ``seed``, so the same arguments always give the same events.

For large runs ``iter_ticket_events()`` yields the ticket events in time-ordered chunks without keeping
them all in memory.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import heapq
import itertools
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np

from aiff.demo import catalog, names
from aiff.demo.places import PLACES, PLACES_BY_ZONE, ZONE_POPULATION, Place
from aiff.events.envelope import Envelope
from aiff.events.teams import TeamCreated, ZoneConfigured, team_event
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketStatusChanged
from aiff.events.vocabulary import OPEN_STATUSES, SKILLS, SLA_HOURS
from aiff.geo import haversine_km, haversine_matrix
from aiff.zones import ZONES

SOURCE = "urn:aiff:demo"
MYT = timezone(timedelta(hours=8))
MIN = 60
HOUR = 3600
DAY = 86400

PRIORITY_WEIGHTS = {"critical": 0.05, "high": 0.20, "medium": 0.45, "low": 0.30}
TEAM_STATUS_WEIGHTS = {"available": 0.82, "busy": 0.08, "offline": 0.05, "on_leave": 0.05}
WORKING_TEAM_STATUSES = frozenset({"available", "busy"})
# Tickets per local weekday (Mon..Sun) and per local hour, relative.
WEEKDAY_FACTOR = (1.3, 1.1, 1.05, 1.0, 0.95, 0.75, 0.5)
HOUR_FACTOR = (0.15, 0.1, 0.1, 0.1, 0.1, 0.15, 0.3, 0.5, 0.9, 1.3, 1.4, 1.35, 1.1, 1.0, 1.25, 1.25,
               1.2, 1.1, 0.8, 0.7, 0.6, 0.45, 0.3, 0.2)
TREND = 0.3  # the last historical day has 30% more tickets than the first
ASSIGN_DELAY_MIN = {"critical": (5, 30), "high": (5, 60), "medium": (5, 120), "low": (5, 120)}
START_DELAY_MIN = {"critical": (10, 45), "high": (15, 180), "medium": (20, 360), "low": (30, 360)}
SERVICE_MEDIAN_MIN = {"fiber": 180, "copper": 120, "wireless": 150, "power": 120, "installation": 100, "equipment": 60}
LATE_PROBABILITY = {"critical": 0.25, "high": 0.18, "medium": 0.12, "low": 0.09}
LATE_PROBABILITY_EAST = {"critical": 0.45, "high": 0.25}  # Sabah and Sarawak: distances, terrain, weather
EAST = frozenset({"Sabah", "Sarawak"})
LIVE_SHARE = 0.30  # tickets created in the live window at the end
STALL_SHARE = 0.90  # of those, the ones still open or active at `now`
CANCEL_RATE, REASSIGN_RATE, REOPEN_RATE, CLOSE_RATE, NO_RATING_RATE = 0.025, 0.03, 0.04, 0.92, 0.12
OVERRIDE_RATE = 0.07  # dispatcher overrides in auto zones
OFFLINE_CUTOFF = 16 * DAY  # teams now offline/on leave only took tickets assigned before now - 16 days
CROSS_ZONE_KM = 300.0
MAX_OWN_CANDIDATES = 30  # dispatch looks at the nearest teams of the zone, not all of them
MAX_OTHER_CANDIDATES = 8
RATING_ON_TIME = ((5, 4, 3, 2, 1), (0.52, 0.30, 0.11, 0.04, 0.03))
RATING_LATE = ((5, 4, 3, 2, 1), (0.12, 0.25, 0.30, 0.19, 0.14))
CREATORS = ("call-centre", "customer-portal", "crm", "mobile-app", "noc-monitor")

# Simulation actions.
_ASSIGN, _START, _COMPLETE, _CLOSE, _REOPEN, _CANCEL, _REASSIGN = range(7)


@dataclass(frozen=True)
class DemoData:
    """Demo data as ordered event lists, plus summary statistics of the simulated history."""

    seed: int
    now: datetime
    start: datetime
    zone_events: list[Envelope]
    team_events: list[Envelope]
    ticket_events: list[Envelope]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> list[Envelope]:
        """Every event in publishing order: zones, teams, then the ticket history."""
        return [*self.zone_events, *self.team_events, *self.ticket_events]

    @property
    def counts(self) -> dict[str, Any]:
        """Sizes and outcome counts, e.g. for logging after publishing."""
        return {
            "zones": len(self.zone_events),
            "teams": len(self.team_events),
            "ticket_events": len(self.ticket_events),
            **self.stats,
        }


@dataclass(slots=True)
class _Team:
    id: int
    zone: str
    town: str
    latitude: float
    longitude: float
    skills: tuple[str, ...]
    capacity: int
    status: str
    members: list[str]
    load: int = 0


@dataclass(slots=True)
class _Ticket:
    id: int
    number: str
    created: int
    live: bool
    zone: str = ""
    place: int = 0
    latitude: float = 0.0
    longitude: float = 0.0
    skill: str = ""
    priority: str = ""
    due: int = 0
    status: str = "open"
    team: int = 0  # index into teams, valid while assigned/in_progress (and kept after, for reopenings)
    technician: str | None = None
    manual: bool = False
    assign_delay: int = 0
    start_delay: int = 0
    service: int = 0
    stall: str | None = None  # live backlog: the status the ticket stays in
    cancel: str | None = None  # "open" or "assigned"
    reassign: bool = False
    reopen: bool = False
    reopened: bool = False
    close: bool = False
    attempts: int = 0
    completed_once: bool = False
    last_event: str | None = None


class _Picker:
    """Weighted choice with precomputed cumulative weights (one `random()` call per draw)."""

    __slots__ = ("items", "cum")

    def __init__(self, items: Any, weights: Any) -> None:
        self.items = tuple(items)
        self.cum = list(itertools.accumulate(weights))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    """`rng.randint(lo, hi)`, faster."""
    return lo + int(rng.random() * (hi - lo + 1))


pick = catalog.pick


def _uniform_point(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    """A point uniformly inside a disc of `radius_km` around (lat, lon)."""
    r = radius_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = r * math.cos(theta) / 111.32
    dlon = r * math.sin(theta) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _apportion(total: int, weights: dict[str, float], minimum: int) -> dict[str, int]:
    """Split `total` over keys by weight (largest remainder), giving each at least `minimum` when possible."""
    keys = list(weights)
    if total < minimum * len(keys):
        minimum = 1 if total >= len(keys) else 0
    out = {k: minimum for k in keys}
    rest = total - minimum * len(keys)
    wsum = sum(weights.values())
    shares = {k: rest * weights[k] / wsum for k in keys}
    for k in keys:
        out[k] += int(shares[k])
    left = total - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(shares[k] - int(shares[k])), -weights[k], k))[:left]:
        out[k] += 1
    return out


def _default_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class _World:
    """Zones, teams and the ticket simulation for one set of arguments."""

    def __init__(self, seed: int, teams: int, tickets: int, days: int, now: datetime | None) -> None:
        if teams < 1 or tickets < 0 or days < 1:
            raise ValueError("need teams >= 1, tickets >= 0 and days >= 1")
        now = _default_now() if now is None else now
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.seed, self.n_teams, self.n_tickets, self.days = seed, teams, tickets, days
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.now_ts = int(self.now.timestamp())
        self.start_ts = self.now_ts - days * DAY
        self.live_window = min(48 * HOUR, days * DAY // 4)
        self.rng = random.Random(f"aiff-demo:{seed}:world")
        self.id_rng = random.Random(f"aiff-demo:{seed}:ids")
        self.zone_events = self._zones()
        self.teams: list[_Team] = []
        self.team_events = self._teams()
        self._candidates: dict[tuple[int, str], list[int]] = {}
        self._distances: list[list[float]] | None = None
        self._order: list[list[int]] = []
        self.stats: Counter[str] = Counter()
        self.status_now: Counter[str] = Counter()
        self._open: dict[int, _Ticket] = {}

    # ------------------------------------------------------------------ helpers
    def _event_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.id_rng.getrandbits(128), version=4)

    @staticmethod
    def _dt(ts: int) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    # ------------------------------------------------------------------ zones
    def _zones(self) -> list[Envelope]:
        candidates = sorted(z.name for z in ZONES if z.name not in {"Selangor", "Kuala Lumpur", "Johor", "Pulau Pinang"})
        self.manual_zones = frozenset(self.rng.sample(candidates, self.rng.choice((2, 3))))
        t0 = self.start_ts - 2 * DAY
        return [
            team_event(
                ZoneConfigured,
                {"zone": z.name, "assignment_mode": "manual" if z.name in self.manual_zones else "auto", "configured_by": "admin"},
                id=self._event_id(), source=SOURCE, time=self._dt(t0 + i * MIN), correlationid="demo-setup",
            )
            for i, z in enumerate(ZONES)
        ]

    # ------------------------------------------------------------------ teams
    def _teams(self) -> list[Envelope]:
        rng = self.rng
        per_zone = _apportion(self.n_teams, {z.name: ZONE_POPULATION[z.name] for z in ZONES}, minimum=2)
        taken: set[str] = set()
        events: list[Envelope] = []
        t0 = self.start_ts - DAY
        team_id = 0
        for zone in ZONES:
            places = sorted(PLACES_BY_ZONE[zone.name], key=lambda p: -p.weight)
            count = per_zone[zone.name]
            # Skills: 2-4 per team, covering all six in the zone when the zone has room for it.
            skill_sets = [rng.sample(SKILLS, rng.randint(2, 4)) for _ in range(count)]
            covered = {s for ss in skill_sets for s in ss}
            for skill in SKILLS:
                if skill in covered or not skill_sets:
                    continue
                roomy = [ss for ss in skill_sets if len(ss) < 4] or skill_sets
                target = min(roomy, key=len)
                if len(target) >= 4:
                    target[rng.randrange(len(target))] = skill
                else:
                    target.append(skill)
                covered = {s for ss in skill_sets for s in ss}
            for i in range(count):
                team_id += 1
                place = places[i] if i < len(places) else rng.choices(places, weights=[p.weight for p in places])[0]
                lat, lon = _uniform_point(rng, place.latitude, place.longitude, min(3.0, place.radius_km))
                skills = tuple(s for s in SKILLS if s in skill_sets[i])
                members = names.team_members(rng, zone.name, rng.randint(2, 4))
                status = rng.choices(list(TEAM_STATUS_WEIGHTS), weights=list(TEAM_STATUS_WEIGHTS.values()))[0]
                capacity = rng.randint(3, 8)
                name = names.team_name(rng, zone=zone.name, zone_seq=i + 1, town=place.name, skill=skills[0],
                                       lead=members[0], taken=taken)
                team = _Team(team_id, zone.name, place.name, lat, lon, skills, capacity, status, members)
                self.teams.append(team)
                events.append(team_event(
                    TeamCreated,
                    {
                        "team_id": team_id, "name": name, "zone": zone.name,
                        "description": f"{', '.join(s.capitalize() for s in skills)} team based in {place.name}, {zone.name}. Lead: {members[0]}.",
                        "base_town": place.name, "latitude": lat, "longitude": lon, "skills": list(skills),
                        "capacity": capacity, "members": members, "status": status,
                    },
                    id=self._event_id(), source=SOURCE, time=self._dt(t0 + team_id * 10), correlationid="demo-setup",
                ))
        return events

    def candidates(self, place_idx: int, skill: str) -> list[int]:
        """Teams (indices) with `skill` for sites around a place: the nearest of its own zone, then of nearby zones."""
        key = (place_idx, skill)
        found = self._candidates.get(key)
        if found is None:
            if self._distances is None:
                dist = haversine_matrix(
                    np.array([p.latitude for p in PLACES]), np.array([p.longitude for p in PLACES]),
                    np.array([t.latitude for t in self.teams]), np.array([t.longitude for t in self.teams]),
                )
                self._distances = dist.tolist()
                self._order = np.argsort(dist, axis=1, kind="stable").tolist()
            place = PLACES[place_idx]
            row = self._distances[place_idx]
            own: list[int] = []
            near: list[int] = []
            farther: list[int] = []
            for i in self._order[place_idx]:
                team = self.teams[i]
                if skill not in team.skills:
                    continue
                if team.zone == place.zone:
                    if len(own) < MAX_OWN_CANDIDATES:
                        own.append(i)
                elif row[i] <= CROSS_ZONE_KM and len(near) < MAX_OTHER_CANDIDATES:
                    near.append(i)
                elif len(farther) < 3:
                    farther.append(i)
                if len(own) >= MAX_OWN_CANDIDATES and (len(near) >= MAX_OTHER_CANDIDATES or row[i] > CROSS_ZONE_KM):
                    break
            found = own + (near or ([] if own else farther))
            self._candidates[key] = found
        return found

    # ------------------------------------------------------------------ creation times
    def _creation_times(self) -> list[tuple[int, bool]]:
        rng = self.rng
        n_live = round(self.n_tickets * LIVE_SHARE)
        n_hist = self.n_tickets - n_live
        live_start = self.now_ts - self.live_window

        def slots(begin: int, end: int, trend: bool) -> tuple[list[int], list[float]]:
            starts, cum, total = [], [], 0.0
            first = begin - begin % HOUR
            span = max(1, end - begin)
            for s in range(first, end, HOUR):
                local = datetime.fromtimestamp(s, MYT)
                w = WEEKDAY_FACTOR[local.weekday()] * HOUR_FACTOR[local.hour]
                if trend:
                    w *= 1 + TREND * (s - begin) / span
                total += w
                starts.append(s)
                cum.append(total)
            return starts, cum

        out: list[tuple[int, bool]] = []
        for n, begin, end, live in ((n_hist, self.start_ts, live_start, False), (n_live, live_start, self.now_ts - MIN, True)):
            if n <= 0:
                continue
            starts, cum = slots(begin, end, trend=not live)
            for s in rng.choices(starts, cum_weights=cum, k=n):
                ts = s + rng.randrange(HOUR)
                out.append((min(max(ts, begin), end - 1), live))
        out.sort()
        return out

    # ------------------------------------------------------------------ ticket plan
    def _plan(self, t: _Ticket, stall_stage: str | None) -> None:
        rng = self.rng
        zone = _ZONE_PICK(rng)
        place: Place = _PLACE_PICK[zone](rng)
        t.zone, t.place = zone, _PLACE_INDEX[place.name]
        t.latitude, t.longitude = _uniform_point(rng, place.latitude, place.longitude, place.radius_km)
        t.priority = _PRIORITY_PICK(rng)
        t.skill = _SKILL_PICK[t.priority](rng)
        sla = SLA_HOURS[t.priority] * HOUR
        t.due = t.created + sla
        t.manual = zone in self.manual_zones or rng.random() < OVERRIDE_RATE
        t.stall = stall_stage

        p = t.priority
        lo, hi = (10, 120) if zone in self.manual_zones else ASSIGN_DELAY_MIN[p]
        a = (lo + (hi - lo) * rng.random()) * MIN
        lo, hi = START_DELAY_MIN[p]
        b = (lo + (hi - lo) * rng.random()) * MIN
        s = min(480.0, max(30.0, rng.lognormvariate(math.log(SERVICE_MEDIAN_MIN[t.skill]), 0.5))) * MIN
        late_p = LATE_PROBABILITY_EAST.get(p, LATE_PROBABILITY[p]) if zone in EAST else LATE_PROBABILITY[p]
        if rng.random() < late_p:
            target = sla * (1 + (rng.uniform(0.1, 1.0) if p == "critical" else rng.uniform(0.05, 0.6)))
            gap = target - a - s
            if gap > b:
                extra = gap - b
                queue = extra * rng.uniform(0, 0.5) if p in ("medium", "low") else 0.0
                a += queue
                b += extra - queue
        else:
            budget = 0.92 * sla - a
            if b + s > budget:
                f = budget / (b + s)
                b, s = max(5 * MIN, b * f), max(20 * MIN, s * f)
        t.assign_delay, t.start_delay, t.service = int(a), int(b), int(s)
        if stall_stage is None:
            r = rng.random()
            if r < CANCEL_RATE:
                t.cancel = "open" if rng.random() < 0.6 else "assigned"
            else:
                t.reassign = rng.random() < REASSIGN_RATE
                t.reopen = rng.random() < REOPEN_RATE
                t.close = rng.random() < CLOSE_RATE

    # ------------------------------------------------------------------ emission
    def _emit(self, cls: type[Envelope], t: _Ticket, ts: int, data: dict[str, Any]) -> Envelope:
        # Same result as ``ticket_event(cls, data, ...)``, without its per-call class introspection.
        data["ticket_id"] = t.id
        event = cls(id=uuid.UUID(int=self.id_rng.getrandbits(128), version=4), source=SOURCE,
                    time=datetime.fromtimestamp(ts, UTC), subject=str(t.id), correlationid=t.number,
                    causationid=t.last_event, data=_PAYLOAD[cls](**data))
        t.last_event = str(event.id)
        return event

    def _set_status(self, t: _Ticket, status: str) -> None:
        self.status_now[t.status] -= 1
        self.status_now[status] += 1
        t.status = status
        if status in OPEN_STATUSES:
            self._open[t.id] = t
        else:
            self._open.pop(t.id, None)

    def _eligible(self, team: _Team, ts: int) -> bool:
        return team.load < team.capacity and (team.status in WORKING_TEAM_STATUSES or ts < self.now_ts - OFFLINE_CUTOFF)

    def _choose_team(self, t: _Ticket, ts: int, exclude: int = -1) -> int | None:
        cands = self.candidates(t.place, t.skill)
        if t.reopened and t.status == "reopened" and self._eligible(self.teams[t.team], ts) and t.team != exclude:
            return t.team
        picked: list[int] = []
        for i in cands:
            if i != exclude and self._eligible(self.teams[i], ts):
                picked.append(i)
                if not t.manual or len(picked) == 3:
                    break
        if not picked:
            return None
        if len(picked) == 1:
            return picked[0]
        r = self.rng.random()
        return picked[0] if r < 0.6 else picked[1] if r < 0.85 or len(picked) == 2 else picked[2]

    def _assigned_event(self, t: _Ticket, ts: int, idx: int, replaces: int | None, reason: str | None) -> Envelope:
        team = self.teams[idx]
        dist = round(haversine_km(team.latitude, team.longitude, t.latitude, t.longitude), 2)
        t.technician = pick(self.rng, team.members)
        data: dict[str, Any] = {"team_id": team.id, "distance_km": dist, "assigned_to": t.technician}
        if t.manual or replaces is not None:
            data.update(strategy="manual", assigned_by=f"dispatcher.{_ZONE_CODE[t.zone]}.{_ri(self.rng, 1, 3)}", frozen=True,
                        reason=reason or pick(self.rng, catalog.MANUAL_REASONS))
        else:
            data.update(strategy="nearest", assigned_by="engine", score=dist,
                        breakdown={"distance_km": dist, "load_ratio": round((team.load - 1) / team.capacity, 3)},
                        reason=reason or f"Nearest available {t.skill} team ({dist:.1f} km)")
            if team.zone != t.zone:
                data["reason"] = f"No {t.skill} team free in {t.zone}; nearest in {team.zone} ({dist:.1f} km)"
        if replaces is not None:
            data["replaces_team_id"] = self.teams[replaces].id
        return self._emit(TicketAssigned, t, ts, data)

    # ------------------------------------------------------------------ simulation
    def ticket_events(self) -> Iterator[Envelope]:
        """The ticket history in time order (a generator: a fresh simulation each call)."""
        rng = self.rng
        text_rng = random.Random(f"aiff-demo:{self.seed}:text")
        created = self._creation_times()
        n_live = sum(1 for _, live in created if live)
        stall_n = round(n_live * STALL_SHARE)
        live_idx = [i for i, (_, live) in enumerate(created) if live]
        stalled = set(rng.sample(live_idx, stall_n)) if stall_n else set()
        heap: list[tuple[int, int, int, _Ticket]] = []
        seq = 0
        stats = self.stats
        ci = 0
        while True:
            take_create = ci < len(created) and (not heap or created[ci][0] <= heap[0][0])
            if take_create:
                ts, live = created[ci]
                t = _Ticket(id=ci + 1, number="", created=ts, live=live)
                t.number = f"TKT-{datetime.fromtimestamp(ts, MYT).year}-{t.id:06d}"
                stage = _STALL_PICK(rng) if ci in stalled else None
                ci += 1
                self._plan(t, stage)
                action = -1
            elif heap:
                ts, _, action, t = heapq.heappop(heap)
            else:
                break
            if ts > self.now_ts:
                break

            if action == -1:  # created
                place = PLACES[t.place]
                creator = pick(rng, CREATORS[:-1]) if t.skill not in ("power", "wireless") or rng.random() < 0.5 else "noc-monitor"
                customer = None if creator == "noc-monitor" else names.person_name(text_rng, t.zone)
                title, description = catalog.compose(text_rng, skill=t.skill, priority=t.priority, town=place.name,
                                                     zone=t.zone, customer=customer or "NOC")
                self.status_now["open"] += 1
                self._open[t.id] = t
                stats["tickets"] += 1
                stats["live_window_tickets"] += t.live
                yield self._emit(TicketCreated, t, ts, {
                    "ticket_number": t.number, "title": title, "description": description, "priority": t.priority,
                    "category": t.skill, "zone": t.zone, "location": place.name, "latitude": t.latitude,
                    "longitude": t.longitude, "customer_name": customer, "due_date": self._dt(t.due), "created_by": creator,
                })
                if t.cancel == "open":
                    nxt = (ts + _ri(rng, 15 * MIN, 6 * HOUR), _CANCEL)
                elif t.stall == "open":
                    continue
                else:
                    nxt = (ts + max(MIN, t.assign_delay), _ASSIGN)
            elif action == _ASSIGN:
                if t.status not in ("open", "reopened"):
                    continue
                idx = self._choose_team(t, ts)
                if idx is None:
                    t.attempts += 1
                    stats["assignment_retries"] += 1
                    if not self.candidates(t.place, t.skill) and not t.live:
                        nxt = (ts + _ri(rng, HOUR, 4 * HOUR), _CANCEL)
                    elif t.live and t.attempts > 1:  # the live backlog waits for the real engine
                        continue
                    else:
                        nxt = (ts + min(30 * MIN * 2 ** min(t.attempts, 4), 4 * HOUR) + _ri(rng, 0, 15 * MIN), _ASSIGN)
                else:
                    team = self.teams[idx]
                    team.load += 1
                    t.team = idx
                    stats["assignments"] += 1
                    stats["cross_zone_assignments"] += team.zone != t.zone
                    yield self._assigned_event(t, ts, idx, None, None)
                    self._set_status(t, "assigned")
                    if t.stall == "assigned":
                        continue
                    if t.cancel == "assigned":
                        nxt = (ts + _ri(rng, 15 * MIN, 4 * HOUR), _CANCEL)
                    elif t.reassign and not t.reopened:
                        nxt = (ts + _ri(rng, 10 * MIN, max(11 * MIN, min(t.start_delay, 3 * HOUR))), _REASSIGN)
                    else:
                        nxt = (ts + max(5 * MIN, t.start_delay if not t.reopened else _ri(rng, 20 * MIN, 3 * HOUR)), _START)
            elif action == _REASSIGN:
                idx = self._choose_team(t, ts, exclude=t.team)
                t.reassign = False
                if idx is not None:
                    old = t.team
                    self.teams[old].load -= 1
                    self.teams[idx].load += 1
                    t.team = idx
                    stats["reassignments"] += 1
                    yield self._assigned_event(t, ts, idx, old, pick(rng, catalog.REASSIGN_REASONS))
                remaining = t.created + t.assign_delay + t.start_delay - ts
                nxt = (ts + max(10 * MIN, remaining), _START)
            elif action == _START:
                self._set_status(t, "in_progress")
                yield self._emit(TicketStatusChanged, t, ts, {"status": "in_progress", "notes": pick(rng, catalog.START_NOTES),
                                                             "changed_by": t.technician})
                if t.stall == "in_progress":
                    continue
                nxt = (ts + max(10 * MIN, t.service), _COMPLETE)
            elif action == _COMPLETE:
                self.teams[t.team].load -= 1
                late = ts > t.due
                if not t.completed_once:
                    t.completed_once = True
                    stats["completed"] += 1
                    stats["sla_missed"] += late
                rating = None if rng.random() < NO_RATING_RATE else float(_RATING_PICK[late](rng))
                if t.reopened and rating is not None:
                    rating = max(1.0, rating - 1)
                self._set_status(t, "completed")
                yield self._emit(TicketStatusChanged, t, ts, {"status": "completed", "changed_by": t.technician,
                                                             "notes": catalog.completion_note(text_rng, t.skill, late),
                                                             "customer_rating": rating})
                if t.reopen and not t.reopened:
                    nxt = (ts + _ri(rng, 2 * HOUR, 20 * HOUR), _REOPEN)
                elif t.close:
                    nxt = (ts + _ri(rng, 20 * HOUR, 30 * HOUR), _CLOSE)
                else:
                    continue
            elif action == _REOPEN:
                t.reopened = True
                stats["reopened"] += 1
                self._set_status(t, "reopened")
                yield self._emit(TicketStatusChanged, t, ts, {"status": "reopened", "notes": pick(rng, catalog.REOPEN_NOTES),
                                                             "changed_by": pick(rng, ("customer", "noc-monitor", "call-centre"))})
                nxt = (ts + _ri(rng, 15 * MIN, 3 * HOUR), _ASSIGN)
            elif action == _CLOSE:
                self._set_status(t, "closed")
                yield self._emit(TicketStatusChanged, t, ts, {"status": "closed", "changed_by": "crm-autoclose"})
                continue
            else:  # _CANCEL
                if t.status in ("assigned", "in_progress"):
                    self.teams[t.team].load -= 1
                stats["cancelled"] += 1
                self._set_status(t, "cancelled")
                yield self._emit(TicketStatusChanged, t, ts, {"status": "cancelled", "notes": pick(rng, catalog.CANCEL_NOTES),
                                                             "changed_by": "call-centre"})
                continue
            seq += 1
            heapq.heappush(heap, (nxt[0], seq, nxt[1], t))

        # Open tickets already past their due date at `now` are SLA misses too (counted separately).
        stats["open_past_due"] = sum(1 for t in self._open.values() if t.due < self.now_ts)
        self._open.clear()

    def summary(self) -> dict[str, Any]:
        tickets = self.stats["tickets"]
        open_now = sum(self.status_now[s] for s in ("open", "reopened"))
        active_now = sum(self.status_now[s] for s in ("assigned", "in_progress"))
        return {
            **dict(self.stats),
            "status_at_now": {k: v for k, v in sorted(self.status_now.items()) if v},
            "open_at_now": open_now,
            "active_at_now": active_now,
            "backlog_share": round((open_now + active_now) / tickets, 4) if tickets else 0.0,
            "sla_miss_rate": round(self.stats["sla_missed"] / self.stats["completed"], 4) if self.stats["completed"] else 0.0,
            "manual_zones": sorted(self.manual_zones),
        }


_PLACE_INDEX: dict[str, int] = {p.name: i for i, p in enumerate(PLACES)}
_ZONE_PICK = _Picker(ZONE_POPULATION, ZONE_POPULATION.values())
_PLACE_PICK = {z: _Picker(ps, [p.weight for p in ps]) for z, ps in PLACES_BY_ZONE.items()}
_PRIORITY_PICK = _Picker(PRIORITY_WEIGHTS, PRIORITY_WEIGHTS.values())
_SKILL_PICK = {p: _Picker(w, w.values()) for p, w in catalog.SKILL_WEIGHTS_BY_PRIORITY.items()}
_RATING_PICK = {late: _Picker(*table) for late, table in ((False, RATING_ON_TIME), (True, RATING_LATE))}
_STALL_PICK = _Picker(("open", "assigned", "in_progress"), (0.35, 0.35, 0.30))
_ZONE_CODE = {z.name: z.code.lower() for z in ZONES}
_PAYLOAD: dict[type[Envelope], Any] = {cls: cls.model_fields["data"].annotation for cls in (TicketCreated, TicketAssigned, TicketStatusChanged)}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many long-lived objects (they hold no cycles); restore it after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def generate(seed: int = 42, teams: int = 150, tickets: int = 1000, days: int = 90, now: datetime | None = None) -> DemoData:
    """Demo zones, teams and `tickets` tickets with `days` days of history ending at `now`, as events.

    `now` defaults to the current hour (UTC); pass it explicitly for reproducible output. Ticket events are in
    time order; see :class:`DemoData` for the statistics of the run.
    """
    with _gc_paused():
        world = _World(seed, teams, tickets, days, now)
        ticket_events = list(world.ticket_events())
    return DemoData(seed=seed, now=world.now, start=world._dt(world.start_ts), zone_events=world.zone_events,
                    team_events=world.team_events, ticket_events=ticket_events, stats=world.summary())


def iter_ticket_events(seed: int = 42, teams: int = 150, tickets: int = 1000, days: int = 90, now: datetime | None = None,
                       chunk_size: int = 10_000) -> Iterator[list[Envelope]]:
    """The same ticket events as ``generate(...).ticket_events``, in time-ordered chunks, without keeping them all.

    Publish ``setup_events(...)`` (zones and teams) first.
    """
    with _gc_paused():
        world = _World(seed, teams, tickets, days, now)
    events = world.ticket_events()
    while True:
        with _gc_paused():  # only while building a chunk; the caller's code runs with its own GC settings
            chunk = list(itertools.islice(events, chunk_size))
        if not chunk:
            return
        yield chunk


def setup_events(seed: int = 42, teams: int = 150, days: int = 90, now: datetime | None = None) -> list[Envelope]:
    """The zone and team events of ``generate(seed, teams, ..., days, now)``, without simulating tickets."""
    world = _World(seed, teams, 0, days, now)
    return [*world.zone_events, *world.team_events]
