"""Field normalisation: the email fast path must agree with email-validator."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from kairos.contacts.fields import fast_email


def validator(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@pytest.mark.parametrize(
    "text",
    [
        "ann@example.com",
        "Ann.Lee+news@Mail.Example.CO.UK",
        "o'brien@example.ie",
        "x@a-b.io",
        "1@2.xyz",
        "a@localhost",
        "a@b.test",
        "a@x.local",
        "a@b.invalid",
        "a@xn--bcher-kva.ch",
        "a@ab--cd.com",
        "a@b.c0m",
        "a@b.1",
        "a@-b.com",
        "a@b-.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@example..com",
        "a@b@example.com",
        '"a b"@example.com',
        "Ann <ann@example.com>",
        "renée@example.fr",
        "ann@exämple.com",
        "x" * 64 + "@" + "y" * 63 + ".com",
        "x" * 100 + "@" + ("y" * 60 + ".") * 2 + "com",  # 250 characters
        "x" * 100 + "@" + ("y" * 62 + ".") * 2 + "com",  # 254
        "x" * 101 + "@" + ("y" * 62 + ".") * 2 + "com",  # 255: too long
        "a@" + "y" * 64 + ".com",  # label too long
    ],
)
def test_fast_email_agrees_with_the_validator(text: str) -> None:
    fast = fast_email(text)
    assert fast is None or fast == validator(text)


def test_fast_email_takes_the_common_addresses() -> None:
    assert fast_email("Ann.Lee+news@Mail.Example.COM") == "ann.lee+news@mail.example.com"


_ADDRESS_CHARS = "aZ09.-_+'@xn!é "


@settings(max_examples=400, database=None, deadline=None)
@given(
    local=st.text(_ADDRESS_CHARS, min_size=0, max_size=12),
    labels=st.lists(st.text("aZ09-xné", min_size=0, max_size=8), min_size=1, max_size=4),
    tld=st.sampled_from(["com", "c0m", "test", "local", "io", "x", "1a", "a1", "onion", "co-uk", ""]),
)
def test_fast_email_never_accepts_what_the_validator_refuses_or_changes(
    local: str, labels: list[str], tld: str
) -> None:
    text = local + "@" + ".".join([*labels, tld])
    fast = fast_email(text)
    assert fast is None or fast == validator(text)


@settings(max_examples=400, database=None, deadline=None)
@given(
    local=st.from_regex(r"[A-Za-z0-9._+'!#-]{1,10}", fullmatch=True),
    labels=st.lists(st.from_regex(r"[A-Za-z0-9-]{1,6}", fullmatch=True), min_size=1, max_size=3),
    tld=st.from_regex(r"[A-Za-z0-9-]{1,4}", fullmatch=True),
)
def test_fast_email_agrees_on_plausible_addresses(local: str, labels: list[str], tld: str) -> None:
    text = local + "@" + ".".join([*labels, tld])
    fast = fast_email(text)
    assert fast is None or fast == validator(text)
