"""The AI consumer's models and its per-batch work: train from history, enrich new tickets, keep insights."""

from __future__ import annotations

import asyncio

import json
import logging
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg

from aiff.ai.sla_risk import SlaRiskModel
from aiff.ai.text import TextModels, similarities, ticket_text, urgency_cues
from aiff.events.envelope import Envelope
from aiff.events.tickets import TicketCreated, TicketEnriched, ticket_event
from aiff.events.vocabulary import OPEN_STATUSES
from aiff.geo import haversine_km
from aiff.zones import canonical_zone

log = logging.getLogger(__name__)

ENRICH_NAMESPACE = uuid.UUID("0b9e0f57-3f1e-4b1f-8f43-6c0d7d6e2a55")
DUPLICATE_RADIUS_KM = 2.0
DUPLICATE_WINDOW = timedelta(hours=48)
DUPLICATE_MIN_SIMILARITY = 0.5
DUPLICATE_MAX_CANDIDATES = 50  # the most recent ones: keeps a burst of look-alike tickets from going quadratic
SIMILARITY_CHUNK = 64  # tickets whose duplicate candidates are compared in one vectorizer call
SLA_RISK_INSIGHT = 0.7
TRAINING_LIMIT = 8_000  # newest tickets; ~15 s of CPU for both text models


