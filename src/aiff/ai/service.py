"""The AI endpoints' work: predictions, insights, analysis with a data-derived confidence, engine status."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np

from aiff.ai import tools
from aiff.analytics import queries
from aiff.analytics.metrics import day_of
from aiff.analytics.trends import recommendations
from aiff.errors import PermanentError
from aiff.settings import Settings
from aiff.zones import ZONES


class BadRequest(PermanentError):
    """The request names something we do not offer (e.g. an unknown prediction type)."""

    status = 400
    code = "bad_request"


PREDICTION_TYPES = ("ticket_volume", "team_performance", "customer_satisfaction")


async def predict(pool: asyncpg.Pool, prediction_type: str, data: dict | None) -> dict[str, Any]:
    data = data or {}
    if prediction_type == "ticket_volume":
        return await predict_volume(pool, data)
    if prediction_type == "team_performance":
        return await predict_weekly(pool, data, "efficiency", (0.0, 100.0))
    if prediction_type == "customer_satisfaction":
        return await predict_weekly(pool, data, "customer_rating", (1.0, 5.0))
    raise BadRequest(f"invalid prediction type {prediction_type!r}; use one of: {', '.join(PREDICTION_TYPES)}")


async def predict_volume(pool: asyncpg.Pool, data: dict) -> dict[str, Any]:
    horizon = int(data.get("horizon", data.get("days", 7)))
    if horizon not in (7, 14, 30):
        raise BadRequest("horizon must be 7, 14 or 30 days")
    zone = data.get("zone")
    zones = [zone] if zone else [z.name for z in ZONES]
    try:
        per_zone = [await tools.forecast_load(pool, z, horizon) for z in zones]
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    total = await tools.forecast_load(pool, None, horizon) if not zone else per_zone[0]
    return {
        "prediction_type": "ticket_volume", "horizon_days": horizon, "generated_at": datetime.now(UTC).isoformat(),
        "model": per_zone[0]["model"] if per_zone else None, "interval_level": 0.8,
        "total": {k: total[k] for k in ("total", "total_lower", "total_upper", "fit_r2", "daily")},
        "zones": [{k: z[k] for k in ("zone", "total", "total_lower", "total_upper", "recent_daily_mean", "fit_r2", "daily")} for z in per_zone],
    }  # fmt: skip


async def _weekly(pool: asyncpg.Pool, metric: str, team_id: int | None, zone: str | None, weeks: int) -> list[dict]:
    today = day_of(datetime.now(UTC))
    since = today - timedelta(days=7 * weeks - 1)
    rows = await pool.fetch(
        """SELECT s.team_id, max(t.name) AS name, ((s.day - $1::date) / 7)::int AS w,
                  sum(s.completed)::float8 AS completed, sum(s.sla_met)::float8 AS sla_met,
                  sum(s.rating_sum)::float8 AS rating_sum, sum(s.rating_count)::float8 AS rating_count
           FROM team_daily_stats s LEFT JOIN teams t ON t.id = s.team_id
           WHERE s.day >= $1 AND s.day <= $2 AND ($3::int IS NULL OR s.team_id = $3) AND ($4::text IS NULL OR coalesce(t.zone, s.zone) = $4)
           GROUP BY s.team_id, w ORDER BY s.team_id, w""",
        since, today, team_id, zone,
    )  # fmt: skip
    teams: dict[int, dict] = {}
    for r in rows:
        t = teams.setdefault(r["team_id"], {"team_id": r["team_id"], "name": r["name"], "weeks": [], "values": [], "weights": []})
        if metric == "efficiency" and r["completed"]:
            t["weeks"].append(r["w"]), t["values"].append(100 * r["sla_met"] / r["completed"]), t["weights"].append(r["completed"])
        elif metric == "customer_rating" and r["rating_count"]:
            t["weeks"].append(r["w"]), t["values"].append(r["rating_sum"] / r["rating_count"]), t["weights"].append(r["rating_count"])
    return list(teams.values())


async def predict_weekly(pool: asyncpg.Pool, data: dict, metric: str, bounds: tuple[float, float], weeks: int = 8) -> dict[str, Any]:
    """Next week's value per team: weighted linear trend over the last `weeks` weeks, shrunk toward the
    team's weighted mean when the trend rests on little data; interval from weighted residual spread."""
    team_id, zone = data.get("team_id"), data.get("zone")
    teams = await _weekly(pool, metric, team_id, zone, weeks)
    out = []
    for t in teams:
        if not t["values"]:
            continue
        x, y, w = np.array(t["weeks"], float), np.array(t["values"], float), np.array(t["weights"], float)
        mean = float(np.average(y, weights=w))
        if len(x) >= 3 and np.ptp(x) > 0:
            b, a = np.polyfit(x, y, 1, w=np.sqrt(w))
            trend_pred = a + b * weeks
            k = len(x) / (len(x) + 3)  # shrinkage: trust the trend more with more weeks
            pred = k * trend_pred + (1 - k) * mean
            resid = y - (a + b * x)
        else:
            b, pred, resid = 0.0, mean, y - mean
        sd = float(math.sqrt(np.average(resid**2, weights=w))) if len(y) > 1 else (bounds[1] - bounds[0]) / 4
        lo, hi = bounds
        out.append({
            "team_id": t["team_id"], "name": t["name"], "current": round(mean, 2),
            "predicted_next_week": round(min(max(pred, lo), hi), 2),
            "lower": round(min(max(pred - 1.28 * sd, lo), hi), 2), "upper": round(min(max(pred + 1.28 * sd, lo), hi), 2),
            "trend_per_week": round(float(b), 3), "weeks_of_data": len(x), "observations": int(w.sum()),
        })  # fmt: skip
    out.sort(key=lambda r: r["predicted_next_week"])
    name = "team_performance" if metric == "efficiency" else "customer_satisfaction"
    return {
        "prediction_type": name, "metric": metric if metric == "customer_rating" else "sla_efficiency_pct",
        "generated_at": datetime.now(UTC).isoformat(), "team_id": team_id, "zone": zone, "teams": out,
        "method": "weighted linear trend over weekly values, shrunk toward the mean; 80% interval from residual spread",
    }  # fmt: skip


