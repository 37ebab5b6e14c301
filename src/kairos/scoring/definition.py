"""Score model settings and rules as typed data (pydantic), stored as JSON.

A rule is either an **event** rule (an event name with property filters, worth points per
matching event, optionally capped per period) or a **condition** rule (any segment
condition — an attribute, a tag, membership of a segment, behaviour — worth points while it
holds: awarded when the contact starts matching, taken back when it stops).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kairos.errors import InvalidInput, plain_message
from kairos.segments.definition import Condition, EventMatch


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoDecay(_Model):
    type: Literal["none"] = "none"


class HalfLifeDecay(_Model):
    """The score halves every ``days`` (applied by the worker in whole days)."""

    type: Literal["half_life"] = "half_life"
    days: float = Field(gt=0, le=3650)


class PointsDecay(_Model):
    """``points`` taken off (towards 0) for every ``every_days`` without an event award."""

    type: Literal["points"] = "points"
    points: float = Field(gt=0, le=1_000_000)
    every_days: int = Field(ge=1, le=3650)


Decay = Annotated[NoDecay | HalfLifeDecay | PointsDecay, Field(discriminator="type")]


class Cap(_Model):
    """At most ``points`` (in magnitude) from this rule per contact per calendar period
    (UTC days, ISO weeks from Monday, months) of the event's timestamp, or ``ever``."""

    points: float = Field(gt=0, le=1_000_000)
    per: Literal["day", "week", "month", "ever"]


class EventRule(EventMatch):
    """Points for every event named ``event`` whose properties match ``where``."""

    kind: Literal["event"] = "event"
    event: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]  # a rule names its event
    cap: Cap | None = None


class ConditionRule(_Model):
    kind: Literal["condition"] = "condition"
    condition: Condition

    @model_validator(mode="after")
    def _no_scores(self) -> ConditionRule:
        from kairos.segments.deps import dependencies

        if dependencies(self.condition).scores:
            raise ValueError("a score rule cannot test a score")
        return self


RuleBody = Annotated[EventRule | ConditionRule, Field(discriminator="kind")]


class _Holder(_Model):
    body: RuleBody
    decay: Decay = Field(default_factory=NoDecay)


def parse_rule(data: Any, path: str = "rule") -> EventRule | ConditionRule:
    try:
        return _Holder.model_validate({"body": data}).body
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(
            str(p) for p in err["loc"][1:] if p not in ("event", "condition") or p == err["loc"][-1]
        )
        where = f"{path}.{loc}" if loc else path
        raise InvalidInput(f"{where}: {plain_message(err['msg'])}", code="invalid_score_rule") from None


def parse_decay(data: Any) -> NoDecay | HalfLifeDecay | PointsDecay:
    try:
        return _Holder.model_validate({"body": {"kind": "event", "event": "x"}, "decay": data}).decay
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"][1:] if p not in ("none", "half_life", "points"))
        raise InvalidInput(
            f"decay{'.' + loc if loc else ''}: {plain_message(err['msg'])}", code="invalid_decay"
        ) from None


def stored_rule(rule: EventRule | ConditionRule) -> dict[str, Any]:
    """The ``definition`` column of a rule (its cap lives in columns of its own)."""
    if isinstance(rule, EventRule):
        return {"event": rule.event, "where": [f.model_dump(mode="json") for f in rule.where]}
    return {"condition": rule.model_dump(mode="json")["condition"]}


def rule_from_row(row: Any) -> EventRule | ConditionRule:
    if row.kind == "event":
        cap = Cap(points=row.cap_points, per=row.cap_per) if row.cap_points is not None else None
        return EventRule.model_validate({**row.definition, "cap": cap})
    return ConditionRule.model_validate({"condition": row.definition["condition"]})
