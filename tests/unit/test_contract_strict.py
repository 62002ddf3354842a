"""The wire contract is strict: ids are integers within their columns, times carry offsets within 2000-2100,
the CloudEvents attributes are required, text holds no NUL, and a tombstone is refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiff.errors import ContractViolation
from aiff.events.bounds import MAX_TEAM_ID, MAX_TICKET_ID
from aiff.events.registry import EVENT_TYPES, decode
from aiff.events.tickets import TicketAssigned, TicketCreated, ticket_event
from aiff.projections.fold import ticket_number_for

ROOT = Path(__file__).resolve().parents[2]
ID = "5b0f6f0e-2d6a-4c1e-9f49-3c2f0f4f7a10"


def created(**data: Any) -> dict[str, Any]:
    body = {"ticket_id": 7, "title": "Fiber cut", "priority": "high", "zone": "Johor", **data}
    return {"specversion": "1.0", "id": ID, "source": "urn:crm:test", "type": "aiff.ticket.created.v1",
            "time": "2026-11-22T08:00:00+08:00", "subject": "7", "data": body}  # fmt: skip


def assigned(team_id: Any) -> dict[str, Any]:
    return {**created(), "type": "aiff.ticket.assigned.v1", "data": {"ticket_id": 7, "team_id": team_id, "strategy": "manual"}}


def refused(event: dict[str, Any] | bytes | None) -> str:
    raw = event if event is None or isinstance(event, bytes) else json.dumps(event).encode()
    with pytest.raises(ContractViolation) as info:
        decode(raw)
    return info.value.message


@pytest.mark.parametrize("ticket_id", ["7006007", 7006007.0, True, 0, -1, MAX_TICKET_ID + 1, 2**63, 2**64])
def test_ticket_ids_are_strict_integers_in_range(ticket_id: Any) -> None:
    assert "data.ticket_id" in refused(created(ticket_id=ticket_id))


def test_the_largest_ticket_id_is_accepted_and_its_number_fits_the_column() -> None:
    event = decode(json.dumps(created(ticket_id=MAX_TICKET_ID)).encode())
    assert event.data.ticket_id == MAX_TICKET_ID
    for ticket_id in (1, 10**11 - 1, 10**11, 10**12, MAX_TICKET_ID):
        assert len(ticket_number_for(ticket_id, event.time)) <= 20
    assert ticket_number_for(42, event.time) == "TKT-2026-000042"  # unchanged for existing ids


@pytest.mark.parametrize("team_id", [MAX_TEAM_ID + 1, "3", 3.0, False, 0])
def test_team_ids_fit_a_32_bit_column(team_id: Any) -> None:
    assert "data.team_id" in refused(assigned(team_id))
    assert decode(json.dumps(assigned(MAX_TEAM_ID)).encode()).data.team_id == MAX_TEAM_ID


@pytest.mark.parametrize(
    "time",
    ["9999-12-31T23:00:00Z", "1970-01-01T00:00:00Z", "2101-01-01T00:00:00Z", "2026-11-22T08:00:00", 1700000000, "yesterday"],
)
def test_times_need_an_offset_and_a_sane_year(time: Any) -> None:
    assert refused({**created(), "time": time}).startswith("schema violation: time")
    assert "due_date" in refused(created(due_date=time))


@pytest.mark.parametrize("attribute", ["id", "time", "type", "source", "subject"])
def test_cloudevents_attributes_are_required_on_the_wire_and_in_the_schemas(attribute: str) -> None:
    event = created()
    del event[attribute]
    assert refused(event)
    for event_type in EVENT_TYPES:
        schema = json.loads((ROOT / "events" / "schemas" / f"{event_type}.schema.json").read_text())
        assert {"id", "time", "type", "source"} <= set(schema["required"]), event_type


def test_python_constructors_still_fill_id_time_source_and_type() -> None:
    one = ticket_event(TicketCreated, {"ticket_id": 5, "title": "x", "priority": "low", "zone": "Perlis"})
    two = ticket_event(TicketCreated, {"ticket_id": 5, "title": "x", "priority": "low", "zone": "Perlis"})
    assert one.id != two.id and one.type == "aiff.ticket.created.v1" and one.source == "urn:aiff"
    assert one.time.tzinfo is not None
    assert decode(one.to_json()) == one


def test_a_literal_backslash_u0000_is_text_but_a_real_nul_is_refused() -> None:
    literal = json.dumps(created(title="C:\\u0000 path")).encode()  # JSON text "C:\\u0000 path": no NUL
    assert b"\\\\u0000" in literal
    assert decode(literal).data.title == "C:\\u0000 path"
    nul = json.dumps(created(title="a\x00b")).encode()  # JSON text "a\u0000b": a NUL
    assert "NUL" in refused(nul)
    assert "NUL" in refused(json.dumps({**created(), "extension": {"k\x00": 1}}).encode())


def test_a_tombstone_and_non_finite_numbers_are_refused_with_a_reason() -> None:
    assert "tombstone" in refused(None)
    event = assigned(3)
    event["data"]["breakdown"] = {"travel": float("nan")}
    assert "breakdown" in refused(json.dumps(event).encode())
    assert "distance_km" in refused(json.dumps({**event, "data": {**assigned(3)["data"], "distance_km": 1e400}}).encode())


def test_source_and_correlation_fit_their_history_columns() -> None:
    assert "source" in refused({**created(), "source": "u" * 201})
    assert "correlationid" in refused({**created(), "correlationid": "c" * 201})
    assert decode(json.dumps({**created(), "source": "u" * 200}).encode()).source == "u" * 200


def test_an_assignment_decodes_with_strict_booleans_only() -> None:
    event = assigned(3)
    event["data"]["frozen"] = "true"
    assert "frozen" in refused(event)
    event["data"]["frozen"] = True
    assert isinstance(decode(json.dumps(event).encode()), TicketAssigned)
