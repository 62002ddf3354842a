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
    return await wait_applied(resources, waiter, await publish_all(resources, events))


async def publish_all(resources: Resources, events: list[Envelope]) -> list:  # list[RecordMetadata]
    """Publish events in order; their metadata (a decision section records the offsets)."""
    return [await publish(resources, event) for event in events]


async def wait_applied(resources: Resources, waiter: PositionWaiter, metadata: list) -> bool:
    """Wait until the projector passed the last of these published records (see `publish_and_wait`)."""
    if not metadata:
        return False
    last = metadata[-1]
    try:
        return await waiter.wait(last.topic, last.partition, last.offset, resources.settings.read_your_writes_timeout_s)
    except Exception as exc:  # noqa: BLE001 - narrowed to outages below
        if not is_outage(exc):
            raise
        # The event is durable in Kafka: the write is accepted even though the database cannot confirm it now.
        log.warning("read-your-writes check failed (%s: %s); answering 202", type(exc).__name__, exc)
        return False
