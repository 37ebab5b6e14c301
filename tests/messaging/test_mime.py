"""The message builder, read back with the stdlib parser: structure, headers, encodings and
header injection."""

from __future__ import annotations

import binascii
import email
import email.header
import email.policy
import re
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kairos.messaging.mime import build_email, check_address, format_address, format_date, quoted_printable

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ENCODED_WORD = re.compile(rb"=\?utf-8\?b\?[A-Za-z0-9+/=]*\?=")


def build(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "from_email": "news@shop.example",
        "from_name": "Shop",
        "to": "ada@example.com",
        "subject": "Hello",
        "html": "<p>Hi Ada</p>",
        "text": "Hi Ada",
        "message_id": "m-1@shop.example",
        "date": T0,
        "headers": None,
    }
    return build_email(**(fields | overrides))


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def check_wire_format(raw: bytes) -> None:
    """CRLF only, no line over 998, header lines near 78, encoded-words within 75."""
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(map(len, lines)) <= 998
    for line in header_block(raw).split(b"\r\n"):
        assert len(line) <= 998
        for word in ENCODED_WORD.findall(line):
            assert len(word) <= 75
        if ENCODED_WORD.search(line):
            assert len(line) <= 78, line


def text_of(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def test_a_message_has_the_rfc_5322_headers_and_both_parts_in_order() -> None:
    raw = build(
        headers={
            "List-Unsubscribe": "<https://shop.example/u/abc>, <mailto:unsub@shop.example?subject=abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        reply_to="help@shop.example",
    )
    check_wire_format(raw)
    msg = parse(raw)
    assert msg["Message-ID"] == "<m-1@shop.example>"
    assert msg["Date"] == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert msg["MIME-Version"] == "1.0"
    assert str(msg["From"]) == "Shop <news@shop.example>"
    assert str(msg["To"]) == "ada@example.com"
    assert str(msg["Reply-To"]) == "help@shop.example"
    assert msg["List-Unsubscribe"] == "<https://shop.example/u/abc>, <mailto:unsub@shop.example?subject=abc>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert text_of(msg, "plain") == "Hi Ada"
    assert text_of(msg, "html") == "<p>Hi Ada</p>"


@pytest.mark.parametrize(
    ("html", "text", "kind"), [("<p>x</p>", "", "text/html"), ("", "just text", "text/plain")]
)
def test_one_part_when_the_other_is_empty(html: str, text: str, kind: str) -> None:
    msg = parse(build(html=html, text=text))
    assert msg.get_content_type() == kind
    assert not msg.is_multipart()
    # The body of a message always ends with a line break (SMTP's end of data needs one).
    assert msg.get_content().replace("\r\n", "\n") == (html or text) + "\n"


def test_the_boundary_differs_per_message_and_never_occurs_in_content() -> None:
    a, b = build(message_id="a@x.example"), build(message_id="b@x.example")
    boundary_a = parse(a).get_boundary()
    assert boundary_a and boundary_a != parse(b).get_boundary()
    assert build(message_id="a@x.example") == a  # deterministic
    # Content that looks like the boundary is escaped by quoted-printable ("=" → "=3D").
    raw = build(text=f"--{boundary_a}\n--{boundary_a}--", message_id="a@x.example")
    assert [p.get_content_type() for p in parse(raw).iter_parts()] == ["text/plain", "text/html"]
    assert text_of(parse(raw), "plain") == f"--{boundary_a}\n--{boundary_a}--"


@pytest.mark.parametrize(
    "subject",
    [
        "Soldes d\u2019été : -50 % 🎉",
        "🎉" * 60,
        "日本語の件名" * 20,
        "Ünïcödé " * 40,
        "plain ascii but rather long " * 10,
        "x" * 2000,  # one word too long to fold: encoded-words instead
        "looks =?utf-8?b?ZW5jb2RlZA==?= but is not",
        "  spaces   inside  ",
        "",
    ],
)
def test_subjects_round_trip_and_fold_within_limits(subject: str) -> None:
    raw = build(subject=subject)
    check_wire_format(raw)
    assert parse(raw)["Subject"] == subject.lstrip()  # the parser drops the space after "Subject:"


@pytest.mark.parametrize(
    "name",
    [
        "Shop",
        "Doe, John",
        'John "JJ" Doe',
        "Back\\slash",
        "J. R. R. Tolkien",
        "Zoë Müller",
        'Zoë "Z" Müller, Ltd.',
        "李小龙",
        "🎉 Party Shop 🎉",
        "=?utf-8?q?not_encoded?=",
        "Name (with comment)",
        "a" * 100,
    ],
)
def test_display_names_round_trip(name: str) -> None:
    raw = build(from_name=name)
    check_wire_format(raw)
    [address] = parse(raw)["From"].addresses
    assert address.addr_spec == "news@shop.example"
    if len(name.encode()) <= 45 or name.isascii():
        assert address.display_name == name
    else:
        # Longer than one encoded-word: the stdlib parser keeps the whitespace between
        # encoded-words, which RFC 2047 (and mail clients) drop; decode by the RFC.
        assert rfc2047_phrase(raw, "From") == name


def rfc2047_phrase(raw: bytes, field: str) -> str:
    """The display name of an address header, decoded by RFC 2047's rules."""
    unfolded = header_block(raw).decode().replace("\r\n ", " ")
    line = next(line for line in unfolded.split("\r\n") if line.startswith(field + ": "))
    phrase = line[len(field) + 2 :].rsplit(" <", 1)[0]
    return str(email.header.make_header(email.header.decode_header(phrase)))


def test_format_address() -> None:
    assert format_address(None, "a@b.example") == "a@b.example"
    assert format_address("  ", "a@b.example") == "a@b.example"
    assert format_address("Ann Lee", "a@b.example") == "Ann Lee <a@b.example>"
    assert format_address("Lee, Ann", "a@b.example") == '"Lee, Ann" <a@b.example>'
    assert format_address('A "B" C', "a@b.example") == '"A \\"B\\" C" <a@b.example>'
    assert format_address("Zoë", "a@b.example") == "=?utf-8?b?Wm/Dqw==?= <a@b.example>"
    with pytest.raises(ValueError):
        format_address("x", "a@b.example>, evil@example.com")


def test_crlf_in_subject_names_and_header_values_never_makes_a_header() -> None:
    raw = build(
        subject="Hi\r\nBcc: victim@example.com",
        from_name="Shop\nBcc: victim@example.com",
        headers={
            "X-Campaign": "spring\r\nBcc: victim@example.com\r\n\r\n<html>",
            "X-Tag": "a\rb\x00c\u2028d",
        },
    )
    check_wire_format(raw)
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert not any(line.lower().startswith(b"bcc") for line in raw.split(b"\r\n"))
    assert msg["Subject"] == "Hi Bcc: victim@example.com"
    assert msg["From"].addresses[0].display_name == "Shop Bcc: victim@example.com"
    assert msg["X-Campaign"] == "spring Bcc: victim@example.com <html>"
    assert msg["X-Tag"] == "a b c d"
    assert msg.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    "name",
    [
        "Bcc:",
        "X Header",
        "X-Évite",
        "X-A\r\nBcc",
        "",
        "X-Tag:",
        "Subject",
        "content-type",
        "To",
        "Message-ID",
    ],
)
def test_bad_or_reserved_header_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        build(headers={name: "x"})


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com\r\nRCPT TO:<victim@example.com>",
        "ada@example.com\n",
        "ada@example.com>",
        "<ada@example.com>",
        "ada@example.com, victim@example.com",
        "ada@example.com;victim@example.com",
        "ada example@example.com",
        "no-at-sign",
        "@example.com",
        "ada@",
        "ada@exa mple.com",
        "ada@-",
        "",
        '"unterminated@example.com',
    ],
)
def test_unsafe_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError):
        check_address(address)
    with pytest.raises(ValueError):
        build(to=address)


