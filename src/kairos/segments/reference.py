"""What the segment builder needs to offer a workspace's choices, generated from the code.

The console draws its segment builder from this (``GET /api/v1/segments/reference``), so a
new operator or condition kind reaches the builder without UI code: the operators registry
(key, label, the shape of its value, the attribute types it applies to, whether time alone
moves it), the JSON Schema of the definition (every condition kind and its fields), the
fields and attributes a condition can test with their types, the workspace's computed
traits, tags, event names and segments.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from kairos.contacts.attributes import list_attributes
from kairos.contacts.tables import tag
from kairos.events.tables import event
from kairos.segments.definition import SegmentDefinition
from kairos.segments.operators import OPERATORS
from kairos.segments.tables import computed_trait, segment
from kairos.segments.values import ACQUISITION_ATTRIBUTES, BUILTIN_FIELDS

#: the builder offers at most this many event names, tags and segments (typing filters more)
MAX_CHOICES = 1000

#: distinct event names by walking the (workspace_id, name, …) index: one seek per name
_EVENT_NAMES = text(
    """
    WITH RECURSIVE names(name) AS (
        SELECT min(name) FROM event WHERE workspace_id = :ws
        UNION ALL
        SELECT (SELECT min(e.name) FROM event e WHERE e.workspace_id = :ws AND e.name > names.name)
        FROM names WHERE names.name IS NOT NULL
    )
    SELECT name FROM names WHERE name IS NOT NULL LIMIT :limit
    """
).bindparams(bindparam("ws"), bindparam("limit"))


def builder_reference(conn: Connection, workspace_id: int) -> dict[str, Any]:
    return {
        "operators": [
            {
                "key": op.key,
                "label": op.label,
                "value": op.value,
                "types": sorted(op.types),
                "moves": op.moves,
            }
            for op in OPERATORS.values()
        ],
        "definition_schema": SegmentDefinition.model_json_schema(),
        "fields": [{"name": name, "type": kind, "source": "field"} for name, kind in BUILTIN_FIELDS.items()]
        + [{"name": name, "type": kind, "source": "field"} for name, kind in ACQUISITION_ATTRIBUTES.items()]
        + [
            {"name": f"traits.{a['name']}", "type": a["type"], "source": "attribute", "label": a.get("label")}
            for a in list_attributes(conn, workspace_id)
        ]
        + [
            {"name": f"computed.{name}", "type": kind, "source": "computed_trait"}
            for name, kind in conn.execute(
                select(computed_trait.c.name, computed_trait.c.value_type)
                .where(computed_trait.c.workspace_id == workspace_id)
                .order_by(computed_trait.c.name)
            )
        ],
        "events": list(conn.execute(_EVENT_NAMES, {"ws": workspace_id, "limit": MAX_CHOICES}).scalars()),
        "tags": list(
            conn.execute(
                select(tag.c.name)
                .where(tag.c.workspace_id == workspace_id)
                .order_by(tag.c.name)
                .limit(MAX_CHOICES)
            ).scalars()
        ),
        "segments": [
            {"id": r.id, "name": r.name, "kind": r.kind}
            for r in conn.execute(
                select(segment.c.id, segment.c.name, segment.c.kind)
                .where(segment.c.workspace_id == workspace_id)
                .order_by(func.lower(segment.c.name))
                .limit(MAX_CHOICES)
            )
        ],
    }


#: how many of an event's latest occurrences ``event_properties`` reads
PROPERTY_SAMPLE = 500


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "list" if isinstance(value, list) else "null"


def event_properties(conn: Connection, workspace_id: int, name: str) -> dict[str, Any]:
    """The top-level properties of the latest ``PROPERTY_SAMPLE`` events named ``name`` (a
    backward walk of ``ix_event_workspace_name_ts``), each with the JSON types seen and how
    many of the sampled events had it, the commonest first: what a property filter can
    pick from. Events are untyped, so these are observations, not a schema."""
    rows = conn.execute(
        select(event.c.properties)
        .where(event.c.workspace_id == workspace_id, event.c.name == name)
        .order_by(event.c.timestamp.desc())
        .limit(PROPERTY_SAMPLE)
    ).scalars()
    seen: dict[str, dict[str, int]] = {}
    sampled = 0
    for props in rows:
        sampled += 1
        for key, value in (props or {}).items():
            kinds = seen.setdefault(key, {})
            kind = _json_type(value)
            kinds[kind] = kinds.get(kind, 0) + 1
    counted = sorted(seen.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    properties = [
        {"name": key, "types": sorted(kinds, key=lambda k: (-kinds[k], k)), "seen": sum(kinds.values())}
        for key, kinds in counted
    ]
    return {"event": name, "sampled": sampled, "properties": properties}
