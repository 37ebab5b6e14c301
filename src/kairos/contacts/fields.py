"""Profile fields, identifier normalisation and typed custom attributes.

Incoming traits are split into the built-in profile columns (email, phone, names, timezone,
locale) and custom traits. Custom traits with an attribute definition are checked against
its type and coerced where that loses nothing ("42" → 42 for a number); anything else is an
``InvalidInput`` naming the trait.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from kairos.clock import isoformat_z
from kairos.contacts.phones import is_valid_e164
from kairos.errors import InvalidInput

AttributeType = Literal["string", "number", "boolean", "datetime", "list"]
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = ("string", "number", "boolean", "datetime", "list")

#: Built-in profile columns that traits and the API may set.
PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "timezone", "locale")

#: Segment trait names (and snake_case spellings) that land in a profile column.
TRAIT_TO_FIELD = {
    "email": "email",
    "phone": "phone",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "timezone": "timezone",
    "locale": "locale",
}

#: Names a custom attribute may not take: they mean a built-in field.
RESERVED_NAMES = frozenset(
    {
        *TRAIT_TO_FIELD,
        "id",
        "external_id",
        "user_id",
        "userId",
        "anonymous_id",
        "anonymousId",
        "lifecycle_stage",
        "score",
        "tags",
        "created_at",
        "updated_at",
        "merged_into",
    }
)


#: Reserved names a Segment identify may repeat in its traits: the message's own ``userId``
#: or ``anonymousId``. Equal to it, the trait is accepted and not stored (it says nothing
#: new); different, it is refused: a contact has one external id, set by ``userId``.
TRAIT_IDENTIFIERS = {
    "id": "userId",
    "userId": "userId",
    "user_id": "userId",
    "external_id": "userId",
    "anonymousId": "anonymousId",
    "anonymous_id": "anonymousId",
}

#: Why each other reserved name cannot be a trait (the error tells the sender what to do).
_REFUSED_TRAITS = {
    "score": "is the built-in lead score, which traits cannot set; send your own score under "
    "another name (e.g. external_score) and declare it as a number attribute",
    "lifecycle_stage": "is the built-in lifecycle stage, which traits cannot set; set it with "
    'PATCH /api/v1/contacts/{id} {"lifecycle_stage": …} (recorded in its history)',
    "tags": "is built in: tag contacts with POST /api/v1/contacts/{id}/tags/{tag}",
    "created_at": "is kept by Kairos (when the contact was created); send a sign-up date as "
    "createdAt or another name",
    "updated_at": "is kept by Kairos (when the contact last changed); use another name",
    "merged_into": "is kept by Kairos (identity merges); use another name",
}


def reserved_trait_error(name: str, hint: str) -> InvalidInput:
    return InvalidInput(f"trait {name!r} {hint}", code="reserved_trait")


def check_custom_trait_names(traits: dict[str, Any]) -> None:
    """Refuse custom traits named like a built-in field (they would be stored where no
    attribute definition or segment can reach them). The management API and imports set
    built-in fields by their own names, never through ``traits``."""
    for key in traits:
        if key in RESERVED_NAMES:
            hint = _REFUSED_TRAITS.get(key)
            if hint is None:
                column = TRAIT_TO_FIELD.get(key)
                target = column or ("external_id" if TRAIT_IDENTIFIERS.get(key) == "userId" else key)
                hint = f"is a built-in contact field: give it as {target!r} outside traits"
            raise reserved_trait_error(key, hint)


@dataclass(slots=True)
class ProfileChanges:
    """What one message or request asks to change on a contact."""

    fields: dict[str, str | None] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)  # None removes the trait
    defaults: dict[str, str] = field(default_factory=dict)  # set only where still empty
    trait_defaults: dict[str, Any] = field(default_factory=dict)  # set only where absent

    def update(self, other: ProfileChanges) -> None:
        self.fields.update(other.fields)
        self.traits.update(other.traits)
        for key, value in other.defaults.items():
            self.defaults.setdefault(key, value)
        for key, value in other.trait_defaults.items():
            self.trait_defaults.setdefault(key, value)

    def as_defaults(self) -> ProfileChanges:
        """The same values, but only to fill what is empty: nothing is overwritten or removed."""
        out = ProfileChanges(defaults=dict(self.defaults), trait_defaults=dict(self.trait_defaults))
        for key, value in self.fields.items():
            if value is not None:
                out.defaults.setdefault(key, value)
        for key, value in self.traits.items():
            if value is not None:
                out.trait_defaults.setdefault(key, value)
        return out


_ATEXT = r"A-Za-z0-9_!#$%&'*+\-/=?^`{|}~"
_SIMPLE_EMAIL = re.compile(
    rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]"
)
_SPECIAL_USE = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)


def fast_email(text: str) -> str | None:
    """The normalised form of a plain ASCII address, or None to leave it to the full validator.

    ``normalize_email`` (email-validator) costs ~40 µs; an import of unique addresses would
    spend most of its time there. For addresses made only of dot-atom ASCII in the local
    part and letter-digit-hyphen labels in the domain, its checks reduce to this regular
    expression plus the length limit, no ``--`` (punycode and reserved label forms) and no
    special-use top-level domain, and its result to the address lower-cased. Anything else
    (international, quoted, odd) goes through the validator. ``tests/contacts/test_imports.py``
    checks the two agree.
    """
    if len(text) > 254 or "--" in text or not _SIMPLE_EMAIL.fullmatch(text):
        return None
    lowered = text.lower()
    if lowered.endswith(_SPECIAL_USE):
        return None
    return lowered


@lru_cache(maxsize=65536)
def normalize_email(raw: str) -> str:
    fast = fast_email(raw)
    if fast is not None:
        return fast
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"{raw!r} is not a valid email address: {exc}", code="invalid_email") from None


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, default_country: str | None = None) -> str:
    """E.164. Numbers without a +country prefix need the workspace's default country."""
    if is_valid_e164(raw):  # already E.164 and valid: ~2 µs instead of ~80 (contacts/phones.py)
        return raw
    try:
        number = phonenumbers.parse(raw, default_country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{raw!r} is not a valid phone number: {exc}", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{raw!r} is not a valid phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def normalize_timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{raw!r} is not an IANA time zone name", code="invalid_timezone") from None
    return raw


