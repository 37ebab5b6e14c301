"""Journey definitions: one entry trigger and a graph of typed nodes, stored as JSON with a
``schema_version``.

Nodes live in a mapping ``id → node``; a node names where each of its branches leads in
fields (``next``, ``yes``/``no``, ``timeout_next``, the ``next`` of each split branch). A
branch of ``null`` ends the enrollment there (completed). UI positions are not part of the
definition: the console stores them beside it (``layout``).

Event matches (triggers, waits for an event, goals, exit rules) reuse the segment
definition's ``EventMatch``: an event name plus property filters from the operators
registry, so "order_completed with revenue > 50" means the same everywhere.

``validate_graph`` checks what the types cannot: the start and every branch name a node,
every node is reachable, and no cycle can run without passing a wait (a loop that never
waits would spin in one worker pass).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kairos.durations import Duration as Duration
from kairos.errors import InvalidInput, validation_message
from kairos.segments.definition import Condition, EventMatch

SCHEMA_VERSION: Literal[1] = 1
NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The longest wait, timeout, offset or re-entry delay (the old form's limits fit in it).
MAX_DURATION = timedelta(days=25 * 365)


def _journey_length(duration: Duration) -> Duration:
    if duration.amount <= 0:
        raise ValueError("a duration must be longer than zero")
    if duration.to_timedelta() > MAX_DURATION:
        raise ValueError("a duration is at most 25 years")
    return duration


#: Journey durations: the shared format (``kairos.durations``: ``{"amount", "unit"}``, the
#: old ``{"days", "hours", …}`` still read), longer than zero. Waits apply calendar months.
JourneyDuration = Annotated[Duration, AfterValidator(_journey_length)]


# --- triggers -------------------------------------------------------------------------


class EventTrigger(EventMatch):
    """Enter when the contact performs this event (with these property filters)."""

    type: Literal["event"] = "event"
    event: str = Field(min_length=1)  # type: ignore[assignment]  # a trigger names its event


class SegmentTrigger(_Model):
    """Enter when the contact enters (or exits) the segment."""

    type: Literal["segment_entered", "segment_exited"]
    segment_id: int = Field(ge=1)


class TagTrigger(_Model):
    """Enter when the tag is added to (or removed from) the contact — by anyone: the API,
    an import, a tag rule, a journey."""

    type: Literal["tag_added", "tag_removed"] = "tag_added"
    tag: str = Field(min_length=1, max_length=100)


class AttributeTrigger(_Model):
    """Enter when a contact field or custom attribute changes value (to ``to``, if given).
    A value first set counts as a change from nothing."""

    type: Literal["attribute_changed"] = "attribute_changed"
    attribute: str = Field(min_length=1, max_length=100)
    to: str | float | bool | None = Field(None, description="Only changes to this value")


class DateTrigger(_Model):
    """Enter on a date from a contact attribute, at a local time in the contact's time zone:
    every year on its anniversary (birthday, membership day), or once, ``offset_days`` before
    (negative) or after the date itself (a trial's end). Each (contact, local day) enters
    once; with ``anniversary`` use re-entry ``always`` or ``after`` so next year counts."""

    type: Literal["date"] = "date"
    attribute: str = Field(min_length=1, max_length=100)
    anniversary: bool = True
    offset_days: int = Field(0, ge=-366, le=366)
    at: time = Field(default_factory=lambda: time(9, 0), description="Local time of day to enter")


class ScheduleTrigger(_Model):
    """Every time the cron expression fires, the segment's members enter — evaluated in
    each contact's time zone (``contact``) or the workspace's."""

    type: Literal["schedule"] = "schedule"
    cron: str = Field(min_length=9, max_length=100, description="Five fields: minute hour day month weekday")
    segment_id: int = Field(ge=1)
    timezone: Literal["contact", "workspace"] = "contact"

    @field_validator("cron")
    @classmethod
    def _cron(cls, expression: str) -> str:
        from croniter import croniter

        if len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise ValueError(f"{expression!r} is not a five-field cron expression")
        return expression


class ScoreTrigger(_Model):
    """Enter when the contact's score in a score model (by key) crosses ``threshold``:
    ``up`` from below it to at least it, ``down`` from at least it to below it — on any
    change (an event, a condition, decay, a recompute), read from the score ledger."""

    type: Literal["score_crossed"] = "score_crossed"
    model: str = Field(min_length=1, max_length=100)
    threshold: float
    direction: Literal["up", "down"] = "up"


class PredictedTrigger(_Model):
    """Enter when the contact's probability in a predictive model (by key) crosses
    ``threshold``: ``up`` from below it to at least it, ``down`` from at least it to below
    it — when the worker re-scores the model (daily, and after each training). A contact
    scored for the first time counts as coming from below, except in the model's first
    scoring run (which would otherwise enter everyone above the threshold at once)."""

    type: Literal["predicted_crossed"] = "predicted_crossed"
    model: str = Field(min_length=1, max_length=100, description="The predictive model's key")
    threshold: float = Field(gt=0, lt=1, description="A probability, between 0 and 1")
    direction: Literal["up", "down"] = "up"


class ApiTrigger(_Model):
    """Enter through ``POST /api/v1/journeys/{id}/enrollments`` only."""

    type: Literal["api"] = "api"


Trigger = Annotated[
    EventTrigger
    | SegmentTrigger
    | TagTrigger
    | AttributeTrigger
    | DateTrigger
    | ScheduleTrigger
    | ScoreTrigger
    | PredictedTrigger
    | ApiTrigger,
    Field(discriminator="type"),
]


class EntryRules(_Model):
    """Who may enter. At most one active enrollment per contact and journey, always."""

    reentry: Literal["never", "always", "after"] = "never"
    reentry_after: JourneyDuration | None = Field(
        None, description="With reentry 'after': the wait since the last entry"
    )
    exclude_segment_id: int | None = Field(None, ge=1, description="Members of this segment never enter")
    cap: int | None = Field(None, ge=1, description="At most this many enrollments in all")

    @model_validator(mode="after")
    def _after(self) -> EntryRules:
        if (self.reentry == "after") != (self.reentry_after is not None):
            raise ValueError("reentry_after goes with reentry 'after', and only with it")
        return self


# --- nodes ----------------------------------------------------------------------------


class WaitNode(_Model):
    """Wait a fixed duration."""

    type: Literal["wait"] = "wait"
    duration: JourneyDuration
    next: str | None = None


class WaitUntilNode(_Model):
    """Wait until a local time of day (in the contact's time zone, else the workspace's),
    optionally on given weekdays (0 = Monday)."""

    type: Literal["wait_until"] = "wait_until"
    time: time
    weekdays: list[int] | None = Field(None, description="0 = Monday … 6 = Sunday; null: any day")
    next: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _days(cls, days: list[int] | None) -> list[int] | None:
        if days is not None and (not days or any(d < 0 or d > 6 for d in days)):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday), at least one")
        return days


class WaitUntilDateNode(_Model):
    """Wait until the instant in a contact attribute, shifted by ``offset`` (``before``: that
    long before it). A contact without a valid instant (or one already past) goes on at
    once, by ``next`` with outcome ``no_date``/``passed``."""

    type: Literal["wait_until_date"] = "wait_until_date"
    attribute: str = Field(min_length=1, max_length=100)
    offset: JourneyDuration | None = None
    before: bool = False
    next: str | None = None


class WaitForEventNode(EventMatch):
    """Wait until the contact performs the event, at most ``timeout``: ``next`` if it came,
    ``timeout_next`` if not."""

    type: Literal["wait_for_event"] = "wait_for_event"
    event: str = Field(min_length=1)  # type: ignore[assignment]
    timeout: JourneyDuration
    next: str | None = None
    timeout_next: str | None = None


class ConditionNode(_Model):
    """Branch on a segment condition evaluated for the contact at that moment."""

    type: Literal["condition"] = "condition"
    condition: Condition
    yes: str | None = None
    no: str | None = None


class Case(_Model):
    name: str = Field(min_length=1, max_length=64)
    condition: Condition
    next: str | None = None


class BranchNode(_Model):
    """Several ways: the first case whose condition holds for the contact now, else
    ``otherwise``."""

    type: Literal["branch"] = "branch"
    cases: list[Case] = Field(min_length=1, max_length=20)
    otherwise: str | None = None

    @field_validator("cases")
    @classmethod
    def _names(cls, cases: list[Case]) -> list[Case]:
        if len({c.name for c in cases}) != len(cases) or any(c.name == "otherwise" for c in cases):
            raise ValueError("case names must differ (and 'otherwise' is taken)")
        return cases


class SplitBranch(_Model):
    name: str = Field(min_length=1, max_length=64)
    weight: float | None = Field(None, gt=0, description="A relative share (or give percent)")
    percent: float | None = Field(None, gt=0, le=100, description="A share; the branches' add up to 100")
    next: str | None = Field(
        None, description="null: a holdout — the enrollment ends here, receiving nothing"
    )

    @model_validator(mode="after")
    def _one_share(self) -> SplitBranch:
        if (self.weight is None) == (self.percent is None):
            raise ValueError("give a branch a weight or a percent (one of them)")
        return self

    @property
    def share(self) -> float:
        return float(self.weight if self.weight is not None else self.percent or 0)


class SplitExperiment(_Model):
    """An automatic winner for a split: the branches that lead somewhere are compared on
    ``metric`` until ``window_hours`` after the first enrollment reached the split (or, with
    ``min_per_branch``, once every tested branch has had that many); from then on every
    enrollment not bucketed into a holdout takes the winner (``journeys/splits.py``)."""

    metric: Literal["open", "click", "conversion", "revenue"]
    window_hours: float = Field(
        gt=0, le=24 * 90, description="The test's length, and how long after the split an outcome counts"
    )
    min_per_branch: int | None = Field(
        None, ge=1, description="Decide early once every tested branch has this many enrollments"
    )
    goal_event: str | None = Field(
        None, min_length=1, max_length=200, description="Default: the journey goal's, or 'Order Completed'"
    )


class SplitNode(_Model):
    """A weighted random split; stable per enrollment. A branch leading nowhere is a holdout.
    With an ``experiment``, the best of the other branches wins and takes their share."""

    type: Literal["split"] = "split"
    branches: list[SplitBranch] = Field(min_length=2, max_length=20)
    experiment: SplitExperiment | None = None

    @field_validator("branches")
    @classmethod
    def _names(cls, branches: list[SplitBranch]) -> list[SplitBranch]:
        if len({b.name for b in branches}) != len(branches):
            raise ValueError("branch names must differ")
        given = [b.percent for b in branches if b.percent is not None]
        if given and len(given) != len(branches):
            raise ValueError("give every branch a percent, or every branch a weight")
        if given and abs(sum(given) - 100) > 1e-6:
            raise ValueError(f"the branches' percents add up to {sum(given):g}, not 100")
        return branches

    @model_validator(mode="after")
    def _candidates(self) -> SplitNode:
        if self.experiment is not None and sum(b.next is not None for b in self.branches) < 2:
            raise ValueError("an experiment compares at least 2 branches that lead somewhere (not holdouts)")
        return self


class SendNode(_Model):
    """Queue a message through the outbox (policy applies at send time)."""

    type: Literal["send"] = "send"
    channel: Literal["email", "sms", "push", "wechat", "webhook", "inapp"]
    template_id: int = Field(ge=1)
    topic_id: int | None = Field(None, ge=1)
    transactional: bool = False
    next: str | None = None


class UpdateContactNode(_Model):
    type: Literal["update_contact"] = "update_contact"
    set_traits: dict[str, Any] = Field(default_factory=dict)
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    lifecycle_stage: str | None = Field(None, max_length=40)
    next: str | None = None

    @field_validator("lifecycle_stage")
    @classmethod
    def _stage(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("lifecycle_stage must not be blank (leave it out to keep the stage)")
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _something(self) -> UpdateContactNode:
        if not (self.set_traits or self.add_tags or self.remove_tags or self.lifecycle_stage):
            raise ValueError("an update_contact node changes at least one thing")
        return self


class WebhookNode(_Model):
    """POST a signed JSON payload (Liquid in its strings) through the outbox's webhook channel."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(min_length=1, max_length=2048)
    payload: dict[str, Any] = Field(default_factory=dict)
    next: str | None = None


class NotifySalesNode(_Model):
    """Hand the lead to sales: the owner (one address, or taken in turn from ``owners``) is
    stored in the contact's ``sales_owner`` trait and gets an email from ``template_id``
    (about the lead: ``{{ contact.… }}``), and/or a CRM gets a signed webhook."""

    type: Literal["notify_sales"] = "notify_sales"
    owners: list[str] = Field(min_length=1, max_length=100, description="Sales owners' email addresses")
    template_id: int | None = Field(None, ge=1, description="An email template sent to the owner")
    webhook_url: str | None = Field(None, max_length=2048, description="POST the lead to a CRM too")
    next: str | None = None

    @field_validator("owners")
    @classmethod
    def _emails(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if "@" not in owner or any(c in owner for c in " \r\n<>,"):
                raise ValueError(f"{owner!r} is not an email address")
        return owners

    @model_validator(mode="after")
    def _how(self) -> NotifySalesNode:
        if self.template_id is None and self.webhook_url is None:
            raise ValueError("notify_sales needs a template_id (email the owner) or a webhook_url")
        return self


class AssignOfferNode(_Model):
    """Pick the best offer the contact is eligible for (among ``offer_keys``, or all) and give
    it — a unique coupon code from its pool — exactly once; later messages show it as
    ``{{ offer.code }}``. No offer, or none left: ``none_next``."""

    type: Literal["assign_offer"] = "assign_offer"
    offer_keys: list[str] | None = Field(None, min_length=1, max_length=50)
    next: str | None = None
    none_next: str | None = None


class TaskOutcome(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s].*$", description="e.g. interested")
    next: str | None = None


class TaskNode(_Model):
    """Hand work to a person — call, WeChat message, visit, custom — and wait for its outcome:
    the task (title and script rendered with Liquid for the contact) goes to the contact's
    sales owner, a queue or a user; the enrollment takes the ``next`` of the outcome it is
    completed with, or ``timeout_next`` when nobody completes it within ``timeout``."""

    type: Literal["task"] = "task"
    kind: Literal["call", "wechat", "visit", "custom"]
    title: str = Field(min_length=1, max_length=200, description="Liquid: {{ contact.first_name }} …")
    script: str | None = Field(None, max_length=10_000, description="What to say or do (Liquid)")
    assignee: str = Field(
        "owner",
        pattern=r"^(owner|queue:[A-Za-z0-9_.-]{1,64}|user:[1-9][0-9]{0,17})$",
        description="owner (the contact's sales owner), queue:<name> or user:<id>",
    )
    due: JourneyDuration | None = Field(
        None, description="Due this long after it is created (then escalated)"
    )
    timeout: JourneyDuration = Field(description="Stop waiting after this long: timeout_next")
    outcomes: list[TaskOutcome] = Field(min_length=1, max_length=20)
    timeout_next: str | None = None

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, outcomes: list[TaskOutcome]) -> list[TaskOutcome]:
        names = [o.name for o in outcomes]
        if len(set(names)) != len(names) or "timeout" in names:
            raise ValueError("outcome names must differ (and 'timeout' is taken)")
        return outcomes

    @field_validator("title", "script")
    @classmethod
    def _liquid(cls, value: str | None) -> str | None:
        if value is not None:
            from kairos.messaging.templates import compile_template

            try:
                compile_template("sms", {"text": value})
            except InvalidInput as exc:
                raise ValueError(str(exc).removeprefix("text: ")) from None
        return value

    @model_validator(mode="after")
    def _due(self) -> TaskNode:
        if self.due is not None and self.due.to_timedelta() > self.timeout.to_timedelta():
            raise ValueError("due comes before the timeout (or with it)")
        return self


class ExitNode(_Model):
    type: Literal["exit"] = "exit"


Node = Annotated[
    WaitNode
    | WaitUntilNode
    | WaitUntilDateNode
    | WaitForEventNode
    | ConditionNode
    | BranchNode
    | SplitNode
    | SendNode
    | UpdateContactNode
    | WebhookNode
    | NotifySalesNode
    | AssignOfferNode
    | TaskNode
    | ExitNode,
    Field(discriminator="type"),
]

#: Nodes after which the enrollment waits (a cycle must pass one of them).
WAITING = (WaitNode, WaitUntilNode, WaitUntilDateNode, WaitForEventNode, TaskNode)


class JourneyDefinition(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    trigger: Trigger
    entry: EntryRules = Field(default_factory=EntryRules)
    goal: EventMatch | None = Field(None, description="Performing it ends the enrollment as converted")
    exit_on: list[EventMatch] = Field(default_factory=list, description="Performing one ends the enrollment")
    start: str
    nodes: dict[str, Node] = Field(min_length=1)

    @field_validator("nodes")
    @classmethod
    def _ids(cls, nodes: dict[str, Any]) -> dict[str, Any]:
        for node_id in nodes:
            if not NODE_ID.fullmatch(node_id):
                raise ValueError(f"node id {node_id!r}: letters, digits, _ and - only, at most 64")
        return nodes


def branches(node: Any) -> list[tuple[str, str | None]]:
    """(field path, target) of every branch of a node."""
    if isinstance(node, ConditionNode):
        return [("yes", node.yes), ("no", node.no)]
    if isinstance(node, WaitForEventNode):
        return [("next", node.next), ("timeout_next", node.timeout_next)]
    if isinstance(node, SplitNode):
        return [(f"branches[{i}].next", b.next) for i, b in enumerate(node.branches)]
    if isinstance(node, BranchNode):
        return [
            *((f"cases[{i}].next", c.next) for i, c in enumerate(node.cases)),
            ("otherwise", node.otherwise),
        ]
    if isinstance(node, ExitNode):
        return []
    if isinstance(node, TaskNode):
        return [*((f"outcomes[{i}].next", o.next) for i, o in enumerate(node.outcomes)),
                ("timeout_next", node.timeout_next)]  # fmt: skip
    if isinstance(node, AssignOfferNode):
        return [("next", node.next), ("none_next", node.none_next)]
    return [("next", node.next)]


def validate_graph(definition: JourneyDefinition) -> None:
    nodes = definition.nodes
    if definition.start not in nodes:
        raise InvalidInput(f"start: no node {definition.start!r}", code="invalid_journey")
    for node_id, node in nodes.items():
        for path, target in branches(node):
            if target is not None and target not in nodes:
                raise InvalidInput(f"nodes.{node_id}.{path}: no node {target!r}", code="invalid_journey")
    seen: set[str] = set()
    stack = [definition.start]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack.extend(t for _, t in branches(nodes[node_id]) if t is not None)
    for node_id in nodes:
        if node_id not in seen:
            raise InvalidInput(f"nodes.{node_id}: not reachable from the start", code="invalid_journey")
    _no_cycle_without_wait(nodes)


def _no_cycle_without_wait(nodes: dict[str, Any]) -> None:
    """Depth-first search over the edges that leave non-waiting nodes only."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node_id: str, trail: list[str]) -> None:
        state[node_id] = 1
        node = nodes[node_id]
        if not isinstance(node, WAITING):
            for _, target in branches(node):
                if target is None:
                    continue
                if state.get(target) == 1:
                    path = [*trail, node_id]
                    cycle = " → ".join([*path[path.index(target) :], target])
                    raise InvalidInput(
                        f"nodes.{node_id}: the cycle {cycle} never waits", code="invalid_journey"
                    )
                if target not in state:
                    visit(target, [*trail, node_id])
        state[node_id] = 2

    for node_id in nodes:
        if node_id not in state:
            visit(node_id, [])


def parse_journey(data: Any) -> JourneyDefinition:
    """A stored or submitted definition, validated; 422 naming the bad field."""
    try:
        definition = JourneyDefinition.model_validate(data)
    except ValidationError as exc:
        # the loc names the node kind after a node id ("nodes.n1.wait.duration"): kept, it helps
        first = dict(exc.errors()[0])
        first["loc"] = first["loc"] or ("definition",)
        raise InvalidInput(validation_message(first), code="invalid_journey") from None
    validate_graph(definition)
    return definition


for _model in (ConditionNode, Case, BranchNode, JourneyDefinition):
    _model.model_rebuild()


@cache
def definition_schema() -> dict[str, Any]:
    """The JSON Schema of a definition as it is submitted (``mode="validation"``), for
    editors that draw their forms from it (``GET /api/v1/journeys/schema``)."""
    return JourneyDefinition.model_json_schema(mode="validation")
