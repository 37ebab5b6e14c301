"""Channel configurations and templates: create, read, update, delete.

A channel configuration names a provider and holds its settings (returned by the API) and
secrets (encrypted with the server's key, never returned — responses list only which secret
fields are set). One configuration per channel kind can be the workspace default; messages
without an explicit configuration go through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update

from kairos.crypto import Keyring
from kairos.db.engine import reading
from kairos.errors import Conflict, InvalidInput, NotFound, one_of, validated
from kairos.messaging.channels import CHANNEL_KINDS, ChannelOptions, Provider, load_providers
from kairos.messaging.outbox import QUEUED
from kairos.messaging.tables import channel_config, message, template
from kairos.messaging.templates import compile_template
from kairos.messaging.usage import template_uses


def provider(name: str) -> Provider:
    return one_of(load_providers(), name, "provider", "unknown_provider")


def _validate(model: Any, data: dict[str, Any], what: str) -> dict[str, Any]:
    return validated(model, data, what, "invalid_channel_config")


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
    _check_targets(p, clean, secret, allow_private)
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


def _check_targets(
    p: Provider, settings: dict[str, Any], secrets: dict[str, Any], allow_private: bool
) -> None:
    """What the channel connects to — a webhook URL, an SMTP host, a provider's base URL or
    token URI — must not be inside our network (SSRF): 422 ``url_not_allowed``. The
    adapters check again, on the address they connect to, at every connection."""
    if p.check_targets is not None:
        p.check_targets(
            p.settings_model.model_validate(settings), p.secrets_model.model_validate(secrets), allow_private
        )


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
    current = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    new_settings, new_secrets = row["settings"], current
    if changes.get("settings") is not None:
        new_settings = values["settings"] = _validate(
            p.settings_model, {**row["settings"], **changes["settings"]}, "settings"
        )
    if changes.get("secrets") is not None:
        new_secrets = _validate(p.secrets_model, {**current, **changes["secrets"]}, "secrets")
        values["secrets"] = keyring.encrypt(new_secrets)
    if changes.get("settings") is not None or changes.get("secrets") is not None:
        _check_targets(p, new_settings, new_secrets, allow_private)
    if "rate_limit" in changes:  # null lifts the limit
        values["rate_limit"] = changes["rate_limit"]
    if changes.get("is_default"):
        _clear_default(conn, workspace_id, p.kind)
        values["is_default"] = True
    if changes.get("resume"):
        values.update(paused_until=None, pause_reason=None, failures=0)
        _release_paused(conn, row, now)
    conn.execute(update(channel_config).where(channel_config.c.id == channel_id).values(**values))
    return get_channel(conn, workspace_id, channel_id, keyring)


def _release_paused(conn: Connection, row: Any, now: datetime) -> int:
    """Make the messages a channel's pause put off due now (the resume of a paused channel):
    those the dispatcher deferred while it was paused (reason ``channel_paused``) and those
    it put back when the provider was down (reason ``retry``, next attempt at the pause's
    end). Messages without a channel (``channel_config_id`` NULL) go through the default
    channel of their kind. Returns how many were released."""
    until = row["paused_until"]
    if until is None or until <= now:
        return 0
    m = message.c
    of_channel = m.channel_config_id == row["id"]
    if row["is_default"]:
        of_channel = or_(of_channel, and_(m.channel_config_id.is_(None), m.channel == row["kind"]))
    released = conn.execute(
        update(message)
        .where(
            m.workspace_id == row["workspace_id"],
            m.status == QUEUED,
            of_channel,
            m.next_attempt_at > now,
            m.next_attempt_at <= until,
            or_(m.reason == "channel_paused", and_(m.reason == "retry", m.next_attempt_at == until)),
        )
        .values(next_attempt_at=now, updated_at=now)
    )
    return int(released.rowcount)


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


def verify_channel(
    conn: Connection, workspace_id: int, channel_id: int, keyring: Keyring, allow_private: bool = False
) -> None:
    """Reach the provider as configured without sending anything (SMTP: connect, TLS, AUTH,
    QUIT). Raises ``InvalidInput`` saying what failed; a host the SSRF guard refuses is not
    connected to (``allow_private``: the operator's ``KAIROS_ALLOW_PRIVATE_TARGETS``)."""
    row = _row(conn, workspace_id, channel_id)
    p = provider(row["provider"])
    if p.verify is None:
        raise InvalidInput(f"{p.name} channels cannot be checked without sending", code="verify_unsupported")
    secrets = keyring.decrypt(row["secrets"]) if row["secrets"] else {}
    p.verify(
        p.settings_model.model_validate(row["settings"]),
        p.secrets_model.model_validate(secrets),
        ChannelOptions(allow_private_targets=allow_private),
    )


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


def check_template(channel: str, fields: dict[str, Any]) -> None:
    """Compile the fields (raises ``InvalidInput`` naming the field; ``template_too_complex``
    past a resource limit). Takes up to ``RENDER_TIMEOUT`` plus MJML: call it with no
    transaction open — on SQLite a write transaction stalls every other writer, ingest too."""
    if channel not in CHANNEL_KINDS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CHANNEL_KINDS)}, not {channel!r}", code="unknown_channel"
        )
    compile_template(channel, fields)


def create_template(
    conn: Connection,
    workspace_id: int,
    now: datetime,
    *,
    name: str,
    channel: str,
    fields: dict[str, Any],
    checked: bool = False,
) -> dict[str, Any]:
    """``checked``: the caller ran ``check_template`` before opening ``conn``'s transaction."""
    if not checked:
        check_template(channel, fields)
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


def edit_template(
    engine: Engine, workspace_id: int, template_id: int, now: datetime, changes: dict[str, Any]
) -> dict[str, Any]:
    """``update_template`` with the new fields compiled before the write transaction opens
    (a template's channel never changes, so reading it first is safe)."""
    if "fields" in changes:
        with reading(engine) as conn:
            channel = get_template(conn, workspace_id, template_id)["channel"]
        check_template(channel, changes["fields"])
    with engine.begin() as conn:
        return update_template(conn, workspace_id, template_id, now, changes, checked=True)


def update_template(
    conn: Connection,
    workspace_id: int,
    template_id: int,
    now: datetime,
    changes: dict[str, Any],
    *,
    checked: bool = False,
) -> dict[str, Any]:
    current = get_template(conn, workspace_id, template_id)
    values: dict[str, Any] = {"updated_at": now}
    if "name" in changes:
        values["name"] = changes["name"]
    if "fields" in changes:
        if not checked:
            check_template(current["channel"], changes["fields"])
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
    """Deletes a template nothing will still send (``usage.template_uses``), else 409."""
    get_template(conn, workspace_id, template_id)
    uses = template_uses(conn, workspace_id, template_id)
    if uses:
        raise Conflict(f"template {template_id} is in use: {'; '.join(uses)}", code="template_in_use")
    conn.execute(delete(template).where(template.c.id == template_id))
