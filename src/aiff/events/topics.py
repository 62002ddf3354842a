"""Topic names and their creation: tickets, teams, requests and dead letters, under one prefix."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    """The topic names under a prefix; tests use a unique prefix each to stay apart."""

    prefix: str = "aiff"

    @property
    def tickets(self) -> str:
        return f"{self.prefix}.tickets"

    @property
    def teams(self) -> str:
        return f"{self.prefix}.teams"

    @property
    def requests(self) -> str:
        return f"{self.prefix}.requests"

    @property
    def work(self) -> str:
        """The assignment engine's internal work topic: zone re-plans keyed by region, one partition per region,
        so engine instances share the regions through Kafka's group protocol (aiff.consumers.planner)."""
        return f"{self.prefix}.assignment-work"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}.dead-letters"

    def for_kind(self, kind: str) -> str:
        """The topic an event class travels on (its `topic_kind`)."""
        return {"tickets": self.tickets, "teams": self.teams, "requests": self.requests}[kind]

    @property
    def domain(self) -> list[str]:
        """The topics that carry facts (everything but dead letters)."""
        return [self.tickets, self.teams, self.requests]

    @property
    def all(self) -> list[str]:
        return [*self.domain, self.work, self.dead_letters]


async def ensure_topics(bootstrap: str, topics: Topics, partitions: int = 6, retention_ms: int = -1) -> None:
    """Create the topics if missing. Retention -1 keeps the log forever: the log is the source of truth."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=_partitions(name, topics, partitions),
                replication_factor=1,
                topic_configs={"retention.ms": str(retention_ms)},
            )
            for name in topics.all
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", [t.name for t in wanted])
    finally:
        await admin.close()


def _partitions(name: str, topics: Topics, default: int) -> int:
    from aiff.zones import REGIONS

    if name == topics.dead_letters:
        return 1
    return len(REGIONS) if name == topics.work else default


async def partitions_of(bootstrap: str, topics: list[str], timeout_s: float = 30.0) -> list[TopicPartition]:
    """Every partition of `topics`, sorted; LookupError names the topics Kafka does not have."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        described = await asyncio.wait_for(admin.describe_topics(topics), timeout_s)
    finally:
        await admin.close()
    tps = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    missing = set(topics) - {tp.topic for tp in tps}
    if missing:
        raise LookupError(f"unknown topics: {sorted(missing)}")
    return sorted(tps)


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """The log end offset of every partition of `topics` (what a consumer must reach to be caught up)."""
    tps = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


async def leaders_elected(bootstrap: str, topics: list[str], partitions: int, timeout: float = 60.0) -> None:
    """Wait until every partition of fresh `topics` answers offset lookups.

    Until their leaders are elected, clients back off for seconds; waiting here keeps a test or bench from measuring that.
    """
    tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                await asyncio.wait_for(probe.end_offsets(tps), 0.5)
                return
            except (asyncio.TimeoutError, KafkaError):
                await asyncio.sleep(0.05)
    finally:
        await probe.stop()


async def delete_topics(bootstrap: str, topics: Topics) -> None:
    """Remove a prefix's topics (tests clean up after themselves)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [t for t in topics.all if t in existing]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
