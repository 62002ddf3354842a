"""The route contract (issue 13) is strict too: windows in order, shift clock times and days, plan visits
consistent, positions in range; old events without the new fields still decode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiff.errors import ContractViolation
from aiff.events.registry import decode

ID = "5b0f6f0e-2d6a-4c1e-9f49-3c2f0f4f7a10"
DAY = "2026-11-23"


def event(event_type: str, subject: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"specversion": "1.0", "id": ID, "source": "urn:crm:test", "type": event_type,
                       "time": "2026-11-22T08:00:00+08:00", "subject": subject, "data": data}).encode()  # fmt: skip


def created(**data: Any) -> bytes:
    return event("aiff.ticket.created.v1", "7", {"ticket_id": 7, "title": "Fiber cut", "priority": "high", "zone": "Johor", **data})


def team(**data: Any) -> bytes:
    return event("aiff.team.created.v1", "3", {"team_id": 3, "name": "Pasukan", "zone": "Johor", **data})


def visit(ticket_id: int = 7, sequence: int = 1, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "sequence": sequence, "eta": f"{DAY}T09:00:00+08:00",
            "planned_start": f"{DAY}T09:10:00+08:00", "planned_end": f"{DAY}T10:00:00+08:00",
            "travel_minutes": 14.5, "travel_km": 9.2, **extra}  # fmt: skip


def plan(**data: Any) -> bytes:
    body = {"team_id": 3, "plan_date": DAY, "revision": 1, "strategy": "route", "visits": [visit()], **data}
    return event("aiff.plan.updated.v1", "3", body)


def refused(raw: bytes) -> str:
    with pytest.raises(ContractViolation) as info:
        decode(raw)
    return info.value.message


def test_old_events_without_the_new_fields_still_decode_with_defaults() -> None:
    assert decode(created()).data.window_start is None
    assert decode(team()).data.shift_start is None
    e = decode(event("aiff.ticket.assigned.v1", "7", {"ticket_id": 7, "team_id": 3, "strategy": "manual"}))
    assert (e.data.eta, e.data.sequence, e.data.plan_date) == (None, None, None)


def test_a_window_must_open_before_it_closes_and_carry_an_offset() -> None:
    ok = decode(created(window_start="2026-11-23T09:00:00+08:00", window_end="2026-11-23T12:00:00+08:00", service_minutes=45))
    assert ok.data.service_minutes == 45
    assert "window_end must be after window_start" in refused(
        created(window_start="2026-11-23T12:00:00+08:00", window_end="2026-11-23T12:00:00+08:00")
    )
    assert "window_start" in refused(created(window_start="2026-11-23T09:00:00"))
    assert "window_end" in refused(created(window_end="2101-01-02T00:00:00Z"))
    for minutes in (0, 1441, "30", 30.5):
        assert "service_minutes" in refused(created(service_minutes=minutes))
    upd = event("aiff.ticket.updated.v1", "7", {"ticket_id": 7, "window_start": "2026-11-23T12:00:00Z", "window_end": "2026-11-23T11:00:00Z"})
    assert "window_end must be after window_start" in refused(upd)


@pytest.mark.parametrize(
    "fields",
    [{"shift_start": "8:00"}, {"shift_start": "24:00"}, {"shift_end": "17:60"}, {"working_days": ["mon", "mon"]},
     {"working_days": []}, {"working_days": ["monday"]}, {"lunch_minutes": 241}, {"max_overtime_minutes": -1},
     {"shift_start": "17:00", "shift_end": "08:00"}, {"lunch_earliest": "12:00", "lunch_latest": "12:30"}],
)  # fmt: skip
def test_shift_fields_are_clock_times_days_and_bounded_minutes(fields: dict[str, Any]) -> None:
    assert refused(team(**fields)).startswith("schema violation")


def test_a_valid_shift_is_kept_and_days_are_ordered() -> None:
    d = decode(team(shift_start="07:30", shift_end="16:30", working_days=["sat", "mon"], lunch_minutes=30)).data
    assert (d.shift_start, d.shift_end, d.working_days, d.lunch_minutes) == ("07:30", "16:30", ["mon", "sat"], 30)


def test_assigned_carries_the_planned_visit() -> None:
    e = decode(event("aiff.ticket.assigned.v1", "7", {"ticket_id": 7, "team_id": 3, "strategy": "optimal",
                     "planned_start": f"{DAY}T09:10:00+08:00", "eta": f"{DAY}T09:00:00+08:00", "sequence": 2, "plan_date": DAY}))  # fmt: skip
    assert e.data.sequence == 2 and str(e.data.plan_date) == DAY
    bad = {"ticket_id": 7, "team_id": 3, "strategy": "optimal", "sequence": 0}
    assert "sequence" in refused(event("aiff.ticket.assigned.v1", "7", bad))


def test_a_plan_is_consistent() -> None:
    d = decode(plan(totals={"drive_minutes": 30, "drive_km": 20.5, "overtime_minutes": 0},
                    break_start=f"{DAY}T12:30:00+08:00", break_end=f"{DAY}T13:15:00+08:00",
                    unserved=[{"ticket_id": 9, "reason": "no shift time before the due date"}])).data  # fmt: skip
    assert d.visits[0].travel_km == 9.2 and d.unserved[0].ticket_id == 9
    assert "twice" in refused(plan(visits=[visit(7, 1), visit(7, 2)]))
    assert "share a sequence" in refused(plan(visits=[visit(7, 1), visit(8, 1)]))
    assert "eta <= planned_start <= planned_end" in refused(plan(visits=[visit(planned_end=f"{DAY}T09:05:00+08:00")]))
    assert "break_start and break_end go together" in refused(plan(break_start=f"{DAY}T12:30:00+08:00"))
    assert "plan_date" in refused(plan(plan_date="2026-11-23T00:00:00Z"))
    assert "plan_date" in refused(plan(plan_date="1999-12-31"))
    assert "revision" in refused(plan(revision=0))
    assert "strategy" in refused(plan(strategy="Route Planner!"))
    assert "travel_minutes" in refused(plan(visits=[visit(travel_minutes=-1)]))


def test_positions_are_in_range_with_a_known_source() -> None:
    base = {"team_id": 3, "latitude": 3.1, "longitude": 101.6, "reported_at": "2026-11-23T09:00:00+08:00"}
    assert decode(event("aiff.team.position_reported.v1", "3", base)).data.source == "field_portal"
    for bad in ({"latitude": 91}, {"longitude": "101.6"}, {"source": "satellite"}, {"accuracy_m": -1}, {"reported_at": "2026-11-23T09:00:00"}):
        assert refused(event("aiff.team.position_reported.v1", "3", {**base, **bad})).startswith("schema violation")


def test_pins_name_the_dispatcher() -> None:
    ok = decode(event("aiff.ticket.pinned.v1", "7", {"ticket_id": 7, "team_id": 3, "sequence": 1, "pinned_by": "user:2"}))
    assert ok.data.team_id == 3
    assert "pinned_by" in refused(event("aiff.ticket.pinned.v1", "7", {"ticket_id": 7}))
    assert decode(event("aiff.ticket.unpinned.v1", "7", {"ticket_id": 7, "unpinned_by": "user:2"})).data.ticket_id == 7
