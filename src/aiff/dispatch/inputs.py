"""Read-model rows -> the planner's teams and visits. Pure (no I/O), so the conversion is unit-tested.

- A team plans its next shift that has not ended (shift end after `now`), on its working days, in Malaysia time
  (overtime finishes the day's work; it starts no new day's plan); it starts where it last reported its position that day, else at its base, and ends at base.
- With a horizon of n days it also plans its next n-1 working days (its own working days and shift hours, from
  and to its base, shortened by its break), so a visit that does not fit today gets a planned day.
- A visit is an open, reopened, assigned or in-progress ticket; without a category it needs no skill (every
  team carries the `ANY` skill). Service minutes default by category.
- Fixed visits (never moved by a re-plan) form the head of their team's route, in order: the visit in
  progress, then the previous plan's visits that depart within the freeze horizon, then a dispatcher's move
  to a position (the visits before it in the previous plan are held in front of it). A pin without a
  position keeps the visit on its team only. A pin or move dated after its team's current day waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping, Sequence

from aiff.events.shifts import DEFAULT_SHIFT, WEEKDAYS, minutes_of
from aiff.planning import LunchBreak, Plan, PlannedBreak, PlannedVisit, Point, Team, TeamPlan, Visit
from aiff.zones import ZONES_BY_NAME

MALAYSIA = timezone(timedelta(hours=8))
ANY = "*"
"""The skill of a ticket without a category: every team has it."""
WORKING = frozenset({"available", "busy"})
SERVICE_MINUTES = {"fiber": 90, "copper": 60, "wireless": 60, "power": 120, "installation": 120, "equipment": 45}
DEFAULT_SERVICE_MINUTES = 60
MIN_REMAINING = timedelta(minutes=5)
"""Least service left for a visit in progress (it may overrun its estimate)."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class TeamDay:
    """A team as planned: the planner's Team, the day it plans, and what the consumer needs besides."""

    team: Team
    plan_date: date
    zone: str
    capacity: int
    later_dates: tuple[date, ...] = ()  # the dates of `team.later_shifts`, in order (the horizon's later days)

    def date_of(self, day: int) -> date:
        """The date of the team's `day`-th shift of the horizon (0 = `plan_date`)."""
        return self.plan_date if day == 0 else self.later_dates[day - 1]


@dataclass
class Inputs:
    """One planner call's input, with the fixed (head) visits per team and why they are fixed."""

    teams: list[TeamDay]
    visits: list[Visit]
    fixed: dict[str, str] = field(default_factory=dict)  # ticket id -> in_progress | pinned | moved | freeze


