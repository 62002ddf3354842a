"""Deterministic, realistic Malaysian test data for the assignment benchmarks and tests (not the demo data).

Teams are spread over the 15 zones roughly in proportion to population and based at real towns of their
zone (mostly near the capital) with ~30 km of jitter; tickets cluster around real towns the same way.
Priorities follow critical 5%, high 20%, medium 45%, low 30%; due = created + SLA_HOURS[priority].
Everything comes from one `numpy.random.default_rng(seed)`, so a seed always gives the same scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from aiff.events.vocabulary import SKILLS, SLA_HOURS
from aiff.zones import ZONES

from .model import TeamSpec, TicketSpec

# zone -> (population weight in millions, towns [(name, lat, lon, weight)]); the capital comes first.
TOWNS: dict[str, tuple[float, list[tuple[str, float, float, float]]]] = {
    "Selangor": (7.0, [("Shah Alam", 3.0738, 101.5183, 3), ("Petaling Jaya", 3.1073, 101.6067, 3), ("Klang", 3.0449, 101.4456, 3),
                       ("Subang Jaya", 3.0567, 101.5851, 2), ("Kajang", 2.9935, 101.7874, 2), ("Rawang", 3.3213, 101.5767, 1),
                       ("Sepang", 2.6934, 101.7500, 1), ("Kuala Selangor", 3.3400, 101.2500, 1)]),
    "Johor": (4.0, [("Johor Bahru", 1.4927, 103.7414, 5), ("Batu Pahat", 1.8548, 102.9325, 2), ("Muar", 2.0442, 102.5689, 2),
                    ("Kluang", 2.0251, 103.3328, 1), ("Segamat", 2.5148, 102.8158, 1), ("Pontian", 1.4866, 103.3896, 1),
                    ("Kota Tinggi", 1.7381, 103.8999, 1), ("Mersing", 2.4312, 103.8405, 0.5)]),
    "Sabah": (3.4, [("Kota Kinabalu", 5.9804, 116.0735, 4), ("Sandakan", 5.8402, 118.1179, 2), ("Tawau", 4.2448, 117.8911, 2),
                    ("Lahad Datu", 5.0268, 118.3270, 1), ("Keningau", 5.3378, 116.1602, 1), ("Beaufort", 5.3473, 115.7455, 0.5)]),
    "Sarawak": (2.5, [("Kuching", 1.5535, 110.3593, 4), ("Miri", 4.3995, 113.9914, 2), ("Sibu", 2.2870, 111.8305, 2),
                      ("Bintulu", 3.1713, 113.0419, 1), ("Sri Aman", 1.2376, 111.4621, 0.5), ("Kapit", 2.0167, 112.9333, 0.3)]),
    "Perak": (2.5, [("Ipoh", 4.5975, 101.0901, 4), ("Taiping", 4.8500, 100.7333, 2), ("Teluk Intan", 4.0259, 101.0213, 1),
                    ("Sitiawan", 4.2167, 100.7000, 1), ("Kuala Kangsar", 4.7667, 100.9333, 1), ("Kampar", 4.3000, 101.1500, 1)]),
    "Kuala Lumpur": (2.1, [("Kuala Lumpur", 3.1390, 101.6869, 4), ("Cheras", 3.1000, 101.7400, 2), ("Kepong", 3.2100, 101.6400, 2),
                           ("Setapak", 3.1900, 101.7100, 1), ("Putrajaya", 2.9264, 101.6964, 1)]),
    "Kedah": (2.2, [("Alor Setar", 6.1248, 100.3678, 3), ("Sungai Petani", 5.6470, 100.4877, 3), ("Kulim", 5.3650, 100.5617, 2),
                    ("Jitra", 6.2684, 100.4219, 1), ("Langkawi", 6.3500, 99.8000, 0.5)]),
    "Kelantan": (1.8, [("Kota Bharu", 6.1254, 102.2381, 4), ("Pasir Mas", 6.0493, 102.1399, 1), ("Tanah Merah", 5.8088, 102.1467, 1),
                       ("Machang", 5.7640, 102.2149, 1), ("Gua Musang", 4.8823, 101.9686, 0.5)]),
    "Pulau Pinang": (1.8, [("George Town", 5.4141, 100.3288, 3), ("Butterworth", 5.3991, 100.3638, 2),
                           ("Bukit Mertajam", 5.3630, 100.4667, 2), ("Bayan Lepas", 5.2945, 100.2593, 1)]),
    "Pahang": (1.6, [("Kuantan", 3.8077, 103.3260, 4), ("Temerloh", 3.4500, 102.4176, 2), ("Bentong", 3.5225, 101.9086, 1),
                     ("Raub", 3.7932, 101.8573, 1), ("Jerantut", 3.9360, 102.3626, 1), ("Tanah Rata", 4.4710, 101.3787, 0.5),
                     ("Pekan", 3.4922, 103.3897, 0.5)]),
    "Terengganu": (1.2, [("Kuala Terengganu", 5.3302, 103.1408, 4), ("Chukai", 4.2333, 103.4167, 1), ("Dungun", 4.7566, 103.4200, 1),
                         ("Besut", 5.8300, 102.5500, 1), ("Marang", 5.2056, 103.2059, 0.5)]),
    "Negeri Sembilan": (1.2, [("Seremban", 2.7258, 101.9424, 4), ("Port Dickson", 2.5228, 101.7959, 1), ("Nilai", 2.8167, 101.8000, 1),
                              ("Kuala Pilah", 2.7389, 102.2487, 0.5)]),
    "Melaka": (1.0, [("Melaka", 2.1896, 102.2501, 4), ("Alor Gajah", 2.3804, 102.2089, 1), ("Jasin", 2.3096, 102.4281, 1)]),
    "Perlis": (0.3, [("Kangar", 6.4414, 100.1986, 3), ("Arau", 6.4297, 100.2699, 1), ("Padang Besar", 6.6626, 100.3217, 0.5)]),
    "Labuan": (0.1, [("Victoria", 5.2831, 115.2308, 1)]),
}
assert set(TOWNS) == {z.name for z in ZONES}

ZONE_NAMES = list(TOWNS)
ZONE_WEIGHTS = np.array([TOWNS[z][0] for z in ZONE_NAMES]) / sum(TOWNS[z][0] for z in ZONE_NAMES)
PRIORITY_SHARES = {"critical": 0.05, "high": 0.20, "medium": 0.45, "low": 0.30}
KM_PER_DEG = 111.2
# Small zones get less jitter so points stay (roughly) inside them.
JITTER_SCALE = {"Labuan": 0.15, "Melaka": 0.5, "Perlis": 0.5, "Pulau Pinang": 0.4, "Kuala Lumpur": 0.35}


@dataclass(frozen=True)
class Scenario:
    tickets: tuple[TicketSpec, ...]
    teams: tuple[TeamSpec, ...]
    now: datetime
    service_minutes: np.ndarray  # actual service duration per ticket (for the backtest)


def _points(rng: np.random.Generator, zones: np.ndarray, jitter_km: float, capital_bias: float) -> tuple[np.ndarray, np.ndarray]:
    lat = np.empty(len(zones))
    lon = np.empty(len(zones))
    for zi, zname in enumerate(ZONE_NAMES):
        idx = np.flatnonzero(zones == zi)
        if idx.size == 0:
            continue
        towns = TOWNS[zname][1]
        w = np.array([t[3] for t in towns], dtype=float)
        w[0] *= capital_bias
        w /= w.sum()
        pick = rng.choice(len(towns), size=idx.size, p=w)
        tlat = np.array([t[1] for t in towns])[pick]
        tlon = np.array([t[2] for t in towns])[pick]
        sd = jitter_km * JITTER_SCALE.get(zname, 1.0) / 2.0  # ~95% within 2 sd = jitter_km
        lat[idx] = tlat + rng.normal(0, sd, idx.size) / KM_PER_DEG
        lon[idx] = tlon + rng.normal(0, sd, idx.size) / (KM_PER_DEG * np.cos(np.radians(tlat)))
    return lat, lon


def make_teams(n_teams: int, rng: np.random.Generator, *, busy_share: float = 0.25, idle: bool = False) -> list[TeamSpec]:
    """Teams proportional to population (each zone gets at least one), 2-4 skills, capacity 3-8."""
    base = np.maximum(1, np.floor(ZONE_WEIGHTS * n_teams)).astype(int)
    while base.sum() < n_teams:  # hand out the remainder by weight
        base[rng.choice(len(ZONE_NAMES), p=ZONE_WEIGHTS)] += 1
    while base.sum() > n_teams:
        k = int(np.argmax(base))
        base[k] -= 1
    zones = np.repeat(np.arange(len(ZONE_NAMES)), base)
    lat, lon = _points(rng, zones, jitter_km=30.0, capital_bias=2.0)
    teams: list[TeamSpec] = []
    statuses = rng.choice(["available", "busy", "offline", "on_leave"], size=n_teams,
                          p=[0.95 - busy_share, busy_share, 0.03, 0.02])
    for k in range(n_teams):
        cap = int(rng.integers(3, 9))
        status = str(statuses[k])
        if idle:
            open_t = 0
        elif status == "busy":
            open_t = int(rng.integers(cap // 2, cap + 1))
        else:
            open_t = int(rng.integers(0, 2))
        n_sk = int(rng.integers(2, 5))
        skills = frozenset(str(s) for s in rng.choice(SKILLS, size=n_sk, replace=False))
        teams.append(TeamSpec(
            team_id=k + 1, zone=ZONE_NAMES[zones[k]], latitude=float(lat[k]), longitude=float(lon[k]),
            skills=skills, capacity=cap, open_tickets=open_t, status=status,
            tickets_completed=int(rng.integers(0, 120)), customer_rating=round(float(rng.uniform(3.2, 5.0)), 2),
            efficiency=round(float(rng.uniform(60, 99)), 1),
        ))
    return teams


def make_tickets(n_tickets: int, rng: np.random.Generator, *, now: datetime, spread_hours: float | None = None,
                 start_id: int = 1) -> tuple[list[TicketSpec], np.ndarray]:
    """Tickets at real towns. With `spread_hours` None they are pending now (created within the first half
    of their SLA window); otherwise creation times spread uniformly over [now, now + spread_hours]."""
    zones = rng.choice(len(ZONE_NAMES), size=n_tickets, p=ZONE_WEIGHTS)
    lat, lon = _points(rng, zones, jitter_km=30.0, capital_bias=1.0)
    prios = rng.choice(list(PRIORITY_SHARES), size=n_tickets, p=list(PRIORITY_SHARES.values()))
    skills = rng.choice(SKILLS, size=n_tickets)
    service = np.clip(rng.lognormal(np.log(90), 0.5, n_tickets), 20, 480)  # minutes on site
    if spread_hours is None:
        frac = rng.uniform(0, 0.5, n_tickets)
        created = [now - timedelta(hours=float(frac[k] * SLA_HOURS[str(prios[k])])) for k in range(n_tickets)]
    else:
        offs = np.sort(rng.uniform(0, spread_hours, n_tickets))
        created = [now + timedelta(hours=float(h)) for h in offs]
    tickets = []
    for k in range(n_tickets):
        p = str(prios[k])
        c = created[k].replace(microsecond=0)
        tickets.append(TicketSpec(
            ticket_id=start_id + k, zone=ZONE_NAMES[zones[k]], latitude=float(lat[k]), longitude=float(lon[k]),
            priority=p, skill=str(skills[k]), created_at=c, due_date=c + timedelta(hours=SLA_HOURS[p]),
        ))
    if spread_hours is None:  # pending queue in creation order
        order = sorted(range(n_tickets), key=lambda k: (tickets[k].created_at, tickets[k].ticket_id))
        tickets = [tickets[k] for k in order]
        service = service[order]
    return tickets, service


def make_scenario(n_tickets: int, n_teams: int, seed: int = 0, *, now: datetime | None = None) -> Scenario:
    """A static snapshot: `n_tickets` pending tickets and `n_teams` teams (some busy, a few offline)."""
    rng = np.random.default_rng(seed)
    now = now or datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    teams = make_teams(n_teams, rng)
    tickets, service = make_tickets(n_tickets, rng, now=now)
    return Scenario(tuple(tickets), tuple(teams), now, service)


def make_history(n_tickets: int, n_teams: int, seed: int = 0, *, hours: float | None = None,
                 start: datetime | None = None) -> Scenario:
    """Tickets arriving over `hours` (default: enough for ~60% average utilisation) for the backtest;
    teams start idle. `now` is the start of the period."""
    rng = np.random.default_rng(seed)
    start = start or datetime(2025, 3, 3, 0, 0, tzinfo=timezone.utc)
    teams = make_teams(n_teams, rng, idle=True)
    if hours is None:
        slots = sum(t.capacity for t in teams if t.status in ("available", "busy"))
        # each ticket holds a slot ~ travel + service (~2.5 h); aim for ~60% utilisation
        hours = max(1.0, n_tickets * 2.5 / (0.6 * slots))
    tickets, service = make_tickets(n_tickets, rng, now=start, spread_hours=hours)
    return Scenario(tuple(tickets), tuple(teams), start, service)


def make_comparable_scenario(n_teams: int, seed: int = 0, *, slack: float = 1.3, used: tuple[float, float] = (0.2, 0.4),
                             now: datetime | None = None) -> Scenario:
    """A snapshot where free capacity *exceeds* demand, so every strategy can place (nearly) every ticket and
    travel is comparable: `n_teams` teams (capacity 3-8, statuses as in `make_teams`), each working team has
    a uniform 20-40% of its capacity already in use, and the pending tickets number free slots / `slack`
    (free slots ~ 1.3x pending). Close to the demo data: 150 teams, ~25% of 1,000+ tickets open at a time."""
    rng = np.random.default_rng(seed)
    now = now or datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    teams = make_teams(n_teams, rng, idle=True)
    share = rng.uniform(used[0], used[1], len(teams))
    teams = [TeamSpec(t.team_id, t.zone, t.latitude, t.longitude, t.skills, t.capacity,
                      int(round(share[k] * t.capacity)), t.status, t.tickets_completed, t.customer_rating, t.efficiency)
             for k, t in enumerate(teams)]
    free = sum(t.free_capacity for t in teams if t.status in ("available", "busy"))
    tickets, service = make_tickets(int(free / slack), rng, now=now)
    return Scenario(tuple(tickets), tuple(teams), now, service)
