"""Time travel of the team plans on the real stack: `plans`/`plan_visits` and the plans API's own query `as_of` an
instant equal the projector's replay of the log cut there — between snapshots, on one, inside a burst of
re-plans milliseconds apart, and with a late older revision that must not roll a day back."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from aiff.api.asof import board_as_of
from aiff.api.routers.plans import _plans
from aiff.bootstrap import Resources
from aiff.consumers import projector
from aiff.events.registry import decode
from aiff.projections import snapshots, writer
from aiff.projections.projector import Record, project_batch
from aiff.settings import Settings
from tests.helpers import isolated_settings, projection_caught_up, running, wait_until
from tests.integration.test_time_travel import read_log
from tests.integration.upstream import T0, Upstream, cloud_event, status_changed, team_created, ticket_created

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 1)
BURST = 400.0  # minutes after T0: team 3 re-planned 20 times, 10 ms apart


def plan_updated(team_id: int, revision: int, tickets: list[int], *, minutes: float, day: date = DAY) -> dict[str, Any]:
    start = T0 + timedelta(hours=2)
    visits = [
        {"ticket_id": tid, "sequence": n, "eta": (start + timedelta(minutes=60 * n)).isoformat(),
         "planned_start": (start + timedelta(minutes=60 * n + 5)).isoformat(),
         "planned_end": (start + timedelta(minutes=60 * n + 50)).isoformat(), "travel_minutes": 5 + n, "travel_km": 3.5,
         "pinned": n == 1, "explanation": {"churn": "kept", "summary": f"rev {revision}"} if n % 2 else None}
        for n, tid in enumerate(tickets, start=1)
    ]  # fmt: skip
    data = {"team_id": team_id, "plan_date": day.isoformat(), "revision": revision, "strategy": "route", "visits": visits,
            "totals": {"drive_minutes": 10.0 * revision, "drive_km": 4.0 * revision},
            "unserved": [{"ticket_id": 99, "code": "outranked"}] if revision % 2 else [], "reason": f"revision {revision}"}  # fmt: skip
    return cloud_event("aiff.plan.updated.v1", str(team_id), data, minutes=minutes)


def history() -> tuple[list[dict], list[dict]]:
    """(ticket events, team events) in time order."""
    tickets = [ticket_created(i, minutes=i * 5) for i in range(1, 25)]
    tickets += [status_changed(3, "in_progress", minutes=130), status_changed(3, "completed", minutes=250, rating=5)]
    teams = [team_created(n) for n in (1, 2, 3)]
    for rev in range(1, 13):  # team 1: a re-plan every 20 min, its visits rotate
        teams.append(plan_updated(1, rev, [1 + (rev + k) % 8 for k in range(3)], minutes=rev * 20))
    for rev in range(1, 7):  # team 2: every 45 min, a growing day
        teams.append(plan_updated(2, rev, list(range(10, 10 + rev)), minutes=rev * 45 + 3))
    teams.append(plan_updated(2, 2, [20], minutes=300))  # late and older than the applied revision: ignored
    teams.append(plan_updated(1, 1, [5, 6], minutes=150, day=DAY + timedelta(days=1)))  # another day: not in DAY's answers
    for k in range(20):
        teams.append(plan_updated(3, k + 1, [17 + k % 5, 22], minutes=BURST + k * 10 / 60_000))
    return sorted(tickets, key=lambda e: e["time"]), sorted(teams, key=lambda e: e["time"])


async def replay_cut(conn: asyncpg.Connection, records: list[Record], at) -> None:
    """The projector's own batch code over the log records whose event time is at or before `at`, in log order."""
    cut = [r for r in records if decode(r.value).time <= at]
    async with conn.transaction():
        await conn.execute("TRUNCATE tickets, teams, assignments, event_history, plans, plan_visits, team_positions")
        await project_batch(conn, cut)


PLANS = "SELECT * FROM {}plans WHERE plan_date = '2026-11-01' ORDER BY team_id"
VISITS = "SELECT * FROM {}plan_visits WHERE plan_date = '2026-11-01' ORDER BY team_id, sequence"


