"""The assignment engine's work items: "re-plan these zones of this region", on the internal work topic.

The engine runs as two consumer groups. The router (`aiff.consumers.assignment`) reads the facts (tickets,
teams, requests), keeps only what calls for a decision and publishes one work item per region it touches,
to the region's partition of the work topic. The planner group (`aiff.consumers.planner`) reads the work
topic: Kafka's group protocol gives each instance a set of regions, so instances plan disjoint regions at
once, and a killed instance's regions move to another. Work items are requests, not facts: they are not
part of the public event contract, and a re-delivered one only re-plans a zone again (a still world
publishes nothing).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from aiff.zones import region_of, region_partition


class ReplanRequest(BaseModel):
    """Re-plan `zones` (all of one region) once the projector has applied `needed` (the facts that asked)."""

    region: str
    zones: list[str]
    requested: list[int] = Field(default_factory=list, description="tickets of manual zones an auto-assign request names")
    why: str = "a change"
    correlation_id: str | None = None
    causation_id: str | None = None
    needed: list[tuple[str, int, int]] = Field(default_factory=list, description="(topic, partition, offset) to wait for")
    at: datetime
    new: list[int] | None = Field(None, description="set when all that changed is these new tickets: inserted into the stored plans (fast path); None: re-plan the zones")


def by_region(zones: set[str], **fields) -> list[ReplanRequest]:  # noqa: ANN003
    """One request per region of `zones`."""
    regions: dict[str, list[str]] = {}
    for zone in sorted(zones):
        regions.setdefault(region_of(zone), []).append(zone)
    return [ReplanRequest(region=r, zones=zs, **fields) for r, zs in sorted(regions.items())]


def record(request: ReplanRequest) -> tuple[bytes, bytes, list[tuple[str, bytes]], int]:
    """(value, key, headers, partition) of a request on the work topic."""
    headers = [("correlation_id", request.correlation_id.encode())] if request.correlation_id else []
    return request.model_dump_json().encode(), request.region.encode(), headers, region_partition(request.region)


def merge(requests: list[ReplanRequest]) -> dict[str, ReplanRequest]:
    """A backlog of requests per region coalesced into one: the union of zones, requested tickets and needed
    offsets, the latest time - one re-plan per zone, not one per event."""
    out: dict[str, ReplanRequest] = {}
    for r in requests:
        old = out.get(r.region)
        if old is None:
            out[r.region] = r
            continue
        needed: dict[tuple[str, int], int] = {(t, p): o for t, p, o in old.needed}
        for t, p, o in r.needed:
            needed[(t, p)] = max(needed.get((t, p), -1), o)
        whys = old.why.split(", ") + [w for w in r.why.split(", ") if w not in old.why.split(", ")]
        out[r.region] = old.model_copy(update={
            "zones": sorted(set(old.zones) | set(r.zones)), "requested": sorted(set(old.requested) | set(r.requested)),
            "why": ", ".join(whys), "needed": [(t, p, o) for (t, p), o in sorted(needed.items())], "at": max(old.at, r.at),
            "new": None if old.new is None or r.new is None else sorted(set(old.new) | set(r.new)),
        })  # fmt: skip
    return out
