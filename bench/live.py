"""Live fan-out latency: event published to Kafka -> received by 50 websocket clients of a running API.

Needs the running system (`make up`; the API at http://127.0.0.1:8085): every consumer reacts to the bench's
events as it would to real ones (projector, live feed, assignment engine, analytics, AI).

Before each phase it waits until every consumer has applied the whole log (so a phase does not measure the
previous one's backlog; it prints who it waits for every 5 s), and a short unmeasured warm-up phase runs first (connections, caches).
Each phase publishes TicketCreated events at a fixed rate for a fixed duration (ids in a high, bench-only
range; deleted afterwards with TicketDeleted). The envelope `time` is the publish timestamp; the live
message carries it per ticket, so each client measures `received - time` for every bench ticket it sees.
Target (DESIGN.md): p99 < 50 ms at 200 events/s with 50 clients.

What is measured: `time` (envelope, set when the bench builds the event, just before the producer send) to
the moment a client's `recv()` returns, so it includes the bench's producer, Kafka, the live
consumer, Redis, the API's hub and websocket send, and the client's own websocket receive. All clients
share this one Python process (with the publisher), so under load the client side's scheduling is part
of the number; to keep that small, a client only timestamps and stores each raw message during the
phase, and all JSON parsing happens after it. `to_redis` is `time` -> the live message's `ts` (set by
the live consumer just before the Redis publish); `fanout` is `ts` -> client receive (hub + websocket +
client). Clocks are the same host's.

    .venv/bin/python bench/live.py [--url ...] [--clients 50] [--rates 200,2000] [--seconds 10] [--warmup-seconds 2] [--dump lat.csv]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import statistics
import time
from datetime import datetime

import aiohttp
import asyncpg

from aiff.api.security import create_access_token
from aiff.bootstrap import open_resources
from aiff.events.tickets import TicketCreated, TicketDeleted, ticket_event
from aiff.events.topics import end_offsets
from aiff.live.channel import LiveKeys, LivePublisher
from aiff.settings import Settings
from aiff.tools.catchup import applied_positions

ID_BASE = 1_900_000_000


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def client(url: str, buf: list[tuple[float, str]], ready: asyncio.Event, counter: list[int]) -> None:
    """Receive until cancelled; per message only a timestamp and an append (parsed after the phase).

    aiohttp's websocket reader (compiled) keeps the 50 clients' own CPU small: they share 2 cores with the system.
    """
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0, autoping=True) as ws:
        await ws.receive_str()  # snapshot
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        clock = time.time
        append = buf.append
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return
            append((clock(), msg.data))


class _Seen:
    """The bench tickets one client has received so far (parses only the messages added since the last call)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high, self.ids, self.parsed = low, high, set(), 0

    def update(self, buf: list[tuple[float, str]]) -> int:
        for _, raw in buf[self.parsed :]:
            for e in json.loads(raw).get("events", ()):
                if self.low <= e.get("ticket_id", 0) < self.high:
                    self.ids.add(e["ticket_id"])
        self.parsed = len(buf)
        return len(self.ids)


def parse(buf: list[tuple[float, str]], lat: list[float], split: list) -> None:
    for now, raw in buf:
        msg = json.loads(raw)
        if msg.get("type") == "resync":
            lat.append(float("inf"))
        for e in msg.get("events", ()):
            if e.get("kind") == "ticket" and e.get("ticket_id", 0) >= ID_BASE and "aiff.ticket.created.v1" in e.get("types", ()):
                t0 = datetime.fromisoformat(e["time"]).timestamp()
                lat.append(now - t0)
                split.append((msg["ts"] - t0, now - msg["ts"], t0, msg["seq"]))


async def phase(resources, url: str, clients: int, rate: int, seconds: float, first_id: int, dump=None) -> dict:
    # The clients keep every raw message until the phase ends: the collector would walk that growing heap
    # again and again and pause all 50 clients at once, so it is off while measuring (and on again after).
    gc.collect()
    gc.disable()
    try:
        return await _phase(resources, url, clients, rate, seconds, first_id, dump)
    finally:
        gc.enable()


