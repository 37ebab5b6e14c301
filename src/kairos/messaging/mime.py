"""An email message on the wire: RFC 5322 headers and a MIME body, built directly as bytes.

A message is a block of header lines (``Name: value``, CRLF-terminated, folded onto
continuation lines that begin with a space), an empty line, and a body. Ours is UTF-8 text
in quoted-printable: either one ``text/plain`` or ``text/html`` part, or a
``multipart/alternative`` holding the plain part and then the HTML part (clients show the
last part they can render).

Building bytes directly, instead of through ``email.message.EmailMessage``, is what lets a
sender prepare tens of thousands of personalised messages a second; the stdlib parser reads
the result back exactly (``tests/messaging/test_mime.py``).

Everything that reaches a header is sanitised, because a header value that carries a line
break would start a header of its own (``Subject: Hi\\r\\nBcc: victim@example.com``): CR, LF
and other control characters in names, subjects and extra header values collapse to a
space; header names and addresses that could break the syntax raise ``ValueError``.
Non-ASCII display names, subjects and header values become RFC 2047 encoded-words of at
most 75 characters, each on its own folded line.

Dot-stuffing (a body line that starts with ``.``) is the SMTP layer's job, not this one's.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache

__all__ = ["build_email", "check_address", "format_address", "format_date", "quoted_printable"]

#: Headers the builder writes itself; an extra header of the same name would make the
#: message ambiguous (two Subjects, a second Content-Type), so it is refused.
RESERVED_HEADERS = frozenset(
    {
        "date",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "sender",
        "return-path",
    }
)

_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
#: Line breaks (including the Unicode ones that ``str.splitlines`` honours) and other
#: control characters; tab stays, it is ordinary folding whitespace.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+")
_ATEXT = r"A-Za-z0-9!#$%&'*+\-/=?^_`{|}~"
_PHRASE_ATOMS = re.compile(rf"[{_ATEXT} ]+")
_SIMPLE_ADDRESS = re.compile(rf"[{_ATEXT}.]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_LOCAL_DOT_ATOM = re.compile(rf"(?:[{_ATEXT}.]|[^\x00-\x7f])+")
_QUOTED_LOCAL = re.compile(r'"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])*"')
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_DOMAIN_LITERAL = re.compile(r"\[(?:IPv6:[0-9A-Fa-f:.]+|[0-9.]+)\]")
_MSG_ID = re.compile(rf"[{_ATEXT}.]+@(?:[{_ATEXT}.]+|\[[!-Z^-~]*\])")

#: Bytes a quoted-printable body may carry as they are (printable ASCII, tab and LF);
#: ``bytes.translate`` deleting these leaves whatever needs the full encoder.
_QP_PLAIN = bytes(range(32, 127)) + b"\t\n"
#: A line that ends in a space or tab, which must be escaped there; starting the pattern
#: with the line break lets the regex engine skip to each one (5x faster than b" \n" in).
_QP_TRAILING_SPACE = re.compile(rb"\n(?<=[ \t]\n)")
_QP_SPACE = {32: b"=20", 9: b"=09"}

#: One soft-broken piece of an escaped line: at most 75 characters, cut where neither of
#: the last two is "=" so that no "=XX" escape is split; the rest of a line at its end.
_QP_CHUNK = re.compile(rb".{0,73}[^=]{2}|.+")

#: RFC 2047: an encoded-word is at most 75 characters. ``=?utf-8?b?`` + ``?=`` is 12, so
#: 45 bytes (60 base64 characters) make the longest word; with a leading space it fits a
#: continuation line of 78 (RFC 5322's "should", also what the stdlib writes; RFC 2047's
#: older 76 is not kept by it either). The first word is sized to follow ``Field: ``.
_WORD_BYTES = 45
_FOLD_AT = 78  # 998 is the hard limit
_MAX_LINE = 998


def build_email(
    *,
    from_email: str,
    from_name: str | None,
    to: str,
    subject: str,
    html: str,
    text: str,
    message_id: str,
    date: datetime | float,
    headers: Mapping[str, str] | None = None,
    reply_to: str | None = None,
    allow_8bit: bool = False,
) -> bytes:
    """The complete message as CRLF-terminated bytes.

    With ``allow_8bit`` (the server takes 8BITMIME), a non-ASCII body goes as UTF-8 with
    ``Content-Transfer-Encoding: 8bit`` when its lines fit SMTP's 998 bytes: encoding
    quoted-printable costs ~40 µs for a 10 KB newsletter with one accented letter.

    ``message_id`` is the part inside the angle brackets (``key@domain``); ``date`` is an
    aware ``datetime`` or a POSIX timestamp. ``headers`` are extra header fields such as
    ``List-Unsubscribe``; names must be ``[A-Za-z0-9-]`` and must not be one the builder
    writes. Raises ``ValueError`` for a bad address, header name or message id.
    """
    if not _MSG_ID.fullmatch(message_id):
        raise ValueError(f"invalid Message-ID {message_id!r}")
    out = [
        b"Date: " + format_date(date).encode() + b"\r\n",
        _address_header("From", from_name, from_email),
        _address_header("To", None, to),
    ]
    if reply_to:
        out.append(_address_header("Reply-To", None, reply_to))
    out.append(_unstructured("Subject", subject))
    out.append(b"Message-ID: <" + message_id.encode() + b">\r\nMIME-Version: 1.0\r\n")
    if headers:
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"invalid header name {name!r}")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is written by the message builder")
            out.append(_unstructured(name, value, structured=True))
    if text and html:
        # "=_" can never occur in quoted-printable output ("=" is always followed by two
        # hex digits or a line break there), so this boundary cannot collide with content.
        # An 8-bit part could contain it: such a part falls back to quoted-printable.
        boundary = b"=_" + hashlib.blake2b(message_id.encode(), digest_size=12).hexdigest().encode()
        out += (
            b'Content-Type: multipart/alternative; boundary="', boundary, b'"\r\n\r\n',
            b"--", boundary, b"\r\n", *_part("plain", text, allow_8bit, boundary), b"\r\n",
            b"--", boundary, b"\r\n", *_part("html", html, allow_8bit, boundary), b"\r\n",
            b"--", boundary, b"--\r\n",
        )  # fmt: skip
    elif html:
        out += (*_part("html", html, allow_8bit, None), b"\r\n")
    else:
        out += (*_part("plain", text, allow_8bit, None), b"\r\n")
    return b"".join(out)


def _part(subtype: str, text: str, allow_8bit: bool, boundary: bytes | None) -> tuple[bytes, bytes]:
    """(part headers, encoded body) of one text part."""
    if allow_8bit and not text.isascii():
        data = text.replace("\r\n", "\n").replace("\r", "\n").encode()
        lines = data.split(b"\n")
        if max(map(len, lines)) <= 998 and (boundary is None or boundary not in data):
            return _EIGHT_BIT[subtype], b"\r\n".join(lines)
    return (_PLAIN_PART if subtype == "plain" else _HTML_PART), quoted_printable(text)


_PLAIN_PART = (
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
)
_HTML_PART = b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
_EIGHT_BIT = {
    kind: f"Content-Type: text/{kind}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
    for kind in ("plain", "html")
}


def quoted_printable(text: str) -> bytes:
    """``text`` as UTF-8 quoted-printable with CRLF line breaks and lines of at most 76.

    ``binascii.b2a_qp`` walks every byte twice (~4 µs per KB). Most HTML and plain text is
    printable ASCII, where the only work is escaping ``=`` and trailing whitespace and
    breaking long lines, done here with whole-buffer operations: ~1.3 µs per KB for short
    lines, ~3 µs per KB when every line needs breaking. A few other bytes (an accented
    letter, a "·") are escaped with one ``replace`` per distinct byte; text with many
    distinct ones (mostly non-Latin) goes through ``b2a_qp``.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode()
    other = set(data.translate(None, _QP_PLAIN))
    if len(other) > 32:  # mostly non-Latin text: one C pass beats many replaces
        return binascii.b2a_qp(data, False, True, False).replace(b"\n", b"\r\n")
    if b"=" in data:
        data = data.replace(b"=", b"=3D")
    for byte in other:  # each distinct byte is one C-speed replace, whatever its count
        data = data.replace(bytes((byte,)), b"=%02X" % byte)
    lines = data.split(b"\n")
    if _QP_TRAILING_SPACE.search(data) or data.endswith((b" ", b"\t")):
        lines = [line[:-1] + _QP_SPACE[line[-1]] if line[-1:] in (b" ", b"\t") else line for line in lines]
    if max(map(len, lines)) > 76:
        lines = [line if len(line) <= 76 else b"=\r\n".join(_QP_CHUNK.findall(line)) for line in lines]
    return b"\r\n".join(lines)


