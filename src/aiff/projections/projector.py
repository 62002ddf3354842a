"""The projector's work for one batch: decode, drop what was applied, fold, write. Testable without Kafka.

Whatever a record holds, it is either applied or returned as Rejected with the reason (invariant 4): the
decoder refuses what breaks the contract, the fold what breaks a rule, and a write the database refuses is
narrowed down (by halving the batch inside savepoints) to the record that caused it. A decision of AIFF's own that
events overtook (`fold`: StaleDecision) is no bad input: it is recorded in the history as refused (outcome `stale`,
with the reason) and returned as a stale Rejected, which the runner counts and does not dead-letter.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from aiff.errors import ContractViolation, DuplicateIdConflict, PermanentError, StaleDecision
from aiff.events.envelope import Envelope
from aiff.events.plans import PlanUpdated, TeamPositionReported
from aiff.events.registry import decode
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import TeamCreated, ZoneConfigured
from aiff.events.tickets import TicketAssigned, TicketCreated, TicketMoved, TicketPinned, TicketUnassigned
from aiff.projections import fold, writer

log = logging.getLogger(__name__)

UNWRITABLE = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, ArithmeticError, ValueError)
"""Errors that one record's values cause (a value a column cannot hold): dead-letter that record, never retry."""


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, as the batch handlers see it (`value` is None for a tombstone)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the projection refused, and why (it goes to the dead-letter topic)."""

    record: Record
    reason: str
    error_code: str
    event_type: str = ""
    """The event's type when it decoded (labels the stale-decision metric)."""

    @property
    def stale(self) -> bool:
        """Refused as overtaken by events, not as bad input: counted, never dead-lettered."""
        return self.error_code == StaleDecision.code


Decoded = tuple[Record, Envelope]


def _entity(event: Envelope) -> tuple[str, str]:
    kind = event.topic_kind
    if isinstance(event, ZoneConfigured):
        return "zone", event.data.zone
    if kind == "tickets":
        return "ticket", str(event.data.ticket_id)
    if kind == "teams":
        return "team", str(event.data.team_id)
    if isinstance(event, AutoAssignRequested):
        return "request", event.data.request_id
    return kind, event.subject


def _same_fact(stored: str | bytes, record: Record, event: Envelope) -> bool:
    """Whether a reused id carries the content already applied (a redelivery) rather than another fact."""
    raw = stored.encode() if isinstance(stored, str) else stored
    if raw == record.value:
        return True
    try:
        return decode(raw) == event
    except ContractViolation:  # stored under an older, looser contract: compare the JSON itself
        return json.loads(raw) == json.loads(record.value or b"null")


def _conflict(record: Record, event_id: uuid.UUID, where: tuple[Any, ...]) -> Rejected:
    exc = DuplicateIdConflict(f"event id {event_id} was already applied with different content (at {where[0]}[{where[1]}]@{where[2]})")
    return Rejected(record, exc.message, exc.code)


