"""Teams and visits -> a PyVRP `ProblemData`, with the index maps needed to read a solution back.

Time is in integer seconds from `t0` (the planning instant); the "distance" PyVRP minimises is drive
seconds (see aiff.planning.costs). Mapping:

- each team is a vehicle type with one vehicle: its own start and end depots, shift as the time window,
  `shift_duration`/`max_overtime`/`unit_overtime_cost` for overtime, and its own profile (matrix) in which
  visits it may not serve (skill, or pinned to another team) are unreachable - PyVRP's way of restricting
  clients to vehicle types;
- each later shift of a team (`Team.later_shifts`, the multi-day horizon) is one more vehicle type of that
  team: from and to its base, that day's shift as its window, the team's skills; no break is modelled on a
  later day, its shift is shortened by the break instead (those days are re-planned before they start);
- visits pinned with a sequence (in progress, frozen) are not given to the solver: they are scheduled first,
  in order, and the team's route starts where and when the last of them ends;
- a lunch break is a required client of the team's own profile with the break's window and duration. PyVRP
  0.14 has no location-free breaks, so the break has a location of its own whose legs are set by
  `place_breaks`: first free (zero legs, the break is taken wherever the team is), then anchored at the
  stop the solver put it after (a real place, so the final plan's times are exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pyvrp

from aiff.planning.costs import Costs
from aiff.planning.model import PlannedVisit, Team, Visit
from aiff.planning.travel import TravelModel


# The cost and duration of a leg a team may not drive (a visit it may not serve): far above any prize, far
# below int64 overflow after PyVRP multiplies time warp by its penalty (PyVRP's own FORBIDDEN, 2**44, stalls
# the search here).
FORBIDDEN = 10**10
NO_LIMIT = 10**6
"""The load capacity of a team without one (when another team of the instance has a capacity)."""


@dataclass
class TeamSlot:
    """A team as the solver sees it: available from `avail` at location `start_loc`, after its frozen visits."""

    team: Team
    vehicle_type: int
    avail: int
    start_loc: int
    end_loc: int
    frozen: list[PlannedVisit] = field(default_factory=list)
    depart: int = 0  # leaves its start position (before any frozen visits)
    break_client: int | None = None
    break_loc: int | None = None
    day: int = 0  # 0 = today, n = the team's n-th later shift


@dataclass(frozen=True)
class ClientRef:
    """What a PyVRP client stands for: a visit copy (on time or late) or a team's break."""

    visit: Visit | None
    on_time: bool | None
    team_slot: int | None = None  # for breaks


@dataclass
class Instance:
    t0: datetime
    slots: list[TeamSlot]
    visits: dict[str, Visit]
    visit_loc: dict[str, int]
    clients: list[ClientRef]
    groups: list[pyvrp.ClientGroup]
    durations: np.ndarray  # drive seconds between locations (break locations included)
    distances: np.ndarray  # metres
    allowed: list[np.ndarray]  # per slot: which locations its profile may reach
    depots: list[pyvrp.Depot]
    vehicle_types: list[pyvrp.VehicleType]
    locations: list[pyvrp.Location]
    pyvrp_clients: list[pyvrp.Client]
    profile_of_slot: list[int] = field(default_factory=list)
    profile_masks: list[np.ndarray] = field(default_factory=list)
    overtime_cost: int = 0
    points: list = field(default_factory=list)  # Point per location, break locations at their anchor
    loaded: bool = False  # some team has a capacity: every client carries a load (1 per visit, 0 per break)

    def load(self, n: int) -> list[int]:
        return [n] if self.loaded else []

    def secs(self, when: datetime) -> int:
        return int((when - self.t0).total_seconds())

    def at(self, secs: float) -> datetime:
        return self.t0 + timedelta(seconds=float(secs))

    def data(self) -> pyvrp.ProblemData:
        """The ProblemData for the current break placement."""
        mats = []
        for mask in self.profile_masks:
            m = self.durations.copy()
            m[~mask, :] = FORBIDDEN
            m[:, ~mask] = FORBIDDEN
            np.fill_diagonal(m, 0)
            mats.append(m)
        return pyvrp.ProblemData(self.locations, self.pyvrp_clients, self.depots, self.vehicle_types,
                                 mats, mats, groups=self.groups)

    def place_breaks(self, anchors: dict[int, int] | None) -> None:
        """Give each break location the legs of its anchor location; no anchor = free (zero-length legs)."""
        for k, slot in enumerate(self.slots):
            if slot.break_loc is None:
                continue
            b = slot.break_loc
            a = None if anchors is None else anchors.get(k)
            self.points[b] = self.points[slot.start_loc if a is None else a]
            for mat in (self.durations, self.distances):
                if a is None:
                    mat[b, :] = 0
                    mat[:, b] = 0
                else:
                    mat[b, :] = mat[a, :]
                    mat[:, b] = mat[:, a]
                    mat[b, b] = 0


