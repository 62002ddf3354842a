"""The assignment consumer group: decides who takes each ticket and publishes the decision as an event.

Per batch: collect what the live events ask for (new tickets, freed capacity, teams going offline, auto-assign
requests); take the engine's advisory lock (one decision at a time across instances: no double booking);
wait until the projector has applied this batch and every decision published before (so the read models
are current); plan with the configured strategy; publish `ticket.assigned` (with the score breakdown) or
`assignment.deferred`, and, for a team that went offline, `ticket.unassigned` first. A shadow strategy,
when configured, is planned on the same input and only recorded.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from aiff.assignment.model import Criteria, Plan, TeamSpec, TicketSpec
from aiff.assignment.revise import plan_revision
from aiff.assignment.strategies import choose
from aiff.assignment.triggers import Triggers, collect
from aiff.bootstrap import Resources
from aiff.consumers.accepted import accepted_of, decode_batch
from aiff.consumers.runner import BatchConsumer, consumer_config, fetch_window, next_offsets
from aiff.consumers import planner as planner_consumer
from aiff.consumers.planner import PlannerConsumer
from aiff.dispatch import section
from aiff.dispatch.publish import PLANNED_LATER
from aiff.dispatch.work import ReplanRequest, by_region, merge
from aiff.dispatch.work import record as work_record
from aiff.zones import region_of
from aiff.dispatch import store as route_store
from aiff.dispatch.routes import RouteSettings
from aiff.dispatch.routes import replan as route_replan
from aiff.events.envelope import Envelope
from aiff.events.plans import PlanUpdated
from aiff.events.producer import EventPublisher
from aiff.events.teams import team_event
from aiff.events.tickets import (
    AssignmentDeferred,
    TicketAssigned,
    TicketCreated,
    TicketUnassigned,
    ticket_event,
)
from aiff.metrics import ASSIGNMENT_DECISIONS, PLAN_SOLVE_SECONDS, observe_plan
from aiff.projections import engine_queries as q
from aiff.projections.projector import Record, Rejected
from aiff.settings import Settings

NAME = "assignment"
SCHEDULED = "the scheduled full re-plan"
"""The reason of a re-plan no event asked for: it keeps the stored plan unless a better one is found (stillness)."""
WINDOW_FILL_BYTES = 1024 * 1024
"""A fetch this large ends the decision window early (thousands of events: plan now rather than wait)."""
log = logging.getLogger(__name__)


class AssignmentEngine:
    """The batch handler of the assignment consumer."""

    def __init__(self, settings: Settings, publisher: EventPublisher, clock: Callable[[], datetime] = q.now_utc) -> None:
        self.settings = settings
        self.publisher = publisher
        self.clock = clock
        """The engine's "now": the wall clock live, the simulated clock in a simulation through Kafka (so a replay
        of the same events under the same clock gives the same decisions)."""
        self.live_window = timedelta(seconds=settings.assignment_live_window_s)
        self._revised_at = float("-inf")
        self.routes = settings.assignment_strategy == "routes"
        self.route_config = RouteSettings(
            freeze=timedelta(minutes=settings.assignment_freeze_minutes),
            churn_threshold_minutes=settings.assignment_churn_minutes,
            seconds=settings.assignment_route_seconds,
            horizon_days=settings.assignment_horizon_days,
            batch_seconds=settings.assignment_batch_seconds,
        )

    async def handle(self, conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
        decoded, rejected = decode_batch(records)  # the projector dead-letters what does not decode
        now = self.clock()
        if not collect([e for _, e in decoded], now, self.live_window, self.routes).any:
            return rejected, 0
        if self.routes:  # the router: no lock - it decides nothing but the baseline requests (see _route)
            await q.wait_for_projector(conn, _needed(records))
            events, skipped = await accepted_of(conn, decoded)
            triggers = collect(events, now, self.live_window, self.routes)
            return rejected + skipped, (await self._route(conn, triggers, now, records) if triggers.any else 0)
        await self._lock_and_catch_up(conn, records)
        events, skipped = await accepted_of(conn, decoded)  # decide only on facts the read models took
        triggers = collect(events, now, self.live_window, self.routes)
        if not triggers.any:
            return rejected + skipped, 0
        decided = await self._decide(conn, triggers, now)
        return rejected + skipped, decided

    async def _lock_and_catch_up(self, conn: asyncpg.Connection, records: list[Record]) -> None:
        """One decision at a time (no double booking), on read models that hold the batch and every decision
        published before it."""
        await section.enter(conn, _needed(records))

    async def _route(self, conn: asyncpg.Connection, triggers: Triggers, now: datetime, records: list[Record]) -> int:
        """Routes strategy, the router's part: requests naming another strategy are decided here, under every
        region's lock; the zones the batch touched go to the planners as one work item per region (their
        partition of the work topic), to be re-planned once the projector holds this batch."""
        published = 0
        routed = [r for r in triggers.requests if (r.data.criteria.strategy or "routes") == "routes"]
        baseline = [r for r in triggers.requests if r not in routed]
        decided: set[int] = set()
        if baseline:
            await section.enter(conn)
            out, decided = await self._decide_baseline(conn, baseline, now)
            published += await self._publish(conn, out)
        requested = {t for r in routed for t in r.data.ticket_ids} - decided
        zones = await route_store.zones_of(conn, requested | triggers.tickets, triggers.teams) | triggers.zones
        if not zones or not (triggers.replan or requested):
            return published
        cause = triggers.causes[0] if triggers.causes else (routed[0] if routed else None)
        kinds = sorted({".".join(c.type.split(".")[1:3]) for c in triggers.causes} | ({"auto-assign request"} if routed else set()))
        correlation, causation = _cause_ids(cause)
        created = {c.data.ticket_id for c in triggers.causes if isinstance(c, TicketCreated)}
        only_new = not requested and len(created) == len(triggers.causes) and not triggers.zones
        work = by_region(zones, requested=sorted(requested), why=", ".join(kinds), correlation_id=correlation,
                         causation_id=causation, needed=[(t, p, o) for (t, p), o in sorted(_needed(records).items())], at=now,
                         new=sorted(created) if only_new else None)
        await self.publisher.publish_to_partitions(self.publisher.topics.work, [work_record(w) for w in work])
        return published + len(work)

    async def plan_work(self, conn: asyncpg.Connection, requests: list[ReplanRequest],
                        catch_up: dict[tuple[str, int], int] | None = None) -> int:
        """The planner's part: a batch of work items coalesced into one re-plan per region (its zones' union),
        under the batch's region locks, on read models that hold what the items need (and, after the planner
        took over regions, everything in the log: `catch_up`). The locks are taken and the projector waited for
        once per batch: the batch's regions are disjoint, so one region's fresh decisions are nothing another
        needs to see first."""
        published = 0
        merged = merge(requests)
        needed = dict(catch_up or {})
        for request in merged.values():
            for t, p, o in request.needed:
                needed[(t, p)] = max(needed.get((t, p), -1), o)
        await section.enter(conn, needed, regions=list(merged))
        for region, request in sorted(merged.items()):
            now = self.clock()
            cause = (request.correlation_id, request.causation_id)
            out = await self._route_events(conn, set(request.zones), now, set(request.requested), cause, request.why, request.new,
                                           improve_only=request.why == SCHEDULED)
            published += await self._publish(conn, out)
        return published

    async def full_replan(self, conn: asyncpg.Connection, regions: set[str] | None = None,
                          catch_up: dict[tuple[str, int], int] | None = None) -> int:
        """The scheduled re-plan of every zone (routes strategy; of `regions` only, when given: a planner's own):
        picks up what no event announced (time passing: shifts starting, windows closing, ETAs drifting)."""
        zones = {z for z in await route_store.all_zones(conn) if regions is None or region_of(z) in regions}
        return await self.plan_work(conn, by_region(zones, why=SCHEDULED, at=self.clock()), catch_up)

    async def _decide(self, conn: asyncpg.Connection, triggers: Triggers, now) -> int:  # noqa: ANN001
        out: list[Envelope | _Deferral] = []
        cause = triggers.causes[0] if triggers.causes else None
        teams = await q.teams_with_load(conn)
        released: dict[int, int] = {}
        if triggers.unavailable_teams:
            for ticket_id, team_id in await q.unstarted_of(conn, triggers.unavailable_teams):
                out.append(self._event(TicketUnassigned, {"ticket_id": ticket_id, "team_id": team_id,
                                                          "reason": "team became unavailable"}, cause))  # fmt: skip
                released[ticket_id] = team_id
            teams = [_release(t, sum(1 for v in released.values() if v == t.team_id)) for t in teams]
        planned: set[int] = set()
        for request in triggers.requests:
            criteria = request.data.criteria
            strategy = criteria.strategy or self.settings.assignment_strategy
            tickets = await q.pending_tickets(conn, request.data.ticket_ids)
            plan = choose(strategy)(tickets, teams, Criteria(criteria.same_zone_only, criteria.max_distance_km,
                                                             criteria.respect_skills), now)  # fmt: skip
            out += self._decisions(plan, request, tickets)
            teams = _take(teams, plan)
            planned.update(t.ticket_id for t in tickets)
        if triggers.replan or released:
            pending = [t for t in await q.pending_tickets(conn) if t.ticket_id not in planned]
            if released:
                pending += [t for t in await q.tickets_by_id(conn, list(released)) if t.ticket_id not in planned]
            if pending:
                plan = choose(self.settings.assignment_strategy)(pending, teams, Criteria(), now)
                out += self._decisions(plan, cause, pending, replaces=released)
                await self._shadow(conn, pending, teams, plan, now)
                teams = _take(teams, plan)
            if self.settings.assignment_strategy == "optimal" and self.revision_due(time.monotonic()):
                out += await self._revise(conn, teams, now, cause)
        return await self._publish(conn, out)

    async def _decide_baseline(self, conn: asyncpg.Connection, requests: list, now: datetime) -> tuple[list, set[int]]:
        """Auto-assign requests naming a baseline strategy (greedy, nearest, optimal), decided by it."""
        out: list[Envelope | _Deferral] = []
        decided: set[int] = set()
        teams = await q.teams_with_load(conn)
        for request in requests:
            criteria = request.data.criteria
            tickets = await q.pending_tickets(conn, request.data.ticket_ids)
            plan = choose(criteria.strategy)(tickets, teams, Criteria(criteria.same_zone_only, criteria.max_distance_km,
                                                                      criteria.respect_skills), now)  # fmt: skip
            out += self._decisions(plan, request, tickets)
            teams = _take(teams, plan)
            decided.update(t.ticket_id for t in tickets)
        return out, decided

    async def _route_events(self, conn: asyncpg.Connection, zones: set[str], now: datetime, requested: set[int],
                            cause: tuple[str | None, str | None], why: str, new: list[int] | None = None,
                            improve_only: bool = False) -> list[Envelope | _Deferral]:
        """Re-plan these zones' days (routes strategy) and turn what changed into events; `cause`: the correlation
        and causation ids they carry."""
        started = time.perf_counter()
        found = await route_replan(conn, zones, now, self.route_config, requested=requested, cause=why, new=new,
                                   improve_only=improve_only)
        out: list[Envelope | _Deferral] = []
        out += [self._event(TicketUnassigned, d, cause) for d in found.unassigned]
        out += [self._event(TicketAssigned, d, cause) for d in found.assigned]
        out += [self._team_event(PlanUpdated, d, cause) for d in found.plans]
        out += [_Deferral(t, "routes", reason, cause, code) for t, (reason, code) in found.deferred.items()]
        # metrics (aiff.metrics): the same series as the other strategies, one observation per re-plan
        ASSIGNMENT_DECISIONS.labels("routes", "assigned").inc(len(found.assigned))
        ASSIGNMENT_DECISIONS.labels("routes", "deferred").inc(len(found.deferred))
        PLAN_SOLVE_SECONDS.labels("routes").observe(time.perf_counter() - started)
        log.info("assignment: re-planned %d zones in %.2fs: %d plans, %d assigned, %d unassigned", len(zones),
                 time.perf_counter() - started, len(found.plans), len(found.assigned), len(found.unassigned))  # fmt: skip
        return out

    async def _publish(self, conn: asyncpg.Connection, out: list) -> int:
        await q.forget_deferrals(conn, [e.data.ticket_id for e in out if isinstance(e, TicketAssigned)])
        fresh = await q.changed_deferrals(conn, {d.ticket_id: d.key for d in out if isinstance(d, _Deferral)})
        out = [self._deferred(d) if isinstance(d, _Deferral) else d for d in out if not isinstance(d, _Deferral) or d.ticket_id in fresh]
        if not out:
            return 0
        offsets: dict[tuple[str, int], int] = {}
        for meta in await self.publisher.publish_many(out):
            offsets[(meta.topic, meta.partition)] = max(offsets.get((meta.topic, meta.partition), -1), meta.offset)
        await q.record_outbox(conn, offsets)
        assigned = sum(isinstance(e, TicketAssigned) for e in out)
        log.info("assignment: %d assigned, %d deferred", assigned, len(fresh))
        return len(out)

    def revision_due(self, clock: float) -> bool:
        """Revising re-solves every movable assignment; in a storm of new tickets that is most of a window's cost
        and rarely finds a move the last revision missed, so it runs at most every `assignment_revise_interval_s`."""
        if clock - self._revised_at < self.settings.assignment_revise_interval_s:
            return False
        self._revised_at = clock
        return True

    def _event(self, cls: type[Envelope], data: dict, cause: Envelope | tuple[str | None, str | None] | None) -> Envelope:
        correlation, causation = _cause_ids(cause)
        return ticket_event(cls, data, source="urn:aiff:assignment", correlationid=correlation, causationid=causation)

    def _team_event(self, cls: type[Envelope], data: dict, cause: Envelope | tuple[str | None, str | None] | None) -> Envelope:
        correlation, causation = _cause_ids(cause)
        return team_event(cls, data, source="urn:aiff:assignment", correlationid=correlation, causationid=causation)

    def _deferred(self, d: _Deferral) -> Envelope:
        data = {"ticket_id": d.ticket_id, "strategy": d.strategy, "reason": d.reason}
        if d.code:
            data["code"] = d.code
        return self._event(AssignmentDeferred, data, d.cause)

    def _decisions(self, plan: Plan, cause: Envelope | None, tickets: list[TicketSpec], replaces: dict[int, int] | None = None) -> list[Envelope | _Deferral]:
        observe_plan(plan)  # metrics hook (aiff.metrics)
        out: list[Envelope | _Deferral] = []
        for d in plan.decisions:
            if d.team_id is None:
                out.append(_Deferral(d.ticket_id, d.strategy, d.reason[:1000] or "no team available", cause))
                continue
            out.append(
                self._event(TicketAssigned, {
                    "ticket_id": d.ticket_id, "team_id": d.team_id, "strategy": d.strategy, "assigned_by": "engine",
                    "distance_km": d.distance_km, "score": d.score, "reason": d.reason[:1000] or None,
                    "breakdown": {k: float(v) for k, v in d.breakdown.items()},
                    "replaces_team_id": (replaces or {}).get(d.ticket_id),
                }, cause)  # fmt: skip
            )
        return out

    async def _revise(self, conn: asyncpg.Connection, teams: list[TeamSpec], now, cause: Envelope | None) -> list[Envelope]:  # noqa: ANN001
        current = await q.current_assignments(conn)
        movable = [tid for tid, a in current.items() if a.status == "assigned" and not a.frozen]
        if not movable:
            return []
        tickets = await q.tickets_by_id(conn, movable)
        moves = plan_revision(current, tickets, teams, now, hysteresis_km=self.settings.assignment_hysteresis_km)
        return [
            self._event(TicketAssigned, {
                "ticket_id": m.ticket_id, "team_id": m.to_team_id, "strategy": "optimal", "assigned_by": "engine",
                "score": m.new_cost, "reason": m.reason[:1000], "replaces_team_id": m.from_team_id,
                "breakdown": {"old_cost": float(m.old_cost), "new_cost": float(m.new_cost), "gain": float(m.gain)},
            }, cause)  # fmt: skip
            for m in moves
        ]

    async def _shadow(self, conn: asyncpg.Connection, pending: list[TicketSpec], teams: list[TeamSpec], live: Plan, now) -> None:  # noqa: ANN001
        name = self.settings.assignment_shadow_strategy
        if not name or name == live.strategy:
            return
        shadow = choose(name)(pending, teams, Criteria(), now)
        live_by = live.by_ticket()
        rows = []
        for d in shadow.decisions:
            mine = live_by.get(d.ticket_id)
            rows.append((d.ticket_id, name, live.strategy, d.team_id, mine.team_id if mine else None, d.distance_km,
                         mine.distance_km if mine else None, d.score, json.dumps({k: float(v) for k, v in d.breakdown.items()}),
                         d.reason[:1000], now))  # fmt: skip
        await q.record_shadow(conn, rows)


@dataclass(frozen=True, slots=True)
class _Deferral:
    """A deferral before it is known to be news: every plan re-defers every waiting ticket, and only a changed
    reason becomes an `assignment.deferred` event, so the (costly) event is built only then."""

    ticket_id: int
    strategy: str
    reason: str
    cause: Envelope | tuple[str | None, str | None] | None
    code: str | None = None

    @property
    def key(self) -> str:
        """What makes a deferral news: its code, and for a ticket planned on a later day its team and day (both in
        that reason); the wording of a detail (how many teams were tried) is not (routes strategy). The baseline
        strategies have no code: their reason."""
        if self.code is None or self.code == PLANNED_LATER:
            return self.reason
        return self.code


def _needed(records: list[Record]) -> dict[tuple[str, int], int]:
    """The last offset of each partition in the batch: what the projector must have applied first."""
    return {tp: after - 1 for tp, after in next_offsets(records).items()}


def _cause_ids(cause: Envelope | tuple[str | None, str | None] | None) -> tuple[str | None, str | None]:
    """(correlation id, causation id) of what a decision answers: an event, or ids carried by a work item."""
    if cause is None:
        return None, None
    if isinstance(cause, tuple):
        return cause
    return cause.correlationid, (cause.data.request_id if hasattr(cause.data, "request_id") else str(cause.id))


def _release(team: TeamSpec, n: int) -> TeamSpec:
    if not n:
        return team
    from dataclasses import replace

    return replace(team, open_tickets=max(0, team.open_tickets - n))


def _take(teams: list[TeamSpec], plan: Plan) -> list[TeamSpec]:
    """Teams with the plan's assignments counted against their capacity (for the next plan in this batch)."""
    from collections import Counter
    from dataclasses import replace

    taken = Counter(d.team_id for d in plan.decisions if d.team_id is not None)
    return [replace(t, open_tickets=t.open_tickets + taken[t.team_id]) if taken[t.team_id] else t for t in teams]


class AssignmentConsumer(BatchConsumer):
    """The assignment consumer group (the router, with the routes strategy); its planner group runs beside it."""

    def __init__(self, *args, planner: PlannerConsumer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.planner = planner
        self.companions = (planner,)

    async def full_replan(self) -> int:
        """One full re-plan of every region (tools and tests; the planners' timers re-plan their own)."""
        return await self.planner.full_replan()

    @property
    def full_replans(self) -> int:
        return self.planner.full_replans


def build(resources: Resources, name: str = NAME, interval_s: float | None = None,
          clock: Callable[[], datetime] = q.now_utc) -> AssignmentConsumer:
    """The assignment consumer: one decision per window, no dead-lettering (the projector does that).

    The broker holds each fetch for up to the window (`AIFF_ASSIGNMENT_WINDOW_MS`) unless much more has arrived,
    so a storm of creations costs one plan instead of one per small fetch (each plan reads every pending ticket
    and team and may revise current assignments), and a lone ticket waits at most the window.
    """
    s = resources.settings
    config = consumer_config(
        s, name, resources.topics.domain, batch_size=2000, batch_timeout_ms=s.assignment_window_ms,
        **fetch_window(s.assignment_window_ms, WINDOW_FILL_BYTES),
    )
    engine = AssignmentEngine(s, resources.publisher, clock)
    interval = s.assignment_full_replan_interval_s if interval_s is None else interval_s
    planner = planner_consumer.build(resources, engine, interval)
    return AssignmentConsumer(config, resources.pool, resources.publisher, engine.handle, planner=planner)
