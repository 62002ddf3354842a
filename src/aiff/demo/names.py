"""Malaysian personal names across communities, and readable, unique team names.

Names follow each community's conventions: Malay patronymics (``bin``/``binti`` sometimes dropped, as on
name tags), Chinese surname first, Indian ``a/l``/``a/p`` patronymics, Iban/Bidayuh ``anak`` patronymics and
Kadazan-Dusun given name plus family name.
"""

from __future__ import annotations

import bisect
import itertools
import random

MALAY_MALE = (
    "Ahmad", "Muhammad Faizal", "Mohd Azman", "Hafiz", "Syafiq", "Amirul", "Khairul", "Ismail", "Zulkifli",
    "Farid", "Hakim", "Nazri", "Rizal", "Shahrul", "Aiman", "Firdaus", "Hisham", "Iskandar", "Kamal",
    "Rashid", "Zainal", "Fadzil", "Haziq", "Danial", "Irfan", "Azlan", "Hafizuddin", "Syahmi", "Nik Amir",
    "Wan Ahmad", "Muhammad Hakimi", "Shamsul", "Fauzi", "Rosli", "Zamri", "Anuar",
)
MALAY_FEMALE = (
    "Nurul Aina", "Siti Aminah", "Nur Aisyah", "Farah", "Zulaikha", "Hidayah", "Syazwani", "Nabila", "Amira",
    "Fatimah", "Noraini", "Rohani", "Salmah", "Nurul Huda", "Siti Nurhaliza", "Aqilah", "Izzati", "Liyana",
)
MALAY_FATHER = (
    "Rahman", "Abdullah", "Ismail", "Hassan", "Hussein", "Osman", "Yusof", "Ibrahim", "Razak", "Salleh",
    "Mahmud", "Omar", "Aziz", "Karim", "Hamid", "Jamil", "Latif", "Zakaria", "Mansor", "Sulaiman", "Ahmad",
    "Musa", "Idris", "Daud", "Harun", "Yaakob", "Ali", "Bakar",
)
CHINESE_SURNAME = (
    "Tan", "Lim", "Lee", "Wong", "Ng", "Chong", "Chan", "Goh", "Ong", "Teo", "Yap", "Low", "Chin", "Lau",
    "Khoo", "Cheah", "Ooi", "Loh", "Foo", "Liew", "Teh", "Koh", "Ho", "Sim", "Chua", "Kang",
)
CHINESE_GIVEN = (
    "Wei Ming", "Kok Leong", "Chee Keong", "Mei Ling", "Siew Lan", "Jia Hui", "Kah Wai", "Boon Huat",
    "Hock Seng", "Yee Ling", "Zhi Hao", "Jun Wei", "Kai Xuan", "Li Ting", "Wai Kit", "Soon Heng", "Chun Kit",
    "Hui Min", "Kian Seng", "Pei Shan", "Wen Jie", "Yong Sheng", "Eng Hooi", "Ah Kow",
)
INDIAN_MALE = (
    "Rajesh", "Suresh", "Ganesh", "Vijay", "Prakash", "Ramesh", "Saravanan", "Murugan", "Arun", "Karthik",
    "Siva", "Mogan", "Logeswaran", "Tamilselvan", "Kumaresan", "Vinod", "Thinesh", "Devendran",
)
INDIAN_FEMALE = ("Kavitha", "Priya", "Devi", "Lakshmi", "Thivya", "Sharmila", "Vasanthi", "Revathi", "Malar")
INDIAN_FATHER = (
    "Subramaniam", "Krishnan", "Muniandy", "Ramasamy", "Arumugam", "Nair", "Pillai", "Raman", "Govindasamy",
    "Balakrishnan", "Maniam", "Selvaraju", "Perumal", "Nadarajah", "Sinnathamby",
)
KADAZAN_GIVEN = (
    "Jeffrey", "Ronald", "Juanis", "Marcel", "Gilbert", "Clarence", "Ewon", "Jupirin", "Justin", "Lorna",
    "Rosalind", "Melvin", "Wilfred", "Stanley", "Janet", "Christina", "Alvin", "Bernard", "Herman", "Jovilyn",
)
KADAZAN_FAMILY = (
    "Kitingan", "Majimbun", "Gontusan", "Sipaun", "Lojuntin", "Moguring", "Gunsalam", "Sinsua", "Tangau",
    "Guntabid", "Ongkili", "Lasimbang", "Mojuntin", "Jinu", "Ambrose", "Sualin", "Madius",
)
IBAN_GIVEN = (
    "Jimmy", "Robert", "Michael", "Edward", "Linda", "Mary", "Jenny", "Nyuak", "Nanang", "Jelani", "Sagang",
    "Empeni", "Unggang", "Dennis", "Rentap", "Sylvia", "Johnny", "Nelson",
)
IBAN_FATHER = (
    "Jabu", "Masing", "Nanta", "Ugak", "Linggi", "Jawan", "Lambat", "Sumbang", "Entri", "Anyie", "Bujang",
    "Ngelai", "Ngumbang", "Sanggau", "Jinep", "Sadit", "Nyandang",
)

