"""One periodic job beside a consumer (full re-plans, SLA ticks, snapshots): it must outlive outages and errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiff.bootstrap import is_outage

log = logging.getLogger(__name__)


async def every(interval_s: float, stop: asyncio.Event, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `job` every `interval_s` until `stop`; a failure is logged (an outage as a warning) and the next round retries."""
    while interval_s > 0 and not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            try:
                await job()
            except Exception as exc:  # noqa: BLE001 - the timer must outlive outages; the next round retries
                level = logging.WARNING if is_outage(exc) else logging.ERROR
                log.log(level, "%s failed (%s: %s); retrying in %.0fs", what, type(exc).__name__, exc, interval_s)
