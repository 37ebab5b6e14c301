"""The SQL that representative definitions compile to, pinned per dialect. A change to the
compiler that changes the SQL shows up here as a diff to review (query shape decides
speed). After an intended change: ``KAIROS_UPDATE_SNAPSHOTS=1 pytest tests/segments``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from kairos.segments.compiler import Context, members_query, parse_definition

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TYPES = {"country": "string", "age": "number", "birthday": "datetime", "interests": "list"}

DEFINITIONS: dict[str, dict[str, Any]] = {
    "viewed_product_no_order": {"type": "all", "conditions": [
        {"type": "performed", "event": "Product Viewed", "where": [{"property": "product_id", "operator": "eq", "value": "P1"}],
         "count": {"op": ">=", "value": 3}, "window": {"last": {"amount": 7, "unit": "days"}}},
        {"type": "not_performed", "event": "Order Completed", "window": {"last": {"amount": 7, "unit": "days"}}},
    ]},
    "attributes_and_pages": {"type": "all", "conditions": [
        {"type": "attribute", "attribute": "country", "operator": "eq", "value": "CN"},
        {"type": "attribute", "attribute": "age", "operator": "between", "value": [18, 25]},
        {"type": "attribute", "attribute": "birthday", "operator": "before", "value": "2000-01-01T00:00:00Z"},
        {"type": "attribute", "attribute": "interests", "operator": "includes", "value": "finance"},
        {"type": "performed", "event": "Page Viewed", "where": [{"property": "path", "operator": "eq", "value": "/finance"}],
         "count": {"op": ">=", "value": 2}, "window": {"last": {"amount": 30, "unit": "days"}}},
    ]},
    "big_spenders": {"type": "aggregate", "event": "Order Completed", "property": "revenue", "function": "sum",
                     "operator": "gt", "value": 70, "window": {"last": {"amount": 30, "unit": "days"}}},
    "new_customers": {"type": "first_performed", "event": "Order Completed", "operator": "within_last",
                      "value": {"amount": 30, "unit": "days"}},
    "abandoned_cart": {"type": "sequence", "first": {"event": "Product Added"}, "then": [{"event": "Checkout Started"}],
                       "within": {"amount": 24, "unit": "hours"}, "window": {"last": {"amount": 7, "unit": "days"}}},
    "engaged_not_in_segment": {"type": "all", "conditions": [
        {"type": "any", "conditions": [
            {"type": "performed", "event": "Email Opened", "window": {"last": {"amount": 14, "unit": "days"}}},
            {"type": "performed", "event": None, "window": {"last": {"amount": 30, "unit": "days"}}}]},
        {"type": "segment", "segment_id": 1, "member": False},
        {"type": "tag", "tag": "vip", "present": False},
        {"type": "random_bucket", "percent": 10, "salt": "holdout"},
    ]},
}  # fmt: skip
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_compiled_sql_is_pinned(name: str, dialect: str) -> None:
    definition = parse_definition({"root": DEFINITIONS[name]})
    compiled = members_query(1, definition, Context(NOW, TYPES, dialect)).compile(dialect=DIALECTS[dialect])
    text = f"{compiled}\n-- parameters: {sorted(compiled.params.items())!r}\n"
    path = SNAPSHOTS / f"{name}.{dialect}.sql"
    if os.environ.get("KAIROS_UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"no snapshot {path.name}: run with KAIROS_UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text()
