"""The projector's work for one batch: decode, drop what was applied, fold, write. Testable without Kafka."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from aiff.errors import ContractViolation, PermanentError
from aiff.events.envelope import Envelope
from aiff.events.registry import decode
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import TeamCreated, ZoneConfigured
from aiff.events.tickets import TicketCreated
from aiff.projections import fold, writer


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record, as the batch handlers see it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the projection refused, and why (it goes to the dead-letter topic)."""

    record: Record
    reason: str
    error_code: str


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


async def project_batch(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Rejected], int]:
    """Apply a batch of records to the read models inside the caller's transaction.

    Returns:
        The rejected records with their reasons, and how many events changed the read models.
    """
    rejected: list[Rejected] = []
    decoded: list[tuple[Record, Envelope]] = []
    batch_ids: set = set()
    for record in records:
        if b"\\u0000" in record.value:
            rejected.append(Rejected(record, "NUL characters (\\u0000) are not allowed in event text", "contract_violation"))
            continue
        try:
            event = decode(record.value)
        except ContractViolation as exc:
            rejected.append(Rejected(record, exc.message, exc.code))
            continue
        if event.id in batch_ids:
            continue
        batch_ids.add(event.id)
        decoded.append((record, event))

    seen = await writer.seen_event_ids(conn, list(batch_ids))
    fresh = [(r, e) for r, e in decoded if e.id not in seen]

    ticket_ids: set[int] = set()
    team_ids: set[int] = set()
    numbers: set[str] = set()
    for _, event in fresh:
        data = event.data
        if event.topic_kind == "tickets":
            ticket_ids.add(data.ticket_id)
            if isinstance(event, TicketCreated):
                numbers.add(data.ticket_number or fold.ticket_number_for(data.ticket_id, event.time))
        elif event.topic_kind == "teams" and not isinstance(event, ZoneConfigured):
            team_ids.add(data.team_id)
    state = await writer.load_state(conn, ticket_ids, team_ids, numbers)

    history: list[tuple] = []
    for record, event in fresh:
        try:
            fold.apply(state, event)
        except PermanentError as exc:
            rejected.append(Rejected(record, exc.message, exc.code))
            continue
        entity_type, entity_id = _entity(event)
        history.append(
            (
                event.id, entity_type, entity_id, event.type, event.time, event.source, event.correlationid,
                record.topic, record.partition, record.offset, record.value.decode(),
            )
        )  # fmt: skip
    await writer.write_state(conn, state, history)
    return rejected, len(history)


__all__ = ["Record", "Rejected", "project_batch", "TeamCreated"]
