"""The `aiff replay` and `aiff snapshots` commands, kept out of cli.py (which only registers them)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import Annotated

import typer

snapshots_app = typer.Typer(help="Time-travel snapshots of the board (taken hourly by `snapshots take --every`).", no_args_is_help=True)


def replay(
    projections: Annotated[list[str] | None, typer.Argument(help="Projections to rebuild: projector, or all (the default).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Rebuild beside the live tables and compare them (no swap).")] = False,
) -> None:
    """Rebuild projections from offset 0 into shadow tables while the live ones serve, then swap them in atomically."""
    from aiff.tools.replay import cmd_replay

    raise typer.Exit(cmd_replay(projections or ["all"], verify))


@snapshots_app.command("take")
def take(
    every: Annotated[float, typer.Option("--every", help="Keep running, taking snapshots every this many seconds (0: once).")] = 0,
    min_events: Annotated[int, typer.Option("--min-events", help="Events folded at least between two snapshots.")] = 1000,
) -> None:
    """Extend the snapshots up to a minute ago (and rebuild those a late event made stale)."""
    raise typer.Exit(asyncio.run(_take(every, min_events)))


async def _take(every: float, min_events: int) -> int:
    import asyncpg

    from aiff.projections import snapshots
    from aiff.settings import get_settings

    conn = await asyncpg.connect(get_settings().asyncpg_dsn)
    try:
        while True:
            stored = await snapshots.take(conn, min_events=min_events, every=timedelta(hours=1))
            print(f"snapshots: {stored} stored", file=sys.stderr)
            if every <= 0:
                return 0
            await asyncio.sleep(every)
    finally:
        await conn.close()


def register(app: typer.Typer) -> None:
    """Add `replay` and `snapshots` to the `aiff` command."""
    app.command()(replay)
    app.add_typer(snapshots_app, name="snapshots")
