"""The projector consumer group: every topic's events into the Postgres read models."""

from __future__ import annotations

from aiff.bootstrap import Resources
from aiff.consumers.runner import BatchConsumer, ConsumerConfig
from aiff.projections.projector import project_batch

NAME = "projector"


def build(resources: Resources, name: str = NAME) -> BatchConsumer:
    """The projector: large batches (bulk writes are the whole game), dead-letters what it refuses."""
    s = resources.settings
    config = ConsumerConfig(
        name=name,
        topics=resources.topics.domain,
        bootstrap=s.kafka_bootstrap_servers,
        group_prefix=s.topic_prefix,
        batch_size=s.projector_batch_size,
        batch_timeout_ms=s.projector_batch_timeout_ms,
        dead_letter=True,
        session_timeout_ms=s.kafka_session_timeout_ms,
    )
    return BatchConsumer(config, resources.pool, resources.publisher, project_batch)
