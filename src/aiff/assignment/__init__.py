"""Pure assignment domain: strategies (greedy, nearest, optimal), cost model, revisions, backtest."""

from .model import Criteria, Decision, Plan, TeamSpec, TicketSpec
from .strategies import STRATEGIES, choose

__all__ = ["Criteria", "Decision", "Plan", "TeamSpec", "TicketSpec", "STRATEGIES", "choose"]
