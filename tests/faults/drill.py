"""A whole AIFF system of its own for fault drills: its own Kafka, Postgres and Redis (started by
`deploy/stack.sh` on free ports, in a temporary state directory), its workers and API (`deploy/app.sh`),
and load generators that record what was acknowledged, so a drill can restart dependencies under load and
then check every promise against the read models."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy" / "stack.sh"
APP = REPO / "deploy" / "app.sh"
BIN = REPO / ".venv" / "bin"
WORKERS = ("worker", "worker-live", "worker-engine", "worker-insights")
ZONES = ("Selangor", "Kuala Lumpur", "Johor", "Penang", "Perak", "Sabah", "Sarawak", "Kedah")


def free_ports(n: int, *, consecutive: bool = False) -> list[int]:
    """`n` ports nobody listens on (consecutive ones when asked, for the workers' metrics ports)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        ports = list(range(first, first + n)) if consecutive else [first]
        if all(_is_free(p) for p in ports):
            if consecutive or n == 1:
                return ports
            return [first] + free_ports(n - 1)
    raise RuntimeError("no free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class DrillSystem:
    """Environment and process control of one drill system."""

    state: Path
    kafka_port: int
    controller_port: int
    pg_port: int
    redis_port: int
    api_port: int
    metrics_base: int

    @classmethod
    def allocate(cls, state: Path) -> DrillSystem:
        kafka, controller, pg, redis, api = (free_ports(1)[0] for _ in range(5))
        return cls(state, kafka, controller, pg, redis, api, free_ports(4, consecutive=True)[0])

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIFF_", "KAFKA_", "DATABASE_", "REDIS_"))}
        env.update(
            AIFF_STATE_DIR=str(self.state),
            AIFF_KAFKA_PORT=str(self.kafka_port),
            AIFF_KAFKA_CONTROLLER_PORT=str(self.controller_port),
            AIFF_PG_PORT=str(self.pg_port),
            AIFF_REDIS_PORT=str(self.redis_port),
            AIFF_KAFKA_HEAP_OPTS="-Xms256m -Xmx512m",
            AIFF_API_PORT=str(self.api_port),
            AIFF_WORKER_METRICS_PORT=str(self.metrics_base),
            KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{self.kafka_port}",
            DATABASE_URL=self.database_url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            AIFF_ENV="test",
            AIFF_TOPIC_PARTITIONS="3",
            AIFF_RATE_LIMIT_PER_HOUR="1000000",
        )
        return env

    @property
    def database_url(self) -> str:
        return f"postgresql://aiff:aiffpass@127.0.0.1:{self.pg_port}/aiff_db"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def run(self, *args: str | Path, timeout: float = 300) -> str:
        """Run a script or CLI command of the project against this system; its output on failure.

        Output goes to a file, not a pipe: what the scripts start in the background must not hold our end open.
        """
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(a) for a in args], env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True,
                timeout=timeout, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            out.seek(0)
            text = out.read()
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, args))} exited {done.returncode}:\n{text[-4000:]}")
        return text

    async def arun(self, *args: str | Path, timeout: float = 300) -> str:
        return await asyncio.to_thread(self.run, *args, timeout=timeout)

    def worker_pids(self) -> dict[str, int | None]:
        """Each worker process's pid, or None when it is not running."""
        out: dict[str, int | None] = {}
        for name in WORKERS:
            pidfile = self.state / "run" / f"{name}.pid"
            pid = int(pidfile.read_text().strip()) if pidfile.exists() else None
            if pid is not None:
                try:
                    os.kill(pid, 0)
                except OSError:
                    pid = None
            out[name] = pid
        return out

    def degraded(self) -> dict[str, float]:
        """`aiff_consumer_degraded` of every consumer, read from each worker's /metrics."""
        found: dict[str, float] = {}
        for offset in range(len(WORKERS)):
            try:
                text = httpx.get(f"http://127.0.0.1:{self.metrics_base + offset}/metrics", timeout=2).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if line.startswith("aiff_consumer_degraded{"):
                    name = line.split('consumer="', 1)[1].split('"', 1)[0]
                    found[name] = float(line.rsplit(" ", 1)[1])
        return found

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.state / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@dataclass
class Ledger:
    """What the load acknowledged and what it was answered."""

    upstream_acked: dict[int, str] = field(default_factory=dict)
    """ticket id -> event id of upstream creations Kafka acknowledged"""
    upstream_failed: int = 0
    api_created: dict[int, int] = field(default_factory=dict)
    """ticket id -> HTTP status (201 or 202) of API creations"""
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    unavailable_without_retry_after: list[str] = field(default_factory=list)
    transport_errors: int = 0

    def count(self, method: str, path: str, response: httpx.Response) -> None:
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500 and response.status_code != 503:
            self.server_errors.append(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        if response.status_code == 503 and "retry-after" not in response.headers:
            self.unavailable_without_retry_after.append(f"{method} {path}: {response.text[:200]}")


def ticket_created(ticket_id: int, zone: str) -> tuple[str, bytes]:
    """An upstream `ticket.created` event (no AIFF code: the JSON a CRM would publish)."""
    event_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0", "id": event_id, "source": "urn:crm:drill", "type": "aiff.ticket.created.v1",
        "time": datetime.now(UTC).isoformat(), "subject": str(ticket_id),
        "data": {"ticket_id": ticket_id, "title": f"Drill fault {ticket_id}", "priority": "medium", "zone": zone,
                 "category": "fiber", "latitude": 3.1, "longitude": 101.6},
    }  # fmt: skip
    return event_id, json.dumps(event).encode()


