"""Durations: the one format every definition and request uses for a length of time.

``{"amount": 3, "unit": "months"}`` with ``unit`` one of ``seconds``, ``minutes``,
``hours``, ``days``, ``weeks``, ``months``, ``years`` (default ``days``). Segment windows
and operators, journey waits, timeouts, offsets and re-entry delays, and simulation offsets
all take it, so the console draws one widget for all of them.

Up to weeks a unit is a fixed length. Months and years are calendar units: applied to an
instant (``before``/``after``) they move the UTC date by that many months, keeping the time
of day; a day past the end of the target month is clamped to its last day (31 January + 1
month = 28 or 29 February). Where no instant anchors them (``to_timedelta``: the length of a
sequence's ``within``, checked per event in SQL), a month is 30 days and a year 365.

The old journey form ``{"days": 1, "hours": 2}`` (also ``minutes``, ``seconds``) is still
read — deprecated — and converted to the largest unit that states it exactly (26 hours).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Unit = Literal["seconds", "minutes", "hours", "days", "weeks", "months", "years"]

#: Fixed lengths; months and years have a nominal one, used only where no instant anchors them.
NOMINAL: dict[str, timedelta] = {
    "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
    "months": timedelta(days=30),
    "years": timedelta(days=365),
}
CALENDAR = frozenset({"months", "years"})
#: The deprecated journey form's keys, largest first.
LEGACY_UNITS = ("days", "hours", "minutes", "seconds")

_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)


class Duration(BaseModel):
    """A length of time: ``amount`` ``unit`` (months and years are calendar months and years)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(ge=0, le=1_000_000_000)
    unit: Unit = "days"

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        """``{"days": 1, "hours": 2}`` (deprecated) → ``{"amount": 26, "unit": "hours"}``."""
        if not (isinstance(data, dict) and data and set(data) <= set(LEGACY_UNITS)):
            return data
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in data.values()):
            raise ValueError("days, hours, minutes and seconds are whole numbers, zero or more")
        seconds = sum(data.get(u, 0) * int(NOMINAL[u].total_seconds()) for u in LEGACY_UNITS)
        for unit in LEGACY_UNITS:
            size = int(NOMINAL[unit].total_seconds())
            if seconds % size == 0:
                return {"amount": seconds // size, "unit": unit}
        raise AssertionError("unreachable: every whole number of seconds is exact in seconds")

    @property
    def months(self) -> int:
        """The calendar months it spans (0 for the fixed units)."""
        return self.amount * (12 if self.unit == "years" else 1) if self.unit in CALENDAR else 0

    def to_timedelta(self) -> timedelta:
        """Its length: exact up to weeks, nominal (30-day months, 365-day years) beyond."""
        try:
            return self.amount * NOMINAL[self.unit]
        except OverflowError:
            return timedelta.max

    def after(self, instant: datetime) -> datetime:
        """``instant`` plus this duration (calendar months and years); far beyond saturates."""
        return self._shift(instant, 1)

    def before(self, instant: datetime) -> datetime:
        """``instant`` minus this duration (calendar months and years); far before saturates."""
        return self._shift(instant, -1)

    def _shift(self, instant: datetime, sign: int) -> datetime:
        try:
            if self.unit in CALENDAR:
                return add_months(instant, sign * self.months)
            return instant + sign * self.amount * NOMINAL[self.unit]
        except (OverflowError, ValueError):
            return _MAX if sign > 0 else _MIN


def add_months(instant: datetime, months: int) -> datetime:
    """``instant`` moved by whole calendar months, the day clamped to the target month's end."""
    year, month0 = divmod(instant.month - 1 + months, 12)
    year += instant.year
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = min(instant.day, monthrange(year, month0 + 1)[1])
    return instant.replace(year=year, month=month0 + 1, day=day)