def format_date(date: datetime | float) -> str:
    """RFC 5322 date-time (``Mon, 02 Mar 2026 12:00:00 +0000``); a naive datetime is UTC."""
    if isinstance(date, datetime):
        return format_datetime(date if date.tzinfo is not None else date.replace(tzinfo=UTC))
    return _date_of_second(int(date))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=8)
def _date_of_second(second: int) -> str:
    # A send loop stamps thousands of messages within the same second.
    t = time.gmtime(second)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def check_address(address: str) -> str:
    """``address`` (``local@domain``) if it is safe in a header and an SMTP command.

    Returns it with an internationalised domain in its ASCII (IDNA) form. A non-ASCII local
    part is kept: it needs SMTPUTF8 on the wire. Raises ``ValueError`` for anything that
    could break out of ``<...>`` or a header: line breaks, controls, spaces, ``<>,;``
    outside a quoted local part, a missing ``@``.
    """
    if _SIMPLE_ADDRESS.fullmatch(address) and len(address) <= 254:
        return address
    return _check_address_slow(address)


@lru_cache(maxsize=1024)
def _check_address_slow(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"invalid email address {address!r}")
    if not (_LOCAL_DOT_ATOM.fullmatch(local) or _QUOTED_LOCAL.fullmatch(local)):
        raise ValueError(f"invalid email address {address!r}")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"invalid email address {address!r}: bad domain") from None
    if not (_DOMAIN.fullmatch(domain) or _DOMAIN_LITERAL.fullmatch(domain)):
        raise ValueError(f"invalid email address {address!r}")
    result = f"{local}@{domain}"
    if len(result.encode()) > 254:
        raise ValueError(f"email address too long: {address!r}")
    return result


