"""Channel configurations and templates: create, read, update, delete.

A channel configuration names a provider and holds its settings (returned by the API) and
secrets (encrypted with the server's key, never returned — responses list only which secret
fields are set). One configuration per channel kind can be the workspace default; messages
without an explicit configuration go through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select, update

from kairos.crypto import Keyring
from kairos.errors import Conflict, InvalidInput, NotFound
from kairos.messaging.channels import CHANNEL_KINDS, Provider, load_providers
from kairos.messaging.ssrf import check_url
from kairos.messaging.tables import channel_config, template
from kairos.messaging.templates import compile_template


def provider(name: str) -> Provider:
    providers = load_providers()
    found = providers.get(name)
    if found is None:
        raise InvalidInput(
            f"provider must be one of {', '.join(sorted(providers))}, not {name!r}", code="unknown_provider"
        )
    return found


def _validate(model: Any, data: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        return dict(model.model_validate(data).model_dump(mode="json"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{what}.{where}: {first['msg']}", code="invalid_channel_config") from None


def present_channel(row: Any, keyring: Keyring) -> dict[str, Any]:
    secrets = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    out = {k: row[k] for k in row if k not in ("secrets", "failures")}
    out["secrets_set"] = sorted(k for k, v in secrets.items() if v not in (None, ""))
    return out


def create_channel(
    conn: Connection,
    workspace_id: int,
    keyring: Keyring,
    now: datetime,
    *,
    name: str,
    provider_name: str,
    settings: dict[str, Any],
    secrets: dict[str, Any],
    is_default: bool,
    rate_limit: float | None,
    allow_private: bool = False,
) -> dict[str, Any]:
    p = provider(provider_name)
    clean = _validate(p.settings_model, settings, "settings")
    secret = _validate(p.secrets_model, secrets, "secrets")
    _check_targets(p.kind, clean, allow_private)
    if conn.execute(
        select(channel_config.c.id).where(
            channel_config.c.workspace_id == workspace_id, channel_config.c.name == name
        )
    ).first():
        raise Conflict(f"a channel named {name!r} exists", code="channel_exists")
    if is_default:
        _clear_default(conn, workspace_id, p.kind)
    elif not _has_default(conn, workspace_id, p.kind):
        is_default = True  # the first channel of a kind is its default
    channel_id = conn.execute(
        insert(channel_config)
        .values(
            workspace_id=workspace_id, name=name, kind=p.kind, provider=p.name, settings=clean,
            secrets=keyring.encrypt(secret), is_default=is_default, rate_limit=rate_limit,
            failures=0, created_at=now, updated_at=now,
        )
        .returning(channel_config.c.id)
    ).scalar_one()  # fmt: skip
    return get_channel(conn, workspace_id, channel_id, keyring)


def _check_targets(kind: str, settings: dict[str, Any], allow_private: bool) -> None:
    """A webhook channel's URL must not point inside our network (SSRF)."""
    url = settings.get("url")
    if kind == "webhook" and isinstance(url, str):
        check_url(url, allow_private=allow_private)


def update_channel(
    conn: Connection,
    workspace_id: int,
    channel_id: int,
    keyring: Keyring,
    now: datetime,
    changes: dict[str, Any],
    allow_private: bool = False,
) -> dict[str, Any]:
    row = _row(conn, workspace_id, channel_id)
    p = provider(row["provider"])
    values: dict[str, Any] = {"updated_at": now}
    if changes.get("name") is not None:
        values["name"] = changes["name"]
    if changes.get("settings") is not None:
        values["settings"] = _validate(
            p.settings_model, {**row["settings"], **changes["settings"]}, "settings"
        )
        _check_targets(p.kind, values["settings"], allow_private)
    if changes.get("secrets") is not None:
        current = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
        values["secrets"] = keyring.encrypt(
            _validate(p.secrets_model, {**current, **changes["secrets"]}, "secrets")
        )
    if "rate_limit" in changes:  # null lifts the limit
        values["rate_limit"] = changes["rate_limit"]
    if changes.get("is_default"):
        _clear_default(conn, workspace_id, p.kind)
        values["is_default"] = True
    if changes.get("resume"):
        values.update(paused_until=None, pause_reason=None, failures=0)
    conn.execute(update(channel_config).where(channel_config.c.id == channel_id).values(**values))
    return get_channel(conn, workspace_id, channel_id, keyring)


def _clear_default(conn: Connection, workspace_id: int, kind: str) -> None:
    conn.execute(
        update(channel_config)
        .where(channel_config.c.workspace_id == workspace_id, channel_config.c.kind == kind)
        .values(is_default=False)
    )


