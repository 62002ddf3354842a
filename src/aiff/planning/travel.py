"""Travel-time models behind one interface, so an operator can swap the documented estimate for a road network.

`HaversineTravel` (the default) estimates a leg as great-circle km x a circuity factor, driven at a speed set
by the area the leg runs through. `MatrixServiceTravel` asks an OSRM-compatible `/table` service instead.
Both return integer matrices: durations in seconds and distances in metres, rows = from, columns = to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import httpx
import numpy as np

from aiff.geo import haversine_matrix
from aiff.zones import ZONES


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS84 position."""

    lat: float
    lon: float


class TravelModel(Protocol):
    """Anything that prices every leg between a list of points."""

    def matrices(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        """(durations in s, distances in m) as int64 n x n matrices."""
        ...


# Road circuity: road km / great-circle km. Studies of national road networks put it at 1.2-1.4 for
# trips of a few to a hundred km (Ballou, Rahardja & Sakai 2002); 1.3 is the middle of that range.
CIRCUITY = 1.3

# Urban cores: the 15 zone capitals (aiff.zones). A leg's area is the area of its midpoint: within
# URBAN_KM of a capital it is urban, within SUBURBAN_KM suburban, else rural.
URBAN_KM = 12.0
SUBURBAN_KM = 35.0

# Door-to-door average speeds by area (km/h), including junctions, congestion and parking.
SPEEDS_KMH = {"urban": 25.0, "suburban": 40.0, "rural": 65.0}


@dataclass(frozen=True)
class HaversineTravel:
    """The documented estimate: great-circle km x circuity, at the speed of the area the leg's midpoint is in."""

    circuity: float = CIRCUITY
    urban_kmh: float = SPEEDS_KMH["urban"]
    suburban_kmh: float = SPEEDS_KMH["suburban"]
    rural_kmh: float = SPEEDS_KMH["rural"]
    urban_km: float = URBAN_KM
    suburban_km: float = SUBURBAN_KM
    centres: tuple[Point, ...] = tuple(Point(z.latitude, z.longitude) for z in ZONES)

    def area_of(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Area type per point: 0 urban, 1 suburban, 2 rural (by distance to the nearest centre)."""
        lat, lon = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        clat = np.array([c.lat for c in self.centres])
        clon = np.array([c.lon for c in self.centres])
        nearest = np.empty(lat.size)
        for i in range(0, lat.size, 100_000):  # chunks bound the points x centres scratch matrix
            nearest[i:i + 100_000] = haversine_matrix(lat[i:i + 100_000], lon[i:i + 100_000], clat, clon).min(axis=1)
        return np.where(nearest <= self.urban_km, 0, np.where(nearest <= self.suburban_km, 1, 2))

    def matrices(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        lat = np.array([p.lat for p in points], dtype=float)
        lon = np.array([p.lon for p in points], dtype=float)
        road_km = haversine_matrix(lat, lon, lat, lon) * self.circuity
        # Midpoints by averaging coordinates: exact enough for legs within one country (no sea crossings).
        mid_lat = (lat[:, None] + lat[None, :]) / 2
        mid_lon = (lon[:, None] + lon[None, :]) / 2
        area = self.area_of(mid_lat, mid_lon).reshape(road_km.shape)
        speed = np.array([self.urban_kmh, self.suburban_kmh, self.rural_kmh])[area]
        durations = np.rint(road_km / speed * 3600.0).astype(np.int64)
        distances = np.rint(road_km * 1000.0).astype(np.int64)
        np.fill_diagonal(durations, 0)
        np.fill_diagonal(distances, 0)
        return durations, distances


# Stand-in for a leg the road service cannot route (OSRM returns null): big enough that no plan uses it,
# small enough that sums of a few such values stay far from int64 overflow in the solver.
UNREACHABLE = 10**9


@dataclass
class MatrixServiceTravel:
    """An OSRM-compatible table service (`GET {url}/table/v1/{profile}/{lon,lat;...}`), asked in blocks.

    OSRM caps a table request (`--max-table-size`, 100 by default), so big point lists are split into
    blocks of sources x destinations; each block is one request naming its points once.
    """

    url: str
    profile: str = "driving"
    max_table_size: int = 100
    timeout_s: float = 30.0
    client: httpx.Client | None = None

    def matrices(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        n = len(points)
        durations = np.zeros((n, n), dtype=np.int64)
        distances = np.zeros((n, n), dtype=np.int64)
        half = max(1, self.max_table_size // 2)
        blocks = [range(i, min(i + half, n)) for i in range(0, n, half)]
        client = self.client or httpx.Client(timeout=self.timeout_s)
        try:
            for src in blocks:
                for dst in blocks:
                    dur, dist = self._block(client, points, src, dst)
                    durations[src.start:src.stop, dst.start:dst.stop] = dur
                    distances[src.start:src.stop, dst.start:dst.stop] = dist
        finally:
            if self.client is None:
                client.close()
        return durations, distances

    def _block(self, client: httpx.Client, points: Sequence[Point], src: range, dst: range):
        same = src == dst
        idx = list(src) if same else list(src) + list(dst)
        coords = ";".join(f"{points[i].lon:.6f},{points[i].lat:.6f}" for i in idx)
        params = {"annotations": "duration,distance"}
        if not same:
            params["sources"] = ";".join(str(k) for k in range(len(src)))
            params["destinations"] = ";".join(str(len(src) + k) for k in range(len(dst)))
        resp = client.get(f"{self.url.rstrip('/')}/table/v1/{self.profile}/{coords}", params=params)
        resp.raise_for_status()
        body = resp.json()
        if body.get("code") != "Ok":
            raise RuntimeError(f"table service answered {body.get('code')}: {body.get('message', '')}")
        return _ints(body["durations"]), _ints(body["distances"])


def _ints(rows: list[list[float | None]]) -> np.ndarray:
    """Round a JSON matrix to int64, unroutable (null) legs to UNREACHABLE."""
    return np.array([[UNREACHABLE if v is None else round(v) for v in row] for row in rows], dtype=np.int64)
