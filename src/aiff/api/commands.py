"""Publishing the events a request causes, and waiting until the projector applied them."""

from __future__ import annotations

import logging

from aiff.api.readyourwrites import PositionWaiter
from aiff.bootstrap import Resources, is_outage
from aiff.events.envelope import Envelope

log = logging.getLogger(__name__)


async def publish(resources: Resources, event: Envelope):  # -> RecordMetadata
    """Publish one event; Kafka unavailable for `AIFF_KAFKA_PUBLISH_TIMEOUT_S` answers 503 with `Retry-After`
    (the publisher retries and replaces a failed producer within that time, then raises EventBusUnavailable)."""
    return await resources.publisher.publish(event)


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
    try:
        return await waiter.wait(
            metadata.topic, metadata.partition, metadata.offset, resources.settings.read_your_writes_timeout_s
        )
    except Exception as exc:  # noqa: BLE001 - narrowed to outages below
        if not is_outage(exc):
            raise
        # The event is durable in Kafka: the write is accepted even though the database cannot confirm it now.
        log.warning("read-your-writes check failed (%s: %s); answering 202", type(exc).__name__, exc)
        return False