def _has_default(conn: Connection, workspace_id: int, kind: str) -> bool:
    return (
        conn.execute(
            select(channel_config.c.id).where(
                channel_config.c.workspace_id == workspace_id,
                channel_config.c.kind == kind,
                channel_config.c.is_default.is_(True),
            )
        ).first()
        is not None
    )


def _row(conn: Connection, workspace_id: int, channel_id: int) -> Any:
    row = (
        conn.execute(
            select(channel_config).where(
                channel_config.c.workspace_id == workspace_id, channel_config.c.id == channel_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no channel {channel_id}", code="channel_not_found")
    return row


def get_channel(conn: Connection, workspace_id: int, channel_id: int, keyring: Keyring) -> dict[str, Any]:
    return present_channel(_row(conn, workspace_id, channel_id), keyring)


def verify_channel(conn: Connection, workspace_id: int, channel_id: int, keyring: Keyring) -> None:
    """Reach the provider as configured without sending anything (SMTP: connect, TLS, AUTH,
    QUIT). Raises ``InvalidInput`` saying what failed."""
    row = _row(conn, workspace_id, channel_id)
    p = provider(row["provider"])
    if p.verify is None:
        raise InvalidInput(f"{p.name} channels cannot be checked without sending", code="verify_unsupported")
    secrets = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    p.verify(p.settings_model.model_validate(row["settings"]), p.secrets_model.model_validate(secrets))


def signing_secret(conn: Connection, workspace_id: int, channel_id: int, keyring: Keyring) -> str:
    """The secret a webhook receiver verifies signatures with (Kairos generates one when
    none was given). Only this call returns it."""
    row = _row(conn, workspace_id, channel_id)
    secret = (keyring.decrypt(row["secrets"]) if row["secrets"] else {}).get("signing_secret")
    if row["provider"] != "webhook" or not isinstance(secret, str):
        raise NotFound(f"channel {channel_id} has no signing secret", code="no_signing_secret")
    return secret


def list_channels(conn: Connection, workspace_id: int, keyring: Keyring) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(channel_config)
        .where(channel_config.c.workspace_id == workspace_id)
        .order_by(channel_config.c.id)
    ).mappings()
    return [present_channel(r, keyring) for r in rows]


def delete_channel(conn: Connection, workspace_id: int, channel_id: int) -> None:
    _row(conn, workspace_id, channel_id)
    conn.execute(delete(channel_config).where(channel_config.c.id == channel_id))


# --- templates ------------------------------------------------------------------------


def _check_template(channel: str, fields: dict[str, Any]) -> None:
    if channel not in CHANNEL_KINDS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CHANNEL_KINDS)}, not {channel!r}", code="unknown_channel"
        )
    compile_template(channel, fields)  # raises InvalidInput naming the field


def create_template(
    conn: Connection, workspace_id: int, now: datetime, *, name: str, channel: str, fields: dict[str, Any]
) -> dict[str, Any]:
    _check_template(channel, fields)
    if conn.execute(
        select(template.c.id).where(template.c.workspace_id == workspace_id, template.c.name == name)
    ).first():
        raise Conflict(f"a template named {name!r} exists", code="template_exists")
    template_id = conn.execute(
        insert(template)
        .values(
            workspace_id=workspace_id, name=name, channel=channel, fields=fields, version=1,
            created_at=now, updated_at=now,
        )
        .returning(template.c.id)
    ).scalar_one()  # fmt: skip
    return get_template(conn, workspace_id, template_id)


def update_template(
    conn: Connection, workspace_id: int, template_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    current = get_template(conn, workspace_id, template_id)
    values: dict[str, Any] = {"updated_at": now}
    if "name" in changes:
        values["name"] = changes["name"]
    if "fields" in changes:
        _check_template(current["channel"], changes["fields"])
        values["fields"] = changes["fields"]
        values["version"] = current["version"] + 1
    conn.execute(update(template).where(template.c.id == template_id).values(**values))
    return get_template(conn, workspace_id, template_id)


def get_template(conn: Connection, workspace_id: int, template_id: int) -> dict[str, Any]:
    row = (
        conn.execute(
            select(template).where(template.c.workspace_id == workspace_id, template.c.id == template_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no template {template_id}", code="template_not_found")
    return dict(row)


def list_templates(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(template).where(template.c.workspace_id == workspace_id).order_by(template.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def delete_template(conn: Connection, workspace_id: int, template_id: int) -> None:
    get_template(conn, workspace_id, template_id)
    conn.execute(delete(template).where(template.c.id == template_id))
