"""Read-your-writes: a write answers once the projector has applied its event.

Every change is an event; the tables change only when the projector applies it. After publishing, the
API knows where the event landed (topic, partition, offset) and waits, bounded by
`settings.read_your_writes_timeout_s`, until the projector's stored position for that partition has
passed it (`projection_positions.next_offset > offset`, projection 'projector').

The projector commits its positions and calls `pg_notify('aiff_positions', ...)` in the same
transaction, so one LISTEN connection per API process wakes every waiting request (asyncio futures)
the moment the batch is visible. Notifications are database-wide (other schemas' projectors use the
same channel) and can be lost when the LISTEN connection drops, so a notification is only a hint:
each waiter confirms with a query on the app's own schema, and polls every `poll_interval_s` anyway.

When the wait runs out the API answers 202 with the resource's location: the event is durable in
Kafka and will be applied. If the projector refuses the event (dead-letters it, e.g. a lifecycle race
with another writer), the resource simply does not reflect it: the API returns the current resource.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict

import asyncpg

from aiff.projections.positions import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

PROJECTION = "projector"
CHECK_POOL_SIZE = 4


class PositionWaiter:
    """Waits for the projector to pass an offset; shared by all requests of one app."""

    def __init__(self, dsn: str, *, projection: str = PROJECTION, poll_interval_s: float = 0.25) -> None:
        self._dsn = dsn
        self._projection = projection
        self._poll = poll_interval_s
        self._conn: asyncpg.Connection | None = None
        self._closed = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._check_pool: asyncpg.Pool | None = None
        self._waiters: dict[tuple[str, int], list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)

    async def start(self) -> None:
        """Open the LISTEN connection; without it the waiter still works by polling. A lost connection (a
        database restart) is reopened in the background."""
        self._closed = False
        if self._check_pool is None:
            self._check_pool = await asyncpg.create_pool(self._dsn, min_size=0, max_size=CHECK_POOL_SIZE)
        try:
            conn = await asyncpg.connect(self._dsn, timeout=5)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_lost)
            self._conn = conn
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("LISTEN %s unavailable, read-your-writes falls back to polling: %s", NOTIFY_CHANNEL, exc)
            self._conn = None
            self._schedule_reconnect()

    def _on_lost(self, _conn: object) -> None:
        self._conn = None
        if not self._closed:
            log.warning("LISTEN %s connection lost; polling until it is back", NOTIFY_CHANNEL)
            self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._closed or (self._reconnecting is not None and not self._reconnecting.done()):
            return
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.5
        while not self._closed and self._conn is None:
            await asyncio.sleep(delay)
            delay = min(10.0, delay * 2)
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
                await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
                conn.add_termination_listener(self._on_lost)
                self._conn = conn
                log.info("LISTEN %s connection restored", NOTIFY_CHANNEL)
            except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                continue

    async def close(self) -> None:
        self._closed = True
        if self._check_pool is not None:
            self._check_pool.terminate()
            self._check_pool = None
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self._conn is not None:
            try:
                await self._conn.close(timeout=2)
            except Exception:  # noqa: BLE001 - closing on shutdown; the connection may already be gone
                self._conn.terminate()
            self._conn = None
        for waiters in self._waiters.values():
            for _, fut in waiters:
                if not fut.done():
                    fut.cancel()
        self._waiters.clear()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            if message.get("projection") != self._projection:
                return
            for topic, partition, next_offset in message.get("positions", ()):
                for offset, fut in self._waiters.get((topic, int(partition)), ()):
                    if offset < int(next_offset) and not fut.done():
                        fut.set_result(None)
        except (ValueError, TypeError, AttributeError):
            log.debug("ignoring malformed position notification %r", payload)

    async def applied(self, topic: str, partition: int, offset: int, timeout_s: float = 5.0) -> bool:
        """True when the projector's stored position for the partition is past `offset`.

        The check runs on the waiter's own small pool: a request waiting here already holds a connection of the
        request pool, and twenty of them waiting for a second one from the same pool would wait for each other.
        """
        async with self._check_pool.acquire(timeout=timeout_s) as conn:
            next_offset = await conn.fetchval(
                "SELECT next_offset FROM projection_positions WHERE projection = $1 AND topic = $2 AND partition = $3",
                self._projection,
                topic,
                partition,
            )
        return next_offset is not None and next_offset > offset

    async def wait(self, topic: str, partition: int, offset: int, timeout_s: float) -> bool:
        """Wait until the record at (topic, partition, offset) is applied; False when `timeout_s` ran out."""
        deadline = time.monotonic() + timeout_s
        key = (topic, partition)
        loop = asyncio.get_running_loop()
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            entry = (offset, fut)
            self._waiters[key].append(entry)
            try:
                remaining = deadline - time.monotonic()
                try:
                    if await asyncio.wait_for(self.applied(topic, partition, offset, max(0.05, remaining)), max(0.05, remaining)):
                        return True
                except asyncio.TimeoutError:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                await asyncio.wait({fut}, timeout=min(self._poll, remaining))
            finally:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    try:
                        waiters.remove(entry)
                    except ValueError:
                        pass
                    if not waiters:
                        self._waiters.pop(key, None)
                if not fut.done():
                    fut.cancel()
