"""Roles and what they may do.

Four roles per workspace, as marketing platforms usually have them:

- **admin** — everything, including users, API keys, channel secrets and workspace settings;
- **marketer** — create and edit audiences, content, journeys, campaigns, offers and forms;
  no users, keys or secrets;
- **analyst** — read everything (reports, exports, the audit log); change nothing.
- **sales** — work leads: read the workspace (contacts, their timelines, reports), see
  their leads and tasks, accept or reject leads, claim and complete tasks; change nothing
  else (no audiences, content, journeys, rules or settings).

Approving campaigns is a permission of its own (``approver``), given to a member whatever
their role; admins always have it. API keys carry a role too (``admin`` unless made
otherwise), so automation keeps working and can be narrowed.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "marketer", "analyst", "sales"]
ROLES: tuple[str, ...] = get_args(Role)

#: read: GET and read-only POSTs (previews, simulations, funnels); write: changes to
#: audiences, content, journeys, campaigns, offers, forms; admin: users, keys, secrets,
#: settings, erasure; approve: campaign approvals; audit: the audit log; comment: writing in
#: a campaign's thread (those who change campaigns, and approvers whatever their role);
#: sales: lead work (accept/reject leads, claim/complete tasks).
Permission = Literal["read", "write", "admin", "approve", "audit", "comment", "sales"]

GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "admin", "approve", "audit", "comment", "sales"}),
    "marketer": frozenset({"read", "write", "comment", "sales"}),
    "analyst": frozenset({"read", "audit"}),
    "sales": frozenset({"read", "sales"}),
}

#: what the approver permission adds to a role
APPROVER = frozenset({"approve", "comment"})


def allows(role: str, approver: bool, permission: str) -> bool:
    return permission in GRANTS.get(role, frozenset()) or (approver and permission in APPROVER)
