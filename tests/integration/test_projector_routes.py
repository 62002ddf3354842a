"""Route facts through the real projector: positions, plans (older revisions ignored), pins, windows and shifts;
unknown teams are dead-lettered with the reason; a rebuild from the log gives the same rows."""

from __future__ import annotations

from datetime import date

import pytest

from aiff.bootstrap import Resources
from tests.helpers import table_checksum
from tests.integration.test_projector import _read_dead_letters, caught_up, running_projector
from tests.integration.upstream import Upstream, cloud_event, team_created, ticket_assigned, ticket_created

pytestmark = pytest.mark.integration
DAY = "2026-11-02"


def visit(ticket_id: int, sequence: int, hour: int) -> dict:
    return {"ticket_id": ticket_id, "sequence": sequence, "eta": f"{DAY}T{hour:02d}:00:00+08:00",
            "planned_start": f"{DAY}T{hour:02d}:05:00+08:00", "planned_end": f"{DAY}T{hour:02d}:50:00+08:00",
            "travel_minutes": 12.5, "travel_km": 8.25, "pinned": sequence == 1}  # fmt: skip


def plan(team_id: int, revision: int, visits: list[dict], minutes: float = 5) -> dict:
    data = {"team_id": team_id, "plan_date": DAY, "revision": revision, "strategy": "route", "visits": visits,
            "totals": {"drive_minutes": 25.0 * revision, "drive_km": 16.5, "overtime_minutes": 0},
            "break_start": f"{DAY}T12:30:00+08:00", "break_end": f"{DAY}T13:15:00+08:00",
            "unserved": [{"ticket_id": 99, "reason": "no team with the skill within reach"}], "reason": "ticket created"}  # fmt: skip
    return cloud_event("aiff.plan.updated.v1", str(team_id), data, minutes=minutes)


def position(team_id: int, minutes: float, lat: float) -> dict:
    return cloud_event("aiff.team.position_reported.v1", str(team_id),
                       {"team_id": team_id, "latitude": lat, "longitude": 101.5, "reported_at": f"{DAY}T0{int(minutes)}:00:00+08:00",
                        "accuracy_m": 12.0, "source": "tracker"}, minutes=minutes)  # fmt: skip


async def _checksums(resources: Resources) -> dict[str, str]:
    async with resources.pool.acquire() as conn:
        return {
            "plans": await table_checksum(conn, "plans", "team_id, plan_date"),
            "plan_visits": await table_checksum(conn, "plan_visits", "team_id, plan_date, sequence"),
            "team_positions": await table_checksum(conn, "team_positions", "team_id"),
            "tickets": await table_checksum(conn, "tickets", "id"),
            "teams": await table_checksum(conn, "teams", "id"),
        }


async def test_route_facts_are_projected_and_rebuilt_identically(resources: Resources) -> None:
    t = resources.topics
    shift = cloud_event("aiff.team.updated.v1", "1", {"team_id": 1, "shift_start": "07:30", "working_days": ["mon", "tue"]}, minutes=1)
    windowed = ticket_created(2)
    windowed["data"].update(window_start=f"{DAY}T09:00:00+08:00", window_end=f"{DAY}T11:00:00+08:00", service_minutes=40)
    pin = cloud_event("aiff.ticket.pinned.v1", "1", {"ticket_id": 1, "team_id": 1, "sequence": 1, "plan_date": DAY, "pinned_by": "user:1"}, minutes=3)
    teams_topic = [team_created(1), shift, position(1, 8, 3.2), position(1, 7, 9.9), plan(1, 2, [visit(1, 1, 9), visit(2, 2, 10)]),
                   plan(1, 1, [visit(3, 1, 9)], minutes=6),  # an older revision, later in the log: ignored
                   plan(7, 1, [visit(1, 1, 9)]), position(7, 8, 3.0)]  # unknown team: dead-lettered
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, teams_topic)
        await up.send(t.tickets, [ticket_created(1), windowed, pin])
        async with running_projector(resources):
            await caught_up(resources, up)
        letters = await _read_dead_letters(resources, expected=2)
        assert sorted(h["dlq_reason"] for h in letters) == ["unknown team 7", "unknown team 7"]

        db = resources.pool
        row = await db.fetchrow("SELECT * FROM plans")
        assert (row["team_id"], row["plan_date"], row["revision"], row["drive_minutes"]) == (1, date(2026, 11, 2), 2, 50.0)
        visits = await db.fetch("SELECT ticket_id, sequence, travel_km, pinned FROM plan_visits ORDER BY sequence")
        assert [tuple(v) for v in visits] == [(1, 1, 8.25, True), (2, 2, 8.25, False)]
        pos = await db.fetchrow("SELECT latitude, source FROM team_positions WHERE team_id = 1")
        assert (pos["latitude"], pos["source"]) == (3.2, "tracker")
        team = await db.fetchrow("SELECT shift_start, shift_end, working_days, lunch_minutes FROM teams WHERE id = 1")
        assert tuple(team) == ("07:30", "17:00", ["mon", "tue"], 45)
        tickets = {r["id"]: r for r in await db.fetch("SELECT * FROM tickets")}
        assert (tickets[1]["pinned"], tickets[1]["pinned_team"], tickets[1]["pinned_sequence"]) == (True, 1, 1)
        assert tickets[2]["service_minutes"] == 40 and tickets[2]["window_end"] > tickets[2]["window_start"]

        live = await _checksums(resources)
        # Rebuild from the log: empty the read models and positions, then project everything again.
        await db.execute("TRUNCATE plans, plan_visits, team_positions, tickets, teams, assignments, event_history, projection_positions")
        async with running_projector(resources):
            await caught_up(resources, up)
        assert await _checksums(resources) == live


async def test_a_pin_without_a_team_pins_an_assigned_ticket_to_its_stored_team(resources: Resources) -> None:
    """The pin names no team: the projector must know the ticket's team from the read model of an earlier batch."""
    t = resources.topics
    pin = cloud_event("aiff.ticket.pinned.v1", "1", {"ticket_id": 1, "sequence": 2, "plan_date": DAY, "pinned_by": "user:1"}, minutes=3)
    async with Upstream(resources.settings.kafka_bootstrap_servers) as up:
        await up.send(t.teams, [team_created(4)])
        await up.send(t.tickets, [ticket_created(1), ticket_assigned(1, 4)])
        async with running_projector(resources):
            await caught_up(resources, up)
            await up.send(t.tickets, [pin])  # a later batch: team 4 is only in the read model now
            await caught_up(resources, up)
        row = await resources.pool.fetchrow("SELECT pinned, pinned_team, pinned_sequence FROM tickets WHERE id = 1")
        assert tuple(row) == (True, 4, 2)
