"""The dashboard's KPI snapshot, computed from the projections (status/zone indexes), cached ~1 s per process.

Definitions (the browser test checks them against its own SQL):
- open: status open or reopened; assigned; in_progress;
- completed_today: completed/closed with completed_at since local midnight (Asia/Kuala_Lumpur);
- sla_compliance_pct: of completed/closed tickets, the share completed by their due date (None when none);
- mean_response_min: mean minutes from assignment to start of work (tickets that started);
- overdue: open/assigned/in_progress past their due date;
- teams_available / teams_active; by_zone: backlog and overdue per zone (the map's shading).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

TIMEZONE = "Asia/Kuala_Lumpur"

KPI_SQL = f"""
SELECT
  count(*) FILTER (WHERE status IN ('open','reopened')) AS open,
  count(*) FILTER (WHERE status = 'assigned') AS assigned,
  count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
  count(*) FILTER (WHERE status IN ('completed','closed')
                   AND completed_at >= (date_trunc('day', now() AT TIME ZONE '{TIMEZONE}') AT TIME ZONE '{TIMEZONE}')) AS completed_today,
  100.0 * count(*) FILTER (WHERE status IN ('completed','closed') AND completed_at IS NOT NULL AND completed_at <= due_date)
        / NULLIF(count(*) FILTER (WHERE status IN ('completed','closed') AND completed_at IS NOT NULL), 0) AS sla_compliance_pct,
  avg(EXTRACT(EPOCH FROM started_at - assigned_at) / 60) FILTER (WHERE started_at IS NOT NULL AND assigned_at IS NOT NULL) AS mean_response_min,
  count(*) FILTER (WHERE status IN ('open','reopened','assigned','in_progress') AND due_date < now()) AS overdue,
  count(*) AS total
FROM tickets
"""

ZONE_SQL = """
SELECT zone,
       count(*) FILTER (WHERE status IN ('open','reopened')) AS open,
       count(*) FILTER (WHERE status IN ('assigned','in_progress')) AS active,
       count(*) FILTER (WHERE due_date < now()) AS overdue,
       count(*) FILTER (WHERE due_date >= now() AND due_date < now() + interval '4 hours') AS at_risk
FROM tickets WHERE status IN ('open','reopened','assigned','in_progress') AND zone IS NOT NULL
GROUP BY zone
"""

TEAM_SQL = """
SELECT count(*) FILTER (WHERE is_active) AS teams_active,
       count(*) FILTER (WHERE is_active AND status = 'available') AS teams_available
FROM teams
"""


async def compute(conn: asyncpg.Connection) -> dict[str, Any]:
    """One KPI snapshot (three queries)."""
    row = await conn.fetchrow(KPI_SQL)
    zones = await conn.fetch(ZONE_SQL)
    teams = await conn.fetchrow(TEAM_SQL)
    kpis: dict[str, Any] = {k: row[k] for k in ("open", "assigned", "in_progress", "completed_today", "overdue", "total")}
    kpis["sla_compliance_pct"] = round(float(row["sla_compliance_pct"]), 1) if row["sla_compliance_pct"] is not None else None
    kpis["mean_response_min"] = round(float(row["mean_response_min"]), 1) if row["mean_response_min"] is not None else None
    kpis["teams_active"] = teams["teams_active"]
    kpis["teams_available"] = teams["teams_available"]
    kpis["by_zone"] = {
        r["zone"]: {"open": r["open"], "active": r["active"], "overdue": r["overdue"], "at_risk": r["at_risk"]} for r in zones
    }
    kpis["computed_at"] = time.time()
    return kpis


class KpiCache:
    """`get()` answers from a snapshot at most `ttl_s` old; concurrent callers share one computation."""

    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 1.0) -> None:
        self._pool = pool
        self._ttl = ttl_s
        self._value: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, max_age_s: float | None = None) -> dict[str, Any]:
        max_age = self._ttl if max_age_s is None else max_age_s
        if self._value is not None and time.monotonic() - self._at <= max_age:
            return self._value
        async with self._lock:
            if self._value is not None and time.monotonic() - self._at <= max_age:
                return self._value
            started = time.monotonic()
            async with self._pool.acquire() as conn:
                self._value = await compute(conn)
            self._at = started
            return self._value
