"""Ticket text per skill (category) and priority: titles, descriptions, field notes.

The text later trains a classifier that predicts category and priority from title + description, so it is
informative without being a fixed template: titles and sentences are drawn from pools (English with some
Bahasa Malaysia), slots are filled with roads, sites and numbers, sentences are shuffled, and some tickets
are deliberately vague (generic title), noisy (typos, lower case) or carry a misleading urgency cue.
Urgency cues ("hospital", "bank", "outage affecting 300 homes") correlate with priority but are neither
necessary nor sufficient.
"""

from __future__ import annotations

import random
import string

SKILL_WEIGHTS_BY_PRIORITY: dict[str, dict[str, float]] = {
    "critical": {"fiber": 0.32, "copper": 0.08, "wireless": 0.25, "power": 0.27, "installation": 0.02, "equipment": 0.06},
    "high": {"fiber": 0.30, "copper": 0.14, "wireless": 0.20, "power": 0.14, "installation": 0.10, "equipment": 0.12},
    "medium": {"fiber": 0.24, "copper": 0.17, "wireless": 0.15, "power": 0.07, "installation": 0.22, "equipment": 0.15},
    "low": {"fiber": 0.10, "copper": 0.14, "wireless": 0.07, "power": 0.04, "installation": 0.45, "equipment": 0.20},
}

ROADS = (
    "Jalan Besar", "Jalan Masjid", "Jalan Sekolah", "Jalan Stesen", "Jalan Merdeka", "Jalan Mawar 3",
    "Jalan Melati 2", "Jalan Kenanga", "Jalan Cempaka 5", "Jalan Dahlia", "Jalan Sultan", "Jalan Pasar",
    "Jalan Hospital", "Jalan Kampung Baru", "Jalan Perindustrian 4", "Jalan Bunga Raya", "Jalan Tun Razak",
    "Jalan Tun Abdul Razak", "Jalan Dato' Onn", "Lorong Seri 7", "Lorong Cahaya", "Persiaran Perdana",
    "Jalan Permai 12", "Jalan Setia 2/3", "Jalan Teratai", "Jalan Pantai", "Jalan Raya Utama", "Jalan Bukit",
)
FAMOUS_ROADS: dict[str, tuple[str, ...]] = {
    "Kuala Lumpur": ("Jalan Ampang", "Jalan Sultan Ismail", "Jalan Tuanku Abdul Rahman", "Jalan Klang Lama", "Jalan Kuching", "Jalan Ipoh", "Jalan Bukit Bintang", "Jalan Cheras"),
    "Selangor": ("Persiaran Kayangan", "Jalan SS 2/24", "Jalan Meru", "Jalan Reko", "Jalan Puchong", "Persiaran Surian", "Jalan Kapar"),
    "Pulau Pinang": ("Jalan Burma", "Lebuh Chulia", "Jalan Masjid Negeri", "Jalan Sultan Azlan Shah", "Jalan Raja Uda"),
    "Johor": ("Jalan Tebrau", "Jalan Skudai", "Jalan Wong Ah Fook", "Jalan Kluang", "Jalan Abdullah"),
    "Sabah": ("Jalan Gaya", "Jalan Tuaran", "Jalan Lintas", "Jalan Penampang", "Jalan Labuk", "Jalan Apas"),
    "Sarawak": ("Jalan Padungan", "Jalan Tun Jugah", "Jalan Pending", "Jalan Miri-Pujut", "Jalan Kampung Nyabor"),
    "Perak": ("Jalan Sultan Idris Shah", "Jalan Raja Musa Mahadi", "Jalan Kampar", "Jalan Taming Sari"),
}
SITES = (
    "Taman Sri Muda", "Taman Desa", "Taman Bukit Indah", "Taman Melawati", "Taman Permai", "Taman Seri Putra",
    "Kampung Baru", "Kampung Jawa", "Kampung Sungai Buloh", "Flat PPR", "Pangsapuri Seri Mawar", "Apartment Vista",
    "Kawasan Perindustrian", "Bandar Baru", "Pekan Lama", "Taman Harmoni", "Taman Sentosa", "Rumah Panjang",
)
BUILDINGS = (
    "Wisma Perdana", "Menara Bank", "Plaza Damai", "Kompleks Sukan", "SK Taman Desa", "SMK Seri Bintang",
    "Pejabat Daerah", "Klinik Kesihatan", "Dewan Orang Ramai", "Shoplot Block C", "Pusat Komersial",
    "Mydin hypermarket", "Petronas station", "Balai Polis", "Masjid Jamek", "Hotel Seri Malaysia",
)

