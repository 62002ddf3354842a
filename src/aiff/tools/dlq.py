"""`aiff dlq`: list and show dead letters with their reasons, and re-drive them to their original topic after a fix.

Re-driving lands each letter exactly once, even when `redrive` is interrupted and run again: the record goes back
unchanged (its event id too, so the projector's dedupe by event id holds), carries an `aiff_redrive_id` header
naming the letter, and a ledger topic (`<dead letters>.redriven`, compacted, keyed by that id) records `sending`
with the target's log ends before it is sent and `done` after Kafka acknowledged it. A re-run skips `done` letters
and, for a `sending` one, looks for its id in the target's tail after the recorded ends before sending it again.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from rich.table import Table
from rich.text import Text

from aiff.events.producer import new_kafka_producer
from aiff.events.topics import Topics, end_offsets
from aiff.settings import Settings, get_settings
from aiff.tools.output import print_json, print_table
from aiff.tools.progress import Bar

REDRIVE_HEADER = "aiff_redrive_id"
CHUNK = 500
"""Letters per ledger round (sending entries, records, done entries): bounds what a re-run has to look for."""


async def read_range(bootstrap: str, ranges: dict[TopicPartition, tuple[int, int]]) -> list[ConsumerRecord]:
    """The records of each partition from its start offset up to (not including) its end offset."""
    ranges = {tp: (start, end) for tp, (start, end) in ranges.items() if end > start}
    if not ranges:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        consumer.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            consumer.seek(tp, start)

        async def behind() -> bool:
            for tp, (_, end) in ranges.items():
                if await consumer.position(tp) < end:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batch.items():
                records.extend(m for m in msgs if m.offset < ranges[tp][1])
    finally:
        await consumer.stop()
    records.sort(key=lambda m: (m.topic, m.partition, m.offset))
    return records


async def read_dead_letters(bootstrap: str, topic: str, limit: int | None = None) -> list[ConsumerRecord]:
    """Every record on the dead-letter topic (up to its current end), oldest first."""
    ends = await end_offsets(bootstrap, [topic])
    records = await read_range(bootstrap, {TopicPartition(t, p): (0, end) for (t, p), end in ends.items()})
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


def _headers(m: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in m.headers or ()}


async def show_letter(offset: int, as_json: bool = False) -> int:
    """`aiff dlq show`: one dead letter's headers, reason and payload; exit 1 when there is none at `offset`."""
    s = get_settings()
    topic = Topics(s.topic_prefix).dead_letters
    found = [m for m in await read_dead_letters(s.kafka_bootstrap_servers, topic) if m.offset == offset]
    if not found:
        print(f"no dead letter at offset {offset} of {topic}", file=sys.stderr)
        return 1
    m = found[0]
    letter = describe(m) | {"headers": _headers(m), "key": None if m.key is None else m.key.decode(errors="replace")}
    if as_json:
        print_json(letter)
        return 0
    from rich.console import Console
    from rich.panel import Panel
    from rich.syntax import Syntax

    console = Console()
    table = Table(title=f"dead letter #{offset}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in (("reason", letter["reason"]), ("consumer", letter["consumer"]), ("time", letter["time"]),
                        ("from", f"{letter['topic']}[{_show(letter['source_partition'])}]@{_show(letter['source_offset'])}"),
                        ("key", letter["key"])):  # fmt: skip
        table.add_row(name, Text(str(value or "")))
    for name, value in letter["headers"].items():
        table.add_row(f"header {name}", Text(value))
    console.print(table)
    payload = letter["value"]
    if payload is None:
        console.print("(null value: a tombstone)")
        return 0
    try:
        body = Syntax(json.dumps(json.loads(payload), indent=2, ensure_ascii=False), "json", word_wrap=True)
    except ValueError:
        body = Text(payload)
    console.print(Panel(body, title="payload" + (" (truncated)" if letter["truncated"] else "")))
    return 0


def letter_id(m: ConsumerRecord) -> str:
    """The letter's identity for the ledger and the `aiff_redrive_id` header: where it sits on the dead-letter topic."""
    return f"{m.topic}:{m.partition}:{m.offset}"


def ledger_topic(topics: Topics) -> str:
    return f"{topics.dead_letters}.redriven"


