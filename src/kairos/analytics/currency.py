"""Currencies: the workspace's exchange-rate table, and converting amounts with it.

A workspace keeps one table of rates against its **base** currency: ``rate`` units of
``currency`` are worth 1 unit of ``base`` from ``valid_from`` (a UTC date) until the
currency's next row (the way ECB and Open Exchange Rates publish them: ``{"base": "USD",
"rates": {"BRL": 5.0}}``). An amount in currency C on date D is worth, in currency T,
``amount / rate(C, D) * rate(T, D)``, where ``rate(X, D)`` is X's latest rate on or before D
and the base's rate is 1. Same currency: no conversion. When C or T has no rate on or before
D the amount is not converted: reports list it apart per currency (``revenue_unconverted``),
never add it to amounts of another currency.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from babel.numbers import list_currencies
from sqlalchemy import Connection, delete, insert, select

from kairos.analytics.tables import exchange_rate
from kairos.errors import InvalidInput

_CODE = re.compile(r"^[A-Z]{3}$")
#: rows one table may hold (a daily rate for 30 currencies over 10 years)
MAX_RATES = 120_000


@cache
def _known() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: Any, field: str = "currency") -> str:
    """An ISO 4217 code (three capital letters, known to CLDR), else 422 ``invalid_currency``."""
    if not isinstance(code, str) or not _CODE.match(code) or code not in _known():
        raise InvalidInput(f"{field}: an ISO 4217 currency code such as USD or BRL", code="invalid_currency")
    return code


def normal(code: str | None) -> str | None:
    """A stored or received code as compared: trimmed, upper case (``None`` stays)."""
    return code.strip().upper() or None if isinstance(code, str) else None


def set_rates(
    conn: Connection, ws: int, now: datetime, base: str, rates: list[dict[str, Any]]
) -> dict[str, Any]:
    """Replace the workspace's table: ``rates`` are ``{currency, rate, valid_from}`` against
    ``base`` (one rate per currency and date; the base itself has no row, it is always 1)."""
    base = check_currency(base, "base")
    if len(rates) > MAX_RATES:
        raise InvalidInput(f"at most {MAX_RATES} rates", code="too_many_rates")
    seen: set[tuple[str, date]] = set()
    rows = []
    for i, r in enumerate(rates):
        currency = check_currency(r.get("currency"), f"rates[{i}].currency")
        rate, valid_from = r.get("rate"), r.get("valid_from")
        if currency == base:
            raise InvalidInput(f"rates[{i}]: the base currency is always 1", code="invalid_rate")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1e12:
            raise InvalidInput(f"rates[{i}].rate: a positive number", code="invalid_rate")
        if not isinstance(valid_from, date) or isinstance(valid_from, datetime):
            raise InvalidInput(f"rates[{i}].valid_from: a date (YYYY-MM-DD)", code="invalid_rate")
        if (currency, valid_from) in seen:
            raise InvalidInput(
                f"rates[{i}]: {currency} on {valid_from} is given twice", code="duplicate_rate"
            )
        seen.add((currency, valid_from))
        rows.append({"workspace_id": ws, "base": base, "currency": currency, "valid_from": valid_from,
                     "rate": float(rate), "created_at": now})  # fmt: skip
    conn.execute(delete(exchange_rate).where(exchange_rate.c.workspace_id == ws))
    if rows:
        conn.execute(insert(exchange_rate), rows)
    return list_rates(conn, ws)


def list_rates(conn: Connection, ws: int) -> dict[str, Any]:
    """The table: ``base`` (``None`` when empty) and its rates by currency, then date."""
    x = exchange_rate.c
    rows = conn.execute(
        select(x.base, x.currency, x.rate, x.valid_from)
        .where(x.workspace_id == ws)
        .order_by(x.currency, x.valid_from)
    ).all()
    return {
        "base": rows[0].base if rows else None,
        "rates": [{"currency": r.currency, "rate": r.rate, "valid_from": r.valid_from} for r in rows],
    }


class Rates:
    """The rates of some currencies, to convert amounts on given dates (one read of the
    table; lookups are bisections in memory)."""

    def __init__(self, base: str | None, table: dict[str, tuple[list[date], list[float]]]) -> None:
        self.base = base
        self._table = table

    @classmethod
    def load(cls, conn: Connection, ws: int, currencies: Iterable[str | None]) -> Rates:
        wanted = sorted({c for c in currencies if c})
        x = exchange_rate.c
        table: dict[str, tuple[list[date], list[float]]] = {}
        base = conn.execute(select(x.base).where(x.workspace_id == ws).limit(1)).scalar()
        if wanted and base is not None:
            for currency, valid_from, rate in conn.execute(
                select(x.currency, x.valid_from, x.rate)
                .where(x.workspace_id == ws, x.currency.in_(wanted))
                .order_by(x.currency, x.valid_from)
            ):
                days, values = table.setdefault(currency, ([], []))
                days.append(valid_from)
                values.append(float(rate))
        return cls(base, table)

    def rate(self, currency: str, day: date) -> float | None:
        """Units of ``currency`` per 1 base on ``day``: its latest rate on or before it."""
        if currency == self.base:
            return 1.0
        days, values = self._table.get(currency, ([], []))
        i = bisect_right(days, day)
        return values[i - 1] if i else None

    def factor(self, source: str | None, target: str | None, day: date) -> float | None:
        """What 1 unit of ``source`` is worth in ``target`` on ``day``; ``None`` without a
        rate for either (an unknown currency converts only to itself)."""
        if source == target:
            return 1.0
        if source is None or target is None:
            return None
        into, out_of = self.rate(target, day), self.rate(source, day)
        return into / out_of if into is not None and out_of is not None else None