TITLES: dict[str, tuple[str, ...]] = {
    "fiber": (
        "Fiber cut at {road}", "Fibre cable cut near {road}, {town}", "LOS alarm on ONT - {site}",
        "Kabel fiber putus di {road}", "No internet, ONT red LOS light", "Fiber link down to {site}",
        "High optical loss on feeder cable", "Tiada sambungan internet (fiber) - {site}", "Slow broadband, low optical power",
        "FDP damaged at {site}", "Splitter fault at {site}", "Backhoe damaged fiber duct at {road}",
        "Intermittent fibre connection", "Drop fibre broken at customer premises", "Internet putus, lampu LOS merah",
        "Fiber outage {town}", "GPON port down at {town} exchange", "Unifi down - fiber cut suspected",
    ),
    "copper": (
        "No dial tone at {site}", "Tiada nada dail", "Noisy line on voice calls", "Copper cable stolen at {road}",
        "DSL sync drops frequently", "Telephone line dead after rain", "Kabel tembaga dicuri di {road}",
        "Cross-talk on landline", "DP box damaged at {site}", "Water ingress in copper joint",
        "Slow ADSL speed - {town}", "Line fault at MDF jumper", "Talian telefon rosak", "Landline dead - {site}",
        "Crackling noise on phone line", "Copper pair faulty, customer cannot call out",
    ),
    "wireless": (
        "BTS site down - {town}", "No 4G coverage at {site}", "Tiada liputan 5G di {site}", "Microwave link degraded",
        "Cell tower alarm: VSWR high", "Poor indoor signal at {building}", "Antenna misaligned after storm",
        "Dropped calls around {road}", "Small cell offline at {building}", "Wireless broadband CPE no signal",
        "Rooftop site RRU fault - {town}", "Interference on sector 2, {town}", "Liputan telefon lemah",
        "Mobile data very slow at {site}", "Site {code} off-air", "LTE sector down near {road}",
    ),
    "power": (
        "Cabinet power failure after storm", "Rectifier alarm at {town} exchange", "Battery backup low at site {code}",
        "Genset failed to start at {town}", "Bekalan elektrik terputus di kabinet {site}",
        "Power outage at street cabinet, {road}", "Mains failure - site on battery", "Burnt fuse in MSAN cabinet",
        "Lightning strike damaged power supply", "Aircond failure in equipment room, {town}", "TNB supply interrupted at site {code}",
        "Kabinet tiada kuasa", "DC power alarm at {site}", "Battery bank swollen, replace",
    ),
    "installation": (
        "New fibre installation - {site}", "Pemasangan baharu Unifi di {site}", "Install router for new subscriber",
        "Relocation of service to new address", "Upgrade to 500Mbps - install new ONT", "New business line at {building}",
        "Appointment for home installation", "Pasang talian baru - {town}", "Install additional access point",
        "IPTV set-top box installation", "Move wall socket / internal wiring", "New lease line installation {building}",
        "Pindah alamat perkhidmatan", "Install mesh Wi-Fi for customer", "Pemasangan talian tetap baru",
    ),
    "equipment": (
        "Router faulty - keeps restarting", "Modem rosak", "ONT power adapter burnt", "Replace faulty set-top box",
        "Wi-Fi router overheating", "Mesh unit not connecting", "Equipment replacement request", "Switch port failure at {building}",
        "Router lights all off", "CPE firmware issue - no WAN", "Telefon IP tidak berfungsi", "Router hang, perlu ganti",
        "Faulty ONT at {site}", "Set-top box no signal", "Access point dead at {building}",
    ),
}

GENERIC_TITLES = (
    "Customer complaint", "Service issue at {site}", "Masalah talian", "No service", "Aduan pelanggan - {town}",
    "Problem reported by customer", "Fault report {town}", "Check site {code}", "Gangguan perkhidmatan", "Service disruption",
)

