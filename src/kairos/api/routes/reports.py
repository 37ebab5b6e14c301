"""/api/v1/reports — thin: parse, call ``kairos.analytics.reports``, shape the answer (JSON
or CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from kairos.analytics import acquisition, lifecycle, reports
from kairos.analytics import dashboard as dashboards
from kairos.api import report_schemas as answers
from kairos.api.deps import StateDep, WorkspaceDep
from kairos.api.scoring_schemas import ScoreReport
from kairos.clock import ensure_utc
from kairos.db.engine import reading
from kairos.errors import InvalidInput
from kairos.scoring import reports as score_reports

router = APIRouter(prefix="/reports", tags=["reports"])

Model = Annotated[str, Query(description="Attribution model: last, first or linear")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the report rows as CSV")]
Currency = Annotated[
    str | None,
    Query(description="ISO 4217 code to report money in (default: the campaign's currency, else the "
          "exchange-rate base); converted with /exchange-rates"),
]  # fmt: skip


def _or_csv(lines: str) -> dict[int | str, dict[str, Any]]:
    """``responses=``: the ``?format=csv`` alternative to the JSON ``response_model``.

    Every route answers with ``response_model_exclude_unset=True``: exactly the keys the
    analytics code returned (``report_schemas``: some are present only in some answers)."""
    return {
        200: {
            "description": f"The report as JSON; with `?format=csv`, {lines} (`text/csv`)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }


_ROWS = _or_csv("a header line, a `total` line, then one line per row")


class FunnelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[str] = Field(min_length=2, max_length=10, description="Event names, in order")
    start: datetime
    end: datetime
    within_days: int = Field(7, ge=1, le=365, description="All steps within this many days of the first")


def _cell(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas: quote them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _table(header: list[Any], rows: Iterable[list[Any]]) -> Response:
    """A CSV answer: the header, then the rows, every text cell quoted against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_cell(h) for h in header])
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def _apart(amounts: dict[str, float]) -> str:
    """``revenue_unconverted`` in a cell: ``BRL 1234.5; EUR 3.0``."""
    return "; ".join(f"{currency} {amount}" for currency, amount in amounts.items())


def _csv(report: dict[str, Any], by: str) -> Response:
    """A report's rows: the breakdown key, then the figures and the revenue without an
    exchange rate; the totals first."""
    key = by.removeprefix("by_")

    def line(name: Any, row: dict[str, Any]) -> list[Any]:
        return [name, *(row[f] for f in reports.FIGURES), _apart(row["revenue_unconverted"])]

    rows = [line("total", report["totals"]), *(line(row[key], row) for row in report[by])]
    return _table([key, *reports.FIGURES, "revenue_unconverted"], rows)


def _answer(
    state: StateDep, format: str, by: str, build: Callable[[Connection], dict[str, Any]]
) -> dict[str, Any] | Response:
    with reading(state.engine) as conn:
        report = build(conn)
    return _csv(report, by) if format == "csv" else report


@router.get(
    "/broadcasts/{broadcast_id}",
    response_model=answers.BroadcastReport,
    response_model_exclude_unset=True,
    responses=_ROWS,
)
def broadcast_report(
    broadcast_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    model: Model = "last",
    format: Format = "json",
    currency: Currency = None,
    by: Annotated[
        Literal["channel", "variant"], Query(description="CSV rows: by channel, or by experiment variant")
    ] = "channel",
) -> Any:
    """Reach, engagement, conversions, revenue, cost and ROI of a broadcast, by channel, and
    for an experiment by variant (with the holdout) and its state."""
    now = state.now(ws)

    def build(conn: Connection) -> dict[str, Any]:
        report = reports.broadcast_report(conn, ws.id, broadcast_id, now, model, currency)
        if by == "variant" and "by_variant" not in report:
            raise InvalidInput(f"broadcast {broadcast_id} has no experiment", code="no_experiment")
        return report

    return _answer(state, format, f"by_{by}", build)


@router.get(
    "/campaigns/{campaign_id}",
    response_model=answers.CampaignReport,
    response_model_exclude_unset=True,
    responses=_ROWS,
)
def campaign_report(
    campaign_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    model: Model = "last",
    format: Format = "json",
    currency: Currency = None,
) -> Any:
    """The campaign's broadcasts together, by channel, with the budget used."""
    now = state.now(ws)
    return _answer(
        state,
        format,
        "by_channel",
        lambda c: reports.campaign_report(c, ws.id, campaign_id, now, model, currency),
    )


