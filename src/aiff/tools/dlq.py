"""`aiff dlq`: list dead letters with their reasons, and re-drive them to their original topic after a fix."""

from __future__ import annotations

import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from rich.table import Table
from rich.text import Text

from aiff.events.producer import new_kafka_producer
from aiff.events.topics import Topics, end_offsets
from aiff.settings import get_settings
from aiff.tools.output import print_json, print_table
from aiff.tools.progress import Bar


async def read_dead_letters(bootstrap: str, topic: str, limit: int | None = None) -> list[ConsumerRecord]:
    """Every record on the dead-letter topic (up to its current end), oldest first."""
    ends = await end_offsets(bootstrap, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records = []
    try:
        tps = [TopicPartition(t, p) for (t, p) in ends]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp: ends[(tp.topic, tp.partition)] for tp in tps}
        async def behind() -> bool:
            for tp, end in remaining.items():
                if await consumer.position(tp) < end:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                records.extend(msgs)
    finally:
        await consumer.stop()
    records.sort(key=lambda m: (m.partition, m.offset))
    return records[-limit:] if limit else records


def describe(m: ConsumerRecord) -> dict[str, Any]:
    """A dead letter as plain data: where it came from, why, and its value (None for a tombstone)."""
    h = {k: v.decode(errors="replace") for k, v in m.headers or ()}
    return {
        "offset": m.offset,
        "partition": m.partition,
        "time": h.get("dlq_time"),
        "consumer": h.get("dlq_consumer"),
        "topic": h.get("dlq_topic"),
        "source_partition": _int(h.get("dlq_partition")),
        "source_offset": _int(h.get("dlq_offset")),
        "reason": h.get("dlq_reason"),
        "truncated": bool(h.get("dlq_truncated")),
        "original_bytes": _int(h.get("dlq_original_bytes")),
        "value": None if m.value is None else m.value.decode(errors="replace"),
    }


def _int(text: str | None) -> int | None:
    return int(text) if text and text.lstrip("-").isdigit() else None


def letters_table(letters: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for name in ("#", "time", "consumer", "from", "reason", "value"):
        table.add_column(name, overflow="fold", no_wrap=name in ("#", "from"))
    for d in letters:
        if d["value"] is None:
            preview = "(null: a tombstone)"
        else:
            preview = d["value"][:120].replace("\n", " ")
        if d["truncated"]:
            preview += f"  [truncated from {d['original_bytes']} bytes: the original is at its topic, partition and offset]"
        source = f"{d['topic'] or '?'}[{_show(d['source_partition'])}]@{_show(d['source_offset'])}"
        cells = (str(d["offset"]), d["time"] or "", d["consumer"] or "?", source, d["reason"] or "", preview)
        table.add_row(*(Text(c) for c in cells))  # Text: brackets in reasons and values are not Rich markup
    return table


def _show(value: int | None) -> str:
    return "?" if value is None else str(value)


async def list_letters(limit: int | None, as_json: bool = False) -> int:
    """`aiff dlq list`: the newest `limit` dead letters as a table, or JSON."""
    s = get_settings()
    letters = [describe(m) for m in await read_dead_letters(s.kafka_bootstrap_servers, Topics(s.topic_prefix).dead_letters, limit)]
    if as_json:
        print_json(letters)
    elif not letters:
        print("no dead letters")
    else:
        print_table(letters_table(letters))
    return 0


async def redrive(offsets: list[int] | None = None) -> int:
    """`aiff dlq redrive`: send dead letters (all, or those at `offsets`) back to the topic they came from."""
    s = get_settings()
    topics = Topics(s.topic_prefix)
    letters = await read_dead_letters(s.kafka_bootstrap_servers, topics.dead_letters)
    chosen = [m for m in letters if not offsets or m.offset in set(offsets)]
    partial = [m for m in chosen if m.value is None or any(k == "dlq_truncated" for k, _ in m.headers or ())]
    if partial:
        print(f"skipped {len(partial)} dead letter(s) that are tombstones or truncated copies: "
              f"{', '.join('#' + str(m.offset) for m in partial)} (republish a fixed original instead)", file=sys.stderr)
        chosen = [m for m in chosen if m not in partial]
    producer = new_kafka_producer(s.kafka_bootstrap_servers)
    await producer.start()
    try:
        with Bar("dlq: re-driven", len(chosen), unit="letters") as bar:
            for m in chosen:
                h = {k: v for k, v in m.headers or ()}
                target = h.get("dlq_topic", b"").decode() or topics.tickets
                kept = [(k, v) for k, v in m.headers or () if not k.startswith("dlq_")]
                await producer.send_and_wait(target, m.value, key=m.key, headers=kept + [("redriven_from", str(m.offset).encode())])
                bar.advance(1)
    finally:
        await producer.stop()
    print(f"re-drove {len(chosen)} dead letter(s) to their original topics")
    return 0
