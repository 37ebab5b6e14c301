"""Forms and landing pages: validation, storage, submissions and spam checks (docs/forms.md).

A submission becomes two Segment messages ingested through the normal pipeline, so identity
resolution decides who the lead is: an ``identify`` (the fields as traits, the email and phone
as identities) and a ``track`` ``form_submitted``, both carrying the browser's anonymous id
(or a fresh one). A known email finds its contact; an anonymous id seen before merges the
earlier anonymous visits into it. Ticked consent checkboxes subscribe the contact with the
wording version and IP as evidence; double opt-in topics go pending and email a confirmation.

Spam protection, in the order a submission meets it: the honeypot and the signed render
timestamp (dropped silently), the form's CAPTCHA if it has one (``kairos.forms.captcha``),
then its rate limit: at most ``max`` accepted submissions per client and form in
``window_seconds``, counted in the database (so every server process shares it) on a keyed
hash of the client's address.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kairos.contacts.fields import RESERVED_NAMES, normalize_email, normalize_phone
from kairos.contacts.service import find_contact_id
from kairos.crypto import Keyring
from kairos.errors import Conflict, InvalidInput, NotFound, Unavailable
from kairos.events.ingest import ingest
from kairos.events.messages import parse_message
from kairos.events.tables import event
from kairos.forms import captcha
from kairos.forms.tables import form, form_rate_hit
from kairos.messaging import consent
from kairos.segments.values import json_value
from kairos.workspaces.tables import workspace

log = logging.getLogger(__name__)

FIELD_TYPES = ("text", "email", "tel", "number", "date", "checkbox", "select", "hidden")
STATUSES = ("active", "paused")
#: attributes a field may fill besides custom traits, with the input type each needs
PROFILE_FIELD_TYPES = {"email": "email", "phone": "tel", "first_name": "text", "last_name": "text"}
#: names the hosted form itself posts
HIDDEN_NAMES = frozenset({"anonymous_id", "return_url", "consent", "_k_ts", "_k_hp"})
HONEYPOT = "_k_hp"
TIMESTAMP = "_k_ts"
#: hidden fields carrying the page a form was shown on and the page that led there, for the
#: submission's acquisition source (docs/leads.md, "Acquisition source")
PAGE_URL = "kairos_page_url"
REFERRER = "kairos_referrer"
MAX_URL = 2000
#: submitted values read as UTM parameters (hidden fields, or any posted value) → Segment's
#: ``context.campaign`` keys
UTM_FIELDS = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name",
              "utm_term": "term", "utm_content": "content"}  # fmt: skip
MIN_AGE_SECONDS = 2
MAX_AGE_SECONDS = 24 * 3600
MAX_VALUE_LENGTH = 1000
#: the rate limit of a form created without one
DEFAULT_RATE_LIMIT = {"max": 5, "window_seconds": 600}
RATE_LIMIT_MAX = 1000
RATE_LIMIT_WINDOW_MAX = 24 * 3600  # also how long the worker keeps any rate hit
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_TRAIT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ANON = re.compile(r"[A-Za-z0-9._:-]{1,200}")
_SITE_KEY = re.compile(r"[A-Za-z0-9._-]{1,200}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

FORM_FIELDS = (
    "name", "fields", "consent", "return_urls", "success_message", "status", "rate_limit", "captcha",
)  # fmt: skip


# --- validation ---------------------------------------------------------------------------


def check_slug(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidInput(
            f"{what}: {value!r} must be lower-case letters, digits, '-' or '_' (at most 100)",
            code=f"invalid_{what}",
        )
    return value


def _check_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not fields:
        raise InvalidInput("fields: give at least one field", code="invalid_fields")
    seen: set[str] = set()
    out = []
    for i, f in enumerate(fields):
        name, kind = f.get("name"), f.get("type", "text")
        where = f"fields[{i}]"
        if not isinstance(name, str) or not _TRAIT.fullmatch(name):
            raise InvalidInput(f"{where}.name: {name!r} is not a valid attribute name", code="invalid_field")
        if name in HIDDEN_NAMES or (name in RESERVED_NAMES and name not in PROFILE_FIELD_TYPES):
            raise InvalidInput(f"{where}.name: {name!r} is reserved", code="invalid_field")
        if name in seen:
            raise InvalidInput(f"{where}.name: {name!r} appears twice", code="invalid_field")
        seen.add(name)
        if kind not in FIELD_TYPES:
            raise InvalidInput(f"{where}.type: use one of {', '.join(FIELD_TYPES)}", code="invalid_field")
        wanted = PROFILE_FIELD_TYPES.get(name)
        if wanted is not None and kind != wanted:
            raise InvalidInput(f"{where}.type: {name} needs type {wanted}", code="invalid_field")
        options = f.get("options")
        default = f.get("value")
        if kind == "hidden":
            if f.get("required"):
                raise InvalidInput(
                    f"{where}.required: a hidden field cannot be required", code="invalid_field"
                )
            if default is not None and (not isinstance(default, str) or len(default) > MAX_VALUE_LENGTH):
                raise InvalidInput(
                    f"{where}.value: text of at most {MAX_VALUE_LENGTH} characters", code="invalid_field"
                )
        elif default is not None:
            raise InvalidInput(f"{where}.value: only hidden fields have a value", code="invalid_field")
        if kind == "select":
            if not options or not all(isinstance(o, str) and o for o in options):
                raise InvalidInput(f"{where}.options: a select needs options", code="invalid_field")
        elif options:
            raise InvalidInput(f"{where}.options: only select fields have options", code="invalid_field")
        out.append(
            {
                "name": name,
                "label": str(f.get("label") or name),
                "type": kind,
                "required": bool(f.get("required", False)),
                **({"options": list(options or ())} if kind == "select" else {}),
                **({"value": default} if kind == "hidden" and default else {}),
            }
        )
    if not seen & {"email", "phone"}:
        raise InvalidInput("fields: a form needs an email or phone field", code="invalid_fields")
    return out


def _check_consent(conn: Connection, workspace_id: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i, c in enumerate(items):
        topic_id = c.get("topic_id")
        if not isinstance(topic_id, int) or topic_id in seen:
            raise InvalidInput(f"consent[{i}].topic_id: missing or repeated", code="invalid_consent")
        seen.add(topic_id)
        try:
            consent.get_topic(conn, workspace_id, topic_id)
        except NotFound:
            raise InvalidInput(
                f"consent[{i}].topic_id: no topic {topic_id}", code="invalid_consent"
            ) from None
        label = c.get("label")
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput(f"consent[{i}].label: the wording is required", code="invalid_consent")
        out.append(
            {
                "topic_id": topic_id,
                "label": label,
                "wording_version": str(c.get("wording_version") or "1"),
                "required": bool(c.get("required", False)),
            }
        )
    return out


def _check_return_urls(urls: list[Any]) -> list[str]:
    for i, u in enumerate(urls):
        parts = urlsplit(u) if isinstance(u, str) else None
        if parts is None or parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
            raise InvalidInput(
                f"return_urls[{i}]: {u!r} is not an absolute https URL", code="invalid_return_url"
            )
    return list(urls)


def return_url_allowed(url: str, allowlist: list[str]) -> bool:
    return allowed_return_url(url, allowlist) is not None


def allowed_return_url(url: str, allowlist: list[str]) -> str | None:
    """The normalised ``url`` if it is a listed URL or under a listed prefix on the same https
    origin (``…/thanks`` allows ``…/thanks?x=1`` and ``…/thanks/more``, never
    ``…/thanksgiving``), else None. Both sides are normalised as a browser would before they
    are compared (``_normal_url``), and the caller redirects to the normalised URL, so what
    was checked is what the browser is sent to."""
    target = _normal_url(url)
    if target is None:
        return None
    for entry in allowlist:
        allowed = _normal_url(entry)
        if allowed is None or allowed.origin != target.origin:
            continue
        if allowed.query is None:
            if allowed.path == target.path or target.path.startswith(allowed.path.rstrip("/") + "/"):
                return target.url
        elif allowed.path == target.path and target.query is not None:
            q, tq = allowed.query, target.query
            if tq == q or (tq.startswith(q) and (q == "" or q.endswith("&") or tq[len(q)] == "&")):
                return target.url
    return None


@dataclass(frozen=True, slots=True)
class _NormalUrl:
    origin: str  # https://host[:port], lower-case host, default port left out
    path: str  # dot segments removed, never empty
    query: str | None  # None: no "?"
    fragment: str | None

    @property
    def url(self) -> str:
        query = "" if self.query is None else "?" + self.query
        fragment = "" if self.fragment is None else "#" + self.fragment
        return self.origin + self.path + query + fragment


_ENCODED_DOT = re.compile("%2e", re.IGNORECASE)


def _normal_url(url: str) -> _NormalUrl | None:
    """An absolute https URL read the way browsers read it (WHATWG URL): backslashes are
    slashes, ``%2e`` is a dot in a path segment, dot segments are resolved (RFC 3986
    remove_dot_segments). None for anything else: another scheme, user info, a
    percent-encoded host, controls or spaces, an encoded slash or backslash in the path
    (``%2f``, ``%5c``: some servers decode them before resolving dots)."""
    if not isinstance(url, str) or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url.replace("\\", "/"))
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme.lower() != "https" or not host or "@" in parts.netloc or "%" in parts.netloc:
        return None
    path = parts.path or "/"
    if re.search("%(2f|5c)", path, re.IGNORECASE):
        return None
    path = _remove_dot_segments(_ENCODED_DOT.sub(".", path))
    origin = "https://" + host.lower() + ("" if port in (None, 443) else f":{port}")
    query = parts.query if parts.query or url.split("#", 1)[0].endswith("?") else None
    fragment = parts.fragment if "#" in url else None
    return _NormalUrl(origin, path, query, fragment)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path."""
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        elif seg == ".":
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_rate_limit(value: Any) -> dict[str, Any]:
    """``{max, window_seconds}`` → the columns; None: no limit."""
    if value is None:
        return {"rate_limit_max": None, "rate_limit_window": None}
    if not isinstance(value, dict) or set(value) - {"max", "window_seconds"}:
        raise InvalidInput("rate_limit: give {max, window_seconds} or null", code="invalid_rate_limit")
    top, window = value.get("max"), value.get("window_seconds")
    if not _whole(top, 1, RATE_LIMIT_MAX):
        raise InvalidInput(
            f"rate_limit.max: a whole number from 1 to {RATE_LIMIT_MAX}", code="invalid_rate_limit"
        )
    if not _whole(window, 1, RATE_LIMIT_WINDOW_MAX):
        raise InvalidInput(
            f"rate_limit.window_seconds: a whole number of seconds from 1 to {RATE_LIMIT_WINDOW_MAX}",
            code="invalid_rate_limit",
        )
    return {"rate_limit_max": top, "rate_limit_window": window}


