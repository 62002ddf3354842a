"""CloudEvents 1.0 envelope shared by every AIFF event (structured mode: the whole event is the Kafka value)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from aiff.events.bounds import Time

CONTENT_TYPE = "application/cloudevents+json"
DEFAULT_SOURCE = "urn:aiff"
WIRE = {"wire": True}
"""Validation context of events read from Kafka: no defaults for the CloudEvents attributes."""
REQUIRED_ON_WIRE = frozenset({"id", "time", "type", "source"})


def _wire_schema(schema: dict[str, Any]) -> None:
    """The published JSON Schema: what the wire requires, without the Python constructors' defaults."""
    schema["required"] = sorted(set(schema.get("required", ())) | REQUIRED_ON_WIRE)
    for name in REQUIRED_ON_WIRE:
        schema["properties"].get(name, {}).pop("default", None)


def utcnow() -> datetime:
    """Timezone-aware now, so every event time carries its offset."""
    return datetime.now(UTC)


class Payload(BaseModel):
    """Base of every event's `data`: immutable, and tolerant of fields added by newer producers.

    NaN and infinities are refused: JSON has no such numbers and Postgres' jsonb refuses them.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)


class Envelope(BaseModel):
    """CloudEvents attributes plus AIFF's tracing extensions; subclasses pin `type` and `data`."""

    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=_wire_schema)

    topic_kind: ClassVar[str] = ""
    """Which logical topic (tickets, teams, requests) the event travels on; not serialised."""

    specversion: str = Field("1.0", description="CloudEvents spec version; always 1.0.")
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id; a redelivered id changes nothing, a reused id with other content is dead-lettered.")
    source: str = Field(DEFAULT_SOURCE, min_length=1, max_length=200, description="URI of the system that published the event, e.g. urn:crm:acme.")
    type: str = Field(description="Versioned past-tense event type, e.g. aiff.ticket.created.v1.")
    time: Time = Field(default_factory=utcnow, description="When the fact happened: RFC 3339 with a UTC offset, years 2000-2100.")
    subject: str = Field(max_length=200, description="Id of the entity the event is about (ticket id or team id); also the Kafka key.")
    datacontenttype: str = Field("application/json", max_length=100, description="Media type of `data`.")
    correlationid: str | None = Field(None, max_length=200, description="Id shared by every event caused by one request.")
    causationid: str | None = Field(None, max_length=200, description="Id of the event or command that caused this one.")
    data: Any = Field(description="The event's payload.")

    @model_validator(mode="after")
    def _attributes_on_the_wire(self, info: ValidationInfo) -> Envelope:
        """Python constructors may omit `id`, `time` and `source` (a fresh id, now, AIFF); events read from Kafka
        (`decode` passes WIRE) must carry them, or a redelivery would get a second id and time."""
        if (info.context or {}).get("wire") and not REQUIRED_ON_WIRE <= self.model_fields_set:
            missing = ", ".join(sorted(REQUIRED_ON_WIRE - self.model_fields_set))
            raise ValueError(f"missing required attribute(s): {missing}")
        return self

    def key(self) -> bytes:
        """Kafka key: the entity id, so one entity's events stay on one partition, in order."""
        return self.subject.encode()

    def to_json(self) -> bytes:
        """Serialise to the structured-mode Kafka value."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def event_type(cls) -> str:
        """The type string this class is pinned to."""
        return cls.model_fields["type"].default
