"""Shared by the live tests (test_ws*.py, test_browser*.py): the e2e API harness plus the live consumer.

`running_api` (tests/e2e/conftest.py) runs the projector and a uvicorn API; `live_api` adds the live
consumer (its own consumer group) and closes the API's live hubs before Redis goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiff.api import ws as ws_module
from aiff.consumers import live
from aiff.live.channel import LiveKeys
from aiff.settings import Settings
from tests.e2e.conftest import Harness, running_api
from tests.helpers import isolated_settings


@contextlib.asynccontextmanager
async def live_api(settings: Settings) -> AsyncIterator[Harness]:
    async with running_api(settings) as harness:
        resources = harness.resources
        consumer = live.build(resources, fresh_from_end=False)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop), name="live")
        try:
            await asyncio.wait_for(consumer.ready.wait(), 30)
            harness.live_consumer = consumer  # type: ignore[attr-defined]
            yield harness
        finally:
            for hub in list(ws_module.HUBS):
                await hub.close()
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            await consumer.live_handler.close()  # type: ignore[attr-defined]
            keys = LiveKeys(settings.topic_prefix)
            await resources.redis.delete(keys.stream, keys.seq, keys.positions(live.NAME))


@pytest.fixture
async def live_harness(settings: Settings) -> AsyncIterator[Harness]:
    async with live_api(settings) as harness:
        yield harness


def ws_url(harness: Harness, headers: dict[str, str] | None, **params: Any) -> str:
    q = dict(params)
    if headers is not None:
        q["token"] = headers["Authorization"].split(" ", 1)[1]
    query = "&".join(f"{k}={v}" for k, v in q.items())
    return harness.url.replace("http://", "ws://") + "/ws" + (f"?{query}" if query else "")


async def recv_json(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws: Any, predicate: Any, timeout: float = 10.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read messages until one satisfies `predicate`; returns it and every message read."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching message within {timeout}s; got {[m.get('type') for m in seen]}")
        msg = await recv_json(ws, remaining)
        seen.append(msg)
        if predicate(msg):
            return msg, seen


def has_ticket(ticket_id: int, status: str | None = None):
    def check(msg: dict[str, Any]) -> bool:
        return msg.get("type") == "events" and any(
            e.get("ticket_id") == ticket_id and (status is None or e.get("status") == status) for e in msg["events"]
        )

    return check


__all__ = ["isolated_settings", "live_api", "live_harness", "ws_url", "recv_json", "recv_until", "has_ticket"]
