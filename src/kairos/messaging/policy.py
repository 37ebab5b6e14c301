"""Touch rules applied at send time: frequency caps and quiet hours, per workspace.

- **Frequency caps** count marketing messages *sent* to a contact in a rolling period, on
  one channel or across all of them ("at most 2 marketing messages per 7 days"). A message
  over a cap is skipped with reason ``frequency_cap`` — waiting would only pile messages up
  for the moment the window opens. Transactional messages are neither counted nor capped.
- **Quiet hours** hold marketing messages while it is night in the contact's own time zone
  (the workspace's time zone when the contact has none): a message due at 23:00 is deferred
  to the end of the window (09:00) with reason ``quiet_hours`` and then sent.

The caps and quiet hours live in the workspace's settings document under
``messaging_policy``. The time zone is the workspace's own (``workspaces/settings.py``,
``PATCH /api/v1/workspace``): ``get_policy`` fills ``timezone`` in from it and the policy
document never holds one, so the zone is kept in one place only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, select, update

from kairos.db.dialect import chunks
from kairos.errors import NotFound
from kairos.messaging.channels.base import ChannelKind
from kairos.messaging.tables import message
from kairos.workspaces.settings import set_time_zone, time_zone_of
from kairos.workspaces.tables import workspace

QUIET_CHANNELS: list[ChannelKind] = ["email", "sms", "push", "wechat"]


class FrequencyCap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelKind | None = Field(None, description="Only this channel; null counts all channels")
    limit: int = Field(ge=1, le=10_000, description="Most marketing messages in the period")
    days: float = Field(gt=0, le=366, description="Length of the rolling period in days (0.5 = 12 hours)")


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time = Field(description="Local time the quiet period starts, e.g. 21:00")
    end: time = Field(description="Local time it ends, e.g. 09:00 (may be on the next day)")
    channels: list[ChannelKind] = Field(default_factory=lambda: list(QUIET_CHANNELS))

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: time, info: Any) -> time:
        if info.data.get("start") == end:
            raise ValueError("start and end must differ")
        return end


class MessagingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frequency_caps: list[FrequencyCap] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    timezone: str = Field(
        "UTC",
        description="The workspace's time zone (`PATCH /workspace` `time_zone`), for contacts without one of "
        "their own. In a PUT it sets the workspace's zone; left out, the zone stays as it is",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        return known_zone(name)


def known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def get_policy(conn: Connection, workspace_id: int) -> MessagingPolicy:
    """The workspace's caps and quiet hours, with its time zone."""
    settings = conn.execute(select(workspace.c.settings).where(workspace.c.id == workspace_id)).scalar()
    if settings is None:
        raise NotFound(f"no workspace {workspace_id}", code="workspace_not_found")
    stored = {k: v for k, v in (settings.get("messaging_policy") or {}).items() if k != "timezone"}
    return MessagingPolicy.model_validate({**stored, "timezone": time_zone_of(settings)})


def set_policy(
    conn: Connection, workspace_id: int, policy: MessagingPolicy, *, set_timezone: bool = True
) -> MessagingPolicy:
    """Replace the caps and quiet hours; the policy's ``timezone`` becomes the workspace's
    time zone when ``set_timezone`` (a PUT that gave one), else the zone stays."""
    if set_timezone:
        set_time_zone(conn, workspace_id, policy.timezone)
    settings = conn.execute(select(workspace.c.settings).where(workspace.c.id == workspace_id)).scalar() or {}
    stored = policy.model_dump(mode="json", exclude={"timezone"})
    settings = {**settings, "messaging_policy": stored}
    conn.execute(update(workspace).where(workspace.c.id == workspace_id).values(settings=settings))
    return get_policy(conn, workspace_id)


_ZONES: dict[str, ZoneInfo] = {}


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            found = _ZONES.get(candidate)
            if found is None:
                try:
                    found = _ZONES[candidate] = ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
            return found
    raise AssertionError("UTC always exists")


def quiet_until(quiet: QuietHours, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the quiet period that ``now`` falls in ends (UTC), or None outside it."""
    local = now.astimezone(tz)
    t = local.timetz().replace(tzinfo=None)
    wraps = quiet.start > quiet.end  # e.g. 21:00 → 09:00
    inside = (t >= quiet.start or t < quiet.end) if wraps else (quiet.start <= t < quiet.end)
    if not inside:
        return None
    day = local.date()
    if not wraps or t >= quiet.start:
        day = day + timedelta(days=1) if wraps else day
    # a wall-clock time made aware in the zone; a gap (DST) moves it forward naturally
    release = datetime.combine(day, quiet.end, tzinfo=tz)
    return release.astimezone(now.tzinfo)


def over_cap(
    conn: Connection,
    caps: Sequence[FrequencyCap],
    items: Sequence[tuple[int, str]],
    now: datetime,
) -> dict[int, str]:
    """For marketing messages given as (contact_id, channel), in send order: which would
    break a cap, as {index: reason}. Messages allowed earlier in the same batch count."""
    if not caps or not items:
        return {}
    longest = max(cap.days for cap in caps)
    since = now - timedelta(days=longest)
    history: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for part in chunks({c for c, _ in items}):
        rows = conn.execute(
            select(message.c.contact_id, message.c.channel, message.c.sent_at).where(
                message.c.contact_id.in_(part),
                message.c.sent_at >= since,
                message.c.transactional.is_(False),
            )
        )
        for cid, channel, sent_at in rows:
            history[cid].append((channel, sent_at))
    blocked: dict[int, str] = {}
    for i, (cid, channel) in enumerate(items):
        sent = history[cid]
        for cap in caps:
            if cap.channel is not None and cap.channel != channel:
                continue
            start = now - timedelta(days=cap.days)
            count = sum(1 for ch, at in sent if at >= start and (cap.channel is None or ch == cap.channel))
            if count >= cap.limit:
                scope = cap.channel or "all channels"
                blocked[i] = f"frequency_cap: {cap.limit} per {cap.days:g} days on {scope}"
                break
        else:
            sent.append((channel, now))
    return blocked
