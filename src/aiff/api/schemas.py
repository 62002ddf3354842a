"""Request and response bodies of the HTTP API (the seeds' schemas, extended with what AIFF adds)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from aiff.events.bounds import MAX_TICKET_ID
from aiff.events.bounds import EARLIEST, LATEST
from aiff.events.requests import AssignmentCriteria
from aiff.events.shifts import DEFAULT_SHIFT, ClockTime, LunchMinutes, OvertimeMinutes, WorkingDays, shift_error
from aiff.events.vocabulary import Priority, Skill, TeamStatus, TicketStatus
from aiff.zones import canonical_zone

MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
Role = Literal["admin", "dispatcher", "analyst", "field", "user"]


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


def _known_zone(value: str) -> str:
    zone = canonical_zone(_clean_text(value))
    if zone is None:
        raise ValueError(f"unknown zone {value!r}; use one of Malaysia's 15 zones, e.g. Selangor")
    return zone


def _sane_datetime(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("date out of range") from exc
    if not EARLIEST <= utc < LATEST:  # the event contract's range: a wider one would fail building the event (500)
        raise ValueError("date must be in the years 2000 to 2100")
    return utc


_DIGITS = re.compile(r"[0-9]+")


def _digits_only(value: Any) -> Any:
    """Ids in paths and query strings arrive as text: only plain digits are an id (`1.0`, `+1`, `1e3` are not)."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number written with digits only")
        if len(value) > 19:
            raise ValueError(f"must be at most {MAX_BIGINT}")
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
ZoneName = Annotated[str, AfterValidator(_known_zone)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_sane_datetime)]
TicketId = Annotated[int, Field(ge=1, le=MAX_TICKET_ID, description="Ticket id (1 … 2^53-1, the event contract's range).")]
TeamId = Annotated[int, Field(ge=1, le=MAX_INT, description="Team id (positive 32-bit integer).")]
StrictDigits = BeforeValidator(_digits_only)
"""Put after `Path()`/`Query()` in an id's `Annotated` (before them, the OpenAPI loses the bounds): digits only."""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- users -----------------------------------------------------------------------------------------


