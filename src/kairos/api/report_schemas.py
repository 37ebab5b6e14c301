"""Response models of the reports API (``/api/v1/reports/…``): exactly what
``kairos.analytics`` (``reports.py``, ``dashboard.py``, ``lifecycle.py``,
``attribution.funnel``) and ``journeys/splits.experiments`` return, so ``/openapi.json``
types every answer (``docs/analytics.md`` defines the figures).

Two kinds of models:

- ``_Exact``: shapes the analytics code builds. ``extra="forbid"``: a key the code adds
  without declaring it here fails the answer (500) in every test that reads the report,
  instead of being dropped silently by the response filtering.
- ``_Stored``: JSON read back from the database as an earlier version wrote it (a
  broadcast experiment's ``results``, a decided split's ``branches``). ``extra="allow"``:
  keys of another version pass through as stored; the keys older versions lacked are
  optional.

A few keys are present only in some answers (a broadcast's ``by_variant`` and
``experiment`` with an experiment; a time series' day has only the metric asked; a split
experiment has ``leader`` before its decision, ``decided_by`` and ``decided_on`` after).
They default to ``None`` and the routes answer with ``response_model_exclude_unset=True``:
such a key is in the answer exactly when the analytics code put it there, never added as
``null``; ``_may_be_absent`` says so in the schema of those that are never ``null``.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kairos.analytics.reports import METRICS

#: ``{currency: amount}``: revenue in a currency without an exchange rate on its day
Unconverted = dict[str, float]
UNCONVERTED = (
    "Revenue whose currency has no exchange rate on its day, per ISO 4217 currency "
    '(`{"BRL": 300.0}`); not in `revenue` nor `roi`; `{}` when all was converted'
)
Model = Literal["last", "first", "linear"]
#: ``[low, high]`` (a list, not a tuple: openapi-fetch reads a tuple's type back as an array)
Interval95 = Annotated[list[float], Field(min_length=2, max_length=2)]


class _Exact(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _may_be_absent(*names: str) -> Any:
    """``json_schema_extra`` for keys that are absent or set, never ``null``: the schema of
    each is its type alone (not ``T | null``, no ``null`` default), and it is not required."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            prop.pop("default", None)
            prop.update(next(s for s in prop.pop("anyOf") if s != {"type": "null"}))

    return edit


class _Stored(BaseModel):
    model_config = ConfigDict(extra="allow")


class ReportGoal(_Exact):
    event: str = Field(description="The conversion event counted")
    window_days: int = Field(description="Conversions count up to this many days after a message")


class ReportFigures(_Exact):
    """The figures of a report row and of its totals, in the CSV's column order, then the
    revenue without an exchange rate (`docs/analytics.md`, "Figures")."""

    targeted: int = Field(
        description="Totals: the audience snapshot(s) and enrollments; a row: the messages created in it"
    )
    sent: int = Field(description="Messages with a sent_at")
    delivered: int = Field(description="Messages with status delivered (providers that report delivery)")
    opened: int = Field(description="Distinct messages opened by a person (machine opens excluded)")
    clicked: int = Field(description="Distinct messages clicked by a person")
    unsubscribed: int = Field(description="Distinct messages with an unsubscribe")
    bounced: int = Field(description="Messages with status bounced")
    failed: int = Field(description="Messages with status failed")
    skipped: int = Field(description="Messages with status skipped (consent, suppression, caps …)")
    converted: float = Field(description="Attributed conversions (a linear share counts as a fraction)")
    revenue: float = Field(description="Their revenue, weighted the same way, in the report's currency")
    cost: float = Field(description="sent x the campaign's cost per message of the channel")
    roi: float | None = Field(description="(revenue - cost) / cost; null when the cost is 0")
    open_rate: float | None = Field(
        description="opened / delivered (or / sent) over the channels where opens are seen; null: none"
    )
    click_rate: float | None = Field(
        description="clicked / delivered (or / sent) over the channels where clicks are seen; null: none"
    )
    conversion_rate: float | None = Field(description="converted / sent; null when nothing was sent")
    revenue_unconverted: Unconverted = Field(description=UNCONVERTED)


