"""Route planner core: every team's day as a route with ETAs, on PyVRP, independent of Kafka and Postgres."""

from aiff.planning.costs import Costs
from aiff.planning.model import LunchBreak, Plan, PlannedBreak, PlannedVisit, Team, TeamPlan, Unserved, Visit
from aiff.planning.solver import plan, solve_data
from aiff.planning.travel import HaversineTravel, MatrixServiceTravel, Point, TravelModel

__all__ = ["Costs", "HaversineTravel", "LunchBreak", "MatrixServiceTravel", "Plan", "PlannedBreak", "PlannedVisit",
           "Point", "Team", "TeamPlan", "TravelModel", "Unserved", "Visit", "plan", "solve_data"]
