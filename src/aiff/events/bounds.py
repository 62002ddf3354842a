"""Ranges of the contract's ids, counts and times: exactly what the read models' columns can hold.

A value the contract accepts must never fail a write (a poison pill stops a partition); a value a column cannot
hold must fail the contract (it is dead-lettered with the reason). Ticket ids are `bigint` but capped at 2^53-1 so
they stay exact in JSON numbers and JavaScript, and their derived ticket number fits `varchar(20)`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

MAX_TICKET_ID = 2**53 - 1
MAX_TEAM_ID = 2**31 - 1
MAX_INT32 = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2101, 1, 1, tzinfo=UTC)
"""Event times and due dates lie in [EARLIEST, LATEST): years 2000 to 2100 (UTC)."""

TicketId = Annotated[int, Field(ge=1, le=MAX_TICKET_ID)]
TeamId = Annotated[int, Field(ge=1, le=MAX_TEAM_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_INT32)]


def _sane_time(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must lie in the years 2000 to 2100 (UTC)")
    return value


Time = Annotated[AwareDatetime, AfterValidator(_sane_time)]
"""RFC 3339 with an offset (naive times are refused), years 2000-2100: datetime arithmetic cannot overflow."""


def _sane_date(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError("must lie in the years 2000 to 2100")
    return value


PlanDate = Annotated[date, AfterValidator(_sane_date)]
"""A calendar day (ISO `YYYY-MM-DD`) in Malaysia time, years 2000-2100."""
Minutes = Annotated[float, Field(ge=0, le=100_000)]
"""A duration in minutes (fractions allowed); at most ~69 days."""
Km = Annotated[float, Field(ge=0, le=100_000)]
"""A distance in kilometres."""
Sequence = Annotated[int, Field(ge=1, le=10_000)]
"""A visit's position in its team's day, from 1."""
