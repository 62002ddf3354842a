"""Team and zone events: keyed by team id (teams topic) or zone name (zones topic)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from aiff.events.bounds import Count, TeamId
from aiff.events.envelope import Envelope, Payload
from aiff.events.shifts import DEFAULT_SHIFT, ClockTime, LunchMinutes, OvertimeMinutes, WorkingDays, shift_error
from aiff.events.vocabulary import Skill, TeamStatus


class ShiftFields(Payload):
    """A team's shift calendar (additive, optional; absent fields keep their defaults or current values)."""

    shift_start: ClockTime | None = Field(None, description="Start of the working day, Malaysia time `HH:MM` (default 08:00).")
    shift_end: ClockTime | None = Field(None, description="End of the working day, Malaysia time `HH:MM`, after the start (default 17:00).")
    working_days: WorkingDays | None = Field(None, description="Days the team works: mon..sun, no repeats (default mon-sat).")
    lunch_earliest: ClockTime | None = Field(None, description="The lunch break starts no earlier than this (default 12:00).")
    lunch_latest: ClockTime | None = Field(None, description="The lunch break ends no later than this (default 14:00).")
    lunch_minutes: LunchMinutes | None = Field(None, description="Length of the lunch break in minutes (default 45).")
    max_overtime_minutes: OvertimeMinutes | None = Field(None, description="Most minutes past shift_end a day may run (default 60).")

    def shift_given(self) -> dict:
        return {k: getattr(self, k) for k in DEFAULT_SHIFT if getattr(self, k) is not None}


class TeamCreatedData(ShiftFields):
    team_id: TeamId = Field(description="Team id chosen by the publisher; unique.")
    name: str = Field(min_length=1, max_length=100, description="Team name, e.g. 'Pasukan Ahmad Rahman'.")
    zone: str = Field(min_length=1, max_length=100, description="Home zone (Malaysian state); must be a known zone.")
    description: str | None = Field(None, max_length=2000, description="Free text.")
    base_town: str | None = Field(None, max_length=100, description="Town the team starts from.")
    latitude: float | None = Field(None, ge=-90, le=90, description="Latitude of the team's base.")
    longitude: float | None = Field(None, ge=-180, le=180, description="Longitude of the team's base.")
    skills: list[Skill] = Field(default_factory=list, description="Kinds of work the team can do.")
    capacity: int = Field(5, ge=0, le=1000, description="Most open tickets the team may hold at once.")
    members: list[str] = Field(default_factory=list, description="Technicians' names.")
    status: TeamStatus = Field("available", description="available, busy, offline or on_leave.")

    @model_validator(mode="after")
    def _consistent_shift(self) -> TeamCreatedData:
        if (error := shift_error({**DEFAULT_SHIFT, **self.shift_given()})) is not None:
            raise ValueError(error)
        return self


class TeamUpdatedData(ShiftFields):
    team_id: TeamId = Field(description="Team the change applies to.")
    name: str | None = Field(None, min_length=1, max_length=100, description="New name, when changed.")
    zone: str | None = Field(None, min_length=1, max_length=100, description="New home zone, when changed.")
    description: str | None = Field(None, max_length=2000, description="New description, when changed.")
    base_town: str | None = Field(None, max_length=100, description="New base town, when changed.")
    latitude: float | None = Field(None, ge=-90, le=90, description="New base latitude, when changed.")
    longitude: float | None = Field(None, ge=-180, le=180, description="New base longitude, when changed.")
    skills: list[Skill] | None = Field(None, description="New skills, when changed.")
    capacity: int | None = Field(None, ge=0, le=1000, description="New capacity, when changed.")
    members: list[str] | None = Field(None, description="New members, when changed.")

    @model_validator(mode="after")
    def _consistent_pairs(self) -> TeamUpdatedData:
        """Pairs given together must agree; the projector checks the result against the stored shift."""
        given = self.shift_given()
        if {"shift_start", "shift_end"} <= given.keys() and given["shift_end"] <= given["shift_start"]:
            raise ValueError("shift_end must be after shift_start (no overnight shifts)")
        if {"lunch_earliest", "lunch_latest"} <= given.keys() and given["lunch_latest"] < given["lunch_earliest"]:
            raise ValueError("lunch_latest must not be before lunch_earliest")
        return self


class TeamDeletedData(Payload):
    team_id: TeamId = Field(description="Team retired (kept as inactive in the read models).")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TeamStatusChangedData(Payload):
    team_id: TeamId = Field(description="Team whose availability changed.")
    status: TeamStatus = Field(description="New status; offline/on_leave sends its unstarted tickets back to the queue.")
    reason: str | None = Field(None, max_length=1000, description="Why.")


class TeamMetricsUpdatedData(Payload):
    team_id: TeamId = Field(description="Team the metrics describe.")
    tickets_completed: Count = Field(description="Tickets completed, all time.")
    customer_rating: float = Field(ge=0, le=5, description="Mean customer rating of completed tickets (0 when none).")
    response_time: Count = Field(description="Mean minutes from assignment to start of work.")
    completion_rate: float = Field(ge=0, le=100, description="Percent of assigned tickets completed.")
    efficiency: float = Field(ge=0, le=100, description="Percent of completed tickets finished within SLA.")
    open_tickets: Count = Field(0, description="Tickets currently assigned or in progress.")


class ZoneConfiguredData(Payload):
    zone: str = Field(min_length=1, max_length=100, description="Zone name; must be a known zone.")
    assignment_mode: Literal["auto", "manual"] = Field(description="auto: the engine assigns new tickets; manual: dispatchers do.")
    configured_by: str | None = Field(None, max_length=100, description="Who changed it.")


class _TeamEvent(Envelope):
    topic_kind: ClassVar[str] = "teams"


class TeamCreated(_TeamEvent):
    type: Literal["aiff.team.created.v1"] = "aiff.team.created.v1"
    data: TeamCreatedData


class TeamUpdated(_TeamEvent):
    type: Literal["aiff.team.updated.v1"] = "aiff.team.updated.v1"
    data: TeamUpdatedData


class TeamDeleted(_TeamEvent):
    type: Literal["aiff.team.deleted.v1"] = "aiff.team.deleted.v1"
    data: TeamDeletedData


class TeamStatusChanged(_TeamEvent):
    type: Literal["aiff.team.status_changed.v1"] = "aiff.team.status_changed.v1"
    data: TeamStatusChangedData


class TeamMetricsUpdated(_TeamEvent):
    type: Literal["aiff.team.metrics_updated.v1"] = "aiff.team.metrics_updated.v1"
    data: TeamMetricsUpdatedData


class ZoneConfigured(_TeamEvent):
    """Zone settings travel on the teams topic, keyed by zone name (`zone:<name>`)."""

    type: Literal["aiff.zone.configured.v1"] = "aiff.zone.configured.v1"
    data: ZoneConfiguredData


def team_event(cls: type[Envelope], data: dict[str, Any] | Payload, **attrs: Any) -> Envelope:
    """Build a team event whose subject is its team id (or `zone:<name>` for zone settings)."""
    payload = data if isinstance(data, Payload) else cls.model_fields["data"].annotation.model_validate(data)
    subject = f"zone:{payload.zone}" if isinstance(payload, ZoneConfiguredData) else str(payload.team_id)
    return cls(subject=subject, data=payload, **attrs)
