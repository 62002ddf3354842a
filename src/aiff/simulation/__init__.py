"""A discrete-event simulation of working days on the Malaysian demo geography (issue 13, item 10).

Pure Python, no Kafka or Postgres: tickets arrive, teams drive and serve them, one falls ill, and each
dispatch strategy (`nearest`, `greedy`, `optimal`, `routes`) runs on the same arrivals and seed.
"""

from aiff.simulation.engine import SimConfig, run
from aiff.simulation.metrics import Metrics, compute

__all__ = ["Metrics", "SimConfig", "compute", "run"]
