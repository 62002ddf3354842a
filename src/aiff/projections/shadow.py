"""Rebuilding the projector's read models from offset 0 into a shadow schema while the live ones keep serving.

Why not a consumer group: the shadow must stop exactly at the live projector's positions (so that the tables
it swaps in hold what the live ones hold, and the live projector carries on from its own, unchanged
positions: nothing applied twice, nothing lost). A plain assigned consumer reads each partition up to a cap,
seeking back whatever a fetch returned beyond it; the batches go through the projector's own `project_batch`.

The swap (`swap_in`) runs in one transaction on the live schema: it locks the projector's position rows
(its next batch waits on them), brings the shadow up to those positions, then moves the live tables out and
the shadow tables in with `ALTER TABLE ... SET SCHEMA`. A reader holds the old table or waits for the commit
and then resolves the name to the new one: never an empty or half-built table.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from aiff.projections import migrate, positions, writer
from aiff.projections.projector import Record, project_batch

log = logging.getLogger(__name__)

PROJECTION = "projector"
SWAPPED_TABLES = (
    "tickets", "teams", "assignments", "event_history", "zones", "team_positions", "plans", "plan_visits", "board_snapshots",
)  # fmt: skip
"""The projector's tables (and the time-travel snapshots derived from them), exchanged as one."""

TP = tuple[str, int]


def schema_url(database_url: str, schema: str) -> str:
    """The database URL with `search_path` set to `schema` (replacing one already there)."""
    base, _, query = database_url.partition("?")
    params = [p for p in query.split("&") if p and not p.startswith("search_path=")]
    return f"{base}?{'&'.join([*params, f'search_path={schema}'])}"


async def live_positions(conn: asyncpg.Connection, projection: str, partitions: list[TP], *, lock: bool = False) -> dict[TP, int]:
    """The live projection's next offsets for `partitions` (with `lock`: row locks held until the transaction ends,
    after creating any missing row so that no partition escapes the lock)."""
    if lock:
        await conn.execute(
            """INSERT INTO projection_positions (projection, topic, partition, next_offset)
               SELECT $1, t, p, 0 FROM unnest($2::text[], $3::int[]) AS v(t, p) ON CONFLICT DO NOTHING""",
            projection, [t for t, _ in partitions], [p for _, p in partitions],
        )  # fmt: skip
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM projection_positions WHERE projection = $1 AND topic = ANY($2::text[]) "
        "ORDER BY topic, partition" + (" FOR UPDATE" if lock else ""),
        projection,
        sorted({t for t, _ in partitions}),
    )
    found = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return {tp: found.get(tp, 0) for tp in partitions}


