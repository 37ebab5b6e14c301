"""A/B/n experiments on broadcasts: variants, a holdout, a test phase and an automatic winner.

A broadcast with an ``experiment`` splits its audience snapshot by a stable hash of
(broadcast, contact) into

- the **holdout** (``holdout_percent``): receives nothing, so the lift of messaging at all
  can be measured;
- the **test group** (``test_percent`` of the rest): split between the variants by weight
  and sent at once;
- the **remainder**: waits for the decision and then receives the winning variant.

The test is decided once every test message is settled and ``window`` has passed since the
last one was sent (a local-time broadcast sends over a day); each recipient whose message
was sent counts over ``window`` from its own send — skipped and failed ones not at all. The
variants are compared on the chosen ``metric`` (unique human opens,
clicks, or conversions — the experiment's goal event, default ``Order Completed`` — per
message sent; or ``revenue``: the goal events' revenue per recipient sent, zeros included),
the best one wins, and a one-sided test of the best against the runner-up gives the
confidence reported with it: a two-proportion z-test for the rates, Welch's t-test for
revenue. With ``test_percent`` 100 there is no remainder: the experiment only measures. The
lift over the holdout is the conversion rate (and the revenue per contact) of those who were
sent a message minus the holdout's (from when theirs would have gone out), with a
normal-approximation confidence interval.

A variant is content: a template, and optionally its own ``channel`` (the template is of that
channel) and an ``offer_id`` (given to each recipient as the message is queued, shown as
``{{ offer.code }}``). Or variants are audiences: each names a ``segment_id``; the snapshot
is the union of the segments, each recipient gets the variant of the first segment listed it
is in (the holdout is still taken first by the hash), and since the audiences differ there
is no winner: the experiment measures each variant (``test_percent`` is 100).

The statistics are pure functions (``two_proportion_test``, ``welch_test``,
``difference_interval``, ``mean_difference_interval``, ``pick_winner``): journey split
experiments (``journeys/splits.py``) use them too. The SQL reads n, the successes, and the
sum and sum of squares of revenue per recipient in one grouped query (``goal_moments``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import (
    Connection,
    Float,
    String,
    and_,
    case,
    func,
    literal,
    null,
    select,
)

from kairos.analytics.attribution import revenue_of
from kairos.db.dialect import shifted
from kairos.errors import InvalidInput, validation_message
from kairos.events.tables import event
from kairos.messaging.channels.base import CHANNEL_KINDS
from kairos.messaging.tables import message, message_event

METRICS = ("open", "click", "conversion", "revenue")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    template_id: int = Field(ge=1)
    weight: float | None = Field(None, gt=0, description="A relative share (or give percent)")
    percent: float | None = Field(
        None, gt=0, le=100, description="A share of the audience; with the holdout they add up to 100"
    )
    channel: str | None = Field(None, description="The variant's channel; default the broadcast's")
    offer_id: int | None = Field(None, ge=1, description="An offer given to each recipient, as {{ offer }}")
    segment_id: int | None = Field(
        None, ge=1, description="The variant's own audience (then every variant has one, and no share)"
    )

    @field_validator("channel")
    @classmethod
    def _channel(cls, channel: str | None) -> str | None:
        if channel is not None and channel not in CHANNEL_KINDS:
            raise ValueError(f"channel is one of {', '.join(CHANNEL_KINDS)}")
        return channel

    @model_validator(mode="after")
    def _one_share(self) -> Variant:
        if self.segment_id is not None:
            if self.weight is not None or self.percent is not None:
                raise ValueError(
                    "a variant with a segment_id is sent to its segment: give no weight or percent"
                )
        elif (self.weight is None) == (self.percent is None):
            raise ValueError("give a variant a weight or a percent (one of them)")
        return self

    @property
    def share(self) -> float:
        return float(self.weight if self.weight is not None else self.percent or 0)


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

    @model_validator(mode="after")
    def _percents(self) -> Experiment:
        """Percentages split the whole audience: with the holdout's they make 100."""
        given = [v.percent for v in self.variants if v.percent is not None]
        if given and len(given) != len(self.variants):
            raise ValueError("give every variant a percent, or every variant a weight")
        total = sum(given) + self.holdout_percent
        if given and abs(total - 100) > 1e-6:
            raise ValueError(f"the variants' percents and holdout_percent add up to {total:g}, not 100")
        return self

    @model_validator(mode="after")
    def _audiences(self) -> Experiment:
        """Different audiences: every variant names its segment, and there is no winner to
        send to a remainder (the audiences differ), so the whole audience is the test."""
        segments = [v.segment_id for v in self.variants if v.segment_id is not None]
        if not segments:
            return self
        if len(segments) != len(self.variants):
            raise ValueError("give every variant a segment_id, or none")
        if len(set(segments)) != len(segments):
            raise ValueError("the variants' segment_ids must differ")
        if self.test_percent != 100:
            raise ValueError(
                "variants with their own segments are not compared for a winner: test_percent is 100"
            )
        return self

    @property
    def by_audience(self) -> bool:
        """The variants are different audiences (each its segment), not shares of one."""
        return self.variants[0].segment_id is not None