@router.get(
    "/journeys/{journey_id}",
    response_model=answers.JourneyReport,
    response_model_exclude_unset=True,
    responses=_ROWS,
)
def journey_report(
    journey_id: int,
    state: StateDep,
    ws: WorkspaceDep,
    model: Model = "last",
    format: Format = "json",
    currency: Currency = None,
) -> Any:
    """The journey's messages by node, with its enrollments."""
    now = state.now(ws)
    return _answer(
        state, format, "by_node", lambda c: reports.journey_report(c, ws.id, journey_id, now, model, currency)
    )


@router.get(
    "/timeseries",
    response_model=answers.Timeseries,
    response_model_exclude_unset=True,
    responses=_or_csv("one line per day"),
)
def timeseries(
    state: StateDep,
    ws: WorkspaceDep,
    source: Annotated[str, Query(description="broadcast, campaign or journey")],
    id: int,
    start: datetime,
    end: datetime,
    metric: str | None = None,
    model: Model = "last",
    format: Annotated[Literal["json", "csv"], Query(description="csv: one row per day")] = "json",
    currency: Currency = None,
) -> Any:
    """Per UTC day: sent, opened, clicked, converted, revenue (or just ``metric``)."""
    with reading(state.engine) as conn:
        report = reports.timeseries(
            conn, ws.id, source=source, source_id=id, start=start, end=end, now=state.now(ws),
            metric=metric, model=model, currency=currency,
        )  # fmt: skip
    if format == "json":
        return report
    columns = [metric] if metric else list(reports.METRICS)
    return _table(["date", *columns], ([day["date"], *(day[c] for c in columns)] for day in report["days"]))


@router.post(
    "/funnel",
    response_model=answers.Funnel,
    response_model_exclude_unset=True,
    responses=_or_csv("one line per step"),
)
def funnel(
    body: FunnelRequest,
    state: StateDep,
    ws: WorkspaceDep,
    format: Annotated[Literal["json", "csv"], Query(description="csv: one row per step")] = "json",
) -> Any:
    """Contacts who did each step in order, within ``within_days`` of their first step."""
    with reading(state.engine) as conn:
        report = reports.funnel(conn, ws.id, body.steps, body.start, body.end, body.within_days)
    if format == "json":
        return report
    columns = ["event", "contacts", "from_previous", "from_first"]
    return _table(
        ["step", *columns], ([i, *(s[c] for c in columns)] for i, s in enumerate(report["steps"], 1))
    )


@router.get(
    "/lifecycle",
    response_model=answers.Lifecycle,
    response_model_exclude_unset=True,
    responses=_or_csv("one line per period, one column per stage"),
)
def lifecycle_movement(
    state: StateDep,
    ws: WorkspaceDep,
    start: datetime,
    end: datetime,
    interval: Annotated[str, Query(description="day, week (ISO, from Monday) or month, in UTC")] = "day",
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: one row per period, one column per stage")
    ] = "json",
) -> Any:
    """Contacts entering each lifecycle stage per period, the transitions between stages over
    the range, and the current distribution of stages."""
    with reading(state.engine) as conn:
        report = lifecycle.lifecycle_report(conn, ws.id, start, end, interval, state.now(ws))
    if format == "json":
        return report
    stages = report["stages"]
    return _table(
        ["period", *stages],
        ([p["period"], *(p["entered"].get(s, 0) for s in stages)] for p in report["periods"]),
    )


@router.get(
    "/acquisition",
    response_model=answers.AcquisitionReport,
    response_model_exclude_unset=True,
    responses=_or_csv("a header line, a `total` line, then one line per group"),
)
def acquisition_report(
    state: StateDep,
    ws: WorkspaceDep,
    start: datetime,
    end: datetime,
    by: Annotated[
        str,
        Query(description="Group by the touch's channel (group), source, medium, campaign, term or content"),
    ] = "channel",
    touch: Annotated[
        str, Query(description="first (the earliest visit) or last (the latest non-direct one)")
    ] = "first",
    stages: Annotated[
        list[str] | None,
        Query(
            description="Lifecycle stages to count, repeated or comma-separated (default: MQL, SQL, customer)"
        ),
    ] = None,
    event: Annotated[str | None, Query(description="The conversion event (default: Order Completed)")] = None,
    currency: Currency = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: one row per group")] = "json",
) -> Any:
    """Leads and revenue by acquisition source: per value of each contact's first or last
    touch (docs/leads.md, "Acquisition source"), over ``[start, end)`` (at most 400 days):

    - ``new_contacts``: contacts created in the range and still live;
    - ``stages``: per lifecycle stage asked for, the distinct contacts that entered it in the
      range (from the stage history);
    - ``conversions``: goal events in the range (``Order Completed`` unless ``event``), and
      their ``revenue`` (``revenue``, ``total`` or ``value``) in ``currency`` (default: the
      workspace's), at each day's exchange rate; revenue without a rate is apart, per
      currency, in ``revenue_unconverted``.

    ``key`` ``null``: contacts without a touch (never seen on a page or a form) or without
    that value (no ``utm_campaign`` …). 422 ``invalid_by``, ``invalid_touch``,
    ``invalid_stages``, ``invalid_range``."""
    now = state.now(ws)
    with reading(state.engine) as conn:
        report = acquisition.acquisition_report(
            conn, ws.id, start, end, now, by=by, touch=touch, stages=stages, event_name=event,
            currency=currency,
        )  # fmt: skip
    if format == "json":
        return report
    names = report["stages"]

    def line(key: Any, row: dict[str, Any]) -> list[Any]:
        return [
            key, row["new_contacts"], *(row["stages"][s] for s in names), row["conversions"], row["revenue"],
            _apart(row["revenue_unconverted"]),
        ]  # fmt: skip

    return _table(
        [report["by"], "new_contacts", *names, "conversions", "revenue", "revenue_unconverted"],
        [line("total", report["totals"]), *(line(r["key"] or "(not set)", r) for r in report["rows"])],
    )


