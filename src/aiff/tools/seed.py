"""`aiff seed`: deterministic Malaysian demo data published as events through Kafka (projections come from the log)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiff.bootstrap import open_resources
from aiff.demo import iter_ticket_events, setup_events
from aiff.events.topics import end_offsets
from aiff.settings import get_settings
from aiff.tools.catchup import wait_caught_up
from aiff.tools.progress import Progress


async def seed(args: argparse.Namespace) -> int:
    settings = get_settings()
    async with open_resources(settings) as res:
        if args.if_empty:
            ends = await end_offsets(settings.kafka_bootstrap_servers, [res.topics.tickets])
            existing = await res.pool.fetchval("SELECT count(*) FROM tickets")
            if sum(ends.values()) > 0 or existing:
                print(f"seed: skipped, data exists ({existing:,} tickets projected, {sum(ends.values()):,} ticket events in the log)", file=sys.stderr)
                if args.wait:
                    await wait_caught_up(res.pool, settings.kafka_bootstrap_servers, res.topics.domain)
                return 0
        setup = setup_events(seed=args.seed, teams=args.teams, days=args.days)
        await res.publisher.publish_many(setup)
        print(f"seed: published {len(setup)} zone and team events", file=sys.stderr)
        bar = Progress("seed: published ticket events")
        for chunk in iter_ticket_events(seed=args.seed, teams=args.teams, tickets=args.tickets, days=args.days):
            await res.publisher.publish_many(chunk)
            bar.advance(len(chunk))
        bar.finish()
        if args.wait:
            await wait_caught_up(res.pool, settings.kafka_bootstrap_servers, res.topics.domain)
            counts = await res.pool.fetchrow(
                "SELECT (SELECT count(*) FROM zones) AS zones, (SELECT count(*) FROM teams) AS teams, "
                "(SELECT count(*) FROM tickets) AS tickets"
            )
            print(f"seed: projected {counts['zones']} zones, {counts['teams']} teams, {counts['tickets']:,} tickets", file=sys.stderr)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    return asyncio.run(seed(args))