def build(teams: list[Team], visits: list[Visit], travel: TravelModel, now: datetime, costs: Costs,
          hold: dict[str, str] | None = None) -> Instance:
    """Map teams and visits onto PyVRP's model (see the module docstring). `hold` restricts visits to a team
    (ticket -> team id) without a pin's prize: how a re-plan is solved without moving anything."""
    t0 = now
    active = [t for t in teams if t.shift_end + t.max_overtime > now]
    by_id = {v.ticket_id: v for v in visits}
    if len(by_id) != len(visits):
        raise ValueError("duplicate ticket ids among visits")

    # Points: team starts, team ends, visits; then one break location per team with a lunch break.
    points = [t.start for t in active] + [t.end for t in active] + [v.position for v in visits]
    nt = len(active)
    visit_loc = {v.ticket_id: 2 * nt + j for j, v in enumerate(visits)}
    n_points = len(points)
    durations, distances = travel.matrices(points) if points else (np.zeros((0, 0), np.int64),) * 2
    breaks = [k for k, t in enumerate(active) if t.lunch is not None]
    n_loc = n_points + len(breaks)
    dur = np.zeros((n_loc, n_loc), dtype=np.int64)
    dist = np.zeros((n_loc, n_loc), dtype=np.int64)
    dur[:n_points, :n_points] = durations
    dist[:n_points, :n_points] = distances

    inst = Instance(t0=t0, slots=[], visits=by_id, visit_loc=visit_loc, clients=[], groups=[], durations=dur,
                    distances=dist, allowed=[], depots=[], vehicle_types=[], locations=[], pyvrp_clients=[])
    inst.overtime_cost = costs.overtime_cost
    inst.loaded = any(t.capacity is not None for t in active)
    inst.points = points + [active[k].start for k in breaks]
    frozen_ids = _freeze_heads(inst, active, visits)
    _add_later_shifts(inst, active)

    horizon = max((inst.secs(s.team.shift_end + s.team.max_overtime) for s in inst.slots), default=0)
    ends: dict[int, int] = {}  # day of the horizon -> the end of that day's last shift (+ overtime)
    for s in inst.slots:
        ends[s.day] = max(ends.get(s.day, 0), inst.secs(s.team.shift_end + s.team.max_overtime))
    _add_visit_clients(inst, [v for v in visits if v.ticket_id not in frozen_ids], horizon, costs,
                       [ends[d] for d in sorted(ends)] if len(ends) > 1 else None)
    next_break_loc = n_points
    for slot in inst.slots:
        lunch = slot.team.lunch
        if lunch is None:
            continue
        slot.break_loc, next_break_loc = next_break_loc, next_break_loc + 1
        early = max(inst.secs(lunch.earliest), slot.avail)
        late = inst.secs(lunch.latest - lunch.duration)
        if early > late:
            continue  # the team is busy (frozen visits) or off shift through the whole break window
        slot.break_client = len(inst.clients)
        inst.clients.append(ClientRef(visit=None, on_time=None, team_slot=slot.vehicle_type))
        inst.pyvrp_clients.append(pyvrp.Client(location=slot.break_loc, delivery=inst.load(0), service_duration=int(lunch.duration.total_seconds()),
                                               tw_early=early, tw_late=late, required=True, name=f"break:{slot.team.id}"))

    where = points + [active[k].start for k in breaks]  # coordinates are for plots; the solver uses the matrices
    inst.locations = [pyvrp.Location(p.lon, p.lat) for p in where]
    _add_vehicles(inst, costs, hold or {})
    inst.place_breaks(None)
    return inst


