"""API benchmark: filtered/paged `GET /tickets` and `GET /tickets/{id}` at a paced rate vs a bare asyncpg loop.

Run against a running API with seeded data (`make up`, or `aiff api` + `aiff worker projector` + `aiff seed --wait`):

    .venv/bin/python bench/api.py --url http://127.0.0.1:8085 --username admin --password '...'

Without credentials it creates a throw-away analyst user directly in the users table (needs DATABASE_URL).
Target (DESIGN.md): p99 < 20 ms at 200 req/s. The baseline runs the same SQL with asyncpg, same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import aiohttp
import asyncpg

from aiff.api.security import create_access_token
from aiff.settings import get_settings
from aiff.tools.users import create_user

ZONES_SQL = "SELECT DISTINCT zone FROM tickets WHERE zone IS NOT NULL"
STATUSES = ("open", "assigned", "in_progress", "completed", "closed")
LIST_SQL = (
    "SELECT * FROM tickets WHERE zone = $1 AND status = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
)
COUNT_SQL = "SELECT count(*) FROM tickets WHERE zone = $1 AND status = $2"
ONE_SQL = "SELECT * FROM tickets WHERE id = $1"
ASSIGNMENT_SQL = (
    "SELECT * FROM assignments WHERE ticket_id = $1 AND status IN ('assigned', 'in_progress') ORDER BY assigned_at DESC LIMIT 1"
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def paced(total: int, rate: float, concurrency: int, call: Callable[[int], Awaitable[None]]) -> tuple[float, list[float], int]:
    """Issue `total` calls at `rate`/s with at most `concurrency` in flight; latency measured from the scheduled time."""
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        async with sem:
            t0 = time.perf_counter()
            try:
                await call(i)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                errors += 1
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(one(i) for i in range(total)))
    return time.perf_counter() - start, latencies, errors


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8085")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args()
    settings = get_settings()
    pool = await asyncpg.create_pool(settings.asyncpg_dsn, min_size=args.concurrency, max_size=args.concurrency)
    async with pool.acquire() as conn:
        zones = [r["zone"] for r in await conn.fetch(ZONES_SQL)]
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM tickets ORDER BY random() LIMIT 2000")]
        if args.username:
            headers = {}
        else:
            name = f"bench{uuid.uuid4().hex[:8]}"
            user_id = await create_user(conn, username=name, password=uuid.uuid4().hex, role="analyst")
            token, _ = create_access_token(settings, user_id=user_id, username=name, role="analyst", team_id=None)
            headers = {"Authorization": f"Bearer {token}"}
    if not ids or not zones:
        raise SystemExit("no tickets in the database: seed first (`aiff seed --wait`)")
    # aiohttp: httpx's client cost more CPU per request than the API it measured, on the same 2 cores.
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(args.url, connector=connector, timeout=timeout) as client:
        if args.username:
            async with client.post("/auth/login", json={"username": args.username, "password": args.password}) as r:
                r.raise_for_status()
                headers = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
        rng = random.Random(7)
        plan = [
            ("list", rng.choice(zones), rng.choice(STATUSES), rng.randint(1, 3)) if i % 2 == 0 else ("one", rng.choice(ids))
            for i in range(args.requests)
        ]

        async def api_call(i: int) -> None:
            step = plan[i]
            if step[0] == "list":
                params = {"zone": step[1], "status": step[2], "page": str(step[3]), "limit": "20"}
                request = client.get("/tickets", params=params, headers=headers)
            else:
                request = client.get(f"/tickets/{step[1]}", headers=headers)
            async with request as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(r.status)

        async def sql_call(i: int) -> None:
            step = plan[i]
            async with pool.acquire() as conn:
                if step[0] == "list":
                    await conn.fetchval(COUNT_SQL, step[1], step[2])
                    await conn.fetch(LIST_SQL, step[1], step[2], 20, (step[3] - 1) * 20)
                else:
                    await conn.fetchrow(ONE_SQL, step[1])
                    await conn.fetchrow(ASSIGNMENT_SQL, step[1])

        await paced(min(200, args.requests), args.rate, args.concurrency, api_call)  # warm-up
        rows = []
        for name, call in (("API (HTTP)", api_call), ("bare asyncpg", sql_call)):
            elapsed, lat, errors = await paced(args.requests, args.rate, args.concurrency, call)
            rows.append((name, len(lat) / elapsed, percentile(lat, 50) * 1000, percentile(lat, 99) * 1000, statistics.fmean(lat) * 1000, errors))
    await pool.close()
    print(f"\n{args.requests} requests (half GET /tickets?zone&status&page, half GET /tickets/{{id}}), "
          f"target {args.rate:.0f} req/s, concurrency {args.concurrency}, {len(ids)} ids, {len(zones)} zones")  # fmt: skip
    print(f"{'':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'errors':>7}")
    for name, rps, p50, p99, mean, errors in rows:
        print(f"{name:14} {rps:8.1f} {p50:8.2f} {p99:8.2f} {mean:8.2f} {errors:7d}")
    api, base = rows[0], rows[1]
    print(f"ratio API/asyncpg: p50 {api[2] / base[2]:.1f}x, p99 {api[3] / base[3]:.1f}x; target p99 < 20 ms: "
          f"{'MET' if api[3] < 20 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