def test_unusual_but_valid_addresses() -> None:
    assert check_address("first.last+tag@sub.example.com") == "first.last+tag@sub.example.com"
    assert check_address('"john doe, jr"@example.com') == '"john doe, jr"@example.com'
    assert check_address("user@bücher.example") == "user@xn--bcher-kva.example"
    assert check_address("josé@example.com") == "josé@example.com"  # needs SMTPUTF8 on the wire
    assert check_address("a@[192.0.2.1]") == "a@[192.0.2.1]"


@pytest.mark.parametrize("message_id", ["no-domain", "<a@b>", "a b@c", "a@b\r\nBcc: x@y", ""])
def test_bad_message_ids_are_refused(message_id: str) -> None:
    with pytest.raises(ValueError):
        build(message_id=message_id)


def test_dates() -> None:
    assert format_date(T0) == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert format_date(T0.timestamp()) == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert format_date(T0.timestamp() + 0.9) == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert format_date(datetime(2026, 3, 2, 12, 0)) == "Mon, 02 Mar 2026 12:00:00 +0000"  # naive: UTC
    paris = timezone(timedelta(hours=1))
    assert format_date(T0.astimezone(paris)) == "Mon, 02 Mar 2026 13:00:00 +0100"
    assert parse(build(date=T0.timestamp()))["Date"].datetime == T0