def _add_later_shifts(inst: Instance, active: list[Team]) -> None:
    """One more slot per later shift of each team: from and to its base, shortened by its break."""
    nt = len(active)
    for k, team in enumerate(active):
        brk = team.lunch.duration if team.lunch is not None else timedelta(0)
        for d, (start, end) in enumerate(team.later_shifts, start=1):
            if end - brk <= start or end - brk <= inst.t0:
                continue
            day_team = replace(team, shift_start=start, shift_end=end - brk, start=team.end, lunch=None, later_shifts=())
            avail = max(inst.secs(start), 0)
            inst.slots.append(TeamSlot(team=day_team, vehicle_type=len(inst.slots), avail=avail, start_loc=nt + k,
                                       end_loc=nt + k, depart=avail, day=d))


def _freeze_heads(inst: Instance, active: list[Team], visits: list[Visit]) -> set[str]:
    """Schedule each team's sequence-pinned visits in order; the team becomes available after the last one."""
    nt = len(active)
    frozen_ids: set[str] = set()
    for k, team in enumerate(active):
        head = sorted((v for v in visits if v.pinned_team == team.id and v.pinned_sequence is not None),
                      key=lambda v: v.pinned_sequence)
        t = max(inst.secs(team.shift_start), 0)
        loc = k
        frozen = []
        for seq, v in enumerate(head):
            vloc = inst.visit_loc[v.ticket_id]
            drive = int(inst.durations[loc, vloc])
            eta = t + drive
            start = max(eta, inst.secs(v.window[0])) if v.window else eta
            end = start + int(v.service.total_seconds())
            frozen.append(PlannedVisit(
                ticket_id=v.ticket_id, team_id=team.id, sequence=seq, eta=inst.at(eta), planned_start=inst.at(start),
                planned_end=inst.at(end), travel_minutes=drive / 60, travel_km=inst.distances[loc, vloc] / 1000,
                on_time=None if v.due is None else inst.at(end) <= v.due, frozen=True))
            frozen_ids.add(v.ticket_id)
            loc, t = vloc, end
        inst.slots.append(TeamSlot(team=team, vehicle_type=k, avail=t, start_loc=loc, end_loc=nt + k, frozen=frozen,
                                   depart=max(inst.secs(team.shift_start), 0)))
    return frozen_ids


def _add_visit_clients(inst: Instance, visits: list[Visit], horizon: int, costs: Costs, day_ends: list[int] | None) -> None:
    """One client per visit, or mutually exclusive copies in a client group (on time, late tiers, each day)."""
    for v in visits:
        early, late = 0, horizon
        if v.window is not None:
            early, late = max(inst.secs(v.window[0]), 0), min(inst.secs(v.window[1]), horizon)
        if early > late:
            continue  # the window has passed or lies beyond every shift: left unserved with its reason
        service = int(v.service.total_seconds())
        loc = inst.visit_loc[v.ticket_id]
        aim = None if v.due is None else inst.secs(v.due) - int(service * (1 + costs.margin(v.priority)))
        copies = _copies(v, early, late, aim, costs)
        if day_ends is not None and (v.pinned_team is None or costs.today_bonus_pinned):
            due = None if v.due is None else inst.secs(v.due)
            copies = _sooner_first(copies, early, day_ends, v.priority, due, costs)
        group = len(inst.groups) if len(copies) > 1 else None
        if group is not None:
            first = len(inst.clients)
            inst.groups.append(pyvrp.ClientGroup(list(range(first, first + len(copies))), required=False))
        for tw_late, prize, on_time in copies:
            inst.clients.append(ClientRef(visit=v, on_time=on_time))
            inst.pyvrp_clients.append(pyvrp.Client(location=loc, delivery=inst.load(1), service_duration=service, tw_early=early,
                                                   tw_late=tw_late, prize=prize, required=False, group=group,
                                                   name=v.ticket_id))


