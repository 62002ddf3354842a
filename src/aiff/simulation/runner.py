"""Run strategies side by side on one configuration, with a Rich progress bar per strategy (days done)."""

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
