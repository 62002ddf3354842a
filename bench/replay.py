"""Replay benchmark: `aiff replay` (shadow rebuild + swap) against live ingest measured in the same run, `--verify`,
and time-travel latency.

    .venv/bin/python bench/replay.py [--events 200000] [--seeded/--no-seeded] [--plan-days 0]

For the seeded demo data (`aiff seed`'s defaults: 150 teams, 1,000 tickets, 90 days) and for a generated log of
`--events` ticket events (the demo generator's mix, as bench/ingest.py), in a schema and topic prefix of its own:
1. publishes the events, then times the live projector (the `aiff worker projector` consumer, in-process) applying
   the log from offset 0 (from its first applied batch: the consumer-group join is not ingest);
2. with that projector still running, times the replay into shadow tables and the swap;
3. runs the replay with `--verify` (zero differences expected);
4. takes the time-travel snapshots and times `GET /tickets`'s query `as_of` several instants of the last 90 days,
   one of them inside the busiest minute; and, on the same board, `GET /plans`'s and `GET /analytics/overview`'s
   queries `as_of` (the board copied once more for each, as a request does). The demo log has no plans (the routes
   planner makes them live): `--plan-days N` adds to the seeded log a planned day of 6 visits for every team on
   each of the last N days (the board keeps every team-day's latest plan; a plans read copies only its day's).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aiff.analytics import queries  # noqa: E402
from aiff.api.asof import board_as_of, on_board  # noqa: E402
from aiff.api.routers.plans import _day, _plans  # noqa: E402
from aiff.bootstrap import open_resources  # noqa: E402
from aiff.consumers import projector  # noqa: E402
from aiff.demo import iter_ticket_events, setup_events  # noqa: E402
from aiff.events.plans import PlanUpdated  # noqa: E402
from aiff.events.teams import TeamCreated, team_event  # noqa: E402
from aiff.events.topics import delete_topics, end_offsets, leaders_elected  # noqa: E402
from aiff.projections import migrate, snapshots  # noqa: E402
from aiff.settings import Settings  # noqa: E402
from aiff.tools.replay import replay  # noqa: E402

LIST_SQL = "SELECT * FROM tickets ORDER BY created_at DESC, id DESC LIMIT 20"


async def applied(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT coalesce(sum(next_offset), 0)::bigint FROM projection_positions WHERE projection = 'projector'")


async def run(base: Settings, label: str, setup: list, chunks) -> None:
    name = f"bench_replay_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(base.asyncpg_dsn)
    await admin.execute(f"CREATE SCHEMA {name}")
    url = f"{base.database_url}{'&' if '?' in base.database_url else '?'}search_path={name}"
    await asyncio.to_thread(migrate.upgrade, url)
    settings = base.model_copy(update={"database_url": url, "topic_prefix": name})
    try:
        async with open_resources(settings) as res:
            await leaders_elected(settings.kafka_bootstrap_servers, res.topics.domain, settings.topic_partitions)
            await res.publisher.publish_many(setup)
            n = len(setup)
            for chunk in chunks:
                await res.publisher.publish_many(chunk)
                n += len(chunk)
            total = sum((await end_offsets(settings.kafka_bootstrap_servers, res.topics.domain)).values())
            print(f"\n== {label}: {n:,} events published ({total:,} records)")
            stop = asyncio.Event()
            consumer = projector.build(res)
            task = asyncio.create_task(consumer.run(stop))
            try:
                await asyncio.wait_for(consumer.ready.wait(), 120)  # partitions assigned: ingest starts here
                started, before = time.perf_counter(), await applied(res.pool)
                deadline = time.monotonic() + 600
                while (done := await applied(res.pool)) < total:
                    if time.monotonic() > deadline or task.done():
                        raise RuntimeError(f"the projector applied {done:,}/{total:,} records in 600s")
                    await asyncio.sleep(0.02)
                live_s = time.perf_counter() - started
                live_rate = (total - before) / live_s
                print(f"live ingest (projector consumer, from its partition assignment): {total - before:,} records in {live_s:.2f}s "
                      f"= {live_rate:,.0f}/s")  # fmt: skip
                code, fig = await replay(settings)
                print(f"replay (shadow + swap, live projector running): {fig['records']:,.0f} records in {fig['seconds']:.2f}s "
                      f"= {fig['rate']:,.0f}/s  ({fig['rate'] / live_rate:.2f}x live); projector held {fig['held_s'] * 1000:.0f} ms at the swap; "
                      f"exit {code}")  # fmt: skip
                code, fig = await replay(settings, verify=True)
                print(f"replay --verify: exit {code} ({'zero differences' if code == 0 else 'DIFFERENCES'}), {fig['rate']:,.0f}/s")
            finally:
                stop.set()
                await task
            async with res.pool.acquire() as conn:
                started = time.perf_counter()
                await conn.execute("DELETE FROM board_snapshots")
                stored = await snapshots.take(conn)
                size = await conn.fetchval("SELECT coalesce(sum(length(state)), 0) FROM board_snapshots")
                print(f"snapshots: {stored} taken in {time.perf_counter() - started:.2f}s, {size / 1e6:.1f} MB compressed")
                busiest = await conn.fetchval(
                    "SELECT date_trunc('minute', time) FROM event_history WHERE entity_type = 'ticket' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
                )
                now = datetime.now(UTC)
                instants = [now - timedelta(days=d) for d in (89, 60, 30, 7, 1)] + [now - timedelta(hours=1), busiest + timedelta(seconds=30)]
                for at in instants:
                    times = []
                    for _ in range(3):
                        started = time.perf_counter()
                        async with board_as_of(conn, at):
                            rows = await conn.fetch(on_board(LIST_SQL))
                            count = await conn.fetchval("SELECT count(*) FROM pg_temp.tickets")
                        times.append(time.perf_counter() - started)
                    print(f"  as_of {at.isoformat(timespec='seconds')}: {count:>7,} tickets, first page {len(rows)} rows, "
                          f"median {statistics.median(times) * 1000:.0f} ms (max {max(times) * 1000:.0f} ms)")  # fmt: skip
                    plan_times, overview_times = [], []
                    for _ in range(3):
                        started = time.perf_counter()
                        async with board_as_of(conn, at, plan_day=_day(None, at)):
                            _, total = await _plans(conn, _day(None, at), {}, 1, 20, at)
                        plan_times.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        async with board_as_of(conn, at):
                            kpis = await queries.overview_as_of(conn, at)
                        overview_times.append(time.perf_counter() - started)
                    print(f"    /plans as_of: {total} plans that day, median {statistics.median(plan_times) * 1000:.0f} ms "
                          f"(max {max(plan_times) * 1000:.0f} ms); /analytics/overview as_of: backlog {kpis['backlog']['open']:,}, "
                          f"median {statistics.median(overview_times) * 1000:.0f} ms (max {max(overview_times) * 1000:.0f} ms)")  # fmt: skip
        await delete_topics(settings.kafka_bootstrap_servers, res.topics)
    finally:
        await admin.execute(f"DROP SCHEMA {name} CASCADE")
        await admin.close()


def generated(n: int):
    left = n
    for chunk in iter_ticket_events(seed=7, teams=1500, tickets=max(1000, n // 4), days=90, chunk_size=20_000):
        yield chunk[:left]
        left -= len(chunk[:left])
        if left <= 0:
            return


def planned_days(setup: list, days: int) -> list:
    """A plan of 6 visits for every team on each of the last `days` Malaysian days, made the evening before."""
    myt = timedelta(hours=8)
    today = (datetime.now(UTC) + myt).date()
    out = []
    for team_id in [e.data.team_id for e in setup if isinstance(e, TeamCreated)]:
        for d in range(days, 0, -1):
            day = today - timedelta(days=d)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=1)  # 09:00 in Malaysia
            visits = [{"ticket_id": 1 + (team_id * 7 + d * 3 + n) % 1000, "sequence": n, "eta": start + timedelta(hours=n),
                       "planned_start": start + timedelta(hours=n, minutes=5), "planned_end": start + timedelta(hours=n, minutes=50),
                       "travel_minutes": 12, "travel_km": 8} for n in range(1, 7)]  # fmt: skip
            data = {"team_id": team_id, "plan_date": day, "revision": 1, "strategy": "route", "visits": visits,
                    "totals": {"drive_minutes": 72, "drive_km": 48}}  # fmt: skip
            out.append(team_event(PlanUpdated, data, time=start - timedelta(hours=12)))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--no-seeded", action="store_true")
    parser.add_argument("--plan-days", type=int, default=0, help="Add a planned day per team for each of the last N days (seeded log).")
    args = parser.parse_args()
    try:
        await _main(args)
    except BaseException:
        import traceback

        traceback.print_exc()
        raise


async def _main(args: argparse.Namespace) -> None:
    gc.disable()  # as `aiff worker` (the consumers collect every few batches), for both sides alike
    base = Settings()
    if not args.no_seeded:
        setup = setup_events(seed=42, teams=150, days=90)
        chunks = iter_ticket_events(seed=42, teams=150, tickets=1000, days=90)
        label = "seeded demo data (seed 42, 150 teams, 1,000 tickets, 90 days)"
        if args.plan_days:
            chunks = [*chunks, planned_days(setup, args.plan_days)]
            label += f" + a planned day per team for the last {args.plan_days} days"
        await run(base, label, setup, chunks)
    if args.events:
        await run(base, f"generated log of {args.events:,} ticket events", setup_events(seed=7, teams=1500, days=90), generated(args.events))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException:
        import traceback

        traceback.print_exc()
        raise