async def project_batch(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
    """Apply a batch of records to the read models inside the caller's transaction.

    Returns:
        The rejected records with their reasons, and how many events changed the read models.
    """
    rejected: list[Rejected] = []
    first: dict[uuid.UUID, Decoded] = {}
    copies: list[tuple[Record, Record]] = []
    for record in records:
        try:
            event = decode(record.value)
        except ContractViolation as exc:
            rejected.append(Rejected(record, exc.message, exc.code))
            continue
        earlier = first.get(event.id)
        if earlier is None:
            first[event.id] = (record, event)
        elif _same_fact(earlier[0].value or b"", record, event):
            copies.append((record, earlier[0]))
        else:
            rejected.append(_conflict(record, event.id, (earlier[0].topic, earlier[0].partition, earlier[0].offset)))

    applied = await writer.applied_events(conn, list(first))
    fresh: list[Decoded] = []
    for record, event in first.values():
        stored = applied.get(event.id)
        if stored is None:
            fresh.append((record, event))
        elif not _same_fact(stored[0], record, event):
            rejected.append(_conflict(record, event.id, stored[1:]))
    # Team facts first: ticket events refer to teams, and the teams topic is read independently of the tickets topic.
    fresh.sort(key=lambda pair: pair[1].topic_kind != "teams")
    refused, count = await _apply(conn, fresh)
    rejected += refused
    # A copy within the batch shares its original's fate: nothing more when applied or recorded as stale, the same
    # reason when refused.
    why = {(r.record.topic, r.record.partition, r.record.offset): r for r in rejected if not r.stale}
    for copy, original in copies:
        if (verdict := why.get((original.topic, original.partition, original.offset))) is not None:
            rejected.append(Rejected(copy, verdict.reason, verdict.error_code))
    return rejected, count


async def _apply(conn: asyncpg.Connection, fresh: list[Decoded]) -> tuple[list[Rejected], int]:
    """Fold and write `fresh` in a savepoint; when the database refuses a value, halve until the record is found."""
    if not fresh:
        return [], 0
    try:
        async with conn.transaction():
            return await _fold_and_write(conn, fresh)
    except UNWRITABLE as exc:
        if len(fresh) == 1:
            record, event = fresh[0]
            log.warning("projector: %s[%d]@%d (%s) cannot be stored: %s", record.topic, record.partition, record.offset, event.id, exc)
            return [Rejected(record, f"the read models cannot store this event: {type(exc).__name__}: {exc}"[:2000], "unwritable")], 0
        mid = len(fresh) // 2
        head, head_count = await _apply(conn, fresh[:mid])
        tail, tail_count = await _apply(conn, fresh[mid:])
        return head + tail, head_count + tail_count


async def _fold_and_write(conn: asyncpg.Connection, fresh: list[Decoded]) -> tuple[list[Rejected], int]:
    ticket_ids: set[int] = set()
    team_ids: set[int] = set()
    numbers: set[str] = set()
    position_teams: set[int] = set()
    plan_keys: set[tuple] = set()
    for _, event in fresh:
        data = event.data
        if event.topic_kind == "tickets":
            ticket_ids.add(data.ticket_id)
            if isinstance(event, TicketCreated):
                numbers.add(data.ticket_number or fold.ticket_number_for(data.ticket_id, event.time))
            elif isinstance(event, (TicketAssigned, TicketMoved, TicketUnassigned)) or (
                isinstance(event, TicketPinned) and data.team_id is not None
            ):
                team_ids.add(data.team_id)
        elif event.topic_kind == "teams" and not isinstance(event, ZoneConfigured):
            team_ids.add(data.team_id)
            if isinstance(event, TeamPositionReported):
                position_teams.add(data.team_id)
            elif isinstance(event, PlanUpdated):
                plan_keys.add((data.team_id, data.plan_date))
    state = await writer.load_state(conn, ticket_ids, team_ids, numbers, position_teams, plan_keys)

    rejected: list[Rejected] = []
    history: list[tuple] = []
    stale: list[tuple] = []
    for record, event in fresh:
        try:
            fold.apply(state, event)
        except StaleDecision as exc:
            stale.append((*_history_row(record, event), "stale", exc.message))
            rejected.append(Rejected(record, exc.message, exc.code, event.type))
            continue
        except PermanentError as exc:
            rejected.append(Rejected(record, exc.message, exc.code))
            continue
        history.append(_history_row(record, event))
    await writer.write_state(conn, state, history, stale)
    return rejected, len(history)


def _history_row(record: Record, event: Envelope) -> tuple:
    """The event's row of `event_history` (`writer.HISTORY_COLUMNS`)."""
    entity_type, entity_id = _entity(event)
    return (
        event.id, entity_type, entity_id, event.type, event.time, event.source, event.correlationid,
        record.topic, record.partition, record.offset, (record.value or b"").decode(),
    )  # fmt: skip


__all__ = ["Record", "Rejected", "project_batch", "TeamCreated"]
