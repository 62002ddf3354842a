"""`aiff seed`: deterministic Malaysian demo data published as events through Kafka (projections come from the log)."""

from __future__ import annotations

import asyncio
import sys

from aiff.bootstrap import open_resources
from aiff.demo import iter_ticket_events, setup_events
from aiff.events.tickets import TicketCreated
from aiff.events.topics import end_offsets
from aiff.settings import get_settings
from aiff.tools.catchup import wait_caught_up
from aiff.tools.progress import Bar


async def seed(*, seed: int = 42, teams: int = 150, tickets: int = 1000, days: int = 90, if_empty: bool = False,
               wait: bool = False) -> int:
    """Publish the demo world (zones, teams, then `tickets` tickets' histories); `wait` for the projector after."""
    settings = get_settings()
    async with open_resources(settings) as res:
        if if_empty:
            ends = await end_offsets(settings.kafka_bootstrap_servers, [res.topics.tickets])
            existing = await res.pool.fetchval("SELECT count(*) FROM tickets")
            if sum(ends.values()) > 0 or existing:
                print(f"seed: skipped, data exists ({existing:,} tickets projected, {sum(ends.values()):,} ticket events in the log)", file=sys.stderr)
                if wait:
                    await wait_caught_up(res.pool, settings.kafka_bootstrap_servers, res.topics.domain)
                return 0
        setup = setup_events(seed=seed, teams=teams, days=days)
        await res.publisher.publish_many(setup)
        print(f"seed: published {len(setup)} zone and team events", file=sys.stderr)
        events = 0
        # Counted in tickets, whose total is known up front (the number of events per ticket is not).
        with Bar("seed: tickets", tickets, unit="tickets") as bar:
            for chunk in iter_ticket_events(seed=seed, teams=teams, tickets=tickets, days=days):
                await res.publisher.publish_many(chunk)
                events += len(chunk)
                bar.advance(sum(isinstance(e, TicketCreated) for e in chunk), f"seed: tickets ({events:,} events)")
        print(f"seed: published {events:,} ticket events in {bar.elapsed:.2f}s ({events / max(bar.elapsed, 1e-6):,.0f}/s)", file=sys.stderr)
        if wait:
            await wait_caught_up(res.pool, settings.kafka_bootstrap_servers, res.topics.domain)
            counts = await res.pool.fetchrow(
                "SELECT (SELECT count(*) FROM zones) AS zones, (SELECT count(*) FROM teams) AS teams, "
                "(SELECT count(*) FROM tickets) AS tickets"
            )
            print(f"seed: projected {counts['zones']} zones, {counts['teams']} teams, {counts['tickets']:,} tickets", file=sys.stderr)
    return 0


def cmd_seed(**options: object) -> int:
    """Entry point of `aiff seed` (options as in `seed`)."""
    return asyncio.run(seed(**options))  # type: ignore[arg-type]