def parse_experiment(data: Any) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        message = validation_message(exc.errors()[0], "experiment")
        raise InvalidInput(message, code="invalid_experiment") from None


#: the points of the bucket hash: [0, SCALE)
SCALE = 1_000_000
_P = 2_147_483_647  # 2^31 - 1, a prime: every product below stays under 2^62
_A, _B, _C, _D = 48_271, 40_503, 12_345, 1_103_515_245


def bucket(broadcast_id: int, contact_id: int) -> int:
    """A stable point in [0, SCALE) per (broadcast, contact). Computed the same way in SQL
    (``bucket_sql``), so a snapshot assigns variants in one INSERT … SELECT: an affine step
    modulo 2^31 - 1, then a square so that each broadcast shuffles its audience afresh (an
    affine hash alone would give the next broadcast's holdout a shifted window of the same
    order), then a multiplication to spread it."""
    x = ((contact_id % _P) * _A + (broadcast_id % _P) * _B) % _P
    x = (x * x + _C) % _P
    return x * _D % _P % SCALE


def bucket_sql(broadcast_id: int, contact_id: Any) -> Any:
    """``bucket`` as a SQL expression over a contact id column (SQLite and PostgreSQL)."""
    x = ((contact_id % _P) * _A + (broadcast_id % _P) * _B) % _P
    x = (x * x + _C) % _P
    return x * _D % _P % SCALE


def plan(exp: Experiment) -> list[tuple[int, str]]:
    """(upper bound, assignment) over the points, in order: the holdout, then each variant's
    part of the test group; points beyond the last bound are the remainder (they wait)."""
    held = round(exp.holdout_percent * SCALE / 100)
    bounds = [(held, "holdout")] if held else []
    if exp.by_audience:  # the variant is the contact's segment's, set with the snapshot
        return bounds
    tested = held + round((SCALE - held) * exp.test_percent / 100)
    total, running = sum(v.share for v in exp.variants), 0.0
    for v in exp.variants[:-1]:
        running += v.share
        bounds.append((held + round((tested - held) * running / total), v.name))
    bounds.append((tested, exp.variants[-1].name))
    return bounds


def assign_variant(exp: Experiment, broadcast_id: int, contact_id: int) -> str | None:
    """``holdout``, a variant's name (test group), or None (the remainder, which waits)."""
    point = bucket(broadcast_id, contact_id)
    return next((name for upper, name in plan(exp) if point < upper), None)


def variant_sql(exp: Experiment, broadcast_id: int, contact_id: Any) -> Any:
    """``assign_variant`` as a SQL expression over a contact id column."""
    point = bucket_sql(broadcast_id, contact_id)
    bounds = plan(exp)
    if not bounds:
        return null()
    return case(*((point < upper, literal(name, String(64))) for upper, name in bounds), else_=null())


def in_holdout(exp: Experiment, broadcast_id: int, contact_id: int) -> bool:
    return assign_variant(exp, broadcast_id, contact_id) == "holdout"


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


