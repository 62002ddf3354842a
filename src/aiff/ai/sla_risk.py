"""Probability that a ticket misses its SLA.

Learned: logistic regression on features known at creation — priority and category (one-hot), hour of day
(sine/cosine), weekend flag, and the zone's load (tickets created in the same zone in the previous 24 h) —
labelled from history (completed after the due date, or still open past it). Needs
`MIN_ROWS` labelled tickets with both classes present; otherwise a documented heuristic:

    risk = base[priority] · (1 + 0.04 · zone_load_24h), capped at 0.95,
    base = critical 0.35, high 0.25, medium 0.15, low 0.08  (tight SLAs are missed more often)
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sklearn.linear_model import LogisticRegression

from aiff.analytics.metrics import MYT
from aiff.events.vocabulary import PRIORITIES, SKILLS

MIN_ROWS = 200
HEURISTIC_BASE = {"critical": 0.35, "high": 0.25, "medium": 0.15, "low": 0.08}


def features(priority: str, category: str | None, created_at: datetime, zone_load_24h: int) -> list[float]:
    local = created_at.astimezone(MYT)
    hour = local.hour + local.minute / 60
    row = [float(priority == p) for p in PRIORITIES]
    row += [float(category == c) for c in SKILLS]
    row += [math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24), float(local.weekday() >= 5)]
    row += [math.log1p(zone_load_24h)]
    return row


def zone_loads(zones: Sequence[str], created: Sequence[datetime]) -> list[int]:
    """For each ticket, how many tickets of its zone were created in the 24 h before it."""
    by_zone: dict[str, list[float]] = defaultdict(list)
    for z, c in sorted(zip(zones, created), key=lambda x: x[1]):
        by_zone[z].append(c.timestamp())
    out = []
    for z, c in zip(zones, created):
        times = by_zone[z]
        ts = c.timestamp()
        out.append(bisect_left(times, ts) - bisect_left(times, ts - 86400))
    return out


@dataclass
class SlaRiskModel:
    model: LogisticRegression | None = None
    n_train: int = 0
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    kind: str = "heuristic"

    @classmethod
    def train(cls, rows: Sequence[dict], now: datetime) -> SlaRiskModel:
        """rows: dicts with priority, category, zone, created_at, due_date, completed_at, status."""
        labelled = []
        for r in rows:
            if r["status"] in ("cancelled", "deleted") or r["due_date"] is None:
                continue
            if r["completed_at"] is not None:
                labelled.append((r, int(r["completed_at"] > r["due_date"])))
            elif now > r["due_date"]:
                labelled.append((r, 1))
        ys = [y for _, y in labelled]
        if len(labelled) < MIN_ROWS or len(set(ys)) < 2:
            return cls(n_train=len(labelled))
        loads = zone_loads([r["zone"] for r, _ in labelled], [r["created_at"] for r, _ in labelled])
        X = np.array([features(r["priority"], r["category"], r["created_at"], l) for (r, _), l in zip(labelled, loads)])
        y = np.array(ys)
        order = np.argsort([r["created_at"].timestamp() for r, _ in labelled])
        cut = int(len(order) * 0.8)  # time-ordered split: train on the past, test on the latest 20%
        model = LogisticRegression(max_iter=1000, class_weight=None)
        model.fit(X[order[:cut]], y[order[:cut]])
        acc = float(np.mean(model.predict(X[order[cut:]]) == y[order[cut:]]))
        majority = int(round(y[order[:cut]].mean()))
        base = float(np.mean(y[order[cut:]] == majority))
        model.fit(X, y)
        return cls(model, len(labelled), round(acc, 4), round(base, 4), "logreg")

    def predict(self, priority: str, category: str | None, created_at: datetime, zone_load_24h: int) -> float:
        return self.predict_many([(priority, category, created_at, zone_load_24h)])[0]

    def predict_many(self, tickets: Sequence[tuple[str, str | None, datetime, int]]) -> list[float]:
        """SLA-miss probability per (priority, category, created_at, zone_load_24h): one model call per batch."""
        if not tickets:
            return []
        if self.model is None:
            return [round(min(0.95, HEURISTIC_BASE.get(p, 0.15) * (1 + 0.04 * load)), 4) for p, _, _, load in tickets]
        x = np.array([features(*t) for t in tickets])
        return [round(float(v), 4) for v in self.model.predict_proba(x)[:, 1]]


def recent_window(now: datetime) -> datetime:
    return now - timedelta(hours=24)
