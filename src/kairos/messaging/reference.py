"""The provider reference (``docs/providers.md``), generated from the providers' own settings
and secrets models and the template fields per channel, so it cannot drift from the code:
``kairos reference providers`` writes it, and a test fails when the committed file differs.
"""

from __future__ import annotations

import json
from typing import Any

from kairos.messaging.channels import load_providers
from kairos.messaging.templates.liquid import CHANNEL_FIELDS

#: what each template field of a channel is for
TEMPLATE_FIELDS: dict[tuple[str, str], str] = {
    ("email", "subject"): "Subject line (Liquid)",
    ("email", "body"): "The body: MJML or HTML, as `format` says (Liquid)",
    ("email", "format"): "`mjml` (default) or `html`",
    ("email", "text"): "The plain-text part; default: made from the HTML",
    ("email", "preheader"): "The preview text inboxes show after the subject (hidden in the body)",
    ("sms", "text"): "The message (Liquid); GSM-7 or UCS-2, split into parts by the carrier",
    ("push", "title"): "Notification title (Liquid)",
    ("push", "body"): "Notification text (Liquid)",
    ("push", "data"): "Key/value strings handed to the app (Liquid in values)",
    ("push", "image"): "An image URL shown with the notification",
    ("wechat", "template_id"): "The Official Account's template message id",
    ("wechat", "url"): "The page opened from the message",
    ("wechat", "data"): '`{key: {"value": …}}` for the template\'s slots (Liquid in values)',
    ("webhook", "payload"): "The JSON posted (Liquid in string values; numbers stay numbers)",
    ("inapp", "title"): "Inbox item title (Liquid)",
    ("inapp", "body"): "Inbox item text (Liquid)",
    ("inapp", "data"): "Key/values handed to the app (Liquid in values)",
}

HEADER = """# Channel providers: a reference

Generated from the code by `kairos reference providers` (`messaging/reference.py`): the
settings and secrets each provider takes when a channel is created (`POST /api/v1/channels
{"name", "provider", "settings", "secrets"}`), and the template fields of each channel. Do not
edit by hand: a test compares this file with what the code says.

Settings are returned by the API; **secrets are encrypted at rest and never returned** (a
channel lists only which are set, `secrets_set`). URLs and hosts a provider connects to must be
public addresses unless the operator sets `KAIROS_ALLOW_PRIVATE_TARGETS` (docs/security.md).
`GET /api/v1/channels/providers` answers the same models as JSON Schemas (`settings_schema`,
`secrets_schema`): the console builds its channel forms from them.
"""


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "object (below)"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "anyOf" in prop:
        kinds = [_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " \\| ".join(kinds) + " or null"
    kind = str(prop.get("type", "any"))
    if kind == "object" and "additionalProperties" in prop:
        return f"object of {_type(prop['additionalProperties'], defs)}"
    return kind


def _constraints(prop: dict[str, Any]) -> str:
    parts = []
    bounds = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("minLength", "length ≥"),
              ("maxLength", "length ≤"))  # fmt: skip
    for key, label in bounds:
        if key in prop:
            parts.append(f"{label} {prop[key]}")
    if "pattern" in prop:
        parts.append(f"pattern `{prop['pattern']}`")
    return "; ".join(parts)


def _default(model: Any, name: str, prop: dict[str, Any]) -> str:
    if "default" in prop:
        return "null" if prop["default"] is None else f"`{json.dumps(prop['default'])}`".replace('"', "")
    field = getattr(model, "model_fields", {}).get(name)
    made = field.default_factory() if field is not None and field.default_factory is not None else None
    return f"`{json.dumps(made)}`" if made in ({}, []) else "generated"


def _table(schema: dict[str, Any], model: Any = None) -> list[str]:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return ["None."]
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    lines = ["| field | type | default | what it is |", "|---|---|---|---|"]
    for name, prop in props.items():
        default = "**required**" if name in required else _default(model, name, prop)
        text = prop.get("description", "")
        extra = [_constraints(prop)] if _constraints(prop) else []
        if prop.get("examples"):
            extra.append("e.g. " + ", ".join(f"`{e}`" for e in prop["examples"]))
        if extra:
            text += f" ({'; '.join(extra)})"
        cell = text.replace("|", "\\|")  # a pattern's | would end the table cell
        lines.append(f"| `{name}` | {_type(prop, defs)} | {default} | {cell} |")
    for def_name, sub in defs.items():
        lines += ["", f"`{def_name}`: {sub.get('description', '')}", "", *_table(sub)]
    return lines


def provider_reference() -> str:
    """The whole reference as Markdown."""
    out = [HEADER]
    for name, provider in sorted(load_providers().items()):
        out += [f"## `{name}` — {provider.kind}", ""]
        settings, secrets = provider.settings_model, provider.secrets_model
        out += ["Settings:", "", *_table(settings.model_json_schema(), settings), ""]
        out += ["Secrets:", "", *_table(secrets.model_json_schema(), secrets), ""]
    out += ["## Template fields per channel", "",
            "`POST /api/v1/templates {\"name\", \"channel\", \"fields\"}`: Liquid in the fields marked so; "
            "`{{ contact.… }}`, `{{ offer.… }}`, `{{ event.… }}`, `{{ payload.… }}` and `{{ links.… }}` "
            "as docs/messaging.md describes.", ""]  # fmt: skip
    for channel, fields in CHANNEL_FIELDS.items():
        out += [f"### {channel}", "", "| field | required | what it is |", "|---|---|---|"]
        for field, required in fields.items():
            out.append(
                f"| `{field}` | {'yes' if required else 'no'} | {TEMPLATE_FIELDS.get((channel, field), '')} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def provider_schemas() -> list[dict[str, Any]]:
    """Every provider with the JSON Schemas of its ``settings`` and ``secrets``, for forms
    built from them (``GET /api/v1/channels/providers``)."""
    return [
        {
            "name": name,
            "kind": provider.kind,
            "description": provider.description,
            "settings_schema": provider.settings_model.model_json_schema(),
            "secrets_schema": provider.secrets_model.model_json_schema(),
            "verify": provider.verify is not None,
        }
        for name, provider in sorted(load_providers().items())
    ]