# Share of each community among technicians, by zone (roughly follows each state's demography).
_PENINSULA_DEFAULT = {"malay": 0.62, "chinese": 0.24, "indian": 0.14}
COMMUNITY_MIX: dict[str, dict[str, float]] = {
    "Kelantan": {"malay": 0.93, "chinese": 0.05, "indian": 0.02},
    "Terengganu": {"malay": 0.95, "chinese": 0.04, "indian": 0.01},
    "Perlis": {"malay": 0.88, "chinese": 0.09, "indian": 0.03},
    "Kedah": {"malay": 0.78, "chinese": 0.13, "indian": 0.09},
    "Pahang": {"malay": 0.76, "chinese": 0.17, "indian": 0.07},
    "Pulau Pinang": {"malay": 0.42, "chinese": 0.45, "indian": 0.13},
    "Kuala Lumpur": {"malay": 0.47, "chinese": 0.40, "indian": 0.13},
    "Perak": {"malay": 0.57, "chinese": 0.28, "indian": 0.15},
    "Negeri Sembilan": {"malay": 0.61, "chinese": 0.22, "indian": 0.17},
    "Selangor": {"malay": 0.58, "chinese": 0.27, "indian": 0.15},
    "Sabah": {"malay": 0.35, "kadazan": 0.38, "chinese": 0.22, "iban": 0.05},
    "Sarawak": {"malay": 0.30, "iban": 0.45, "chinese": 0.25},
    "Labuan": {"malay": 0.60, "kadazan": 0.20, "chinese": 0.20},
}


def _pick(rng: random.Random, seq: tuple[str, ...]) -> str:
    return seq[int(rng.random() * len(seq))]


def _cum(mix: dict[str, float]) -> tuple[tuple[str, ...], list[float]]:
    return tuple(mix), list(itertools.accumulate(mix.values()))


_MIX_CUM = {zone: _cum(mix) for zone, mix in COMMUNITY_MIX.items()}
_DEFAULT_CUM = _cum(_PENINSULA_DEFAULT)


def person_name(rng: random.Random, zone: str | None = None) -> str:
    """A plausible Malaysian name, drawn from the zone's community mix."""
    communities, cum = _MIX_CUM.get(zone or "", _DEFAULT_CUM)
    community = communities[bisect.bisect_right(cum, rng.random() * cum[-1])]
    female = rng.random() < 0.25
    if community == "malay":
        given = _pick(rng, MALAY_FEMALE if female else MALAY_MALE)
        father = _pick(rng, MALAY_FATHER)
        link = ("binti " if female else "bin ") if rng.random() < 0.35 else ""
        return f"{given} {link}{father}"
    if community == "chinese":
        return f"{_pick(rng, CHINESE_SURNAME)} {_pick(rng, CHINESE_GIVEN)}"
    if community == "indian":
        given = _pick(rng, INDIAN_FEMALE if female else INDIAN_MALE)
        link = ("a/p " if female else "a/l ") if rng.random() < 0.5 else ""
        return f"{given} {link}{_pick(rng, INDIAN_FATHER)}"
    if community == "kadazan":
        return f"{_pick(rng, KADAZAN_GIVEN)} {_pick(rng, KADAZAN_FAMILY)}"
    return f"{_pick(rng, IBAN_GIVEN)} anak {_pick(rng, IBAN_FATHER)}"


def team_members(rng: random.Random, zone: str, count: int) -> list[str]:
    """`count` distinct technician names; the first is the team lead."""
    names: list[str] = []
    while len(names) < count:
        name = person_name(rng, zone)
        if name not in names:
            names.append(name)
    return names


def _short(name: str) -> str:
    """Lead's name as written in a team name: drop bin/binti, a/l, anak."""
    for link in (" binti ", " bin ", " a/l ", " a/p ", " anak "):
        name = name.replace(link, " ")
    return name


def team_name(rng: random.Random, *, zone: str, zone_seq: int, town: str, skill: str, lead: str, taken: set[str]) -> str:
    """A readable team name, unique within `taken` (which it updates)."""
    style = rng.random()
    if style < 0.45:
        base = f"Pasukan {zone} {zone_seq:02d} – {_short(lead)}"
    elif style < 0.8:
        base = f"Team {town} {skill.capitalize()}"
    else:
        base = f"Unit {town} {zone_seq:02d} – {_short(lead)}"
    base = base[:95]
    if base.startswith("Team "):
        n = 1
        while f"{base} {n}" in taken:
            n += 1
        name = f"{base} {n}"
    else:
        name, n = base, 2
        while name in taken:
            name = f"{base} ({n})"
            n += 1
    taken.add(name)
    return name