def test_bodies_keep_dots_long_lines_and_trailing_spaces() -> None:
    text = ".\n..\n.leading dot\nend with space \nend with tab\t\n" + "long=line " * 60 + "\nlast"
    html = "<p>" + "x" * 3000 + "</p>\n" + '<a href="https://x.example/?a=1&b=2">' * 40
    raw = build(text=text, html=html)
    check_wire_format(raw)
    assert max(len(line) for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")) <= 76
    msg = parse(raw)
    assert text_of(msg, "plain") == text
    assert text_of(msg, "html") == html


def test_line_endings_are_normalised_to_crlf() -> None:
    raw = build(text="a\r\nb\rc\nd", html="")
    assert b"a\r\nb\r\nc\r\nd\r\n" in raw
    assert text_of(parse(raw), "plain") == "a\nb\nc\nd\n"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_quoted_printable_round_trips_any_text(text: str) -> None:
    encoded = quoted_printable(text)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert not any(line.endswith((b" ", b"\t")) for line in encoded.split(b"\r\n"))
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert binascii.a2b_qp(encoded.replace(b"\r\n", b"\n")) == normalised.encode()


@settings(max_examples=150, deadline=None)
@given(subject=_TEXT, name=_TEXT, body=_TEXT)
def test_any_subject_name_and_body_round_trip_without_injection(subject: str, name: str, body: str) -> None:
    body = body or "x"  # keep both parts
    raw = build(subject=subject, from_name=name, text=body, html="<p>x</p>")
    check_wire_format(raw)
    msg = parse(raw)
    headers = {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"}
    assert set(msg.keys()) - headers <= {"Content-Transfer-Encoding"}  # single part: on top
    squash = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+")
    assert msg["Subject"].strip() == squash.sub(" ", subject).strip()
    assert text_of(msg, "plain") == body.replace("\r\n", "\n").replace("\r", "\n")


def test_eight_bit_bodies_when_the_server_takes_them() -> None:
    html = "<p>Grüße aus São Paulo · 北京</p>\n<p>.leading dot</p>"
    raw = build(html=html, text="Grüße · 北京", allow_8bit=True)
    check_wire_format(raw)
    assert raw.count(b"Content-Transfer-Encoding: 8bit") == 2
    assert "Grüße aus São Paulo · 北京".encode() in raw
    message = parse(raw)
    assert text_of(message, "html") == html and text_of(message, "plain") == "Grüße · 北京"
    # ASCII bodies stay quoted-printable (already cheap); without allow_8bit everything does
    assert b"8bit" not in build(allow_8bit=True) and b"8bit" not in build(html=html)


def test_an_eight_bit_body_with_an_overlong_line_falls_back_to_quoted_printable() -> None:
    html = "<p>" + "é" * 600 + "</p>"  # 1,207 bytes on one line
    raw = build(html=html, text="", allow_8bit=True)
    check_wire_format(raw)
    assert b"8bit" not in raw and text_of(parse(raw), "html").rstrip("\n") == html
