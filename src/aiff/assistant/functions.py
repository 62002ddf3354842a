"""The assistant's tools as OpenAI function-calling specs, and the dispatcher that runs a model's call on them.

The model only chooses tools and arguments; every figure in an answer comes from these tools' results."""

from __future__ import annotations

import json
from typing import Any

from aiff.assistant import tools
from aiff.assistant.dates import named_range
from aiff.events.vocabulary import PRIORITIES, SKILLS
from aiff.zones import ZONES, canonical_zone

ZONE = {"type": "string", "enum": [z.name for z in ZONES]}
RANGE = {"type": "string", "enum": ["today", "yesterday", "day_before_yesterday", "this_week", "last_week", "this_month", "last_month", "last_7_days", "last_30_days"], "description": "Malaysian calendar range"}
FILTERS = {
    "zone": ZONE, "priority": {"type": "string", "enum": list(PRIORITIES)},
    "status": {"type": "string", "enum": ["open", "unassigned", "assigned", "in_progress", "completed", "closed", "cancelled", "reopened"]},
    "category": {"type": "string", "enum": list(SKILLS)}, "team_id": {"type": "integer"}, "range": RANGE, "overdue": {"type": "boolean"},
}  # fmt: skip
TICKET = {"ticket": {"type": "string", "description": "TKT-YYYY-NNNNNN or the numeric id"}}


def _fn(name: str, description: str, properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {"type": "object", "properties": properties, **({"required": required} if required else {})}}}


TOOL_SPECS = [
    _fn("count_tickets", "Count tickets by zone, priority, status ('open' = not finished), category, team, date range, overdue.", FILTERS),
    _fn("list_tickets", "List matching tickets, most urgent first.", {**FILTERS, "limit": {"type": "integer", "minimum": 1, "maximum": 50}}),
    _fn("rank_zones", "Rank zones by backlog, created, overdue, unassigned or completed tickets.", {"metric": {"type": "string", "enum": list(tools.ZONE_METRICS)}, "priority": FILTERS["priority"], "range": RANGE, "ascending": {"type": "boolean"}, "limit": {"type": "integer"}}),
    _fn("rank_teams", "Rank teams by sla, response, rating, completed, utilisation or backlog.", {"metric": {"type": "string", "enum": list(tools.TEAM_METRICS)}, "zone": ZONE, "range": RANGE, "ascending": {"type": "boolean"}, "limit": {"type": "integer"}}),
    _fn("ticket_detail", "One ticket's fields, team and planned visit.", TICKET, ["ticket"]),
    _fn("explain_late", "Why a ticket is late: time unassigned, waiting, working vs its SLA.", TICKET, ["ticket"]),
    _fn("explain_unassigned", "Why a ticket has no team: nearest skilled teams and their capacity.", TICKET, ["ticket"]),
    _fn("ticket_eta", "When the planned team reaches a ticket.", TICKET, ["ticket"]),
    _fn("team_day", "What a team is doing today (planned visits, active tickets).", {"team_id": {"type": "integer"}}, ["team_id"]),
    _fn("capacity", "Free capacity of working teams, optionally in a zone.", {"zone": ZONE}),
    _fn("what_if_offline", "Dry run: where a team's active tickets would go if it went offline now (changes nothing).", {"team_id": {"type": "integer"}}, ["team_id"]),
    _fn("forecast_load", "Forecast new tickets for a zone (or all) over the next N days.", {"zone": ZONE, "horizon": {"type": "integer", "minimum": 1, "maximum": 30}}),
    _fn("overview", "Open tickets by priority and overdue count.", {}),
    _fn("sla_summary", "Completed work in a range: count, % within SLA, mean response and resolution minutes, rating.", {"zone": ZONE, "range": RANGE, "team_id": {"type": "integer"}, "priority": FILTERS["priority"], "category": FILTERS["category"]}),
]


async def call_tool(pool, name: str, args: dict[str, Any] | str | None, scope_team: int | None = None) -> dict[str, Any]:
    """Run a tool by name with model-supplied arguments (unknown arguments dropped, values checked)."""
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except json.JSONDecodeError:
            args = {}
    fn = getattr(tools, name, None) if name in {s["function"]["name"] for s in TOOL_SPECS} else None
    if fn is None:
        return {"error": f"unknown tool {name}"}
    allowed = set(fn.__code__.co_varnames[1 : fn.__code__.co_argcount]) - {"scope_team"}
    clean = {k: v for k, v in (args or {}).items() if k in allowed and v is not None}
    try:
        if "zone" in clean:
            z = canonical_zone(str(clean["zone"]))
            if z is None:
                return {"error": f"unknown zone {clean['zone']!r}"}
            clean["zone"] = z
        if "range" in clean:
            clean["range"] = named_range(str(clean["range"]))
        if isinstance(clean.get("ticket"), str) and clean["ticket"].isdigit():
            clean["ticket"] = int(clean["ticket"])
        result = await fn(pool, **clean, scope_team=scope_team)
    except (ValueError, TypeError) as exc:
        return {"error": str(exc)}
    return json.loads(json.dumps(result, default=str))
