"""Run strategies side by side on one configuration, with a Rich progress bar per strategy (days done); the live
engine through Kafka as one more column on request."""

from __future__ import annotations

from aiff.simulation.engine import SimConfig, run
from aiff.simulation.metrics import Metrics, compute
from aiff.simulation.policies import STRATEGIES


def run_all(config: SimConfig, strategies: tuple[str, ...] | list[str] = STRATEGIES, progress: bool = True) -> list[Metrics]:
    """Metrics per strategy, every one on the same arrivals, teams and illness (same seed)."""
    from aiff.tools.progress import Bar

    out = []
    for name in strategies:
        if progress:
            with Bar(f"simulate {name}", total=config.days, unit="days") as bar:
                sim = run(config, name, progress=bar.advance)
        else:
            sim = run(config, name)
        out.append(compute(sim, name))
    return out


def report(config: SimConfig, strategies: tuple[str, ...] | list[str] = STRATEGIES, through_kafka: bool = False,
           progress: bool = True) -> str:
    """The KPI table of `strategies` (in-process), with a column `routes (through Kafka)` when `through_kafka`: the
    same days through real Kafka and the live assignment engine (aiff.simulation.through_kafka), its decision
    latency and what the engine left open underneath."""
    from aiff.simulation.report import render

    results = run_all(config, strategies, progress)
    notes: list[str] = []
    if through_kafka:
        from aiff.simulation import through_kafka as live

        metrics, outcome = live.run(config, progress=progress)
        results.append(metrics)
        notes = ["", *outcome.lines()]
    return "\n".join([render(results), *notes])
