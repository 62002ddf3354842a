"""Trend analysis as the seeds specify it (LinearRegression of efficiency on the daily drivers), plus a
plain per-metric slope and recommendations from the KPIs. Pure functions over arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.linear_model import LinearRegression


def seeds_trend(tickets_completed: Sequence[float], response_time: Sequence[float], customer_rating: Sequence[float], efficiency: Sequence[float]) -> dict:
    """The seeds' `generate_trend_analysis`: fit efficiency ~ completed + response time + rating, and read
    the trend from the fitted values' first and last points (needs ≥ 3 days)."""
    X = np.column_stack([tickets_completed, response_time, customer_rating]).astype(float)
    y = np.asarray(efficiency, dtype=float)
    if len(y) < 3:
        return {"trend": "insufficient_data", "change": 0.0, "forecast": [], "r2": None, "days": int(len(y))}
    model = LinearRegression().fit(X, y)
    predictions = model.predict(X)
    first, last = float(predictions[0]), float(predictions[-1])
    change = (last - first) / first * 100 if abs(first) > 1e-9 else 0.0
    return {
        "trend": "increasing" if last > first else "decreasing" if last < first else "flat",
        "change": round(change, 2),
        "forecast": [round(float(p), 2) for p in predictions],
        "r2": round(float(model.score(X, y)), 3) if np.var(y) > 0 else None,
        "coefficients": dict(zip(("tickets_completed", "response_time", "customer_rating"), (round(float(c), 4) for c in model.coef_))),
        "days": int(len(y)),
    }


def slope(values: Sequence[float]) -> dict:
    """Least-squares slope per day and the relative change it implies over the window."""
    y = np.asarray(values, dtype=float)
    if len(y) < 2:
        return {"slope_per_day": 0.0, "change_pct": 0.0, "direction": "flat"}
    x = np.arange(len(y))
    b, a = np.polyfit(x, y, 1)
    start, end = a, a + b * (len(y) - 1)
    change = (end - start) / abs(start) * 100 if abs(start) > 1e-9 else 0.0
    direction = "increasing" if b > 1e-9 else "decreasing" if b < -1e-9 else "flat"
    return {"slope_per_day": round(float(b), 4), "change_pct": round(float(change), 2), "direction": direction}


def recommendations(summary: Mapping[str, float], teams: Sequence[Mapping]) -> list[str]:
    """Plain rules over the period's KPIs; each names the number that triggered it."""
    recs = []
    eff = summary.get("efficiency")
    if eff is not None and summary.get("completed", 0) and eff < 85:
        recs.append(f"SLA efficiency is {eff:.1f}% (target 85%): run the optimal strategy more often and prioritise critical tickets near their due date.")
    ftf = summary.get("first_time_fix")
    if ftf is not None and summary.get("completed", 0) and ftf < 90:
        recs.append(f"First-time fix is {ftf:.1f}%: review reopened tickets' completion notes and equip teams for the recurring faults.")
    if summary.get("response_time", 0) > 120:
        recs.append(f"Mean response time is {summary['response_time']:.0f} min after assignment: check travel distances and team availability.")
    overloaded = [t for t in teams if t.get("utilization", 0) >= 100]
    if overloaded:
        names = ", ".join(str(t.get("name") or t.get("team_id")) for t in overloaded[:5])
        recs.append(f"{len(overloaded)} team(s) at or over capacity ({names}): rebalance to nearby teams with free capacity.")
    weak = [t for t in teams if t.get("completed", 0) >= 5 and t.get("efficiency", 100) < 60]
    if weak:
        names = ", ".join(str(t.get("name") or t.get("team_id")) for t in weak[:5])
        recs.append(f"{len(weak)} team(s) below 60% SLA efficiency ({names}): coach, reduce their capacity, or assign closer tickets.")
    if not recs:
        recs.append("KPIs are within targets for this period; keep the current assignment strategy.")
    return recs
