"""Fault drill: restart the Kafka broker and then Postgres under load, through the stack scripts, on a whole
system of its own (stack, four worker processes, API), and check every promise afterwards:

- no answer of 500; every 503 carries `Retry-After`;
- every worker process is still alive and no longer degraded, `/health` is green;
- every upstream event Kafka acknowledged and every ticket the API acknowledged (201/202) is in the read
  models exactly once; no ticket holds two active assignments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.faults.drill import STACK, APP, BIN, DrillSystem, Ledger, api_load, post_mortem, timed, upstream_load
from tests.helpers import wait_until

pytestmark = [
    pytest.mark.skipif(shutil.which("java") is None, reason="the drill starts its own Kafka (needs Java)"),
    pytest.mark.timeout(900),
]

OUTAGE_S = 15
KEPT_LOGS = Path(tempfile.gettempdir()) / "aiff-drill-logs"
UPSTREAM_RATE = 40
API_RATE = 8


@pytest.fixture
def system(tmp_path_factory: pytest.TempPathFactory):
    """A fresh, seeded system; stopped and deleted afterwards."""
    state = tmp_path_factory.mktemp("drill")
    state.chmod(0o755)
    drill = DrillSystem.allocate(state)
    try:
        drill.run("bash", STACK, "up")
        drill.run(BIN / "aiff", "db", "upgrade")
        drill.run(BIN / "aiff", "users", "create", "--username", "drill", "--password", "drill-pass-1", "--role", "admin")
        drill.run("bash", APP, "start")
        drill.run(BIN / "aiff", "seed", "--teams", "20", "--tickets", "30", "--days", "2", "--wait")
        yield drill
    finally:
        for script in (APP, STACK):
            try:
                drill.run("bash", script, "stop" if script == APP else "down", timeout=120)
            except AssertionError as exc:
                print(exc)
        for data in ("kafka", "postgres", "redis"):
            shutil.rmtree(state / data, ignore_errors=True)
        kept = KEPT_LOGS / time.strftime("%Y%m%d-%H%M%S")  # for a post-mortem (pytest rotates its temp dirs)
        shutil.copytree(state / "logs", kept, dirs_exist_ok=True)
        print(f"drill logs kept in {kept}")


async def _outage(system: DrillSystem, service: str, log: list[str]) -> None:
    await timed(f"{service} down", system.arun("bash", STACK, "down", service), log)
    await asyncio.sleep(OUTAGE_S)  # the outage itself: a duration, not a wait for a condition
    await timed(f"{service} up", system.arun("bash", STACK, "up", service), log)


async def test_broker_and_database_restarts_under_load_keep_every_promise(system: DrillSystem) -> None:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the load's own client, while the broker is down
    async with httpx.AsyncClient(base_url=system.api, timeout=10) as client:
        login = await client.post("/auth/login", json={"username": "drill", "password": "drill-pass-1"})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]

    ledger = Ledger()
    stop = asyncio.Event()
    log: list[str] = []
    load = [
        asyncio.create_task(upstream_load(system, ledger, stop, rate=UPSTREAM_RATE, first_id=7_000_000)),
        asyncio.create_task(api_load(system, token, ledger, stop, rate=API_RATE)),
    ]
    await asyncio.sleep(3)  # load before the first fault
    await _outage(system, "kafka", log)
    await asyncio.sleep(5)
    await _outage(system, "postgres", log)
    await asyncio.sleep(5)
    stop.set()
    await asyncio.gather(*load)
    summary = (f"{log}; statuses {ledger.statuses}; upstream acked {len(ledger.upstream_acked)}, not acked "
               f"{ledger.upstream_failed}; API created {len(ledger.api_created)}; transport errors {ledger.transport_errors}")  # fmt: skip
    print(summary)

    assert not ledger.server_errors, ledger.server_errors[:5]
    assert not ledger.unavailable_without_retry_after, ledger.unavailable_without_retry_after[:5]
    assert ledger.transport_errors == 0, summary
    assert len(ledger.upstream_acked) > UPSTREAM_RATE * 10, summary
    assert len(ledger.api_created) > API_RATE * 5, summary

    conn = await asyncpg.connect(system.database_url)
    try:
        wanted = sorted({*ledger.upstream_acked, *ledger.api_created})

        async def all_projected() -> bool:
            found = await conn.fetchval("SELECT count(*) FROM tickets WHERE id = ANY($1::bigint[])", wanted)
            return found == len(wanted)

        try:
            await wait_until(all_projected, timeout=180, interval=0.5, what="every acknowledged ticket in the read models")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {summary}; {await post_mortem(system, conn, ledger, wanted)}") from exc
        creations = await conn.fetch(
            """SELECT entity_id, count(*) AS n FROM event_history
               WHERE type = 'aiff.ticket.created.v1' AND entity_id = ANY($1::text[]) GROUP BY entity_id""",
            [str(t) for t in wanted],
        )
        assert {int(r["entity_id"]) for r in creations} == set(wanted)
        assert all(r["n"] == 1 for r in creations), [r for r in creations if r["n"] != 1][:5]
        upstream_events = await conn.fetchval(
            "SELECT count(*) FROM event_history WHERE event_id = ANY($1::uuid[])", list(ledger.upstream_acked.values())
        )
        assert upstream_events == len(ledger.upstream_acked)
        doubly_assigned = await conn.fetch(
            """SELECT ticket_id FROM assignments WHERE status IN ('assigned', 'in_progress')
               GROUP BY ticket_id HAVING count(*) > 1"""
        )
        assert not doubly_assigned
    finally:
        await conn.close()

    pids = system.worker_pids()
    assert all(pids.values()), {name: system.log_tail(name) for name, pid in pids.items() if not pid}
    await wait_until(
        lambda: asyncio.to_thread(lambda: (d := system.degraded()) and len(d) >= 5 and not any(d.values())),
        timeout=60, interval=0.5, what="every consumer reporting itself healthy again",
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=system.api, timeout=10) as client:
        health = await wait_until(
            lambda: _healthy(client), timeout=30, interval=0.5, what="/health green after the restarts"
        )
        assert health

    api_pid = int((system.state / "run" / "api.pid").read_text().strip())
    os.kill(api_pid, signal.SIGTERM)
    await wait_until(lambda: _async(not _alive(api_pid)), timeout=15, interval=0.2, what="the API to exit on SIGTERM")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def _async(value: object) -> object:
    return value


async def _healthy(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health")).status_code == 200
