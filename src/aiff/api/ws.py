"""Live updates over a websocket: `GET /ws?token=<JWT>&zone=..&team=..&types=..&since=<seq>`.

- Authentication: the API's access token in the query string (browsers cannot set headers on websockets);
  a missing or invalid token is refused before the handshake completes (HTTP 403). Field users only ever
  receive their own team's tickets (`team` is forced to their team; another team is refused).
- Fan-out: one Redis subscription per API process (`aiff.live.hub.Hub`), bounded per-client queues.
- Messages, all JSON text:
  `{"type":"snapshot","seq":N,"kpis":{...}}` first (or after a resync), then
  `{"type":"events","seq":N,"events":[...],"kpis_changed":bool,"ts":float}` (seq dense per feed; filtered
  clients see gaps where nothing matched), `{"type":"kpis","seq":N,"kpis":{...}}` at most ~1/s after
  changes, and `{"type":"resync"}` when the client fell behind (its queue overflowed): a fresh snapshot
  follows; the client should reload its lists.
- Resume: `since=<last seq seen>` replays the missed messages from the Redis stream (same filters); when
  they are gone (or too many) the client gets a snapshot instead (`"reason":"since_unavailable"`).
- Filters: `zone` (one or comma-separated zones), `team` (team id), `types` (comma-separated; matches event
  kinds `ticket`/`team` or any part of a type, e.g. `ticket.created`, `assigned`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from aiff.api.security import InvalidToken, Principal, decode_access_token
from aiff.live.channel import LiveKeys, current_seq, replay
from aiff.live.hub import RESYNC, Client, Filter, Hub
from aiff.live.kpis import KpiCache
from aiff.zones import canonical_zone

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

SEND_TIMEOUT_S = 30.0
HUBS: "weakref.WeakSet[Hub]" = weakref.WeakSet()
"""Every hub of this process (tests close them; `close_hub` is the app's shutdown hook)."""


async def get_hub(app: Any) -> Hub:
    """The app's hub, created on first use."""
    hub = getattr(app.state, "live_hub", None)
    if hub is None:
        resources = app.state.resources
        hub = Hub(resources.redis, LiveKeys(app.state.settings.topic_prefix), KpiCache(resources.pool, ttl_s=1.0))
        app.state.live_hub = hub
        HUBS.add(hub)
    return hub


async def close_hub(app: Any) -> None:
    """Stop the app's hub (call from the lifespan's shutdown, before Redis closes)."""
    hub = getattr(app.state, "live_hub", None)
    if hub is not None:
        await hub.close()
        app.state.live_hub = None


class _Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _filter_for(principal: Principal, params: dict[str, str]) -> Filter:
    zones: set[str] = set()
    for raw in filter(None, (z.strip() for z in params.get("zone", "").split(","))):
        zone = canonical_zone(raw)
        if zone is None:
            raise _Refused(4400, f"unknown zone {raw!r}")
        zones.add(zone)
    teams: set[int] = set()
    if params.get("team"):
        try:
            teams.add(int(params["team"]))
        except ValueError as exc:
            raise _Refused(4400, "team must be an integer") from exc
    if principal.role == "field":
        if principal.team_id is None:
            raise _Refused(4403, "field user without a team")
        if teams and teams != {principal.team_id}:
            raise _Refused(4403, "field users only see their own team")
        teams = {principal.team_id}
    types = tuple(t.strip() for t in params.get("types", "").split(",") if t.strip())
    return Filter(frozenset(zones), frozenset(teams), types)


def _filtered(text: str, f: Filter) -> str | None:
    if f.empty:
        return text
    msg = orjson.loads(text)
    events = [e for e in msg.get("events", ()) if f.matches(e)]
    return orjson.dumps({**msg, "events": events}).decode() if events else None


async def _snapshot(websocket: WebSocket, hub: Hub, principal: Principal, f: Filter, **extra: Any) -> int:
    seq = await current_seq(hub.redis, hub.keys)
    kpis = await hub.kpis.get()
    body = {
        "type": "snapshot",
        "seq": seq,
        "kpis": kpis,
        "filters": {"zones": sorted(f.zones), "teams": sorted(f.teams), "types": list(f.types)},
        "user": {"id": principal.id, "username": principal.username, "role": principal.role, "team_id": principal.team_id},
        **extra,
    }
    await websocket.send_text(orjson.dumps(body).decode())
    return seq


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    params = dict(websocket.query_params)
    settings = websocket.app.state.settings
    try:
        token = params.get("token", "")
        if not token:
            raise _Refused(4401, "missing token")
        try:
            principal = decode_access_token(settings, token)
        except InvalidToken as exc:
            raise _Refused(4401, str(exc)) from exc
        f = _filter_for(principal, params)
        since: int | None = None
        if params.get("since") not in (None, ""):
            try:
                since = int(params["since"])
            except ValueError as exc:
                raise _Refused(4400, "since must be an integer") from exc
    except _Refused as refused:
        log.info("ws refused: %s", refused.reason)
        await websocket.close(code=refused.code, reason=refused.reason)
        return

    await websocket.accept()
    hub = await get_hub(websocket.app)
    client = Client(f)
    await hub.add(client)
    writer = asyncio.create_task(_writer(websocket, hub, client, principal, since), name="aiff-ws-writer")
    watchdog = asyncio.create_task(_watch_sends(websocket, client, writer), name="aiff-ws-watchdog")
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            # Clients may send {"type":"ping"}; anything else is ignored.
            if message.get("text") and '"ping"' in message["text"]:
                client.offer(("pong", '{"type":"pong"}'))
            if writer.done():
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(client)
        watchdog.cancel()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        if websocket.application_state == WebSocketState.CONNECTED and websocket.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


async def _writer(websocket: WebSocket, hub: Hub, client: Client, principal: Principal, since: int | None) -> None:
    try:
        await _write_loop(websocket, hub, client, principal, since)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a dead or stuck client: close it, the others carry on
        log.info("ws writer stopped: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(Exception):
            await websocket.close(code=1011)


async def _write_loop(websocket: WebSocket, hub: Hub, client: Client, principal: Principal, since: int | None) -> None:
    f = client.filter
    floor: int
    if since is not None:
        missed = await replay(hub.redis, hub.keys, since)
        if missed is None:
            floor = await _snapshot(websocket, hub, principal, f, reason="since_unavailable")
        else:
            floor = since
            for seq, text in missed:
                out = _filtered(text, f)
                if out is not None:
                    await websocket.send_text(out)
                floor = seq
    else:
        floor = await _snapshot(websocket, hub, principal, f)
    while True:
        item = await client.queue.get()
        if item is RESYNC:
            await _send(websocket, client, '{"type":"resync"}')
            floor = await _snapshot(websocket, hub, principal, f, reason="resync")
            continue
        seq, text = item
        if isinstance(seq, int):
            if seq <= floor:
                continue
            floor = seq
        await _send(websocket, client, text)


async def _send(websocket: WebSocket, client: Client, text: str) -> None:
    # No timer per message and client (a timeout context per send was ~10% of the API's CPU under the live
    # benchmark): the send's start is recorded and `_watch_sends` looks at it a few times per timeout.
    client.sending_since = time.monotonic()
    await websocket.send_text(text)
    client.sending_since = 0.0


async def _watch_sends(websocket: WebSocket, client: Client, writer: asyncio.Task[None]) -> None:
    """Close a client whose send has been stuck for `SEND_TIMEOUT_S` (a peer that stopped reading), so its
    writer does not hang forever; one sleeping task per client instead of one timer per message."""
    while not writer.done():
        await asyncio.sleep(SEND_TIMEOUT_S / 3)
        started = client.sending_since
        if started and time.monotonic() - started > SEND_TIMEOUT_S:
            log.info("ws writer stopped: a send was stuck for over %.0fs", SEND_TIMEOUT_S)
            writer.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code=1011), 5)
            return