@dataclass
class Shadow:
    """A shadow schema being filled from the log; `applied` counts the records read so far (for the progress bar)."""

    dsn: str
    database_url: str
    live_schema: str
    teams_topic: str
    topics: list[str]
    bootstrap: str
    batch_size: int = 5000
    name: str = field(default_factory=lambda: f"replay_{uuid.uuid4().hex[:8]}")
    positions: dict[TP, int] = field(default_factory=dict)
    applied: int = 0
    on_progress: Callable[[int], None] | None = None
    _kafka: AIOKafkaConsumer | None = None
    _conn: asyncpg.Connection | None = None
    _partitions: list[TP] = field(default_factory=list)
    _batches: int = 0
    _deferred_indexes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return schema_url(self.database_url, self.name)

    async def open(self) -> None:
        """Create and migrate the shadow schema, connect to it, and assign every partition of the topics."""
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f"CREATE SCHEMA {self.name}")
        finally:
            await admin.close()
        await asyncio.to_thread(migrate.upgrade, self.url)
        # Its commits need not wait for the disk: the swap's own commit flushes the log past all of them.
        self._conn = await asyncpg.connect(self.dsn, server_settings={"search_path": self.name, "synchronous_commit": "off"})
        await writer.prepare_connection(self._conn)
        self._deferred_indexes = await self._drop_secondary_indexes()
        self._kafka = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
            fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_wait_ms=20,  # a fetch parked at a partition's end would hold up the next phase's partitions
        )  # fmt: skip
        await self._kafka.start()
        tps: list[TopicPartition] = []
        for topic in self.topics:
            parts = self._kafka.partitions_for_topic(topic) or await self._partitions_for(topic)
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        self._kafka.assign(tps)
        self._partitions = [(tp.topic, tp.partition) for tp in tps]
        self.positions = {tp: 0 for tp in self._partitions}
        beginnings = await self._kafka.beginning_offsets(tps)
        for tp in tps:
            self._kafka.seek(tp, beginnings[tp])

    async def _partitions_for(self, topic: str) -> set[int]:
        assert self._kafka is not None
        await self._kafka._client.force_metadata_update()  # noqa: SLF001 - aiokafka has no public refresh
        parts = self._kafka.partitions_for_topic(topic)
        if not parts:
            raise LookupError(f"unknown topic {topic}")
        return parts

    async def _drop_secondary_indexes(self) -> list[str]:
        """Drop the indexes no lookup of the fold needs (not primary keys, not unique ones): a bulk load is much
        faster without them, and building them once afterwards is cheap. Returns their definitions."""
        assert self._conn is not None
        rows = await self._conn.fetch(
            """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
               WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT i.indisprimary AND NOT i.indisunique""",
            self.name, list(SWAPPED_TABLES),
        )  # fmt: skip
        for r in rows:
            await self._conn.execute(f"DROP INDEX {r['name']}")
        return [r["def"] for r in rows]

    async def build_indexes(self) -> None:
        """Create the indexes dropped for the bulk load (before the swap: readers get the same indexes as before)."""
        for definition in self._deferred_indexes:
            await self.conn.execute(definition)
        self._deferred_indexes = []

    async def vacuum(self) -> None:
        """Before the swap: statistics now, and nothing left for autovacuum (its lock on a fresh table would delay
        the swap by up to `deadlock_timeout`: it gives way only then)."""
        for table in SWAPPED_TABLES:
            await self.conn.execute(f'VACUUM (ANALYZE) "{self.name}"."{table}"')

    @property
    def partitions(self) -> list[TP]:
        return list(self._partitions)

    @property
    def conn(self) -> asyncpg.Connection:
        assert self._conn is not None
        return self._conn

    async def close(self, *, drop: bool = True) -> None:
        """Disconnect and (unless kept for inspection) drop whatever is left of the shadow schema."""
        if self._kafka is not None:
            await self._kafka.stop()
            self._kafka = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if drop:
            admin = await asyncpg.connect(self.dsn)
            try:
                await admin.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
                await admin.execute(f"DROP SCHEMA IF EXISTS {self.name}_old CASCADE")
            finally:
                await admin.close()

    async def apply_until(self, cap: dict[TP, int]) -> int:
        """Apply every record below `cap` not yet applied, team partitions first (assignments need their teams);
        returns how many records were read. Afterwards the shadow holds exactly the records below `cap`."""
        read = await self._apply_partitions({tp: o for tp, o in cap.items() if tp[0] == self.teams_topic})
        return read + await self._apply_partitions(cap)

    async def _apply_partitions(self, cap: dict[TP, int]) -> int:
        kafka = self._kafka
        assert kafka is not None
        todo = {tp for tp, end in cap.items() if self.positions.get(tp, 0) < end}
        if not todo:
            return 0
        tps = {tp: TopicPartition(*tp) for tp in todo}
        kafka.pause(*(TopicPartition(*tp) for tp in self._partitions if tp not in todo))
        for tp, ktp in tps.items():
            kafka.seek(ktp, self.positions.get(tp, 0))
        kafka.resume(*tps.values())
        read = 0
        while todo:
            fetched = await kafka.getmany(*(tps[tp] for tp in todo), timeout_ms=200, max_records=self.batch_size)
            records: list[Record] = []
            for ktp, messages in fetched.items():
                tp = (ktp.topic, ktp.partition)
                end = cap[tp]
                records += [
                    Record(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                    for m in messages if m.offset < end
                ]  # fmt: skip
            if records:
                await self._apply(records)
                read += len(records)
            for tp in list(todo):  # reached its cap (or the log has nothing more below it: markers, retention)
                if self.positions.get(tp, 0) >= cap[tp] or await kafka.position(tps[tp]) >= cap[tp]:
                    self.positions[tp] = max(self.positions.get(tp, 0), cap[tp])
                    todo.discard(tp)
                    kafka.pause(tps[tp])
        return read

    async def _apply(self, records: list[Record]) -> None:
        """One batch in one transaction with its positions, as the live projector applies it (minus dead letters:
        whatever it refuses was dead-lettered when it first arrived)."""
        conn = self.conn
        nexts: dict[TP, int] = {}
        for r in records:
            nexts[(r.topic, r.partition)] = max(nexts.get((r.topic, r.partition), 0), r.offset + 1)
        async with conn.transaction():
            await positions.lock(conn, PROJECTION, sorted(nexts))
            await project_batch(conn, records)
            await positions.advance(conn, PROJECTION, nexts)
        self.positions.update(nexts)
        self.applied += len(records)
        self._batches += 1
        if not gc.isenabled() and self._batches % 20 == 0:  # as the consumers do when `aiff worker` disabled it
            gc.collect()
        if self.on_progress is not None:
            self.on_progress(self.applied)

    async def catch_up(self, live: asyncpg.Connection, projection: str = PROJECTION, *, close_enough: int = 2000, rounds: int = 20) -> dict[TP, int]:
        """Follow the live projector's positions (without locking it) until the shadow is within `close_enough`
        records of them; returns the positions reached."""
        for _ in range(rounds):
            target = await live_positions(live, projection, self._partitions)
            behind = sum(max(0, end - self.positions.get(tp, 0)) for tp, end in target.items())
            if behind <= close_enough:
                return target
            await self.apply_until(target)
        return self.positions

    async def swap_in(self, live: asyncpg.Connection, projection: str = PROJECTION, *, lock_timeout_s: float = 10.0,
                      before_swap: Callable[[asyncpg.Connection], object] | None = None) -> tuple[dict[TP, int], float]:
        """Lock the live positions, bring the shadow exactly there, exchange the tables; one transaction.

        Returns the positions at the swap and how long the live projector was held (seconds). The live tables
        end up in a schema `<shadow>_old` that `close` drops with the rest of the shadow.
        """
        old = f"{self.name}_old"
        await live.execute(f"CREATE SCHEMA IF NOT EXISTS {old}")
        started = time.perf_counter()
        async with live.transaction():
            await live.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
            target = await live_positions(live, projection, self._partitions, lock=True)
            await self.apply_until(target)
            if before_swap is not None:
                result = before_swap(self.conn)
                if asyncio.iscoroutine(result):
                    await result
            for table in SWAPPED_TABLES:
                await live.execute(f'ALTER TABLE "{self.live_schema}"."{table}" SET SCHEMA "{old}"')
                await live.execute(f'ALTER TABLE "{self.name}"."{table}" SET SCHEMA "{self.live_schema}"')
        held = time.perf_counter() - started
        await live.execute(f"DROP SCHEMA {old} CASCADE")
        return target, held