def sample_variance(n: int, total: float, squares: float) -> float:
    """The unbiased variance of a sample given by its size, sum and sum of squares."""
    if n < 2:
        return 0.0
    return max((squares - total * total / n) / (n - 1), 0.0)  # rounding can dip below 0


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (Lentz's method)."""
    tiny, h = 1e-300, 1.0
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):  # fmt: skip
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-14:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1 - front * _continued_fraction(b, a, 1 - x) / b


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom (fractional allowed: Welch)."""
    if df <= 0:
        return 0.5
    if df > 1e6:  # the normal distribution, to far below any useful precision
        return 0.5 * math.erfc(t / math.sqrt(2))
    tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1 - tail


def welch_test(
    n1: int, sum1: float, squares1: float, n2: int, sum2: float, squares2: float
) -> tuple[float, float, float]:
    """Welch's t-test of mean 1 against mean 2, each sample given by its size, sum and sum of
    squares: (t, Welch-Satterthwaite degrees of freedom, one-sided p-value that mean 1 is not
    above mean 2)."""
    if n1 < 2 or n2 < 2:
        return 0.0, 0.0, 1.0
    a = sample_variance(n1, sum1, squares1) / n1
    b = sample_variance(n2, sum2, squares2) / n2
    diff = sum1 / n1 - sum2 / n2
    if a + b <= 0:  # no spread at all: the difference is what it is
        return 0.0, 0.0, 1.0 if diff <= 0 else 0.0
    t = diff / math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return t, df, student_t_sf(t, df)


def mean_difference_interval(
    n1: int, sum1: float, squares1: float, n2: int, sum2: float, squares2: float, z: float = 1.96
) -> tuple[float, float, float]:
    """Mean 1 - mean 2, and its (normal-approximation, unequal variances) 95 % interval."""
    if n1 == 0 or n2 == 0:
        return 0.0, 0.0, 0.0
    d = sum1 / n1 - sum2 / n2
    se = math.sqrt(sample_variance(n1, sum1, squares1) / n1 + sample_variance(n2, sum2, squares2) / n2)
    return d, d - z * se, d + z * se


def pick_winner(
    results: dict[str, dict[str, Any]], metric: str = "open", size: str = "sent"
) -> tuple[str, float]:
    """The best candidate by ``rate`` (ties: the first), and the confidence that it beats the
    runner-up: 1 - the one-sided p-value of a two-proportion z-test (``successes`` of
    ``size``), or for ``revenue`` of Welch's t-test (``revenue`` and ``sum_squares`` per
    ``size``: the sample's sum and sum of squares)."""
    ranked = sorted(results.items(), key=lambda kv: -kv[1]["rate"])
    (name, best), (_, second) = ranked[0], ranked[1]
    if metric == "revenue":
        _, _, p = welch_test(best[size], best["revenue"], best["sum_squares"],
                             second[size], second["revenue"], second["sum_squares"])  # fmt: skip
    else:
        _, p = two_proportion_test(best["successes"], best[size], second["successes"], second[size])
    return name, 1 - p


def goal_moments(
    conn: Connection, units: Any, goal_event: str, *, until: datetime | None = None,
    window: timedelta | None = None,
) -> dict[Any, dict[str, Any]]:  # fmt: skip
    """Per group of ``units`` (a subquery with ``grp``, ``uid`` — unique in its group —
    ``contact_id`` and ``start``): ``n``, ``converted`` (units whose contact performed
    ``goal_event`` at or after ``start``, and not after ``until`` nor ``window`` after
    ``start``), and the sum and sum of squares of each unit's revenue from those events
    (``attribution.REVENUE_KEYS``; units without one count 0). Two GROUP BYs in one query."""
    ev = event.alias("goal")
    cond = [ev.c.contact_id == units.c.contact_id, ev.c.name == goal_event, ev.c.timestamp >= units.c.start]
    if until is not None:
        cond.append(ev.c.timestamp <= until)
    if window is not None:
        cond.append(ev.c.timestamp <= shifted(units.c.start, window, conn.dialect.name))
    zero = literal(0.0, Float)
    per_unit = (
        select(units.c.grp, units.c.uid, func.count(ev.c.id).label("hits"),
               func.coalesce(func.sum(revenue_of(ev, conn.dialect.name)), zero).label("revenue"))
        .select_from(units.outerjoin(ev, and_(*cond)))
        .group_by(units.c.grp, units.c.uid)
        .subquery("per_unit")
    )  # fmt: skip
    rows = conn.execute(
        select(per_unit.c.grp, func.count().label("n"),
               func.sum(case((per_unit.c.hits > 0, 1), else_=0)).label("converted"),
               func.sum(per_unit.c.revenue).label("revenue"),
               func.sum(per_unit.c.revenue * per_unit.c.revenue).label("squares"))
        .group_by(per_unit.c.grp)
    ).all()  # fmt: skip
    return {
        r.grp: {"n": int(r.n), "converted": int(r.converted or 0), "revenue": float(r.revenue or 0),
                "sum_squares": float(r.squares or 0)}
        for r in rows
    }  # fmt: skip


def measured(
    metric: str, n: int, successes: int, revenue: float = 0.0, squares: float = 0.0
) -> dict[str, Any]:
    """What a candidate's figures on ``metric`` look like in results: ``rate`` is successes
    per unit, or for ``revenue`` the revenue per unit (with its sum of squares and sd)."""
    if metric != "revenue":
        return {"successes": successes, "rate": successes / n if n else 0.0}
    sd = math.sqrt(sample_variance(n, revenue, squares))
    return {"successes": successes, "revenue": revenue, "sum_squares": squares,
            "rate": revenue / n if n else 0.0, "sd": sd}  # fmt: skip


