"""Carry out a confirmed assistant action through the API's own command functions (the same checks, events and
waiting as POST /tickets/assign, /tickets/{id}/status and /tickets/{id}/pin), after checking the caller's role."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from aiff.errors import PermanentError

ROLES = {"assign": ("admin", "dispatcher"), "reassign": ("admin", "dispatcher"), "pin": ("admin", "dispatcher"), "status": ("admin", "dispatcher", "field")}


def executor(principal, conn, resources, waiter, cid):
    async def execute(action: dict[str, Any]) -> dict[str, Any]:
        from aiff.api.routers import dispatch, tickets
        from aiff.api.schemas import AssignRequest, StatusChange
        from aiff.api.schemas_routes import PinRequest

        kind = action.get("type")
        if principal.role not in ROLES.get(kind, ()):
            return {"executed": False, "error": f"role {principal.role!r} may not {kind}"}
        try:
            if kind in ("assign", "reassign"):
                body = AssignRequest(ticket_id=action["ticket_id"], team_id=action["team_id"], reason=action.get("reason"))
                await tickets.assign(body, principal, conn, resources, waiter, cid)
                name = await conn.fetchval("SELECT name FROM teams WHERE id = $1", action["team_id"])  # names on screens, not ids
                return {"executed": True, "summary": f"{action['ticket_number']} → {name or 'team'} (team {action['team_id']})"}
            if kind == "pin":
                body = PinRequest(team_id=action.get("team_id"), reason="pinned from the assistant")
                await dispatch.pin(action["ticket_id"], body, principal, conn, resources, waiter, cid)
                return {"executed": True, "summary": f"{action['ticket_number']} pinned"}
            if kind == "status":
                await tickets.change_status(action["ticket_id"], StatusChange(status=action["status"]), principal, conn, resources, waiter, cid)
                return {"executed": True, "summary": f"{action['ticket_number']} → {action['status']}"}
        except HTTPException as exc:
            return {"executed": False, "error": str(exc.detail)}
        except PermanentError as exc:
            return {"executed": False, "error": str(exc)}
        return {"executed": False, "error": f"unknown action {kind!r}"}

    return execute
