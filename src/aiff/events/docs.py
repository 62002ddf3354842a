"""The AsyncAPI 3.0 contract, declared as FastStream endpoints that never run.

FastStream builds the document from these declarations, so `aiff events export`,
`faststream docs gen aiff.events.docs:app` and `faststream docs serve aiff.events.docs:app` show one contract.
The consumers that really read these topics live in `aiff.consumers`; nothing here connects to Kafka.
Nothing depends on the environment (default bootstrap servers and topic prefix), so the document is reproducible.
"""

from typing import Annotated, Any, Literal, Union

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema
from pydantic import Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from aiff import __version__
from aiff.errors import PermanentError, StaleDecision
from aiff.events.envelope import CONTENT_TYPE, Envelope
from aiff.events.registry import EVENT_CLASSES
from aiff.events.topics import Topics
from aiff.settings import Settings

TOPICS = Topics()
BOOTSTRAP: str = Settings.model_fields["kafka_bootstrap_servers"].default
AIFF_PUBLISHES = ("TicketAssigned", "TicketUnassigned", "AssignmentDeferred", "TicketEnriched", "TeamMetricsUpdated", "PlanUpdated",
                  "TicketSlaAtRisk", "TicketSlaBreached")
"""The facts AIFF's consumers derive (the API also publishes the other events, on behalf of its users)."""
TOPIC_DOCS = {
    "tickets": ("Facts about tickets.", "Ticket id (decimal string), so one ticket's events stay in order on one partition."),
    "teams": ("Facts about teams (including positions and planned days) and zone settings.", "Team id (decimal string), or `zone:<name>` for zone settings."),
    "requests": ("Requests for the assignment engine (auto-assign runs).", "Request id."),
}
DESCRIPTION = (
    "Events are CloudEvents 1.0 in structured mode: the Kafka value is the whole JSON event (`specversion`, `id`, "
    "`source`, `type`, `time`, `subject`, `data`, optional `correlationid` and `causationid`); `id`, `source`, `type` "
    "and `time` are required on the wire. Types are versioned past-tense facts; additive changes keep the version, "
    "breaking ones add a new one. Readers ignore unknown fields. An event id delivered twice has one effect. Topic "
    "names carry the prefix `aiff` (AIFF_TOPIC_PREFIX). Each event type's JSON Schema is also in events/schemas/."
)


def event_description(cls: type[Envelope]) -> str:
    """One description per event type, shared with its JSON Schema file."""
    return (cls.__doc__ or "").strip() or f"CloudEvent of type {cls.event_type()}."


def _subclasses(cls: type) -> list[type]:
    return [s for sub in cls.__subclasses__() for s in (sub, *_subclasses(sub))]


CONSUMER_CODES = ("unwritable", "consumer_error")
"""Refusals of the consumer itself: the read models cannot store a record, or a consumer fails on it alone."""
NEVER_DEAD_LETTERED = (StaleDecision,)
"""Refusals recorded in the ticket's history instead: decisions of AIFF's own that events overtook."""
ERROR_CODES = sorted(
    {c.code for c in [PermanentError, *_subclasses(PermanentError)]
     if c.__module__ == PermanentError.__module__ and not issubclass(c, NEVER_DEAD_LETTERED)} | set(CONSUMER_CODES)
)  # fmt: skip
"""The contract's refusals (aiff.errors) only: the API's own error classes never reach a dead letter, and whether their
modules were imported must not change the generated contract."""

CloudEventHeaders = TypedDict(
    "CloudEventHeaders",
    {
        "content-type": Annotated[Literal["application/cloudevents+json"], Field(description="Structured-mode CloudEvent.")],
        "ce_type": NotRequired[Annotated[str, Field(description="Copy of the event's `type`, so routers need not parse the value.")]],
        "correlation_id": NotRequired[Annotated[str, Field(description="Copy of the event's `correlationid`.")]],
    },
)  # fmt: skip
CloudEventHeaders.__doc__ = "Kafka headers of an event record (the value alone is the whole event)."


class DeadLetterHeaders(TypedDict):
    """Why and where from (see aiff.consumers.dead_letters); the refused record's own headers are kept too, unless
    it was truncated."""

    dlq_reason: Annotated[str, Field(max_length=2000, description="Human-readable reason, e.g. `schema violation: data.priority: ...`.")]
    dlq_error_code: Annotated[str, Field(description=f"Class of the refusal: {', '.join(ERROR_CODES)}.")]
    dlq_consumer: Annotated[str, Field(description="Consumer group that refused the record, e.g. `projector`.")]
    dlq_topic: Annotated[str, Field(description="Topic of the original record.")]
    dlq_partition: Annotated[str, Field(pattern=r"^[0-9]+$", description="Partition of the original record (decimal).")]
    dlq_offset: Annotated[str, Field(pattern=r"^[0-9]+$", description="Offset of the original record (decimal); the log keeps it forever.")]
    dlq_time: Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="When it was refused (RFC 3339, UTC).")]
    dlq_truncated: NotRequired[Annotated[Literal["true"], Field(description="Present when the value was cut to fit one Kafka message (at most 1,000,000 bytes); the original headers are dropped then.")]]
    dlq_original_bytes: NotRequired[Annotated[str, Field(pattern=r"^[0-9]+$", description="Size of the original value, when truncated.")]]
    dlq_original_key_bytes: NotRequired[Annotated[str, Field(pattern=r"^[0-9]+$", description="Size of the original key, when truncated (the key is cut to 1024 bytes).")]]  # fmt: skip


