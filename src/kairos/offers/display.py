"""How an offer's value reads in a message: ``{{ offer.display }}`` — "15%", "€5", "5,50 €",
"500" — formatted by the offer's kind, in the contact's locale (Babel, CLDR data).

``{{ offer.value }}`` stays the number, written without a useless ``.0`` (``15``, not
``15.0``), so ``{{ offer.value }}% off`` reads right too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, format_percent

DEFAULT_LOCALE = "en"


def number(value: Any) -> Any:
    """15.0 → 15; other values as they are."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@lru_cache(maxsize=256)
def _locale(tag: str | None) -> Locale:
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def display(kind: str | None, value: Any, currency: str | None, locale: str | None) -> str | None:
    """The value as the offer's kind says it: a percent, an amount of money, a number of
    points; None for kinds without a value (free shipping, a gift)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    loc = _locale(locale)
    if kind == "discount_percent":
        return str(format_percent(value / 100, locale=loc, decimal_quantization=False))
    if kind == "discount_amount" and currency:
        if float(value).is_integer():  # "€5", not "€5.00"
            pattern = loc.currency_formats["standard"].pattern.replace(".00", "")
            return str(format_currency(value, currency, locale=loc, format=pattern, currency_digits=False))
        return str(format_currency(value, currency, locale=loc))
    if kind == "points":
        return str(format_decimal(number(value), locale=loc))
    return None


def template_view(offer: dict[str, Any] | None, locale: str | None) -> dict[str, Any]:
    """``{{ offer.… }}`` for one message: the stored fields, ``value`` without ``.0`` and
    ``display`` in the recipient's locale."""
    if not offer:
        return {}
    return {
        **offer,
        "value": number(offer.get("value")),
        "display": display(offer.get("kind"), offer.get("value"), offer.get("currency"), locale),
    }
