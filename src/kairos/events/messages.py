"""Segment HTTP Tracking API messages: decoding, validation, timestamps.

This is the ingest hot path, so it is plain Python over orjson-decoded dicts rather than a
pydantic model: validation is a few dict lookups per message. Every rejection is an
``InvalidInput`` whose message names the message (``batch[3]``) and the field.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from kairos.clock import ensure_utc
from kairos.contacts.fields import ProfileChanges, split_traits
from kairos.errors import InvalidInput

MAX_REQUEST_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_MESSAGES = 2500
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 200

MESSAGE_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
#: Path segment → message type ("batch" for batches); browsers use the one-letter forms.
ENDPOINTS = {
    "identify": "identify", "i": "identify",
    "track": "track", "t": "track",
    "page": "page", "p": "page",
    "screen": "screen", "s": "screen",
    "group": "group", "g": "group",
    "alias": "alias", "a": "alias",
    "batch": "batch", "b": "batch", "import": "batch",
}  # fmt: skip


@dataclass(slots=True)
class Message:
    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    name: str | None
    properties: dict[str, Any]
    context: dict[str, Any] | None
    integrations: dict[str, Any] | None
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime
    previous_id: str | None = None
    profile: ProfileChanges | None = None  # identify: what to change on the contact
    where: str = "message"
    #: properties, context, integrations as JSON text, once ``encode_json`` ran
    encoded: tuple[str, str | None, str | None] | None = None

    def encode_json(self) -> tuple[str, str | None, str | None]:
        if self.encoded is None:
            self.encoded = (
                orjson.dumps(self.properties).decode(),
                None if self.context is None else orjson.dumps(self.context).decode(),
                None if self.integrations is None else orjson.dumps(self.integrations).decode(),
            )
        return self.encoded


def decode_body(raw: bytes, content_encoding: str | None) -> tuple[dict[str, Any], int]:
    """Bytes of a request body → the JSON object and its decoded size in bytes, enforcing
    the size limit after inflation."""
    if len(raw) > MAX_REQUEST_BYTES and not content_encoding:
        raise InvalidInput(
            f"request body is {len(raw)} bytes; the limit is {MAX_REQUEST_BYTES}",
            code="request_too_large",
        )
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        raw = _inflate(raw, encoding)
    elif encoding not in ("", "identity"):
        raise InvalidInput(f"unsupported Content-Encoding {content_encoding!r}", code="unsupported_encoding")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            raise InvalidInput(
                f"request body is not valid UTF-8 (byte {uexc.start})", code="invalid_utf8"
            ) from None
        raise InvalidInput(f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object", code="invalid_body")
    if b"\\u0000" in raw:
        # PostgreSQL cannot store NUL in text or JSON; refuse it on every database alike.
        raise InvalidInput("request body contains a NUL character (\\u0000)", code="invalid_character")
    try:
        # what parses must also serialise when the writer stores it (orjson stops at 255
        # levels); one C-speed pass, far cheaper than walking the batch in Python
        orjson.dumps(body)
    except orjson.JSONEncodeError:
        raise InvalidInput("request body is nested too deeply to store", code="too_deep") from None
    return body, len(raw)


def _inflate(raw: bytes, encoding: str) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, MAX_REQUEST_BYTES + 1)
    except zlib.error:
        raise InvalidInput("request body is not valid gzip data", code="invalid_gzip") from None
    if len(out) > MAX_REQUEST_BYTES or inflater.unconsumed_tail:
        raise InvalidInput(
            f"request body is over {MAX_REQUEST_BYTES} bytes once decompressed",
            code="request_too_large",
        )
    if not inflater.eof:
        raise InvalidInput("request body is truncated gzip data", code="invalid_gzip")
    return out


def parse_request(
    kind: str,
    body: dict[str, Any],
    received_at: datetime,
    *,
    default_country: str | None = None,
    body_size: int,
) -> list[Message]:
    """All messages of one request; raises on the first invalid one (nothing is accepted).

    ``body_size`` is the decoded size of the request body in bytes."""
    if kind != "batch":
        if body_size > MAX_MESSAGE_BYTES:
            raise InvalidInput(
                f"message is {body_size} bytes; the limit is {MAX_MESSAGE_BYTES}",
                code="message_too_large",
            )
        return [parse_message(body, kind, received_at, default_country=default_country)]
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise InvalidInput("a batch request needs a 'batch' array of messages", code="invalid_batch")
    if len(batch) > MAX_BATCH_MESSAGES:
        raise InvalidInput(
            f"batch has {len(batch)} messages; the limit is {MAX_BATCH_MESSAGES}",
            code="batch_too_large",
        )
    context = _object(body, "context", "batch")
    integrations = _object(body, "integrations", "batch")
    sent_at = _timestamp(body.get("sentAt"), "sentAt", "batch")
    messages = []
    for i, item in enumerate(batch):
        where = f"batch[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be a JSON object", code="invalid_message")
        # A message cannot be larger than the body holding it: only measure when it could be.
        size = len(orjson.dumps(item)) if body_size > MAX_MESSAGE_BYTES else 0
        if size > MAX_MESSAGE_BYTES:
            raise InvalidInput(
                f"{where} is {size} bytes; the limit is {MAX_MESSAGE_BYTES}", code="message_too_large"
            )
        messages.append(
            parse_message(
                item,
                None,
                received_at,
                default_country=default_country,
                batch_context=context,
                batch_integrations=integrations,
                batch_sent_at=sent_at,
                where=where,
            )
        )
    return messages


def parse_message(
    obj: dict[str, Any],
    kind: str | None,
    received_at: datetime,
    *,
    default_country: str | None = None,
    batch_context: dict[str, Any] | None = None,
    batch_integrations: dict[str, Any] | None = None,
    batch_sent_at: datetime | None = None,
    where: str = "message",
) -> Message:
    declared = obj.get("type")
    if kind is None:
        if declared not in MESSAGE_TYPES:
            raise InvalidInput(
                f"{where}.type must be one of {', '.join(sorted(MESSAGE_TYPES))}, got {declared!r}",
                code="invalid_type",
            )
        kind = declared
    elif declared is not None and declared != kind:
        raise InvalidInput(
            f"{where}.type is {declared!r} but this is the {kind} endpoint", code="invalid_type"
        )

    user_id = _id(obj.get("userId"), "userId", where)
    anonymous_id = _id(obj.get("anonymousId"), "anonymousId", where)
    if user_id is None and anonymous_id is None:
        raise InvalidInput(f"{where} needs a userId or an anonymousId", code="missing_identity")

    message_id = _id(obj.get("messageId"), "messageId", where) or str(uuid.uuid4())
    context = _merge(batch_context, _object(obj, "context", where))
    integrations = _merge(batch_integrations, _object(obj, "integrations", where))

    original = _timestamp(obj.get("originalTimestamp"), "originalTimestamp", where) or _timestamp(
        obj.get("timestamp"), "timestamp", where
    )
    sent_at = _timestamp(obj.get("sentAt"), "sentAt", where) or batch_sent_at
    if original is None:
        timestamp = received_at
    elif sent_at is None:
        timestamp = original
    else:  # correct the device clock: receivedAt - (sentAt - originalTimestamp)
        timestamp = received_at - (sent_at - original)

    name: str | None = None
    previous_id: str | None = None
    profile: ProfileChanges | None = None
    properties: dict[str, Any]
    if kind == "track":
        name = _name(obj.get("event"), "event", where)
        if name is None:
            raise InvalidInput(f"{where}: a track call needs an 'event' name", code="missing_event")
        properties = _object(obj, "properties", where) or {}
    elif kind in ("page", "screen"):
        name = _name(obj.get("name"), "name", where)
        properties = _object(obj, "properties", where) or {}
    elif kind == "identify":
        # RudderStack's libraries send identify traits in context.traits; Segment's at the
        # top level. Accept both, the top level winning.
        traits = _object(obj, "traits", where) or {}
        context_traits = context.get("traits") if context else None
        if isinstance(context_traits, dict) and context_traits:
            traits = {**context_traits, **traits}
        properties = traits
        try:
            profile = split_traits(traits, default_country, user_id=user_id, anonymous_id=anonymous_id)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.traits: {exc.message}", code=exc.code) from None
    elif kind == "group":
        group_id = _id(obj.get("groupId"), "groupId", where)
        if group_id is None:
            raise InvalidInput(f"{where}: a group call needs a 'groupId'", code="missing_group_id")
        properties = {"groupId": group_id, "traits": _object(obj, "traits", where) or {}}
    else:  # alias
        previous_id = _id(obj.get("previousId"), "previousId", where)
        if previous_id is None or user_id is None:
            raise InvalidInput(
                f"{where}: an alias call needs both 'previousId' and 'userId'", code="missing_previous_id"
            )
        properties = {"previousId": previous_id}

    return Message(
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        properties=properties,
        context=context,
        integrations=integrations,
        timestamp=timestamp,
        original_timestamp=original,
        sent_at=sent_at,
        received_at=received_at,
        previous_id=previous_id,
        profile=profile,
        where=where,
    )


def _id(value: Any, field: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{where}.{field} must be a string", code="invalid_id")
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInput(f"{where}.{field} is longer than {MAX_ID_LENGTH} characters", code="invalid_id")
    return text


def _name(value: Any, field: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{field} must be a string", code="invalid_name")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"{where}.{field} is longer than {MAX_NAME_LENGTH} characters", code="invalid_name"
        )
    return value


def _object(obj: dict[str, Any], field: str, where: str) -> dict[str, Any] | None:
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}.{field} must be a JSON object", code="invalid_field")
    return value


def _merge(base: dict[str, Any] | None, own: dict[str, Any] | None) -> dict[str, Any] | None:
    if not base:
        return own or None
    if not own:
        return dict(base)
    return {**base, **own}


def _timestamp(value: Any, field: str, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return ensure_utc(parsed)
    raise InvalidInput(
        f"{where}.{field}: cannot parse {value!r} as an ISO 8601 timestamp", code="invalid_timestamp"
    )
