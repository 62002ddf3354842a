"""Kafka records -> the compact entries of one live message, coalesced per ticket and per team.

Each entry is the entity's *latest state* as the projections hold it (read after the projector applied
the batch) plus the types of the events that touched it in the batch, so an entry is idempotent: a client
that sees it twice, or late, still ends up with the right state.

Ticket entry: {"kind":"ticket","ticket_id","ticket_number","title","type","types","zone","team_id","teams",
               "status","priority","category","lat","lon","due_date","time","deleted"}
Team entry:   {"kind":"team","team_id","name","type","types","zone","teams","status","lat","lon",
               "capacity","time", + metrics when present}
`time` is the envelope time of the entity's latest event in the batch (the bench measures from it);
`teams` lists every team the batch involved (the new holder and e.g. the one a ticket was taken from), so
a field user's filter sees a ticket leave their team.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from aiff.errors import ContractViolation
from aiff.events.registry import decode
from aiff.projections.projector import Record

log = logging.getLogger(__name__)

KPI_TYPES_PREFIX = ("aiff.ticket.", "aiff.team.")
"""Event types that can move a KPI (everything about tickets and teams except enrichment)."""


@dataclass
class _Touched:
    kind: str
    entity_id: int
    types: list[str] = field(default_factory=list)
    time: str | None = None
    teams: set[int] = field(default_factory=set)
    zone: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    """(type, data, time) of each event, in log order (for `aiff.live.state`)."""
    deleted: bool = False
    shown: bool = False

    @property
    def first_type(self) -> str:
        return self.events[0][0] if self.events else ""


def _valid(record: Record) -> bool:
    """Whether the record holds an event of the contract (ids in range, sane aware times): only those are folded,
    so no value a column or a datetime cannot hold reaches the live state or its queries."""
    try:
        decode(record.value)
    except ContractViolation:
        return False
    return True


def coalesce(records: list[Record]) -> tuple[dict[int, _Touched], dict[int, _Touched], bool]:
    """Group a batch's events by ticket and team (in log order); third item: could a KPI have changed."""
    tickets: dict[int, _Touched] = {}
    teams: dict[int, _Touched] = {}
    kpis_changed = False
    for r in records:
        if not _valid(r):
            continue  # the projector dead-letters it; nothing to show
        try:
            event = orjson.loads(r.value)
            etype = str(event["type"])
            data = event.get("data") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue  # the projector dead-letters it; nothing to show
        if not isinstance(data, dict):
            continue
        if etype.startswith("aiff.ticket.") or etype.startswith("aiff.assignment."):
            tid = data.get("ticket_id")
            if not isinstance(tid, int):
                continue
            t = tickets.setdefault(tid, _Touched("ticket", tid))
            if etype != "aiff.ticket.enriched.v1":
                kpis_changed = True
        elif etype.startswith("aiff.team."):
            tid = data.get("team_id")
            if not isinstance(tid, int):
                continue
            t = teams.setdefault(tid, _Touched("team", tid))
            kpis_changed = True
        else:
            continue  # zone settings and unknown types: not shown live
        t.types.append(etype)
        t.time = event.get("time") or t.time
        t.events.append((etype, data, event.get("time")))
        for key in ("team_id", "replaces_team_id"):
            if isinstance(data.get(key), int):
                t.teams.add(data[key])
        if isinstance(data.get("zone"), str):
            t.zone = data["zone"]
        t.data.update({k: v for k, v in data.items() if v is not None})
    return tickets, teams, kpis_changed


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


async def build_entries(conn: asyncpg.Connection, records: list[Record]) -> tuple[list[dict[str, Any]], bool]:
    """The entries of one live message for `records`, with state read from the projections on `conn`."""
    touched_tickets, touched_teams, kpis_changed = coalesce(records)
    entries: list[dict[str, Any]] = []
    if touched_tickets:
        rows = await conn.fetch(
            """SELECT id, ticket_number, title, status, priority, category, zone, assigned_team,
                      latitude, longitude, due_date, location
               FROM tickets WHERE id = ANY($1::bigint[])""",
            list(touched_tickets),
        )
        by_id = {r["id"]: r for r in rows}
        for tid, t in touched_tickets.items():
            row = by_id.get(tid)
            last = t.types[-1]
            if row is None:
                if last != "aiff.ticket.deleted.v1":
                    continue  # refused by the projector (dead-lettered): nothing changed
                entries.append({"kind": "ticket", "ticket_id": tid, "type": last, "types": t.types, "zone": t.zone,
                                "team_id": None, "teams": sorted(t.teams), "status": "deleted", "time": t.time,
                                "deleted": True})  # fmt: skip
                continue
            teams = set(t.teams)
            if row["assigned_team"] is not None:
                teams.add(row["assigned_team"])
            entries.append(
                {
                    "kind": "ticket",
                    "ticket_id": tid,
                    "ticket_number": row["ticket_number"],
                    "title": row["title"],
                    "type": last,
                    "types": t.types,
                    "zone": row["zone"],
                    "team_id": row["assigned_team"],
                    "teams": sorted(teams),
                    "status": row["status"],
                    "priority": row["priority"],
                    "category": row["category"],
                    "location": row["location"],
                    "lat": row["latitude"],
                    "lon": row["longitude"],
                    "due_date": _iso(row["due_date"]),
                    "time": t.time,
                    "deleted": False,
                }
            )
    if touched_teams:
        rows = await conn.fetch(
            """SELECT id, name, zone, status, latitude, longitude, capacity, is_active, tickets_completed,
                      customer_rating, response_time, completion_rate, efficiency
               FROM teams WHERE id = ANY($1::int[])""",
            list(touched_teams),
        )
        by_id = {r["id"]: r for r in rows}
        for tid, t in touched_teams.items():
            row = by_id.get(tid)
            if row is None:
                continue
            entries.append(
                {
                    "kind": "team",
                    "team_id": tid,
                    "teams": [tid],
                    "name": row["name"],
                    "type": t.types[-1],
                    "types": t.types,
                    "zone": row["zone"],
                    "status": row["status"] if row["is_active"] else "retired",
                    "lat": row["latitude"],
                    "lon": row["longitude"],
                    "capacity": row["capacity"],
                    "tickets_completed": row["tickets_completed"],
                    "customer_rating": _float(row["customer_rating"]),
                    "response_time": row["response_time"],
                    "completion_rate": _float(row["completion_rate"]),
                    "efficiency": _float(row["efficiency"]),
                    "time": t.time,
                }
            )
    return entries, kpis_changed
