"""`aiff offsets show|reset`: each consumer group's stored positions against the log end, and moving them.

Positions are what the consumers committed in Postgres (`projection_positions`, in the same transaction as
their effects); Kafka's group offsets are only a mirror of them for lag tools, shown beside them. A partition
of a topic the consumer reads that has no stored position yet counts from offset 0. A reset rewrites both,
and only while the group has no live member: a running consumer would keep its in-memory position and
overwrite the reset with its next batch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from rich.table import Table

from aiff.events.topics import end_offsets
from aiff.settings import Settings, get_settings
from aiff.tools.output import print_json, print_table


class OffsetsError(Exception):
    """A reset that must not happen (live members, unknown group, bad target): the message says why."""


async def log_ends(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """End offsets of the topics that exist (positions may outlive a deleted topic)."""
    try:
        return await end_offsets(bootstrap, topics) if topics else {}
    except LookupError:
        ends: dict[tuple[str, int], int] = {}
        for topic in topics:
            try:
                ends |= await end_offsets(bootstrap, [topic])
            except LookupError:
                continue
        return ends


def lag_rows(
    stored: list[tuple[str, str, int, int]],
    ends: dict[tuple[str, int], int],
    committed: dict[tuple[str, str, int], int] | None = None,
) -> list[dict[str, Any]]:
    """One row per consumer and partition of the topics it reads: position, Kafka's mirror, log end, lag."""
    committed = committed or {}
    positions = {(c, t, p): o for c, t, p, o in stored}
    partitions = {(t, p) for (t, p) in ends} | {(t, p) for _, t, p, _ in stored}
    rows = []
    for consumer in sorted({c for c, *_ in stored}):
        topics = {t for c, t, _, _ in stored if c == consumer}
        for topic, partition in sorted(tp for tp in partitions if tp[0] in topics):
            position = positions.get((consumer, topic, partition))
            end = ends.get((topic, partition))
            lag = None if end is None else max(end - (position or 0), 0)
            rows.append({"consumer": consumer, "topic": topic, "partition": partition, "position": position,
                         "kafka": committed.get((consumer, topic, partition)), "end": end, "lag": lag})  # fmt: skip
    return rows


def offsets_table(rows: list[dict[str, Any]], members: dict[str, int] | None = None) -> Table:
    table = Table(title="consumer positions (Postgres) vs log end (Kafka)", title_justify="left")
    for name in ("consumer", "topic", "partition", "position", "kafka", "end", "lag"):
        table.add_column(name, justify="left" if name in ("consumer", "topic") else "right")
    for r in rows:
        lag = "?" if r["lag"] is None else f"{r['lag']:,}"
        table.add_row(r["consumer"], r["topic"], str(r["partition"]), _num(r["position"]), _num(r.get("kafka")),
                      _num(r["end"]), f"[bold red]{lag}[/]" if r["lag"] else lag)  # fmt: skip
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["consumer"]] = totals.get(r["consumer"], 0) + (r["lag"] or 0)
    live = members or {}
    table.caption = (
        "total lag: " + ", ".join(f"{c} {n:,} ({live.get(c, 0)} live member(s))" for c, n in totals.items())
        if totals
        else "no stored positions"
    )
    return table


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def group_id(settings: Settings, consumer: str) -> str:
    """The Kafka group of a consumer (`<topic prefix>.<name>`, as consumers.runner.consumer_config builds it)."""
    return f"{settings.topic_prefix}.{consumer}"


def consumer_name(settings: Settings, group: str) -> str:
    """Accept a consumer's name (`projector`) or its Kafka group id (`aiff.projector`)."""
    prefix = settings.topic_prefix + "."
    return group[len(prefix) :] if group.startswith(prefix) else group


async def live_members(bootstrap: str, group: str) -> list[str]:
    """The members a Kafka group has now (`client_id@host`); empty for an unknown, empty or dead group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    members = []
    for response in responses:
        for g in response.to_object()["groups"]:
            if g["error_code"] == 0 and g["group"] == group:
                members += [f"{m['client_id']}@{m['client_host'].lstrip('/')}" for m in g["members"]]
    return members


async def kafka_committed(bootstrap: str, groups: dict[str, str]) -> dict[tuple[str, str, int], int]:
    """Kafka's committed offsets per (consumer, topic, partition), for consumers in `groups` (name -> group id)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    out: dict[tuple[str, str, int], int] = {}
    try:
        for name, group in groups.items():
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items():
                if meta.offset >= 0:
                    out[(name, tp.topic, tp.partition)] = meta.offset
    finally:
        await admin.close()
    return out


