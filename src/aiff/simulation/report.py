"""The side-by-side table, the ratios against `nearest` and the issue's targets, PASS/FAIL honestly."""

from __future__ import annotations

import math

from aiff.simulation.metrics import PRIORITIES, Metrics

ROWS = (
    ("completed / arrived", lambda m: f"{m.completed} / {m.tickets}"),
    ("drive h per completed", lambda m: f"{m.drive_h_per_ticket:.3f}"),
    ("km per completed", lambda m: f"{m.km_per_ticket:.1f}"),
    *((f"on-time {p}", (lambda p: lambda m: _pct(m.on_time[p]))(p)) for p in PRIORITIES),
    *((f"mean h late, {p}", (lambda p: lambda m: _hours(m.late_h[p]))(p)) for p in ("critical", "high")),
    ("completed per team-day", lambda m: f"{m.per_team_day:.2f}"),
    ("overtime h (total)", lambda m: f"{m.overtime_h:.1f}"),
    ("utilisation (service/shift)", lambda m: f"{m.utilisation:.1%}"),
    ("churn (moves per ticket)", lambda m: f"{m.churn:.3f}"),
    ("decision time p50 / p99 ms", lambda m: f"{m.decide_p50_ms:.1f} / {m.decide_p99_ms:.1f}"),
)


def _hours(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1%}"


def table(results: list[Metrics]) -> str:
    """Markdown table: one row per KPI, one column per strategy."""
    head = "| KPI | " + " | ".join(m.strategy for m in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    lines += ["| " + name + " | " + " | ".join(f(m) for m in results) + " |" for name, f in ROWS]
    return "\n".join(lines)





def targets(results: list[Metrics], candidate: str = "routes", baseline: str = "nearest") -> list[tuple[str, bool, str]]:
    """(target, passed, figures) for the issue's three simulation targets."""
    by = {m.strategy: m for m in results}
    if candidate not in by or baseline not in by:
        return []
    c, b = by[candidate], by[baseline]
    drive = c.drive_h_per_ticket / b.drive_h_per_ticket
    out = [(f"drive time per completed ticket >= 25% less than {baseline}", drive <= 0.75,
            f"{c.drive_h_per_ticket:.3f} h vs {b.drive_h_per_ticket:.3f} h = {drive:.2f}x ({1 - drive:+.0%} less)")]
    for p in ("critical", "high"):
        out.append((f"on-time {p} higher than {baseline}", c.on_time[p] > b.on_time[p],
                    f"{_pct(c.on_time[p])} vs {_pct(b.on_time[p])}"))
    out.append((f"overtime no more than {baseline}", c.overtime_h <= b.overtime_h,
                f"{c.overtime_h:.1f} h vs {b.overtime_h:.1f} h"))
    return out


def ratios(results: list[Metrics], baseline: str = "nearest") -> str:
    by = {m.strategy: m for m in results}
    b = by.get(baseline)
    if b is None:
        return ""
    lines = [f"| vs {baseline} | drive/ticket | on-time critical | on-time high | overtime | completed |", "|---|---|---|---|---|---|"]
    for m in results:
        lines.append(f"| {m.strategy} | {m.drive_h_per_ticket / b.drive_h_per_ticket:.2f}x | "
                     f"{_pct(m.on_time['critical'])} vs {_pct(b.on_time['critical'])} | {_pct(m.on_time['high'])} vs {_pct(b.on_time['high'])} | "
                     f"{m.overtime_h / b.overtime_h if b.overtime_h else float('nan'):.2f}x | {m.completed / max(1, b.completed):.2f}x |")
    return "\n".join(lines)


def render(results: list[Metrics]) -> str:
    out = [table(results), "", ratios(results), ""]
    for name, ok, figures in targets(results):
        out.append(f"{'PASS' if ok else 'FAIL'}  {name}: {figures}")
    return "\n".join(out)
