"""The projector consumer group: every topic's events into the Postgres read models."""

from __future__ import annotations

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config, fetch_window
from aiff.projections.projector import project_batch

NAME = "projector"
WINDOW_FILL_BYTES = 64 * 1024
"""A fetch this large ends the projector's window early (a burst is applied at once)."""


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The projector: large batches (bulk writes are the whole game), dead-letters what it refuses.

    Each batch is a transaction of ~10 round trips whatever its size, so under a steady trickle (hundreds of events
    a second) the projector would spend most of its and Postgres' CPU on them; a short fetch window
    (`AIFF_PROJECTOR_WINDOW_MS`) bounds the batch rate and adds at most that much to a projection's delay.
    """
    s = resources.settings
    window = fetch_window(s.projector_window_ms, WINDOW_FILL_BYTES)
    config = consumer_config(s, name, resources.topics.domain, dead_letter=True, **window)
    return BatchConsumer(config, resources.pool, resources.publisher, project_batch)
