"""Convenience forms rewritten into the core ones before compiling, so the compiler stays
small: ``not_performed`` is ``performed`` zero times, and a first time ``before`` an
instant is having performed before it (an ``exists`` instead of a ``min``). A rewrite
replaces one node by one node — never a subtree by another shape — and the compiler
rewrites each node as it reaches it, so error paths and explanations keep the shape the
user wrote."""

from __future__ import annotations

from kairos.segments.definition import (
    Condition,
    CountComparator,
    FirstPerformedCondition,
    NotPerformedCondition,
    PerformedCondition,
    Window,
)


def rewrite(node: Condition) -> Condition:
    while True:
        core = _rewrite_once(node)
        if core is node:
            return node
        node = core


def _rewrite_once(node: Condition) -> Condition:
    if isinstance(node, NotPerformedCondition):
        return PerformedCondition(
            event=node.event, where=node.where, window=node.window, count=CountComparator(op="=", value=0)
        )
    if (
        isinstance(node, FirstPerformedCondition)
        and node.operator == "before"
        and isinstance(node.value, str)
    ):
        try:
            window = Window(until=node.value)  # type: ignore[arg-type]
        except ValueError:
            return node  # the compiler reports the bad value with its path
        return PerformedCondition(event=node.event, where=node.where, window=window)
    return node
