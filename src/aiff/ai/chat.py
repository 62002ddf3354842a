"""The dispatcher assistant: answers from the projections, offline by default, OpenAI function calling when
configured (falling back to the local engine, and saying so, when the model errors or times out)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from aiff.ai import tools
from aiff.assistant import functions
from aiff.ai.intents import Intent, parse
from aiff.settings import Settings

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are the AIFF dispatcher assistant for field-service teams in Malaysia. Answer briefly, in the "
    "user's language (English or Bahasa Malaysia), using only numbers returned by the tools. Call a tool "
    "for every number you state."
)
SUGGEST_SPEC = [s for s in tools.TOOL_SPECS if s["function"]["name"] == "suggest_assignment"]
PRIORITY_MS = {"critical": "kritikal", "high": "tinggi", "medium": "sederhana", "low": "rendah"}
STATUS_MS = {"open": "terbuka", "in_progress": "dalam proses", "completed": "selesai", "assigned": "ditugaskan", "cancelled": "dibatalkan", "unassigned": "belum ditugaskan", "closed": "ditutup", "reopened": "dibuka semula"}


def _envelope(response: str, data: Any, conversation_id: str, engine: str, suggestions: list[str], proposed_action: dict | None = None, **extra: Any) -> dict:
    out = {
        "response": response,
        "suggestions": suggestions,
        "context": {"conversation_id": conversation_id, "timestamp": datetime.now(UTC).isoformat()},
        "data": data,
        "engine": engine,
        "proposed_action": proposed_action,
    }
    out.update(extra)
    return out


SUGGESTIONS = {
    "en": ["How many critical tickets are open in Selangor?", "Which team in Johor met the most SLAs this week?", "What will Sabah's load be next week?"],
    "ms": ["Berapa tiket kritikal terbuka di Selangor?", "Pasukan mana di Johor paling banyak capai SLA minggu ini?", "Apakah ramalan beban Sabah minggu depan?"],
}


async def run_intent(pool: asyncpg.Pool, intent: Intent) -> tuple[str, Any, dict | None]:
    """Execute the tool behind an intent and word the answer; returns (text, data, proposed action)."""
    s, ms = intent.slots, intent.language == "ms"
    if intent.name == "count_tickets":
        data = await tools.count_tickets(pool, s.get("zone"), s.get("priority"), s.get("status", "open"), s.get("category"))
        where = f" {'di' if ms else 'in'} {data['zone']}" if data["zone"] else ""
        if ms:
            pri = f" {PRIORITY_MS[data['priority']]}" if data["priority"] else ""
            text = f"Ada {data['count']} tiket{pri} {STATUS_MS.get(data['status'] or '', data['status'] or '')}{where}."
        else:
            pri = f" {data['priority']}" if data["priority"] else ""
            st = (data["status"] or "").replace("_", " ")
            text = f"There {'is' if data['count'] == 1 else 'are'} {data['count']}{pri} {st} ticket{'s' if data['count'] != 1 else ''}{where}."
        return text.replace("  ", " "), data, None
    if intent.name == "top_team_sla":
        data = await tools.top_teams_sla(pool, s.get("zone"), s.get("period", "week"))
        where = f" {'di' if ms else 'in'} {data['zone']}" if data["zone"] else ""
        if not data["teams"]:
            return (f"Tiada tiket diselesaikan{where} dari {data['from']} hingga {data['to']}." if ms else f"No tickets were completed{where} from {data['from']} to {data['to']}."), data, None
        top = data["teams"][0]
        if ms:
            text = f"{top['name']} (pasukan {top['team_id']}) mencapai SLA paling banyak{where}: {top['sla_met']} daripada {top['completed']} tiket selesai ({top['efficiency']}%) dari {data['from']} hingga {data['to']}."
        else:
            text = f"{top['name']} (team {top['team_id']}) met the most SLAs{where}: {top['sla_met']} of {top['completed']} completed tickets ({top['efficiency']}%) from {data['from']} to {data['to']}."
        return text, data, None
    if intent.name == "explain_assignment":
        data = await tools.explain_assignment(pool, s["ticket"], s.get("team_id"))
        return _explain_text(data, ms), data, None
    if intent.name == "suggest_assignment":
        data = await tools.suggest_assignment(pool, s["ticket"])
        if not data["found"]:
            return (f"Tiket {s['ticket']} tidak dijumpai." if ms else f"Ticket {s['ticket']} was not found."), data, None
        team = data["team"]
        if team is None:
            return ("Tiada pasukan yang sesuai dengan kapasiti kosong." if ms else "No available team with the skill and free capacity."), data, None
        t = data["ticket"]
        action = {
            "type": "reassign" if t["assigned_team"] else "assign", "ticket_id": t["id"], "team_id": team["id"],
            "reason": f"nearest available {t['category'] or ''} team with free capacity ({team['distance_km']} km, {team['open_tickets']}/{team['capacity']} open)".replace("  ", " "),
        }  # fmt: skip
        text = (
            f"Cadangan: {team['name']} (pasukan {team['id']}), {team['distance_km']} km dari lokasi, {team['open_tickets']}/{team['capacity']} tiket aktif. Sahkan untuk menugaskan {t['ticket_number']}."
            if ms else
            f"Suggestion: {team['name']} (team {team['id']}), {team['distance_km']} km away, {team['open_tickets']}/{team['capacity']} open tickets. Confirm to assign {t['ticket_number']}."
        )  # fmt: skip
        return text, data, action
    if intent.name == "forecast_load":
        data = await tools.forecast_load(pool, s.get("zone"), s.get("horizon", 7))
        where = data["zone"] or ("semua zon" if ms else "all zones")
        if ms:
            text = f"Ramalan {where} untuk {data['horizon_days']} hari akan datang: kira-kira {data['total']:.0f} tiket baharu (julat 80%: {data['total_lower']:.0f}–{data['total_upper']:.0f}); purata terkini {data['recent_daily_mean']} sehari."
        else:
            text = f"Forecast for {where}, next {data['horizon_days']} days: about {data['total']:.0f} new tickets (80% range {data['total_lower']:.0f}–{data['total_upper']:.0f}); recent average {data['recent_daily_mean']} per day."
        return text, data, None
    if intent.name == "overview":
        data = await tools.overview(pool)
        crit = data["open_by_priority"]["critical"]
        text = (
            f"{data['open']} tiket terbuka ({crit} kritikal), {data['overdue_open']} melebihi tarikh akhir SLA."
            if ms else f"{data['open']} open tickets ({crit} critical); {data['overdue_open']} are past their SLA due date."
        )
        return text, data, None
    text = (
        "Saya boleh mengira tiket, menyenaraikan pasukan terbaik mengikut SLA, menerangkan tugasan dan meramal beban zon."
        if ms else "I can count tickets, rank teams by SLAs met, explain assignments, suggest a team and forecast zone load."
    )
    return text, None, None


def _explain_text(data: dict, ms: bool) -> str:
    if not data["found"]:
        return f"Tiket {data['ticket']} tidak dijumpai." if ms else f"Ticket {data['ticket']} was not found."
    t, a = data["ticket"], data["assignment"]
    if a is None:
        asked = data.get("asked_team_id")
        if asked is not None:
            return f"{t['ticket_number']} tidak pernah diberi kepada pasukan {asked}." if ms else f"{t['ticket_number']} was never assigned to team {asked}."
        return f"{t['ticket_number']} belum ditugaskan." if ms else f"{t['ticket_number']} has not been assigned yet."
    factors = sorted(a["breakdown"].items(), key=lambda kv: -abs(kv[1]))[:4]
    parts = ", ".join(f"{k} {v:.2f}" for k, v in factors)
    dist = f"{a['distance_km']:.1f} km" if a["distance_km"] is not None else ("jarak tidak diketahui" if ms else "distance unknown")
    if a["strategy"] == "manual":
        who = f"dipilih secara manual oleh {a['assigned_by']}" if ms else f"chosen manually by {a['assigned_by']}"
    else:
        who = f"dipilih oleh strategi '{a['strategy']}'" if ms else f"chosen by the '{a['strategy']}' strategy"
    if ms:
        text = f"{t['ticket_number']} ({t['priority']}, {t['category']}, {t['zone']}) diberi kepada {a['team_name'] or 'pasukan'} (pasukan {a['team_id']}), {who}; jarak dari pangkalan {dist}"
        text += f"; skor {a['score']:.3f}" if a["score"] is not None else ""
        text += f"; faktor: {parts}." if parts else "."
    else:
        text = f"{t['ticket_number']} ({t['priority']}, {t['category']}, {t['zone']}) went to {a['team_name'] or 'team'} (team {a['team_id']}), {who}; {dist} from the team's base"
        text += f"; score {a['score']:.3f}" if a["score"] is not None else ""
        text += f"; factors: {parts}." if parts else "."
    if a.get("reason"):
        text += f" {'Sebab' if ms else 'Reason'}: {a['reason']}"
    return text


async def chat_local(pool: asyncpg.Pool, message: str, conversation_id: str, state: dict | None = None, scope_team: int | None = None, role: str | None = None) -> tuple[dict, dict]:
    """The offline assistant (aiff.assistant): entities + intent model + typed tools; returns (answer, new state)."""
    from aiff.assistant import engine

    turn, new_state = await engine.answer(pool, message, state or {}, scope_team=scope_team, role=role)
    out = _envelope(
        turn.text, turn.data, conversation_id, "local", turn.suggestions or engine.suggestions(turn.intent, turn.language), turn.proposed_action,
        intent=turn.intent, confidence=turn.confidence, slots=turn.slots, language=turn.language, follow_up=turn.follow_up,
        table=turn.table, ids=_ids(turn.data),
    )
    return out, new_state


def _ids(data: Any) -> dict:
    """The ticket and team ids an answer used, for the dashboard's links."""
    if not isinstance(data, dict):
        return {"tickets": [], "teams": []}
    return {"tickets": list(data.get("ticket_ids") or []), "teams": list(data.get("team_ids") or [])}


