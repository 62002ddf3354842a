"""bench/live.py's settle: waits on the right condition and says what it waits for (issue 11, item 8)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from aiff.bootstrap import Resources
from aiff.events.tickets import TicketCreated, ticket_event
from aiff.events.topics import end_offsets
from aiff.live.channel import LiveKeys, LivePublisher

pytestmark = pytest.mark.integration

_spec = importlib.util.spec_from_file_location("bench_live", Path(__file__).resolve().parents[2] / "bench" / "live.py")
assert _spec is not None and _spec.loader is not None
bench_live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_live)


async def _log_with_records(resources: Resources) -> dict[tuple[str, int], int]:
    events = [
        ticket_event(TicketCreated, {"ticket_id": 9_000 + i, "title": "t", "priority": "low", "zone": "Selangor"}, source="urn:test")
        for i in range(24)
    ]
    await resources.publisher.publish_many(events)
    ends = await end_offsets(resources.settings.kafka_bootstrap_servers, [resources.topics.tickets, resources.topics.teams])
    assert sum(1 for n in ends.values() if n) >= 2  # records on several partitions
    return ends


async def test_settle_accepts_a_live_feed_that_restarted_at_the_log_end(resources: Resources, capsys) -> None:
    """After Redis lost the live feed's positions it stores one only for partitions with news since."""
    ends = await _log_with_records(resources)
    newest = max((tp for tp, n in ends.items() if n), key=lambda tp: ends[tp])
    await LivePublisher(resources.redis, LiveKeys(resources.settings.topic_prefix)).store_positions({newest: ends[newest]})
    started = time.monotonic()
    assert await bench_live.settle(resources, timeout_s=20, report_every_s=1) is True
    assert time.monotonic() - started < 10
    assert "caught up" in capsys.readouterr().out


async def test_settle_says_what_it_waits_for(resources: Resources, capsys) -> None:
    ends = await _log_with_records(resources)
    tp = next(tp for tp, n in ends.items() if n)
    await LivePublisher(resources.redis, LiveKeys(resources.settings.topic_prefix)).store_positions({tp: ends[tp] - 1})
    await resources.pool.execute(
        "INSERT INTO projection_positions (projection, topic, partition, next_offset) VALUES ('projector', $1, $2, 0)", *tp
    )
    assert await bench_live.settle(resources, timeout_s=1.5, report_every_s=0.5) is False
    out = capsys.readouterr().out
    behind_projector = sum(n for (topic, _), n in ends.items() if topic == resources.topics.tickets)
    assert f"waiting for the consumers to reach the log end: projector {behind_projector:,} records behind, live 1 records behind" in out
    assert "still waiting for projector" in out
