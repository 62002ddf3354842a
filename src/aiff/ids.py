"""Who chooses entity ids: upstream publishers below a boundary, the API above it, so the two never collide.

The contract lets upstream systems choose the ids of the tickets (and teams) they publish. An API that
allocated from the same space could hand out an id that an upstream creation still waiting in Kafka
already holds, and one of the two acknowledged creations would be lost. So the id space is split: the
API allocates only from its own range (a Postgres sequence, one authority for every API instance), and the
projector refuses an upstream creation that uses an id from the API's range.
"""

from __future__ import annotations

API_SOURCE = "urn:aiff:api"
"""CloudEvents `source` of the events the HTTP API publishes."""
OWN_SOURCE_PREFIX = "urn:aiff:"
"""Sources of AIFF's own components (API, assignment engine, SLA clocks, AI, analytics); any other is upstream."""

UPSTREAM_TICKET_IDS = range(1, 10_000_000_000)
"""Ticket ids upstream publishers may choose: 1 … 9,999,999,999."""
API_TICKET_IDS = range(10_000_000_000, 100_000_000_000)
"""Ticket ids the API allocates: 10,000,000,000 … 99,999,999,999 (its readable number, TKT-YYYY-<11 digits>,
fits the 20 characters of `ticket_number`)."""

UPSTREAM_TEAM_IDS = range(1, 1_000_000_000)
"""Team ids upstream publishers may choose: 1 … 999,999,999."""
API_TEAM_IDS = range(1_000_000_000, 2**31)
"""Team ids the API allocates: 1,000,000,000 … 2,147,483,647 (the `integer` column's maximum)."""


def own_source(source: str) -> bool:
    """Whether one of AIFF's own components published the event (it decided on the read models, not from outside)."""
    return source.startswith(OWN_SOURCE_PREFIX)


def reserved_for_api(kind: str, entity_id: int, source: str) -> str | None:
    """Why an upstream creation may not use `entity_id`, or None when it may."""
    api_range = API_TICKET_IDS if kind == "ticket" else API_TEAM_IDS
    if entity_id in api_range and source != API_SOURCE:
        return (
            f"{kind} id {entity_id} is in the range the API allocates ({api_range.start:,} … {api_range.stop - 1:,}); "
            f"upstream publishers choose {kind} ids below {api_range.start:,}"
        )
    return None
