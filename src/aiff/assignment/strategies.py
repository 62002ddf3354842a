"""Strategy registry: every strategy is `(tickets, teams, criteria, now) -> Plan`.

Every strategy returns one decision per ticket (team_id None plus a reason when it cannot place one), only
uses teams with status available/busy (greedy: available) and free capacity, respects skills when
`criteria.respect_skills`, and never exceeds a team's capacity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from .greedy import greedy
from .model import Criteria, Plan, TeamSpec, TicketSpec
from .nearest import nearest
from .optimal import optimal

StrategyFn = Callable[[Sequence[TicketSpec], Sequence[TeamSpec], Criteria, datetime], Plan]

STRATEGIES: dict[str, StrategyFn] = {"greedy": greedy, "nearest": nearest, "optimal": optimal}


def choose(name: str) -> StrategyFn:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}") from None
