"""`aiff dlq`: list dead letters with their reasons, and re-drive them to their original topic after a fix."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.events.producer import new_kafka_producer
from aiff.events.topics import Topics, end_offsets
from aiff.settings import get_settings


async def read_dead_letters(bootstrap: str, topic: str, limit: int | None = None) -> list:
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


async def run(args: argparse.Namespace) -> int:
    s = get_settings()
    topics = Topics(s.topic_prefix)
    letters = await read_dead_letters(s.kafka_bootstrap_servers, topics.dead_letters, None if args.action == "redrive" else args.limit)
    if args.action == "list":
        if not letters:
            print("no dead letters")
        for m in letters:
            h = {k: v.decode(errors="replace") for k, v in m.headers or ()}
            preview = "(null: a tombstone)" if m.value is None else m.value[:120].decode(errors="replace").replace("\n", " ")
            if h.get("dlq_truncated"):
                preview += f"  [truncated from {h.get('dlq_original_bytes')} bytes: the original is at its topic, partition and offset]"
            print(f"#{m.offset} {h.get('dlq_time', '')} {h.get('dlq_consumer', '?')} {h.get('dlq_topic', '?')}"
                  f"[{h.get('dlq_partition', '?')}]@{h.get('dlq_offset', '?')}\n    reason: {h.get('dlq_reason')}\n    value:  {preview}")  # fmt: skip
        return 0
    chosen = [m for m in letters if not args.offset or m.offset in set(args.offset)]
    partial = [m for m in chosen if m.value is None or any(k == "dlq_truncated" for k, _ in m.headers or ())]
    if partial:
        print(f"skipped {len(partial)} dead letter(s) that are tombstones or truncated copies: "
              f"{', '.join('#' + str(m.offset) for m in partial)} (republish a fixed original instead)", file=sys.stderr)
        chosen = [m for m in chosen if m not in partial]
    producer = new_kafka_producer(s.kafka_bootstrap_servers)
    await producer.start()
    try:
        for m in chosen:
            h = {k: v for k, v in m.headers or ()}
            target = h.get("dlq_topic", b"").decode() or topics.tickets
            kept = [(k, v) for k, v in m.headers or () if not k.startswith("dlq_")]
            await producer.send_and_wait(target, m.value, key=m.key, headers=kept + [("redriven_from", str(m.offset).encode())])
    finally:
        await producer.stop()
    print(f"re-drove {len(chosen)} dead letter(s) to their original topics")
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    return asyncio.run(run(args))
