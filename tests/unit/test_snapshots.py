"""The time-travel snapshot codec and mark arithmetic: a board survives encode/decode with its types, and the fold
carries on from a decoded board exactly as from the original."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from aiff.events.registry import decode
from aiff.projections.fold import BatchState
from aiff.projections.snapshots import _next_mark, decode_state, encode, fold_events
from tests.integration.upstream import status_changed, team_created, ticket_assigned, ticket_created


def _raw(event: dict) -> str:
    return json.dumps(event)


def board() -> BatchState:
    state = BatchState()
    fold_events(state, [_raw(team_created(1)), *(_raw(ticket_created(i, minutes=i)) for i in range(1, 6)),
                        _raw(ticket_assigned(2, 1, minutes=10)), _raw(status_changed(2, "in_progress", minutes=11))])  # fmt: skip
    state.teams[1]["customer_rating"] = Decimal("4.57")
    state.plans[(1, date(2026, 11, 2))] = {"team_id": 1, "plan_date": date(2026, 11, 2), "revision": 3, "strategy": "optimal",
                                           "drive_minutes": 12.5, "drive_km": 8.0, "overtime_minutes": 0.0, "break_start": None,
                                           "break_end": None, "unserved": [{"ticket_id": 5}], "reason": None,
                                           "updated_at": datetime(2026, 11, 1, 9, tzinfo=UTC), "event_id": uuid.uuid4()}  # fmt: skip
    return state


def test_a_board_survives_encoding_with_its_types() -> None:
    state = board()
    back = decode_state(encode(state))
    assert back.tickets == {k: v for k, v in state.tickets.items() if v is not None}
    assert back.teams[1]["customer_rating"] == Decimal("4.57") and isinstance(back.teams[1]["created_at"], datetime)
    assert {k: {c: v for c, v in a.items() if c != "_new"} for k, a in state.active.items()} == {
        k: {c: v for c, v in a.items() if c != "id"} for k, a in back.active.items()
    }
    assert isinstance(back.active[2]["event_id"], uuid.UUID) and back.active[2]["status"] == "in_progress"
    assert back.plans == state.plans and back.taken_numbers == {t["ticket_number"] for t in state.tickets.values()}


def test_the_fold_carries_on_from_a_decoded_board_as_from_the_original() -> None:
    later = [_raw(e) for e in (status_changed(2, "completed", minutes=20, rating=4.0), ticket_assigned(3, 1, minutes=21),
                               ticket_created(3, minutes=22), status_changed(9, "cancelled", minutes=23))]  # fmt: skip
    original = board()
    resumed = decode_state(encode(copy.deepcopy(original)))
    fold_events(original, later)
    fold_events(resumed, later)
    assert resumed.tickets == original.tickets
    assert resumed.tickets[2]["status"] == "completed" and resumed.tickets[3]["status"] == "assigned"
    assert 2 not in resumed.active and resumed.active.keys() == original.active.keys()


def test_marks_are_whole_hours_at_or_after_the_instant() -> None:
    hour = timedelta(hours=1)
    assert _next_mark(datetime(2026, 11, 1, 8, 0, tzinfo=UTC), hour) == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert _next_mark(datetime(2026, 11, 1, 8, 0, 1, tzinfo=UTC), hour) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert decode(_raw(ticket_created(1))).time < _next_mark(decode(_raw(ticket_created(1, minutes=1))).time, hour)