async def tables(conn: asyncpg.Connection, prefix: str = "") -> list[list[dict]]:
    return [[dict(r) for r in await conn.fetch(q.format(prefix))] for q in (PLANS, VISITS)]


async def api_answer(conn: asyncpg.Connection, at=None) -> list[tuple]:
    """What GET /plans (page 1 and a page of one) and GET /auth/teams/2/plan answer, through the router's code."""
    everything, total = await _plans(conn, DAY, {}, 1, 100, at)
    second, _ = await _plans(conn, DAY, {}, 2, 1, at)
    team2, _ = await _plans(conn, DAY, {"p.team_id": 2}, 1, 1, at)
    return [total, [p.model_dump() for p in everything], [p.model_dump() for p in second], [p.model_dump() for p in team2]]


async def test_plans_as_of_equal_the_log_replayed_up_to_the_instant(resources: Resources, stack_settings: Settings) -> None:
    t = resources.topics
    ticket_events, team_events = history()
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up, running(projector.build(resources)):
        await up.send(t.teams, team_events[:3])
        await up.send(t.tickets, ticket_events)
        await up.send(t.teams, team_events[3:])
        ends = await up.end_offsets(t.domain)
        async with resources.pool.acquire() as conn:
            await wait_until(lambda: projection_caught_up(conn, "projector", ends), timeout=60, what="the projector")
    async with resources.pool.acquire() as conn:
        assert await snapshots.take(conn, now=T0 + timedelta(days=2), min_events=10, every=timedelta(hours=1)) >= 3
        snaps = [r["at"] for r in await conn.fetch("SELECT at FROM board_snapshots ORDER BY at")]
        live = await tables(conn)
    records = await read_log(resources.settings, t.domain)
    instants = [
        T0 - timedelta(minutes=1),  # before any plan
        T0 + timedelta(minutes=60),  # exactly on team 1's revision 3
        T0 + timedelta(minutes=137),  # team 1 rev 6, team 2 rev 2, ticket 3 in progress
        snaps[1],
        snaps[2] + timedelta(minutes=13),
        T0 + timedelta(minutes=301),  # after the late revision 2 of team 2: still its revision 6
        T0 + timedelta(minutes=BURST + 9.5 * 10 / 60_000),  # inside the burst: team 3 at revision 10
        T0 + timedelta(days=1),
    ]
    async with isolated_settings(stack_settings) as ref_settings:
        ref = await asyncpg.connect(ref_settings.asyncpg_dsn)
        try:
            await writer.prepare_connection(ref)
            async with resources.pool.acquire() as conn:
                for at in instants:
                    await replay_cut(ref, records, at)
                    expected, expected_api = await tables(ref), await api_answer(ref)
                    started = time.perf_counter()
                    async with board_as_of(conn, at, plan_day=DAY):
                        got, got_api = await tables(conn, "pg_temp."), await api_answer(conn, at)
                    elapsed = time.perf_counter() - started
                    assert got == expected, at
                    assert got_api == expected_api, at
                    assert elapsed < 1.0, (at, elapsed)
                    if at == instants[6]:
                        assert [p["revision"] for p in got[0] if p["team_id"] == 3] == [10], "a cut inside the burst"
                    if at == instants[5]:
                        assert [p["revision"] for p in got[0] if p["team_id"] == 2] == [6], "the late revision 2 changed nothing"
        finally:
            await ref.close()
    assert got == live, "the last instant's plans of the day are the live ones"
    async with resources.pool.acquire() as conn, board_as_of(conn, instants[-1], plan_day=DAY + timedelta(days=1)):
        assert [p["plan_date"] for p in await conn.fetch("SELECT plan_date FROM pg_temp.plans")] == [DAY + timedelta(days=1)]
    assert expected_api[0] == 3 and expected_api[3][0]["team_name"] == "Pasukan 2"
    assert [len(p["visits"]) for p in expected_api[1]] == [3, 6, 2]