async def _phase(resources, url: str, clients: int, rate: int, seconds: float, first_id: int, dump) -> dict:
    bufs: list[list[tuple[float, str]]] = [[] for _ in range(clients)]
    ready, counter = asyncio.Event(), [0, clients]
    tasks = [asyncio.create_task(client(url, bufs[i], ready, counter)) for i in range(clients)]
    await asyncio.wait_for(ready.wait(), 30)
    total = int(rate * seconds)
    tick = 0.01  # publish in 10 ms slices
    per_tick = rate * tick
    sent = 0
    started = time.perf_counter()
    pending = []
    while sent < total:
        due = min(total, int((time.perf_counter() - started) / tick * per_tick) + 1)
        batch = []
        while sent < due:
            tid = first_id + sent
            batch.append(ticket_event(TicketCreated, {"ticket_id": tid, "title": f"bench {tid}", "priority": "low", "zone": "Selangor",
                                                      "latitude": 3.07, "longitude": 101.52, "created_by": "bench"}, source="urn:aiff:bench"))  # fmt: skip
            sent += 1
        if batch:
            pending.append(asyncio.create_task(resources.publisher.publish_many(batch)))
        await asyncio.sleep(tick)
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - started
    # Wait until every client has every bench ticket (they come from several partitions, so the last one
    # published is not necessarily the last one delivered), or give up after a generous deadline.
    seen = [_Seen(first_id, first_id + total) for _ in bufs]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(s.update(b) >= total for s, b in zip(seen, bufs)):
        await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    per_client: list[list[float]] = [[] for _ in range(clients)]
    split: list[tuple[float, float]] = []
    for b, lat_i in zip(bufs, per_client):
        parse(b, lat_i, split)
    if dump is not None:  # one row per delivery: when it was published, and where its time went
        dump.writerows((f"{t0:.6f}", seq, rate, f"{(a + b) * 1000:.3f}", f"{a * 1000:.3f}", f"{b * 1000:.3f}") for a, b, t0, seq in split)
    lat = [v for x in per_client for v in x]
    finite = [v * 1000 for v in lat if v != float("inf")]
    return {
        "rate_target": rate, "rate_achieved": round(total / elapsed, 1), "events": total, "clients": clients,
        "deliveries": len(finite), "expected_deliveries": total * clients, "resyncs": len(lat) - len(finite),
        "p50_ms": round(pct(finite, 50), 1), "p99_ms": round(pct(finite, 99), 1), "max_ms": round(max(finite), 1) if finite else None,
        "mean_ms": round(statistics.fmean(finite), 1) if finite else None,
        "to_redis_p50_ms": round(pct([a * 1000 for a, *_ in split], 50), 1), "to_redis_p99_ms": round(pct([a * 1000 for a, *_ in split], 99), 1),
        "fanout_p50_ms": round(pct([b * 1000 for _, b, *_ in split], 50), 1), "fanout_p99_ms": round(pct([b * 1000 for _, b, *_ in split], 99), 1),
    }  # fmt: skip


def behind(ends: dict[tuple[str, int], int], stored: dict[tuple[str, int], int], *, missing_is_caught_up: bool) -> int:
    """Records of `ends` a consumer with positions `stored` has not applied yet.

    The live feed keeps its positions in Redis and stores one only for a partition it has read since it (or
    Redis) started, at the log end: a partition without one has nothing pending for it (missing_is_caught_up).
    The consumers of Postgres start from offset 0, so for them a missing position means nothing applied.
    """
    return sum(
        max(0, end - stored[tp]) if tp in stored else (0 if missing_is_caught_up else end) for tp, end in ends.items()
    )


