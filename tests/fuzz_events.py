"""Hypothesis strategies for hostile Kafka records: valid events, the same with extreme or malformed values,
tombstones, garbage bytes, exact redeliveries and reused ids with other content."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from aiff.projections.projector import Record

NOW = datetime.now(UTC)
EXTREME_INTS = [0, -1, 1, 2, 3, 7, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 10**11, 10**12, 2**63 - 1, 2**63, 2**64, 987654]
ODD_VALUES = [None, True, False, "7", 7.0, 7.5, "", [], {}, "x" * 300, "\x00", "\\u0000", "😀", 1e308, -1e308]
TIMES = [
    "9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z",
    "2100-12-31T23:59:59Z", "2100-12-31T23:59:59-14:00", "2026-11-22T08:00:00", "2026-11-22T08:00:00+08:00",
    "2026-02-30T00:00:00Z", 1700000000, NOW.isoformat(), (NOW - timedelta(minutes=1)).isoformat(),
]  # fmt: skip
ZONES = ["Selangor", "Johor", "Sabah", "Atlantis", "penang", ""]
TICKET_IDS = st.one_of(st.integers(1, 6), st.sampled_from(EXTREME_INTS))
TEAM_IDS = st.one_of(st.integers(1, 3), st.sampled_from(EXTREME_INTS))


def envelope(event_type: str, subject: Any, data: dict[str, Any], time: Any, event_id: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id or str(uuid.uuid4()), "source": "urn:fuzz", "type": event_type,
            "time": time, "subject": str(subject), "data": data}  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible event of any type, often valid, with ids, zones and times from the edges."""
    tid, team, time = draw(TICKET_IDS), draw(TEAM_IDS), draw(st.one_of(st.just(NOW.isoformat()), st.sampled_from(TIMES)))
    kind = draw(st.sampled_from(["created", "assigned", "status", "unassigned", "updated", "deleted", "enriched",
                                 "team_created", "team_status", "metrics", "auto", "zone"]))  # fmt: skip
    if kind == "created":
        data = {"ticket_id": tid, "title": draw(st.text(max_size=30)) or "t", "priority": draw(st.sampled_from(["low", "critical", "urgent"])),
                "zone": draw(st.sampled_from(ZONES)), "category": "fiber", "latitude": 3.1, "longitude": 101.6}  # fmt: skip
        return envelope("aiff.ticket.created.v1", tid, data, time)
    if kind == "assigned":
        data = {"ticket_id": tid, "team_id": team, "strategy": "manual", "breakdown": {"travel": draw(st.floats(allow_nan=False, allow_infinity=False))}}
        return envelope("aiff.ticket.assigned.v1", tid, data, time)
    if kind == "status":
        status = draw(st.sampled_from(["in_progress", "completed", "cancelled", "reopened", "closed", "assigned", "flying"]))
        return envelope("aiff.ticket.status_changed.v1", tid, {"ticket_id": tid, "status": status, "customer_rating": 4.5}, time)
    if kind == "unassigned":
        return envelope("aiff.ticket.unassigned.v1", tid, {"ticket_id": tid, "team_id": team, "reason": "offline"}, time)
    if kind == "updated":
        return envelope("aiff.ticket.updated.v1", tid, {"ticket_id": tid, "due_date": draw(st.sampled_from(TIMES)), "title": "new"}, time)
    if kind == "deleted":
        return envelope("aiff.ticket.deleted.v1", tid, {"ticket_id": tid}, time)
    if kind == "enriched":
        return envelope("aiff.ticket.enriched.v1", tid, {"ticket_id": tid, "duplicate_of": [draw(TICKET_IDS)], "sla_risk": 0.5}, time)
    if kind == "team_created":
        data = {"team_id": team, "name": "Pasukan", "zone": draw(st.sampled_from(ZONES)), "capacity": draw(st.sampled_from([0, 5, 1000, 1001]))}
        return envelope("aiff.team.created.v1", team, data, time)
    if kind == "team_status":
        return envelope("aiff.team.status_changed.v1", team, {"team_id": team, "status": draw(st.sampled_from(["offline", "available"]))}, time)
    if kind == "metrics":
        data = {"team_id": team, "tickets_completed": draw(st.sampled_from(EXTREME_INTS)), "customer_rating": 4.0, "response_time": 3,
                "completion_rate": 50.0, "efficiency": 50.0}  # fmt: skip
        return envelope("aiff.team.metrics_updated.v1", team, data, time)
    if kind == "auto":
        data = {"request_id": "r1", "ticket_ids": [tid, draw(TICKET_IDS)], "requested_by": "u1"}
        return envelope("aiff.assignment.auto_requested.v1", "r1", data, time)
    return envelope("aiff.zone.configured.v1", "zone:x", {"zone": draw(st.sampled_from(ZONES)), "assignment_mode": "auto"}, time)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """An event with one field replaced by an odd value, removed, or an unknown field added."""
    event = draw(events())
    path = draw(st.sampled_from(_paths(event)))
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "delete", "extra"]))
    if action == "replace":
        parent[path[-1]] = draw(st.one_of(st.sampled_from(ODD_VALUES + EXTREME_INTS + TIMES), st.text(max_size=5)))
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent["unknown_" + draw(st.text(max_size=4))] = draw(st.sampled_from(ODD_VALUES))
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


raw_values = st.one_of(
    events().map(encode),
    mutated().map(encode),
    st.none(),
    st.binary(max_size=40),
    st.sampled_from([b"", b"null", b"[]", b"{}", b"7", b'"x"', b'{"type": null}', b'{"type": "aiff.ticket.created.v1"}', b"\xff\xfe", b"[" * 5000]),
)


@st.composite
def batches(draw: st.DrawFn, topic: str, max_size: int = 25) -> list[Record]:
    """A batch of records on one topic, with some exact redeliveries and some reused ids with other content."""
    values: list[bytes | None] = draw(st.lists(raw_values, min_size=1, max_size=max_size))
    for _ in range(draw(st.integers(0, 3))):
        earlier = draw(st.sampled_from(values))
        if earlier is not None and draw(st.booleans()):
            values.append(earlier)  # an exact redelivery
        else:
            other = draw(events())
            try:
                other["id"] = json.loads(earlier or b"")["id"]  # the same id, other content
            except (ValueError, TypeError, KeyError, RecursionError):  # e.g. b"[" * 5000 nests too deep to parse
                pass
            values.append(encode(other))
    partition = draw(st.integers(0, 5))
    return [Record(topic, partition, 1000 + i, b"k", v) for i, v in enumerate(values)]
