"""The /ws live feed end to end: Kafka -> projector -> live consumer -> Redis -> API hub -> websocket."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from aiff.live import hub as hub_module
from aiff.api.ws import HUBS


def ws_hubs():
    return list(HUBS)

from aiff.live.channel import LiveKeys, LivePublisher
from tests.e2e.conftest import Harness
from tests.e2e.test_ws_harness import has_ticket, live_harness, recv_json, recv_until, ws_url  # noqa: F401

pytestmark = pytest.mark.e2e


async def test_auth_is_required(live_harness: Harness) -> None:
    h = live_harness
    for url in (ws_url(h, None), ws_url(h, None, token="not-a-jwt")):
        with pytest.raises(InvalidStatus) as err:
            async with connect(url):
                pass
        assert err.value.response.status_code == 403
    async with connect(ws_url(h, h.headers["analyst"])) as ws:
        snap = await recv_json(ws)
        assert snap["type"] == "snapshot" and isinstance(snap["seq"], int)
        assert {"open", "assigned", "in_progress", "completed_today", "sla_compliance_pct", "mean_response_min"} <= set(snap["kpis"])
    # A field user may not watch another team.
    with pytest.raises(InvalidStatus):
        async with connect(ws_url(h, h.headers["field"], team=h.team_id + 999)):
            pass


async def test_zone_filter_and_field_user_sees_only_their_team(live_harness: Harness) -> None:
    h = live_harness
    async with (
        connect(ws_url(h, h.headers["dispatcher"], zone="Johor")) as johor,
        connect(ws_url(h, h.headers["dispatcher"])) as everything,
        connect(ws_url(h, h.headers["field"])) as field,
    ):
        for ws in (johor, everything, field):
            assert (await recv_json(ws))["type"] == "snapshot"
        sel = await h.create_ticket(zone="Selangor", title="Selangor outage")
        jhr = await h.create_ticket(zone="Johor", title="Johor outage")
        wanted = {sel["id"], jhr["id"]}
        got: set[int] = set()

        def both(m: dict) -> bool:
            got.update(e.get("ticket_id") for e in m.get("events", ()) if m["type"] == "events")
            return wanted <= got

        await recv_until(everything, both)
        msg, seen = await recv_until(johor, has_ticket(jhr["id"]))
        zones = {e["zone"] for m in seen if m["type"] == "events" for e in m["events"]}
        assert zones == {"Johor"}, zones
        # Field user: sees a ticket once it is assigned to their team, nothing else.
        r = await h.client.post("/tickets/assign", json={"ticket_id": sel["id"], "team_id": h.team_id}, headers=h.headers["dispatcher"])
        assert r.status_code == 200, r.text
        msg, seen = await recv_until(field, has_ticket(sel["id"], "assigned"))
        entry = next(e for e in msg["events"] if e["ticket_id"] == sel["id"])
        assert entry["team_id"] == h.team_id and entry["zone"] == "Selangor"
        assert all(h.team_id in e["teams"] for m in seen if m["type"] == "events" for e in m["events"])


async def test_slow_client_is_resynced_while_fast_client_keeps_up(live_harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = live_harness
    monkeypatch.setattr(hub_module, "QUEUE_MAX", 8)
    publisher = LivePublisher(h.resources.redis, LiveKeys(h.settings.topic_prefix))
    # The slow client: a raw socket with a tiny receive buffer that completes the handshake, then stops reading.
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", int(h.url.rsplit(":", 1)[1])))
    path = ws_url(h, h.headers["dispatcher"]).split("/", 3)[3]
    slow.sendall((f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    slow.setblocking(False)
    loop = asyncio.get_running_loop()
    hello = b""
    while b'"type":"snapshot"' not in hello:
        hello += await asyncio.wait_for(loop.sock_recv(slow, 65536), 10)
    assert hello.startswith(b"HTTP/1.1 101")
    async with connect(ws_url(h, h.headers["dispatcher"])) as fast:
        first = await recv_json(fast)
        filler = "x" * 64_000
        n = 250
        received: list[int] = []

        async def read_fast() -> None:
            while len(received) < n:
                msg = await recv_json(fast, 20)
                if msg["type"] == "events" and msg["events"][0].get("types") == ["test"]:
                    received.append(msg["seq"])

        reader = asyncio.create_task(read_fast())
        started = time.monotonic()
        seqs = []
        for i in range(n):
            seqs.append(await publisher.publish({"events": [{"kind": "ticket", "ticket_id": 10_000 + i, "zone": "Selangor",
                                                             "teams": [], "types": ["test"], "pad": filler}], "kpis_changed": False}))  # fmt: skip
        await asyncio.wait_for(reader, 30)
        assert received == seqs, "the fast client got every message, in order"
        assert time.monotonic() - started < 20
        # The slow client now reads everything: it was told to resync, and a fresh snapshot followed.
        data = b""
        deadline = time.monotonic() + 20
        while b'{"type":"resync"}' not in data or data.count(b'"type":"snapshot"') < 1:
            assert time.monotonic() < deadline, data[-300:]
            data += await asyncio.wait_for(loop.sock_recv(slow, 1 << 20), 20)
        tail = data[data.index(b'{"type":"resync"}'):]
        assert b'"type":"snapshot"' in tail and b'"reason":"resync"' in tail
        assert data.count(b'"pad"') < n, "the slow client skipped messages instead of slowing anyone down"
        slow.close()
    assert first["type"] == "snapshot"


async def test_reconnect_with_since_replays_missed_messages(live_harness: Harness) -> None:
    h = live_harness
    token = h.headers["dispatcher"]
    async with connect(ws_url(h, token)) as ws:
        await recv_json(ws)
        a = await h.create_ticket(title="before the drop")
        msg, _ = await recv_until(ws, has_ticket(a["id"]))
        last_seq = msg["seq"]
    b = await h.create_ticket(title="missed one", zone="Kedah")
    c = await h.create_ticket(title="missed two", zone="Sabah")
    r = await h.client.post("/tickets/assign", json={"ticket_id": b["id"], "team_id": h.team_id}, headers=h.headers["dispatcher"])
    assert r.status_code == 200

    async def published_up_to_c() -> None:
        # wait until the live feed has published c's creation (then reconnect)
        while True:
            raw = await h.resources.redis.xrevrange(LiveKeys(h.settings.topic_prefix).stream, count=20)
            texts = [v[b"m"].decode() for _, v in raw]
            if any(f'"ticket_id":{c["id"]},' in t for t in texts) and any(
                f'"ticket_id":{b["id"]},' in t and '"status":"assigned"' in t for t in texts
            ):
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(published_up_to_c(), 15)
    async with connect(ws_url(h, token, since=last_seq)) as ws:
        seen = []
        while not (any(has_ticket(b["id"], "assigned")(m) for m in seen) and any(has_ticket(c["id"])(m) for m in seen)):
            m = await recv_json(ws)
            assert m["type"] != "snapshot", "a recent seq is replayed, not replaced by a snapshot"
            if m["type"] == "events":
                seen.append(m)
        seqs = [m["seq"] for m in seen]
        assert seqs == list(range(last_seq + 1, last_seq + 1 + len(seqs))), "no gaps"
        ids = [e["ticket_id"] for m in seen for e in m["events"]]
        assert b["id"] in ids and c["id"] in ids
    # A seq the stream never held (or trimmed) gets a snapshot.
    async with connect(ws_url(h, token, since=-5)) as ws:
        m = await recv_json(ws)
        assert m["type"] == "snapshot" and m["reason"] == "since_unavailable"
    async with connect(ws_url(h, token, since=10**9)) as ws:
        assert (await recv_json(ws))["type"] == "snapshot"
