"""CloudEvents 1.0 envelope shared by every AIFF event (structured mode: the whole event is the Kafka value)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"
DEFAULT_SOURCE = "urn:aiff"


def utcnow() -> datetime:
    """Timezone-aware now, so every event time carries its offset."""
    return datetime.now(UTC)


class Payload(BaseModel):
    """Base of every event's `data`: immutable, and tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """CloudEvents attributes plus AIFF's tracing extensions; subclasses pin `type` and `data`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic_kind: ClassVar[str] = ""
    """Which logical topic (tickets, teams, requests) the event travels on; not serialised."""

    specversion: str = Field("1.0", description="CloudEvents spec version; always 1.0.")
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id; a redelivered id changes nothing.")
    source: str = Field(DEFAULT_SOURCE, description="URI of the system that published the event, e.g. urn:crm:acme.")
    type: str = Field(description="Versioned past-tense event type, e.g. aiff.ticket.created.v1.")
    time: datetime = Field(default_factory=utcnow, description="When the fact happened (RFC 3339 with offset).")
    subject: str = Field(description="Id of the entity the event is about (ticket id or team id); also the Kafka key.")
    datacontenttype: str = Field("application/json", description="Media type of `data`.")
    correlationid: str | None = Field(None, description="Id shared by every event caused by one request.")
    causationid: str | None = Field(None, description="Id of the event or command that caused this one.")
    data: Any = Field(description="The event's payload.")

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