async def _stored(settings: Settings, consumer: str | None) -> list[tuple[str, str, int, int]]:
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        rows = await conn.fetch(
            "SELECT projection, topic, partition, next_offset FROM projection_positions WHERE $1::text IS NULL OR projection = $1",
            consumer,
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def collect(consumer: str | None = None, settings: Settings | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows of `show` (all consumers, or one) and the live member count of each consumer's group."""
    s = settings or get_settings()
    stored = await _stored(s, consumer)
    names = sorted({c for c, *_ in stored})
    bootstrap = s.kafka_bootstrap_servers
    ends = await log_ends(bootstrap, sorted({t for _, t, _, _ in stored}))
    committed = await kafka_committed(bootstrap, {n: group_id(s, n) for n in names})
    members = {n: len(await live_members(bootstrap, group_id(s, n))) for n in names}
    return lag_rows(stored, ends, committed), members


@dataclass(frozen=True)
class Target:
    """Where a reset moves a group: exactly one of the log start, the first offset at or after a time, an offset."""

    earliest: bool = False
    time: datetime | None = None
    offset: int | None = None

    def __post_init__(self) -> None:
        if sum((self.earliest, self.time is not None, self.offset is not None)) != 1:
            raise OffsetsError("choose exactly one of --to-earliest, --to-time, --to-offset")


async def target_offsets(bootstrap: str, partitions: list[TopicPartition], target: Target) -> dict[TopicPartition, int]:
    """The offset each partition moves to, always within [log start, log end]."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        if target.earliest:
            return dict(starts)
        if target.offset is not None:
            return {tp: min(max(target.offset, starts[tp]), ends[tp]) for tp in partitions}
        assert target.time is not None
        found = await consumer.offsets_for_times({tp: int(target.time.timestamp() * 1000) for tp in partitions})
        return {tp: ends[tp] if found.get(tp) is None else found[tp].offset for tp in partitions}  # type: ignore[union-attr]
    finally:
        await consumer.stop()


async def reset(
    consumer: str, target: Target, *, topic: str | None = None, dry_run: bool = False, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Move a stopped consumer group's positions (Postgres, then Kafka's mirror); returns the moves.

    Raises OffsetsError when the group has live members, has no stored positions, or `topic` is not one of its.
    """
    s = settings or get_settings()
    group = group_id(s, consumer)
    bootstrap = s.kafka_bootstrap_servers
    members = await live_members(bootstrap, group)
    if members:
        raise OffsetsError(
            f"group {group} has {len(members)} live member(s) ({', '.join(sorted(members))}); "
            f"stop its workers first (a running consumer would overwrite the reset)"
        )
    stored = [r for r in await _stored(s, consumer) if topic is None or r[1] == topic]
    if not stored:
        raise OffsetsError(f"no stored positions for consumer {consumer!r}" + (f" on topic {topic}" if topic else ""))
    ends = await log_ends(bootstrap, sorted({t for _, t, _, _ in stored}))
    before = {(t, p): o for _, t, p, o in stored}
    partitions = [TopicPartition(t, p) for (t, p) in sorted(set(ends) | set(before)) if (t, p) in ends and (topic is None or t == topic)]
    moves = await target_offsets(bootstrap, partitions, target)
    rows = [{"consumer": consumer, "topic": tp.topic, "partition": tp.partition, "from": before.get((tp.topic, tp.partition)),
             "to": offset} for tp, offset in sorted(moves.items())]  # fmt: skip
    if dry_run or not rows:
        return rows
    conn = await asyncpg.connect(s.asyncpg_dsn)
    try:
        await conn.execute(  # plain overwrite (positions.advance only ever moves forward)
            """INSERT INTO projection_positions (projection, topic, partition, next_offset)
               SELECT $1, t, p, o FROM unnest($2::text[], $3::int[], $4::bigint[]) AS v(t, p, o)
               ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()""",
            consumer, [r["topic"] for r in rows], [r["partition"] for r in rows], [r["to"] for r in rows],
        )  # fmt: skip
    finally:
        await conn.close()
    await _commit_mirror(bootstrap, group, moves)
    return rows


async def _commit_mirror(bootstrap: str, group: str, moves: dict[TopicPartition, int]) -> None:
    """Kafka's group offsets follow the reset, so lag tools that read them agree with Postgres."""
    mirror = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await mirror.start()
    try:
        mirror.assign(list(moves))
        await mirror.commit(dict(moves))
    finally:
        await mirror.stop()


def reset_table(rows: list[dict[str, Any]], dry_run: bool) -> Table:
    table = Table(title=("would move" if dry_run else "moved") + f" {len(rows)} partition(s)", title_justify="left")
    for name in ("consumer", "topic", "partition", "from", "to"):
        table.add_column(name, justify="left" if name in ("consumer", "topic") else "right")
    for r in rows:
        table.add_row(r["consumer"], r["topic"], str(r["partition"]), _num(r["from"]), _num(r["to"]))
    return table


def cmd_offsets(group: str | None = None, as_json: bool = False) -> int:
    """Entry point of `aiff offsets show`."""
    s = get_settings()
    rows, members = asyncio.run(collect(consumer_name(s, group) if group else None))
    if as_json:
        print_json(rows)
    else:
        print_table(offsets_table(rows, members))
    return 0


def cmd_reset(group: str, target: Target, topic: str | None, dry_run: bool, as_json: bool) -> int:
    """Entry point of `aiff offsets reset`: exit 1 with the reason when the reset is refused."""
    import sys

    s = get_settings()
    try:
        rows = asyncio.run(reset(consumer_name(s, group), target, topic=topic, dry_run=dry_run))
    except OffsetsError as exc:
        print(f"offsets reset refused: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print_json(rows)
    else:
        print_table(reset_table(rows, dry_run))
    return 0
