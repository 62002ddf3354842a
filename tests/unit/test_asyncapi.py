"""The AsyncAPI document FastStream generates from aiff.events.docs: what it declares, and its tools work on it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema

from aiff.consumers.dead_letters import MAX_DEAD_LETTER_BYTES, dead_letter
from aiff.events.envelope import REQUIRED_ON_WIRE
from aiff.events.registry import EVENT_TYPES
from aiff.projections.projector import Record, Rejected

ROOT = Path(__file__).resolve().parents[2]
FASTSTREAM = Path(sys.executable).parent / "faststream"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads((ROOT / "events" / "asyncapi.json").read_text())


def _message(doc: dict[str, Any], channel: str) -> dict[str, Any]:
    """A channel's one message, as FastStream stores it under components."""
    [ref] = doc["channels"][channel]["messages"].values()
    return _resolve(doc, ref)


def _payload_types(doc: dict[str, Any], channel: str) -> set[str]:
    """The event types a channel's message may carry (one component schema each)."""
    payload = _resolve(doc, _message(doc, channel)["payload"])
    schemas = [_resolve(doc, one) for one in payload.get("oneOf", [payload])]
    return {s["properties"]["type"]["const"] for s in schemas}


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    *_, section, name = node["$ref"].split("/")
    return doc["components"][section][name]


def test_it_is_asyncapi_3_that_faststream_reads_back(doc: dict[str, Any]) -> None:
    """`faststream docs serve events/asyncapi.json` parses the file with this model."""
    spec = ApplicationSchema.model_validate(doc)
    assert spec.asyncapi == "3.0.0"
    assert {c.address for c in spec.channels.values()} == {"aiff.tickets", "aiff.teams", "aiff.requests", "aiff.dead-letters"}


def test_each_topic_declares_what_upstream_may_publish_and_what_aiff_publishes(doc: dict[str, Any]) -> None:
    by_topic = {"tickets": "aiff.ticket.", "teams": "aiff.team.", "requests": "aiff.assignment.auto_requested"}
    for kind in by_topic:
        assert doc["operations"][f"{kind}-in"]["action"] == "receive"
        assert doc["channels"][f"{kind}-in"]["address"] == f"aiff.{kind}"
    assert _payload_types(doc, "tickets-in") == {t for t in EVENT_TYPES if t.startswith("aiff.ticket.")} | {
        "aiff.assignment.deferred.v1"
    }
    assert _payload_types(doc, "teams-in") == {t for t in EVENT_TYPES if t.startswith(("aiff.team.", "aiff.zone.", "aiff.plan."))}
    assert _payload_types(doc, "requests-in") == {"aiff.assignment.auto_requested.v1"}
    assert _payload_types(doc, "tickets-out") == {
        "aiff.ticket.assigned.v1", "aiff.ticket.unassigned.v1", "aiff.assignment.deferred.v1", "aiff.ticket.enriched.v1",
        "aiff.ticket.sla_at_risk.v1", "aiff.ticket.sla_breached.v1",
    }  # fmt: skip
    assert _payload_types(doc, "teams-out") == {"aiff.team.metrics_updated.v1", "aiff.plan.updated.v1"}
    assert {op["action"] for name, op in doc["operations"].items() if name.endswith("-out")} == {"send"}


def test_event_schemas_match_the_json_schema_files_and_require_the_wire_attributes(doc: dict[str, Any]) -> None:
    components = doc["components"]["schemas"]
    for event_type, cls in EVENT_TYPES.items():
        standalone = json.loads((ROOT / "events" / "schemas" / f"{event_type}.schema.json").read_text())
        component = components[cls.__name__]
        assert set(component["required"]) >= REQUIRED_ON_WIRE
        assert json.dumps(component["properties"], sort_keys=True) == json.dumps(
            standalone["properties"], sort_keys=True
        ).replace("#/$defs/", "#/components/schemas/")
        for name, definition in standalone["$defs"].items():
            assert components[name] == json.loads(json.dumps(definition).replace("#/$defs/", "#/components/schemas/"))
        data = components[cls.__name__ + "Data"]
        assert all(prop.get("description") for prop in data["properties"].values()), event_type


def test_event_messages_say_content_type_headers_and_key(doc: dict[str, Any]) -> None:
    for name in ("tickets-in", "teams-in", "requests-in", "tickets-out", "teams-out"):
        message = _message(doc, name)
        assert message["contentType"] == "application/cloudevents+json"
        assert message["headers"]["required"] == ["content-type"]
        assert "ce_type" in message["headers"]["properties"]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"


def _dlq_headers(record: Record) -> dict[str, bytes]:
    _, _, headers = dead_letter(Rejected(record, "schema violation: data.priority", "contract_violation"), "projector")
    return {k: v for k, v in headers if k.startswith("dlq_")}


def test_dead_letter_headers_are_the_ones_the_consumers_write(doc: dict[str, Any]) -> None:
    message = _message(doc, "dead-letters-out")
    documented = message["headers"]["properties"]
    small = _dlq_headers(Record("aiff.tickets", 3, 41, b"7", b"{", (("content-type", b"x"),)))
    large = _dlq_headers(Record("aiff.tickets", 3, 42, b"7", b"x" * MAX_DEAD_LETTER_BYTES))
    assert set(small) == set(message["headers"]["required"])
    assert set(large) == set(documented)
    assert "contract_violation" in documented["dlq_error_code"]["description"]
    assert doc["channels"]["dead-letters-out"]["address"] == "aiff.dead-letters"
    assert doc["operations"]["dead-letters-out"]["action"] == "send"


def test_faststream_docs_gen_writes_the_committed_document(tmp_path: Path) -> None:
    """The README's module path works with FastStream's own CLI, and the output does not depend on hash order."""
    out = tmp_path / "asyncapi.json"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([FASTSTREAM, "docs", "gen", "aiff.events.docs:app", "-o", out], check=True, cwd=tmp_path, env=env,
                   capture_output=True, timeout=120)  # fmt: skip
    assert json.loads(out.read_text()) == json.loads((ROOT / "events" / "asyncapi.json").read_text())


@pytest.mark.parametrize("target", ["aiff.events.docs:app", "events/asyncapi.json"])
def test_faststream_docs_serve_shows_the_contract(target: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([FASTSTREAM, "docs", "serve", target, "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert proc.poll() is None, "faststream docs serve exited"
                assert time.monotonic() < deadline, "faststream docs serve did not answer"
                time.sleep(0.2)
        assert "AIFF event contract" in page and "dlq_reason" in page and "aiff.ticket.created.v1" in page
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dead_letter_codes_do_not_depend_on_what_was_imported() -> None:
    """The API's own error classes (e.g. the AI service's `bad_request`) never reach a dead letter; importing them
    first (as an e2e test does) once changed the generated contract and failed the drift check."""
    import aiff.ai.service  # noqa: F401 - defines a PermanentError subclass outside aiff.errors
    from aiff.events.docs import ERROR_CODES

    assert "bad_request" not in ERROR_CODES
    assert {"contract_violation", "not_found", "conflict", "unwritable", "consumer_error"} <= set(ERROR_CODES)
