"""Dead letters: the refused record, unchanged, with the reason and its origin in headers.

A dead letter must always fit in one Kafka message (a record close to the 1 MiB limit plus the reason headers
does not): then its value is stored truncated, the original headers are dropped, and headers say so and
point at the original record (`dlq_topic`, `dlq_partition`, `dlq_offset`), which the log keeps forever.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter

from aiff.events.producer import EventPublisher
from aiff.projections.projector import Rejected

DEAD_LETTERS = Counter(
    "aiff_dead_letters_total", "Records sent to the dead-letter topic, by consumer and reason (its error code)", ["consumer", "reason"]
)

MAX_DEAD_LETTER_BYTES = 1_000_000
"""Key + value + headers of one dead letter: below the producer's max_request_size (1,048,576) and the broker's
message.max.bytes (1,048,588) with room for the record batch's own overhead."""
RECORD_OVERHEAD = 512
MAX_TRUNCATED_KEY = 1024

DeadLetter = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def dead_letter_headers(rejected: Rejected, consumer: str) -> list[tuple[str, bytes]]:
    """The original headers plus why and where from, so `aiff dlq` can show and re-drive it."""
    kept = [(k, v) for k, v in rejected.record.headers if not k.startswith("dlq_")]
    return kept + _reason_headers(rejected, consumer)


def _reason_headers(rejected: Rejected, consumer: str) -> list[tuple[str, bytes]]:
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
    return [(k, v.encode()) for k, v in extra.items()]


def _size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    return RECORD_OVERHEAD + len(key or b"") + len(value or b"") + sum(len(k.encode()) + len(v) + 8 for k, v in headers)


def dead_letter(rejected: Rejected, consumer: str) -> DeadLetter:
    """(value, key, headers) of the dead letter of `rejected`, never larger than MAX_DEAD_LETTER_BYTES."""
    r = rejected.record
    headers = dead_letter_headers(rejected, consumer)
    if _size(r.key, r.value, headers) <= MAX_DEAD_LETTER_BYTES:
        return r.value, r.key, headers
    key = r.key[:MAX_TRUNCATED_KEY] if r.key is not None else None
    value = r.value or b""
    original = len(value)
    headers = _reason_headers(rejected, consumer) + [
        ("dlq_truncated", b"true"),
        ("dlq_original_bytes", str(original).encode()),
        ("dlq_original_key_bytes", str(len(r.key or b"")).encode()),
    ]
    budget = MAX_DEAD_LETTER_BYTES - _size(key, b"", headers)
    return value[: max(0, budget)], key, headers


async def send_dead_letters(publisher: EventPublisher, consumer: str, rejected: list[Rejected]) -> None:
    """Publish every rejected record to the dead-letter topic, pipelined, and wait for all acknowledgements."""
    await publisher.publish_raw_many(publisher.topics.dead_letters, [dead_letter(item, consumer) for item in rejected])
    for item in rejected:
        DEAD_LETTERS.labels(consumer, item.error_code).inc()