async def insights(pool: asyncpg.Pool, type: str = "performance", scope: str = "system", period: str = "week", limit: int = 50) -> dict[str, Any]:
    """Stored insights filtered by type (performance, sla, volume, all), scope and period."""
    kinds = {"performance": ["team_drift"], "sla": ["sla_risk"], "volume": ["backlog_spike"], "all": None}
    if type not in kinds:
        raise BadRequest(f"type must be one of {', '.join(kinds)}")
    if scope not in ("system", "zone", "team", "ticket"):
        raise BadRequest("scope must be system, zone, team or ticket")
    since = datetime.now(UTC) - timedelta(days=queries.PERIOD_DAYS.get(period, 7))
    rows = await pool.fetch(
        """SELECT id, kind, scope, scope_id, severity, title, detail, recommendation, metrics, created_at, expires_at
           FROM ai_insights WHERE created_at >= $1 AND ($2::text[] IS NULL OR kind = ANY($2))
             AND ($3::text = 'system' OR scope = $3) AND (expires_at IS NULL OR expires_at > now())
           ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, created_at DESC LIMIT $4""",
        since, kinds[type], scope, limit,
    )  # fmt: skip
    import json

    items = [{**dict(r), "metrics": json.loads(r["metrics"]) if isinstance(r["metrics"], str) else r["metrics"]} for r in rows]
    return {"type": type, "scope": scope, "period": period, "count": len(items), "insights": items}


def confidence(n_observations: float, fit_r2: float | None) -> float:
    """Confidence in an analysis: grows with data volume (saturating), scaled by how well the volume model
    fits (R² clipped to [0, 1]; 0.5 when unknown). 0 with no data, approaching 0.95."""
    volume = 1 - 1 / math.sqrt(1 + n_observations / 10)
    fit = 0.5 if fit_r2 is None else min(max(fit_r2, 0.0), 1.0)
    return round(0.95 * volume * (0.5 + 0.5 * fit), 3)