class ChannelRow(ReportFigures):
    channel: str = Field(description="The messages' channel")


class NodeRow(ReportFigures):
    node: str = Field(description="The journey node that sent the messages")


class VariantRow(ReportFigures):
    variant: str = Field(
        description="The experiment variant, or `holdout` (last: its own goal events after the "
        "snapshot, not attributed conversions, not in the totals)"
    )


class _Report(_Exact):
    model: Model = Field(description="The attribution model")
    goal: ReportGoal
    currency: str | None = Field(description="The report's currency (ISO 4217); null: none known")
    revenue_complete: bool = Field(
        description="false: some revenue had no exchange rate (in `revenue_unconverted`, not in `revenue`)"
    )
    totals: ReportFigures


class BroadcastHeader(_Exact):
    id: int
    name: str
    channel: str
    status: str
    campaign_id: int | None


class CampaignHeader(_Exact):
    id: int
    name: str
    status: str


class JourneyHeader(_Exact):
    id: int
    name: str
    status: str


class JudgedVariant(_Stored):
    """A variant's figures when the experiment was judged (`campaigns/experiments.py`)."""

    model_config = ConfigDict(json_schema_extra=_may_be_absent("revenue", "sum_squares", "sd"))

    sent: int = Field(description="Recipients whose message was sent")
    successes: int = Field(description="Of those, the successes on the metric within the window")
    rate: float = Field(description="successes / sent; for revenue, the revenue per recipient sent")
    revenue: float | None = Field(None, description="Revenue experiments: the goal events' revenue")
    sum_squares: float | None = Field(None, description="Revenue experiments: its sum of squares")
    sd: float | None = Field(None, description="Revenue experiments: the standard deviation per recipient")


class LiftGroup(_Stored):
    model_config = ConfigDict(json_schema_extra=_may_be_absent("revenue"))

    converted: int = Field(description="Contacts who performed the goal event within the window")
    size: int = Field(description="Contacts in the group")
    revenue: float | None = Field(None, description="Their goal events' revenue (absent in early results)")


class RevenueLift(_Stored):
    per_contact: float = Field(description="Revenue per treated contact minus per holdout contact")
    ci95: Interval95 = Field(description="Its 95 % interval: [low, high]")


class HoldoutLift(_Stored):
    """The sent recipients (`treated`) against the holdout, when the test was judged."""

    model_config = ConfigDict(json_schema_extra=_may_be_absent("revenue_lift"))

    treated: LiftGroup
    holdout: LiftGroup
    lift: float = Field(description="Conversion rate of the treated minus the holdout's")
    ci95: Interval95 = Field(description="Its 95 % interval: [low, high]")
    revenue_lift: RevenueLift | None = Field(None, description="Absent in early results")


class BroadcastExperiment(_Exact):
    metric: str | None = Field(description="open, click, conversion or revenue")
    goal_event: str | None
    window_hours: float | None
    holdout_percent: float | None
    test_percent: float | None
    state: Literal["pending", "testing", "measured", "decided"] = Field(
        description="measured: judged without a winner (variants of different audiences)"
    )
    test_ends_at: datetime | None = Field(description="When the test phase is judged")
    waiting: int = Field(description="Recipients without a variant yet (they get the winner)")
    winner: str | None
    confidence: float | None = Field(description="That the winner beats the runner-up")
    judged_at: str | None = Field(description="When the test was judged (ISO 8601)")
    variants: dict[str, JudgedVariant] | None = Field(description="Per variant, once judged")
    lift: HoldoutLift | None = Field(description="Against the holdout, once judged")


class BroadcastReport(_Report):
    """A broadcast's report. With an experiment also `by_variant` and `experiment`."""

    model_config = ConfigDict(json_schema_extra=_may_be_absent("by_variant", "experiment"))

    broadcast: BroadcastHeader
    by_channel: list[ChannelRow]
    by_variant: list[VariantRow] | None = Field(
        None,
        description="Experiments only: per variant, the holdout last",
    )
    experiment: BroadcastExperiment | None = Field(
        None,
        description="Experiments only: its settings, state, winner and lift over the holdout",
    )


