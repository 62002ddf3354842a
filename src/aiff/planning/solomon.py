"""Solomon VRPTW instances in LKH-3's TSPLIB-style format -> PyVRP `ProblemData`, to benchmark the planner core.

`vrplib` (PyVRP's own reader dependency) parses the sections; it ignores `SCALE`, so the scaling is done
here: with `SCALE : s` and `FLOOR_2D`, a leg is floor(s x Euclidean distance), and time windows and service
times are multiplied by s too (travel time = distance, as in Solomon's definition). The objective is
distance with at most `VEHICLES` routes; node 1 is the depot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvrp
import vrplib


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    coords: np.ndarray  # (n+1, 2), depot first
    demand: np.ndarray
    capacity: int
    windows: np.ndarray  # (n+1, 2), scaled
    service: np.ndarray  # (n+1,), scaled, 0 for the depot
    matrix: np.ndarray  # floor(scale x euclid)

    def data(self) -> pyvrp.ProblemData:
        n = len(self.coords)
        clients = [pyvrp.Client(location=i, delivery=[int(self.demand[i])], service_duration=int(self.service[i]),
                                tw_early=int(self.windows[i, 0]), tw_late=int(self.windows[i, 1]))
                   for i in range(1, n)]
        vt = pyvrp.VehicleType(num_available=self.vehicles, capacity=[self.capacity],
                               tw_early=int(self.windows[0, 0]), tw_late=int(self.windows[0, 1]))
        locations = [pyvrp.Location(float(x), float(y)) for x, y in self.coords]
        return pyvrp.ProblemData(locations, clients, [pyvrp.Depot(location=0)], [vt], [self.matrix], [self.matrix])


def read_solomon(path: str | Path, customers: int | None = None) -> SolomonInstance:
    """Read an instance; `customers` keeps only the first n customers (for quick tests)."""
    raw = vrplib.read_instance(str(path), compute_edge_weights=False)
    scale = int(raw.get("scale", 1))
    keep = len(raw["node_coord"]) if customers is None else customers + 1
    coords = np.asarray(raw["node_coord"], dtype=float)[:keep]
    diff = coords[:, None, :] - coords[None, :, :]
    matrix = np.floor(np.sqrt((diff**2).sum(axis=2) * scale * scale)).astype(np.int64)  # LKH: scaled coords
    service = np.full(keep, int(raw.get("service_time", 0)) * scale, dtype=np.int64)
    service[0] = 0
    return SolomonInstance(
        name=str(raw.get("name", Path(path).stem)), vehicles=int(raw["vehicles"]), coords=coords,
        demand=np.asarray(raw["demand"], dtype=np.int64)[:keep], capacity=int(raw["capacity"]),
        windows=np.asarray(raw["time_window"], dtype=np.int64)[:keep] * scale, service=service, matrix=matrix)
