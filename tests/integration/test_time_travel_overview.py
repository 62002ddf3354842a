"""Time travel of the analytics overview on the real stack: `GET /analytics/overview?as_of=` equals what the
analytics consumer's own read models answer after a replay of the log cut at that instant — backlog and team
utilisation at the instant, the day counters through the last whole Malaysian day before it."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from aiff.analytics import queries, store
from aiff.analytics.metrics import day_of
from aiff.api.asof import board_as_of
from aiff.bootstrap import Resources
from aiff.consumers import analytics as analytics_consumer
from aiff.consumers import projector
from aiff.events.registry import decode
from aiff.projections import snapshots, writer
from aiff.projections.projector import Record, project_batch
from aiff.settings import Settings
from tests.helpers import isolated_settings, projection_caught_up, running, wait_until
from tests.integration.test_time_travel import read_log
from tests.integration.upstream import T0, Upstream, status_changed, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration

BURST = 1500.0  # minutes after T0 (day 3 in Malaysia): 30 tickets created 10 ms apart
ZONES = ("Selangor", "Johor", "Sabah")


def history() -> tuple[list[dict], list[dict]]:
    """Tickets over three Malaysian days (T0 is 16:00 there; a day ends every 480 + k·1440 minutes)."""
    ev = []
    for i in range(1, 61):
        m = i * 35
        ev.append(ticket_created(i, minutes=m, zone=ZONES[i % 3], priority=("low", "medium", "high", "critical")[i % 4]))
        if i % 3 != 0:
            ev.append(ticket_assigned(i, 1 + i % 3, minutes=m + 10))
            if i % 2 == 0:
                ev.append(status_changed(i, "in_progress", minutes=m + 40))
                if i % 4 == 0:
                    ev.append(status_changed(i, "completed", minutes=m + 200 + 100 * (i % 5), rating=3 + i % 3))
                    if i % 8 == 0:
                        ev.append(status_changed(i, "reopened", minutes=m + 900))
        if i % 7 == 0:
            ev.append(status_changed(i, "cancelled", minutes=m + 60))
    for k in range(30):
        ev.append(ticket_created(201 + k, minutes=BURST + k * 10 / 60_000, zone=ZONES[k % 3], priority="critical"))
        if k % 2 == 0:
            ev.append(ticket_assigned(201 + k, 3, minutes=BURST + (k + 0.5) * 10 / 60_000))
    return sorted(ev, key=lambda e: e["time"]), [team_created(1, capacity=2), team_created(2, capacity=3), team_created(3, zone="Johor")]


async def replay_cut(conn: asyncpg.Connection, records: list[Record], at) -> None:
    """The projector's and then the analytics consumer's own batch code over the log cut at `at`."""
    cut = [r for r in records if decode(r.value).time <= at and decode(r.value).type != "aiff.team.metrics_updated.v1"]
    async with conn.transaction():
        await conn.execute(
            "TRUNCATE tickets, teams, assignments, event_history, analytics_ticket_facts, analytics_team_facts, "
            "team_daily_stats, zone_daily_stats, analytics_team_metrics"
        )
        await project_batch(conn, cut)
        # What `accepted_events` keeps (the records the projector applied, at their log position), without its
        # wait for the projector's stored positions (project_batch alone stores none).
        applied = {(r["topic"], r["partition"], r["offset"]) for r in await conn.fetch('SELECT topic, partition, "offset" FROM event_history')}
        events = [decode(r.value) for r in cut if (r.topic, r.partition, r.offset) in applied]
        await analytics_consumer.analytics_batch(conn, events)


async def consumer_overview(conn: asyncpg.Connection, at) -> dict[str, Any]:
    """The overview from the consumer's tables (facts, daily counters, team facts) as they are after the cut."""
    last = day_of(at) - timedelta(days=1)
    metrics = (await store.compute_team_metrics(conn)).values()
    util = [m.utilization for m in metrics]
    teams = {
        "teams": len(util), "mean_utilization": sum(util) / len(util) if util else 0.0,
        "at_capacity": sum(1 for u in util if u >= 100), "open_assigned": sum(m.open_tickets for m in metrics),
    }  # fmt: skip
    return {
        "as_of": at.isoformat(), "counters_through": last.isoformat(), "today": None,
        "last_7_days": {"from": (last - timedelta(days=6)).isoformat(), "to": last.isoformat(),
                        **queries._summary(await queries.zone_sums(conn, last - timedelta(days=6), last))},
        "all_time": queries._summary(await queries.zone_sums(conn, T0.date() - timedelta(days=30), last)),
        **queries._backlog_and_teams(await queries.backlog(conn, at=at), teams),
    }  # fmt: skip


async def test_overview_as_of_equals_the_consumers_replay_cut_at_the_instant(resources: Resources, stack_settings: Settings) -> None:
    t = resources.topics
    tickets, teams = history()
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        async with running(projector.build(resources), analytics_consumer.build(resources)):
            await up.send(t.teams, teams)
            await up.send(t.tickets, tickets)
            ends = await up.end_offsets(t.domain)
            async with resources.pool.acquire() as conn:
                await wait_until(lambda: projection_caught_up(conn, "analytics", ends), timeout=60, what="the analytics consumer")
                ends = await up.end_offsets(t.domain)  # with the metrics it published
                await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
    async with resources.pool.acquire() as conn:
        assert await snapshots.take(conn, now=T0 + timedelta(days=5), min_events=20, every=timedelta(hours=1)) >= 3
        snaps = [r["at"] for r in await conn.fetch("SELECT at FROM board_snapshots ORDER BY at")]
    records = await read_log(resources.settings, t.domain)
    instants = [
        T0 + timedelta(minutes=300),  # day 1: no whole day yet
        T0 + timedelta(minutes=480),  # exactly midnight in Malaysia: day 1 is whole
        snaps[2],
        T0 + timedelta(minutes=BURST - 1),  # just before the burst
        T0 + timedelta(minutes=BURST + 14.5 * 10 / 60_000),  # inside the burst
        T0 + timedelta(days=4),  # after everything
    ]
    async with isolated_settings(stack_settings) as ref_settings:
        ref = await asyncpg.connect(ref_settings.asyncpg_dsn)
        try:
            await writer.prepare_connection(ref)
            async with resources.pool.acquire() as conn:
                for at in instants:
                    await replay_cut(ref, records, at)
                    expected = await consumer_overview(ref, at)
                    expected["teams"]["mean_utilization"] = round(expected["teams"]["mean_utilization"], 2)
                    started = time.perf_counter()
                    async with board_as_of(conn, at):
                        got = await queries.overview_as_of(conn, at)
                    elapsed = time.perf_counter() - started
                    assert got == expected, at
                    assert elapsed < 1.0, (at, elapsed)
                    if at == instants[4]:
                        assert got["backlog"]["critical"] - expected_before_burst == 15, "a cut inside the burst"
                    if at == instants[3]:
                        expected_before_burst = got["backlog"]["critical"]
        finally:
            await ref.close()
    assert got["backlog"]["open"] > 0 and got["all_time"]["completed"] > 0 and got["last_7_days"]["created"] > 0