class Budget(_Exact):
    budget: float | None = Field(description="The campaign's budget in the report's currency")
    currency: str | None
    used: float = Field(description="The total cost")
    remaining: float | None


class CampaignReport(_Report):
    """A campaign's report: its broadcasts and journeys together, by channel."""

    campaign: CampaignHeader
    by_channel: list[ChannelRow]
    budget: Budget


class Enrollments(_Exact):
    entered: int
    converted: int
    active: int
    completed: int
    exited: int


class SplitBranch(_Stored):
    """A split branch's figures (`journeys/splits.branch_results`)."""

    model_config = ConfigDict(json_schema_extra=_may_be_absent("sd"))

    entered: int = Field(description="Enrollments that took the branch")
    holdout: bool = Field(description="The branch leads nowhere: a holdout")
    converted: int = Field(description="Of those, the ones whose contact performed the goal event")
    revenue: float = Field(description="The goal events' revenue")
    sum_squares: float = Field(description="Its sum of squares per enrollment")
    successes: int = Field(description="Successes on the experiment's metric")
    rate: float = Field(description="successes / entered; for revenue, revenue per enrollment")
    sd: float | None = Field(None, description="Revenue experiments: the standard deviation")


class SplitLiftHoldout(_Exact):
    entered: int
    converted: int
    revenue: float


class SplitLift(_Exact):
    branch: str = Field(description="The winner, or the leader")
    on: Literal["conversion_rate", "revenue_per_enrollment"]
    lift: float = Field(description="The branch minus the holdout branches together")
    ci95: Interval95 = Field(description="Its 95 % interval: [low, high]")
    holdout: SplitLiftHoldout


class SplitExperiment(_Exact):
    """A journey split node's experiment (`journeys/splits.experiments`)."""

    node: str
    version: int | None = Field(description="The journey version's number")
    metric: Literal["open", "click", "conversion", "revenue"]
    goal_event: str
    window_hours: float
    min_per_branch: int | None
    started_at: datetime | None = Field(description="The first enrollment reached the split; null: not yet")
    ends_at: datetime | None = Field(description="started_at + window_hours")
    decided: bool
    decided_at: datetime | None
    winner: str | None
    confidence: float | None
    decided_by: str | None = Field(None, description="Decided only: window or sample_size")
    decided_on: dict[str, SplitBranch] | None = Field(
        None, description="Decided only: the per-branch figures the decision was made on"
    )
    leader: str | None = Field(None, description="Undecided only: the best branch so far")
    leader_confidence: float | None = Field(None, description="Undecided only: that it beats the runner-up")
    branches: dict[str, SplitBranch] = Field(description="Live per-branch figures, holdouts included")
    lift: SplitLift | None = Field(
        description="The winner (or leader) against the holdouts; null without one"
    )


class JourneyReport(_Report):
    """A journey's report: its messages by node, its enrollments and split experiments."""

    journey: JourneyHeader
    by_node: list[NodeRow]
    enrollments: Enrollments
    experiments: list[SplitExperiment]


class TimeseriesDay(_Exact):
    """A UTC day; only the `metric` asked for when there is one."""

    model_config = ConfigDict(json_schema_extra=_may_be_absent(*METRICS))

    date: Date
    sent: int | None = Field(None, description="Messages sent that day")
    opened: int | None = Field(None, description="Distinct messages opened that day by people")
    clicked: int | None = Field(None, description="Distinct messages clicked that day by people")
    converted: float | None = Field(None, description="Conversions attributed that day")
    revenue: float | None = Field(None, description="Their revenue, in the report's currency")


class Timeseries(_Exact):
    source: Literal["broadcast", "campaign", "journey"]
    id: int
    start: datetime
    end: datetime
    currency: str | None
    revenue_unconverted: Unconverted = Field(description=UNCONVERTED)
    days: list[TimeseriesDay] = Field(description="Every UTC day of [start, end), zeros included")


