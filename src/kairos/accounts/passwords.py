"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended
profile: 64 MiB, 3 passes, 4 lanes), never stored or logged in clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kairos.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing is deliberately slow: bound the input

_hasher = PasswordHasher()
#: verified against when the account does not exist, so timing does not tell who has one
_DUMMY = _hasher.hash("not a password of anyone's")


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters", code="weak_password")
    if len(set(password)) < 4:
        raise InvalidInput("a password needs more than a few different characters", code="weak_password")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the hash (``None``: no such account — still hashed)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
