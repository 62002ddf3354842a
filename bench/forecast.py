"""Benchmark of the AI models: rolling-origin backtest of the per-zone volume forecast against
seasonal-naive (MAPE per horizon), and the text classifier against the majority-class baseline.

Data: the daily created-ticket series from the database (`zone_daily_stats`, else `tickets`) when it holds
at least `--min-db-days` days, else a generated history (`aiff.demo.generate`, deterministic by seed).

    python bench/forecast.py [--source auto|db|demo] [--tickets 20000] [--days 180] [--seed 42]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict

import numpy as np

from aiff.ai.forecast import HORIZONS, backtest
from aiff.ai.text import LearnedTextClassifier, ticket_text
from aiff.analytics.metrics import day_of
from aiff.zones import ZONES


async def db_history(min_days: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]]] | None:
    import asyncpg

    from aiff.settings import get_settings

    try:
        conn = await asyncpg.connect(get_settings().asyncpg_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        try:
            rows = await conn.fetch("SELECT zone, day, created AS n FROM zone_daily_stats WHERE created > 0")
        except asyncpg.UndefinedTableError:
            rows = []
        if not rows:
            try:
                rows = await conn.fetch(
                    "SELECT zone, (created_at AT TIME ZONE 'Asia/Kuala_Lumpur')::date AS day, count(*) AS n FROM tickets GROUP BY 1, 2"
                )
            except asyncpg.UndefinedTableError:
                return None
        if not rows:
            return None
        first, last = min(r["day"] for r in rows), max(r["day"] for r in rows)
        days = (last - first).days  # the last day is partial: leave it out
        if days < min_days:
            return None
        series = {z.name: np.zeros(days) for z in ZONES}
        for r in rows:
            i = (r["day"] - first).days
            if i < days and r["zone"] in series:
                series[r["zone"]][i] += r["n"]
        texts = [
            (ticket_text(r["title"], r["description"]), r["category"], r["priority"])
            for r in await conn.fetch(
                "SELECT title, description, category, priority FROM tickets WHERE category IS NOT NULL ORDER BY id DESC LIMIT 20000"
            )
        ]
        return {"__first_dow__": np.array([first.weekday()]), **series}, texts
    finally:
        await conn.close()


def demo_history(seed: int, tickets: int, days: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]]]:
    from aiff.demo.generator import generate
    from aiff.events.tickets import TicketCreated

    data = generate(seed=seed, teams=150, tickets=tickets, days=days)
    created = [e for e in data.ticket_events if isinstance(e, TicketCreated)]
    first = min(day_of(e.time) for e in created)
    last = max(day_of(e.time) for e in created)
    n = (last - first).days  # drop the partial last day
    series = {z.name: np.zeros(n) for z in ZONES}
    texts = []
    for e in created:
        i = (day_of(e.time) - first).days
        if i < n:
            series[e.data.zone][i] += 1
        texts.append((ticket_text(e.data.title, e.data.description), e.data.category, e.data.priority))
    return {"__first_dow__": np.array([first.weekday()]), **series}, texts


def run_forecast(series: dict[str, np.ndarray]) -> bool:
    dow = int(series.pop("__first_dow__")[0])
    total = np.sum(list(series.values()), axis=0)
    print(f"\n== Volume forecast: rolling-origin backtest ({len(total)} days, origins every 7 days after day 56) ==")
    print(f"{'series':<18}{'mean/day':>9}  " + "  ".join(f"h={h}: model / naive MAPE%   " for h in HORIZONS))
    wins = defaultdict(int)
    rows = [("ALL ZONES", total)] + sorted(series.items(), key=lambda kv: -kv[1].sum())
    pooled = {h: ([], []) for h in HORIZONS}
    all_ok = True
    for name, y in rows:
        cells = []
        for h in HORIZONS:
            r = backtest(y, h, start_dow=dow)
            if r.origins == 0:
                cells.append(f"{'n/a':>26}")
                continue
            mark = "✓" if r.beats_baseline else "✗"
            wins[h] += int(r.beats_baseline) if name != "ALL ZONES" else 0
            if name != "ALL ZONES":
                pooled[h][0].append(r.model_mape or 0)
                pooled[h][1].append(r.naive_mape or 0)
            else:
                all_ok &= r.beats_baseline
            cells.append(f"{r.model_mape:7.1f} / {r.naive_mape:7.1f} {mark} (MAE {r.model_mae:4.1f}/{r.naive_mae:4.1f})")
        print(f"{name:<18}{y.mean():9.2f}  " + "  ".join(cells))
    print("\nzones where the model beats seasonal-naive: " + ", ".join(f"h={h}: {wins[h]}/{len(series)}" for h in HORIZONS))
    print("mean per-zone MAPE model vs naive: " + ", ".join(f"h={h}: {np.mean(pooled[h][0]):.1f}% vs {np.mean(pooled[h][1]):.1f}%" for h in HORIZONS))
    return all_ok


def run_classifier(texts: list[tuple[str, str, str]]) -> None:
    print(f"\n== Text classifier (TF-IDF word+char → logistic regression), {len(texts)} tickets, 80/20 stratified split ==")
    for target, idx in (("category", 1), ("priority", 2)):
        rows = [(t[0], t[idx]) for t in texts if t[idx]]
        started = time.perf_counter()
        rep = LearnedTextClassifier(target).fit([r[0] for r in rows], [r[1] for r in rows])
        verdict = "beats" if rep.beats_baseline else "DOES NOT beat"
        print(f"{target:<9} accuracy {rep.accuracy:.3f} vs majority baseline {rep.baseline_accuracy:.3f} ('{rep.majority_label}') "
              f"-> {verdict} the baseline (+{(rep.accuracy - rep.baseline_accuracy) * 100:.1f} pts; train {rep.n_train}, test {rep.n_test}; {time.perf_counter() - started:.1f}s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=("auto", "db", "demo"), default="auto")
    ap.add_argument("--tickets", type=int, default=20_000, help="demo tickets (over --days)")
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-db-days", type=int, default=120)
    args = ap.parse_args()
    loaded = None
    if args.source in ("auto", "db"):
        loaded = asyncio.run(db_history(args.min_db_days))
        if loaded is None and args.source == "db":
            print("no usable history in the database", file=sys.stderr)
            return 1
        if loaded is not None:
            print("data: database")
    if loaded is None:
        started = time.perf_counter()
        loaded = demo_history(args.seed, args.tickets, args.days)
        print(f"data: generated demo history (seed {args.seed}, {args.tickets} tickets, {args.days} days; {time.perf_counter() - started:.1f}s)")
    series, texts = loaded
    run_forecast(series)
    run_classifier(texts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
