"""Publishing the events a request causes, and waiting until the projector applied them."""

from __future__ import annotations

from aiokafka.errors import KafkaError

from aiff.bootstrap import Resources
from aiff.api.readyourwrites import PositionWaiter
from aiff.errors import TransientError
from aiff.events.envelope import Envelope

API_SOURCE = "urn:aiff:api"


async def publish(resources: Resources, event: Envelope):  # -> RecordMetadata
    """Publish one event; Kafka being unavailable answers 503."""
    try:
        return await resources.publisher.publish(event)
    except KafkaError as exc:
        raise TransientError(f"event bus unavailable: {exc.__class__.__name__}") from exc


async def publish_and_wait(resources: Resources, waiter: PositionWaiter, events: list[Envelope]) -> bool:
    """Publish events in order (one entity: one partition) and wait until the projector passed the last one.

    Returns:
        True when applied within `read_your_writes_timeout_s`; False when the caller should answer 202.
    """
    metadata = None
    for event in events:
        metadata = await publish(resources, event)
    if metadata is None:
        return False
    return await waiter.wait(
        metadata.topic, metadata.partition, metadata.offset, resources.settings.read_your_writes_timeout_s
    )
