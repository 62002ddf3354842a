"""The projector consumer group: every topic's events into the Postgres read models."""

from __future__ import annotations

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, consumer_config
from aiff.projections.projector import project_batch

NAME = "projector"


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The projector: large batches (bulk writes are the whole game), dead-letters what it refuses."""
    config = consumer_config(resources.settings, name, resources.topics.domain, dead_letter=True)
    return BatchConsumer(config, resources.pool, resources.publisher, project_batch)
