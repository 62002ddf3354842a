"""Prometheus metrics that modules of several areas report through, defined once so that their names are stable.

The alert rules (deploy/prometheus/alerts.yml) and the Grafana dashboard name these; tests/unit/test_observability.py
checks that every name they use is registered by the code. Metrics that belong to one module stay beside it
(consumers.runner: lag, batch time; consumers.dead_letters; api.middleware: HTTP). Each hook is one call, cheap
enough for the hot path (a labelled child is cached by prometheus_client).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

EVENTS_REJECTED = Counter("aiff_events_rejected_total", "Events a consumer refused (contract, unknown entity, rule)", ["consumer"])
PROJECTION_POSITION = Gauge(
    "aiff_projection_position", "Next offset a consumer will apply, as committed with its effects", ["consumer", "topic", "partition"]
)
ASSIGNMENT_DECISIONS = Counter(
    "aiff_assignment_decisions_total", "Assignment engine decisions per plan, by strategy and outcome", ["strategy", "outcome"]
)
PLAN_SOLVE_SECONDS = Histogram(
    "aiff_plan_solve_seconds",
    "Time an assignment strategy took to solve one plan",
    ["strategy"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STALE_DECISIONS = Counter(
    "aiff_stale_decisions_total",
    "Decisions and commands of AIFF's own components refused because the ticket changed meanwhile (recorded in its "
    "history, not dead-lettered), by the consumer that refused or skipped them and the event type",
    ["consumer", "type"],
)
SLA_ALERTS = Counter("aiff_sla_alerts_total", "SLA events published (at risk, breached)", ["kind"])
WS_CLIENTS = Gauge("aiff_ws_clients", "Websocket clients connected to this API process")
WS_DROPPED = Counter("aiff_ws_dropped_messages_total", "Live-feed messages dropped for a slow websocket client (it resyncs)")


def observe_plan(plan: Any) -> None:
    """One plan of the assignment engine: its decisions by outcome and its solve time."""
    assigned = sum(1 for d in plan.decisions if d.team_id is not None)
    if assigned:
        ASSIGNMENT_DECISIONS.labels(plan.strategy, "assigned").inc(assigned)
    if len(plan.decisions) > assigned:
        ASSIGNMENT_DECISIONS.labels(plan.strategy, "deferred").inc(len(plan.decisions) - assigned)
    PLAN_SOLVE_SECONDS.labels(plan.strategy).observe(plan.solve_seconds)


def observe_sla(events: Iterable[Any]) -> None:
    """SLA events as they are published: `aiff.ticket.sla_breached.v1` counts under `sla_breached`."""
    for e in events:
        parts = e.type.split(".")
        SLA_ALERTS.labels(parts[2] if len(parts) > 2 else e.type).inc()


def observe_stale(consumer: str, refused: Iterable[Any]) -> None:
    """Records a consumer refused (or skipped) as stale decisions (`projections.projector.Rejected.stale`)."""
    for r in refused:
        STALE_DECISIONS.labels(consumer, r.event_type or "unknown").inc()


def observe_positions(consumer: str, next_offsets: dict[tuple[str, int], int]) -> None:
    """Positions just committed with a batch's effects."""
    for (topic, partition), offset in next_offsets.items():
        PROJECTION_POSITION.labels(consumer, topic, str(partition)).set(offset)