class FunnelStep(_Exact):
    event: str
    contacts: int = Field(description="Contacts who reached this step")
    from_previous: float | None = Field(description="contacts / the previous step's; null for the first")
    from_first: float | None = Field(description="contacts / the first step's; null when it has none")


class Funnel(_Exact):
    start: datetime
    end: datetime
    within_days: int
    steps: list[FunnelStep]


class LifecyclePeriod(_Exact):
    period: Date = Field(description="Its first day (UTC)")
    entered: dict[str, int] = Field(description="Contacts that entered each stage in it")


class LifecycleTransition(_Exact):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from", description="null: no stage (a first stage)")
    to: str | None = Field(description="null: no stage (cleared)")
    count: int


class LifecycleStage(_Exact):
    stage: str | None = Field(description="null: contacts without a stage")
    contacts: int


class Lifecycle(_Exact):
    start: datetime
    end: datetime
    interval: Literal["day", "week", "month"]
    as_of: datetime
    stages: list[str] = Field(description="The stages entered in the range, sorted (the CSV's columns)")
    periods: list[LifecyclePeriod]
    transitions: list[LifecycleTransition] = Field(description="Over the whole range, most frequent first")
    current: list[LifecycleStage] = Field(description="The live contacts per stage now")


class DashboardFigures(_Exact):
    new_contacts: int = Field(description="Contacts created and still live")
    events: int = Field(description="Events stored with a timestamp on the day(s)")
    sent: int
    delivered: int
    opened: int = Field(description="Distinct messages opened by people (per day, added up)")
    clicked: int
    conversions: int = Field(description="Order Completed events attributed to any marketing message")
    revenue: float = Field(description="Their revenue, in the dashboard's currency")


class DashboardDay(DashboardFigures):
    date: Date


class ContactTotal(_Exact):
    total: int = Field(description="Live contacts now (merged-away ones excluded)")


class ListedItem(_Exact):
    id: int
    name: str


class Listed(_Exact):
    count: int = Field(description="All of them")
    items: list[ListedItem] = Field(description="The newest 20")


class Dashboard(_Exact):
    start: datetime = Field(description="The first whole UTC day's midnight")
    end: datetime = Field(description="The midnight after the last day (exclusive)")
    as_of: datetime = Field(description="The workspace's now")
    currency: str | None
    revenue_complete: bool
    revenue_unconverted: Unconverted = Field(description=UNCONVERTED)
    goal: ReportGoal
    contacts: ContactTotal
    days: list[DashboardDay]
    totals: DashboardFigures
    live_journeys: Listed = Field(description="Journeys with status active")
    running_broadcasts: Listed = Field(description="Broadcasts scheduled, sending or testing")


class AcquisitionGoal(_Exact):
    event: str = Field(description="The conversion event counted (`Order Completed` unless `event` says)")


class AcquisitionFigures(_Exact):
    new_contacts: int = Field(description="Contacts created in the range and still live")
    stages: dict[str, int] = Field(
        description="Per lifecycle stage asked for: the distinct contacts that entered it in the range"
    )
    conversions: int = Field(description="Goal events performed in the range")
    revenue: float = Field(description="Their revenue, in the report's currency")
    revenue_unconverted: Unconverted = Field(description=UNCONVERTED)


class AcquisitionRow(AcquisitionFigures):
    key: str | None = Field(
        description="The touch's value (a channel group, a source …); null: contacts without a touch "
        "or without that value"
    )


class AcquisitionReport(_Exact):
    start: datetime
    end: datetime
    as_of: datetime = Field(description="The workspace's now")
    by: Literal["channel", "source", "medium", "campaign", "term", "content"]
    touch: Literal["first", "last"]
    stages: list[str] = Field(description="The lifecycle stages counted (the CSV's stage columns)")
    currency: str | None
    revenue_complete: bool = Field(description="false: some revenue had no rate (in revenue_unconverted)")
    goal: AcquisitionGoal
    rows: list[AcquisitionRow] = Field(description="Most new contacts first")
    totals: AcquisitionFigures