async def settle(resources, timeout_s: float = 300.0, report_every_s: float = 5.0) -> bool:
    """Wait until every consumer has applied the log up to its current end, so each phase starts from an idle
    system rather than from the previous phase's backlog (engine, analytics, AI); every `report_every_s` it
    prints which consumers it is waiting for and how far behind they are. False when `timeout_s` ran out."""
    t = resources.topics
    groups = {"projector": t.domain, "assignment": t.domain, "analytics": [t.tickets, t.teams], "ai": [t.tickets]}
    ends = await end_offsets(resources.settings.kafka_bootstrap_servers, sorted({*t.domain, t.tickets, t.teams}))
    async with resources.pool.acquire() as conn:
        present = {r["projection"] for r in await conn.fetch("SELECT DISTINCT projection FROM projection_positions")}
    live = LivePublisher(resources.redis, LiveKeys(resources.settings.topic_prefix))
    live_topics = {t.tickets, t.teams}
    started = time.monotonic()
    next_report = started + report_every_s
    while True:
        lag: dict[str, int] = {}
        for name in sorted(present & set(groups)):
            of_group = {tp: end for tp, end in ends.items() if tp[0] in groups[name]}
            lag[name] = behind(of_group, await applied_positions(resources.pool, name), missing_is_caught_up=False)
        of_live = {tp: end for tp, end in ends.items() if tp[0] in live_topics}
        lag["live"] = behind(of_live, await live.load_positions(), missing_is_caught_up=True)
        waiting = ", ".join(f"{name} {n:,} records behind" for name, n in lag.items() if n)
        elapsed = time.monotonic() - started
        if not waiting:
            print(f"consumers caught up with the log end ({elapsed:.1f} s)", flush=True)
            return True
        if elapsed >= timeout_s:
            print(f"warning: after {elapsed:.0f} s still waiting for {waiting}; measuring anyway", flush=True)
            return False
        if time.monotonic() >= next_report:
            print(f"waiting for the consumers to reach the log end: {waiting} ({elapsed:.0f} s of {timeout_s:.0f})", flush=True)
            next_report += report_every_s
        await asyncio.sleep(0.1)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8085")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rates", default="200,2000")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup-seconds", type=float, default=2.0, help="an unmeasured phase at the first rate first")
    ap.add_argument("--dump", metavar="CSV", help="write every measured delivery: published (unix s), live seq, rate, total/to_redis/fanout ms")
    args = ap.parse_args()
    dump_file = open(args.dump, "w", newline="") if args.dump else None  # noqa: SIM115 - closed below
    dump = csv.writer(dump_file) if dump_file else None
    if dump:
        dump.writerow(("published", "seq", "rate", "total_ms", "to_redis_ms", "fanout_ms"))
    settings = Settings()
    async with open_resources(settings, with_redis=True, create_topics=False) as resources:
        conn: asyncpg.Connection
        async with resources.pool.acquire() as conn:
            user = await conn.fetchrow("SELECT id, username FROM users WHERE role IN ('admin','dispatcher') AND is_active ORDER BY id LIMIT 1")
        uid, uname = (user["id"], user["username"]) if user else (0, "bench")
        token, _ = create_access_token(settings, user_id=uid, username=uname, role="dispatcher", team_id=None)
        ws_url = args.url.replace("http", "ws", 1) + f"/ws?token={token}&types=ticket.created"
        results = []
        # A fresh id range per run: a run uses up to ~12k ids over >10 s, and ids of deleted tickets are not reused.
        next_id = ID_BASE + int(time.time() * 1000) % 10**9 * 20
        created: list[int] = []
        rates = [int(r) for r in args.rates.split(",")]
        try:
            if args.warmup_seconds > 0:  # connections, caches and the engine's first solves, not measured
                await settle(resources)
                res = await phase(resources, ws_url, args.clients, rates[0], args.warmup_seconds, next_id)
                created += range(next_id, next_id + res["events"])
                next_id += res["events"]
            for rate in rates:
                await settle(resources)
                res = await phase(resources, ws_url, args.clients, rate, args.seconds, next_id, dump)
                created += range(next_id, next_id + res["events"])
                next_id += res["events"]
                results.append(res)
                print(json.dumps(res), flush=True)
        finally:
            if dump_file:
                dump_file.close()
            if created:  # remove the bench tickets from the read models again
                await resources.publisher.publish_many(
                    ticket_event(TicketDeleted, {"ticket_id": t, "deleted_by": "bench", "reason": "bench cleanup"}) for t in created
                )
        ok = results and results[0]["p99_ms"] < 50
        print(f"target p99 < 50 ms at {results[0]['rate_target']} events/s with {args.clients} clients: {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    asyncio.run(main())