def _copies(v: Visit, early: int, late: int, on_time_late: int | None, costs: Costs) -> list[tuple[int, int, bool | None]]:
    """(latest start, prize, on time?) per copy of a visit: on time, then one per late tier (see costs)."""
    serve, bonus = costs.serve(v.priority), costs.bonus(v.priority)
    if v.pinned_team is not None:
        serve = costs.pinned_prize
    if on_time_late is None:
        return [(late, serve + bonus, None)]
    if on_time_late >= late:
        return [(late, serve + bonus, True)]
    out: list[tuple[int, int, bool | None]] = []
    if on_time_late >= early:
        out.append((on_time_late, serve + bonus, True))
    lateness = 0
    for bound in costs.late_tiers:
        lateness = bound
        tw_late = on_time_late + bound
        if tw_late >= late:
            break
        if tw_late >= early:
            out.append((tw_late, _late(v, serve, bound, costs), False))
    out.append((late, _late(v, serve, lateness, costs), False))
    return out


def _sooner_first(copies: list, early: int, day_ends: list[int], priority: str, due: int | None, costs: Costs) -> list:
    """Copies worth more the earlier the day they are served on (`Costs.day_bonus`: today's full bonus falling
    to nothing on the horizon's last day, or the lateness still avoided), each copy split at the day ends it
    straddles. Without this, a visit already late beyond the last tier would be worth the same on every later
    day, and a late critical could be put off for days behind work that is on time either way."""
    out: list = []
    rest = list(copies)
    for day, end in enumerate(day_ends[:-1]):
        if not rest:
            break
        if end < early:
            continue  # nothing can be served by then (a window on a later day)
        bonus = costs.day_bonus(priority, day, len(day_ends), end, day_ends[-1], due)
        out += [(tw, prize + bonus, ok) for tw, prize, ok in rest if tw <= end]
        rest = [c for c in rest if c[0] > end]
        if rest and (not out or out[-1][0] < end):
            out.append((end, rest[0][1] + bonus, rest[0][2]))
    return out + rest


def _late(v: Visit, serve: int, lateness: int, costs: Costs) -> int:
    return serve if v.pinned_team is not None else costs.late_prize(v.priority, lateness)


def _add_vehicles(inst: Instance, costs: Costs, hold: dict[str, str]) -> None:
    """A vehicle type (and profile) per team; teams that may reach the same locations share a profile."""
    n_loc = inst.durations.shape[0]
    masks: dict[bytes, int] = {}
    for k, slot in enumerate(inst.slots):
        team = slot.team
        mask = np.zeros(n_loc, dtype=bool)
        for s in inst.slots:
            mask[[s.start_loc, s.end_loc]] = True
        for ref in inst.clients:
            v = ref.visit
            if v is not None and v.skill in team.skills and (hold.get(v.ticket_id) or v.pinned_team) in (None, team.id):
                mask[inst.visit_loc[v.ticket_id]] = True
        if slot.break_loc is not None:
            mask[slot.break_loc] = True
        key = mask.tobytes()
        if key not in masks:
            masks[key] = len(inst.profile_masks)
            inst.profile_masks.append(mask)
        inst.profile_of_slot.append(masks[key])
        inst.allowed.append(mask)
        inst.depots += [pyvrp.Depot(location=slot.start_loc), pyvrp.Depot(location=slot.end_loc)]  # 2k, 2k + 1
        shift_end = inst.secs(team.shift_end)
        overtime = int(team.max_overtime.total_seconds())
        inst.vehicle_types.append(pyvrp.VehicleType(
            num_available=1, start_depot=2 * k, end_depot=2 * k + 1, tw_early=slot.avail, start_late=slot.avail,
            tw_late=max(shift_end + overtime, slot.avail), shift_duration=max(shift_end - slot.avail, 0),
            max_overtime=max(min(overtime, shift_end + overtime - slot.avail), 0), unit_overtime_cost=costs.overtime_cost,
            unit_distance_cost=1, unit_duration_cost=0, profile=masks[key], name=team.id,
            capacity=inst.load(NO_LIMIT if team.capacity is None else max(team.capacity - len(slot.frozen), 0))))