class UserCreate(BaseModel):
    """Self-registration. The role may only be `user`; an admin grants other roles."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "aisyah", "email": "aisyah@example.com", "password": "s3cret-pass", "role": "user"}]}
    )

    username: Text = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$", description="Login name.")
    email: EmailStr = Field(max_length=100, description="Unique e-mail address.")
    password: Text = Field(min_length=8, max_length=128, description="At least 8 characters.")
    role: Role = Field("user", description="Only `user` is accepted at self-registration.")


class Credentials(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "admin", "password": "s3cret-pass"}]})

    username: Text = Field(min_length=1, max_length=50)
    password: Text = Field(min_length=1, max_length=128)


class UserResponse(BaseModel):
    id: int
    username: str
    email: str
    role: Role
    team_id: int | None = Field(None, description="Team of a field user.")
    is_active: bool
    created_at: datetime


class TokenResponse(BaseModel):
    access_token: str = Field(description="JWT to send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    user: UserResponse


class RoleUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "field", "team_id": 12}]})

    role: Role
    team_id: TeamId | None = Field(None, description="Required for the field role: the user's team.")
    is_active: bool | None = Field(None, description="Deactivate or reactivate the account.")


# --- teams -----------------------------------------------------------------------------------------


class ShiftBody(BaseModel):
    """Shift calendar (Malaysia time); absent fields keep the defaults (create) or current values (update)."""

    shift_start: ClockTime | None = Field(None, description="`HH:MM`, default 08:00.")
    shift_end: ClockTime | None = Field(None, description="`HH:MM`, after shift_start; default 17:00.")
    working_days: WorkingDays | None = Field(None, description="mon..sun, default mon-sat.")
    lunch_earliest: ClockTime | None = Field(None, description="Lunch starts no earlier; default 12:00.")
    lunch_latest: ClockTime | None = Field(None, description="Lunch ends no later; default 14:00.")
    lunch_minutes: LunchMinutes | None = Field(None, description="Default 45.")
    max_overtime_minutes: OvertimeMinutes | None = Field(None, description="Default 60.")

    def shift_given(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in DEFAULT_SHIFT if getattr(self, k) is not None}


class TeamCreate(ShiftBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Pasukan Ahmad", "zone": "Selangor", "base_town": "Shah Alam", "latitude": 3.07, "longitude": 101.52,
                 "skills": ["fiber", "copper"], "capacity": 5, "members": ["Ahmad", "Siti"]}
            ]
        }
    )  # fmt: skip

    name: Text = Field(min_length=1, max_length=100)
    zone: ZoneName = Field(max_length=100, description="Home zone (Malaysian state), e.g. Selangor.")
    description: Text | None = Field(None, max_length=2000)
    base_town: Text | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    skills: list[Skill] = Field(default_factory=list, max_length=6)
    capacity: int = Field(5, ge=0, le=1000, description="Most open tickets the team may hold.")
    members: list[Annotated[Text, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    status: TeamStatus = "available"

    @model_validator(mode="after")
    def _shift(self) -> TeamCreate:
        if (error := shift_error({**DEFAULT_SHIFT, **self.shift_given()})) is not None:
            raise ValueError(error)
        return self


class TeamUpdate(ShiftBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "offline", "capacity": 4}]})

    name: Text | None = Field(None, min_length=1, max_length=100)
    zone: ZoneName | None = Field(None, max_length=100)
    description: Text | None = Field(None, max_length=2000)
    base_town: Text | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    skills: list[Skill] | None = Field(None, max_length=6)
    capacity: int | None = Field(None, ge=0, le=1000)
    members: list[Annotated[Text, Field(min_length=1, max_length=100)]] | None = Field(None, max_length=50)
    status: TeamStatus | None = None
    status_reason: Text | None = Field(None, max_length=1000, description="Why the status changed.")


class TeamResponse(BaseModel):
    id: int
    name: str
    zone: str
    description: str | None = None
    is_active: bool
    tickets_completed: int
    customer_rating: float
    response_time: int = Field(description="Mean minutes from assignment to start of work.")
    completion_rate: float
    efficiency: float
    status: str
    base_town: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    skills: list[str] = Field(default_factory=list)
    capacity: int
    members: list[Any] = Field(default_factory=list)
    open_tickets: int = Field(0, description="Tickets assigned or in progress now.")
    created_at: datetime
    updated_at: datetime | None = None
    shift_start: str = DEFAULT_SHIFT["shift_start"]
    shift_end: str = DEFAULT_SHIFT["shift_end"]
    working_days: list[str] = Field(default_factory=lambda: list(DEFAULT_SHIFT["working_days"]))
    lunch_earliest: str = DEFAULT_SHIFT["lunch_earliest"]
    lunch_latest: str = DEFAULT_SHIFT["lunch_latest"]
    lunch_minutes: int = DEFAULT_SHIFT["lunch_minutes"]
    max_overtime_minutes: int = DEFAULT_SHIFT["max_overtime_minutes"]

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        return _json(value) or []


class ProductivityData(BaseModel):
    ticketsCompleted: int
    customerRating: float
    responseTime: int
    completionRate: float
    efficiency: float


class EnhancedTeamResponse(TeamResponse):
    productivity: ProductivityData


class ZoneAnalytics(BaseModel):
    zone: str
    code: str
    region: str
    latitude: float
    longitude: float
    assignment_mode: str
    teams: int
    active_teams: int
    available_teams: int
    capacity: int
    open_tickets: int
    tickets_completed: int
    avg_customer_rating: float
    avg_efficiency: float


# --- tickets ---------------------------------------------------------------------------------------


class VisitBody(BaseModel):
    """The customer's time window and the expected minutes on site (optional)."""

    window_start: Timestamp | None = Field(None, description="The customer can be visited from (with an offset).")
    window_end: Timestamp | None = Field(None, description="... until; after window_start.")
    service_minutes: int | None = Field(None, ge=1, le=1440, description="Expected minutes on site.")

    @model_validator(mode="after")
    def _window(self) -> VisitBody:
        if self.window_start is not None and self.window_end is not None and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class TicketCreate(VisitBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "Fibre cut at Jalan Ampang", "description": "No service since 9am", "priority": "high",
                 "category": "fiber", "zone": "Kuala Lumpur", "location": "Ampang", "latitude": 3.16, "longitude": 101.75,
                 "customer_name": "Tan Wei Ming"}
            ]
        }
    )  # fmt: skip

    title: Text = Field(min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=10_000)
    priority: Priority = "medium"
    category: Skill | None = Field(None, description="Kind of work; the skill a team needs.")
    zone: ZoneName = Field(max_length=100, description="Zone (Malaysian state), e.g. Selangor.")
    location: Text | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    customer_name: Text | None = Field(None, max_length=100)
    due_date: Timestamp | None = Field(None, description="SLA deadline; defaults to the priority's SLA.")