def normalize_field(name: str, value: Any, default_country: str | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{name} must be a string", code=f"invalid_{name}")
    text = str(value).strip()
    if name == "email":
        return normalize_email(text)
    if name == "phone":
        return normalize_phone(text, default_country)
    if name == "timezone":
        return normalize_timezone(text)
    limit = 35 if name == "locale" else 200
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", code=f"invalid_{name}")
    return text


def split_traits(
    traits: dict[str, Any],
    default_country: str | None,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
) -> ProfileChanges:
    """Profile columns from Segment traits; everything else stays a custom trait.

    Reserved names are never stored as custom traits: ``TRAIT_TO_FIELD`` names fill their
    column, ``TRAIT_IDENTIFIERS`` equal to the message's id are dropped, the rest are
    refused (``reserved_trait``, naming the trait and what to do instead)."""
    changes = ProfileChanges()
    ids = {"userId": user_id, "anonymousId": anonymous_id}
    for key, value in traits.items():
        column = TRAIT_TO_FIELD.get(key)
        if column is not None:
            changes.fields[column] = normalize_field(column, value, default_country)
        elif key not in RESERVED_NAMES:
            changes.traits[key] = value
        elif key in TRAIT_IDENTIFIERS:
            same_as = TRAIT_IDENTIFIERS[key]
            if value is not None and (ids[same_as] is None or str(value) != ids[same_as]):
                raise reserved_trait_error(
                    key,
                    f"must equal the message's {same_as} ({ids[same_as]!r}) when given: it is "
                    f"not a custom trait, a contact's identifiers come from userId and anonymousId",
                )
        else:
            raise reserved_trait_error(key, _REFUSED_TRAITS[key])
    return changes


def coerce_trait(name: str, kind: str, value: Any) -> Any:
    """Check ``value`` against the attribute type, converting only where nothing is lost."""
    if value is None:
        return None
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    # "42" is an integer; "1e30" stays a float: an int of 10^30 fits no
                    # column or JSON encoder (it was a 500)
                    whole = number.is_integer() and value.strip().lstrip("+-").isdigit()
                    return int(number) if whole and abs(number) < 2**63 else number
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind == "datetime":
        if isinstance(value, str):
            parsed = parse_date_or_datetime(value)
            if parsed is not None:
                return parsed
    elif (
        kind == "list"
        and isinstance(value, list)
        and all(v is None or isinstance(v, str | int | float | bool) for v in value)
    ):
        return value
    raise InvalidInput(f"trait {name!r} must be a {kind}, got {value!r}", code="invalid_trait")


def parse_date_or_datetime(text: str) -> str | None:
    """A date stays a date (birthdays have no time zone); a date-time becomes UTC ``…Z``."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return isoformat_z(datetime.fromisoformat(text))
    except ValueError:
        return None


def coerce_traits(traits: dict[str, Any], definitions: dict[str, str]) -> dict[str, Any]:
    if not definitions:
        return traits
    out = dict(traits)
    for key, value in traits.items():
        kind = definitions.get(key)
        if kind is not None:
            out[key] = coerce_trait(key, kind, value)
    return out