@router.get(
    "/dashboard",
    response_model=answers.Dashboard,
    response_model_exclude_unset=True,
)
def dashboard(
    state: StateDep,
    ws: WorkspaceDep,
    start: Annotated[
        datetime | None,
        Query(description="First instant (default: 30 days before end); its whole UTC day counts"),
    ] = None,
    end: Annotated[
        datetime | None,
        Query(description="End, exclusive (default: the end of today, UTC); its whole UTC day counts"),
    ] = None,
    currency: Annotated[
        str | None,
        Query(description="ISO 4217 code to report revenue in (default: the exchange-rate base)"),
    ] = None,
) -> Any:
    """The workspace at a glance, per UTC day of the range (whole days: those ``[start, end)``
    touches; at most 400 days, else 422 ``invalid_range``).

    - ``start``, ``end``: the whole days covered (midnight UTC, ``end`` exclusive); ``as_of``:
      the workspace's now;
    - ``currency``, ``revenue_complete``, ``revenue_unconverted`` (``{currency: amount}``,
      revenue without an exchange rate on its day, in no ``revenue``), ``goal`` (``{event,
      window_days}``: the conversions counted, ``Order Completed`` within 7 days);
    - ``contacts``: ``{total}``, live contacts now (merged-away ones excluded);
    - ``days``: ``[{date, new_contacts, events, sent, delivered, opened, clicked,
      conversions, revenue}]``, every day, zeros included: contacts created that day and
      still live; events by their ``timestamp``; messages sent that day, and of those the
      ones delivered (status, as the reports count it); distinct messages opened and
      clicked that day by people (machine opens excluded); conversions attributed to any
      marketing message, and their revenue, by the conversion's day;
    - ``totals``: the same figures added up over the days;
    - ``live_journeys`` (status active) and ``running_broadcasts`` (scheduled, sending or
      testing): ``{count, items: [{id, name}]}``, the newest 20 listed.

    See ``docs/analytics.md``, "Dashboard"."""
    now = state.now(ws)
    with reading(state.engine) as conn:
        return dashboards.dashboard(conn, ws.id, now, start, end, currency)


@router.get(
    "/scores/{key}",
    response_model=ScoreReport,
    responses=_or_csv("one line per day of movement"),
)
def score_report(
    key: str,
    state: StateDep,
    ws: WorkspaceDep,
    since: Annotated[datetime | None, Query(description="Movement from (default: 30 days ago)")] = None,
    until: Annotated[
        datetime | None, Query(description="Movement until, exclusive (default: the end of today, UTC)")
    ] = None,
    buckets: Annotated[int, Query(ge=1, le=50, description="About this many distribution buckets")] = 10,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: one row per day (gained, lost, contacts)")
    ] = "json",
) -> Any:
    """A score model's distribution (live contacts with a score, in round-width buckets)
    and its movement per UTC day over the range: points gained and lost, contacts changed,
    and the points per rule (and decay, recompute). See ``docs/leads.md``, "Scoring"."""
    now = state.now(ws)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    end = ensure_utc(until) if until else today + timedelta(days=1)
    begin = ensure_utc(since) if since else end - timedelta(days=30)
    if begin >= end:
        raise InvalidInput("since: must be before until", code="invalid_range")
    with reading(state.engine) as conn:
        report = score_reports.score_report(conn, ws.id, key, begin, end, buckets)
    if format == "json":
        return report
    return _table(
        ["day", "gained", "lost", "contacts"],
        ([m["day"], m["gained"], m["lost"], m["contacts"]] for m in report["movement"]),
    )
