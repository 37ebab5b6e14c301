"""Identity verification for the in-app inbox (as Intercom and Braze do it).

The inbox is read from browsers and apps with the write key, which is public. So a request
naming a ``user_id`` must also carry ``user_hash`` = HMAC-SHA256(the workspace's identity
secret, user_id) as hex: computed by the customer's backend, which alone holds the secret
(``GET /api/v1/inbox/identity-secret``), and handed to its signed-in user's page or app.
Without it, anyone who knows or guesses a user id could read that user's messages.
Anonymous ids need no hash: they are random per browser and known only to it.

The secret is derived from the server's secret key and the workspace id: rotating
``KAIROS_SECRET_KEY`` rotates every workspace's secret.
"""

from __future__ import annotations

import hashlib
import hmac

from kairos.crypto import Keyring


def identity_secret(keyring: Keyring, workspace_id: int) -> str:
    return keyring.digest("inbox-identity", str(workspace_id).encode())


def user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verified(keyring: Keyring, workspace_id: int, user_id: str, given: str | None) -> bool:
    """Whether ``given`` is the user's hash (constant-time comparison)."""
    if not given:
        return False
    expected = user_hash(identity_secret(keyring, workspace_id), user_id)
    return hmac.compare_digest(expected, given.strip().lower())
