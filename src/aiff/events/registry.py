"""Every event type of the contract, and one fast decoder for all of them."""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from aiff.errors import ContractViolation
from aiff.events.envelope import WIRE, Envelope
from aiff.events.plans import PlanUpdated, TeamPositionReported
from aiff.events.requests import AutoAssignRequested
from aiff.events.teams import (
    TeamCreated,
    TeamDeleted,
    TeamMetricsUpdated,
    TeamStatusChanged,
    TeamUpdated,
    ZoneConfigured,
)
from aiff.events.tickets import (
    AssignmentDeferred,
    TicketAssigned,
    TicketCreated,
    TicketDeleted,
    TicketEnriched,
    TicketMoved,
    TicketPinned,
    TicketSlaAtRisk,
    TicketSlaBreached,
    TicketStatusChanged,
    TicketUnassigned,
    TicketUnpinned,
    TicketUpdated,
)

EVENT_CLASSES: tuple[type[Envelope], ...] = (
    TicketCreated,
    TicketUpdated,
    TicketAssigned,
    TicketUnassigned,
    TicketStatusChanged,
    TicketDeleted,
    TicketEnriched,
    AssignmentDeferred,
    TicketPinned,
    TicketMoved,
    TicketUnpinned,
    TicketSlaAtRisk,
    TicketSlaBreached,
    TeamCreated,
    TeamUpdated,
    TeamDeleted,
    TeamStatusChanged,
    TeamMetricsUpdated,
    ZoneConfigured,
    TeamPositionReported,
    PlanUpdated,
    AutoAssignRequested,
)
EVENT_TYPES: dict[str, type[Envelope]] = {cls.event_type(): cls for cls in EVENT_CLASSES}

AnyEvent = Annotated[Union[EVENT_CLASSES], Field(discriminator="type")]  # type: ignore[valid-type]
_decoder: TypeAdapter[Envelope] = TypeAdapter(AnyEvent)


def decode(raw: bytes | str | None) -> Envelope:
    """Parse one structured-mode CloudEvent into its typed model, strictly: on the wire `"7"`, `7.0` and `true`
    are not the integer 7, times need an offset, and no string may hold a NUL (Postgres text cannot).

    Raises:
        ContractViolation: no value (a tombstone), bad JSON, an unknown type, or a payload failing the schema;
            the message is the reason that goes to the dead-letter topic.
    """
    if raw is None:
        raise ContractViolation("empty record (null value, a tombstone): events are never deleted")
    try:
        event = _decoder.validate_json(raw, strict=True, context=WIRE)
    except ValidationError as exc:
        raise ContractViolation(_reason(exc)) from None
    except (ValueError, RecursionError) as exc:  # defensive: the decoder must never stop a consumer
        raise ContractViolation(f"invalid JSON: {exc}") from None
    if _may_hold_nul(raw) and _holds_nul(json.loads(raw)):
        raise ContractViolation("NUL characters (\\u0000) are not allowed in event text")
    return event


def _may_hold_nul(raw: bytes | str) -> bool:
    """JSON can only carry a NUL as the escape \\u0000 (raw control characters are invalid JSON)."""
    return (b"\\u0000" in raw) if isinstance(raw, bytes) else ("\\u0000" in raw)


def _holds_nul(value: Any) -> bool:
    """Whether a decoded JSON value has a NUL in any string or key (`\\\\u0000`, an escaped backslash, is no NUL)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return f"invalid JSON: {first['msg']}"
    if first["type"] == "union_tag_invalid":
        return f"unknown event type: {first.get('ctx', {}).get('tag', '?')}"
    if first["type"] == "union_tag_not_found":
        return "missing event type"
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err["loc"][1:]) or "event"
        parts.append(f"{loc}: {err['msg']}")
    return "schema violation: " + "; ".join(parts)