SYMPTOMS: dict[str, tuple[str, ...]] = {
    "fiber": (
        "Customer reports the LOS light blinking red on the ONT since this morning.",
        "OTDR trace shows a break approximately {n} m from the FDC.",
        "Contractor doing road works cut the underground duct.",
        "Pelanggan tiada internet sejak semalam, lampu LOS merah.",
        "Optical power at the premises is -{db} dBm, well below the threshold.",
        "Aerial fibre brought down by a fallen tree.",
        "Splice closure opened by vandals, cores exposed.",
        "Broadband keeps disconnecting; ONT shows PON light off.",
        "Kabel gentian optik terputus akibat kerja korek.",
        "Feeder cable damaged, multiple FDPs without signal.",
    ),
    "copper": (
        "Customer's landline has no dial tone.",
        "Cable theft reported, about {n} m of copper missing.",
        "Line noise on calls after heavy rain, suspect wet joint.",
        "ADSL modem keeps losing sync, SNR margin low.",
        "Kotak DP terbuka dan wayar rosak.",
        "Pair shows low insulation resistance on line test.",
        "Telefon berbunyi bising dan terputus-putus.",
        "Jumper at MDF loose, line intermittent.",
        "Drop wire snapped near the pole.",
    ),
    "wireless": (
        "NOC alarm: site {code} down, all sectors affected.",
        "Users say calls drop when moving along {road}.",
        "RSRP below -{rsrp} dBm in the area.",
        "Microwave link showing high BER since the thunderstorm.",
        "Liputan lemah di kawasan perumahan, panggilan sering terputus.",
        "Antenna tilt changed after strong winds.",
        "4G data speed below 1 Mbps during the day.",
        "RRU reports VSWR alarm on sector 3.",
        "Customer's wireless broadband router shows no signal bars.",
    ),
    "power": (
        "TNB supply cut; batteries estimated to last {h} more hours.",
        "Rectifier module showing fault alarm.",
        "Generator failed to start, fuel level low.",
        "Kabinet tiada bekalan elektrik selepas ribut petang tadi.",
        "Breaker tripped repeatedly, suspect short circuit.",
        "Battery voltage dropped to {v} V.",
        "Lightning hit the area; surge protector burnt.",
        "Equipment room temperature above 35°C, aircond not working.",
    ),
    "installation": (
        "New subscriber at {site}, appointment requested for {day}.",
        "Customer moving house, service needs to be relocated.",
        "Business premises need the line before opening on {day}.",
        "Pelanggan baru memohon pemasangan pada hari {day}.",
        "Order for 300Mbps plan, ONT and router to be installed.",
        "Internal wiring needed to the second floor.",
        "Customer requests an extra access point for the upstairs bedroom.",
        "Set-top box and IPTV activation pending installation.",
    ),
    "equipment": (
        "Router reboots every few minutes even after factory reset.",
        "Power adapter smells burnt, unit will not power on.",
        "Modem lampu semua padam.",
        "Set-top box shows 'no signal' on all channels.",
        "Wi-Fi drops when more than three devices connect.",
        "Firmware update failed, router stuck at boot.",
        "Customer requests replacement of old modem.",
        "IP phone cannot register, display shows error.",
        "Access point LED flashing amber.",
    ),
}

URGENCY: dict[str, tuple[str, ...]] = {
    "critical": (
        "{hospital} affected - emergency services impacted.",
        "Bank branch ({bank}) counters and ATMs offline.",
        "Outage affecting {big} homes in {site}.",
        "Police station lines down.",
        "Whole taman without service, about {big} customers.",
        "BOMBA station cannot receive emergency calls.",
        "Klinik Kesihatan cannot reach the patient system.",
        "Kecemasan: hospital tiada talian.",
        "Major outage, multiple sites down.",
        "Data centre uplink down, enterprise customers affected.",
        "Airport operations affected.",
        "Semua pelanggan di kawasan ini terjejas ({big} rumah).",
    ),
    "high": (
        "Business customer on premium SLA.",
        "Outage affecting {mid} homes.",
        "School exams tomorrow, please fix urgently.",
        "Shop cannot process card payments (POS/DuitNow).",
        "Repeat complaint, customer escalated to management.",
        "Clinic requests urgent fix.",
        "Several customers in the same block affected.",
        "Segera - pelanggan korporat.",
        "Urgent: customer cannot work.",
        "Bank ATM intermittent.",
    ),
    "medium": (
        "Single customer affected.",
        "Customer working from home, please expedite.",
        "Hanya satu rumah terjejas.",
        "Customer available during office hours.",
        "",
    ),
    "low": (
        "Not urgent, customer available after 6pm.",
        "Request at customer's convenience.",
        "Cosmetic issue only, service still working.",
        "Scheduled work, no service impact.",
        "Boleh datang minggu depan.",
        "Minor issue; workaround in place.",
        "Tidak segera.",
        "Customer prefers a weekend appointment.",
    ),
}
URGENCY_RATE = {"critical": 0.85, "high": 0.55, "medium": 0.35, "low": 0.6}
TITLE_PREFIX = {"critical": ("URGENT: ", "[CRITICAL] ", "Kecemasan - ", "P1 - "), "high": ("Urgent - ", "Segera: ", "P2 - ")}

