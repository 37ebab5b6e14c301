"""/api/v1/exchange-rates — the workspace's exchange-rate table (``kairos.analytics.currency``),
which reports use to convert revenue into a campaign's currency."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from kairos.analytics.currency import MAX_RATES, list_rates, set_rates
from kairos.api.deps import StateDep, WorkspaceDep
from kairos.db.engine import reading

router = APIRouter(prefix="/exchange-rates", tags=["reports"])


class Rate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(description="ISO 4217 code, e.g. BRL")
    rate: float = Field(gt=0, description="Units of `currency` worth 1 unit of `base` (1 USD = 5.0 BRL: 5.0)")
    valid_from: date = Field(description="The UTC date from which it applies, until the currency's next rate")


class RatesWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = Field(description="ISO 4217 code every rate is quoted against (its own rate is 1)")
    rates: list[Rate] = Field(max_length=MAX_RATES)


class RatesRead(BaseModel):
    base: str | None = Field(description="null while the table is empty")
    rates: list[Rate]


@router.get("", response_model=RatesRead)
def read_rates(state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """The workspace's exchange rates, by currency then date."""
    with reading(state.engine) as conn:
        return list_rates(conn, ws.id)


@router.put("", response_model=RatesRead)
def put_rates(body: RatesWrite, state: StateDep, ws: WorkspaceDep) -> dict[str, Any]:
    """Replace the whole table. Reports convert an amount of currency C on date D into
    currency T as `amount / rate(C, D) * rate(T, D)`, each C's latest rate on or before D
    (the base's is 1); without one the amount is reported apart (`revenue_unconverted`).
    Codes: ISO 4217 (422 `invalid_currency`); one rate per currency and date."""
    with state.engine.begin() as conn:
        return set_rates(conn, ws.id, state.now(ws), body.base, [r.model_dump() for r in body.rates])
