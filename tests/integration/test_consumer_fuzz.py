"""Hypothesis over every consumer's batch function on the real Postgres: whatever a batch holds (extreme ids and
times, tombstones, garbage, redeliveries, reused ids), each record is either applied or returned with a reason,
and no batch function raises (a raise would stop the consumer at that record forever)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from aiff.assignment.triggers import collect
from aiff.bootstrap import Resources
from aiff.consumers.ai import AiWorker
from aiff.consumers.analytics import make_handler
from aiff.consumers.assignment import AssignmentEngine
from aiff.consumers.runner import next_offsets
from aiff.errors import ContractViolation
from aiff.events.registry import decode
from aiff.live.state import LiveState
from aiff.projections import engine_queries as q
from aiff.projections import positions
from aiff.projections.projector import Record, Rejected, project_batch
from tests.fuzz_events import batches, encode, envelope

pytestmark = pytest.mark.integration

Handler = Callable[..., Awaitable[tuple[list[Rejected], int]]]


async def _history_at(conn, records: list[Record]) -> set[int]:  # noqa: ANN001
    rows = await conn.fetch(
        'SELECT "offset" FROM event_history WHERE topic = $1 AND partition = $2 AND "offset" = ANY($3::bigint[])',
        records[0].topic, records[0].partition, [r.offset for r in records],
    )  # fmt: skip
    return {r["offset"] for r in rows}


async def _redeliveries(conn, records: list[Record], applied: set[int]) -> set[int]:  # noqa: ANN001
    """Records not applied themselves whose event (same id, same content) was: exact redeliveries, no-ops."""
    ids = {}
    for r in records:
        try:
            ids[r.offset] = (decode(r.value).id, r.value)
        except ContractViolation:
            pass
    rows = await conn.fetch("SELECT event_id, event FROM event_history WHERE event_id = ANY($1::uuid[])", [i for i, _ in ids.values()])
    stored = {r["event_id"]: r["event"].encode() for r in rows}
    return {o for o, (i, v) in ids.items() if o not in applied and stored.get(i) == v}


def _each_applied_or_rejected(records: list[Record], applied: set[int], rejected: list[Rejected], who: str, redelivered: set[int] = frozenset()) -> None:
    refused = {r.record.offset for r in rejected}
    assert all(r.reason and r.error_code for r in rejected), who
    for record in records:
        verdicts = (record.offset in applied) + (record.offset in refused) + (record.offset in redelivered)
        assert verdicts == 1, f"{who}: {record.value!r:.300} applied {record.offset in applied}, refused {record.offset in refused}"


def _undecodable(records: list[Record]) -> set[int]:
    out = set()
    for r in records:
        try:
            decode(r.value)
        except ContractViolation:
            out.add(r.offset)
    return out


def _triggers(records: list[Record], routes: bool) -> bool:
    events = []
    for r in records:
        try:
            events.append(decode(r.value))
        except ContractViolation:
            pass
    return collect(events, q.now_utc(), timedelta(seconds=900), routes).any


async def _baseline(resources: Resources) -> None:
    """Teams 1-3 and tickets 1-5 exist, so that valid events in a batch can apply."""
    topic = resources.topics.tickets
    events = [envelope("aiff.team.created.v1", t, {"team_id": t, "name": f"P{t}", "zone": "Selangor", "capacity": 5}, "2026-01-01T00:00:00Z")
              for t in (1, 2, 3)]  # fmt: skip
    events += [envelope("aiff.ticket.created.v1", t, {"ticket_id": t, "title": "Cut", "priority": "high", "zone": "Selangor"}, "2026-01-01T00:00:00Z")
               for t in range(1, 6)]  # fmt: skip
    records = [Record(topic, p, i, b"k", encode(e)) for p in range(6) for i, e in enumerate(events[:1] if p else events)]
    async with resources.pool.acquire() as conn, conn.transaction():
        rejected, _ = await project_batch(conn, [r for r in records if r.partition == 0])
        assert rejected == []
        await positions.lock(conn, "projector", [(topic, p) for p in range(6)])
        await positions.advance(conn, "projector", {(topic, p): 100 for p in range(6)})


async def _check_batch(resources: Resources, downstream: dict[str, Handler], records: list[Record]) -> None:
    async with resources.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            rejected, _ = await project_batch(conn, records)
            applied = await _history_at(conn, records)
            _each_applied_or_rejected(records, applied, rejected, "projector", await _redeliveries(conn, records, applied))
            await positions.advance(conn, "projector", next_offsets(records))
            for name, handler in downstream.items():
                skipped, _ = await handler(conn, records)
                if name == "assignment" and not _triggers(records, resources.settings.assignment_strategy == "routes"):
                    # No live event asks for a decision: the engine does nothing, and names only what does not decode.
                    assert {r.record.offset for r in skipped} == _undecodable(records)
                    continue
                _each_applied_or_rejected(records, applied, skipped, name)
        finally:
            await tx.rollback()
    entries, _ = await LiveState().entries(resources.pool, records)
    valid_ids = set()
    for r in records:
        try:
            data = decode(r.value).data
        except ContractViolation:
            continue
        valid_ids |= {getattr(data, "ticket_id", None), getattr(data, "team_id", None)}
    assert all(e.get("ticket_id", e.get("team_id")) in valid_ids for e in entries), "live showed an invalid record"


async def test_every_consumer_applies_or_rejects_each_record_and_never_raises(resources: Resources) -> None:
    await _baseline(resources)
    ai = AiWorker(resources.pool, resources.publisher, insights_every_s=3600)
    downstream: dict[str, Handler] = {
        "analytics": make_handler(resources.publisher),
        "ai": ai.handle,
        "assignment": AssignmentEngine(resources.settings, resources.publisher).handle,
    }
    loop = asyncio.get_running_loop()
    sizes: list[int] = []

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
    @given(batches(resources.topics.tickets))
    def property_(records: list[Record]) -> None:
        asyncio.run_coroutine_threadsafe(_check_batch(resources, downstream, records), loop).result(timeout=120)
        sizes.append(len(records))

    await asyncio.to_thread(property_)
    assert len(sizes) >= 60 and sum(sizes) >= 300, sizes  # the examples really ran, many records each


@pytest.mark.parametrize("seed", [0])
async def test_the_listed_poison_pills_are_applied_or_rejected_by_every_consumer(resources: Resources, seed: int) -> None:
    """The records of issue 11, item 3, in one batch, through every batch function."""
    await _baseline(resources)
    pills = [
        envelope("aiff.ticket.created.v1", 10**12, {"ticket_id": 10**12, "title": "t", "priority": "low", "zone": "Johor"}, "2026-01-01T00:00:00Z"),
        envelope("aiff.ticket.created.v1", 2**64, {"ticket_id": 2**64, "title": "t", "priority": "low", "zone": "Johor"}, "2026-01-01T00:00:00Z"),
        envelope("aiff.ticket.assigned.v1", 1, {"ticket_id": 1, "team_id": 2**31, "strategy": "manual"}, "2026-01-01T00:00:00Z"),
        envelope("aiff.ticket.created.v1", 9, {"ticket_id": 9, "title": "t", "priority": "low", "zone": "Johor"}, "9999-12-31T23:00:00Z"),
        envelope("aiff.ticket.created.v1", 10, {"ticket_id": 10, "title": "t", "priority": "low", "zone": "Johor"}, "2026-01-01T00:00:00"),
        envelope("aiff.ticket.assigned.v1", 2, {"ticket_id": 2, "team_id": 987654, "strategy": "manual"}, "2026-01-01T00:00:00Z"),
    ]  # fmt: skip
    values = [encode(p) for p in pills] + [None, b'{"type": "aiff.ticket.created.v1", "pad": "' + b"x" * 1_048_300 + b'"}']
    records = [Record(resources.topics.tickets, 0, 1000 + i, b"k", v) for i, v in enumerate(values)]
    ai = AiWorker(resources.pool, resources.publisher, insights_every_s=3600)
    downstream = {"analytics": make_handler(resources.publisher), "ai": ai.handle,
                  "assignment": AssignmentEngine(resources.settings, resources.publisher).handle}  # fmt: skip
    await _check_batch(resources, downstream, records)
    async with resources.pool.acquire() as conn, conn.transaction():
        rejected, applied = await project_batch(conn, records)
        assert applied == 1 and sorted(r.record.offset for r in rejected) == [1001, 1002, 1003, 1004, 1005, 1006, 1007]
        assert await conn.fetchval("SELECT ticket_number FROM tickets WHERE id = $1", 10**12) == "TKT-1000000000000"
