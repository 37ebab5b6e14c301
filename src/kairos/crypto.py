"""Keys derived from the server's secret key: encryption of stored provider secrets, signed
tokens for public links (tracking, unsubscribe, preference centre, confirmation) and keyed
hashes of values that must not be stored readable (form clients' IP addresses).

One secret (``KAIROS_SECRET_KEY``) yields independent keys per purpose through HKDF, so a
token minted for an open pixel can never pass as an unsubscribe token. Tokens carry a
message or contact id and a 128-bit truncated HMAC-SHA256; they are compared in constant
time.
"""

from __future__ import annotations

import base64
import hmac
import struct
from functools import cached_property
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAC_BYTES = 16  # 128 bits


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Keyring:
    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 8:
            raise ValueError("the secret key must be at least 8 characters")
        self._secret = secret_key.encode()
        self._mac_keys: dict[str, bytes] = {}
        self._digest_keys: dict[str, bytes] = {}

    def _derive(self, purpose: str) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kairos", info=purpose.encode())
        return hkdf.derive(self._secret)

    @cached_property
    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self._derive("secrets")))

    # --- stored secrets -------------------------------------------------------------

    def encrypt(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(orjson.dumps(value)).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = orjson.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError("stored secrets do not decrypt with this secret key") from None
        return data

    # --- keyed hashes ------------------------------------------------------------------

    def digest(self, purpose: str, data: bytes) -> str:
        """A keyed hash of ``data`` (128-bit truncated HMAC-SHA256, hex), for values that are
        matched but must never be stored readable (e.g. a client's IP address). Without the
        secret key the small space of such values cannot be searched."""
        key = self._digest_keys.get(purpose)
        if key is None:
            key = self._digest_keys[purpose] = self._derive("digest:" + purpose)
        return hmac.digest(key, data, "sha256")[:MAC_BYTES].hex()

    # --- signed tokens ----------------------------------------------------------------

    def _mac(self, purpose: str, payload: bytes) -> bytes:
        key = self._mac_keys.get(purpose)
        if key is None:
            key = self._mac_keys[purpose] = self._derive("token:" + purpose)
        return hmac.digest(key, payload, "sha256")[:MAC_BYTES]

    def sign(self, purpose: str, *numbers: int, extra: bytes = b"") -> str:
        """A URL-safe token carrying ``numbers`` (unsigned 64-bit) and ``extra`` bytes."""
        payload = struct.pack(f">{len(numbers)}Q", *numbers) + extra
        return _b64(payload + self._mac(purpose, payload))

    def verify(
        self, purpose: str, token: str, count: int, extra_len: int = 0
    ) -> tuple[tuple[int, ...], bytes] | None:
        """The numbers and extra bytes of a token this keyring signed for ``purpose``, else None."""
        try:
            raw = _unb64(token)
        except (ValueError, TypeError):
            return None
        size = 8 * count + extra_len
        if len(raw) != size + MAC_BYTES:
            return None
        payload, mac = raw[:size], raw[size:]
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        return struct.unpack(f">{count}Q", payload[: 8 * count]), payload[8 * count :]
