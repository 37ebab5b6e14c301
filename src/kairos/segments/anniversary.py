"""Anniversaries — birthdays, sign-up days — counted in each contact's own time zone.

"Birthday within the next 7 days" depends on what *today* is for the contact: at 20:00 UTC
it is already tomorrow in Tokyo. At any instant the world's time zones fall into at most
three local dates, so the SQL is a short ``OR`` over those dates, each with the month-days
that count as "within the next N days" from it. The date of a stored instant is its UTC
date; a plain date (``1990-05-17``) is taken as it is. A 29 February anniversary is kept on
28 February in other years. Contacts with no (or an unknown) time zone count in UTC.

Ages follow the same rules: a contact turns 18 at local midnight of their 18th birthday
(28 February for one born on 29 February, in years without it), so "is between 18 and 22
years old" holds from that day until the day before their 23rd birthday.
"""

from __future__ import annotations

from calendar import isleap
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: Beyond this many days every date has its anniversary in the window.
FULL_YEAR = 365


def month_day(d: date) -> str:
    return f"{d.month:02d}-{d.day:02d}"


def window_month_days(start: date, days: int) -> list[str]:
    """The MM-DD strings of ``start`` … ``start + days``."""
    out: set[str] = set()
    for i in range(min(days, FULL_YEAR) + 1):
        d = start + timedelta(days=i)
        out.add(month_day(d))
        if d.month == 2 and d.day == 28 and not isleap(d.year):
            out.add("02-29")
    return sorted(out)


@lru_cache(maxsize=1)
def _zones() -> tuple[ZoneInfo, ...]:
    return tuple(ZoneInfo(name) for name in sorted(available_timezones()))


@lru_cache(maxsize=4096)
def _zone(name: str | None) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local_date(now: datetime, tz: str | None) -> date:
    return now.astimezone(_zone(tz)).date()


def zone_groups(now: datetime) -> dict[date, list[str]]:
    """Every known time zone, grouped by its local date at ``now`` (two or three groups)."""
    groups: dict[date, list[str]] = defaultdict(list)
    for zone in _zones():
        groups[now.astimezone(zone).date()].append(zone.key)
    return dict(groups)


def window_days(within: timedelta) -> int:
    return within // timedelta(days=1)


def anniversary_within(value: date, tz: str | None, within: timedelta, now: datetime) -> bool:
    """Whether ``value``'s anniversary falls today or within the next ``within`` (whole
    days) in the time zone ``tz``."""
    return month_day(value) in window_month_days(local_date(now, tz), window_days(within))


def utc_date(now: datetime) -> date:
    return now.astimezone(UTC).date()


def years_before(day: date, years: int) -> date:
    """The latest birth date of someone who is ``years`` old on ``day`` (29 February
    birthdays fall on 28 February in years without one)."""
    year = day.year - years
    if day.month == 2 and day.day == 28 and not isleap(day.year) and isleap(year):
        return date(year, 2, 29)
    if day.month == 2 and day.day == 29 and not isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def age_bounds(today: date, low: int, high: int) -> tuple[datetime, datetime]:
    """Birth instants ``[start, end)`` of those aged ``low`` … ``high`` whole years on the
    local date ``today`` — a date standing for its midnight UTC, as stored dates are read,
    and an instant for its UTC date."""
    start = years_before(today, high + 1) + timedelta(days=1)
    end = years_before(today, low) + timedelta(days=1)
    return _midnight(start), _midnight(end)


def age_between(value: date, tz: str | None, low: int, high: int, now: datetime) -> bool:
    """Whether someone born on ``value`` (a date, or an instant's UTC date) is ``low`` …
    ``high`` years old at ``now`` in the time zone ``tz``."""
    born = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    start, end = age_bounds(local_date(now, tz), low, high)
    return start.date() <= born < end.date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
