"""The dependency index: what can change whether a contact matches a definition.

A changed contact is re-evaluated only against the segments that depend on what changed:
the names of events it just performed, its profile (fields, custom attributes, tags), the
membership of other segments, or computed traits. ``time`` says whether the passing of time
alone can change the answer ("viewed in the last 7 days" is left by doing nothing), which
the worker's periodic re-check takes care of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kairos.segments.definition import (
    AccountCondition,
    AggregateCondition,
    All,
    AnyOf,
    AttributeCondition,
    Condition,
    EventMatch,
    FirstPerformedCondition,
    LastPerformedCondition,
    Not,
    NotPerformedCondition,
    PerformedCondition,
    PredictedCondition,
    ScoreCondition,
    SegmentDefinition,
    SegmentMembershipCondition,
    SequenceCondition,
    SubscriptionCondition,
    TagCondition,
    Window,
)
from kairos.segments.operators import MOVING

#: Segment conditions name a computed trait ``computed.NAME``.
COMPUTED = "computed."
#: ``Dependencies.scores`` entry for the legacy ``score`` field (the default score model).
DEFAULT_SCORE = "*default"

#: Operators whose answer the passing of time alone changes (``Operator.moves``).
_MOVING = MOVING


@dataclass
class Dependencies:
    events: set[str] = field(default_factory=set)
    any_event: bool = False
    profile: bool = False
    tags: set[str] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)
    traits: set[str] = field(default_factory=set)  # computed traits, by name
    scores: set[str] = field(default_factory=set)  # score models, by key (or DEFAULT_SCORE)
    # predictive models, by key: their (re)scoring flags these segments for a full refresh
    predictions: set[str] = field(default_factory=set)
    time: bool = False
    accounts: bool = False  # B2B accounts: their attributes, members, score roll-ups

    @property
    def computed(self) -> bool:
        return bool(self.traits)

    def merge(self, other: Dependencies) -> None:
        self.events |= other.events
        self.any_event |= other.any_event
        self.profile |= other.profile
        self.tags |= other.tags
        self.segments |= other.segments
        self.traits |= other.traits
        self.scores |= other.scores
        self.predictions |= other.predictions
        self.time |= other.time
        self.accounts |= other.accounts


def dependencies(node: Condition) -> Dependencies:
    deps = Dependencies()
    _collect(node, deps)
    return deps


def _collect(node: Condition, deps: Dependencies) -> None:
    if isinstance(node, All | AnyOf):
        for child in node.conditions:
            _collect(child, deps)
    elif isinstance(node, Not):
        _collect(node.condition, deps)
    elif isinstance(node, AttributeCondition):
        if node.attribute.startswith(COMPUTED):
            deps.traits.add(node.attribute.removeprefix(COMPUTED))
        elif node.attribute == "score":  # mirrors the default score model
            deps.scores.add(DEFAULT_SCORE)
        else:
            deps.profile = True
        deps.time |= node.operator in _MOVING
    elif isinstance(node, TagCondition):
        deps.profile = True
        deps.tags.add(node.tag)
    elif isinstance(node, SubscriptionCondition):
        deps.profile = True
    elif isinstance(node, SegmentMembershipCondition):
        deps.segments.add(node.segment_id)
    elif isinstance(node, ScoreCondition):
        deps.scores.add(node.model)
    elif isinstance(node, PredictedCondition):
        deps.predictions.add(node.model)
    elif isinstance(node, AccountCondition):
        deps.accounts = True
        for f in node.where:
            parts = f.attribute.split(".")
            if parts[0] == "score" and len(parts) == 3:
                deps.scores.add(parts[1])
            deps.time |= f.operator in _MOVING
        if node.members is not None and node.members.condition is not None:
            _collect(node.members.condition, deps)
    elif isinstance(node, PerformedCondition | NotPerformedCondition | AggregateCondition):
        _event(node, deps)
        deps.time |= _window_moves(node.window)
    elif isinstance(node, FirstPerformedCondition | LastPerformedCondition):
        _event(node, deps)
        deps.time |= node.operator in _MOVING
    elif isinstance(node, SequenceCondition):
        for m in (node.first, *node.then):
            _event(m, deps)
        deps.time |= _window_moves(node.window) or (node.expect == "absent" and node.within is not None)


def _event(m: EventMatch, deps: Dependencies) -> None:
    if m.event is None:
        deps.any_event = True
    else:
        deps.events.add(m.event)
    deps.time |= any(f.operator in _MOVING for f in m.where)


def _window_moves(window: Window) -> bool:
    return window.last is not None


def referenced_segments(node: Condition) -> set[int]:
    return dependencies(node).segments


def stored_dependencies(definition: Any) -> Dependencies:
    """The dependencies of a stored (already validated) definition."""
    return dependencies(SegmentDefinition.model_validate(definition).root)
