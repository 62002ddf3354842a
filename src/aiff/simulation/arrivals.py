"""Tickets arriving through the day, drawn from the demo catalog's mix.

- volume per day: `per_day` x the demo's weekday factor (Mon 1.3 ... Sat 0.75, normalised over Mon-Sat);
- time of day: the demo's hourly profile (peaks 09:00-12:00 and 14:00-17:00, quiet at night);
- zone by population, town by weight (`aiff.demo.places`), the site within the town's radius;
- priority by the demo weights (critical 5%, high 20%, medium 45%, low 30%), the skill (= category) by the
  catalog's mix for that priority;
- SLA due = arrival + SLA_HOURS[priority] (critical 4 h, high 24 h, medium 72 h, low 168 h, as in
  `aiff.events.vocabulary`);
- service time: lognormal around the category median (SERVICE_MEDIAN_MIN, the demo generator's table:
  fiber 180, wireless 150, copper 120, power 120, installation 100, equipment 60 minutes), sigma 0.35
  (half of the jobs within x0.79..x1.27 of the median). Planners only know the median;
- a customer window for WINDOW_SHARE of low/medium tickets: the next working day, morning (09:00-12:00)
  or afternoon (14:00-17:00) appointment, bounding the start of service.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from aiff.demo.catalog import SKILL_WEIGHTS_BY_PRIORITY
from aiff.demo.generator import HOUR_FACTOR, PRIORITY_WEIGHTS, SERVICE_MEDIAN_MIN, WEEKDAY_FACTOR, _uniform_point
from aiff.demo.places import PLACES_BY_ZONE, ZONE_POPULATION
from aiff.events.vocabulary import SLA_HOURS
from aiff.simulation.world import DAY, HOUR, MIN

SERVICE_SIGMA = 0.35
WINDOW_SHARE = 0.15
WINDOWS = ((9 * HOUR, 12 * HOUR), (14 * HOUR, 17 * HOUR))


@dataclass(frozen=True)
class Ticket:
    id: str
    arrive: int
    zone: str
    town: str
    lat: float
    lon: float
    priority: str
    skill: str
    service: int  # actual seconds on site (the simulation's truth)
    median: int  # what planners assume
    due: int
    window: tuple[int, int] | None = None


def _choice(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _next_working_day(day: int) -> int:
    return day + (2 if (day + 1) % 7 == 6 else 1)


def generate(seed: int, days: list[int], per_day: int) -> list[Ticket]:
    """Every ticket arriving from the epoch to the end of the last working day, ordered by arrival."""
    rng = random.Random(f"aiff-sim:{seed}:arrivals")
    mean_wd = sum(WEEKDAY_FACTOR[:6]) / 6
    out: list[Ticket] = []
    for day in range(days[-1] + 1):
        n = round(per_day * WEEKDAY_FACTOR[day % 7] / mean_wd)
        secs = sorted(day * DAY + int(h * HOUR + rng.random() * HOUR)
                      for h in rng.choices(range(24), weights=HOUR_FACTOR, k=n))
        for t in secs:
            zone = _choice(rng, ZONE_POPULATION)
            places = PLACES_BY_ZONE[zone]
            place = rng.choices(places, weights=[p.weight for p in places])[0]
            lat, lon = _uniform_point(rng, place.latitude, place.longitude, place.radius_km)
            prio = _choice(rng, PRIORITY_WEIGHTS)
            skill = _choice(rng, SKILL_WEIGHTS_BY_PRIORITY[prio])
            median = SERVICE_MEDIAN_MIN[skill] * MIN
            service = int(median * math.exp(rng.gauss(0.0, SERVICE_SIGMA)))
            window = None
            if prio in ("low", "medium") and rng.random() < WINDOW_SHARE:
                a, b = rng.choice(WINDOWS)
                nd = _next_working_day(t // DAY)
                window = (nd * DAY + a, nd * DAY + b)
            due = t + SLA_HOURS[prio] * HOUR
            if window is not None:
                due = max(due, window[1] + median)
            out.append(Ticket(f"T{len(out) + 1:05d}", t, zone, place.name, lat, lon, prio, skill, service, median, due, window))
    return out
