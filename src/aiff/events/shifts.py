"""Team shift calendars on the contract: working days, start and end (Malaysia time), lunch break, overtime.

Every field is optional on the events; a team that never sent one works the documented defaults
(08:00-17:00 Monday to Saturday, a 45-minute lunch between 12:00 and 14:00, up to 60 minutes of overtime).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_SHIFT = {
    "shift_start": "08:00",
    "shift_end": "17:00",
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "lunch_earliest": "12:00",
    "lunch_latest": "14:00",
    "lunch_minutes": 45,
    "max_overtime_minutes": 60,
}
"""What a team works when its events never said otherwise (also the read models' column defaults)."""
SHIFT_FIELDS: tuple[str, ...] = tuple(DEFAULT_SHIFT)


def minutes_of(clock: str) -> int:
    """Minutes after midnight of an `HH:MM` clock time."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


ClockTime = Annotated[
    str,
    Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Local time of day in Malaysia (UTC+8), `HH:MM`, 24-hour."),
]


def _unique_days(days: list[str]) -> list[str]:
    if len(set(days)) != len(days):
        raise ValueError("working days must not repeat")
    return sorted(days, key=WEEKDAYS.index)


WorkingDays = Annotated[list[Weekday], Field(min_length=1, max_length=7), AfterValidator(_unique_days)]
LunchMinutes = Annotated[int, Field(ge=0, le=240, description="Length of the lunch break in minutes (0: none).")]
OvertimeMinutes = Annotated[int, Field(ge=0, le=720, description="Most minutes a day may run past the shift end.")]


def shift_error(shift: dict) -> str | None:
    """Why a complete set of shift values is inconsistent, or None."""
    start, end = minutes_of(shift["shift_start"]), minutes_of(shift["shift_end"])
    if end <= start:
        return f"shift_end {shift['shift_end']} must be after shift_start {shift['shift_start']} (no overnight shifts)"
    earliest, latest = minutes_of(shift["lunch_earliest"]), minutes_of(shift["lunch_latest"])
    if latest - earliest < shift["lunch_minutes"]:
        return (
            f"a {shift['lunch_minutes']}-minute lunch does not fit between lunch_earliest {shift['lunch_earliest']} "
            f"and lunch_latest {shift['lunch_latest']}"
        )
    return None