def format_address(name: str | None, email: str) -> str:
    """``Name <email>`` for a header, or just ``email`` when there is no name.

    An ASCII name made of words stays as it is, one with specials (``,``, ``.``, quotes) is
    quoted, a non-ASCII one becomes encoded-words. The result is one line; the header
    writer folds it between words.
    """
    return _format_address(name, email, "From")


def _format_address(name: str | None, email: str, field: str) -> str:
    email = check_address(email)
    phrase = _phrase(clean_header_value(name).strip(), _first_word_bytes(field)) if name else ""
    return f"{phrase} <{email}>" if phrase else email


def clean_header_value(value: str) -> str:
    """``value`` with every run of CR, LF and other control characters made one space."""
    return value if value.isprintable() else _CONTROL.sub(" ", value)


def _phrase(name: str, first_bytes: int) -> str:
    if not name:
        return ""
    if name.isascii() and "=?" not in name and len(name) <= 900:
        if _PHRASE_ATOMS.fullmatch(name) and "  " not in name:
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    # Each encoded-word ends where the bytes run out, spaces included, so a decoder that
    # drops the whitespace between words (as RFC 2047 says) gets the name back exactly.
    # Most names fit in one word, which even decoders that keep that whitespace read right.
    return " ".join(_encoded_words(name, first_bytes, _WORD_BYTES))


def _first_word_bytes(field: str) -> int:
    return max((_FOLD_AT - len(field) - 2 - 12) // 4 * 3, 6)


@lru_cache(maxsize=4096)
def _address_header(field: str, name: str | None, email: str) -> bytes:
    # Cached: the sender (and its reply-to) is the same for a whole campaign.
    return _fold(field, _format_address(name, email, field))


def _unstructured(field: str, value: str, *, structured: bool = False) -> bytes:
    value = clean_header_value(value)
    if value.isascii() and "=?" not in value:
        if len(field) + 2 + len(value) <= _FOLD_AT:
            return f"{field}: {value}\r\n".encode()
        try:
            return _fold(field, value)
        except ValueError:
            if structured:
                raise
    elif structured and value.isascii():
        return _fold(field, value)
    # Non-ASCII (or unfoldable) text: encoded-words, one per line; whitespace between
    # encoded-words is not part of the text, so the split can fall anywhere.
    words = _encoded_words(value, _first_word_bytes(field), _WORD_BYTES)
    return f"{field}: ".encode() + "\r\n ".join(words).encode() + b"\r\n"


def _encoded_words(text: str, first_bytes: int, bytes_per_word: int) -> list[str]:
    """``text`` as ``=?utf-8?b?...?=`` words, never splitting a UTF-8 sequence."""
    data = text.encode()
    words = []
    start, size, n = 0, first_bytes, len(data)
    while start < n:
        end = min(start + size, n)
        while end < n and (data[end] & 0xC0) == 0x80:
            end -= 1  # back off to the start of the character
        if end == start:  # a word too small for this character: take the whole character
            end = start + 1
            while end < n and (data[end] & 0xC0) == 0x80:
                end += 1
        words.append("=?utf-8?b?" + binascii.b2a_base64(data[start:end], newline=False).decode() + "?=")
        start, size = end, bytes_per_word
    return words or ["=?utf-8?b??="]


def _fold(field: str, value: str) -> bytes:
    """``Field: value`` folded before spaces so that lines stay near 78 (at most 998)."""
    line = f"{field}: {value}"
    if len(line) <= _FOLD_AT:
        return line.encode() + b"\r\n"
    words = value.split(" ")
    lines: list[str] = []
    current = f"{field}:"
    for word in words:
        # A fold is CRLF inserted before an existing space, so unfolding restores the
        # value exactly; never fold before an empty word (a whitespace-only line).
        if word and len(current) + 1 + len(word) > _FOLD_AT and current.strip(" ") != f"{field}:":
            lines.append(current)
            current = " " + word
        else:
            current += " " + word
    lines.append(current)
    if any(len(part.encode()) > _MAX_LINE for part in lines):
        raise ValueError(f"header {field} has a word too long to fold within 998 characters")
    return "\r\n".join(lines).encode() + b"\r\n"
