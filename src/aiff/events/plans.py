"""Route facts on the teams topic, keyed by team id: where a team is, and its planned day."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from aiff.events.bounds import Km, Minutes, PlanDate, Sequence, TeamId, TicketId, Time
from aiff.events.envelope import Payload
from aiff.events.teams import _TeamEvent

PositionSource = Literal["field_portal", "tracker", "dispatcher"]


class TeamPositionReportedData(Payload):
    team_id: TeamId = Field(description="Team whose position was reported.")
    latitude: float = Field(ge=-90, le=90, description="WGS84 latitude.")
    longitude: float = Field(ge=-180, le=180, description="WGS84 longitude.")
    reported_at: Time = Field(description="When the position was measured (a later report of an earlier time does not replace it).")
    accuracy_m: float | None = Field(None, ge=0, le=100_000, description="Horizontal accuracy in metres, when known.")
    source: PositionSource = Field("field_portal", description="field_portal, tracker (an upstream GPS feed) or dispatcher.")


class VisitExplanation(Payload):
    """Why this team and this slot: the planner's terms for one visit, in minutes of driving (its unit of cost)."""

    travel_minutes: Minutes = Field(0, description="Drive time from the previous stop (what this slot costs in driving).")
    travel_km: Km = Field(0, description="Drive distance from the previous stop.")
    lateness_minutes: float = Field(0, ge=0, le=10**7, description="Minutes the planned end lies past the SLA due time (0: on time).")
    priority: str | None = Field(None, max_length=20, description="The ticket's priority when planned.")
    priority_weight_minutes: float = Field(0, ge=0, le=10**7, description="What serving the visit (on time) is worth to the planner, in minutes of driving: higher priorities outweigh longer drives.")
    churn: Literal["new", "kept", "moved", "pinned"] = Field("new", description="new: first planned; kept: stays with its team; moved: taken from another team because that saved more than the churn threshold; pinned: fixed (in progress, dispatcher's pin or move, or departing within the freeze horizon).")
    churn_gain_minutes: float | None = Field(None, ge=-10**7, le=10**7, description="For a re-plan that moved visits: minutes of planner cost saved over keeping every visit with its team.")
    next_best_team_id: TeamId | None = Field(None, description="The nearest other capable team on shift, for comparison.")
    next_best_travel_minutes: Minutes | None = Field(None, description="That team's drive from where it starts its day.")
    summary: str | None = Field(None, max_length=1000, description="The same in one sentence.")


class PlannedVisit(Payload):
    ticket_id: TicketId = Field(description="Ticket visited.")
    sequence: Sequence = Field(description="Order in the day, from 1; unique within the plan.")
    eta: Time = Field(description="Planned arrival on site.")
    planned_start: Time = Field(description="Planned start of work (after the ETA when waiting for a time window).")
    planned_end: Time = Field(description="Planned end of work.")
    travel_minutes: Minutes = Field(0, description="Drive time from the previous stop.")
    travel_km: Km = Field(0, description="Drive distance from the previous stop.")
    pinned: bool = Field(False, description="Frozen: in progress, pinned by a dispatcher, or departing soon.")
    explanation: VisitExplanation | None = Field(None, description="Why this team and this slot (routes strategy).")

    @model_validator(mode="after")
    def _in_order(self) -> PlannedVisit:
        if not self.eta <= self.planned_start <= self.planned_end:
            raise ValueError("a visit needs eta <= planned_start <= planned_end")
        return self


class PlanTotals(Payload):
    drive_minutes: Minutes = Field(0, description="Total drive time of the day, including the return to base.")
    drive_km: Km = Field(0, description="Total drive distance of the day.")
    overtime_minutes: Minutes = Field(0, description="Minutes past the shift end.")


class UnservedTicket(Payload):
    ticket_id: TicketId = Field(description="Ticket the plan could not place on this team-day.")
    reason: str | None = Field(None, max_length=1000, description="The binding reason, e.g. 'outside every time window'.")
    code: str | None = Field(None, max_length=40, description="The binding reason as a code: no_team_with_skill, outside_time_window, no_shift_time, pinned_team_cannot_fit, outranked, team_at_capacity.")


class PlanUpdatedData(Payload):
    team_id: TeamId = Field(description="Team whose day this is.")
    plan_date: PlanDate = Field(description="The day (Malaysia time), `YYYY-MM-DD`.")
    revision: int = Field(ge=1, le=2**31 - 1, description="Grows with every re-plan of the team-day; an older revision than the one applied is ignored.")
    strategy: str = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$", description="Planner that made it, e.g. route, greedy, nearest.")
    visits: list[PlannedVisit] = Field(default_factory=list, max_length=500, description="The whole day's visits (replaces the previous revision's).")
    break_start: Time | None = Field(None, description="Planned start of the lunch break.")
    break_end: Time | None = Field(None, description="Planned end of the lunch break.")
    totals: PlanTotals = Field(default_factory=PlanTotals, description="Drive time, distance and overtime of the day.")
    unserved: list[UnservedTicket] = Field(default_factory=list, max_length=10_000, description="Tickets left out, with reasons.")
    reason: str | None = Field(None, max_length=2000, description="Why the plan changed (the triggering event, the gain).")

    @model_validator(mode="after")
    def _consistent(self) -> PlanUpdatedData:
        if len({v.ticket_id for v in self.visits}) != len(self.visits):
            raise ValueError("a ticket appears twice in the plan")
        if len({v.sequence for v in self.visits}) != len(self.visits):
            raise ValueError("two visits share a sequence number")
        if (self.break_start is None) != (self.break_end is None):
            raise ValueError("break_start and break_end go together")
        if self.break_start is not None and self.break_end is not None and self.break_end < self.break_start:
            raise ValueError("break_end must not be before break_start")
        return self


class TeamPositionReported(_TeamEvent):
    """Where a team was at a moment (from the field portal or an upstream tracker)."""

    type: Literal["aiff.team.position_reported.v1"] = "aiff.team.position_reported.v1"
    data: TeamPositionReportedData


class PlanUpdated(_TeamEvent):
    """A team's planned day, as a whole: ordered visits with ETAs, the break, totals and what was left out."""

    type: Literal["aiff.plan.updated.v1"] = "aiff.plan.updated.v1"
    data: PlanUpdatedData
