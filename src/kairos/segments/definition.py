"""Segment definitions: a typed tree, stored as JSON with a ``schema_version``.

Every node has a ``type`` (the discriminator). Logic nodes (``all``, ``any``, ``not``) nest
to any depth; leaves test an attribute, a tag, behaviour (``performed``, ``aggregate``,
``first_performed``/``last_performed``, ``sequence``), membership of another segment, or a
stable random bucket. Operators are keys of ``kairos.segments.operators.OPERATORS``.
``subscription`` is reserved for consent state, which arrives with messaging.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kairos.durations import Duration as Duration  # shared by every definition

SCHEMA_VERSION: Literal[1] = 1


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class All(_Node):
    """Every condition holds (an empty ``all`` holds for everyone)."""

    type: Literal["all"] = "all"
    conditions: list[Condition]


class AnyOf(_Node):
    """At least one condition holds (an empty ``any`` holds for no one)."""

    type: Literal["any"] = "any"
    conditions: list[Condition]


class Not(_Node):
    type: Literal["not"] = "not"
    condition: Condition


class AttributeCondition(_Node):
    """A built-in field (``email``, ``score``, ``created_at`` …) or a typed custom attribute
    (by its name, or ``traits.NAME``) compared with an operator."""

    type: Literal["attribute"] = "attribute"
    attribute: str = Field(min_length=1)
    operator: str
    value: Any = None


class TagCondition(_Node):
    type: Literal["tag"] = "tag"
    tag: str = Field(min_length=1)
    present: bool = True


class PropertyFilter(_Node):
    """A condition on one property of the event (``product_id`` equals ``A``, ``revenue`` > 50)."""

    property: str = Field(min_length=1)
    operator: str
    value: Any = None


class CountComparator(_Node):
    op: Literal[">=", ">", "=", "!=", "<", "<="] = ">="
    value: int = Field(1, ge=0)


class Window(_Node):
    """When events count: the last ``last`` before now, or between ``since`` and ``until``
    (either may be open); no bounds at all means ever."""

    last: Duration | None = None
    since: datetime | None = None
    until: datetime | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        if self.last is not None and (self.since is not None or self.until is not None):
            raise ValueError("a window is either 'last' or 'since'/'until', not both")
        return self


class EventMatch(_Node):
    """Events named ``event`` (``null``: any event) whose properties match every filter."""

    event: str | None = Field(min_length=1)
    where: list[PropertyFilter] = Field(default_factory=list)


class PerformedCondition(EventMatch):
    """The contact performed ``event`` (matching ``where``) a number of times in a window."""

    type: Literal["performed"] = "performed"
    count: CountComparator = Field(default_factory=CountComparator)
    window: Window = Field(default_factory=Window)


class NotPerformedCondition(EventMatch):
    """Convenience: the contact did not do ``event`` in the window (``performed`` = 0)."""

    type: Literal["not_performed"] = "not_performed"
    window: Window = Field(default_factory=Window)


class AggregateCondition(EventMatch):
    """sum / avg / min / max of a numeric property over the matching events in a window,
    compared with an operator (total revenue of orders in the last 30 days > 70). The sum
    over no events is 0; avg, min and max over none are missing, so they compare false."""

    type: Literal["aggregate"] = "aggregate"
    property: str = Field(min_length=1)
    function: Literal["sum", "avg", "min", "max"]
    operator: str
    value: Any = None
    window: Window = Field(default_factory=Window)


class FirstPerformedCondition(EventMatch):
    """When the contact first did ``event``, compared with a datetime operator (first order
    within the last 30 days = a new customer). Never having done it compares false."""

    type: Literal["first_performed"] = "first_performed"
    operator: str
    value: Any = None


class LastPerformedCondition(EventMatch):
    """When the contact last did ``event``, compared with a datetime operator."""

    type: Literal["last_performed"] = "last_performed"
    operator: str
    value: Any = None


class SequenceCondition(_Node):
    """A ``first`` event in the window followed (``expect: present``) or not followed
    (``expect: absent``) by any of ``then`` within ``within`` — "added to cart and no
    checkout within 24 hours". With ``within``, an absence holds only once that time has
    passed since the first event; without it, the follow-up is looked for until now."""

    type: Literal["sequence"] = "sequence"
    first: EventMatch
    then: list[EventMatch] = Field(min_length=1)
    expect: Literal["absent", "present"] = "absent"
    within: Duration | None = None
    window: Window = Field(default_factory=Window)


class SegmentMembershipCondition(_Node):
    """The contact is (``member: true``) or is not a stored member of another segment."""

    type: Literal["segment"] = "segment"
    segment_id: int = Field(ge=1)
    member: bool = True


class ScoreCondition(_Node):
    """A contact's score in a score model (by its key) compared with a number operator; a
    contact without a score has 0 (docs/leads.md, "Scoring")."""

    type: Literal["score"] = "score"
    model: str = Field(min_length=1, max_length=100)
    operator: str
    value: Any = None


class AccountFilter(_Node):
    """One test on the account: ``name``, ``domain``, ``external_id``, ``member_count``,
    ``created_at``, ``updated_at``, ``traits.NAME`` (typed by the value) or a roll-up of
    the members' scores ``score.MODEL.sum`` / ``.max`` / ``.engaged``."""

    attribute: str = Field(min_length=1, max_length=200)
    operator: str
    value: Any = None


