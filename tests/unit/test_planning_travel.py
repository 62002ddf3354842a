"""The travel models: the documented haversine estimate, and the OSRM table client against a fake local server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from aiff.geo import haversine_km
from aiff.planning.travel import CIRCUITY, SPEEDS_KMH, UNREACHABLE, HaversineTravel, MatrixServiceTravel, Point

KL = Point(3.1390, 101.6869)  # a zone capital: urban
KL_EAST_5KM = Point(3.1390, 101.7319)
# ~100 km from every zone capital, inland Pahang: rural
PAHANG_INLAND = Point(4.20, 102.30)
PAHANG_INLAND_5KM = Point(4.20, 102.345)


def test_circuity_applies_to_the_great_circle_distance():
    _, dist = HaversineTravel().matrices([KL, PAHANG_INLAND])
    km = haversine_km(KL.lat, KL.lon, PAHANG_INLAND.lat, PAHANG_INLAND.lon)
    assert dist[0, 1] == round(km * CIRCUITY * 1000)
    _, plain = HaversineTravel(circuity=1.0).matrices([KL, PAHANG_INLAND])
    assert dist[0, 1] / plain[0, 1] == pytest.approx(CIRCUITY, rel=1e-4)


def test_area_types_by_distance_to_the_nearest_capital():
    travel = HaversineTravel()
    areas = travel.area_of(np.array([KL.lat, 3.139, PAHANG_INLAND.lat]), np.array([KL.lon, 101.90, PAHANG_INLAND.lon]))
    assert areas.tolist() == [0, 1, 2]  # centre; ~24 km east of KL; ~100 km from any capital


def test_the_same_distance_takes_longer_in_town_than_in_the_country():
    travel = HaversineTravel()
    dur_city, dist_city = travel.matrices([KL, KL_EAST_5KM])
    dur_rural, dist_rural = travel.matrices([PAHANG_INLAND, PAHANG_INLAND_5KM])
    assert dist_city[0, 1] == pytest.approx(dist_rural[0, 1], rel=0.01)
    assert dur_city[0, 1] == round(dist_city[0, 1] / 1000 / SPEEDS_KMH["urban"] * 3600)
    assert dur_rural[0, 1] == round(dist_rural[0, 1] / 1000 / SPEEDS_KMH["rural"] * 3600)
    assert dur_city[0, 1] > 2 * dur_rural[0, 1]


def test_matrices_are_square_symmetric_with_a_zero_diagonal():
    rng = np.random.default_rng(3)
    pts = [Point(float(a), float(b)) for a, b in zip(rng.uniform(1.5, 6.5, 30), rng.uniform(100.2, 104.0, 30))]
    dur, dist = HaversineTravel().matrices(pts)
    assert dur.shape == dist.shape == (30, 30)
    assert (np.diag(dur) == 0).all() and (np.diag(dist) == 0).all()
    assert np.abs(dur - dur.T).max() <= 1 and np.abs(dist - dist.T).max() <= 1
    assert (dur[~np.eye(30, dtype=bool)] > 0).all()


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/{lon,lat;...}: duration = 60 s x |i - j|, distance = 1000 m x |i - j|, where a
    point's id is its latitude; a point at latitude 99 is unroutable (null)."""

    requests: list[tuple[int, dict]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)  # not urlparse: it would cut the path at the first ";"
        prefix = "/table/v1/driving/"
        if not url.path.startswith(prefix):
            self.send_error(404)
            return
        ids = [float(c.split(",")[1]) for c in url.path[len(prefix):].split(";")]
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append((len(ids), q))
        src = [int(i) for i in q["sources"].split(";")] if "sources" in q else range(len(ids))
        dst = [int(i) for i in q["destinations"].split(";")] if "destinations" in q else range(len(ids))

        def cell(scale, a, b):
            return None if 99 in (ids[a], ids[b]) and a != b else scale * abs(ids[a] - ids[b])

        body = {"code": "Ok", "durations": [[cell(60.0, a, b) for b in dst] for a in src],
                "distances": [[cell(1000.0, a, b) for b in dst] for a in src]}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    _FakeOsrm.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("table_size", [100, 4, 3])
def test_osrm_table_client_assembles_the_full_matrix_in_blocks(osrm, table_size):
    pts = [Point(float(i), 101.0 + i / 100) for i in range(7)]
    dur, dist = MatrixServiceTravel(osrm, max_table_size=table_size).matrices(pts)
    idx = np.arange(7)
    assert (dur == 60 * np.abs(idx[:, None] - idx[None, :])).all()
    assert (dist == 1000 * np.abs(idx[:, None] - idx[None, :])).all()
    assert all(n <= table_size for n, _ in _FakeOsrm.requests)
    assert all(q["annotations"] == "duration,distance" for _, q in _FakeOsrm.requests)
    expected_requests = 1 if table_size >= 14 else len(range(0, 7, table_size // 2)) ** 2
    assert len(_FakeOsrm.requests) == expected_requests


def test_osrm_unroutable_legs_become_unreachable(osrm):
    dur, dist = MatrixServiceTravel(osrm).matrices([Point(1.0, 101.0), Point(99.0, 101.0), Point(2.0, 101.0)])
    assert dur[0, 1] == dur[1, 2] == dist[1, 0] == UNREACHABLE
    assert dur[0, 2] == 60 and dist[2, 0] == 1000 and dur[1, 1] == 0


def test_osrm_http_error_raises(osrm):
    with pytest.raises(httpx.HTTPStatusError):
        MatrixServiceTravel(osrm + "/nope").matrices([Point(1.0, 101.0), Point(2.0, 101.0)])
