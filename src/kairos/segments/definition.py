"""Segment definitions: a typed tree, stored as JSON with a ``schema_version``.

Every node has a ``type`` (the discriminator). Logic nodes (``all``, ``any``, ``not``) nest
to any depth; leaves test an attribute, a tag, behaviour (``performed``) or a stable random
bucket. Operators are keys of ``kairos.segments.operators.OPERATORS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Literal[1] = 1


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Node):
    amount: int = Field(ge=0)
    unit: Literal["minutes", "hours", "days"] = "days"

    def to_timedelta(self) -> timedelta:
        return timedelta(**{self.unit: self.amount})


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


class PerformedCondition(_Node):
    """The contact performed ``event`` (matching ``where``) a number of times in a window."""

    type: Literal["performed"] = "performed"
    event: str = Field(min_length=1)
    where: list[PropertyFilter] = Field(default_factory=list)
    count: CountComparator = Field(default_factory=CountComparator)
    window: Window = Field(default_factory=Window)


class RandomBucketCondition(_Node):
    """A stable pseudo-random ``percent`` of contacts, for holdouts and splits; a different
    ``salt`` draws an independent sample."""

    type: Literal["random_bucket"] = "random_bucket"
    percent: float = Field(ge=0, le=100)
    salt: str = ""


Condition = Annotated[
    All | AnyOf | Not | AttributeCondition | TagCondition | PerformedCondition | RandomBucketCondition,
    Field(discriminator="type"),
]


class SegmentDefinition(_Node):
    schema_version: Literal[1] = SCHEMA_VERSION
    root: Condition


for _model in (All, AnyOf, Not, SegmentDefinition):
    _model.model_rebuild()
