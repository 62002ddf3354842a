"""Request and response bodies of the route endpoints: plans, ETAs, positions, pins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from aiff.api.schemas import Text, Timestamp, _json
from aiff.events.bounds import PlanDate, Sequence
from aiff.events.plans import PositionSource


class VisitOut(BaseModel):
    ticket_id: int
    ticket_number: str | None = Field(None, description="None when the ticket is not (or no longer) in the read models.")
    title: str | None = None
    priority: str | None = None
    status: str | None = None
    sequence: int
    eta: datetime
    planned_start: datetime
    planned_end: datetime
    travel_minutes: float
    travel_km: float
    pinned: bool
    due_date: datetime | None = None
    on_time: bool | None = Field(None, description="planned_end <= due_date (None without a due date).")


class PlanOut(BaseModel):
    team_id: int
    team_name: str
    zone: str
    plan_date: date
    revision: int
    strategy: str
    drive_minutes: float
    drive_km: float
    overtime_minutes: float
    break_start: datetime | None = None
    break_end: datetime | None = None
    unserved: list[dict[str, Any]] = Field(default_factory=list, description="[{ticket_id, reason}] left out of the day.")
    reason: str | None = None
    updated_at: datetime
    visits: list[VisitOut] = Field(default_factory=list)

    @field_validator("unserved", mode="before")
    @classmethod
    def _unserved(cls, value: Any) -> Any:
        return _json(value) or []


class PlanPage(BaseModel):
    items: list[PlanOut]
    total: int
    page: int
    limit: int
    pages: int


class TicketEta(BaseModel):
    ticket_id: int
    ticket_number: str
    title: str
    status: str
    team_id: int
    team_name: str
    plan_date: date
    revision: int
    sequence: int
    eta: datetime
    planned_start: datetime
    planned_end: datetime
    pinned: bool
    window_start: datetime | None = None
    window_end: datetime | None = None
    due_date: datetime | None = None
    on_time: bool | None = Field(None, description="planned_end <= due_date (None without a due date).")
    minutes_late: float = Field(0, description="Minutes planned_end is past due_date (0 when on time).")


class PositionReport(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    reported_at: Timestamp | None = Field(None, description="When measured; default now. At most 5 minutes ahead.")
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    source: PositionSource = "field_portal"


class TeamPosition(BaseModel):
    team_id: int
    latitude: float
    longitude: float
    reported_at: datetime
    accuracy_m: float | None = None
    source: str


class PinRequest(BaseModel):
    """Freeze the ticket; with `team_id` (and `sequence`, `plan_date`) it is also a move to that team and slot."""

    team_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Team to pin to; default the current team.")
    sequence: Sequence | None = Field(None, description="Position in the team's day, from 1.")
    plan_date: PlanDate | None = Field(None, description="Day (Malaysia time).")
    reason: Text | None = Field(None, max_length=1000)


class MoveRequest(BaseModel):
    """Move a ticket to a team and a position in its day (a pin there)."""

    team_id: int = Field(ge=1, le=2**31 - 1, description="Team that takes the visit.")
    position: Sequence = Field(description="Position in the team's day, from 1 (past the end: last).")
    plan_date: PlanDate | None = Field(None, description="Day (Malaysia time); default the team's next working day.")
    reason: Text | None = Field(None, max_length=1000)


class UnpinRequest(BaseModel):
    reason: Text | None = Field(None, max_length=1000)