DeadLetterValue = Annotated[
    bytes,
    Field(title="DeadLetterValue", description="The refused record's value, unchanged (cut when too large; absent for "
          "a tombstone). `aiff dlq redrive` republishes it to `dlq_topic`."),
]  # fmt: skip


def _union(classes: list[type[Envelope]]) -> Any:
    """What a consumer of these classes decodes: a union told apart by `type`, one schema per event type."""
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[tuple(classes)], Field(discriminator="type")]  # noqa: UP007 - built at runtime


def _never_run(name: str, payload: Any) -> Any:
    """A handler whose only use is its annotation: FastStream takes the message schema from it."""

    async def handler(event: Any) -> None:
        raise RuntimeError("documentation only; the consumers in aiff.consumers read this topic")

    handler.__name__ = handler.__qualname__ = name
    handler.__annotations__ = {"event": payload, "return": None}
    return handler


def _message(name: str, content_type: str, headers: Any, key: str) -> dict[str, Any]:
    """Message fields FastStream's AsyncAPI cannot declare yet (its Message model has headers as a TODO)."""
    return {
        "name": name,
        "contentType": content_type,
        "headers": TypeAdapter(headers).json_schema(),
        "bindings": {"kafka": {"key": {"type": "string", "description": key}, "bindingVersion": "0.4.0"}},
    }


def declare(broker: KafkaBroker) -> dict[str, dict[str, Any]]:
    """Declare every topic's incoming and outgoing messages on `broker`; returns the extra fields per channel."""
    extras: dict[str, dict[str, Any]] = {}
    for kind, (about, key) in TOPIC_DOCS.items():
        topic = TOPICS.for_kind(kind)
        accepted = [c for c in EVENT_CLASSES if c.topic_kind == kind]
        listed = ", ".join(f"`{c.event_type()}`" for c in accepted)
        broker.subscriber(
            topic,
            title=f"{kind}-in",
            description=f"{about} What an upstream system may publish (and the projector reads): {listed}. "
            f"Key: {key} Publish with acks=all.",
        )(_never_run(f"{kind}_events", _union(accepted)))
        extras[f"{kind}-in"] = _message(f"{topic} events", CONTENT_TYPE, CloudEventHeaders, key)
        if derived := [c for c in accepted if c.__name__ in AIFF_PUBLISHES]:
            listed = ", ".join(f"`{c.event_type()}`" for c in derived)
            broker.publisher(
                topic,
                title=f"{kind}-out",
                description=f"{about} What AIFF's consumers publish here: {listed}.",
                schema=_union(derived),
            )
            extras[f"{kind}-out"] = _message(f"{topic} AIFF events", CONTENT_TYPE, CloudEventHeaders, key)
    broker.publisher(
        TOPICS.dead_letters,
        title="dead-letters-out",
        description="Records a consumer refused (a tombstone, bad JSON, an unknown type, a schema violation, an "
        "unknown reference, an invalid transition, a reused id with other content), unchanged, with the reason and "
        "the original's position in headers; the consumers carry on. One partition.",
        schema=DeadLetterValue,
    )
    extras["dead-letters-out"] = _message(
        f"{TOPICS.dead_letters} record", "application/octet-stream", DeadLetterHeaders,
        "The original record's key, unchanged (cut to 1024 bytes when truncated).",
    )  # fmt: skip
    return extras


class Contract(AsyncAPI):
    """FastStream's AsyncAPI document, plus the message fields it cannot declare yet and a description per event
    schema (FastStream takes those from docstrings, which the event classes do not have)."""

    def __init__(self, broker: KafkaBroker, **kwargs: Any) -> None:
        super().__init__(broker, **kwargs)
        self.extras = declare(broker)

    def to_specification(self) -> ApplicationSchema:
        spec = super().to_specification()
        spec.defaultContentType = CONTENT_TYPE
        for key, message in (spec.components.messages or {}).items():
            for field, value in self.extras[key.split(":")[0]].items():
                setattr(message, field, value)
        schemas = spec.components.schemas or {}
        for cls in EVENT_CLASSES:
            schemas[cls.__name__]["description"] = event_description(cls)
        return spec


broker = KafkaBroker(BOOTSTRAP, description="The local stack (deploy/stack.sh); elsewhere AIFF_KAFKA_BOOTSTRAP_SERVERS.")
app = FastStream(broker, specification=Contract(broker, title="AIFF event contract", version=__version__, description=DESCRIPTION))
