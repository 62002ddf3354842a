"""Dead letters: the refused record, unchanged, with the reason and its origin in headers."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter

from aiff.events.producer import EventPublisher
from aiff.projections.projector import Rejected

DEAD_LETTERS = Counter("aiff_dead_letters_total", "Records sent to the dead-letter topic", ["consumer", "code"])


def dead_letter_headers(rejected: Rejected, consumer: str) -> list[tuple[str, bytes]]:
    """The original headers plus why and where from, so `aiff dlq` can show and re-drive it."""
    r = rejected.record
    extra = {
        "dlq_reason": rejected.reason[:2000],
        "dlq_error_code": rejected.error_code,
        "dlq_consumer": consumer,
        "dlq_topic": r.topic,
        "dlq_partition": str(r.partition),
        "dlq_offset": str(r.offset),
        "dlq_time": datetime.now(UTC).isoformat(),
    }
    kept = [(k, v) for k, v in r.headers if not k.startswith("dlq_")]
    return kept + [(k, v.encode()) for k, v in extra.items()]


async def send_dead_letters(publisher: EventPublisher, consumer: str, rejected: list[Rejected]) -> None:
    """Publish every rejected record to the dead-letter topic, pipelined, and wait for all acknowledgements."""
    await publisher.publish_raw_many(
        publisher.topics.dead_letters,
        [(item.record.value, item.record.key, dead_letter_headers(item, consumer)) for item in rejected],
    )
    for item in rejected:
        DEAD_LETTERS.labels(consumer, item.error_code).inc()
