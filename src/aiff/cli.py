"""The `aiff` command: thin entry points over the package (API, workers, seed, replay, dead letters, tools)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import signal
import sys
from collections.abc import Callable

from aiff.settings import get_settings

CONSUMERS: dict[str, str] = {
    "projector": "aiff.consumers.projector",
    "assignment": "aiff.consumers.assignment",
    "analytics": "aiff.consumers.analytics",
    "ai": "aiff.consumers.ai",
    "live": "aiff.consumers.live",
}


def _available_consumers() -> list[str]:
    names = []
    for name, module in CONSUMERS.items():
        try:
            importlib.import_module(module)
            names.append(name)
        except ModuleNotFoundError:
            continue
    return names


def _serve_worker_metrics(port: int) -> None:
    """Expose the consumers' Prometheus metrics (lag, events applied, batch time) on `port`."""
    if not port:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        logging.getLogger("aiff").warning("worker metrics not served on :%d (%s)", port, exc)


async def _run_workers(names: list[str]) -> None:
    from aiff.bootstrap import freeze_startup_heap, open_resources
    from aiff.consumers.stream import run_consumers

    settings = get_settings()
    _serve_worker_metrics(settings.worker_metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_resources(settings, with_redis=True, pool_size=4 + 2 * len(names), patient=True) as resources:
        consumers = [importlib.import_module(CONSUMERS[n]).build(resources) for n in names]
        freeze_startup_heap()
        # One FastStream broker, one batch subscriber per consumer group; on SIGTERM each finishes its batch.
        await run_consumers(consumers, stop)


def cmd_worker(args: argparse.Namespace) -> int:
    # Batches hold thousands of short-lived, acyclic objects: automatic collections would dominate the cost.
    # The consume loop collects explicitly every few batches instead (see runner.BatchConsumer.run), and the
    # heap built at start-up is frozen once the consumers are built (bootstrap.freeze_startup_heap).
    gc.disable()
    names = args.consumers or _available_consumers()
    unknown = [n for n in names if n not in CONSUMERS]
    if unknown:
        print(f"unknown consumer(s): {', '.join(unknown)}; choose from {', '.join(CONSUMERS)}", file=sys.stderr)
        return 2
    asyncio.run(_run_workers(names))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from aiff.projections import migrate

    settings = get_settings()
    asyncio.run(migrate.wait_for_database(settings.asyncpg_dsn, timeout_s=args.timeout))
    if args.action == "upgrade":
        migrate.upgrade(settings.asyncpg_dsn)
        print("database schema is up to date")
    else:
        print("database is reachable")
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from aiff.events.topics import Topics, ensure_topics

    s = get_settings()
    topics = Topics(s.topic_prefix)
    asyncio.run(ensure_topics(s.kafka_bootstrap_servers, topics, s.topic_partitions, s.topic_retention_ms))
    print("topics:", ", ".join(topics.all))
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from aiff.events import contract

    if args.action == "export":
        written = contract.export(args.out)
        print(f"wrote {len(written)} files to {args.out}/")
        return 0
    drift = contract.check(args.out)
    if drift:
        print("event contract drifted from the models; run `aiff events export`:\n  " + "\n  ".join(drift))
        return 1
    print("event contract matches the models")
    return 0


def _lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module).__dict__[func](args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiff", description="AIFF: field-service assignment engine on Kafka")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("worker", help="run consumers (all when none is named), each in its own consumer group")
    p.add_argument("consumers", nargs="*", help=f"any of: {', '.join(CONSUMERS)}")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("api", help="serve the HTTP API, websocket and UI")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=_lazy("aiff.api.serve", "cmd_api"))

    p = sub.add_parser("db", help="database schema")
    p.add_argument("action", choices=["upgrade", "wait"])
    p.add_argument("--timeout", type=float, default=60.0)
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("topics", help="create the Kafka topics if missing")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("events", help="the public event contract (JSON Schemas + AsyncAPI)")
    p.add_argument("action", choices=["export", "check"])
    p.add_argument("--out", default="events")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("seed", help="publish deterministic Malaysian demo data as events through Kafka")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--teams", type=int, default=150)
    p.add_argument("--tickets", type=int, default=1000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--if-empty", action="store_true", help="do nothing when tickets already exist")
    p.add_argument("--wait", action="store_true", help="wait until the projector has applied everything")
    p.set_defaults(func=_lazy("aiff.tools.seed", "cmd_seed"))

    p = sub.add_parser("replay", help="rebuild projections from the start of the log")
    p.add_argument("--verify", action="store_true", help="rebuild into a scratch schema and compare with the live one")
    p.set_defaults(func=_lazy("aiff.tools.replay", "cmd_replay"))

    p = sub.add_parser("dlq", help="inspect or re-drive the dead-letter topic")
    p.add_argument("action", choices=["list", "redrive"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, action="append", help="re-drive only these dead-letter offsets")
    p.set_defaults(func=_lazy("aiff.tools.dlq", "cmd_dlq"))

    p = sub.add_parser("users", help="manage users (the first admin is made here)")
    p.add_argument("action", choices=["create"])
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--email", default=None)
    p.add_argument("--role", default="user", choices=["admin", "dispatcher", "analyst", "field", "user"])
    p.add_argument("--team", type=int, default=None)
    p.set_defaults(func=_lazy("aiff.tools.users", "cmd_users"))

    p = sub.add_parser("backtest", help="replay history through assignment strategies and compare KPIs")
    p.add_argument("--strategy", action="append", choices=["greedy", "nearest", "optimal"])
    p.add_argument("--from", dest="start", default=None)
    p.add_argument("--to", dest="end", default=None)
    p.set_defaults(func=_lazy("aiff.tools.backtest", "cmd_backtest"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiokafka", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
