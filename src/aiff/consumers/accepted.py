"""What the projector accepted: consumers downstream of it act on those events only.

The projector dead-letters events that break the contract or a rule (unknown ticket or team, invalid transition,
a reused id), and records in the history, as refused, decisions of AIFF's own that events overtook (outcome
`stale`); an analytics count, an AI enrichment or an engine decision built on such an event would describe
a fact the read models never took. So these consumers wait until the projector has passed the batch and keep
the records whose exact (topic, partition, offset) is in `event_history`: a redelivered copy of an applied
event is not accepted a second time either. Every other record comes back as Rejected with the reason (these
consumers do not dead-letter it themselves: the projector already has).
"""

from __future__ import annotations

import asyncpg

from aiff.errors import ContractViolation, StaleDecision
from aiff.events.envelope import Envelope
from aiff.events.registry import decode
from aiff.projections.engine_queries import wait_for_projector
from aiff.projections.projector import Record, Rejected

NOT_PROJECTED = "not_projected"


def decode_batch(records: list[Record]) -> tuple[list[tuple[Record, Envelope]], list[Rejected]]:
    """Decode every record; the ones that break the contract come back as Rejected with the decoder's reason."""
    decoded: list[tuple[Record, Envelope]] = []
    rejected: list[Rejected] = []
    for record in records:
        try:
            decoded.append((record, decode(record.value)))
        except ContractViolation as exc:
            rejected.append(Rejected(record, exc.message, exc.code))
    return decoded, rejected


async def accepted_events(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[Envelope], list[Rejected]]:
    """The batch's events the projector applied (in log order), and every other record with why it is skipped."""
    decoded, rejected = decode_batch(records)
    events, skipped = await accepted_of(conn, decoded)
    return events, rejected + skipped


async def accepted_of(conn: asyncpg.Connection, decoded: list[tuple[Record, Envelope]]) -> tuple[list[Envelope], list[Rejected]]:
    """Of decoded records, the events the projector applied (waiting for it to pass them), and the others."""
    rejected: list[Rejected] = []
    if not decoded:
        return [], rejected
    needed: dict[tuple[str, int], int] = {}
    for r, _ in decoded:
        needed[(r.topic, r.partition)] = max(needed.get((r.topic, r.partition), -1), r.offset)
    await wait_for_projector(conn, needed)
    rows = await conn.fetch(
        'SELECT event_id, topic, partition, "offset", outcome FROM event_history WHERE event_id = ANY($1::uuid[])',
        list({e.id for _, e in decoded}),
    )
    recorded_at = {r["event_id"]: (r["topic"], r["partition"], r["offset"]) for r in rows}
    stale = {r["event_id"] for r in rows if r["outcome"] == "stale"}
    events: list[Envelope] = []
    for r, e in decoded:
        here = recorded_at.get(e.id) == (r.topic, r.partition, r.offset)
        if here and e.id not in stale:
            events.append(e)
        elif here:
            rejected.append(Rejected(r, "not applied by the projector: refused as stale (see the ticket's history)", StaleDecision.code, e.type))
        else:
            why = "a redelivery of an event already recorded" if e.id in recorded_at else "refused (see the dead letters)"
            rejected.append(Rejected(r, f"not applied by the projector: {why}", NOT_PROJECTED))
    return events, rejected