class AiEngine:
    """Models in use; `train` (re)fits them from the tickets projection."""

    def __init__(self) -> None:
        self.text = TextModels()
        self.sla = SlaRiskModel()
        self.trained_at: float = 0.0

    @property
    def version(self) -> str:
        return f"{self.text.version}+sla-{self.sla.kind}-n{self.sla.n_train}"

    async def train(self, conn: asyncpg.Connection | asyncpg.Pool) -> dict:
        """Fit the text and SLA-risk models on the latest tickets (CPU work runs in a thread)."""
        import asyncio

        rows = [
            dict(r)
            for r in await conn.fetch(
                """SELECT title, description, category, priority, zone, status, created_at, due_date, completed_at
                   FROM tickets ORDER BY created_at DESC LIMIT $1""",
                TRAINING_LIMIT,
            )
        ]
        now = datetime.now(UTC)

        def fit() -> tuple[TextModels, SlaRiskModel]:
            text = TextModels.train([r["title"] for r in rows], [r["description"] for r in rows], [r["category"] for r in rows], [r["priority"] for r in rows])
            return text, SlaRiskModel.train(rows, now)

        self.text, self.sla = await asyncio.to_thread(fit)
        self.trained_at = time.time()
        report = {"text": self.text.reports(), "sla_risk": {"kind": self.sla.kind, "n_train": self.sla.n_train, "accuracy": self.sla.accuracy, "baseline_accuracy": self.sla.baseline_accuracy}, "rows": len(rows)}
        await conn.execute(
            """INSERT INTO ai_models (name, version, trained_at, metrics) VALUES ('ticket_models', $1, now(), $2::jsonb)
               ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, trained_at = now(), metrics = EXCLUDED.metrics""",
            self.version,
            json.dumps(report, default=str),
        )
        log.info("ai models trained: %s", self.version)
        return report

    async def enrich(self, conn: asyncpg.Connection, created: list[TicketCreated]) -> list[Envelope]:
        """Enrich new tickets: suggested category/priority, urgency cues, duplicates, SLA risk.

        Upserts `ticket_enrichments` and SLA-risk insights; returns the `TicketEnriched` events (ids derived
        from the source event, so a retried batch republishes the same ids).
        """
        if not created:
            return []
        texts = [ticket_text(e.data.title, e.data.description) for e in created]
        cats = self.text.category.predict(texts)
        pris = self.text.priority.predict(texts)
        t_min = min(e.time for e in created)
        t_max = max(e.time for e in created)
        zones = sorted({canonical_zone(e.data.zone) or e.data.zone for e in created})
        recent = await conn.fetch(
            """SELECT id, title, description, category, zone, status, latitude, longitude, created_at FROM tickets
               WHERE zone = ANY($1::text[]) AND created_at >= $2 AND created_at <= $3""",
            zones, t_min - max(DUPLICATE_WINDOW, timedelta(hours=24)), t_max,
        )  # fmt: skip
        pool = _RecentByZone(dict(r) for r in recent)
        times_by_zone: dict[str, list[float]] = defaultdict(list)
        for r in recent:
            times_by_zone[r["zone"]].append(r["created_at"].timestamp())
        for v in times_by_zone.values():
            v.sort()

        facts, candidates = [], []
        for e, cat in zip(created, cats):
            d = e.data
            zone = canonical_zone(d.zone) or d.zone
            category = d.category or cat.label
            candidates.append(_duplicate_candidates(pool, d.ticket_id, zone, category, d.latitude, d.longitude, e.time))
            times = times_by_zone[zone]
            ts = e.time.timestamp()
            facts.append((zone, category, bisect_left(times, ts) - bisect_left(times, ts - 86400)))
            # This ticket is a duplicate candidate for later tickets of the same batch.
            pool.add({"id": d.ticket_id, "title": d.title, "description": d.description, "category": category, "zone": zone, "status": "open", "latitude": d.latitude, "longitude": d.longitude, "created_at": e.time})
        duplicates = []
        for at in range(0, len(created), SIMILARITY_CHUNK):
            if at:
                await asyncio.sleep(0)  # let the other consumers of this process (and their heartbeats) run
            chunk = candidates[at : at + SIMILARITY_CHUNK]
            sims = similarities(texts[at : at + SIMILARITY_CHUNK], [[ticket_text(r["title"], r["description"]) for r in c] for c in chunk])
            duplicates += [_most_similar(c, s) for c, s in zip(chunk, sims)]
        facts = [(zone, category, dupes, load) for (zone, category, load), dupes in zip(facts, duplicates)]
        risks = self.sla.predict_many([(e.data.priority, category, e.time, load) for e, (_, category, _, load) in zip(created, facts)])

        events, rows, insights = [], [], []
        for e, text, cat, pri, (zone, category, dupes, load), risk in zip(created, texts, cats, pris, facts, risks):
            d = e.data
            priority = d.priority
            enrichment = {
                "ticket_id": d.ticket_id, "suggested_category": cat.label, "category_confidence": cat.confidence,
                "suggested_priority": pri.label, "priority_confidence": pri.confidence, "urgency_cues": urgency_cues(text),
                "duplicate_of": dupes, "sla_risk": risk, "model_version": self.version,
            }  # fmt: skip
            rows.append(enrichment)
            events.append(ticket_event(TicketEnriched, enrichment, id=uuid.uuid5(ENRICH_NAMESPACE, str(e.id)), time=e.time, source="urn:aiff:ai", causationid=str(e.id), correlationid=e.correlationid))
            if risk >= SLA_RISK_INSIGHT:
                due = d.due_date
                insights.append({
                    "kind": "sla_risk", "scope": "ticket", "scope_id": str(d.ticket_id), "severity": "high" if risk >= 0.85 else "medium",
                    "title": f"Ticket {d.ticket_number or d.ticket_id} ({priority}, {zone}) is likely to miss its SLA",
                    "detail": f"Estimated SLA-miss probability {risk:.0%} (zone load {load} new tickets in 24 h; model {self.sla.kind}).",
                    "recommendation": "Assign it now to the nearest free team with the skill, or raise its priority for the optimiser.",
                    "metrics": {"sla_risk": risk, "zone_load_24h": load, "priority": priority, "category": category},
                    "expires_at": due, "dedupe_key": f"sla_risk:{d.ticket_id}",
                })  # fmt: skip
        await conn.execute(
            """INSERT INTO ticket_enrichments (ticket_id, suggested_category, category_confidence, suggested_priority,
                   priority_confidence, urgency_cues, duplicate_of, sla_risk, model_version, updated_at)
               SELECT r.ticket_id, r.suggested_category, r.category_confidence, r.suggested_priority, r.priority_confidence,
                      ARRAY(SELECT jsonb_array_elements_text(r.urgency_cues)), ARRAY(SELECT (jsonb_array_elements_text(r.duplicate_of))::bigint),
                      r.sla_risk, r.model_version, now()
               FROM jsonb_to_recordset($1::jsonb) AS r(ticket_id bigint, suggested_category text, category_confidence float8,
                    suggested_priority text, priority_confidence float8, urgency_cues jsonb, duplicate_of jsonb, sla_risk float8, model_version text)
               ON CONFLICT (ticket_id) DO UPDATE SET suggested_category = EXCLUDED.suggested_category,
                   category_confidence = EXCLUDED.category_confidence, suggested_priority = EXCLUDED.suggested_priority,
                   priority_confidence = EXCLUDED.priority_confidence, urgency_cues = EXCLUDED.urgency_cues,
                   duplicate_of = EXCLUDED.duplicate_of, sla_risk = EXCLUDED.sla_risk, model_version = EXCLUDED.model_version,
                   updated_at = now()""",
            json.dumps(rows),
        )
        await upsert_insights(conn, insights)
        return events