class TicketUpdate(VisitBody):
    """Fields to change; `status` (with `notes`/`customer_rating`) moves the ticket along its lifecycle."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"priority": "critical"}, {"status": "in_progress", "notes": "On site"}]})

    title: Text | None = Field(None, min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=10_000)
    priority: Priority | None = None
    category: Skill | None = None
    location: Text | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    due_date: Timestamp | None = None
    status: TicketStatus | None = None
    notes: Text | None = Field(None, max_length=5000)
    customer_rating: float | None = Field(None, ge=1, le=5)


class StatusChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "completed", "notes": "Replaced splitter", "customer_rating": 4.5}]}
    )

    status: Literal["in_progress", "completed", "closed", "cancelled", "reopened"]
    notes: Text | None = Field(None, max_length=5000)
    customer_rating: float | None = Field(None, ge=1, le=5)


class AssignRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket_id": 101, "team_id": 7, "reason": "closest crew on site"}]})

    ticket_id: TicketId
    team_id: TeamId
    reason: Text | None = Field(None, max_length=1000)


class AutoAssignRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket_ids": [101, 102], "criteria": {"strategy": "optimal"}}]})

    ticket_ids: list[TicketId] = Field(min_length=1, max_length=10_000)
    criteria: AssignmentCriteria = Field(default_factory=AssignmentCriteria)


class AutoAssignAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    request_id: str = Field(description="Answers (TicketAssigned / AssignmentDeferred) carry it as causation id.")
    event_id: str
    ticket_ids: list[int]


class Accepted(BaseModel):
    """The change is durable in Kafka but not applied yet; poll `location`."""

    status: Literal["accepted"] = "accepted"
    location: str
    event_id: str


ACCEPTED_DOC = {202: {"model": Accepted, "description": "Published, not yet applied; poll `location`."}}
"""The OpenAPI entry of a write that answers 202 when the projector has not applied it in time."""


class PlannedSlot(BaseModel):
    """A ticket's visit in its team's planned day, with the planner's explanation."""

    team_id: int
    plan_date: date
    revision: int
    sequence: int
    eta: datetime
    planned_start: datetime
    planned_end: datetime
    travel_minutes: float
    travel_km: float
    pinned: bool
    explanation: dict[str, Any] | None = Field(
        None, description="travel_minutes, travel_km, lateness_minutes, priority, priority_weight_minutes, churn "
        "(new, kept, moved, pinned), churn_gain_minutes, next_best_team_id, next_best_travel_minutes, summary.",
    )

    @field_validator("explanation", mode="before")
    @classmethod
    def _explanation(cls, value: Any) -> Any:
        return _json(value)


class UnservedInfo(BaseModel):
    """Why the engine left a ticket unassigned: the binding reason of its latest deferral."""

    code: str | None = Field(None, description="no_team_with_skill, outside_time_window, no_shift_time, "
                             "pinned_team_cannot_fit, outranked, team_at_capacity (routes strategy); None for the baselines.")  # fmt: skip
    reason: str
    strategy: str
    decided_at: datetime


