"""Every event type of the contract, and one fast decoder for all of them."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter, ValidationError

from aiff.errors import ContractViolation
from aiff.events.envelope import Envelope
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
    TicketStatusChanged,
    TicketUnassigned,
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
    TeamCreated,
    TeamUpdated,
    TeamDeleted,
    TeamStatusChanged,
    TeamMetricsUpdated,
    ZoneConfigured,
    AutoAssignRequested,
)
EVENT_TYPES: dict[str, type[Envelope]] = {cls.event_type(): cls for cls in EVENT_CLASSES}

AnyEvent = Annotated[Union[EVENT_CLASSES], Field(discriminator="type")]  # type: ignore[valid-type]
_decoder: TypeAdapter[Envelope] = TypeAdapter(AnyEvent)


def decode(raw: bytes | str) -> Envelope:
    """Parse one structured-mode CloudEvent into its typed model.

    Raises:
        ContractViolation: bad JSON, an unknown type, or a payload failing the schema; the message is the
            reason that goes to the dead-letter topic.
    """
    try:
        return _decoder.validate_json(raw)
    except ValidationError as exc:
        raise ContractViolation(_reason(exc)) from None


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