CONTEXT = (
    "Reported by {customer} via call centre.", "Location: {road}, {town}.", "Customer contact: {customer}.",
    "Ticket raised from the customer portal.", "NOC auto-ticket.", "Dilaporkan oleh {customer}.",
    "Access through the back lane; guard house at the entrance.", "Ref previous ticket closed last week.",
    "Customer says it started after the rain.", "Please call before arriving.",
)
HOSPITALS = ("Hospital Besar", "Hospital Daerah", "Hospital Pakar", "Pusat Perubatan", "Hospital Wanita dan Kanak-kanak")
BANKS = ("Maybank", "CIMB", "Public Bank", "RHB", "Bank Islam", "Hong Leong Bank", "AmBank", "BSN", "Bank Rakyat")
DAYS = ("Monday", "Isnin", "Tuesday", "Selasa", "Wednesday", "Rabu", "Thursday", "Khamis", "Friday", "Jumaat", "Saturday", "Sabtu")

COMPLETION_NOTES: dict[str, tuple[str, ...]] = {
    "fiber": ("Spliced {cores}-core fibre at joint closure, OTDR test OK.", "Replaced damaged drop fibre, ONT back online.",
              "Kabel gentian optik disambung semula.", "Cleaned connectors at FDP, optical power now -19 dBm.", "Re-terminated fibre at FAT."),
    "copper": ("Rejoined copper pair, dial tone restored.", "Replaced wet joint and sealed closure.", "Re-jumpered at MDF, line test pass.",
               "Replaced {n} m of stolen cable.", "Talian telefon pulih."),
    "wireless": ("Realigned microwave antenna, RSL normal.", "Replaced faulty RRU, site on-air.", "Reset BTS, all sectors up.",
                 "Adjusted antenna tilt; coverage restored.", "Tukar kabel feeder, VSWR normal."),
    "power": ("Rectifier module replaced, battery bank tested.", "Genset serviced and refuelled.", "Replaced blown fuse, supply restored.",
              "Installed new surge protector.", "Bekalan elektrik pulih selepas TNB baiki."),
    "installation": ("ONT and router installed, service activated.", "Internal wiring completed, speed test {mbps} Mbps.",
                     "Pemasangan selesai, pelanggan berpuas hati.", "Service relocated and tested.", "Access point installed and paired."),
    "equipment": ("Router replaced with new unit.", "Power adapter replaced.", "Firmware re-flashed, device stable.",
                  "Set-top box swapped, channels OK.", "Modem ditukar baru."),
}
DELAY_NOTES = (
    "Delayed: waiting for spare parts.", "Delayed by access permit from the building management.", "Lewat kerana hujan lebat dan banjir.",
    "Customer not home on first visit.", "Road closed, had to take a detour.", "Menunggu permit kerja daripada PBT.",
    "Needed a cherry picker, arrived next day.",
)
REOPEN_NOTES = ("Customer reports the problem came back.", "Masalah berulang selepas dibaiki.", "Fault recurred the same evening.",
                "Customer not satisfied, speed still slow.", "Same alarm raised again by NOC.")
CANCEL_NOTES = ("Duplicate ticket.", "Customer cancelled the request.", "Dibatalkan oleh pelanggan.", "Raised in error.",
                "Fault cleared by itself before dispatch.", "Customer moved, order withdrawn.")
START_NOTES = ("Team on site.", "Travelling to site.", "Pasukan dalam perjalanan.", "Work started.", None, None)
REASSIGN_REASONS = ("Original team pulled to an emergency.", "Team member on sick leave.", "Closer team became available.",
                    "Skill mismatch, needs a specialist.", "Pasukan asal tidak dapat hadir.")
MANUAL_REASONS = ("Dispatcher choice: team knows the area.", "Assigned by supervisor.", "Customer requested the same team as last time.",
                  "Team already working nearby.", "Ditugaskan oleh penyelia.")


def pick(rng: random.Random, seq):  # type: ignore[no-untyped-def]
    """`rng.choice(seq)`, several times faster (one `random()` call)."""
    return seq[int(rng.random() * len(seq))]


