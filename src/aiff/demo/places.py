"""Real Malaysian towns per zone, with WGS84 coordinates (town centres, accurate to a few km) and rough
population weights (thousands of residents in the town's district or municipality; only ratios matter).

Zone names are exactly the canonical ones of :mod:`aiff.zones`. Putrajaya is served from the Kuala Lumpur
zone, as in ``aiff.zones``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiff.zones import ZONES


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    zone: str
    latitude: float
    longitude: float
    weight: float
    """Relative population, used to spread tickets and team bases within a zone."""
    radius_km: float = 4.0
    """How far a site around this town may lie from the town centre (≤ 5 km)."""


def _p(zone: str, rows: list[tuple]) -> list[Place]:
    return [Place(row[0], zone, row[1], row[2], row[3], *(row[4:])) for row in rows]


PLACES: tuple[Place, ...] = tuple(
    _p("Johor", [
        ("Johor Bahru", 1.4927, 103.7414, 850),
        ("Skudai", 1.5352, 103.6577, 250),
        ("Pasir Gudang", 1.4726, 103.8780, 200),
        ("Iskandar Puteri", 1.4236, 103.6450, 180),
        ("Kulai", 1.6561, 103.6032, 250),
        ("Batu Pahat", 1.8548, 102.9325, 420),
        ("Muar", 2.0442, 102.5689, 310),
        ("Kluang", 2.0305, 103.3169, 320),
        ("Segamat", 2.5148, 102.8158, 200),
        ("Pontian", 1.4869, 103.3897, 170),
        ("Kota Tinggi", 1.7381, 103.8999, 190),
        ("Mersing", 2.4312, 103.8405, 70),
        ("Tangkak", 2.2673, 102.5453, 140),
    ])
    + _p("Kedah", [
        ("Alor Setar", 6.1248, 100.3678, 480),
        ("Sungai Petani", 5.6470, 100.4877, 540),
        ("Kulim", 5.3650, 100.5617, 290),
        ("Langkawi", 6.3166, 99.8500, 100, 3.0),
        ("Jitra", 6.2683, 100.4217, 220),
        ("Gurun", 5.8167, 100.4667, 80),
        ("Baling", 5.6768, 100.9167, 150),
        ("Pendang", 5.9960, 100.4770, 100),
        ("Yan", 5.7980, 100.3760, 70),
        ("Sik", 5.8167, 100.7333, 70),
        ("Kuala Kedah", 6.1080, 100.2890, 60, 2.5),
    ])
    + _p("Kelantan", [
        ("Kota Bharu", 6.1254, 102.2381, 550),
        ("Pasir Mas", 6.0493, 102.1399, 220),
        ("Tumpat", 6.1978, 102.1710, 180, 3.0),
        ("Tanah Merah", 5.8000, 102.1500, 140),
        ("Machang", 5.7667, 102.2167, 110),
        ("Kuala Krai", 5.5307, 102.2010, 120),
        ("Gua Musang", 4.8833, 101.9667, 100),
        ("Pasir Puteh", 5.8333, 102.4000, 130),
        ("Bachok", 6.0500, 102.4000, 140, 3.0),
        ("Jeli", 5.7000, 101.8333, 50),
    ])
    + _p("Melaka", [
        ("Melaka", 2.1896, 102.2501, 500, 3.0),
        ("Ayer Keroh", 2.2700, 102.2800, 120),
        ("Batu Berendam", 2.2500, 102.2500, 110, 3.0),
        ("Klebang", 2.2180, 102.1980, 60, 2.0),
        ("Alor Gajah", 2.3804, 102.2089, 150),
        ("Masjid Tanah", 2.3511, 102.1088, 70, 3.0),
        ("Durian Tunggal", 2.3167, 102.2833, 50),
        ("Jasin", 2.3096, 102.4306, 130),
        ("Merlimau", 2.1474, 102.4287, 60, 3.0),
    ])
    + _p("Negeri Sembilan", [
        ("Seremban", 2.7258, 101.9424, 550),
        ("Senawang", 2.6900, 101.9750, 150),
        ("Nilai", 2.8150, 101.7977, 200),
        ("Port Dickson", 2.5228, 101.7959, 120, 3.0),
        ("Rembau", 2.5897, 102.0916, 50),
        ("Kuala Pilah", 2.7389, 102.2487, 70),
        ("Tampin", 2.4701, 102.2302, 80),
        ("Bahau", 2.8079, 102.4040, 90),
        ("Gemas", 2.5833, 102.6167, 40),
        ("Kuala Klawang", 2.9490, 102.0700, 40),
    ])
    + _p("Pahang", [
        ("Kuantan", 3.8077, 103.3260, 550, 3.5),
        ("Temerloh", 3.4485, 102.4178, 170),
        ("Mentakab", 3.4833, 102.3500, 80),
        ("Bentong", 3.5225, 101.9086, 120),
        ("Raub", 3.7934, 101.8573, 100),
        ("Jerantut", 3.9364, 102.3626, 90),
        ("Kuala Lipis", 4.1842, 102.0421, 90),
        ("Pekan", 3.4922, 103.3899, 110, 3.0),
        ("Kuala Rompin", 2.8075, 103.4866, 120, 3.0),
        ("Maran", 3.5857, 102.7700, 110),
        ("Tanah Rata", 4.4700, 101.3800, 40, 3.0),
    ])
    + _p("Perak", [
        ("Ipoh", 4.5975, 101.0901, 760),
        ("Taiping", 4.8500, 100.7333, 250),
        ("Teluk Intan", 4.0259, 101.0213, 200),
        ("Sitiawan", 4.2167, 100.7000, 150),
        ("Lumut", 4.2325, 100.6298, 60, 2.5),
        ("Kuala Kangsar", 4.7667, 100.9333, 150),
        ("Kampar", 4.3000, 101.1500, 100),
        ("Batu Gajah", 4.4667, 101.0500, 90),
        ("Tapah", 4.2000, 101.2667, 70),
        ("Parit Buntar", 5.1266, 100.4932, 90, 3.0),
        ("Bagan Serai", 5.0100, 100.5400, 80),
        ("Gerik", 5.4333, 101.1333, 60),
        ("Tanjung Malim", 3.6840, 101.5180, 80),
    ])
    + _p("Perlis", [
        ("Kangar", 6.4414, 100.1986, 120, 3.0),
        ("Arau", 6.4297, 100.2700, 60, 3.0),
        ("Padang Besar", 6.6625, 100.3217, 30, 2.0),
        ("Kuala Perlis", 6.4000, 100.1333, 30, 2.0),
        ("Simpang Empat", 6.3350, 100.1970, 25, 3.0),
        ("Beseri", 6.5090, 100.2350, 20, 3.0),
        ("Kaki Bukit", 6.6436, 100.2053, 15, 2.0),
    ])
    + _p("Pulau Pinang", [
        ("George Town", 5.4141, 100.3288, 400, 2.5),
        ("Air Itam", 5.4020, 100.2790, 120, 2.5),
        ("Tanjung Bungah", 5.4640, 100.2860, 80, 2.0),
        ("Bayan Lepas", 5.2946, 100.2593, 200, 3.0),
        ("Balik Pulau", 5.3500, 100.2333, 70, 3.0),
        ("Butterworth", 5.3991, 100.3638, 250, 3.0),
        ("Perai", 5.3850, 100.3850, 100, 2.5),
        ("Bukit Mertajam", 5.3631, 100.4667, 300),
        ("Kepala Batas", 5.5170, 100.4270, 120, 3.0),
        ("Nibong Tebal", 5.1659, 100.4779, 100, 3.0),
    ])
    + _p("Sabah", [
        ("Kota Kinabalu", 5.9804, 116.0735, 500, 3.5),
        ("Penampang", 5.9200, 116.1100, 130, 3.0),
        ("Papar", 5.7333, 115.9333, 130, 3.0),
        ("Tuaran", 6.1770, 116.2350, 110, 3.0),
        ("Kota Belud", 6.3510, 116.4305, 100, 3.0),
        ("Kudat", 6.8837, 116.8477, 90, 3.0),
        ("Ranau", 5.9538, 116.6641, 100),
        ("Keningau", 5.3378, 116.1602, 180),
        ("Tenom", 5.1167, 115.9333, 60),
        ("Beaufort", 5.3473, 115.7455, 70),
        ("Sandakan", 5.8402, 118.1179, 450, 3.5),
        ("Lahad Datu", 5.0268, 118.3270, 230, 3.0),
        ("Kunak", 4.6833, 118.2500, 70, 3.0),
        ("Semporna", 4.4797, 118.6110, 160, 2.5),
        ("Tawau", 4.2448, 117.8911, 420, 3.5),
    ])
    + _p("Sarawak", [
        ("Kuching", 1.5535, 110.3593, 650),
        ("Kota Samarahan", 1.4591, 110.4883, 120),
        ("Bau", 1.4157, 110.1525, 60),
        ("Serian", 1.1667, 110.5667, 90),
        ("Sri Aman", 1.2369, 111.4621, 70),
        ("Betong", 1.4079, 111.5286, 60),
        ("Sarikei", 2.1271, 111.5218, 60),
        ("Sibu", 2.2870, 111.8305, 260),
        ("Kapit", 2.0167, 112.9333, 60),
        ("Mukah", 2.8988, 112.0914, 50, 3.0),
        ("Bintulu", 3.1713, 113.0419, 220, 3.5),
        ("Miri", 4.3995, 113.9914, 360, 3.5),
        ("Marudi", 4.1780, 114.3180, 40),
        ("Limbang", 4.7548, 115.0089, 50),
        ("Lawas", 4.8553, 115.4075, 40, 3.0),
    ])
    + _p("Selangor", [
        ("Shah Alam", 3.0738, 101.5183, 740),
        ("Petaling Jaya", 3.1073, 101.6067, 620),
        ("Subang Jaya", 3.0565, 101.5851, 900),
        ("Klang", 3.0449, 101.4456, 900),
        ("Port Klang", 2.9995, 101.3928, 120, 3.0),
        ("Puchong", 3.0262, 101.6213, 390),
        ("Kajang", 2.9927, 101.7909, 600),
        ("Bangi", 2.9643, 101.7620, 200),
        ("Semenyih", 2.9500, 101.8437, 120),
        ("Cyberjaya", 2.9213, 101.6559, 100, 3.0),
        ("Sepang", 2.6895, 101.7498, 100),
        ("Banting", 2.8108, 101.5006, 150),
        ("Ampang", 3.1488, 101.7613, 530),
        ("Selayang", 3.2475, 101.6500, 650),
        ("Rawang", 3.3213, 101.5767, 250),
        ("Kuala Selangor", 3.3392, 101.2500, 200, 3.5),
        ("Kuala Kubu Bharu", 3.5632, 101.6565, 60),
        ("Sabak Bernam", 3.6700, 100.9800, 110, 3.5),
    ])
    + _p("Terengganu", [
        ("Kuala Terengganu", 5.3302, 103.1408, 380, 3.5),
        ("Marang", 5.2056, 103.2059, 110, 3.0),
        ("Kuala Berang", 5.0736, 103.0143, 80),
        ("Dungun", 4.7566, 103.4197, 160, 3.0),
        ("Paka", 4.6380, 103.4367, 50, 3.0),
        ("Kerteh", 4.5147, 103.4467, 50, 3.0),
        ("Chukai", 4.2327, 103.4185, 210, 3.0),
        ("Jerteh", 5.7360, 102.4890, 130),
        ("Kuala Besut", 5.8332, 102.5600, 50, 2.5),
        ("Permaisuri", 5.5200, 102.7400, 70),
    ])
    + _p("Kuala Lumpur", [
        ("Kuala Lumpur", 3.1390, 101.6869, 400, 2.5),
        ("Brickfields", 3.1300, 101.6850, 80, 1.5),
        ("Bangsar", 3.1300, 101.6710, 120, 2.0),
        ("Mont Kiara", 3.1671, 101.6520, 100, 2.0),
        ("Kepong", 3.2148, 101.6347, 250, 3.0),
        ("Sentul", 3.1850, 101.6950, 160, 2.0),
        ("Setapak", 3.1950, 101.7180, 200, 2.5),
        ("Wangsa Maju", 3.2050, 101.7380, 200, 2.5),
        ("Cheras", 3.0950, 101.7400, 380, 3.0),
        ("Sri Petaling", 3.0686, 101.6934, 120, 2.0),
        ("Bukit Jalil", 3.0594, 101.6889, 100, 2.0),
        ("Putrajaya", 2.9264, 101.6964, 110, 3.5),
    ])
    + _p("Labuan", [
        ("Victoria", 5.2831, 115.2308, 40, 1.5),
        ("Patau-Patau", 5.2760, 115.2380, 8, 1.0),
        ("Rancha-Rancha", 5.2980, 115.2410, 10, 1.5),
        ("Sungai Lada", 5.3000, 115.2180, 12, 1.5),
        ("Kiamsam", 5.3150, 115.2200, 10, 1.5),
        ("Bebuloh", 5.2620, 115.1870, 6, 1.5),
        ("Layang-Layangan", 5.3400, 115.2050, 6, 1.5),
        ("Batu Manikar", 5.3480, 115.1980, 5, 1.0),
    ])
)

PLACES_BY_ZONE: dict[str, tuple[Place, ...]] = {
    zone.name: tuple(p for p in PLACES if p.zone == zone.name) for zone in ZONES
}

# Residents per zone (millions, 2020 census, rounded); drives ticket volume and team counts.
ZONE_POPULATION: dict[str, float] = {
    "Johor": 4.01,
    "Kedah": 2.13,
    "Kelantan": 1.79,
    "Melaka": 1.00,
    "Negeri Sembilan": 1.20,
    "Pahang": 1.59,
    "Perak": 2.50,
    "Perlis": 0.28,
    "Pulau Pinang": 1.74,
    "Sabah": 3.42,
    "Sarawak": 2.45,
    "Selangor": 6.99,
    "Terengganu": 1.15,
    "Kuala Lumpur": 2.09,
    "Labuan": 0.10,
}

# Generous bounding boxes (lat_min, lat_max, lon_min, lon_max) of Peninsular and East Malaysia.
PENINSULAR_BOX = (1.15, 6.75, 99.55, 104.65)
BORNEO_BOX = (0.80, 7.45, 109.50, 119.35)


def in_malaysia(latitude: float, longitude: float) -> bool:
    """True when the point lies in the bounding box of Peninsular or East Malaysia."""
    return any(lo <= latitude <= hi and west <= longitude <= east for lo, hi, west, east in (PENINSULAR_BOX, BORNEO_BOX))
