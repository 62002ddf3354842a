"""Team KPIs from additive daily counters, so they can be recomputed from a handful of sums.

Formulas (the seeds' `teams` fields, plus the field-service KPIs we add), over all of a team's days:

- ``tickets_completed`` = Σ completed
- ``customer_rating``   = Σ rating / Σ ratings given (0 when none), 2 decimals
- ``response_time``     = Σ minutes assignment→start / Σ started (integer minutes; 0 when none started)
- ``completion_rate``   = Σ completed / Σ assigned · 100, capped at 100 (a reassigned ticket counts as
  assigned for every team that held it; only the team that completes it counts the completion)
- ``efficiency``        = Σ completed within SLA (completion time ≤ due date) / Σ completed · 100
- ``first_time_fix``    = (Σ completed − Σ reopened within 7 days of that completion) / Σ completed · 100
- ``reopen_rate``       = Σ reopened (any delay) / Σ completed · 100, capped at 100
- ``utilization``       = open tickets (assigned or in progress) / capacity · 100 (0 when capacity is 0)
- ``open_tickets``      = tickets currently assigned to the team and not finished

A reopen is charged to the team that completed the ticket, on the day of the reopen. Days are Malaysian
calendar days (UTC+8, no daylight saving).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, timezone

MYT = timezone(timedelta(hours=8), "MYT")
FIRST_TIME_FIX_DAYS = 7

COUNTERS = (
    "assigned", "started", "completed", "sla_met", "sla_missed", "reopened", "reopened_7d", "cancelled",
    "sum_assign_minutes", "sum_response_minutes", "sum_resolve_minutes", "rating_sum", "rating_count",
)  # fmt: skip
ZONE_COUNTERS = ("created", *COUNTERS)


def day_of(moment: datetime) -> date:
    """The Malaysian calendar day of an instant."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(MYT).date()


def day_start(day: date) -> datetime:
    """Midnight of a Malaysian day, as an aware instant (the `date_recorded` of daily analytics rows)."""
    return datetime(day.year, day.month, day.day, tzinfo=MYT)


def _ratio(num: float, den: float, scale: float = 100.0, cap: float | None = 100.0) -> float:
    if den <= 0:
        return 0.0
    value = num / den * scale
    return round(min(value, cap) if cap is not None else value, 2)


@dataclass(frozen=True)
class TeamMetrics:
    """One team's KPIs (see the module docstring for the formulas)."""

    tickets_completed: int
    customer_rating: float
    response_time: int
    completion_rate: float
    efficiency: float
    open_tickets: int
    first_time_fix: float
    reopen_rate: float
    utilization: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def published_part(self) -> tuple:
        """The values `TeamMetricsUpdated` carries; an event is published only when these change."""
        return (
            self.tickets_completed, self.customer_rating, self.response_time, self.completion_rate,
            self.efficiency, self.open_tickets,
        )  # fmt: skip


def team_metrics(sums: Mapping[str, float], open_tickets: int = 0, capacity: int = 0) -> TeamMetrics:
    """KPIs from a team's summed counters (missing counters count as 0)."""
    g = lambda k: float(sums.get(k) or 0)  # noqa: E731
    completed = g("completed")
    return TeamMetrics(
        tickets_completed=int(completed),
        customer_rating=round(g("rating_sum") / g("rating_count"), 2) if g("rating_count") else 0.0,
        response_time=int(round(g("sum_response_minutes") / g("started"))) if g("started") else 0,
        completion_rate=_ratio(completed, g("assigned")),
        efficiency=_ratio(g("sla_met"), completed),
        open_tickets=int(open_tickets),
        first_time_fix=_ratio(max(completed - g("reopened_7d"), 0), completed),
        reopen_rate=_ratio(g("reopened"), completed),
        utilization=_ratio(open_tickets, capacity, cap=None),
    )


def daily_metric_rows(sums: Mapping[str, float]) -> dict[str, float]:
    """The per-day metrics written to the seeds' `analytics` table for one team and day."""
    m = team_metrics(sums)
    rows = {
        "tickets_completed": float(m.tickets_completed),
        "tickets_assigned": float(sums.get("assigned") or 0),
        "completion_rate": m.completion_rate,
        "efficiency": m.efficiency,
        "sla_missed": float(sums.get("sla_missed") or 0),
        "reopened": float(sums.get("reopened") or 0),
    }
    if sums.get("started"):
        rows["response_time"] = float(m.response_time)
    if sums.get("rating_count"):
        rows["customer_rating"] = m.customer_rating
    if sums.get("completed"):
        rows["first_time_fix"] = m.first_time_fix
        rows["resolve_minutes"] = round(float(sums.get("sum_resolve_minutes") or 0) / float(sums["completed"]), 2)
    return rows