def _check_captcha(value: Any, keyring: Keyring, current: dict[str, Any] | None) -> dict[str, Any]:
    """``{provider, site_key, secret}`` → the columns, the secret encrypted; None: no CAPTCHA.
    Without ``secret``, the form's current secret is kept if it has one for this provider."""
    if value is None:
        return {"captcha_provider": None, "captcha_site_key": None, "captcha_secret": None}
    if not isinstance(value, dict) or set(value) - {"provider", "site_key", "secret"}:
        raise InvalidInput("captcha: give {provider, site_key, secret} or null", code="invalid_captcha")
    provider, site_key, secret = value.get("provider"), value.get("site_key"), value.get("secret")
    if provider not in captcha.PROVIDERS:
        raise InvalidInput(
            f"captcha.provider: use one of {', '.join(captcha.PROVIDERS)}", code="invalid_captcha"
        )
    if not isinstance(site_key, str) or not _SITE_KEY.fullmatch(site_key):
        raise InvalidInput(
            "captcha.site_key: the provider's site key (letters, digits, '.', '-', '_')",
            code="invalid_captcha",
        )
    if secret is None:
        same = current is not None and (current.get("captcha") or {}).get("provider") == provider
        stored = current.get("captcha_secret") if same and current is not None else None
        if stored is None:
            raise InvalidInput(
                "captcha.secret: the provider's secret key is required", code="invalid_captcha"
            )
    elif not isinstance(secret, str) or not secret.strip() or len(secret) > 500:
        raise InvalidInput(
            "captcha.secret: the provider's secret key (at most 500 characters)", code="invalid_captcha"
        )
    else:
        stored = keyring.encrypt({"secret": secret.strip()})
    return {"captcha_provider": provider, "captcha_site_key": site_key, "captcha_secret": stored}


