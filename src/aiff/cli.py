"""The `aiff` command (Typer): thin entry points over the package (API, workers, seed, replay, dead letters, tools).

Heavy modules are imported inside each command, so `--help` and shell completion stay fast.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import signal
import sys
from enum import Enum
from typing import Annotated

import typer

from aiff import logs
from aiff.settings import get_settings
from aiff.tools import replay_cli
from aiff.tools.ops_cli import dlq_show, offsets_app

CONSUMERS: dict[str, str] = {
    "projector": "aiff.consumers.projector",
    "assignment": "aiff.consumers.assignment",
    "analytics": "aiff.consumers.analytics",
    "ai": "aiff.consumers.ai",
    "sla": "aiff.consumers.sla",
    "live": "aiff.consumers.live",
}

app = typer.Typer(
    name="aiff",
    help="AIFF: field-service assignment engine on Kafka.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,  # plain tracebacks: one per log record, no boxes in JSON logs, no locals (passwords)
)
db_app = typer.Typer(help="Database schema: migrate, or wait until Postgres answers.", no_args_is_help=True)
events_app = typer.Typer(help="The public event contract (JSON Schemas + AsyncAPI) in events/.", no_args_is_help=True)
dlq_app = typer.Typer(help="Inspect or re-drive the dead-letter topic.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users (the first admin is made here).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(dlq_app, name="dlq")
app.add_typer(users_app, name="users")
replay_cli.register(app)
app.add_typer(offsets_app, name="offsets")  # `aiff offsets [show|reset]` (aiff.tools.ops_cli)
dlq_app.command("show")(dlq_show)

_verbose = False
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


class Role(str, Enum):
    admin = "admin"
    dispatcher = "dispatcher"
    analyst = "analyst"
    field = "field"
    user = "user"


class Strategy(str, Enum):
    greedy = "greedy"
    nearest = "nearest"
    optimal = "optimal"


def _exit(code: int | None) -> None:
    if code:
        raise typer.Exit(code)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Debug logging.")] = False) -> None:
    """AIFF: field-service assignment engine on Kafka."""
    global _verbose
    _verbose = verbose


def _tool_logging() -> None:
    """Operator tools log plain text (their output is for a person); the API and workers follow AIFF_LOG_FORMAT."""
    logs.configure("text", verbose=_verbose)


# -- processes ----------------------------------------------------------------------------------------------


def _available_consumers() -> list[str]:
    names = []
    for name, module in CONSUMERS.items():
        try:
            importlib.import_module(module)
            names.append(name)
        except ModuleNotFoundError:
            continue
    return names


def _complete_consumer(incomplete: str) -> list[str]:
    return [n for n in CONSUMERS if n.startswith(incomplete)]


def _serve_worker_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose the consumers' Prometheus metrics (lag, events applied, batch time) on `host:port`."""
    if not port:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        logging.getLogger("aiff").warning("worker metrics not served on :%d (%s)", port, exc)


