"""Where listings go: Rich tables for people, `--json` for scripts, both on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 200
"""Columns of a table written to a pipe or file (Rich's 80 would wrap every row of a listing)."""


def stdout_console() -> Console:
    """A console on stdout; wide when it is not a terminal, so `aiff dlq list | grep` sees whole rows."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPE_WIDTH)
    return console


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colours, no wrapping): what `jq` expects."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(table: Table) -> None:
    stdout_console().print(table)
