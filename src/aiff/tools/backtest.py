"""`aiff backtest`: replay the historical ticket stream through strategies and compare their KPIs side by side.

Tickets come from the read models (creation time, site, priority, skill, due date); each ticket's service
time is what it really took (start → completion), or the median when it never completed. Teams start
empty with their current capacity and base; capacity, travel (60 km/h) and completion are simulated.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import fields
from datetime import UTC, datetime
from statistics import median

import asyncpg

from rich.table import Table

from aiff.assignment.backtest import Kpis, kpi_rows, run_backtest
from aiff.assignment.model import TeamSpec
from aiff.projections import engine_queries as q
from aiff.settings import get_settings
from aiff.tools.output import print_json, print_table
from aiff.tools.progress import Bar


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def load(dsn: str, start: datetime | None, end: datetime | None):  # noqa: ANN201
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT id, EXTRACT(EPOCH FROM (completed_at - started_at)) / 60 AS minutes FROM tickets
               WHERE ($1::timestamptz IS NULL OR created_at >= $1) AND ($2::timestamptz IS NULL OR created_at < $2)
               ORDER BY created_at""",
            start,
            end,
        )
        tickets = await q.tickets_by_id(conn, [r["id"] for r in rows])
        teams = [
            TeamSpec(t.team_id, t.zone, t.latitude, t.longitude, t.skills, t.capacity, 0,
                     "available" if t.status in ("available", "busy") else t.status, t.tickets_completed,
                     t.customer_rating, t.efficiency)  # fmt: skip
            for t in await q.teams_with_load(conn)
        ]
    finally:
        await conn.close()
    known = [float(r["minutes"]) for r in rows if r["minutes"] is not None and r["minutes"] > 0]
    typical = median(known) if known else 120.0
    minutes = {r["id"]: float(r["minutes"]) if r["minutes"] and r["minutes"] > 0 else typical for r in rows}
    return tickets, teams, [minutes[t.ticket_id] for t in tickets]


def kpis_table(results: dict[str, Kpis]) -> Table:
    """KPIs as rows, strategies as columns (the layout of `format_table`)."""
    table = Table(title="backtest", title_justify="left")
    table.add_column("KPI")
    for name in results:
        table.add_column(name, justify="right")
    for label, cells in kpi_rows(results):
        table.add_row(label, *cells)
    return table


def kpis_json(results: dict[str, Kpis]) -> list[dict[str, object]]:
    """Each strategy's KPIs as plain data (without the per-ticket team array)."""
    out = []
    for k in results.values():
        d = {f.name: getattr(k, f.name) for f in fields(k) if f.name != "team_of"}
        out.append({**d, "total_breaches": k.total_breaches})
    return out


def cmd_backtest(strategies: list[str] | None = None, start: str | None = None, end: str | None = None, as_json: bool = False) -> int:
    """Entry point of `aiff backtest`."""
    strategies = strategies or ["greedy", "nearest", "optimal"]
    tickets, teams, service = asyncio.run(load(get_settings().asyncpg_dsn, _when(start), _when(end)))
    if not tickets or not teams:
        print("backtest: no tickets or teams in the read models (run `aiff seed --wait` first)", file=sys.stderr)
        return 1
    print(f"backtest: {len(tickets):,} tickets, {len(teams)} teams, strategies {', '.join(strategies)}", file=sys.stderr)
    results: dict[str, Kpis] = {}
    with Bar("backtest", len(tickets) * len(strategies), unit="tickets") as bar:
        for name in strategies:  # one at a time, so the bar can say which one runs
            bar.update(bar.done, description=f"backtest: {name}")
            results |= run_backtest([name], tickets, teams, service, progress=bar.advance)
    if as_json:
        print_json(kpis_json(results))
    else:
        print_table(kpis_table(results))
    return 0
