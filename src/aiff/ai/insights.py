"""Insights the AI consumer keeps in `ai_insights`, each with a recommendation and a dedupe key.

- backlog_spike (zone): tickets created in a zone over the last 24 h above the upper 80% bound of the
  zone's one-day forecast (fitted on the days before); severity high when ≥ 1.5× the bound.
- team_drift (team): SLA efficiency over the last 7 days at least 15 points below the team's previous
  28 days, with ≥ 5 completions in each window; severity high when ≥ 30 points.
- sla_risk (ticket): written at enrichment (see `engine.AiEngine.enrich`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from aiff.ai.engine import upsert_insights
from aiff.ai.forecast import forecast
from aiff.ai.tools import daily_series
from aiff.analytics.metrics import day_of
from aiff.zones import ZONES

DRIFT_POINTS = 15.0
DRIFT_MIN_COMPLETED = 5


async def backlog_spikes(conn: asyncpg.Connection, now: datetime, history_days: int = 84) -> list[dict]:
    today = day_of(now)
    rows = await conn.fetch(
        "SELECT zone, count(*)::int AS n FROM tickets WHERE created_at > $1 AND created_at <= $2 GROUP BY zone", now - timedelta(hours=24), now
    )
    recent = {r["zone"]: r["n"] for r in rows}
    out = []
    for zone in ZONES:
        n = recent.get(zone.name, 0)
        if n == 0:
            continue
        start, y = await daily_series(conn, zone.name, history_days, today - timedelta(days=1))
        if y.sum() < 14:  # too little history to call anything a spike
            continue
        fc = forecast(y, 1, start=start)
        upper = float(fc.upper[0])
        if n > max(upper, 1.0):
            ratio = n / max(upper, 1.0)
            out.append({
                "kind": "backlog_spike", "scope": "zone", "scope_id": zone.name, "severity": "high" if ratio >= 1.5 else "medium",
                "title": f"Ticket surge in {zone.name}: {n} new tickets in 24 h (expected ≤ {upper:.0f})",
                "detail": f"Forecast for today {float(fc.mean[0]):.1f} (80% upper {upper:.1f}) from {len(y)} days of history.",
                "recommendation": f"Move available teams from neighbouring zones into {zone.name} or raise team capacity there; run the optimal assignment for the backlog.",
                "metrics": {"created_24h": n, "forecast": round(float(fc.mean[0]), 2), "upper": round(upper, 2)},
                "expires_at": (now + timedelta(days=1)).isoformat(), "dedupe_key": f"backlog_spike:{zone.name}:{today.isoformat()}",
            })  # fmt: skip
    return out


async def team_drift(conn: asyncpg.Connection, now: datetime) -> list[dict]:
    today = day_of(now)
    rows = await conn.fetch(
        """SELECT s.team_id, max(t.name) AS name,
                  sum(s.completed) FILTER (WHERE s.day > $1::date - 7)::int AS c_recent,
                  sum(s.sla_met) FILTER (WHERE s.day > $1::date - 7)::int AS m_recent,
                  sum(s.completed) FILTER (WHERE s.day <= $1::date - 7)::int AS c_before,
                  sum(s.sla_met) FILTER (WHERE s.day <= $1::date - 7)::int AS m_before
           FROM team_daily_stats s LEFT JOIN teams t ON t.id = s.team_id
           WHERE s.day > $1::date - 35 AND s.day <= $1::date GROUP BY s.team_id""",
        today,
    )
    out = []
    week = today.isocalendar()
    for r in rows:
        c_r, c_b = r["c_recent"] or 0, r["c_before"] or 0
        if c_r < DRIFT_MIN_COMPLETED or c_b < DRIFT_MIN_COMPLETED:
            continue
        eff_r, eff_b = 100 * (r["m_recent"] or 0) / c_r, 100 * (r["m_before"] or 0) / c_b
        drop = eff_b - eff_r
        if drop >= DRIFT_POINTS:
            out.append({
                "kind": "team_drift", "scope": "team", "scope_id": str(r["team_id"]), "severity": "high" if drop >= 30 else "medium",
                "title": f"{r['name'] or 'Team ' + str(r['team_id'])}: SLA efficiency fell {drop:.0f} points",
                "detail": f"{eff_r:.0f}% of {c_r} completions within SLA in the last 7 days vs {eff_b:.0f}% of {c_b} in the 28 days before.",
                "recommendation": "Check the team's load and travel (reduce capacity or reassign distant tickets) and review recent completion notes.",
                "metrics": {"efficiency_recent": round(eff_r, 1), "efficiency_before": round(eff_b, 1), "completed_recent": c_r, "completed_before": c_b},
                "expires_at": (now + timedelta(days=7)).isoformat(), "dedupe_key": f"team_drift:{r['team_id']}:{week.year}-W{week.week:02d}",
            })  # fmt: skip
    return out


async def refresh_insights(conn: asyncpg.Connection, now: datetime | None = None) -> int:
    """Recompute zone and team insights; returns how many were written or refreshed."""
    now = now or datetime.now(UTC)
    found = await backlog_spikes(conn, now) + await team_drift(conn, now)
    return await upsert_insights(conn, found)