def _check_form(
    conn: Connection,
    workspace_id: int,
    values: dict[str, Any],
    keyring: Keyring,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name: required", code="invalid_name")
    if values.get("status") not in STATUSES:
        raise InvalidInput(f"status: use one of {', '.join(STATUSES)}", code="invalid_status")
    return {
        "name": name,
        "fields": _check_fields(list(values.get("fields") or ())),
        "consent": _check_consent(conn, workspace_id, list(values.get("consent") or [])),
        "return_urls": _check_return_urls(list(values.get("return_urls") or [])),
        "success_message": values.get("success_message"),
        "status": values["status"],
        **_check_rate_limit(values.get("rate_limit")),
        **_check_captcha(values.get("captcha"), keyring, current),
    }


# --- forms ---------------------------------------------------------------------------------


def create_form(
    conn: Connection, workspace_id: int, now: datetime, *, key: str, keyring: Keyring, **fields: Any
) -> dict[str, Any]:
    """A form; without ``rate_limit`` it gets ``DEFAULT_RATE_LIMIT`` (``rate_limit=None``: no
    limit). A CAPTCHA's secret is stored encrypted with ``keyring``."""
    defaults = {"status": "active", "rate_limit": DEFAULT_RATE_LIMIT}
    values = _check_form(conn, workspace_id, defaults | fields, keyring)
    row = {
        **values,
        "workspace_id": workspace_id,
        "key": check_slug(key, "key"),
        "created_at": now,
        "updated_at": now,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(form).values(row).returning(form.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"key: a form with key {key!r} exists", code="form_exists") from None
    return get_form(conn, workspace_id, new_id)


def update_form(
    conn: Connection,
    workspace_id: int,
    form_id: int,
    now: datetime,
    changes: dict[str, Any],
    *,
    keyring: Keyring,
) -> dict[str, Any]:
    unknown = set(changes) - set(FORM_FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: cannot be changed", code="invalid_field")
    current = get_form(conn, workspace_id, form_id)
    values = _check_form(conn, workspace_id, {f: current[f] for f in FORM_FIELDS} | changes, keyring, current)
    conn.execute(update(form).where(form.c.id == form_id).values({**values, "updated_at": now}))
    return get_form(conn, workspace_id, form_id)


def _shape(row: Row[Any]) -> dict[str, Any]:
    """A form row as the domain hands it out: ``rate_limit`` ``{max, window_seconds}`` and
    ``captcha`` ``{provider, site_key}`` (or None); ``captcha_secret`` stays encrypted and is
    for ``check_captcha`` only — the API never returns it."""
    out = dict(row._mapping)
    top, window = out.pop("rate_limit_max"), out.pop("rate_limit_window")
    out["rate_limit"] = None if top is None else {"max": top, "window_seconds": window}
    provider, site_key = out.pop("captcha_provider"), out.pop("captcha_site_key")
    out["captcha"] = None if provider is None else {"provider": provider, "site_key": site_key}
    return out


def get_form(conn: Connection, workspace_id: int, form_id: int) -> dict[str, Any]:
    row = conn.execute(select(form).where(form.c.workspace_id == workspace_id, form.c.id == form_id)).first()
    if row is None:
        raise NotFound(f"no form {form_id}", code="form_not_found")
    return _shape(row)


def form_by_key(conn: Connection, workspace_id: int, key: str) -> dict[str, Any] | None:
    """The active form with this key, else None (paused forms are not served)."""
    row = conn.execute(
        select(form).where(form.c.workspace_id == workspace_id, form.c.key == key, form.c.status == "active")
    ).first()
    return None if row is None else _shape(row)


def list_forms(conn: Connection, workspace_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(form).where(form.c.workspace_id == workspace_id).order_by(form.c.id))
    return [_shape(r) for r in rows]


# --- spam protection ----------------------------------------------------------------------


def render_token(keyring: Keyring, workspace_id: int, form_id: int, now: datetime) -> str:
    return keyring.sign("form", workspace_id, form_id, int(now.timestamp()))


def spam_reason(
    keyring: Keyring, workspace_id: int, form_id: int, values: dict[str, list[str]], now: datetime
) -> str | None:
    """Why this submission looks automated (honeypot filled, no valid render timestamp, posted
    under 2 s after rendering or over 24 h later), or None."""
    if any(v.strip() for v in values.get(HONEYPOT, [])):
        return "honeypot"
    found = keyring.verify("form", (values.get(TIMESTAMP) or [""])[0], 3)
    if found is None or found[0][:2] != (workspace_id, form_id):
        return "bad_timestamp"
    age = now.timestamp() - found[0][2]
    if age < MIN_AGE_SECONDS:
        return "too_fast"
    if age > MAX_AGE_SECONDS:
        return "expired"
    return None


def check_captcha(
    keyring: Keyring,
    form_row: dict[str, Any],
    values: dict[str, list[str]],
    ip: str | None,
    *,
    verify_url: str | None = None,
) -> None:
    """Verify the submission's CAPTCHA token with the form's provider (no-op for a form
    without one). Raises ``InvalidInput`` (``captcha_required``, ``captcha_failed``) or
    ``Unavailable`` (``captcha_unavailable``: fail closed). Makes a network call: never run
    it inside a transaction."""
    config = form_row.get("captcha")
    if config is None:
        return
    try:
        secret = keyring.decrypt(form_row["captcha_secret"])["secret"]
    except ValueError:  # the server's secret key changed since the CAPTCHA was configured
        log.error("form %s: its CAPTCHA secret does not decrypt; set it again", form_row["id"])
        raise Unavailable(
            "The verification (CAPTCHA) is not working right now; please try again later.",
            code="captcha_unavailable",
        ) from None
    captcha.verify(config["provider"], secret, values, ip, verify_url=verify_url)


def client_hash(keyring: Keyring, workspace_id: int, ip: str | None) -> str:
    """The keyed hash standing for a client in rate limits. An IPv6 client counts by its /64
    (one subscriber's usual allocation, or every address would be a new client); an IPv4-mapped
    address as the IPv4 one; a missing or unparseable address as itself (all of them one
    client)."""
    text = (ip or "").strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        client = text
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if isinstance(address, ipaddress.IPv6Address):
            client = str(ipaddress.IPv6Network((address, 64), strict=False))
        else:
            client = str(address)
    return keyring.digest("form-client", struct.pack(">Q", workspace_id) + client.encode())


def take_rate_slot(conn: Connection, form_row: dict[str, Any], client: str, now: datetime) -> int | None:
    """Count this submission against the form's rate limit: None if it may go ahead (its hit
    is recorded — in the caller's transaction, so a submission that fails later does not
    count), else the seconds until the client may submit again (nothing recorded).

    The client's expired hits are deleted on the way. The count and the insert are not
    atomic on PostgreSQL (read committed): two submissions of one client at the same instant
    may both pass at the limit; on SQLite writers are serialised and the limit is exact.
    """
    limit = form_row.get("rate_limit")
    if limit is None:
        return None
    top: int = limit["max"]
    window = timedelta(seconds=limit["window_seconds"])
    mine = (form_rate_hit.c.form_id == form_row["id"], form_rate_hit.c.client_hash == client)
    conn.execute(delete(form_rate_hit).where(*mine, form_rate_hit.c.created_at <= now - window))
    times: list[datetime] = list(
        conn.execute(
            select(form_rate_hit.c.created_at)
            .where(*mine, form_rate_hit.c.created_at > now - window)
            .order_by(form_rate_hit.c.created_at)
        ).scalars()
    )
    if len(times) >= top:
        # the client is under the limit again once all but max - 1 of its hits expired
        frees_at = times[len(times) - top] + window
        return max(1, math.ceil((frees_at - now).total_seconds()))
    conn.execute(
        insert(form_rate_hit).values(
            workspace_id=form_row["workspace_id"], form_id=form_row["id"], client_hash=client, created_at=now
        )
    )
    return None


def purge_rate_hits(conn: Connection, now: datetime) -> int:
    """Delete rate hits older than the longest window a form can have (the worker's periodic
    purge; hits of clients who come back are deleted as they expire)."""
    result = conn.execute(
        delete(form_rate_hit).where(
            form_rate_hit.c.created_at <= now - timedelta(seconds=RATE_LIMIT_WINDOW_MAX)
        )
    )
    return result.rowcount or 0


# --- submissions --------------------------------------------------------------------------


def clean_anonymous_id(raw: str | None) -> str | None:
    """The Segment ``ajs_anonymous_id`` cookie value (JSON-quoted by analytics.js) or None."""
    text = (raw or "").strip().strip('"')
    return text if _ANON.fullmatch(text) else None


def workspace_country(conn: Connection, workspace_id: int) -> str | None:
    settings = conn.execute(select(workspace.c.settings).where(workspace.c.id == workspace_id)).scalar()
    country = (settings or {}).get("default_country")
    return country if isinstance(country, str) else None


def _value(f: dict[str, Any], raw: list[str], country: str | None) -> Any:
    text = raw[0].strip() if raw else ""
    label = f["label"]
    if f["type"] == "checkbox":
        if f["required"] and not text:
            raise InvalidInput(f"{label}: please tick this box", code="field_required")
        return bool(text)
    if not text:
        if f["required"]:
            raise InvalidInput(f"{label}: this field is required", code="field_required")
        return None
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(f"{label}: at most {MAX_VALUE_LENGTH} characters", code="field_too_long")
    if f["type"] == "email":
        try:
            return normalize_email(text)
        except InvalidInput:
            raise InvalidInput(f"{label}: not a valid email address", code="invalid_email") from None
    if f["type"] == "tel":
        try:
            return normalize_phone(text, country)
        except InvalidInput:
            raise InvalidInput(f"{label}: not a valid phone number", code="invalid_phone") from None
    if f["type"] == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise InvalidInput(f"{label}: not a number", code="invalid_number")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if f["type"] == "date":
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidInput(f"{label}: not a date (YYYY-MM-DD)", code="invalid_date") from None
    if f["type"] == "select" and text not in f["options"]:
        raise InvalidInput(f"{label}: choose one of the options", code="invalid_option")
    return text


def submit(
    conn: Connection,
    workspace_id: int,
    form_row: dict[str, Any],
    values: dict[str, list[str]],
    *,
    ip: str | None,
    user_agent: str | None,
    anonymous_id: str | None,
    now: datetime,
) -> int:
    """Validate a submission, create or merge its contact, record ``form_submitted`` and the
    consents; returns the contact id. Raises ``InvalidInput`` before writing anything."""
    country = workspace_country(conn, workspace_id)
    traits: dict[str, Any] = {}
    for f in form_row["fields"]:
        value = _value(f, values.get(f["name"], []), country)
        if value is not None:
            traits[f["name"]] = value
    if "email" not in traits and "phone" not in traits:
        raise InvalidInput("give an email address or a phone number", code="identity_required")
    ticked = set(values.get("consent", []))
    chosen = []
    for c in form_row["consent"]:
        if str(c["topic_id"]) in ticked:
            chosen.append(c)
        elif c["required"]:
            raise InvalidInput(f"{c['label']}: please tick this box", code="consent_required")
    anon = clean_anonymous_id(anonymous_id) or str(uuid.uuid4())
    context: dict[str, Any] = {"ip": ip, "userAgent": user_agent, "library": {"name": "kairos-forms"}}
    context = {k: v for k, v in context.items() if v is not None}
    key = form_row["key"]
    properties = {"form_key": key, "form_id": form_row["id"], **traits}
    if chosen:
        properties["consents"] = [c["topic_id"] for c in chosen]
    base = {"anonymousId": anon, "context": context, "timestamp": now.isoformat()}
    messages = [
        parse_message({**base, "type": "identify", "traits": traits}, country, now),
        parse_message(
            {**base, "context": {**context, **_visit(values)}, "type": "track", "event": "form_submitted",
             "properties": properties},
            country, now,
        ),
    ]  # fmt: skip
    ingest(conn, workspace_id, messages, now)
    contact_id = find_contact_id(conn, workspace_id, "anonymous_id", anon)
    if contact_id is None:  # pragma: no cover - ingest always records the anonymous id
        raise NotFound("the submission's contact was not found", code="contact_not_found")
    for c in chosen:
        topic = consent.get_topic(conn, workspace_id, c["topic_id"])
        consent.subscribe(
            conn, workspace_id, contact_id, topic, now, source=f"form:{key}",
            wording_version=c["wording_version"], ip=ip, user_agent=user_agent,
        )  # fmt: skip
    log.info("form %s/%s: submission stored for contact %s", workspace_id, key, contact_id)
    return contact_id


def _visit(values: dict[str, list[str]]) -> dict[str, Any]:
    """The submission's page and UTM values as Segment context (``page``: url, referrer;
    ``campaign``), from which ingest takes its acquisition source."""
    out: dict[str, Any] = {}
    page = {
        key: text[:MAX_URL]
        for key, name in (("url", PAGE_URL), ("referrer", REFERRER))
        if (text := (values.get(name) or [""])[0].strip())
    }
    if page:
        out["page"] = page
    campaign = {
        key: text[:MAX_VALUE_LENGTH]
        for name, key in UTM_FIELDS.items()
        if (text := (values.get(name) or [""])[0].strip())
    }
    if campaign:
        out["campaign"] = campaign
    return out


# --- reading submissions ------------------------------------------------------------------

#: properties of a ``form_submitted`` event that are not the visitor's answers
_SUBMISSION_META = ("form_key", "form_id", "consents")


def list_submissions(
    conn: Connection, workspace_id: int, form_id: int, *, limit: int = 50, before: int | None = None
) -> list[dict[str, Any]]:
    """The form's accepted submissions, newest first: its ``form_submitted`` events (``before``:
    the last event id of the previous page). Each has the contact it went to (the survivor of
    later merges: events move with their contact), when, the submitted ``values`` and the
    topic ids whose consent boxes were ticked. Spam and refused submissions store nothing, so
    they are not here."""
    get_form(conn, workspace_id, form_id)
    e = event.c
    stmt = select(e.id, e.contact_id, e.timestamp, e.properties).where(
        e.workspace_id == workspace_id,
        e.name == "form_submitted",
        json_value(e.properties, "form_id", "number", conn.dialect.name) == form_id,
    )
    if before is not None:
        stmt = stmt.where(e.id < before)
    out = []
    for row in conn.execute(stmt.order_by(e.id.desc()).limit(limit)):
        props = dict(row.properties or {})
        consents = props.get("consents") or []
        out.append(
            {
                "id": row.id,
                "contact_id": row.contact_id,
                "submitted_at": row.timestamp,
                "values": {k: v for k, v in props.items() if k not in _SUBMISSION_META},
                "consents": [c for c in consents if isinstance(c, int)],
            }
        )
    return out


def draft_form(
    conn: Connection, workspace_id: int, values: dict[str, Any], keyring: Keyring
) -> dict[str, Any]:
    """An unsaved form checked as ``create_form`` would (fields, consent, return URLs; no
    CAPTCHA), shaped like a stored one for rendering a preview. Stores nothing."""
    checked = _check_form(
        conn, workspace_id, {"status": "active", **values, "rate_limit": None, "captcha": None}, keyring
    )
    key = values.get("key") or "preview"
    return {
        **checked, "id": 0, "workspace_id": workspace_id, "key": key, "captcha": None, "rate_limit": None,
    }  # fmt: skip
