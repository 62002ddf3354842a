"""Closed vocabularies of the contract (priorities, statuses, skills) and the ticket lifecycle."""

from __future__ import annotations

from typing import Literal

Priority = Literal["low", "medium", "high", "critical"]
TicketStatus = Literal["open", "assigned", "in_progress", "completed", "closed", "cancelled", "reopened"]
TeamStatus = Literal["available", "busy", "offline", "on_leave"]
Skill = Literal["fiber", "copper", "wireless", "power", "installation", "equipment"]
Strategy = Literal["greedy", "nearest", "optimal", "routes", "manual"]

PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SKILLS: tuple[str, ...] = ("fiber", "copper", "wireless", "power", "installation", "equipment")
ACTIVE_STATUSES = frozenset({"assigned", "in_progress"})
OPEN_STATUSES = frozenset({"open", "assigned", "in_progress", "reopened"})

# SLA: hours from creation to completion, by priority (used when a ticket has no explicit due date).
SLA_HOURS: dict[str, int] = {"critical": 4, "high": 24, "medium": 72, "low": 168}

# Allowed status changes. `assigned` is reached by an assignment event, `open` by an unassignment.
LIFECYCLE: dict[str, frozenset[str]] = {
    "open": frozenset({"assigned", "cancelled"}),
    "reopened": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"in_progress", "open", "reopened", "cancelled", "assigned"}),
    "in_progress": frozenset({"completed", "cancelled"}),
    "completed": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "cancelled": frozenset(),
}


def transition_error(current: str, target: str) -> str | None:
    """Why `current -> target` breaks the lifecycle, or None when it is allowed."""
    if target in LIFECYCLE.get(current, frozenset()):
        return None
    allowed = ", ".join(sorted(LIFECYCLE.get(current, ()))) or "none (terminal)"
    return f"cannot move a ticket from {current!r} to {target!r}; allowed from {current!r}: {allowed}"