async def analyze(pool: asyncpg.Pool, data: dict | None) -> dict[str, Any]:
    """Summary, insights, recommendations and confidence for a period (optionally a zone or teams)."""
    data = data or {}
    period = data.get("period", "week")
    zone, team_ids = data.get("zone"), data.get("team_ids") or ([data["team_id"]] if data.get("team_id") else None)
    async with pool.acquire() as conn:
        perf = await queries.performance(conn, period, None, zone)
        teams = await queries.team_rows(conn, *queries.period_window(period), team_ids, zone)
    fc = await tools.forecast_load(pool, zone, 7)
    s, prev = perf["summary"], perf["previous"]
    found = []
    for key, label, better in (("efficiency", "SLA efficiency", 1), ("response_time", "response time", -1), ("customer_rating", "customer rating", 1), ("first_time_fix", "first-time fix", 1)):
        delta = s[key] - prev[key]
        if s["completed"] and prev["completed"] and abs(delta) >= (0.2 if key == "customer_rating" else 5):
            direction = "improved" if delta * better > 0 else "worsened"
            found.append(f"{label.capitalize()} {direction}: {prev[key]} → {s[key]} vs the previous {period}.")
    if s["created"] and prev["created"]:
        growth = (s["created"] - prev["created"]) / prev["created"] * 100
        if abs(growth) >= 15:
            found.append(f"New tickets {'up' if growth > 0 else 'down'} {abs(growth):.0f}% ({prev['created']} → {s['created']}).")
    ranked = sorted((t for t in teams if t["completed"] >= 3), key=lambda t: -t["efficiency"])
    if ranked:
        best, worst = ranked[0], ranked[-1]
        found.append(f"Best SLA efficiency: {best['name'] or best['team_id']} ({best['efficiency']}% of {best['completed']}); lowest: {worst['name'] or worst['team_id']} ({worst['efficiency']}% of {worst['completed']}).")
    found.append(f"Expected new tickets next 7 days{' in ' + zone if zone else ''}: {fc['total']:.0f} (80% range {fc['total_lower']:.0f}–{fc['total_upper']:.0f}).")
    n_obs = s["completed"] + s["created"]
    summary = (
        f"{perf['from']} to {perf['to']}{' in ' + zone if zone else ''}: {s['created']} tickets created, {s['completed']} completed, "
        f"{s['efficiency']}% within SLA, mean response {s['response_time']} min, rating {s['customer_rating']}, first-time fix {s['first_time_fix']}%."
    )
    return {
        "summary": summary, "insights": found, "recommendations": recommendations(s, teams),
        "confidence": confidence(n_obs, fc["fit_r2"]),
        "confidence_basis": {"observations": n_obs, "volume_model_r2": fc["fit_r2"]},
        "metrics": s, "period": period, "zone": zone,
    }  # fmt: skip


async def status(pool: asyncpg.Pool, settings: Settings) -> dict[str, Any]:
    started = datetime.now(UTC)
    healthy, error = True, None
    models: list[dict] = []
    enrichments = insights_n = 0
    try:
        import json

        models = [
            {"name": r["name"], "version": r["version"], "trained_at": r["trained_at"].isoformat(), "metrics": json.loads(r["metrics"]) if isinstance(r["metrics"], str) else r["metrics"]}
            for r in await pool.fetch("SELECT * FROM ai_models ORDER BY name")
        ]
        enrichments = await pool.fetchval("SELECT count(*) FROM ticket_enrichments")
        insights_n = await pool.fetchval("SELECT count(*) FROM ai_insights WHERE expires_at IS NULL OR expires_at > now()")
    except (asyncpg.PostgresError, OSError) as exc:
        healthy, error = False, str(exc)
    return {
        "engine": "openai" if settings.openai_api_key else "local",
        "openai_model": settings.openai_model if settings.openai_api_key else None,
        "openai_base_url": settings.openai_base_url or None if settings.openai_api_key else None,
        "models": models, "forecaster": "weekly-seasonal regression with damped trend (numpy); baseline seasonal-naive",
        "ticket_enrichments": enrichments, "active_insights": insights_n,
        "health": {"status": "ok" if healthy else "degraded", "error": error, "checked_in_ms": round((datetime.now(UTC) - started).total_seconds() * 1000, 1)},
    }  # fmt: skip
