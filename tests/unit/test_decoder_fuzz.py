"""Hypothesis over the decoder: any bytes give a typed event whose values every column can hold, or a
ContractViolation with a reason; nothing else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiff.errors import ContractViolation
from aiff.events.bounds import EARLIEST, LATEST, MAX_INT32, MAX_TICKET_ID
from aiff.events.registry import decode
from aiff.projections.fold import ticket_number_for
from tests.fuzz_events import raw_values


def _ints(value: object) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ints(v)]
    if isinstance(value, (list, tuple)):
        return [i for v in value for i in _ints(v)]
    return []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(raw_values, st.binary(max_size=200)))
def test_decode_gives_a_storable_event_or_a_reason(raw: bytes | None) -> None:
    try:
        event = decode(raw)
    except ContractViolation as exc:
        assert exc.message and exc.code == "contract_violation"
        return
    assert event.time.tzinfo is not None and EARLIEST <= event.time < LATEST
    data = event.data.model_dump()
    assert all(0 <= i <= MAX_TICKET_ID for i in _ints(data))
    if "team_id" in data:
        assert 1 <= data["team_id"] <= MAX_INT32
    if "ticket_id" in data:
        assert len(ticket_number_for(data["ticket_id"], event.time)) <= 20
    for key in ("due_date",):
        if data.get(key) is not None:
            assert data[key].tzinfo is not None and EARLIEST <= data[key] < LATEST
    assert not any("\x00" in text for text in _strings(json.loads(raw)))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