def _clock(day: date, hhmm: str) -> datetime:
    m = minutes_of(hhmm)
    return datetime.combine(day, time(m // 60, m % 60), MALAYSIA)


def point_of(lat: float | None, lon: float | None, zone: str | None) -> Point:
    if lat is None or lon is None:
        z = ZONES_BY_NAME.get(zone or "")
        return Point(z.latitude, z.longitude) if z else Point(0.0, 0.0)
    return Point(float(lat), float(lon))


def team_day(row: Row, now: datetime, horizon_days: int = 7, days: int = 1) -> TeamDay | None:
    """The team's next shift not yet ended (None when it may not work: offline, on leave, retired, no day), and
    its shifts on the next `days - 1` working days."""
    if row["status"] not in WORKING or not row.get("is_active", True):
        return None
    get = lambda k: row.get(k) or DEFAULT_SHIFT[k]  # noqa: E731
    overtime = timedelta(minutes=row.get("max_overtime_minutes", DEFAULT_SHIFT["max_overtime_minutes"]))
    local = now.astimezone(MALAYSIA).date()
    for d in range(horizon_days + 1):
        day = local + timedelta(days=d)
        if WEEKDAYS[day.weekday()] not in get("working_days"):
            continue
        start, end = _clock(day, get("shift_start")), _clock(day, get("shift_end"))
        if end > now:
            break
    else:
        return None
    lunch = None
    lunch_minutes = row.get("lunch_minutes", DEFAULT_SHIFT["lunch_minutes"])
    if lunch_minutes:
        lunch = LunchBreak(_clock(day, get("lunch_earliest")), _clock(day, get("lunch_latest")), timedelta(minutes=lunch_minutes))
        if lunch.latest - lunch.duration < now:
            lunch = None  # the window has passed: taken (or skipped) already
    base = point_of(row["latitude"], row["longitude"], row["zone"])
    start_at = base
    reported = row.get("reported_at")
    if row.get("position_lat") is not None and reported is not None and reported.astimezone(MALAYSIA).date() == day:
        start_at = Point(float(row["position_lat"]), float(row["position_lon"]))
    skills = frozenset(row["skills"] or ()) | {ANY}
    # the planner shortens a later shift by today's break; once today's break is past, by the team's own. A
    # later shift starts no earlier than the previous one may end (overtime included): days never overlap.
    brk = timedelta(0) if lunch is not None else timedelta(minutes=lunch_minutes or 0)
    later, later_dates, free_from = [], [], end + overtime
    for d in _later_days(day, get("working_days"), days):
        shift = (max(_clock(d, get("shift_start")), free_from), _clock(d, get("shift_end")) - brk)
        if shift[1] > shift[0]:
            later.append(shift)
            later_dates.append(d)
            free_from = _clock(d, get("shift_end")) + overtime
    later, later_dates = tuple(later), tuple(later_dates)
    team = Team(id=str(row["id"]), skills=skills, shift_start=start, shift_end=end, start=start_at, end=base,
                lunch=lunch, max_overtime=overtime, later_shifts=later)
    return TeamDay(team, day, row["zone"], int(row["capacity"]), later_dates)


def _later_days(day: date, working_days: Sequence[str], days: int) -> tuple[date, ...]:
    """The next `days - 1` working days after `day` (none when the team has no working day at all)."""
    out: list[date] = []
    d = day
    while len(out) < days - 1 and any(w in working_days for w in WEEKDAYS):
        d += timedelta(days=1)
        if WEEKDAYS[d.weekday()] in working_days:
            out.append(d)
    return tuple(out)


def service_of(row: Row) -> timedelta:
    minutes = row.get("service_minutes") or SERVICE_MINUTES.get(row.get("skill") or "", DEFAULT_SERVICE_MINUTES)
    return timedelta(minutes=minutes)


def visit_of(row: Row, now: datetime, pinned_team: str | None = None, pinned_sequence: int | None = None) -> Visit:
    """One ticket row (id, zone, latitude, longitude, priority, skill, due_date, window_start/end, service_minutes,
    status, started_at) as a visit."""
    service = service_of(row)
    if row["status"] == "in_progress" and row.get("started_at") is not None:
        service = max(service - (now - row["started_at"]), MIN_REMAINING)
    window = None
    if row.get("window_start") is not None or row.get("window_end") is not None:
        window = (row.get("window_start") or now - timedelta(days=1), row.get("window_end") or now + timedelta(days=30))
    return Visit(ticket_id=str(row["id"]), position=point_of(row["latitude"], row["longitude"], row["zone"]),
                 skill=row.get("skill") or ANY, service=service, priority=row.get("priority") or "medium",
                 window=window, due=row.get("due_date"), pinned_team=pinned_team, pinned_sequence=pinned_sequence)


def build_inputs(team_rows: Sequence[Row], ticket_rows: Sequence[Row], previous: Plan | None, now: datetime,
                 freeze: timedelta, keep_teams: bool = False, horizon_days: int = 1, keep: Mapping[str, str] | None = None) -> Inputs:
    """Teams and visits for one planner call; `keep_teams` pins every assigned, unstarted visit to its current
    team, and every ticket in `keep` (ticket -> team: those planned on a later day) to its planned team (the
    no-churn alternative a re-plan is compared with); `horizon_days`: today and the next working days."""
    keep = keep or {}
    days = [d for d in (team_day(r, now, days=horizon_days) for r in team_rows) if d is not None]
    working = {d.team.id for d in days}
    plan_date = {d.team.id: d.plan_date for d in days}
    # a pin or move to a later day than its team's current one waits for that day
    rows = {str(r["id"]): r for r in ticket_rows if not _later_day(r, plan_date)}
    heads: dict[str, list[str]] = {}
    fixed: dict[str, str] = {}
    for tid, r in rows.items():  # the visit in progress leads its team's day
        if r["status"] == "in_progress" and r.get("assigned_team") is not None:
            team = str(r["assigned_team"])
            heads.setdefault(team, []).append(tid)
            fixed[tid] = "in_progress"
    for team in working:
        order = [v.ticket_id for v in previous.teams[team].visits] if previous is not None and team in previous.teams else []
        order = [t for t in order if t in rows and t not in fixed and _holds(rows[t], team)]
        head = heads.setdefault(team, [])
        for t in order:  # departing within the freeze horizon: the team is (about to be) on its way
            visit = next(v for v in previous.teams[team].visits if v.ticket_id == t)
            if visit.eta - timedelta(minutes=visit.travel_minutes) > now + freeze:
                break
            head.append(t)
            fixed[t] = "freeze"
        moves = sorted(((int(r["pinned_sequence"]), t) for t, r in rows.items()
                        if r.get("pinned") and str(r.get("pinned_team")) == team and r.get("pinned_sequence") and t not in fixed))
        if moves:
            rest = [t for t in order if t not in fixed and t not in {m for _, m in moves}]
            for seq, t in moves:  # the visits before the target position stay in front of it
                while len(head) < seq - 1 and rest:
                    held = rest.pop(0)
                    head.append(held)
                    fixed[held] = "freeze"
                head.append(t)
                fixed[t] = "moved"
    position = {t: (team, k) for team, head in heads.items() for k, t in enumerate(head)}
    visits = []
    for tid, r in rows.items():
        team, seq = position.get(tid, (None, None))
        if team is None and r.get("pinned") and r.get("pinned_team") is not None:
            team = str(r["pinned_team"])
            fixed[tid] = "pinned"
        elif team is None and keep_teams and r["status"] == "assigned" and str(r.get("assigned_team")) in working:
            team = str(r["assigned_team"])
        elif team is None and keep_teams and r["status"] in ("open", "reopened") and keep.get(tid) in working:
            team = keep[tid]
        visits.append(visit_of(r, now, team, seq))
    return Inputs(days, visits, fixed)


def _later_day(row: Row, plan_date: Mapping[str, date]) -> bool:
    pinned_date, team = row.get("pinned_date"), row.get("pinned_team")
    if not row.get("pinned") or pinned_date is None or team is None or str(team) not in plan_date:
        return False
    return pinned_date > plan_date[str(team)]


def _holds(row: Row, team: str) -> bool:
    """The ticket is still assigned (unstarted) to that team, and no dispatcher pinned it elsewhere."""
    pinned_elsewhere = row.get("pinned") and row.get("pinned_team") is not None and str(row["pinned_team"]) != team
    return row["status"] == "assigned" and str(row.get("assigned_team")) == team and not pinned_elsewhere


def stored_plan(plan_rows: Sequence[Row], visit_rows: Sequence[Row], positions: Mapping[str, Point]) -> Plan:
    """The stored plans (`plans`, `plan_visits` rows) as a planner Plan, the warm start of the next re-plan."""
    visits: dict[int, list[Row]] = {}
    for v in visit_rows:
        visits.setdefault(v["team_id"], []).append(v)
    teams = {}
    for p in plan_rows:
        vs = sorted(visits.get(p["team_id"], []), key=lambda v: v["sequence"])
        planned = tuple(
            PlannedVisit(ticket_id=str(v["ticket_id"]), team_id=str(p["team_id"]), sequence=k, eta=v["eta"],
                         planned_start=v["planned_start"], planned_end=v["planned_end"],
                         travel_minutes=v["travel_minutes"], travel_km=v["travel_km"], on_time=None)
            for k, v in enumerate(vs)
        )  # fmt: skip
        lunch = None
        if p["break_start"] is not None:
            after = sum(1 for v in vs if v["planned_end"] <= p["break_start"]) - 1
            where = positions.get(str(vs[after]["ticket_id"])) if after >= 0 else None
            lunch = PlannedBreak(p["break_start"], p["break_end"], after, where or Point(0.0, 0.0))
        depart = planned[0].eta if planned else p["updated_at"]
        teams[str(p["team_id"])] = TeamPlan(team_id=str(p["team_id"]), visits=planned, lunch=lunch, depart=depart,
                                            arrive_end=planned[-1].planned_end if planned else depart,
                                            travel_minutes=p["drive_minutes"], travel_km=p["drive_km"],
                                            overtime_minutes=p["overtime_minutes"])
    return Plan(teams=teams, unserved=(), cost=0, solve_seconds=0.0)


def stored_horizon(plan_rows: Sequence[Row], visit_rows: Sequence[Row], positions: Mapping[str, Point],
                   days: Mapping[int, TeamDay | None]) -> Plan | None:
    """The stored team-days of each team's current day and its horizon's later days as one planner Plan (later
    days in `Plan.later`, one TeamPlan per later day, empty when none is stored); None when nothing is stored."""
    slot: dict[tuple[int, date], tuple[TeamDay, int]] = {}
    for team_id, d in days.items():
        if d is not None:
            for k in range(len(d.later_dates) + 1):
                slot[(team_id, d.date_of(k))] = (d, k)
    rows = [p for p in plan_rows if (p["team_id"], p["plan_date"]) in slot]
    if not rows:
        return None
    by_key: dict[tuple[int, date], list[Row]] = {}
    for v in visit_rows:
        by_key.setdefault((v["team_id"], v["plan_date"]), []).append(v)
    today = [p for p in rows if slot[(p["team_id"], p["plan_date"])][1] == 0]
    previous = stored_plan(today, [v for p in today for v in by_key.get((p["team_id"], p["plan_date"]), [])], positions)
    later: dict[str, list[TeamPlan]] = {}
    for p in sorted((p for p in rows if slot[(p["team_id"], p["plan_date"])][1] > 0), key=lambda p: p["plan_date"]):
        d, k = slot[(p["team_id"], p["plan_date"])]
        tps = later.setdefault(d.team.id, [])
        while len(tps) < k - 1:  # a later day with nothing stored: an empty route
            start = d.team.later_shifts[len(tps)][0]
            tps.append(TeamPlan(d.team.id, (), None, start, start, 0.0, 0.0, 0.0, day=len(tps) + 1))
        tp = stored_plan([p], by_key.get((p["team_id"], p["plan_date"]), []), positions).teams[d.team.id]
        tps.append(TeamPlan(tp.team_id, tuple(replace(v, day=k) for v in tp.visits), tp.lunch, tp.depart, tp.arrive_end,
                            tp.travel_minutes, tp.travel_km, tp.overtime_minutes, day=k))  # fmt: skip
    return replace(previous, later={t: tuple(tps) for t, tps in later.items()})
