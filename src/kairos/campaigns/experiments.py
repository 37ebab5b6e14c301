"""A/B/n experiments on broadcasts: variants, a holdout, a test phase and an automatic winner.

A broadcast with an ``experiment`` splits its audience snapshot by a stable hash of
(broadcast, contact) into

- the **holdout** (``holdout_percent``): receives nothing, so the lift of messaging at all
  can be measured;
- the **test group** (``test_percent`` of the rest): split between the variants by weight
  and sent at once;
- the **remainder**: waits ``window`` and then receives the winning variant.

After the window the variants are compared on the chosen ``metric`` (unique human opens,
clicks, or conversions — the campaign's goal event, default ``Order Completed`` — per message
sent), the best one wins, and a two-proportion z-test of the best against the runner-up
gives the confidence reported with it. With ``test_percent`` 100 there is no remainder: the
experiment only measures. The lift over the holdout is the conversion rate of everyone who
was sent a message minus the holdout's, with a normal-approximation confidence interval.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, and_, func, select

from kairos.errors import InvalidInput
from kairos.events.tables import event
from kairos.messaging.tables import message, message_event

METRICS = ("open", "click", "conversion")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    template_id: int = Field(ge=1)
    weight: float = Field(gt=0)


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: list[Variant] = Field(min_length=2, max_length=10)
    holdout_percent: float = Field(0, ge=0, lt=100)
    test_percent: float = Field(100, gt=0, le=100, description="Of the non-holdout audience, sent at once")
    metric: str = "open"
    window_hours: float = Field(4, gt=0, le=24 * 30)
    goal_event: str = Field("Order Completed", min_length=1)

    @field_validator("variants")
    @classmethod
    def _names(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        if len(set(names)) != len(names) or "holdout" in names:
            raise ValueError("variant names must differ (and 'holdout' is taken)")
        return variants

    @field_validator("metric")
    @classmethod
    def _metric(cls, metric: str) -> str:
        if metric not in METRICS:
            raise ValueError(f"metric is one of {', '.join(METRICS)}")
        return metric


def parse_experiment(data: Any) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"experiment.{where}: {first['msg']}", code="invalid_experiment") from None


def bucket(broadcast_id: int, contact_id: int) -> float:
    """A stable point in [0, 100) per (broadcast, contact)."""
    return zlib.crc32(f"{broadcast_id}:{contact_id}".encode()) % 1_000_000 / 10_000


def assign_variant(exp: Experiment, broadcast_id: int, contact_id: int) -> str | None:
    """``holdout``, a variant's name (test group), or None (the remainder, which waits)."""
    point = bucket(broadcast_id, contact_id)
    if point < exp.holdout_percent:
        return "holdout"
    rest = (point - exp.holdout_percent) / (100 - exp.holdout_percent) * 100  # again in [0, 100)
    if rest >= exp.test_percent:
        return None
    spot = rest / exp.test_percent * sum(v.weight for v in exp.variants)
    for v in exp.variants:
        spot -= v.weight
        if spot < 0:
            return v.name
    return exp.variants[-1].name


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """(z, one-sided p-value that rate 1 is not above rate 2)."""
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0 if x1 / n1 <= x2 / n2 else 0.0
    z = (x1 / n1 - x2 / n2) / se
    return z, 0.5 * math.erfc(z / math.sqrt(2))


def difference_interval(x1: int, n1: int, x2: int, n2: int, z: float = 1.96) -> tuple[float, float, float]:
    """Rate 1 - rate 2, and its (Wald) 95 % confidence interval."""
    if n1 == 0 or n2 == 0:
        return 0.0, 0.0, 0.0
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p1 - p2
    return d, d - z * se, d + z * se


def variant_results(
    conn: Connection, broadcast_id: int, exp: Experiment, recipients: Any, since: datetime, until: datetime
) -> dict[str, dict[str, Any]]:
    """Per variant: messages sent and successes on the metric (set-based)."""
    m, me = message.c, message_event.c
    sent: dict[str, int] = dict(
        conn.execute(
            select(recipients.c.variant, func.count())
            .join(message, message.c.id == recipients.c.message_id)
            .where(recipients.c.broadcast_id == broadcast_id, m.sent_at.is_not(None))
            .group_by(recipients.c.variant)
        ).all()
    )
    if exp.metric in ("open", "click"):
        kind = "opened" if exp.metric == "open" else "clicked"
        hits_q = (
            select(recipients.c.variant, func.count(func.distinct(me.message_id)))
            .join(message_event, message_event.c.message_id == recipients.c.message_id)
            .where(recipients.c.broadcast_id == broadcast_id, me.kind == kind, me.machine.is_(False))
            .group_by(recipients.c.variant)
        )
    else:
        hits_q = (
            select(recipients.c.variant, func.count(func.distinct(recipients.c.contact_id)))
            .join(message, message.c.id == recipients.c.message_id)
            .join(event, and_(event.c.contact_id == recipients.c.contact_id, event.c.name == exp.goal_event,
                              event.c.timestamp >= m.sent_at, event.c.timestamp <= until))
            .where(recipients.c.broadcast_id == broadcast_id)
            .group_by(recipients.c.variant)
        )  # fmt: skip
    hits: dict[str, int] = dict(conn.execute(hits_q).all())
    return {
        v.name: {"sent": int(sent.get(v.name, 0)), "successes": int(hits.get(v.name, 0)),
                 "rate": (hits.get(v.name, 0) / sent[v.name]) if sent.get(v.name) else 0.0}
        for v in exp.variants
    }  # fmt: skip


def pick_winner(results: dict[str, dict[str, Any]]) -> tuple[str, float]:
    """The best variant by rate (ties: the first), and the confidence that it beats the
    runner-up (1 - one-sided p of a two-proportion z-test)."""
    ranked = sorted(results.items(), key=lambda kv: -kv[1]["rate"])
    best, second = ranked[0], ranked[1]
    _, p = two_proportion_test(
        best[1]["successes"], best[1]["sent"], second[1]["successes"], second[1]["sent"]
    )
    return best[0], 1 - p


def holdout_lift(
    conn: Connection, broadcast_id: int, exp: Experiment, recipients: Any, since: datetime, until: datetime
) -> dict[str, Any]:
    """Conversion rate of those sent a message against the holdout's, over [since, until]."""

    def converted(holdout: bool) -> tuple[int, int]:
        group = recipients.c.variant == "holdout" if holdout else recipients.c.message_id.is_not(None)
        total = conn.execute(
            select(func.count()).where(recipients.c.broadcast_id == broadcast_id, group)
        ).scalar_one()
        hits = conn.execute(
            select(func.count(func.distinct(recipients.c.contact_id)))
            .join(event, and_(event.c.contact_id == recipients.c.contact_id, event.c.name == exp.goal_event,
                              event.c.timestamp >= since, event.c.timestamp <= until))
            .where(recipients.c.broadcast_id == broadcast_id, group)
        ).scalar_one()  # fmt: skip
        return int(hits), int(total)

    xt, nt = converted(False)
    xh, nh = converted(True)
    d, low, high = difference_interval(xt, nt, xh, nh)
    return {"treated": {"converted": xt, "size": nt}, "holdout": {"converted": xh, "size": nh},
            "lift": d, "ci95": [low, high]}  # fmt: skip


def window(exp: Experiment) -> timedelta:
    return timedelta(hours=exp.window_hours)
