"""An upstream publisher for tests: plain JSON dicts through a plain aiokafka producer, no AIFF classes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from aiff.events.topics import end_offsets

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def cloud_event(event_type: str, subject: str, data: dict[str, Any], *, minutes: float = 0, event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "urn:crm:test",
        "type": event_type,
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }


def ticket_created(ticket_id: int, *, zone: str = "Selangor", priority: str = "high", minutes: float = 0) -> dict[str, Any]:
    return cloud_event(
        "aiff.ticket.created.v1",
        str(ticket_id),
        {"ticket_id": ticket_id, "title": f"Fiber cut {ticket_id}", "priority": priority, "zone": zone,
         "category": "fiber", "latitude": 3.07, "longitude": 101.52, "location": "Shah Alam"},
        minutes=minutes,
    )  # fmt: skip


def ticket_assigned(ticket_id: int, team_id: int, *, minutes: float = 1) -> dict[str, Any]:
    return cloud_event(
        "aiff.ticket.assigned.v1",
        str(ticket_id),
        {"ticket_id": ticket_id, "team_id": team_id, "strategy": "manual", "assigned_by": "dispatcher-1"},
        minutes=minutes,
    )


def status_changed(ticket_id: int, status: str, *, minutes: float = 2, rating: float | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"ticket_id": ticket_id, "status": status}
    if rating is not None:
        data["customer_rating"] = rating
    return cloud_event("aiff.ticket.status_changed.v1", str(ticket_id), data, minutes=minutes)


def team_created(team_id: int, *, zone: str = "Selangor", capacity: int = 5) -> dict[str, Any]:
    return cloud_event(
        "aiff.team.created.v1",
        str(team_id),
        {"team_id": team_id, "name": f"Pasukan {team_id}", "zone": zone, "capacity": capacity,
         "skills": ["fiber", "copper"], "latitude": 3.1, "longitude": 101.6},
    )  # fmt: skip


class Upstream:
    """Publishes raw bytes the way a CRM or monitoring system would."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)

    async def __aenter__(self) -> Upstream:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, topic: str, events: list[dict[str, Any] | bytes], key: str | None = None) -> None:
        futures = []
        for event in events:
            value = event if isinstance(event, bytes) else json.dumps(event).encode()
            k = key if key is not None else (event["subject"] if isinstance(event, dict) else "x")
            futures.append(await self.producer.send(topic, value, key=k.encode()))
        for f in futures:
            await f

    async def end_offsets(self, topics: list[str]) -> dict[tuple[str, int], int]:
        """The log end offset of every partition of `topics`."""
        return await end_offsets(self.bootstrap, topics)
