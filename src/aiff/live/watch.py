"""Waiting for the projector: the live feed shows what Postgres holds, so it publishes a batch only once the
projector's stored positions have passed it.

The projector commits its positions with `pg_notify('aiff_positions', …)`; one LISTEN connection wakes the
waiter the moment a batch is visible, and a short poll covers lost notifications (they are only hints).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import asyncpg

from aiff.projections.positions import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class ProjectorWatch:
    def __init__(self, dsn: str, projection: str = "projector", poll_interval_s: float = 0.1) -> None:
        self._dsn = dsn
        self._projection = projection
        self._poll = poll_interval_s
        self._conn: asyncpg.Connection | None = None
        self._changed = asyncio.Event()

    async def _listen(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            return
        try:
            self._conn = await asyncpg.connect(self._dsn)
            await self._conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("live: LISTEN %s unavailable (%s); polling the projector's positions", NOTIFY_CHANNEL, exc)
            self._conn = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            if json.loads(payload).get("projection") == self._projection:
                self._changed.set()
        except (ValueError, AttributeError):
            pass

    async def close(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.close(timeout=2)
            except Exception:  # noqa: BLE001 - shutting down
                self._conn.terminate()
            self._conn = None

    async def wait(self, conn: asyncpg.Connection, needed: dict[tuple[str, int], int], timeout_s: float) -> bool:
        """Wait until the projector's next_offset >= needed[(topic, partition)] for all; False on timeout."""
        await self._listen()
        deadline = time.monotonic() + timeout_s
        topics = [t for t, _ in needed]
        parts = [p for _, p in needed]
        while True:
            self._changed.clear()
            rows = await conn.fetch(
                """SELECT topic, partition, next_offset FROM projection_positions
                   WHERE projection = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))""",
                self._projection,
                topics,
                parts,
            )
            stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
            if all(stored.get(tp, 0) >= off for tp, off in needed.items()):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), min(self._poll, remaining))
            except asyncio.TimeoutError:
                pass
