"""One Redis subscription per API process, fanned out to every local websocket client.

The hub never waits for a client: each client has a bounded queue; when it is full the queue is emptied
and replaced by a single RESYNC marker, so the client's writer sends {"type":"resync"} and a fresh snapshot
when it catches up. The subscription reader therefore always keeps up with Redis (whose pub/sub drops a
subscriber that falls ~32 MB behind).

Gaps are repaired from the stream: every message carries a dense seq; when the hub sees seq > last+1 (or
its subscription dropped and came back) it reads the missing seqs from `{prefix}:live:stream` first, and
if those were trimmed away it tells every client to resync.

Filtering is per client (zone, team, event types); one message is parsed once and re-serialised once per
distinct filter, and clients without filters get the original text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aiff.live.channel import LiveKeys, replay
from aiff.live.kpis import KpiCache
from aiff.metrics import WS_CLIENTS, WS_DROPPED

log = logging.getLogger(__name__)

QUEUE_MAX = 256
"""Messages a client may have waiting before it is resynced (module attribute: tests lower it)."""
KPI_INTERVAL_S = 1.0
KPI_SETTLE_S = 0.25
"""The live consumer no longer waits for the projector: KPIs (read from Postgres) are computed at least this
long after the change that triggered them, so the projector has normally committed it by then."""


class _Resync:
    def __repr__(self) -> str:
        return "RESYNC"


RESYNC = _Resync()


@dataclass(frozen=True)
class Filter:
    zones: frozenset[str] = frozenset()
    teams: frozenset[int] = frozenset()
    types: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.zones or self.teams or self.types)

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.zones and entry.get("zone") not in self.zones:
            return False
        if self.teams and not self.teams.intersection(entry.get("teams") or ()):
            return False
        if self.types:
            names = [entry.get("kind", "")] + list(entry.get("types") or ())
            if not any(want == n or want in n for want in self.types for n in names):
                return False
        return True


@dataclass(eq=False)
class Client:
    filter: Filter
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    resyncs: int = 0
    dropped: int = 0
    sending_since: float = 0.0
    """time.monotonic() when the current websocket send started; 0 when none is under way."""

    def offer(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += self.queue.qsize()
            WS_DROPPED.inc(self.queue.qsize())
            while not self.queue.empty():
                self.queue.get_nowait()
            self.resyncs += 1
            self.queue.put_nowait(RESYNC)


class Hub:
    """Started lazily by the first websocket; stops its subscription when the last client leaves."""

    def __init__(self, redis: aioredis.Redis, keys: LiveKeys, kpis: KpiCache) -> None:
        self.redis = redis
        self.keys = keys
        self.kpis = kpis
        self.clients: set[Client] = set()
        self.last_seq = 0
        self.received = 0
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._kpi_task: asyncio.Task[None] | None = None
        self._kpi_last = 0.0
        self._closed = False

    # -- clients ---------------------------------------------------------------------------------
    async def add(self, client: Client) -> None:
        """Register a client (its queue starts buffering at once) and make sure the subscription runs."""
        if client not in self.clients:
            WS_CLIENTS.inc()
        self.clients.add(client)
        if self._task is None or self._task.done():
            self._subscribed.clear()
            self._task = asyncio.create_task(self._run(), name="aiff-live-hub")
        await asyncio.wait_for(self._subscribed.wait(), 10)

    def remove(self, client: Client) -> None:
        if client in self.clients:
            WS_CLIENTS.dec()
        self.clients.discard(client)

    async def close(self) -> None:
        self._closed = True
        for task in (self._task, self._kpi_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # -- subscription ----------------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = 0.1
        first = True
        while not self._closed:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.keys.channel)
                if first:
                    self.last_seq = int(await self.redis.get(self.keys.seq) or 0)
                    first = False
                else:
                    await self._catch_up(None)
                self._subscribed.set()
                backoff = 0.1
                idle_since: float | None = None
                while not self._closed:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        await self._on_message(message["data"])
                    if not self.clients:
                        idle_since = idle_since or time.monotonic()
                        if time.monotonic() - idle_since > 5.0:
                            return  # nobody listens: let go of the connection; the next client restarts us
                    else:
                        idle_since = None
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("live hub: redis subscription lost (%s); reconnecting in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:  # noqa: BLE001 - keep fanning out; a bad message must not kill the hub
                log.exception("live hub: unexpected error")
                await asyncio.sleep(backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _catch_up(self, upto: int | None) -> None:
        missed = await replay(self.redis, self.keys, self.last_seq, upto=upto)
        if missed is None:
            log.warning("live hub: seqs after %s are gone from the stream; resyncing %d clients", self.last_seq, len(self.clients))
            for client in list(self.clients):
                client.offer(RESYNC)
            self.last_seq = upto if upto is not None else int(await self.redis.get(self.keys.seq) or 0)
            return
        for seq, text in missed:
            self._dispatch(seq, text)

    async def _on_message(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        seq = _peek_seq(text)
        if seq is None or seq <= self.last_seq:
            return
        if seq > self.last_seq + 1 and self.last_seq > 0:
            await self._catch_up(seq - 1)
        self._dispatch(seq, text)

    def _dispatch(self, seq: int, text: str) -> None:
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        self.received += 1
        parsed: dict[str, Any] | None = None
        per_filter: dict[Filter, str | None] = {}
        for client in list(self.clients):
            f = client.filter
            if f.empty:
                client.offer((seq, text))
                continue
            if f not in per_filter:
                if parsed is None:
                    parsed = orjson.loads(text)
                events = [e for e in parsed.get("events", ()) if f.matches(e)]
                per_filter[f] = orjson.dumps({**parsed, "events": events}).decode() if events else None
            out = per_filter[f]
            if out is not None:
                client.offer((seq, out))
        if '"kpis_changed":true' in text:
            self._schedule_kpis()

    # -- KPIs --------------------------------------------------------------------------------------
    def _schedule_kpis(self) -> None:
        if self._kpi_task is not None and not self._kpi_task.done():
            return  # one already pending: it will read the state after this message too
        self._kpi_task = asyncio.create_task(self._send_kpis(), name="aiff-live-kpis")

    async def _send_kpis(self) -> None:
        wait = max(KPI_SETTLE_S, self._kpi_last + KPI_INTERVAL_S - time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)
        self._kpi_last = time.monotonic()
        seq = self.last_seq
        try:
            kpis = await self.kpis.get(max_age_s=0)
        except Exception:  # noqa: BLE001 - the next change retries
            log.exception("live hub: KPI query failed")
            return
        text = orjson.dumps({"type": "kpis", "seq": seq, "kpis": kpis}).decode()
        for client in list(self.clients):
            client.offer(("kpis", text))


def _peek_seq(text: str) -> int | None:
    """The seq of a message without parsing it all (it is the second key by construction)."""
    marker = '"seq":'
    at = text.find(marker)
    if at < 0:
        return None
    end = at + len(marker)
    stop = end
    while stop < len(text) and text[stop].isdigit():
        stop += 1
    try:
        return int(text[end:stop])
    except ValueError:
        return None


HubFactory = Callable[[], Hub]
