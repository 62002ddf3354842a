"""Requests for the engine: facts that someone asked for work (an auto-assign run), keyed by request id."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from aiff.events.bounds import TicketId
from aiff.events.envelope import Envelope, Payload
from aiff.events.vocabulary import Strategy


class AssignmentCriteria(Payload):
    strategy: Strategy | None = Field(None, description="Strategy to use; the configured default when absent.")
    same_zone_only: bool = Field(False, description="Refuse cross-zone assignments.")
    max_distance_km: float | None = Field(None, gt=0, description="Ignore teams further than this from the site.")
    respect_skills: bool = Field(True, description="Only teams with the ticket's skill.")


class AutoAssignRequestedData(Payload):
    request_id: str = Field(min_length=1, max_length=64, description="Id of this request; answers carry it as causation id.")
    ticket_ids: list[TicketId] = Field(min_length=1, max_length=10_000, description="Tickets to (re)plan.")
    criteria: AssignmentCriteria = Field(default_factory=AssignmentCriteria, description="How to choose.")
    requested_by: str = Field(max_length=100, description="Dispatcher's user id.")


class AutoAssignRequested(Envelope):
    topic_kind: ClassVar[str] = "requests"
    type: Literal["aiff.assignment.auto_requested.v1"] = "aiff.assignment.auto_requested.v1"
    data: AutoAssignRequestedData