async def upstream_load(system: DrillSystem, ledger: Ledger, stop: asyncio.Event, *, rate: float, first_id: int) -> None:
    """Publish ticket creations at `rate`/s like an upstream system: acks=all, each acknowledgement recorded."""
    producer = AIOKafkaProducer(
        bootstrap_servers=f"127.0.0.1:{system.kafka_port}", acks="all", request_timeout_ms=10_000, retry_backoff_ms=200
    )
    await producer.start()

    async def send(ticket_id: int) -> None:
        event_id, value = ticket_created(ticket_id, ZONES[ticket_id % len(ZONES)])
        try:
            await asyncio.wait_for(producer.send_and_wait("aiff.tickets", value, key=str(ticket_id).encode()), 15)
            ledger.upstream_acked[ticket_id] = event_id
        except Exception:  # noqa: BLE001 - not acknowledged: the drill does not count it
            ledger.upstream_failed += 1

    def jobs(n: int) -> list[Coroutine[Any, Any, None]]:
        return [send(first_id + n)]

    try:
        await paced(jobs, stop, rate=rate, drain_s=30)
    finally:
        await asyncio.wait_for(producer.stop(), 20)


async def api_load(system: DrillSystem, token: str, ledger: Ledger, stop: asyncio.Event, *, rate: float) -> None:
    """Create tickets through the API and read lists at `rate` requests/s each, recording every answer."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=system.api, headers=headers, timeout=30) as client:

        async def create(n: int) -> None:
            body = {"title": f"API drill {n}", "priority": "high", "zone": ZONES[n % len(ZONES)], "category": "power",
                    "latitude": 3.0, "longitude": 101.5}  # fmt: skip
            try:
                r = await client.post("/tickets", json=body)
            except httpx.HTTPError:
                ledger.transport_errors += 1
                return
            ledger.count("POST", "/tickets", r)
            if r.status_code in (201, 202):
                ticket_id = r.json()["id"] if r.status_code == 201 else int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])
                assert ticket_id not in ledger.api_created, f"the API handed out ticket id {ticket_id} twice"
                ledger.api_created[ticket_id] = r.status_code

        async def read() -> None:
            try:
                r = await client.get("/tickets", params={"limit": 5})
            except httpx.HTTPError:
                ledger.transport_errors += 1
                return
            ledger.count("GET", "/tickets", r)

        await paced(lambda n: [create(n), read()], stop, rate=rate, drain_s=60)


async def paced(
    jobs: Callable[[int], list[Coroutine[Any, Any, None]]], stop: asyncio.Event, *, rate: float, drain_s: float
) -> None:
    """Start `jobs(n)` for n = 0, 1, … at `rate` per second without waiting for them (an open-loop load, like real
    clients: a slow answer does not slow the arrivals), until `stop`; then give the last ones `drain_s` to end."""
    pending: set[asyncio.Task[None]] = set()
    n = 0
    while not stop.is_set():
        for job in jobs(n):
            task = asyncio.create_task(job)
            pending.add(task)
            task.add_done_callback(pending.discard)
        n += 1
        await asyncio.sleep(1 / rate)
    if pending:
        await asyncio.wait(pending, timeout=drain_s)


async def timed(what: str, coro, log: list[str]) -> None:  # noqa: ANN001
    started = time.monotonic()
    await coro
    log.append(f"{what}: {time.monotonic() - started:.1f}s")


async def post_mortem(system: DrillSystem, conn: asyncpg.Connection, ledger: Ledger, wanted: list[int]) -> str:
    """Why acknowledged tickets are missing from the read models: which are missing (upstream or API), whether
    their events are in the tickets topic, and the projector's stored positions against the log ends (lost
    events vs a projector that stopped or lags)."""
    found = {r["id"] for r in await conn.fetch("SELECT id FROM tickets WHERE id = ANY($1::bigint[])", wanted)}
    missing = sorted(set(wanted) - found)
    upstream_missing = [t for t in missing if t in ledger.upstream_acked]
    rows = await conn.fetch("SELECT projection, topic, partition, next_offset FROM projection_positions ORDER BY 1, 2, 3")
    stored = {(r["projection"], r["topic"], r["partition"]): r["next_offset"] for r in rows}
    consumer = AIOKafkaConsumer(bootstrap_servers=f"127.0.0.1:{system.kafka_port}", enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(t, p) for t in ("aiff.tickets", "aiff.teams", "aiff.requests")
                 for p in (consumer.partitions_for_topic(t) or ())]  # fmt: skip
        ends = await consumer.end_offsets(parts)
        tickets = [tp for tp in parts if tp.topic == "aiff.tickets"]
        consumer.assign(tickets)
        await consumer.seek_to_beginning(*tickets)
        in_topic: set[int] = set()
        while any(await consumer.position(tp) < ends[tp] for tp in tickets):
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                in_topic.update(int(m.key) for m in batch if m.key and m.key.isdigit())
    finally:
        await consumer.stop()
    lag = {f"{tp.topic}[{tp.partition}]": (stored.get(("projector", tp.topic, tp.partition)), end) for tp, end in ends.items()}
    return (f"missing {len(missing)} (upstream {len(upstream_missing)}, API {len(missing) - len(upstream_missing)}); "
            f"missing upstream ids in the tickets topic: {len(set(upstream_missing) & in_topic)}/{len(upstream_missing)}; "
            f"first missing {missing[:5]}; projector (stored position, log end): {lag}")  # fmt: skip
