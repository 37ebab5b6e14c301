"""Request and response models of the offers API (docs/offers.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OfferKind = Literal["discount_percent", "discount_amount", "free_shipping", "gift", "points"]
CouponMode = Literal["none", "pool", "static"]


class OfferFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    value: float | None = Field(
        None, description="Percent off, amount off, or points; required for those kinds, > 0"
    )
    currency: str | None = Field(None, description="ISO 4217; required for discount_amount")
    eligibility: dict[str, Any] | None = Field(
        None,
        description="A segment condition (the `root` of a segment definition, docs/segments.md); "
        "null: everyone",
    )
    starts_at: datetime | None = Field(None, description="null: from now")
    ends_at: datetime | None = Field(None, description="Exclusive; null: open-ended")
    total_limit: int | None = Field(None, description="Assignments over all contacts; null: no limit")
    static_code: str | None = Field(None, description="coupon_mode static: the code everyone gets")


class OfferCreate(OfferFields):
    key: str = Field(description="Slug journeys and templates refer to; unique, fixed once created")
    name: str = Field(min_length=1, max_length=200)
    kind: OfferKind
    priority: int = Field(0, description="Higher wins when several offers fit")
    per_contact_limit: int = Field(1, description="How many times one contact may be given the offer")
    status: Literal["active", "paused"] = "active"
    coupon_mode: CouponMode = Field("none", description="none, pool (unique codes), static (one code)")


class OfferUpdate(OfferFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: OfferKind | None = None
    priority: int | None = None
    per_contact_limit: int | None = None
    status: Literal["active", "paused", "archived"] | None = None
    coupon_mode: CouponMode | None = None


class CodeCounts(BaseModel):
    total: int
    free: int
    assigned: int = Field(description="Given to a contact, not used yet")
    redeemed: int = Field(description="Used on an order")


class OfferRead(BaseModel):
    id: int
    key: str
    name: str
    description: str | None
    kind: str
    value: float | None
    currency: str | None
    eligibility: dict[str, Any] | None
    priority: int
    starts_at: datetime | None
    ends_at: datetime | None
    per_contact_limit: int
    total_limit: int | None
    status: str
    coupon_mode: str
    static_code: str | None
    given: int = Field(description="Assignments so far")
    redeemed: int = Field(description="Assignments redeemed")
    codes: CodeCounts | None = Field(description="The coupon pool (pool offers)")
    created_at: datetime
    updated_at: datetime


class CodesGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=100_000)
    prefix: str | None = Field(None, max_length=20, description="Put before each code, e.g. SPRING-")
    length: int = Field(8, ge=6, le=32, description="Random characters after the prefix")


class CodesImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[str] = Field(max_length=100_000, description="Case-insensitive; blank entries are skipped")


class CodesAdded(BaseModel):
    added: int
    duplicates: list[str] = Field(
        default_factory=list, description="Codes already in the workspace or the list (first 1,000)"
    )
    duplicate_count: int = 0
    codes: CodeCounts


class CouponRead(BaseModel):
    id: int
    code: str
    status: Literal["free", "assigned", "redeemed"]
    contact_id: int | None
    assigned_at: datetime | None
    redeemed_at: datetime | None
    redeemed_by: int | None = Field(description="The contact whose order used the code")
    redemption_event_id: int | None
    order_id: str | None = Field(None, description="`order_id` of the order event that redeemed it")
    created_at: datetime


class ContactRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int


class OfferMatchRead(BaseModel):
    offer_id: int
    key: str
    name: str
    kind: str
    value: float | None
    currency: str | None
    priority: int
    coupon_mode: str


class VerdictRead(BaseModel):
    offer_id: int
    key: str
    name: str
    priority: int
    reason: Literal[
        "chosen", "outranked", "not_eligible", "already_given", "no_codes_left", "sold_out",
        "expired", "not_started", "inactive",
    ]  # fmt: skip
    detail: str
    eligibility: dict[str, Any] | None = Field(
        None, description="The eligibility condition with `holds` on every node, when evaluated"
    )


class MatchResult(BaseModel):
    chosen: OfferMatchRead | None
    offers: list[VerdictRead] = Field(description="Every offer, best first, with why it was (not) chosen")


class AssignmentRead(BaseModel):
    id: int
    offer_id: int
    contact_id: int
    nth: int = Field(description="The contact's how-manieth assignment of this offer")
    code: str | None
    assigned_at: datetime
    redeemed_at: datetime | None
    new: bool = Field(description="false: the contact already held it (same code)")
    offer: dict[str, Any] = Field(description="What templates see as {{ offer.… }}, code included")
