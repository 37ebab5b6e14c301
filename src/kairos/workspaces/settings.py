"""A workspace's own settings: its name, time zone, default country and currency.

They live in the ``workspace`` row (``name``) and its ``settings`` document:

- ``time_zone`` — the IANA zone of the workspace (default ``UTC``). It is the **one** place
  the zone is kept: the messaging policy's ``timezone`` (quiet hours for contacts without a
  zone of their own), journeys' ``wait_until`` and schedule triggers, and the console's dates
  all read it from here (``messaging.policy.get_policy`` fills it in).
- ``default_country`` — ISO 3166 alpha-2, for phone numbers written without ``+country``.
- ``currency`` — ISO 4217, the workspace's home currency: new campaigns get it when they
  name none, and reports value money in it when neither ``?currency=`` nor the campaign
  names one (docs/analytics.md, "Currencies").

Other keys of the document (``messaging_policy`` …) belong to their own modules; an update
here leaves them as they are.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection, select, update

from kairos.errors import InvalidInput, NotFound
from kairos.workspaces.tables import workspace

DEFAULT_TIME_ZONE = "UTC"
#: what ``PATCH /workspace`` may change
FIELDS = ("name", "time_zone", "default_country", "currency")
#: two-letter codes CLDR lists as territories that are not countries (or are placeholders)
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@cache
def _countries() -> frozenset[str]:
    from babel import Locale

    codes = {str(code) for code in Locale("en").territories}
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


def check_time_zone(name: Any) -> str:
    """An IANA time zone name known to this system's tz database, else 422 ``invalid_timezone``."""
    if isinstance(name, str) and name in _zones():
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidInput(
        f"time_zone: {name!r} is not an IANA time zone name such as Europe/Paris or Asia/Shanghai",
        code="invalid_timezone",
    )


def check_country(code: Any) -> str:
    """An ISO 3166-1 alpha-2 country code (upper-cased), else 422 ``invalid_country``."""
    value = code.strip().upper() if isinstance(code, str) else None
    if value is None or value not in _countries():
        raise InvalidInput(
            f"default_country: {code!r} is not an ISO 3166 alpha-2 country code such as FR or CN",
            code="invalid_country",
        )
    return value


def check_name(name: Any) -> str:
    value = name.strip() if isinstance(name, str) else ""
    if not value or len(value) > 200:
        raise InvalidInput("name: a workspace's name has 1 to 200 characters", code="invalid_name")
    return value


def time_zone_of(settings: dict[str, Any] | None) -> str:
    """The zone kept in a workspace's settings document (``UTC`` when none is set)."""
    value = (settings or {}).get("time_zone")
    return value if isinstance(value, str) and value else DEFAULT_TIME_ZONE


def _settings(conn: Connection, workspace_id: int, *, lock: bool = False) -> tuple[Any, dict[str, Any]]:
    stmt = select(workspace).where(workspace.c.id == workspace_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(f"no workspace {workspace_id}", code="workspace_not_found")
    return row, dict(row["settings"] or {})


def _present(row: Any, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "time_zone": time_zone_of(settings),
        "default_country": settings.get("default_country"),
        "currency": settings.get("currency"),
        "sandbox": bool(row["sandbox"]),
        "created_at": row["created_at"],
    }


def read_workspace(conn: Connection, workspace_id: int) -> dict[str, Any]:
    row, settings = _settings(conn, workspace_id)
    return _present(row, settings)


def workspace_time_zone(conn: Connection, workspace_id: int) -> str:
    settings = conn.execute(select(workspace.c.settings).where(workspace.c.id == workspace_id)).scalar()
    return time_zone_of(settings)


def workspace_currency(conn: Connection, workspace_id: int) -> str | None:
    """The workspace's home currency (ISO 4217), or ``None`` when it has none."""
    settings = conn.execute(select(workspace.c.settings).where(workspace.c.id == workspace_id)).scalar()
    value = (settings or {}).get("currency")
    return value if isinstance(value, str) and value else None


def update_workspace(conn: Connection, workspace_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply ``changes`` (any of ``FIELDS``; ``default_country`` and ``currency`` may be
    ``None`` to clear them) after checking every one; returns the workspace as read."""
    from kairos.analytics.currency import check_currency, normal

    _, settings = _settings(conn, workspace_id, lock=True)
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = check_name(changes["name"])
    if "time_zone" in changes:
        settings["time_zone"] = check_time_zone(changes["time_zone"])
    if "default_country" in changes:
        if changes["default_country"] in (None, ""):
            settings.pop("default_country", None)
        else:
            settings["default_country"] = check_country(changes["default_country"])
    if "currency" in changes:
        if changes["currency"] in (None, ""):
            settings.pop("currency", None)
        else:
            raw = changes["currency"]
            settings["currency"] = check_currency(normal(raw) if isinstance(raw, str) else raw)
    values["settings"] = settings
    conn.execute(update(workspace).where(workspace.c.id == workspace_id).values(**values))
    return read_workspace(conn, workspace_id)


def set_time_zone(conn: Connection, workspace_id: int, name: str) -> None:
    """Set the workspace's zone (the messaging policy's ``PUT`` with a ``timezone`` does)."""
    _, settings = _settings(conn, workspace_id, lock=True)
    settings["time_zone"] = check_time_zone(name)
    conn.execute(update(workspace).where(workspace.c.id == workspace_id).values(settings=settings))
