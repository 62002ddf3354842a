"""Malaysia's 15 service zones (13 states and 2 federal territories) with the coordinates of their capitals.

Zones are reference data, not events: they are facts about the country that every projection, replay and
test needs before the first ticket arrives. Putrajaya is served from the Kuala Lumpur zone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Zone:
    name: str
    code: str
    capital: str
    latitude: float
    longitude: float
    region: str


ZONES: tuple[Zone, ...] = (
    Zone("Johor", "JHR", "Johor Bahru", 1.4927, 103.7414, "Peninsular South"),
    Zone("Kedah", "KDH", "Alor Setar", 6.1248, 100.3678, "Peninsular North"),
    Zone("Kelantan", "KTN", "Kota Bharu", 6.1254, 102.2381, "Peninsular East"),
    Zone("Melaka", "MLK", "Melaka", 2.1896, 102.2501, "Peninsular South"),
    Zone("Negeri Sembilan", "NSN", "Seremban", 2.7258, 101.9424, "Peninsular Central"),
    Zone("Pahang", "PHG", "Kuantan", 3.8077, 103.3260, "Peninsular East"),
    Zone("Perak", "PRK", "Ipoh", 4.5975, 101.0901, "Peninsular North"),
    Zone("Perlis", "PLS", "Kangar", 6.4414, 100.1986, "Peninsular North"),
    Zone("Pulau Pinang", "PNG", "George Town", 5.4141, 100.3288, "Peninsular North"),
    Zone("Sabah", "SBH", "Kota Kinabalu", 5.9804, 116.0735, "East Malaysia"),
    Zone("Sarawak", "SWK", "Kuching", 1.5535, 110.3593, "East Malaysia"),
    Zone("Selangor", "SGR", "Shah Alam", 3.0738, 101.5183, "Peninsular Central"),
    Zone("Terengganu", "TRG", "Kuala Terengganu", 5.3302, 103.1408, "Peninsular East"),
    Zone("Kuala Lumpur", "KUL", "Kuala Lumpur", 3.1390, 101.6869, "Peninsular Central"),
    Zone("Labuan", "LBN", "Victoria", 5.2831, 115.2308, "East Malaysia"),
)

ZONES_BY_NAME: dict[str, Zone] = {z.name: z for z in ZONES}

# Common alternative spellings a publisher may send; mapped to the canonical zone name.
ZONE_ALIASES: dict[str, str] = {
    "penang": "Pulau Pinang",
    "malacca": "Melaka",
    "kl": "Kuala Lumpur",
    "wp kuala lumpur": "Kuala Lumpur",
    "putrajaya": "Kuala Lumpur",
    "wp labuan": "Labuan",
    "n. sembilan": "Negeri Sembilan",
    "negri sembilan": "Negeri Sembilan",
}


def canonical_zone(name: str) -> str | None:
    """The zone's canonical name, or None when it is not a Malaysian zone we serve."""
    if name in ZONES_BY_NAME:
        return name
    lowered = name.strip().lower()
    for zone in ZONES:
        if zone.name.lower() == lowered or zone.code.lower() == lowered:
            return zone.name
    return ZONE_ALIASES.get(lowered)

REGIONS: tuple[str, ...] = tuple(sorted({z.region for z in ZONES}))
"""The engine's unit of scale-out: one partition of the assignment work topic each (aiff.consumers.planner)."""
NO_REGION = "Other"
"""Where a zone that is not one of the 15 (it should not happen: zones are checked) is planned."""


def region_of(zone: str) -> str:
    z = ZONES_BY_NAME.get(zone)
    return z.region if z is not None else NO_REGION


def region_partition(region: str) -> int:
    """The work topic's partition of a region: fixed by name, so every instance agrees which regions it owns."""
    return REGIONS.index(region) if region in REGIONS else len(REGIONS) - 1