class MemberCount(_Node):
    """How many members of the account match ``condition`` (all members without one)."""

    condition: Condition | None = None
    operator: Literal[">=", ">", "=", "!=", "<", "<="] = ">="
    value: int = Field(1, ge=0)


class AccountCondition(_Node):
    """The contact belongs to (``present: true``) or to none of (``false``) the B2B accounts
    matching every ``where`` test and, with ``members``, whose count of members matching a
    condition compares true ("contacts of accounts with at least 3 engaged people";
    docs/segments.md, "Account conditions")."""

    type: Literal["account"] = "account"
    where: list[AccountFilter] = Field(default_factory=list, max_length=20)
    members: MemberCount | None = None
    present: bool = True


class PredictedCondition(_Node):
    """A contact's latest probability (0 to 1) in a predictive model (by its key) compared with
    a number operator; a contact the model has not scored matches no comparison
    (docs/leads.md, "Predictive conversion score")."""

    type: Literal["predicted"] = "predicted"
    model: str = Field(min_length=1, max_length=100)
    operator: str
    value: Any = None


class SubscriptionCondition(_Node):
    """Consent: the contact may (``subscribed: true``) or may not receive marketing on a
    channel, or on a subscription topic (by its key) — as the send-time consent check
    decides it: not unsubscribed from the channel, and subscribed to an opt-in topic or not
    unsubscribed from an opt-out one."""

    type: Literal["subscription"] = "subscription"
    channel: str | None = Field(None, min_length=1)
    topic: str | None = Field(None, min_length=1, description="A subscription topic's key")
    subscribed: bool = True

    @model_validator(mode="after")
    def _something(self) -> SubscriptionCondition:
        if self.channel is None and self.topic is None:
            raise ValueError("a subscription condition names a channel, a topic or both")
        return self


class RandomBucketCondition(_Node):
    """A stable pseudo-random ``percent`` of contacts, for holdouts and splits; a different
    ``salt`` draws an independent sample."""

    type: Literal["random_bucket"] = "random_bucket"
    percent: float = Field(ge=0, le=100)
    salt: str = ""


Condition = Annotated[
    All
    | AnyOf
    | Not
    | AttributeCondition
    | TagCondition
    | PerformedCondition
    | NotPerformedCondition
    | AggregateCondition
    | FirstPerformedCondition
    | LastPerformedCondition
    | SequenceCondition
    | SegmentMembershipCondition
    | ScoreCondition
    | AccountCondition
    | PredictedCondition
    | SubscriptionCondition
    | RandomBucketCondition,
    Field(discriminator="type"),
]

#: The node types, in the order of the union (the compiler's error paths skip them).
NODE_TYPES = frozenset(
    {"all", "any", "not", "attribute", "tag", "performed", "not_performed", "aggregate", "first_performed",
     "last_performed", "sequence", "segment", "score", "account", "predicted", "subscription",
     "random_bucket"}
)  # fmt: skip


class SegmentDefinition(_Node):
    schema_version: Literal[1] = SCHEMA_VERSION
    root: Condition


for _model in (All, AnyOf, Not, MemberCount, AccountCondition, SegmentDefinition):
    _model.model_rebuild()
