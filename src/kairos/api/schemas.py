"""Request and response models of the management API (``XCreate / XUpdate / XRead``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    next: str | None = Field(None, description="Pass as `after` to get the next page; null at the end")


class Identity(BaseModel):
    kind: Literal["user_id", "anonymous_id", "email", "phone"]
    value: str


class ContactBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64, description="Any format; stored as E.164")
    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, description="IANA name, e.g. Europe/Paris")
    locale: str | None = Field(None, max_length=35)


class ContactCreate(ContactBase):
    external_id: str | None = Field(None, max_length=255, description="Your user id (Segment userId)")
    traits: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    lifecycle_stage: str | None = Field(
        None, description="Sets the stage (1-40 characters, e.g. lead, mql); null leaves it as it is"
    )


class ContactUpdate(ContactBase):
    external_id: str | None = Field(None, max_length=255, description="Can be set once")
    lifecycle_stage: str | None = Field(
        None, description="Sets the stage (1-40 characters, e.g. lead, mql); null clears it"
    )
    traits: dict[str, Any] | None = Field(
        None, description="Merged into existing traits; null removes a trait"
    )


class ContactRead(BaseModel):
    id: int
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    timezone: str | None
    locale: str | None
    lifecycle_stage: str | None
    score: float
    traits: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class AcquisitionTouch(BaseModel):
    """One visit that brought the contact (docs/leads.md, "Acquisition source")."""

    at: datetime = Field(description="When the visit happened")
    channel: str = Field(
        description="Channel group: direct, paid_search, paid_social, display, paid_other, "
        "organic_social, organic_search, referral, email, affiliates, sms or other"
    )
    source: str | None = Field(
        description="utm_source, else the search engine, social site or referring host; (direct) if direct"
    )
    medium: str | None = Field(description="utm_medium, else organic, social, referral, cpc; (none): direct")
    campaign: str | None = Field(description="utm_campaign")
    term: str | None = Field(description="utm_term")
    content: str | None = Field(description="utm_content")
    referrer: str | None = Field(description="The referring page (null when direct or within the site)")
    landing_url: str | None = Field(description="The page visited")


class Acquisition(BaseModel):
    first: AcquisitionTouch = Field(description="The first touch: the earliest visit, never replaced")
    last: AcquisitionTouch = Field(
        description="The last touch: the latest non-direct visit (the first, direct, one until there is one)"
    )


class ContactDetail(ContactRead):
    identities: list[Identity] = Field(description="Every identifier that leads to this contact")
    acquisition: Acquisition | None = Field(
        None, description="Where the contact came from; null before any page call or form submission"
    )


class EventRead(BaseModel):
    id: int
    type: str
    name: str | None
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    properties: dict[str, Any]
    context: dict[str, Any] | None
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime


class LifecycleChangeRead(BaseModel):
    id: int
    from_stage: str | None = Field(description="null: the contact had no stage")
    to_stage: str | None = Field(description="null: the stage was cleared")
    source: str = Field(
        description="what changed it: `api` (an API key), `console` (a user), `journey` (a journey's "
        "update_contact step)"
    )
    changed_at: datetime


class LifecycleStageRead(BaseModel):
    stage: str


class ContactMergeRead(BaseModel):
    id: int
    merged_id: int = Field(description="the contact merged away (its id now leads here)")
    into_id: int = Field(
        description="the contact it was merged into: this one, or one merged into this one later"
    )
    reason: str = Field(description="the identifiers that tied the two")
    merged_at: datetime


class TagRead(BaseModel):
    id: int
    name: str
    contacts: int
    created_at: datetime


class AttributeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    type: Literal["string", "number", "boolean", "datetime", "list"]
    label: str | None = Field(None, max_length=200)
    description: str | None = None
    dry_run: bool = Field(
        False, description="Report what declaring would convert, and declare nothing (answers 200)"
    )


class AttributeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["string", "number", "boolean", "datetime", "list"] | None = None
    label: str | None = Field(None, max_length=200)
    description: str | None = None
    dry_run: bool = Field(False, description="Report what a new type would convert, and change nothing")


class AttributeConversion(BaseModel):
    """What declaring (or re-typing) an attribute did to the values contacts already held."""

    contacts_with_value: int
    converted: int = Field(description='values rewritten to the type ("61" → 61)')
    already_typed: int
    unconvertible: int = Field(description="values left as they were: no typed condition matches them")
    unconvertible_contact_ids: list[int] = Field(description="the first 10 of those contacts")


class AttributeRead(BaseModel):
    id: int
    name: str
    type: str
    label: str | None
    description: str | None
    created_at: datetime


class AttributeWritten(AttributeRead):
    conversion: AttributeConversion | None = None
    dry_run: bool = False


class AttributeDryRun(BaseModel):
    name: str
    type: str
    dry_run: Literal[True] = True
    conversion: AttributeConversion


class SegmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    kind: Literal["dynamic", "static"] = "dynamic"
    definition: dict[str, Any] | None = Field(
        None,
        description="Dynamic segments: `{schema_version: 1, root: <condition>}`; see docs/segments.md",
    )


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    definition: dict[str, Any] | None = None


class SegmentRead(BaseModel):
    id: int
    name: str
    description: str | None
    kind: str
    definition: dict[str, Any] | None
    time_dependent: bool
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SegmentPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any]
    sample: int = Field(10, ge=0, le=100)
    as_of: datetime | None = Field(
        None,
        description="Evaluate as of this earlier instant (ISO 8601; without an offset, UTC): windows "
        "end there and events timestamped after it are left out. Later than now: 422 `invalid_as_of`",
    )


class ContactBrief(BaseModel):
    id: int
    external_id: str | None
    email: str | None


class SegmentRef(BaseModel):
    id: int
    name: str


class SegmentPreview(BaseModel):
    count: int
    sample: list[ContactBrief]
    as_of: datetime = Field(description="The instant the definition was evaluated at")
    segments: list[SegmentRef] = Field(description="The segments the definition refers to, with their names")


class SegmentMember(ContactBrief):
    entered_at: datetime


class ContactSegment(BaseModel):
    id: int
    name: str
    kind: str = Field(description="`dynamic` (by definition) or `static` (a list)")
    entered_at: datetime


class SegmentExplanation(BaseModel):
    segment_id: int
    segment_name: str
    contact_id: int
    as_of: datetime = Field(description="The instant the definition was evaluated at (now unless `as_of`)")
    matches: bool = Field(description="Whether the definition holds for the contact at `as_of`")
    member: bool = Field(description="Whether the contact is a stored member (now)")
    root: dict[str, Any] = Field(
        description="The definition tree; every node carries `path`, `holds` and `text` for this contact, "
        "and leaves the values that decided them: `actual`, `expected`, `window_start`, `window_end` "
        "(behaviour), `segment_name` (segment conditions)"
    )


class ListMembersAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[int] = Field(min_length=1, max_length=10_000)


class ListMembersAdded(BaseModel):
    added: int = Field(description="Contacts that were not members yet")


class ListImportReject(BaseModel):
    line: int = Field(description="Physical line of the file (the header is line 1)")
    reason: str


class ListImportResult(BaseModel):
    added: int = Field(description="Distinct contacts that were not members yet")
    already_members: int = Field(description="Distinct contacts the file names that were members already")
    rejected: list[ListImportReject] = Field(description="The first 100 rejected rows, in line order")
    rejected_count: int = Field(description="All rejected rows")


# --- computed traits and tag rules -------------------------------------------------------


class ComputedTraitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="Letters, digits and _; segments test `computed.NAME`")
    description: str | None = None
    definition: dict[str, Any] = Field(
        description="`{schema_version: 1, function, event, property, where, window}`; see docs/segments.md"
    )


class ComputedTraitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    description: str | None = None
    definition: dict[str, Any] | None = Field(None, description="Recomputed for everyone by the worker")


class ComputedTraitRead(BaseModel):
    id: int
    name: str
    description: str | None
    definition: dict[str, Any]
    value_type: Literal["number", "string", "datetime"]
    time_dependent: bool = Field(description="Values change as time passes (a `last` window)")
    pending: bool = Field(description="The worker has yet to compute the current definition")
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ComputedTraitValue(BaseModel):
    contact_id: int
    external_id: str | None
    email: str | None
    value: float | int | str | datetime
    updated_at: datetime = Field(description="When the value last changed")


class ContactWithTraits(ContactDetail):
    computed_traits: dict[str, Any] = Field(
        description="Every computed trait of the workspace: its value, 0 for a count or sum of "
        "nothing, null when not set"
    )


class TagRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: int
    tag: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=200, description="Defaults to `<segment> → <tag>`")


class TagRuleRead(BaseModel):
    id: int
    name: str
    segment_id: int
    tag: str
    created_at: datetime
