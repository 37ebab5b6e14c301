"""The right of access (GDPR art. 15): everything Kairos holds on one person, as one JSON
document, streamed.

The document is built section by section from every table that refers to a contact
(``SECTIONS``; ``EXCLUDED`` lists, with the reason, the few that hold nothing about the
person). A test compares them with the table metadata, so a new table with a ``contact_id``
column cannot be forgotten. Tables with an ``id`` are read in keyset pages of
``EXPORT_PAGE`` rows, each page a short read of its own (no transaction stays open while a
slow client reads), and written out as they are read: memory stays bounded however many
events a person has.

A merged contact's id exports its survivor (the person the id now stands for), as
``GET /contacts/{id}`` answers; ``requested_id`` says which id was asked for. The contacts
merged into the survivor are the same person: their leftover profile rows and anything still
filed under their ids are included (``merged_contacts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, Table, or_, select

from kairos.b2b.tables import account, account_contact
from kairos.campaigns.tables import broadcast, broadcast_recipient
from kairos.contacts.service import live_contact_id
from kairos.contacts.tables import (
    contact,
    contact_acquisition,
    contact_merge,
    contact_tag,
    identity,
    lifecycle_change,
    tag,
    tag_removal,
)
from kairos.crm.tables import crm_connection, crm_contact, crm_deal, crm_sync_log
from kairos.db.engine import reading
from kairos.events.tables import event
from kairos.journeys.tables import enrollment, journey, journey_step, journey_watch
from kairos.leads.tables import lead, lead_escalation, task
from kairos.messaging.tables import (
    consent_event,
    inbox_message,
    message,
    message_event,
    subscription,
    suppression,
)
from kairos.offers.tables import coupon, offer, offer_assignment
from kairos.predict.tables import contact_prediction, predictive_model
from kairos.scoring.tables import contact_score, score_ledger, score_model
from kairos.segments.tables import (
    computed_trait,
    computed_trait_value,
    membership_transition,
    segment,
    segment_membership,
)

FORMAT = "kairos.contact-export/1"
EXPORT_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Subject:
    """The person: the live contact, the ids merged into it, and their addresses."""

    workspace_id: int
    requested_id: int
    contact_id: int
    ids: tuple[int, ...]  # the live contact first, then those merged into it
    addresses: tuple[str, ...]  # every identity value, email and phone: for suppressions


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    table: Table  # paged on ``table.c.id`` when it has one
    query: Callable[[Subject], Select[Any]]  # without ORDER BY when paged
    covers: tuple[Table, ...] = ()  # other tables whose rows this section carries


def _of(table: Table, subject: Subject, column: str = "contact_id") -> Any:
    return table.c[column].in_(subject.ids)


def _named(table: Table, label_table: Table, on: str, *labels: str) -> Callable[[Subject], Select[Any]]:
    """The table's rows with some columns of the table they point to (a tag's name …)."""

    def query(subject: Subject) -> Select[Any]:
        cols = [label_table.c[c].label(f"{label_table.name}_{c}") for c in labels]
        return (
            select(table, *cols).join(label_table, label_table.c.id == table.c[on]).where(_of(table, subject))
        )

    return query


def _suppressions(subject: Subject) -> Select[Any]:
    return (
        select(suppression)
        .where(
            suppression.c.workspace_id == subject.workspace_id,
            or_(_of(suppression, subject), suppression.c.address.in_(subject.addresses)),
        )
        .order_by(suppression.c.channel, suppression.c.address)
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        "identities",
        identity,
        lambda s: select(identity).where(_of(identity, s)).order_by(identity.c.kind, identity.c.value),
    ),
    Section(
        "merges",
        contact_merge,
        lambda s: select(contact_merge).where(
            or_(contact_merge.c.survivor_id.in_(s.ids), contact_merge.c.merged_id.in_(s.ids))
        ),
    ),
    Section(
        "tags",
        contact_tag,
        lambda s: _named(contact_tag, tag, "tag_id", "name")(s).order_by(contact_tag.c.created_at),
    ),
    Section("tag_removals", tag_removal, _named(tag_removal, tag, "tag_id", "name")),
    Section(
        "lifecycle_changes",
        lifecycle_change,
        lambda s: select(lifecycle_change).where(_of(lifecycle_change, s)),
    ),
    Section(
        "computed_traits",
        computed_trait_value,
        lambda s: _named(computed_trait_value, computed_trait, "trait_id", "name")(s).order_by(
            computed_trait.c.name
        ),
    ),
    Section(
        "segment_memberships",
        segment_membership,
        lambda s: _named(segment_membership, segment, "segment_id", "name")(s).order_by(
            segment_membership.c.entered_at
        ),
    ),
    Section(
        "segment_transitions",
        membership_transition,
        _named(membership_transition, segment, "segment_id", "name"),
    ),
    Section(
        "subscriptions",
        subscription,
        lambda s: select(subscription).where(_of(subscription, s)).order_by(subscription.c.scope),
    ),
    Section("consent_events", consent_event, lambda s: select(consent_event).where(_of(consent_event, s))),
    Section("suppressions", suppression, _suppressions),
    # each message carries its events (delivered, opened, clicked …) under "events"
    Section("messages", message, lambda s: select(message).where(_of(message, s)), covers=(message_event,)),
    Section("inbox_messages", inbox_message, lambda s: select(inbox_message).where(_of(inbox_message, s))),
    Section("journey_enrollments", enrollment, _named(enrollment, journey, "journey_id", "name")),
    Section("journey_steps", journey_step, lambda s: select(journey_step).where(_of(journey_step, s))),
    Section(
        "journey_watches",
        journey_watch,
        lambda s: _named(journey_watch, journey, "journey_id", "name")(s).order_by(
            journey_watch.c.journey_id
        ),
    ),
    Section(
        "offer_assignments", offer_assignment, _named(offer_assignment, offer, "offer_id", "key", "name")
    ),
    Section(
        "coupons",
        coupon,
        lambda s: (
            select(coupon, offer.c.key.label("offer_key"))
            .join(offer, offer.c.id == coupon.c.offer_id)
            .where(or_(_of(coupon, s), coupon.c.redeemed_by.in_(s.ids)))
        ),
    ),
    Section(
        "broadcasts",
        broadcast_recipient,
        lambda s: _named(broadcast_recipient, broadcast, "broadcast_id", "name")(s).order_by(
            broadcast_recipient.c.broadcast_id
        ),
    ),
    Section(
        "scores",
        contact_score,
        lambda s: _named(contact_score, score_model, "model_id", "key", "name")(s).order_by(
            score_model.c.key
        ),
    ),
    Section("score_changes", score_ledger, _named(score_ledger, score_model, "model_id", "key")),
    Section(
        "accounts",
        account_contact,
        lambda s: _named(account_contact, account, "account_id", "external_id", "name", "domain")(s).order_by(
            account_contact.c.account_id
        ),
    ),
    Section("lead", lead, lambda s: select(lead).where(_of(lead, s))),
    Section(
        "lead_escalations", lead_escalation, lambda s: select(lead_escalation).where(_of(lead_escalation, s))
    ),
    Section("tasks", task, lambda s: select(task).where(_of(task, s))),
    Section(
        "crm_records",
        crm_contact,
        lambda s: _named(crm_contact, crm_connection, "connection_id", "provider", "name")(s).order_by(
            crm_contact.c.connection_id
        ),
    ),
    Section("crm_sync_log", crm_sync_log, lambda s: select(crm_sync_log).where(_of(crm_sync_log, s))),
    Section("crm_deals", crm_deal, lambda s: select(crm_deal).where(_of(crm_deal, s))),
    Section(
        "predictions",
        contact_prediction,
        lambda s: _named(contact_prediction, predictive_model, "model_id", "key", "name")(s).order_by(
            predictive_model.c.key
        ),
    ),
    Section(
        "acquisition",
        contact_acquisition,
        lambda s: select(contact_acquisition).where(_of(contact_acquisition, s)),
    ),
    # last: the longest
    Section("events", event, lambda s: select(event).where(_of(event, s))),
)

#: Tables that refer to a contact but hold nothing about the person, and why.
EXCLUDED: dict[str, str] = {
    "contact": "the profile itself: exported as `contact` and `merged_contacts`",
    "contact_change": "the worker's queue: only when the contact last changed, no data",
    "score_condition_hold": "which condition rules hold now: the `score_changes` entered/exited rows say it",
}


def covered_tables() -> set[str]:
    """Names of the tables the export reads (or deliberately leaves out)."""
    return {s.table.name for s in SECTIONS} | {t.name for s in SECTIONS for t in s.covers} | set(EXCLUDED)


def subject_of(conn: Connection, workspace_id: int, contact_id: int) -> Subject:
    """The person behind ``contact_id`` (a merged id leads to its survivor); NotFound for an
    unknown or erased one."""
    live = live_contact_id(conn, workspace_id, contact_id)
    merged = conn.execute(
        select(contact.c.id).where(contact.c.merged_into == live).order_by(contact.c.id)
    ).scalars()
    ids = (live, *merged)
    addresses: set[str] = set(
        conn.execute(select(identity.c.value).where(identity.c.contact_id.in_(ids))).scalars()
    )
    for email, phone in conn.execute(select(contact.c.email, contact.c.phone).where(contact.c.id.in_(ids))):
        addresses.update(a for a in (email, phone) if a)
    return Subject(workspace_id, contact_id, live, ids, tuple(sorted(addresses)))


def export_contact(engine: Engine, subject: Subject, now: datetime) -> Iterator[bytes]:
    """The export as chunks of one UTF-8 JSON object (see the module docstring)."""
    with reading(engine) as conn:
        profiles = {
            r["id"]: _clean(dict(r))
            for r in conn.execute(select(contact).where(contact.c.id.in_(subject.ids))).mappings()
        }
    head = {
        "format": FORMAT,
        "exported_at": now,
        "workspace_id": subject.workspace_id,
        "requested_id": subject.requested_id,
        "contact_id": subject.contact_id,
        "contact": profiles.get(subject.contact_id),
        "merged_contacts": [profiles[i] for i in subject.ids[1:] if i in profiles],
    }
    yield _dumps(head)[:-1]  # the object stays open for the sections
    for section in SECTIONS:
        yield b',"' + section.name.encode() + b'":['
        first = True
        for row in _rows(engine, section, subject):
            yield (b"" if first else b",") + _dumps(row)
            first = False
        yield b"]"
    yield b"}"


def _rows(engine: Engine, section: Section, subject: Subject) -> Iterator[dict[str, Any]]:
    table = section.table
    if "id" not in table.c:
        with reading(engine) as conn:
            rows = [_clean(dict(r)) for r in conn.execute(section.query(subject)).mappings()]
        yield from rows
        return
    after = 0
    while True:
        with reading(engine) as conn:
            stmt = section.query(subject).where(table.c.id > after).order_by(table.c.id).limit(EXPORT_PAGE)
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
            if table is message and rows:
                _attach_message_events(conn, rows)
        yield from (_clean(r) for r in rows)
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1]["id"]


def _attach_message_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    by_message: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    found = conn.execute(
        select(message_event)
        .where(message_event.c.message_id.in_(list(by_message)))
        .order_by(message_event.c.id)
    ).mappings()
    for e in found:
        by_message[e["message_id"]].append(_clean(dict(e)))
    for r in rows:
        r["events"] = by_message[r["id"]]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("workspace_id", None)
    return row


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)


__all__ = ["EXCLUDED", "SECTIONS", "Subject", "covered_tables", "export_contact", "subject_of"]
