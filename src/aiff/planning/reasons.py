"""Why a visit was left out: the most fundamental constraint that binds, found by trying each capable team alone."""

from __future__ import annotations

from aiff.planning.build import Instance
from aiff.planning.model import (
    NO_SHIFT_TIME, NO_TEAM_WITH_SKILL, OUTRANKED, OUTSIDE_TIME_WINDOW, PINNED_TEAM_CANNOT_FIT, TEAM_AT_CAPACITY, Unserved,
    Visit,
)


def unserved_reason(inst: Instance, v: Visit, full: set[int] = frozenset()) -> Unserved:  # type: ignore[assignment]
    """Skill first, then the customer window, then shift time, then capacity (`full`: the slots whose route
    reached their team's capacity); if some team could serve it alone, it was outranked: the shift time of every
    capable team went to visits worth more (priority, SLA, travel)."""
    capable = [s for s in inst.slots if v.skill in s.team.skills and v.pinned_team in (None, s.team.id)]
    if not capable:
        pin = f" (pinned to team {v.pinned_team})" if v.pinned_team else ""
        return Unserved(v.ticket_id, NO_TEAM_WITH_SKILL, f"no team on shift has skill {v.skill!r}{pin}")
    loc = inst.visit_loc[v.ticket_id]
    service = int(v.service.total_seconds())
    in_window = fits = room = 0
    for s in capable:
        start = s.avail + int(inst.durations[s.start_loc, loc])
        if v.window is not None:
            start = max(start, inst.secs(v.window[0]))
            if start > inst.secs(v.window[1]):
                continue
        in_window += 1
        lunch = int(s.team.lunch.duration.total_seconds()) if s.break_client is not None else 0
        back = start + service + int(inst.durations[loc, s.end_loc]) + lunch
        if back <= inst.secs(s.team.shift_end + s.team.max_overtime):
            fits += 1
            room += s.vehicle_type not in full
    if not in_window:
        return Unserved(v.ticket_id, OUTSIDE_TIME_WINDOW,
                        f"none of {len(capable)} capable teams can reach it before its window closes")
    if v.pinned_team is not None:
        why = "cannot fit it in its shift" if not fits else "cannot fit it together with its other pinned visits"
        return Unserved(v.ticket_id, PINNED_TEAM_CANNOT_FIT, f"team {v.pinned_team} {why}")
    if not fits:
        return Unserved(v.ticket_id, NO_SHIFT_TIME,
                        f"none of {in_window} teams that reach it in its window can finish it within shift and overtime")
    if not room:
        return Unserved(v.ticket_id, TEAM_AT_CAPACITY,
                        f"every one of {fits} capable teams that could serve it holds its capacity of tickets")
    return Unserved(v.ticket_id, OUTRANKED,
                    f"{fits} capable teams could serve it alone; their shift time went to visits worth more")
