"""The committed public contract (events/) matches the pydantic models; decoding gives clear reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiff.errors import ContractViolation
from aiff.events import contract
from aiff.events.registry import EVENT_TYPES, decode
from aiff.events.tickets import TicketCreated, TicketCreatedData, ticket_event

ROOT = Path(__file__).resolve().parents[2]


def test_committed_contract_matches_the_models() -> None:
    assert contract.check(ROOT / "events") == [], "run `aiff events export` and commit events/"


def test_every_event_type_has_a_schema_and_an_asyncapi_schema() -> None:
    asyncapi = json.loads((ROOT / "events" / "asyncapi.json").read_text())
    components = asyncapi["components"]["schemas"]
    for event_type, cls in EVENT_TYPES.items():
        schema = json.loads((ROOT / "events" / "schemas" / f"{event_type}.schema.json").read_text())
        assert schema["properties"]["type"]["const"] == event_type
        assert all(
            "description" in prop for prop in schema["$defs"][next(iter(schema["$defs"]))]["properties"].values()
        )
        component = components[cls.__name__]
        assert component["properties"]["type"]["const"] == event_type
        assert component["description"] == schema["description"]


def test_drift_is_detected(tmp_path: Path) -> None:
    contract.export(tmp_path)
    assert contract.check(tmp_path) == []
    path = tmp_path / "schemas" / "aiff.ticket.created.v1.schema.json"
    path.write_text(path.read_text().replace("Short summary", "Changed"))
    assert contract.check(tmp_path) == ["schemas/aiff.ticket.created.v1.schema.json"]
    path = tmp_path / "asyncapi.json"
    path.write_text(path.read_text().replace("Short summary", "Changed", 1))
    assert contract.check(tmp_path) == ["schemas/aiff.ticket.created.v1.schema.json", "asyncapi.json"]


def test_a_changed_model_without_a_new_export_is_drift(tmp_path: Path) -> None:
    """Both documents follow the models: a changed field description makes the committed contract stale."""
    contract.export(tmp_path)
    field = TicketCreatedData.model_fields["title"]
    original = field.description
    try:
        field.description = "A changed description"
        TicketCreatedData.model_rebuild(force=True)
        TicketCreated.model_rebuild(force=True)
        assert contract.check(tmp_path) == ["schemas/aiff.ticket.created.v1.schema.json", "asyncapi.json"]
        assert "A changed description" in json.dumps(contract.build()["asyncapi.json"])
    finally:
        field.description = original
        TicketCreatedData.model_rebuild(force=True)
        TicketCreated.model_rebuild(force=True)
    assert contract.check(tmp_path) == []


def test_round_trip_and_unknown_fields_are_ignored() -> None:
    event = ticket_event(TicketCreated, {"ticket_id": 5, "title": "No dial tone", "priority": "low", "zone": "Perlis"})
    raw = json.loads(event.to_json())
    raw["data"]["added_by_a_newer_producer"] = True
    raw["extension"] = "x"
    assert decode(json.dumps(raw)) == event


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "invalid JSON"),
        (b'{"type": "aiff.ticket.flew.v1"}', "unknown event type: aiff.ticket.flew.v1"),
        (b'{"subject": "1"}', "missing event type"),
        (
            b'{"type": "aiff.ticket.created.v1", "subject": "1", "data": {"ticket_id": 1, "title": "x", "priority": "urgent", "zone": "Johor"}}',
            "schema violation: data.priority",
        ),
    ],
)
def test_contract_violations_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(ContractViolation) as info:
        decode(raw)
    assert info.value.message.startswith(reason)
