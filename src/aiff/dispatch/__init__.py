"""Live route planning for the assignment consumer: read models -> planner input, a Plan -> events."""
