"""Where a template is used: a template that something will still send cannot be deleted.

Deleting it would leave queued messages, scheduled broadcasts and running journeys with
nothing to render (their foreign keys are ``SET NULL``, and journeys name templates inside
their JSON definitions), so ``delete_template`` refuses with ``409 template_in_use`` and
names the users. Finished things (a broadcast that queued everything, a completed campaign,
an archived journey with no one left in it) do not hold a template; their reports keep
their figures and lose only the link.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, exists, or_, select

#: Broadcast states in which the template is still to be sent (``queued``: everything is in
#: the outbox, where queued messages are checked one by one; ``cancelled``: never).
_BROADCAST_PENDING = ("draft", "scheduled", "sending", "testing", "paused")
_CAMPAIGN_OPEN = ("draft", "pending_approval", "approved", "active")


def _node_templates(definition: Any) -> Iterator[int]:
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    for node in (nodes or {}).values():
        if isinstance(node, dict) and isinstance(node.get("template_id"), int):
            yield node["template_id"]


def _variant_templates(experiment: Any) -> Iterator[int]:
    variants = experiment.get("variants") if isinstance(experiment, dict) else None
    for variant in variants or []:
        if isinstance(variant, dict) and isinstance(variant.get("template_id"), int):
            yield variant["template_id"]


def template_uses(conn: Connection, workspace_id: int, template_id: int) -> list[str]:
    """What still needs the template, worded for the person deleting it (empty: nothing)."""
    # Imported here: journeys, campaigns and forms import messaging, not the other way round.
    from kairos.campaigns.tables import broadcast, campaign
    from kairos.forms.tables import landing_page
    from kairos.journeys.tables import enrollment, journey, journey_version
    from kairos.messaging.outbox import QUEUED, SENDING
    from kairos.messaging.tables import message, subscription_topic

    uses: list[str] = []
    queued = conn.execute(
        select(message.c.id)
        .where(message.c.template_id == template_id, message.c.status.in_((QUEUED, SENDING)))
        .limit(1)
    ).first()
    if queued is not None:
        uses.append("messages waiting in the outbox")

    live = select(journey.c.version_id).where(
        journey.c.workspace_id == workspace_id, journey.c.status != "archived"
    )
    running = exists().where(enrollment.c.version_id == journey_version.c.id, enrollment.c.state == "active")
    versions = conn.execute(
        select(journey.c.name, journey_version.c.number, journey_version.c.definition)
        .join(journey, journey.c.id == journey_version.c.journey_id)
        .where(journey.c.workspace_id == workspace_id, or_(journey_version.c.id.in_(live), running))
    )
    for name, number, definition in versions:
        if template_id in _node_templates(definition):
            uses.append(f'journey "{name}" (version {number})')
    drafts = conn.execute(
        select(journey.c.name, journey.c.draft).where(
            journey.c.workspace_id == workspace_id,
            journey.c.status != "archived",
            journey.c.draft.is_not(None),
        )
    )
    for name, draft in drafts:
        if template_id in _node_templates(draft):
            uses.append(f'journey "{name}" (draft)')

    broadcasts = conn.execute(
        select(broadcast.c.name, broadcast.c.template_id, broadcast.c.experiment).where(
            broadcast.c.workspace_id == workspace_id, broadcast.c.status.in_(_BROADCAST_PENDING)
        )
    )
    for name, own, experiment in broadcasts:
        if own == template_id or template_id in _variant_templates(experiment):
            uses.append(f'broadcast "{name}"')
    campaigns = conn.execute(
        select(campaign.c.name, campaign.c.template_ids).where(
            campaign.c.workspace_id == workspace_id, campaign.c.status.in_(_CAMPAIGN_OPEN)
        )
    )
    uses.extend(f'campaign "{name}" (materials)' for name, ids in campaigns if template_id in (ids or []))
    pages = conn.execute(
        select(landing_page.c.slug).where(
            landing_page.c.workspace_id == workspace_id, landing_page.c.template_id == template_id
        )
    )
    uses.extend(f'landing page "/{slug}"' for (slug,) in pages)
    topics = conn.execute(
        select(subscription_topic.c.name).where(
            subscription_topic.c.workspace_id == workspace_id,
            subscription_topic.c.confirmation_template_id == template_id,
        )
    )
    uses.extend(f'consent topic "{name}" (double opt-in confirmation)' for (name,) in topics)
    return uses
