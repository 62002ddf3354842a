"""The planner's objective, in one unit: seconds of driving.

PyVRP minimises route cost + the prizes of the visits it leaves out. We set a route's cost to its drive
time (the "distance" matrix PyVRP sees holds drive seconds) plus overtime, and price every visit by what
serving it is worth in drive seconds:

- serving a visit within the horizon is worth SERVE_PRIZE[priority] (the penalty for leaving it unserved):
  the planner drives up to that much extra to fit it in;
- finishing it by its SLA due time is worth ON_TIME_BONUS[priority] more, and every hour late costs
  LATE_PER_HOUR[priority] hours of driving. PyVRP 0.14 time windows are hard, so a soft due time is modelled
  as mutually exclusive copies of the visit (one PyVRP client group): an on-time copy whose latest start is
  `due - service`, worth SERVE + BONUS, then one late copy per LATE_TIERS bound (latest start `due - service
  + bound`, worth SERVE - LATE_PER_HOUR x bound: priced at the tier's worst lateness), and a last copy up to
  the end of the customer window or horizon, worth SERVE - LATE_PER_HOUR x the last bound (at least
  SERVE x LATE_FLOOR). Lateness is thus priced per minute, rounded up to the tier;
- the weights make priority dominate: an on-time critical (or high) visit is worth more than several
  medium or low ones, whose SLAs (3 and 7 days) the multi-day horizon can meet on a later day;
- the on-time copy aims at finishing DUE_MARGIN[priority] x service before the due time (jobs run long:
  the service time is a median), so a plan counted on time stays on time when a job overruns (no margin
  for critical: a 4 h SLA has no room for it);
- with a multi-day horizon, serving a visit today is worth TODAY_BONUS[priority] more than on the horizon's
  last day, and each day in between proportionally less (one more copy per day end, `sooner_bonus`): work is
  not put off for nothing; lateness the copies no longer price (past the floor or the last tier) keeps
  costing LATE_PER_HOUR per hour from one day's end to the next (`day_bonus`), so a ticket already late is
  served on the first day that can take it, before work that is on time either way;
- a second of overtime costs OVERTIME_COST seconds of driving;
- with `churn_cost` set (the simulation uses CHURN_COST), a re-plan moves a visit planned on one team to
  another only when that saves more than churn_cost per moved visit (see aiff.planning.solver);
- a visit pinned to a team is worth PINNED_PRIZE, more than any route could cost, so it is dropped only
  when that team cannot fit it at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOUR = 3600

SERVE_PRIZE = {"low": 2 * HOUR, "medium": 3 * HOUR, "high": 8 * HOUR, "critical": 16 * HOUR}
ON_TIME_BONUS = {"low": HOUR // 2, "medium": HOUR, "high": 12 * HOUR, "critical": 24 * HOUR}
LATE_PER_HOUR = {"low": 0.05, "medium": 0.1, "high": 0.5, "critical": 1.0}  # drive hours per hour late
LATE_TIERS = (HOUR, 4 * HOUR, 24 * HOUR)  # seconds of lateness bounding each late copy
LATE_FLOOR = 0.25
# Aim to finish by due - DUE_MARGIN x service: slack for a job that runs long. None for critical: its 4 h
# SLA leaves no room for slack, the plan has to send someone at once whatever the margin.
DUE_MARGIN = {"low": 0.5, "medium": 0.5, "high": 0.5, "critical": 0.0}
TODAY_BONUS = {"low": HOUR // 4, "medium": HOUR // 2, "high": 2 * HOUR, "critical": 4 * HOUR}
OVERTIME_COST = 2
CHURN_COST = 15 * 60
PINNED_PRIZE = 10**8


@dataclass(frozen=True)
class Costs:
    serve_prize: dict[str, int] = field(default_factory=lambda: dict(SERVE_PRIZE))
    on_time_bonus: dict[str, int] = field(default_factory=lambda: dict(ON_TIME_BONUS))
    overtime_cost: int = OVERTIME_COST
    pinned_prize: int = PINNED_PRIZE
    late_per_hour: dict[str, float] = field(default_factory=lambda: dict(LATE_PER_HOUR))
    late_tiers: tuple[int, ...] = LATE_TIERS
    late_floor: float = LATE_FLOOR
    today_bonus: dict[str, int] = field(default_factory=lambda: dict(TODAY_BONUS))
    due_margin: dict[str, float] = field(default_factory=lambda: dict(DUE_MARGIN))
    # Per moved visit on a re-plan; 0 (the default, what callers with their own churn rule get) = one free
    # solve. CHURN_COST is what the simulation uses.
    churn_cost: int = 0
    # The today-first bonus (multi-day horizon) also for visits pinned to a team: without it a pinned visit is
    # as good on a later day as today. The live dispatcher sets it (its no-churn plan pins every held visit).
    today_bonus_pinned: bool = False

    def serve(self, priority: str) -> int:
        return self.serve_prize.get(priority, self.serve_prize["medium"])

    def bonus(self, priority: str) -> int:
        return self.on_time_bonus.get(priority, self.on_time_bonus["medium"])

    def late_prize(self, priority: str, lateness: int) -> int:
        """What serving the visit `lateness` seconds late is worth (never below the floor share of SERVE)."""
        serve = self.serve(priority)
        return max(int(serve - self.rate(priority) * lateness), int(serve * self.late_floor), 1)

    def sooner_bonus(self, priority: str, day: int, days: int) -> int:
        """What serving on day `day` of a `days`-day horizon is worth over its last day: the today bonus on
        day 0, falling in equal steps to 0 on the last day."""
        if day >= days - 1:
            return 0
        bonus = self.today_bonus.get(priority, self.today_bonus["medium"])
        return bonus * (days - 1 - day) // (days - 1)

    def rate(self, priority: str) -> float:
        """Drive seconds one second of lateness costs."""
        return self.late_per_hour.get(priority, self.late_per_hour["medium"])

    def flat_after(self, priority: str) -> int:
        """Lateness (seconds) from which the late copies' prizes stop falling (the floor or the last tier)."""
        serve = self.serve(priority)
        to_floor = (serve - serve * self.late_floor) / max(self.rate(priority), 1e-9)
        return int(min(to_floor, self.late_tiers[-1]))

    def day_bonus(self, priority: str, day: int, days: int, day_end: int, last_end: int, due: int | None) -> int:
        """What serving by the end of day `day` (at `day_end`) is worth over the horizon's last day (ending
        `last_end`): the sooner bonus, or - for a visit that will by then be later than its copies can price -
        the lateness still avoided at its priority's hourly rate, whichever is more."""
        bonus = self.sooner_bonus(priority, day, days)
        if due is not None and day < days - 1:
            unpriced = last_end - max(day_end, due + self.flat_after(priority))
            bonus = max(bonus, int(self.rate(priority) * unpriced))
        return bonus

    def margin(self, priority: str) -> float:
        return self.due_margin.get(priority, self.due_margin["medium"])