async def chat_openai(pool: asyncpg.Pool, settings: Settings, message: str, conversation_id: str, max_rounds: int = 4, scope_team: int | None = None) -> dict:
    """One conversation turn with an OpenAI-compatible model that may call our tools."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url or None, timeout=settings.openai_timeout_s, max_retries=0
    )
    messages: list[dict] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": message}]
    data: dict[str, Any] = {}
    action = None
    try:
        for _ in range(max_rounds):
            completion = await client.chat.completions.create(model=settings.openai_model, messages=messages, tools=functions.TOOL_SPECS + (SUGGEST_SPEC if scope_team is None else []))
            msg = completion.choices[0].message
            if not msg.tool_calls:
                intent = parse(message)
                tables = [r.get("table") for r in data.values() if isinstance(r, dict) and r.get("table")]
                merged = {"ticket_ids": [i for r in data.values() if isinstance(r, dict) for i in r.get("ticket_ids") or []], "team_ids": [i for r in data.values() if isinstance(r, dict) for i in r.get("team_ids") or []]}
                return _envelope(msg.content or "", data or None, conversation_id, "openai", SUGGESTIONS[intent.language], action, model=settings.openai_model,
                                 table=tables[0] if tables else None, ids=_ids(merged))
            messages.append({"role": "assistant", "content": msg.content, "tool_calls": [tc.model_dump() for tc in msg.tool_calls]})
            for tc in msg.tool_calls:
                try:
                    args = json.loads(tc.function.arguments or "{}")
                except json.JSONDecodeError:
                    args = {}
                if tc.function.name == "suggest_assignment" and scope_team is None:
                    result = await tools.call_tool(pool, tc.function.name, args)
                else:
                    result = await functions.call_tool(pool, tc.function.name, args, scope_team)
                data[tc.function.name] = result
                if tc.function.name == "suggest_assignment" and result.get("team"):
                    t = result["ticket"]
                    action = {"type": "reassign" if t["assigned_team"] else "assign", "ticket_id": t["id"], "team_id": result["team"]["id"], "reason": "nearest available team with the skill and free capacity"}
                messages.append({"role": "tool", "tool_call_id": tc.id, "content": json.dumps(result, default=str)})
        raise RuntimeError(f"model did not finish within {max_rounds} tool rounds")
    finally:
        await client.close()


async def chat(
    pool: asyncpg.Pool, settings: Settings, message: str, context: dict | None = None, *, store=None, user: str | None = None,
    role: str | None = None, scope_team: int | None = None, execute=None,
) -> dict:
    """Answer a dispatcher's message: OpenAI with tools when a key is set, else (or on failure) local.

    `store` keeps the conversation (follow-ups, a pending action) per user and conversation id; `scope_team` limits a
    field user to their team's tickets; `execute(action)` publishes a confirmed action (the API's own command path).
    """
    from aiff.assistant import engine

    context = context or {}
    conversation_id = str(context.get("conversation_id") or uuid.uuid4())
    store = store or _LOCAL_STORE
    state = await store.load(user, conversation_id)
    pending = state.get("pending_action")
    if pending and (engine.is_confirm(message) or engine.is_cancel(message)):
        lang = state.get("language", "en")
        state["pending_action"] = None
        await store.save(user, conversation_id, state)
        if engine.is_cancel(message):
            text = "Dibatalkan; tiada apa diubah." if lang == "ms" else "Cancelled; nothing was changed."
            return _envelope(text, {"action": pending, "executed": False}, conversation_id, "local", engine.suggestions("help", lang), None, intent="cancel_action")
        if execute is None:
            text = "Tindakan tidak boleh dilaksanakan di sini." if lang == "ms" else "Actions cannot be carried out here."
            return _envelope(text, {"action": pending, "executed": False}, conversation_id, "local", engine.suggestions("help", lang), None, intent="confirm_action")
        result = await execute(pending)
        ok = result.get("executed", False)
        if lang == "ms":
            text = f"Selesai: {result.get('summary', '')}" if ok else f"Tidak dilaksanakan: {result.get('error', '')}"
        else:
            text = f"Done: {result.get('summary', '')}" if ok else f"Not done: {result.get('error', '')}"
        data = {"action": pending, **result, "ticket_ids": [pending["ticket_id"]], "team_ids": [pending["team_id"]] if pending.get("team_id") else []}
        return _envelope(text, data, conversation_id, "local", engine.suggestions("ticket_detail", lang), None, intent="confirm_action", ids=_ids(data))
    if settings.openai_api_key:
        try:
            out = await chat_openai(pool, settings, message, conversation_id, scope_team=scope_team)
            await store.save(user, conversation_id, {**state, "pending_action": out.get("proposed_action") if role in engine.ACTION_ROLES else None})
            return out
        except Exception as exc:  # noqa: BLE001 - any model failure falls back to the local engine, reported
            log.warning("openai chat failed, answering locally: %s: %s", type(exc).__name__, exc)
            out, new_state = await chat_local(pool, message, conversation_id, state, scope_team, role)
            await store.save(user, conversation_id, new_state)
            out["fallback_reason"] = f"{type(exc).__name__}: {exc}"[:300]
            out["response"] = out["response"] + (" (answered by the local engine: the language model was unavailable)")
            return out
    out, new_state = await chat_local(pool, message, conversation_id, state, scope_team, role)
    await store.save(user, conversation_id, new_state)
    return out


def _local_store():
    from aiff.assistant.state import ConversationStore

    return ConversationStore()


class _LazyStore:
    _store = None

    def __getattr__(self, name):
        if _LazyStore._store is None:
            _LazyStore._store = _local_store()
        return getattr(_LazyStore._store, name)


_LOCAL_STORE = _LazyStore()
