"""Ticket events: facts about one ticket, keyed by its id on the tickets topic."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from aiff.events.bounds import PlanDate, Sequence, TeamId, TicketId, Time
from aiff.events.envelope import Envelope, Payload
from aiff.events.vocabulary import Priority, Skill, Strategy, TicketStatus


ServiceMinutes = Annotated[int, Field(ge=1, le=1440)]


class VisitFields(Payload):
    """When the customer can be visited and how long the work takes (additive, optional)."""

    window_start: Time | None = Field(None, description="The customer's time window opens (aware time, 2000-2100).")
    window_end: Time | None = Field(None, description="The customer's time window closes; after window_start.")
    service_minutes: ServiceMinutes | None = Field(None, description="Expected minutes on site (1-1440); the planner's default by category when absent.")

    @model_validator(mode="after")
    def _window_in_order(self) -> VisitFields:
        if self.window_start is not None and self.window_end is not None and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class TicketCreatedData(VisitFields):
    ticket_id: TicketId = Field(description="Ticket id chosen by the publisher; unique. The API allocates ids above every id it has seen.")
    ticket_number: str | None = Field(None, max_length=20, description="Readable number, e.g. TKT-2026-000123; derived from the id when absent.")
    title: str = Field(min_length=1, max_length=200, description="Short summary of the fault or request.")
    description: str | None = Field(None, max_length=10_000, description="Free text from the customer or system.")
    priority: Priority = Field(description="low, medium, high or critical; drives the SLA.")
    category: Skill | None = Field(None, description="Kind of work; also the skill a team needs. The AI consumer suggests one when absent.")
    zone: str = Field(min_length=1, max_length=100, description="Zone (Malaysian state) name, e.g. Selangor; must be a known zone.")
    location: str | None = Field(None, max_length=200, description="Town or address.")
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS84 latitude of the site.")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS84 longitude of the site.")
    customer_name: str | None = Field(None, max_length=100, description="Customer to contact on site.")
    due_date: Time | None = Field(None, description="SLA deadline; defaults to creation time plus the priority's SLA hours.")
    created_by: str | None = Field(None, max_length=100, description="User or system that raised the ticket.")


class TicketUpdatedData(VisitFields):
    ticket_id: TicketId = Field(description="Ticket the change applies to.")
    title: str | None = Field(None, min_length=1, max_length=200, description="New title, when changed.")
    description: str | None = Field(None, max_length=10_000, description="New description, when changed.")
    priority: Priority | None = Field(None, description="New priority, when changed.")
    category: Skill | None = Field(None, description="New category, when changed.")
    location: str | None = Field(None, max_length=200, description="New location, when changed.")
    latitude: float | None = Field(None, ge=-90, le=90, description="New latitude, when changed.")
    longitude: float | None = Field(None, ge=-180, le=180, description="New longitude, when changed.")
    due_date: Time | None = Field(None, description="New due date, when changed.")
    updated_by: str | None = Field(None, max_length=100, description="Who made the change.")


class TicketAssignedData(Payload):
    ticket_id: TicketId = Field(description="Ticket that was assigned.")
    team_id: TeamId = Field(description="Team that now holds the ticket.")
    strategy: Strategy = Field(description="How the team was chosen: greedy, nearest, optimal, routes (the day planner), or manual (a dispatcher).")
    assigned_by: str = Field("engine", max_length=100, description="Dispatcher's user id for manual assignments, else 'engine'.")
    assigned_to: str | None = Field(None, max_length=100, description="Technician within the team, when known.")
    distance_km: float | None = Field(None, ge=0, description="Haversine distance from the team's base to the site.")
    score: float | None = Field(None, description="The strategy's score or cost for this decision.")
    breakdown: dict[str, float] = Field(default_factory=dict, description="Per-factor contributions to the score, for explanations.")
    reason: str | None = Field(None, max_length=1000, description="Dispatcher's reason or the engine's summary.")
    replaces_team_id: TeamId | None = Field(None, description="Team that held the ticket before, for reassignments.")
    frozen: bool = Field(False, description="True when a dispatcher chose the team: the engine will not revise it (a pin).")
    planned_start: Time | None = Field(None, description="When the team is planned to start work on site.")
    eta: Time | None = Field(None, description="Planned arrival on site.")
    sequence: Sequence | None = Field(None, description="Position of the visit in the team's day, from 1.")
    plan_date: PlanDate | None = Field(None, description="Day (Malaysia time) of the plan the visit belongs to.")


class TicketPinnedData(Payload):
    ticket_id: TicketId = Field(description="Ticket a dispatcher froze: the planner never moves it.")
    team_id: TeamId | None = Field(None, description="Team it is pinned to (a move when it is not the current team); absent: the current team.")
    sequence: Sequence | None = Field(None, description="Position in that team's day, from 1; absent: any position.")
    plan_date: PlanDate | None = Field(None, description="Day (Malaysia time) it is pinned to; absent: the planner's choice.")
    pinned_by: str = Field(max_length=100, description="Dispatcher's user id.")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TicketMovedData(Payload):
    ticket_id: TicketId = Field(description="Ticket a dispatcher moved: pinned to this team at this position of its day.")
    team_id: TeamId = Field(description="Team that takes the visit.")
    sequence: Sequence = Field(description="Position in that team's day, from 1 (past the end: last).")
    plan_date: PlanDate | None = Field(None, description="Day (Malaysia time); absent: the team's next working day.")
    moved_by: str = Field(max_length=100, description="Dispatcher's user id.")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TicketUnpinnedData(Payload):
    ticket_id: TicketId = Field(description="Ticket the planner may move again.")
    unpinned_by: str = Field(max_length=100, description="Dispatcher's user id.")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TicketUnassignedData(Payload):
    ticket_id: TicketId = Field(description="Ticket returned to the queue.")
    team_id: TeamId = Field(description="Team that released it.")
    reason: str = Field(max_length=1000, description="Why, e.g. 'team went offline'.")
    unassigned_by: str = Field("engine", max_length=100, description="Who released it.")


class TicketStatusChangedData(Payload):
    ticket_id: TicketId = Field(description="Ticket whose status changed.")
    status: TicketStatus = Field(description="New status; must follow the lifecycle from the current one.")
    notes: str | None = Field(None, max_length=5000, description="Field notes or completion report.")
    customer_rating: float | None = Field(None, ge=1, le=5, description="Customer's rating (1-5), on completion.")
    changed_by: str | None = Field(None, max_length=100, description="User or system that changed it.")


class TicketDeletedData(Payload):
    ticket_id: TicketId = Field(description="Ticket removed from the read models (its history stays).")
    deleted_by: str | None = Field(None, max_length=100, description="Who deleted it.")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TicketEnrichedData(Payload):
    ticket_id: TicketId = Field(description="Ticket the AI consumer looked at.")
    suggested_category: str | None = Field(None, max_length=30, description="Category/skill predicted from the text.")
    category_confidence: float | None = Field(None, ge=0, le=1, description="Model probability of that category.")
    suggested_priority: str | None = Field(None, max_length=20, description="Priority predicted from the text.")
    priority_confidence: float | None = Field(None, ge=0, le=1, description="Model probability of that priority.")
    urgency_cues: list[str] = Field(default_factory=list, description="Words that signal urgency, e.g. 'hospital'.")
    duplicate_of: list[TicketId] = Field(default_factory=list, description="Similar open tickets nearby.")
    sla_risk: float | None = Field(None, ge=0, le=1, description="Estimated probability of missing the SLA.")
    model_version: str | None = Field(None, max_length=100, description="Which model produced it.")


class AssignmentDeferredData(Payload):
    ticket_id: TicketId = Field(description="Ticket the engine could not place.")
    strategy: Strategy = Field(description="Strategy that tried.")
    reason: str = Field(max_length=1000, description="e.g. 'no team with skill fiber', 'no capacity within 300 km'.")
    code: str | None = Field(None, max_length=40, description="The binding reason as a code (routes strategy): no_team_with_skill, outside_time_window, no_shift_time, pinned_team_cannot_fit, outranked, team_at_capacity, planned_later (planned on a later working day of the horizon; assigned when that day comes).")


SlaRiskReason = Literal["planned_late", "unplanned_near_due"]


class TicketSlaAtRiskData(Payload):
    ticket_id: TicketId = Field(description="Ticket whose SLA due time is expected to be missed.")
    due_date: Time = Field(description="The SLA due time at risk (a changed due date is a new SLA).")
    expected_at: Time = Field(description="When the work is expected to end: the plan's ETA plus service (planned_end); when unplanned, the instant the due time came within the risk horizon (not before the ticket was created).")
    minutes_late_expected: float = Field(description="expected_at minus due_date in minutes; negative when unplanned and the due time is near.")
    reason: SlaRiskReason = Field(description="planned_late: the plan ends the visit after the due time; unplanned_near_due: no plan and the due time is within the horizon.")


class TicketSlaBreachedData(Payload):
    ticket_id: TicketId = Field(description="Ticket whose SLA due time passed before it was completed.")
    due_date: Time = Field(description="The SLA due time that passed.")
    breached_at: Time = Field(description="When the breach happened: the due time itself.")
    status_at_breach: TicketStatus = Field(description="The ticket's status when the breach was detected.")


class _TicketEvent(Envelope):
    topic_kind: ClassVar[str] = "tickets"


class TicketCreated(_TicketEvent):
    type: Literal["aiff.ticket.created.v1"] = "aiff.ticket.created.v1"
    data: TicketCreatedData


class TicketUpdated(_TicketEvent):
    type: Literal["aiff.ticket.updated.v1"] = "aiff.ticket.updated.v1"
    data: TicketUpdatedData


class TicketAssigned(_TicketEvent):
    type: Literal["aiff.ticket.assigned.v1"] = "aiff.ticket.assigned.v1"
    data: TicketAssignedData


class TicketUnassigned(_TicketEvent):
    type: Literal["aiff.ticket.unassigned.v1"] = "aiff.ticket.unassigned.v1"
    data: TicketUnassignedData


class TicketStatusChanged(_TicketEvent):
    type: Literal["aiff.ticket.status_changed.v1"] = "aiff.ticket.status_changed.v1"
    data: TicketStatusChangedData


class TicketDeleted(_TicketEvent):
    type: Literal["aiff.ticket.deleted.v1"] = "aiff.ticket.deleted.v1"
    data: TicketDeletedData


class TicketEnriched(_TicketEvent):
    type: Literal["aiff.ticket.enriched.v1"] = "aiff.ticket.enriched.v1"
    data: TicketEnrichedData


class AssignmentDeferred(_TicketEvent):
    type: Literal["aiff.assignment.deferred.v1"] = "aiff.assignment.deferred.v1"
    data: AssignmentDeferredData


class TicketPinned(_TicketEvent):
    """A dispatcher froze the ticket (optionally onto a team, position and day): the planner never moves it."""

    type: Literal["aiff.ticket.pinned.v1"] = "aiff.ticket.pinned.v1"
    data: TicketPinnedData


class TicketMoved(_TicketEvent):
    """A dispatcher moved the ticket to a team and a position in its day: a pin the planner honours there."""

    type: Literal["aiff.ticket.moved.v1"] = "aiff.ticket.moved.v1"
    data: TicketMovedData


class TicketUnpinned(_TicketEvent):
    """A dispatcher released a pin: the planner may move the ticket again."""

    type: Literal["aiff.ticket.unpinned.v1"] = "aiff.ticket.unpinned.v1"
    data: TicketUnpinnedData


class TicketSlaAtRisk(_TicketEvent):
    """The SLA consumer expects the ticket's due time to be missed (published at most once per ticket and due date)."""

    type: Literal["aiff.ticket.sla_at_risk.v1"] = "aiff.ticket.sla_at_risk.v1"
    data: TicketSlaAtRiskData


class TicketSlaBreached(_TicketEvent):
    """The ticket's due time passed while it was still open (published at most once per ticket and due date)."""

    type: Literal["aiff.ticket.sla_breached.v1"] = "aiff.ticket.sla_breached.v1"
    data: TicketSlaBreachedData


def ticket_subject(ticket_id: int) -> str:
    """The subject/key of a ticket's events."""
    return str(ticket_id)


def ticket_event(cls: type[Envelope], data: dict[str, Any] | Payload, **attrs: Any) -> Envelope:
    """Build a ticket event whose subject is its ticket id."""
    payload = data if isinstance(data, Payload) else cls.model_fields["data"].annotation.model_validate(data)
    return cls(subject=ticket_subject(payload.ticket_id), data=payload, **attrs)