def sent_units(broadcast_id: int, recipients: Any) -> Any:
    """The recipients whose message was **sent** (it reached the provider: ``sent_at`` is
    set), as ``goal_moments`` units grouped by variant, each starting at its own send:
    ``grp``, ``uid``, ``contact_id``, ``message_id``, ``start``. Messages skipped (consent,
    caps, no address, no offer), failed, or still queued are not there: their recipients
    were not treated."""
    m = message.c
    return (
        select(recipients.c.variant.label("grp"), recipients.c.contact_id.label("uid"),
               recipients.c.contact_id, m.id.label("message_id"), m.sent_at.label("start"))
        .join(message, m.id == recipients.c.message_id)
        .where(recipients.c.broadcast_id == broadcast_id, m.sent_at.is_not(None))
        .subquery("units")
    )  # fmt: skip


def variant_results(
    conn: Connection, broadcast_id: int, exp: Experiment, recipients: Any, until: datetime
) -> dict[str, dict[str, Any]]:
    """Per variant: messages sent and successes on the metric (set-based); for ``revenue``
    the revenue of goal events per recipient sent (its sum and sum of squares). Each
    recipient counts from its own send, for ``window`` (and not after ``until``): an open,
    click or goal event later than that is not the test's."""
    me, per = message_event.c, window(exp)
    units = sent_units(broadcast_id, recipients)
    if exp.metric in ("open", "click"):
        sent: dict[str, int] = dict(
            conn.execute(select(units.c.grp, func.count()).group_by(units.c.grp)).all()  # type: ignore[arg-type]
        )
        kind = "opened" if exp.metric == "open" else "clicked"
        hits: dict[str, int] = dict(
            conn.execute(
                select(units.c.grp, func.count(func.distinct(me.message_id)))
                .select_from(units.join(message_event, me.message_id == units.c.message_id))
                .where(me.kind == kind, me.machine.is_(False), me.created_at <= until,
                       me.created_at <= shifted(units.c.start, per, conn.dialect.name))
                .group_by(units.c.grp)
            ).all()  # type: ignore[arg-type]
        )  # fmt: skip
        moments = {k: {"n": n, "converted": hits.get(k, 0), "revenue": 0.0, "sum_squares": 0.0}
                   for k, n in sent.items()}  # fmt: skip
    else:
        moments = goal_moments(conn, units, exp.goal_event, until=until, window=per)
    out = {}
    for v in exp.variants:
        got = moments.get(v.name) or {"n": 0, "converted": 0, "revenue": 0.0, "sum_squares": 0.0}
        n = int(got["n"])
        out[v.name] = {"sent": n, **measured(exp.metric, n, int(got["converted"]), got["revenue"],
                                              got["sum_squares"])}  # fmt: skip
    return out


def holdout_lift(
    conn: Connection, exp: Experiment, treated: Any, holdout: Any, until: datetime
) -> dict[str, Any]:
    """Conversion rate and revenue per contact of those sent a message (``treated``: units
    as ``sent_units`` gives them, each from its send) against the holdout's (``holdout``:
    units starting when each one's message would have gone out), from goal events within
    ``window`` of each unit's start and not after ``until``."""
    empty = {"n": 0, "converted": 0, "revenue": 0.0, "sum_squares": 0.0}

    def total(units: Any) -> dict[str, Any]:
        groups = goal_moments(conn, units, exp.goal_event, until=until, window=window(exp)).values()
        return {k: sum(g[k] for g in groups) for k in empty} if groups else empty

    t, h = total(treated), total(holdout)
    d, low, high = difference_interval(t["converted"], t["n"], h["converted"], h["n"])
    rd, rlow, rhigh = mean_difference_interval(t["n"], t["revenue"], t["sum_squares"],
                                               h["n"], h["revenue"], h["sum_squares"])  # fmt: skip
    return {"treated": {"converted": t["converted"], "size": t["n"], "revenue": t["revenue"]},
            "holdout": {"converted": h["converted"], "size": h["n"], "revenue": h["revenue"]},
            "lift": d, "ci95": [low, high],
            "revenue_lift": {"per_contact": rd, "ci95": [rlow, rhigh]}}  # fmt: skip


def window(exp: Experiment) -> timedelta:
    return timedelta(hours=exp.window_hours)
