"""Identity verification for the in-app inbox (as Intercom and Braze do it).

The inbox is read from browsers and apps with the write key, which is public. So a request
naming a ``user_id`` must also carry ``user_hash`` = HMAC-SHA256(the workspace's identity
secret, user_id) as hex: computed by the customer's backend, which alone holds the secret
(``GET /api/v1/inbox/identity-secret``), and handed to its signed-in user's page or app.
Without it, anyone who knows or guesses a user id could read that user's messages.
Anonymous ids need no hash, but only open the inbox of an *anonymous* contact: one with
no user id, email or phone. An anonymous id can be attached to anybody — a forged
``identify`` or form submission carrying someone's email and an id of the attacker's
choosing merges the two — so once a contact is identified, its inbox needs its
``user_id`` with the ``user_hash``.

The secret is derived from the server's secret key and the workspace id: rotating
``KAIROS_SECRET_KEY`` rotates every workspace's secret.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Connection, select

from kairos.contacts.service import find_contact_id
from kairos.contacts.tables import contact
from kairos.crypto import Keyring
from kairos.errors import NotFound, Unauthorized


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


def inbox_owner(conn: Connection, workspace_id: int, *, user_id: str | None, anonymous_id: str | None) -> int:
    """The contact whose inbox a (verified) ``user_id`` or an ``anonymous_id`` opens."""
    if user_id is not None:
        cid = find_contact_id(conn, workspace_id, "user_id", user_id)
    else:
        cid = find_contact_id(conn, workspace_id, "anonymous_id", anonymous_id or "")
    if cid is None:
        raise NotFound("no such contact", code="contact_not_found")
    if user_id is None:
        row = conn.execute(
            select(contact.c.external_id, contact.c.email, contact.c.phone).where(contact.c.id == cid)
        ).one()
        if any(v is not None for v in row):
            raise Unauthorized(
                "this anonymous id belongs to an identified contact: use its user_id with the user_hash",
                code="identity_required",
            )
    return cid