async def ensure_ledger(bootstrap: str, topic: str) -> None:
    """A compacted single-partition topic: the latest entry per letter is all a re-run needs."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic not in set(await admin.list_topics()):
            try:
                await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"cleanup.policy": "compact"})])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def read_ledger(bootstrap: str, topic: str) -> dict[str, dict[str, Any]]:
    """The latest ledger entry per letter id."""
    latest: dict[str, dict[str, Any]] = {}
    for m in await read_dead_letters(bootstrap, topic):
        if m.key is not None and m.value is not None:
            latest[m.key.decode()] = json.loads(m.value)
    return latest


async def _landed(bootstrap: str, pending: dict[str, dict[str, Any]]) -> set[str]:
    """Which `sending` letters did land: their id in a header after the target's ends recorded before sending."""
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    for entry in pending.values():
        ends = await end_offsets(bootstrap, [entry["target"]])
        for (t, p), end in ends.items():
            tp = TopicPartition(t, p)
            start = int(entry["ends"].get(str(p), 0))
            ranges[tp] = (min(start, ranges.get(tp, (start, end))[0]), end)
    found = set()
    for m in await read_range(bootstrap, ranges):
        for k, v in m.headers or ():
            if k == REDRIVE_HEADER and v.decode() in pending:
                found.add(v.decode())
    return found


async def redrive(
    offsets: list[int] | None = None, *, interrupt: Callable[[int], None] | None = None, settings: Settings | None = None
) -> int:
    """`aiff dlq redrive`: send dead letters (all, or those at `offsets`) back to the topic they came from, once each.

    `interrupt(chunk)` is called after a chunk's records are acknowledged and before the ledger says `done`: the
    worst moment to be killed (tests raise there to prove a re-run does not send them again).
    """
    s = settings or get_settings()
    bootstrap = s.kafka_bootstrap_servers
    topics = Topics(s.topic_prefix)
    ledger = ledger_topic(topics)
    letters = await read_dead_letters(bootstrap, topics.dead_letters)
    chosen = [m for m in letters if not offsets or m.offset in set(offsets)]
    partial = [m for m in chosen if m.value is None or any(k == "dlq_truncated" for k, _ in m.headers or ())]
    if partial:
        print(f"skipped {len(partial)} dead letter(s) that are tombstones or truncated copies: "
              f"{', '.join('#' + str(m.offset) for m in partial)} (republish a fixed original instead)", file=sys.stderr)
        chosen = [m for m in chosen if m not in partial]
    await ensure_ledger(bootstrap, ledger)
    entries = await read_ledger(bootstrap, ledger)
    done = {i for i, e in entries.items() if e.get("state") == "done"}
    sending = {i: e for i, e in entries.items() if e.get("state") == "sending" and i not in done}
    landed = await _landed(bootstrap, {i: e for i, e in sending.items() if i in {letter_id(m) for m in chosen}})
    todo = [m for m in chosen if letter_id(m) not in done and letter_id(m) not in landed]
    already = len(chosen) - len(todo)
    producer = new_kafka_producer(bootstrap)
    await producer.start()
    try:
        if landed:  # sent by an interrupted run: only the ledger is behind
            await _ledger(producer, ledger, [(i, {"state": "done", "target": sending[i]["target"]}) for i in sorted(landed)])
        with Bar("dlq: re-driven", len(todo), unit="letters") as bar:
            for n, start in enumerate(range(0, len(todo), CHUNK)):
                chunk = todo[start : start + CHUNK]
                await _redrive_chunk(producer, bootstrap, ledger, topics, chunk)
                if interrupt is not None:
                    interrupt(n)
                await _ledger(producer, ledger, [(letter_id(m), {"state": "done", "target": _target(m, topics)}) for m in chunk])
                bar.advance(len(chunk))
    finally:
        await producer.stop()
    print(f"re-drove {len(todo)} dead letter(s) to their original topics" + (f"; {already} already re-driven before" if already else ""))
    return 0


def _target(m: ConsumerRecord, topics: Topics) -> str:
    h = dict(m.headers or ())
    return h.get("dlq_topic", b"").decode() or topics.tickets


async def _ledger(producer: Any, ledger: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
    futures = [await producer.send(ledger, json.dumps(e).encode(), key=i.encode()) for i, e in entries]
    for f in futures:
        await f


async def _redrive_chunk(producer: Any, bootstrap: str, ledger: str, topics: Topics, chunk: list[ConsumerRecord]) -> None:
    """Ledger `sending` (with each target's log ends) acknowledged first, then the records, pipelined."""
    targets = sorted({_target(m, topics) for m in chunk})
    ends = {t: {str(p): o for (_, p), o in (await end_offsets(bootstrap, [t])).items()} for t in targets}
    await _ledger(producer, ledger, [(letter_id(m), {"state": "sending", "target": _target(m, topics), "ends": ends[_target(m, topics)]})
                                     for m in chunk])  # fmt: skip
    futures = []
    for m in chunk:
        kept = [(k, v) for k, v in m.headers or () if not k.startswith("dlq_") and k != REDRIVE_HEADER]
        headers = kept + [("redriven_from", str(m.offset).encode()), (REDRIVE_HEADER, letter_id(m).encode())]
        futures.append(await producer.send(_target(m, topics), m.value, key=m.key, headers=headers))
    for f in futures:
        await f
