"""Typer commands of the operator tools for consumer groups: `aiff offsets show|reset` and `aiff dlq show`.

Kept out of cli.py so that the shared entry point only registers them; heavy modules load inside each command.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from aiff import logs

offsets_app = typer.Typer(
    help="Consumer groups' positions (Postgres) against the log end (Kafka), and resetting them.",
    invoke_without_command=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


@offsets_app.callback()
def _offsets(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Without a command: `show` for every consumer group."""
    if ctx.invoked_subcommand is None:
        from aiff.tools.offsets import cmd_offsets

        logs.configure("text")
        _exit(cmd_offsets(None, as_json))


@offsets_app.command("show")
def offsets_show(
    group: Annotated[str | None, typer.Argument(help="A consumer (projector) or its group id (aiff.projector); all when none.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Positions, Kafka's committed mirror, log end offsets and lag per partition, with live members per group."""
    from aiff.tools.offsets import cmd_offsets

    logs.configure("text")
    _exit(cmd_offsets(group, as_json))


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date/time: {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@offsets_app.command("reset")
def offsets_reset(
    group: Annotated[str, typer.Argument(help="A consumer (projector) or its group id (aiff.projector).")],
    to_earliest: Annotated[bool, typer.Option("--to-earliest", help="Back to the start of the log (a full replay).")] = False,
    to_time: Annotated[str | None, typer.Option("--to-time", help="First record at or after this ISO time (UTC if no zone).")] = None,
    to_offset: Annotated[int | None, typer.Option("--to-offset", help="This offset on every partition (clamped to the log).")] = None,
    topic: Annotated[str | None, typer.Option(help="Only this topic's partitions.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the moves without making them.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Move a stopped group's positions; refused (exit 1) while the group has live members."""
    from aiff.tools.offsets import OffsetsError, Target, cmd_reset

    logs.configure("text")
    try:
        target = Target(earliest=to_earliest, time=_when(to_time) if to_time else None, offset=to_offset)
    except OffsetsError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _exit(cmd_reset(group, target, topic, dry_run, as_json))


def dlq_show(
    offset: Annotated[int, typer.Argument(help="The dead letter's offset (the # column of `aiff dlq list`).")],
    as_json: JsonOption = False,
) -> None:
    """One dead letter: its headers, the reason and the payload (pretty-printed when it is JSON)."""
    from aiff.tools.dlq import show_letter

    logs.configure("text")
    _exit(asyncio.run(show_letter(offset, as_json)))