def _duplicate_candidates(pool: _RecentByZone, ticket_id: int, zone: str, category: str, lat, lon, at: datetime) -> list[dict]:
    """Open tickets of the same zone and category from the last 48 h within 2 km: the ones to compare texts with.

    Only the `DUPLICATE_MAX_CANDIDATES` most recent are kept, and the scan stops there: a burst of look-alike
    tickets in one place costs a bounded amount per ticket, not the whole pool.
    """
    found = []
    for r in pool.newest_first(zone, at, at - DUPLICATE_WINDOW):
        if (
            r["id"] != ticket_id and r["status"] in OPEN_STATUSES and r["category"] in (category, None)
            and (lat is None or r["latitude"] is None or haversine_km(lat, lon, r["latitude"], r["longitude"]) <= DUPLICATE_RADIUS_KM)
            and not (lat is None and r["latitude"] is not None)
        ):  # fmt: skip
            found.append(r)
            if len(found) == DUPLICATE_MAX_CANDIDATES:
                break
    return found


def _most_similar(candidates: list[dict], sims: Iterable[float]) -> list[int]:
    """Up to five candidates whose text is similar enough, most similar first."""
    ranked = sorted(((s, r["id"]) for s, r in zip(sims, candidates) if s >= DUPLICATE_MIN_SIMILARITY), reverse=True)
    return [int(i) for _, i in ranked[:5]]


class _RecentByZone:
    """The duplicate pool of one batch: per zone, tickets ordered by creation time, scanned newest first."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self._times: dict[str, list[float]] = defaultdict(list)
        self._rows: dict[str, list[dict]] = defaultdict(list)
        for r in sorted(rows, key=lambda r: r["created_at"]):
            self._times[r["zone"]].append(r["created_at"].timestamp())
            self._rows[r["zone"]].append(r)

    def add(self, row: dict) -> None:
        times, rows = self._times[row["zone"]], self._rows[row["zone"]]
        at = bisect_right(times, row["created_at"].timestamp())
        times.insert(at, row["created_at"].timestamp())
        rows.insert(at, row)

    def newest_first(self, zone: str, until: datetime, since: datetime) -> Iterator[dict]:
        """Tickets of `zone` created in [since, until], newest first."""
        times, rows = self._times.get(zone, []), self._rows.get(zone, [])
        floor = since.timestamp()
        for k in range(bisect_right(times, until.timestamp()) - 1, -1, -1):
            if times[k] < floor:
                return
            yield rows[k]


async def upsert_insights(conn: asyncpg.Connection, insights: list[dict]) -> int:
    """Insert or refresh insights by dedupe key (the same situation never makes two rows)."""
    if not insights:
        return 0
    await conn.execute(
        """INSERT INTO ai_insights (kind, scope, scope_id, severity, title, detail, recommendation, metrics, expires_at, dedupe_key)
           SELECT r.kind, r.scope, r.scope_id, r.severity, r.title, r.detail, r.recommendation, coalesce(r.metrics, '{}'),
                  r.expires_at, r.dedupe_key
           FROM jsonb_to_recordset($1::jsonb) AS r(kind text, scope text, scope_id text, severity text, title text, detail text,
                recommendation text, metrics jsonb, expires_at timestamptz, dedupe_key text)
           ON CONFLICT (dedupe_key) DO UPDATE SET severity = EXCLUDED.severity, title = EXCLUDED.title, detail = EXCLUDED.detail,
               recommendation = EXCLUDED.recommendation, metrics = EXCLUDED.metrics, expires_at = EXCLUDED.expires_at""",
        json.dumps(insights, default=str),
    )
    return len(insights)
