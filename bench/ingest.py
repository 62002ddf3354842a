"""Ingest benchmark: upstream events -> projected in Postgres, against two bare baselines in the same run.

    .venv/bin/python bench/ingest.py [--events 200000] [--batch 5000]

1. publishes N ticket events (the demo generator's realistic mix) as an upstream producer would;
2. baseline A: a bare aiokafka consume loop over the same topic (no decoding, no database);
3. baseline B: bare asyncpg writes of the same rows the projector writes, 5k events per transaction: COPY of
   one history row per event, and COPY-into-temp + INSERT ... ON CONFLICT upsert of the ticket rows;
4. the projector (`aiff worker projector`, its own process) from the start of the log until caught up,
   sampling its resident memory.
Prints events/s for all three, the projector's ratio to the slower baseline (target >= 0.7), and its peak RSS.
Needs the local stack (`make stack`); works in its own schema and topic prefix, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aiff.demo import iter_ticket_events, setup_events  # noqa: E402
from aiff.events.producer import headers_for  # noqa: E402
from aiff.events.topics import Topics, delete_topics, end_offsets, ensure_topics  # noqa: E402
from aiff.events.tickets import TicketCreated  # noqa: E402
from aiff.projections import migrate  # noqa: E402
from aiff.settings import Settings  # noqa: E402


def events(n: int) -> list:
    out: list = []
    for chunk in iter_ticket_events(seed=7, teams=1500, tickets=max(1000, n // 4), days=90, chunk_size=20_000):
        out.extend(chunk)
        if len(out) >= n:
            break
    return out[:n]


async def publish(bootstrap: str, topic: str, evs: list) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                                max_batch_size=512 * 1024)  # fmt: skip
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, e.to_json(), key=e.key(), headers=headers_for(e)) for e in evs]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def bare_consume(bootstrap: str, topic: str, n: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"bench-{uuid.uuid4().hex[:6]}", enable_auto_commit=False,
                                max_poll_records=5000, fetch_max_bytes=64 * 1024 * 1024)  # fmt: skip
    await consumer.start()
    seen = 0
    started = None
    try:
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if started is None and batch:
                started = time.perf_counter()
            seen += sum(len(v) for v in batch.values())
    finally:
        await consumer.stop()
    return time.perf_counter() - (started or time.perf_counter())


HISTORY = ("event_id", "entity_type", "entity_id", "type", "time", "source", "correlation_id", "topic", "partition",
           "offset", "event")  # fmt: skip


def history_rows(evs: list) -> list[tuple]:
    return [(e.id, "ticket", e.subject, e.type, e.time, e.source, e.correlationid, "bench", 0, i, e.to_json().decode())
            for i, e in enumerate(evs)]  # fmt: skip


def ticket_rows(evs: list) -> list[tuple]:
    """One full ticket row per event (the created row with the event's status), as a bare writer would upsert."""
    created: dict[int, tuple] = {}
    rows = []
    for e in evs:
        d = e.data
        if isinstance(e, TicketCreated):
            created[d.ticket_id] = (d.ticket_id, d.ticket_number or f"TKT-{d.ticket_id}", d.title, d.description,
                                    d.priority, "open", d.category, d.zone, d.location, d.latitude, d.longitude,
                                    e.time, e.time, d.due_date)  # fmt: skip
        base = created.get(d.ticket_id)
        if base is None:
            continue
        status = getattr(d, "status", None) or ("assigned" if e.type.endswith("assigned.v1") else base[5])
        rows.append(base[:5] + (status,) + base[6:12] + (e.time,) + base[13:])
    return rows


COLS = ("id", "ticket_number", "title", "description", "priority", "status", "category", "zone", "location",
        "latitude", "longitude", "created_at", "updated_at", "due_date")  # fmt: skip


async def bare_copy_upsert(dsn: str, rows: list[tuple], history: list[tuple], batch: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TEMP TABLE tmp_bench (LIKE tickets INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cols = ", ".join(COLS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLS if c != "id")
        upsert = (f"INSERT INTO tickets ({cols}) SELECT DISTINCT ON (id) {cols} FROM tmp_bench ORDER BY id, ctid DESC "
                  f"ON CONFLICT (id) DO UPDATE SET {updates}")  # fmt: skip
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            async with conn.transaction():
                await conn.copy_records_to_table("event_history", records=history[i : i + batch], columns=HISTORY)
                await conn.copy_records_to_table("tmp_bench", records=rows[i : i + batch], columns=COLS)
                await conn.execute(upsert)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def projector_run(
    settings: Settings, n_records: int, batch: int, instances: int, source: Path | None = None
) -> tuple[float, int]:
    """Run `instances` projector processes (one consumer group) from offset 0 until caught up; (seconds, peak RSS).
    `source`: run the package from that source tree (another commit's projector) instead of this one."""
    env = {**os.environ, "DATABASE_URL": settings.database_url, "AIFF_TOPIC_PREFIX": settings.topic_prefix,
           "AIFF_PROJECTOR_BATCH_SIZE": str(batch), "AIFF_WORKER_METRICS_PORT": "0"}  # fmt: skip
    if source is not None:
        env["PYTHONPATH"] = str(source)
    logs = [tempfile.TemporaryFile() for _ in range(instances)]  # a file, not a pipe nobody reads (it would fill)
    procs = [subprocess.Popen([sys.executable, "-m", "aiff.cli", "worker", "projector"], env=env,
                              stdout=subprocess.DEVNULL, stderr=log) for log in logs]  # fmt: skip
    watched = [psutil.Process(p.pid) for p in procs]
    peak = 0
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    started = None
    try:
        while True:
            peak = max(peak, *(w.memory_info().rss for w in watched))
            done = await conn.fetchval("SELECT coalesce(sum(next_offset), 0) FROM projection_positions WHERE projection = 'projector'")
            if started is None and done > 0:
                started = time.perf_counter()
            if done >= n_records:
                return time.perf_counter() - (started or time.perf_counter()), peak
            for p in procs:
                if p.poll() is not None:
                    log = logs[procs.index(p)]
                    log.seek(0)
                    raise RuntimeError(f"projector exited: {log.read().decode(errors='replace')[-2000:]}")
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


BASELINE_REV = "6e92f7cf6308d50570f99ffbb093669e9fc1bfee"
"""The last commit whose consumers ran on the hand-written aiokafka loop: FastStream must stay within 10% of it."""


def checkout_source(rev: str, into: Path) -> Path:
    """`src/` of commit `rev`, extracted into `into` (git archive: no work tree is touched); returns its path."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


async def reset_projection(settings: Settings) -> None:
    """Empty the projector's tables and positions, so the next run rebuilds from offset 0."""
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        await conn.execute("TRUNCATE tickets, teams, assignments, event_history, projection_positions")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--instances", type=int, default=2, help="also measure N projector processes in one group")
    parser.add_argument("--baseline-rev", default=BASELINE_REV,
                        help="also run this commit's projector on the same log (default: the last one on the bare aiokafka "
                             "loop, before FastStream); '' skips it")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, help="rounds of (projector, baseline projector); medians")
    args = parser.parse_args()
    base = Settings()
    name = f"bench{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base.asyncpg_dsn)
    await admin.execute(f"CREATE SCHEMA {name}")
    await admin.execute(f"CREATE SCHEMA {name}_bare")
    url = f"{base.database_url}?search_path={name}"
    bare_url = f"{base.database_url}?search_path={name}_bare"
    await asyncio.to_thread(migrate.upgrade, url)
    await asyncio.to_thread(migrate.upgrade, bare_url)
    settings = base.model_copy(update={"database_url": url, "topic_prefix": name})
    topics = Topics(name)
    await ensure_topics(base.kafka_bootstrap_servers, topics, base.topic_partitions)
    try:
        print(f"generating {args.events:,} ticket events…", file=sys.stderr)
        evs = events(args.events)
        # The teams first, as in a real system: an assignment to a team the projector does not know is refused.
        teams = setup_events(seed=7, teams=1500, days=90)
        await publish(base.kafka_bootstrap_servers, topics.teams, [e for e in teams if e.topic_kind == "teams"])
        pub = await publish(base.kafka_bootstrap_servers, topics.tickets, evs)
        print(f"published {len(evs):,} events in {pub:.1f}s ({len(evs) / pub:,.0f}/s)", file=sys.stderr)
        n_records = sum((await end_offsets(base.kafka_bootstrap_servers, [topics.tickets])).values())
        n_all = sum((await end_offsets(base.kafka_bootstrap_servers, [topics.tickets, topics.teams])).values())

        print("baseline A: bare aiokafka consume loop…", file=sys.stderr)
        t_consume = await bare_consume(base.kafka_bootstrap_servers, topics.tickets, n_records)
        print("baseline B: bare asyncpg COPY-upsert…", file=sys.stderr)
        rows = ticket_rows(evs)
        t_copy = await bare_copy_upsert(settings.asyncpg_dsn.replace(name, f"{name}_bare"), rows, history_rows(evs), args.batch)
        # This projector and the baseline commit's, alternately, `--repeat` times each: the median of each.
        runs: list[float] = []
        base_runs: list[float] = []
        peak = 0
        with tempfile.TemporaryDirectory() as tree:
            source = checkout_source(args.baseline_rev, Path(tree)) if args.baseline_rev else None
            for round_ in range(1, args.repeat + 1):
                print(f"projector: one `aiff worker projector` from the start of the log (round {round_})…", file=sys.stderr)
                await reset_projection(settings)
                seconds, peak_run = await projector_run(settings, n_all, args.batch, 1)
                runs.append(seconds)
                peak = max(peak, peak_run)
                if source is not None:
                    print(f"baseline projector: commit {args.baseline_rev[:10]}, from offset 0 (round {round_})…", file=sys.stderr)
                    await reset_projection(settings)
                    base_runs.append((await projector_run(settings, n_all, args.batch, 1, source))[0])
        t_proj = statistics.median(runs)
        t_base = statistics.median(base_runs) if base_runs else None
        t_multi = None
        if args.instances > 1:
            print(f"projector: {args.instances} instances in one consumer group, rebuilt from offset 0…", file=sys.stderr)
            await reset_projection(settings)
            t_multi, peak_multi = await projector_run(settings, n_all, args.batch, args.instances)
    finally:
        await admin.execute(f"DROP SCHEMA {name} CASCADE")
        await admin.execute(f"DROP SCHEMA {name}_bare CASCADE")
        await admin.close()
        await delete_topics(base.kafka_bootstrap_servers, topics)

    rate_consume, rate_copy, rate_proj = n_records / t_consume, len(rows) / t_copy, n_records / t_proj
    slower = min(rate_consume, rate_copy)
    print()
    print(f"{'pipeline':<44}{'events':>10}{'seconds':>10}{'events/s':>12}")
    print(f"{'baseline A: bare aiokafka consume loop':<44}{n_records:>10,}{t_consume:>10.2f}{rate_consume:>12,.0f}")
    print(f"{'baseline B: bare asyncpg COPY (history+tickets)':<44}{len(rows):>10,}{t_copy:>10.2f}{rate_copy:>12,.0f}")
    print(f"{'projector (decode+fold+history+rows+offsets)':<44}{n_records:>10,}{t_proj:>10.2f}{rate_proj:>12,.0f}")
    if len(runs) > 1:
        print(f"  rounds: projector {', '.join(f'{n_records / r:,.0f}' for r in runs)} ev/s; baseline "
              f"{', '.join(f'{n_records / r:,.0f}' for r in base_runs)} ev/s")  # fmt: skip
    if t_base:
        print(f"{f'projector at {args.baseline_rev[:10]} (bare aiokafka)':<44}{n_records:>10,}{t_base:>10.2f}{n_records / t_base:>12,.0f}")
    if t_multi:
        print(f"{f'projector x{args.instances} instances (one group)':<44}{n_records:>10,}{t_multi:>10.2f}{n_records / t_multi:>12,.0f}")
    if t_base:
        versus = rate_proj / (n_records / t_base)
        print(f"\nprojector / previous projector ({args.baseline_rev[:10]}) = {versus:.2f}  "
              f"(target >= 0.90: {'PASS' if versus >= 0.9 else 'FAIL'})")  # fmt: skip
    ratio = rate_proj / slower
    print(f"\nprojector / slower baseline = {ratio:.2f}  (target >= 0.70: {'PASS' if ratio >= 0.7 else 'FAIL'})")
    if t_multi:
        multi = n_records / t_multi / slower
        print(f"projector x{args.instances} / slower baseline = {multi:.2f}  (target >= 0.70: {'PASS' if multi >= 0.7 else 'FAIL'})")
    print(f"projector peak RSS = {peak / 2**20:.0f} MiB per process (batch {args.batch:,}; bounded by the batch, not by N)")


if __name__ == "__main__":
    asyncio.run(main())
