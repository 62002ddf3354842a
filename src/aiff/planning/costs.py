"""The planner's objective, in one unit: seconds of driving.

PyVRP minimises route cost + the prizes of the visits it leaves out. We set a route's cost to its drive
time (the "distance" matrix PyVRP sees holds drive seconds) plus overtime, and price every visit by what
serving it is worth in drive seconds:

- serving a visit is worth SERVE_PRIZE[priority]: the planner drives up to that much extra to fit it in;
- finishing it by its SLA due time is worth ON_TIME_BONUS[priority] more. PyVRP time windows are hard, so a
  soft due time is modelled as two mutually exclusive copies of the visit (a PyVRP client group): an
  on-time copy whose latest start is `due - service`, worth SERVE + BONUS, and a late copy with only the
  customer window, worth SERVE. Lateness is thus a step penalty by priority, not per minute;
- a second of overtime costs OVERTIME_COST seconds of driving;
- a visit pinned to a team is worth PINNED_PRIZE, more than any route could cost, so it is dropped only
  when that team cannot fit it at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOUR = 3600

SERVE_PRIZE = {"low": 2 * HOUR, "medium": 4 * HOUR, "high": 8 * HOUR, "critical": 16 * HOUR}
ON_TIME_BONUS = {"low": HOUR // 2, "medium": HOUR, "high": 4 * HOUR, "critical": 8 * HOUR}
OVERTIME_COST = 2
PINNED_PRIZE = 10**8


@dataclass(frozen=True)
class Costs:
    serve_prize: dict[str, int] = field(default_factory=lambda: dict(SERVE_PRIZE))
    on_time_bonus: dict[str, int] = field(default_factory=lambda: dict(ON_TIME_BONUS))
    overtime_cost: int = OVERTIME_COST
    pinned_prize: int = PINNED_PRIZE

    def serve(self, priority: str) -> int:
        return self.serve_prize.get(priority, self.serve_prize["medium"])

    def bonus(self, priority: str) -> int:
        return self.on_time_bonus.get(priority, self.on_time_bonus["medium"])