class UnservedAssignment(BaseModel):
    """A ticket without an active assignment that the engine tried to place."""

    ticket_id: int
    assigned: bool = Field(False, description="Always False here.")
    status: str = Field(description="The ticket's status.")
    unserved: UnservedInfo
    planned: PlannedSlot | None = Field(
        None, description="The visit planned on a later day of the horizon (deferral code planned_later): its team, "
        "plan_date and ETA; absent when no plan from today on holds the ticket.",
    )


class AssignmentInfo(BaseModel):
    team_id: int
    status: str
    strategy: str
    assigned_by: str
    assigned_at: datetime
    score: float | None = None
    distance_km: float | None = None
    breakdown: dict[str, Any] = Field(default_factory=dict, description="Per-factor contributions: why this team.")
    frozen: bool = Field(False, description="A dispatcher's choice (a pin): the engine will not revise it.")
    notes: str | None = None
    planned_start: datetime | None = None
    eta: datetime | None = None
    sequence: int | None = None
    plan_date: date | None = None
    assigned: bool = Field(True, description="True: the ticket has an active assignment (see `unserved` otherwise).")
    planned: PlannedSlot | None = Field(None, description="Its visit in the team's current plan, with why this team and slot.")

    @field_validator("breakdown", mode="before")
    @classmethod
    def _breakdown(cls, value: Any) -> Any:
        return _json(value) or {}


class TicketResponse(BaseModel):
    id: int
    ticket_number: str
    title: str
    description: str | None = None
    priority: str
    status: str
    category: str | None = None
    assigned_team: int | None = None
    assigned_to: str | None = None
    zone: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    customer_name: str | None = None
    created_by: str | None = None
    customer_rating: float | None = None
    resolution_notes: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime | None = None
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    due_date: datetime | None = None
    completed_at: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    service_minutes: int | None = None
    pinned: bool = Field(False, description="Frozen by a dispatcher: the planner never moves it.")
    pinned_team: int | None = None
    pinned_sequence: int | None = None
    pinned_date: date | None = None


class TicketDetail(TicketResponse):
    assignment: AssignmentInfo | None = Field(None, description="The active assignment and why it was made.")


class TicketPage(BaseModel):
    items: list[TicketResponse]
    total: int = Field(description="Tickets matching the filters, all pages.")
    page: int
    limit: int
    pages: int


class AssignResponse(BaseModel):
    ticket: TicketDetail | None = None
    accepted: Accepted | None = None
    warnings: list[str] = Field(default_factory=list, description="e.g. the team lacks the ticket's skill.")


class HistoryEntry(BaseModel):
    event_id: str
    type: str
    time: datetime
    source: str
    correlation_id: str | None = None
    topic: str
    partition: int
    offset: int
    data: dict[str, Any]
    applied_at: datetime
    outcome: Literal["applied", "stale"] = Field(
        "applied", description="stale: a decision of AIFF's own refused because the ticket had changed meanwhile (not applied)"
    )
    reason: str | None = Field(None, description="Why a stale decision was refused.")


class HealthResponse(BaseModel):
    status: Literal["healthy", "unhealthy"]
    checks: dict[str, dict[str, Any]]
    version: str
    timestamp: datetime


class TicketOverview(BaseModel):
    total: int
    open: int = Field(description="open, reopened, assigned or in progress.")
    overdue: int = Field(description="Open tickets past their due date.")
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_zone: dict[str, int]
    sla_compliance_pct: float | None = Field(None, description="Completed/closed tickets finished by their due date, percent.")
    mean_time_to_assign_min: float | None = None
    mean_time_to_start_min: float | None = None
    mean_resolution_hours: float | None = None
    avg_customer_rating: float | None = None


class PriorityPerformance(BaseModel):
    priority: str
    total: int
    completed: int
    sla_met: int
    sla_compliance_pct: float | None = None
    mean_resolution_hours: float | None = None


class DailyCount(BaseModel):
    day: str = Field(description="ISO date (UTC).")
    created: int
    completed: int


class TicketPerformance(BaseModel):
    by_priority: list[PriorityPerformance]
    daily: list[DailyCount] = Field(description="Last `days` days, oldest first.")