async def _run_workers(names: list[str]) -> None:
    from aiff.bootstrap import freeze_startup_heap, open_resources
    from aiff.consumers.stream import run_consumers

    settings = get_settings()
    _serve_worker_metrics(settings.worker_metrics_port, settings.worker_metrics_host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_resources(settings, with_redis=True, pool_size=4 + 2 * len(names), patient=True) as resources:
        consumers = [importlib.import_module(CONSUMERS[n]).build(resources) for n in names]
        freeze_startup_heap()
        # One FastStream broker, one batch subscriber per consumer group; on SIGTERM each finishes its batch.
        await run_consumers(consumers, stop)


@app.command()
def worker(
    consumers: Annotated[
        list[str] | None,
        typer.Argument(help=f"Any of: {', '.join(CONSUMERS)} (all when none is named).", autocompletion=_complete_consumer),
    ] = None,
) -> None:
    """Run consumers, each in its own consumer group, until SIGTERM."""
    names = consumers or _available_consumers()
    unknown = [n for n in names if n not in CONSUMERS]
    if unknown:
        typer.echo(f"unknown consumer(s): {', '.join(unknown)}; choose from {', '.join(CONSUMERS)}", err=True)
        raise typer.Exit(2)
    logs.configure(verbose=_verbose)
    # Batches hold thousands of short-lived, acyclic objects: automatic collections would dominate the cost.
    # The consume loop collects explicitly every few batches instead (see runner.BatchConsumer.run), and the
    # heap built at start-up is frozen once the consumers are built (bootstrap.freeze_startup_heap).
    gc.disable()
    asyncio.run(_run_workers(names))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Address to bind (default AIFF_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default AIFF_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API, websocket and UI with uvicorn."""
    fmt = logs.configure(verbose=_verbose)
    from aiff.api.serve import cmd_api

    _exit(cmd_api(host, port, log_format=fmt, verbose=_verbose))


# -- schema, topics, contract ------------------------------------------------------------------------------

TimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for Postgres.")]


def _db(upgrade: bool, timeout: float) -> None:
    from aiff.projections import migrate

    _tool_logging()
    settings = get_settings()
    asyncio.run(migrate.wait_for_database(settings.asyncpg_dsn, timeout_s=timeout))
    if upgrade:
        migrate.upgrade(settings.asyncpg_dsn)
        typer.echo("database schema is up to date")
    else:
        typer.echo("database is reachable")


@db_app.command("upgrade")
def db_upgrade(timeout: TimeoutOption = 60.0) -> None:
    """Wait for Postgres, then run the Alembic migrations."""
    _db(True, timeout)


@db_app.command("wait")
def db_wait(timeout: TimeoutOption = 60.0) -> None:
    """Wait until Postgres answers."""
    _db(False, timeout)


@app.command()
def topics() -> None:
    """Create the Kafka topics if missing."""
    from aiff.events.topics import Topics, ensure_topics

    _tool_logging()
    s = get_settings()
    names = Topics(s.topic_prefix)
    asyncio.run(ensure_topics(s.kafka_bootstrap_servers, names, s.topic_partitions, s.topic_retention_ms))
    typer.echo("topics: " + ", ".join(names.all))


OutOption = Annotated[str, typer.Option(help="Folder of the contract.")]


@events_app.command("export")
def events_export(out: OutOption = "events") -> None:
    """Write the JSON Schemas and the AsyncAPI document from the models."""
    from aiff.events import contract

    written = contract.export(out)
    typer.echo(f"wrote {len(written)} files to {out}/")


@events_app.command("check")
def events_check(out: OutOption = "events") -> None:
    """Fail when the contract in the folder differs from the models."""
    from aiff.events import contract

    drift = contract.check(out)
    if drift:
        typer.echo("event contract drifted from the models; run `aiff events export`:\n  " + "\n  ".join(drift))
        raise typer.Exit(1)
    typer.echo("event contract matches the models")


# -- operator tools ------------------------------------------------------------------------------------------


@app.command()
def seed(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same world.")] = 42,
    teams: Annotated[int, typer.Option(help="Field teams.")] = 150,
    tickets: Annotated[int, typer.Option(help="Tickets (each with its history of events).")] = 1000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 90,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when tickets already exist.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the projector has applied everything.")] = False,
) -> None:
    """Publish deterministic Malaysian demo data as events through Kafka."""
    from aiff.tools.seed import cmd_seed

    _tool_logging()
    _exit(cmd_seed(seed=seed, teams=teams, tickets=tickets, days=days, if_empty=if_empty, wait=wait))


@dlq_app.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option(help="Show the newest N dead letters (0: all).")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List dead letters with where they came from and why."""
    from aiff.tools.dlq import list_letters

    _tool_logging()
    _exit(asyncio.run(list_letters(limit or None, as_json)))


@dlq_app.command("redrive")
def dlq_redrive(
    offset: Annotated[list[int] | None, typer.Option(help="Re-drive only the dead letter at this offset (repeatable).")] = None,
) -> None:
    """Send dead letters back to their original topic after a fix."""
    from aiff.tools.dlq import redrive

    _tool_logging()
    _exit(asyncio.run(redrive(offset)))


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    email: Annotated[str | None, typer.Option(help="Default: <username>@aiff.local.")] = None,
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.user,
    team: Annotated[int | None, typer.Option(help="The team of a field user.")] = None,
) -> None:
    """Create a user (argon2-hashed password)."""
    from aiff.tools.users import cmd_users_create

    _tool_logging()
    _exit(cmd_users_create(username=username, password=password, role=role.value, email=email, team=team))


@app.command()
def backtest(
    strategy: Annotated[list[Strategy] | None, typer.Option(help="Strategy to compare (repeatable; default all).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Tickets created from this ISO date/time.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Tickets created before this ISO date/time.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Replay history through assignment strategies and compare their KPIs."""
    from aiff.tools.backtest import cmd_backtest

    _tool_logging()
    _exit(cmd_backtest([s.value for s in strategy or []], start, end, as_json))


@app.command()
def simulate(
    days: Annotated[int, typer.Option(help="Working days to simulate (Mon-Sat).")] = 5,
    teams: Annotated[int, typer.Option(help="Teams from the demo generator.")] = 40,
    tickets_per_day: Annotated[int, typer.Option(help="Average tickets arriving per day.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of teams, arrivals, illness and planner.")] = 7,
    tick_minutes: Annotated[int, typer.Option(help="Decision window (simulated minutes).")] = 10,
    plan_iterations: Annotated[int, typer.Option(help="PyVRP iterations per zone re-plan (routes).")] = 300,
    horizon_days: Annotated[int, typer.Option(help="routes: working days planned ahead (today included).")] = 3,
    strategy: Annotated[list[str] | None, typer.Option(help="nearest, greedy, optimal or routes (repeatable; default all).")] = None,
    through_kafka: Annotated[bool, typer.Option(
        "--through-kafka", help="Also run the days through real Kafka, the projector and the live assignment engine "
                                "(routes) on the simulated clock, in a topic prefix and schema of their own.")] = False,
) -> None:
    """Simulate working days on the Malaysian demo geography through each dispatch strategy; print the KPIs."""
    from aiff.simulation.engine import SimConfig
    from aiff.simulation.policies import STRATEGIES
    from aiff.simulation.runner import report

    config = SimConfig(days=days, teams=teams, tickets_per_day=tickets_per_day, seed=seed, tick_minutes=tick_minutes,
                       plan_iterations=plan_iterations, horizon_days=horizon_days)
    typer.echo(report(config, tuple(strategy or STRATEGIES), through_kafka=through_kafka))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `aiff` script; returns the exit code."""
    try:
        app(args=argv, prog_name="aiff")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
