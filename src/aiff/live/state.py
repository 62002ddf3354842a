"""Live entries straight from the events: a small in-memory view of tickets and teams, no projector wait.

`LiveState.entries(conn, records)` (then `commit()` once published) coalesces a batch per ticket / team (see `summary.coalesce`) and folds
each entity's events, in log order, into a cached row:
- a ticket's row comes from its TicketCreated event (zone, priority, title, coordinates, due date as the
  projector computes it), else from the cache, else from ONE batched `SELECT ... WHERE id = ANY($1)` for
  every miss of the batch (the projector normally applied those older events long ago) -- the only time
  the live feed reads Postgres;
- assigned / unassigned / status_changed / updated / deleted change that row the way the projector's fold
  does (`aiff.projections.fold`), including its lifecycle check: an event the projector would refuse
  (`transition_error`) is not shown, and leaves the cached row alone;
- teams likewise (created / updated / status_changed / deleted / metrics_updated).

The caches are bounded LRUs (`max_tickets`, `max_teams`); an evicted entity is simply re-read on its next
event. An entity that is neither in the batch's create events, nor cached, nor in Postgres is skipped (it
is unknown, so the projector refuses the event too — or, rarely, it has not yet stored the creation the
live consumer saw in an earlier, since-evicted batch).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from aiff.events.vocabulary import SLA_HOURS, transition_error
from aiff.live.summary import _Touched, coalesce
from aiff.projections.fold import ticket_number_for
from aiff.projections.projector import Record
from aiff.zones import canonical_zone

log = logging.getLogger(__name__)

Row = dict[str, Any]

TICKET_COLUMNS = ("ticket_number", "title", "status", "priority", "category", "zone", "assigned_team", "latitude", "longitude",
                  "due_date", "location")  # fmt: skip
TEAM_COLUMNS = ("name", "zone", "status", "latitude", "longitude", "capacity", "is_active", "tickets_completed",
                "customer_rating", "response_time", "completion_rate", "efficiency")  # fmt: skip
_TICKET_UPDATABLE = frozenset(("title", "priority", "category", "location", "latitude", "longitude", "due_date"))
_TEAM_UPDATABLE = frozenset(("name", "zone", "status", "latitude", "longitude", "capacity", "tickets_completed", "customer_rating",
                             "response_time", "completion_rate", "efficiency"))  # fmt: skip


class _Lru:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: OrderedDict[int, Row] = OrderedDict()

    def get(self, key: int) -> Row | None:
        row = self.rows.get(key)
        if row is not None:
            self.rows.move_to_end(key)
        return row

    def put(self, key: int, row: Row) -> None:
        self.rows[key] = row
        self.rows.move_to_end(key)
        while len(self.rows) > self.limit:
            self.rows.popitem(last=False)

    def pop(self, key: int) -> None:
        self.rows.pop(key, None)

    def __contains__(self, key: int) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _created_zone(data: dict[str, Any]) -> str | None:
    """The canonical zone of a creation event, None when missing or unknown (the projector refuses those)."""
    zone = data.get("zone")
    return canonical_zone(zone) if isinstance(zone, str) else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


class LiveState:
    def __init__(self, max_tickets: int = 50_000, max_teams: int = 5_000) -> None:
        self.tickets = _Lru(max_tickets)
        self.teams = _Lru(max_teams)
        self.misses = 0
        self.refused = 0
        self._pending: list[tuple[_Lru, int, Row | None]] = []

    # -- loading -----------------------------------------------------------------------------------
    async def _load(self, pool: asyncpg.Pool, tickets: dict[int, _Touched], teams: dict[int, _Touched]) -> None:
        t_miss = [tid for tid, t in tickets.items() if tid not in self.tickets and t.first_type != "aiff.ticket.created.v1"]
        g_miss = [tid for tid, t in teams.items() if tid not in self.teams and t.first_type != "aiff.team.created.v1"]
        if not (t_miss or g_miss):
            return  # the common case: no Postgres round trip at all
        self.misses += len(t_miss) + len(g_miss)
        async with pool.acquire() as conn:
            if t_miss:
                rows = await conn.fetch(f"SELECT id, {', '.join(TICKET_COLUMNS)} FROM tickets WHERE id = ANY($1::bigint[])", t_miss)
                for r in rows:
                    self.tickets.put(r["id"], {k: r[k] for k in TICKET_COLUMNS})
            if g_miss:
                rows = await conn.fetch(f"SELECT id, {', '.join(TEAM_COLUMNS)} FROM teams WHERE id = ANY($1::int[])", g_miss)
                for r in rows:
                    self.teams.put(r["id"], {k: r[k] for k in TEAM_COLUMNS})

    # -- folding -----------------------------------------------------------------------------------
    def _fold_ticket(self, tid: int, t: _Touched) -> Row | None:
        """The ticket's row after the batch's events; None when unknown. Sets t.deleted / t.shown."""
        row = self.tickets.get(tid)
        row = dict(row) if row is not None else None
        shown = False
        for etype, data, etime in t.events:
            if etype == "aiff.ticket.created.v1":
                zone = _created_zone(data)
                priority = data.get("priority")
                if row is not None or zone is None or priority not in SLA_HOURS:
                    self.refused += 1
                    continue
                at = _time(etime)
                due = _time(data.get("due_date")) or (at + timedelta(hours=SLA_HOURS[priority]) if at is not None else None)
                row = {"ticket_number": data.get("ticket_number") or (ticket_number_for(tid, at) if at is not None else None),
                       "title": data.get("title"), "status": "open", "priority": priority, "category": data.get("category"),
                       "zone": zone, "assigned_team": None, "latitude": data.get("latitude"), "longitude": data.get("longitude"),
                       "due_date": due, "location": data.get("location")}  # fmt: skip
                t.deleted = False
                shown = True
                continue
            if row is None:
                self.refused += 1
                continue  # unknown ticket: the projector refuses it too
            if etype == "aiff.ticket.assigned.v1":
                if transition_error(row["status"], "assigned") is not None or not isinstance(data.get("team_id"), int):
                    self.refused += 1
                    continue
                row.update(status="assigned", assigned_team=data["team_id"])
            elif etype == "aiff.ticket.unassigned.v1":
                if row["status"] != "assigned" or row["assigned_team"] != data.get("team_id"):
                    self.refused += 1
                    continue
                row.update(status="open", assigned_team=None)
            elif etype == "aiff.ticket.status_changed.v1":
                status = data.get("status")
                if not isinstance(status, str) or status in ("assigned", "open") or transition_error(row["status"], status) is not None:
                    self.refused += 1
                    continue
                row["status"] = status
                if status in ("cancelled", "reopened"):
                    row["assigned_team"] = None
            elif etype == "aiff.ticket.updated.v1":
                row.update({k: (_time(v) or v) if k == "due_date" else v for k, v in data.items() if k in _TICKET_UPDATABLE and v is not None})
            elif etype == "aiff.ticket.deleted.v1":
                t.deleted = True
                shown = True
                row = None
                continue
            shown = True  # enriched / deferred: shown with the unchanged state, like before
        t.shown = shown
        if t.deleted:
            self._pending.append((self.tickets, tid, None))
            return None
        if row is not None:
            self._pending.append((self.tickets, tid, row))
        return row

    def _fold_team(self, tid: int, t: _Touched) -> Row | None:
        row = self.teams.get(tid)
        row = dict(row) if row is not None else None
        shown = False
        for etype, data, _etime in t.events:
            if etype == "aiff.team.created.v1":
                zone = _created_zone(data)
                if row is not None or zone is None:
                    self.refused += 1
                    continue
                row = {"name": data.get("name"), "zone": zone, "status": data.get("status"), "latitude": data.get("latitude"),
                       "longitude": data.get("longitude"), "capacity": data.get("capacity"), "is_active": True, "tickets_completed": 0,
                       "customer_rating": 0, "response_time": 0, "completion_rate": 0, "efficiency": 0}  # fmt: skip
            elif row is None:
                self.refused += 1
                continue
            elif etype == "aiff.team.deleted.v1":
                row.update(is_active=False, status="offline")
            elif etype in ("aiff.team.updated.v1", "aiff.team.status_changed.v1", "aiff.team.metrics_updated.v1"):
                changes = {k: v for k, v in data.items() if k in _TEAM_UPDATABLE and v is not None}
                if "zone" in changes:
                    zone = canonical_zone(changes["zone"])
                    if zone is None:
                        self.refused += 1
                        continue
                    changes["zone"] = zone
                row.update(changes)
            shown = True
        t.shown = shown
        if row is not None:
            self._pending.append((self.teams, tid, row))
        return row

    def commit(self) -> None:
        """Keep the rows folded by the last `entries()` (call once its message is published).

        Until then the cache holds the rows as before the batch, so a batch retried after a failed publish
        is folded again from the same state and yields the same entries.
        """
        for lru, key, row in self._pending:
            if row is None:
                lru.pop(key)
            else:
                lru.put(key, row)
        self._pending = []

    # -- entries -----------------------------------------------------------------------------------
    async def entries(self, pool: asyncpg.Pool, records: list[Record]) -> tuple[list[dict[str, Any]], bool]:
        """The entries of one live message for `records` (same shape as `summary.build_entries`).

        `pool` is only used (one connection, one query per kind) when the batch touches entities not cached.
        """
        self._pending = []
        touched_tickets, touched_teams, kpis_changed = coalesce(records)
        await self._load(pool, touched_tickets, touched_teams)
        out: list[dict[str, Any]] = []
        for tid, t in touched_tickets.items():
            row = self._fold_ticket(tid, t)
            if not t.shown:
                continue
            types = [e[0] for e in t.events]
            last = types[-1]
            if row is None:
                if t.deleted:
                    out.append({"kind": "ticket", "ticket_id": tid, "type": last, "types": types, "zone": t.zone, "team_id": None,
                                "teams": sorted(t.teams), "status": "deleted", "time": t.time, "deleted": True})  # fmt: skip
                continue
            teams = set(t.teams)
            if row["assigned_team"] is not None:
                teams.add(row["assigned_team"])
            out.append({"kind": "ticket", "ticket_id": tid, "ticket_number": row["ticket_number"], "title": row["title"], "type": last,
                        "types": types, "zone": row["zone"], "team_id": row["assigned_team"], "teams": sorted(teams),
                        "status": row["status"], "priority": row["priority"], "category": row["category"], "location": row["location"],
                        "lat": row["latitude"], "lon": row["longitude"], "due_date": _iso(row["due_date"]), "time": t.time,
                        "deleted": False})  # fmt: skip
        for tid, t in touched_teams.items():
            row = self._fold_team(tid, t)
            if row is None or not t.shown:
                continue
            types = [e[0] for e in t.events]
            out.append({"kind": "team", "team_id": tid, "teams": [tid], "name": row["name"], "type": types[-1], "types": types,
                        "zone": row["zone"], "status": row["status"] if row["is_active"] else "retired", "lat": row["latitude"],
                        "lon": row["longitude"], "capacity": row["capacity"], "tickets_completed": row["tickets_completed"],
                        "customer_rating": _float(row["customer_rating"]), "response_time": row["response_time"],
                        "completion_rate": _float(row["completion_rate"]), "efficiency": _float(row["efficiency"]),
                        "time": t.time})  # fmt: skip
        return out, kpis_changed