_GENERATED_SLOTS = {
    "n": lambda rng, slots: str(rng.randrange(20, 900)),
    "db": lambda rng, slots: f"{rng.uniform(26, 35):.1f}",
    "rsrp": lambda rng, slots: str(rng.randrange(108, 125)),
    "h": lambda rng, slots: str(rng.randrange(1, 6)),
    "v": lambda rng, slots: f"{rng.uniform(42, 47):.1f}",
    "day": lambda rng, slots: pick(rng, DAYS),
    "big": lambda rng, slots: str(pick(rng, (150, 200, 250, 300, 400, 500, 800, 1200, 2000)) + rng.randrange(0, 50)),
    "mid": lambda rng, slots: str(rng.randrange(15, 120)),
    "hospital": lambda rng, slots: f"{pick(rng, HOSPITALS)} {slots['town']}",
    "bank": lambda rng, slots: f"{pick(rng, BANKS)} {slots['town']}",
    "cores": lambda rng, slots: str(pick(rng, (12, 24, 48, 96))),
    "mbps": lambda rng, slots: str(pick(rng, (95, 290, 480, 940))),
}
_SITE_SLOTS = {
    "road": lambda rng, slots: pick(rng, FAMOUS_ROADS.get(slots["zone"], ()) + ROADS),
    "site": lambda rng, slots: pick(rng, SITES) if rng.random() < 0.7 else slots["town"],
    "building": lambda rng, slots: pick(rng, BUILDINGS),
    "code": lambda rng, slots: f"{slots['zone'][:3].upper()}{rng.randrange(100, 9999):04d}",
}
_FIELDS: dict[str, tuple[str, ...]] = {}


def _fill(rng: random.Random, text: str, slots: dict[str, str]) -> str:
    if "{" not in text:
        return text
    fields = _FIELDS.get(text)
    if fields is None:
        fields = _FIELDS[text] = tuple(f for _, f, _, _ in string.Formatter().parse(text) if f)
    values = {}
    for f in fields:
        if f in slots:
            values[f] = slots[f]
        elif f in _SITE_SLOTS:  # drawn once per ticket, so title and description agree
            values[f] = slots[f] = _SITE_SLOTS[f](rng, slots)
        else:
            values[f] = _GENERATED_SLOTS[f](rng, slots)
    return text.format(**values)


def _noise(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.04:
        return text.lower()
    if r < 0.07 and len(text) > 8:
        i = rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1:]
    if r < 0.09:
        return text.upper() if len(text) < 60 else text
    return text


def compose(rng: random.Random, *, skill: str, priority: str, town: str, zone: str, customer: str) -> tuple[str, str]:
    """A (title, description) for a ticket of this skill and priority at this town."""
    slots = {"town": town, "zone": zone, "customer": customer}
    # Priority cue: usually from the ticket's own priority, sometimes from a neighbour (ambiguity).
    cue_priority = priority
    if rng.random() < 0.08:
        order = ("low", "medium", "high", "critical")
        i = order.index(priority) + pick(rng, (-1, 1))
        cue_priority = order[min(max(i, 0), 3)]
    generic = rng.random() < 0.1
    title = _fill(rng, pick(rng, GENERIC_TITLES if generic else TITLES[skill]), slots)
    if cue_priority in TITLE_PREFIX and rng.random() < (0.35 if cue_priority == "critical" else 0.15):
        title = pick(rng, TITLE_PREFIX[cue_priority]) + title
    parts = [_fill(rng, pick(rng, SYMPTOMS[skill]), slots)]
    if rng.random() < 0.35:
        extra = _fill(rng, pick(rng, SYMPTOMS[skill]), slots)
        if extra != parts[0]:
            parts.append(extra)
    if rng.random() < URGENCY_RATE[cue_priority]:
        cue = _fill(rng, pick(rng, URGENCY[cue_priority]), slots)
        if cue:
            parts.insert(rng.randrange(len(parts) + 1), cue)
    if rng.random() < 0.5:
        parts.append(_fill(rng, pick(rng, CONTEXT), slots))
    description = " ".join(_noise(rng, p) for p in parts)
    return _noise(rng, title)[:200], description


def completion_note(rng: random.Random, skill: str, late: bool) -> str:
    note = _fill(rng, pick(rng, COMPLETION_NOTES[skill]), {"town": ""})
    if late:
        note = f"{pick(rng, DELAY_NOTES)} {note}"
    return note
