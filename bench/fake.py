"""Realistic, reproducible fake people and Segment messages (all from a seeded ``Random``).

Traffic is skewed like the real thing: product popularity is Zipf-like over ~10k products
in 50 categories, a few contacts are very active and most are quiet, and the event mix
follows a shopping funnel.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: country → (calling code, mobile number prefix, (city, time zone) pairs)
COUNTRIES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "US": ("1", "2015", (("New York", "America/New_York"), ("Chicago", "America/Chicago"),
                         ("Denver", "America/Denver"), ("San Francisco", "America/Los_Angeles"))),
    "CN": ("86", "1312", (("Shanghai", "Asia/Shanghai"), ("Beijing", "Asia/Shanghai"),
                          ("Shenzhen", "Asia/Shanghai"), ("Chengdu", "Asia/Shanghai"))),
    "GB": ("44", "7400", (("London", "Europe/London"), ("Manchester", "Europe/London"))),
    "DE": ("49", "1512", (("Berlin", "Europe/Berlin"), ("Munich", "Europe/Berlin"))),
    "FR": ("33", "612", (("Paris", "Europe/Paris"), ("Lyon", "Europe/Paris"))),
    "IN": ("91", "8123", (("Mumbai", "Asia/Kolkata"), ("Bengaluru", "Asia/Kolkata"))),
    "BR": ("55", "11961", (("São Paulo", "America/Sao_Paulo"), ("Rio de Janeiro", "America/Sao_Paulo"))),
    "JP": ("81", "9012", (("Tokyo", "Asia/Tokyo"), ("Osaka", "Asia/Tokyo"))),
    "AU": ("61", "412", (("Sydney", "Australia/Sydney"), ("Perth", "Australia/Perth"))),
    "ES": ("34", "612", (("Madrid", "Europe/Madrid"), ("Barcelona", "Europe/Madrid"))),
    "MX": ("52", "2221", (("Mexico City", "America/Mexico_City"), ("Puebla", "America/Mexico_City"))),
    "SG": ("65", "81", (("Singapore", "Asia/Singapore"),)),
}  # fmt: skip
_COUNTRY_WEIGHTS = (30, 20, 8, 7, 6, 8, 5, 5, 3, 3, 3, 2)
NATIONAL_DIGITS = {"US": 10, "CN": 11, "GB": 10, "DE": 11, "FR": 9, "IN": 10, "BR": 11, "JP": 10,
                   "AU": 9, "ES": 9, "MX": 10, "SG": 8}  # fmt: skip

FIRST_NAMES = ("Ada", "Li", "Wei", "Maria", "James", "Yuki", "Priya", "Lucas", "Emma", "Noah",
               "Olivia", "Mateo", "Sofia", "Chen", "Aarav", "Hana", "Leon", "Chloe", "Diego", "Fatima",
               "Jing", "Tom")  # fmt: skip
LAST_NAMES = ("Smith", "Wang", "Zhang", "Garcia", "Müller", "Sato", "Patel", "Silva", "Martin", "Brown",
              "Li", "Kumar", "Rossi", "Dubois", "López", "Tanaka", "Nguyen", "Kim", "Schmidt",
              "Chen")  # fmt: skip
EDUCATION = ("high_school", "undergraduate", "graduate", "doctorate", "other")
ASSET_LEVELS = ("low", "medium", "high", "very_high")
SOURCES = ("organic_search", "paid", "social", "referral", "direct")
_SOURCE_WEIGHTS = (35, 25, 20, 8, 12)
GENDERS = ("female", "male", "other")

N_PRODUCTS = 10_000
N_CATEGORIES = 50
#: (event name, weight) of track calls, a shopping funnel plus email engagement.
TRACK_EVENTS = (("Product Viewed", 45), ("Products Searched", 12), ("Product Added", 14),
                ("Checkout Started", 6), ("Order Completed", 4), ("Email Opened", 13),
                ("Email Link Clicked", 6))  # fmt: skip
PAGES = ("/", "/products", "/cart", "/checkout", "/finance", "/blog", "/account", "/help")
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class Faker:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        # Zipf-like popularity: weight of product k is 1/k.
        self._product_cum = _cumulative([1 / k for k in range(1, N_PRODUCTS + 1)])
        self._countries = list(COUNTRIES)
        self._event_names = [n for n, _ in TRACK_EVENTS]
        self._event_weights = _cumulative([w for _, w in TRACK_EVENTS])

    # --- people --------------------------------------------------------------------------

    def contact_row(self, i: int, today: date) -> dict[str, Any]:
        r = self.r
        country = r.choices(self._countries, _COUNTRY_WEIGHTS)[0]
        code, prefix, cities = COUNTRIES[country]
        city, tz = r.choice(cities)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        rest = NATIONAL_DIGITS[country] - len(prefix)
        age = max(16, min(85, int(r.gauss(36, 12))))
        signup = today - timedelta(days=int(r.expovariate(1 / 400)))
        birthday = date(today.year - age, 1, 1) + timedelta(days=r.randrange(365))
        return {
            "external_id": f"user-{i}",
            "email": f"{_ascii(first)}.{_ascii(last)}.{i}@example.com".lower(),
            # i·P mod 10^rest is a bijection (P prime to 10): unique numbers up to 10^rest rows
            "phone": f"+{code}{prefix}{i * 7_654_321 % 10**rest:0{rest}d}",
            "first_name": first,
            "last_name": last,
            "timezone": tz,
            "country": country,
            "city": city,
            "gender": r.choice(GENDERS),
            "age": age,
            "education": r.choice(EDUCATION),
            "asset_level": r.choice(ASSET_LEVELS),
            "signup_date": signup.isoformat(),
            "birthday": birthday.isoformat(),
            "acquisition_source": r.choices(SOURCES, _SOURCE_WEIGHTS)[0],
        }

    def active_person(self, n: int) -> int:
        """A person index in [0, n): low indices are far more active than high ones."""
        return min(n - 1, int(n * self.r.random() ** 3))

    # --- messages ------------------------------------------------------------------------

    def track(self, person: int, when: datetime, *, identified: bool = True) -> dict[str, Any]:
        """A Segment track call as analytics.js would send it (messageId set by the caller)."""
        r = self.r
        name = r.choices(self._event_names, cum_weights=self._event_weights)[0]
        msg = self._base("track", person, when, identified)
        msg["event"] = name
        msg["properties"] = self._properties(name)
        return msg

    def page(self, person: int, when: datetime, *, identified: bool = True) -> dict[str, Any]:
        path = self.r.choice(PAGES)
        msg = self._base("page", person, when, identified)
        msg["name"] = path.strip("/").title() or "Home"
        msg["properties"] = {"path": path, "url": f"https://shop.example.com{path}", "title": msg["name"]}
        return msg

    def _base(self, kind: str, person: int, when: datetime, identified: bool) -> dict[str, Any]:
        msg: dict[str, Any] = {"type": kind, "anonymousId": f"anon-{person:08x}"}
        if identified:
            msg["userId"] = f"user-{person}"
        msg["timestamp"] = when.isoformat().replace("+00:00", "Z")
        msg["context"] = {
            "library": {"name": "analytics.js", "version": "5.2.0"},
            "ip": f"203.0.113.{person % 250 + 1}",
            "locale": "en-US",
            "userAgent": USER_AGENT,
        }
        return msg

    def _properties(self, name: str) -> dict[str, Any]:
        r = self.r
        product = r.choices(range(1, N_PRODUCTS + 1), cum_weights=self._product_cum)[0]
        price = round(5 + (product * 7919 % 20000) / 100, 2)
        item = {
            "product_id": f"p{product:05d}",
            "sku": f"SKU-{product:05d}",
            "category": f"c{product % N_CATEGORIES:02d}",
            "price": price,
            "currency": "USD",
        }
        if name == "Products Searched":
            return {"query": r.choice(("shoes", "red dress", "laptop", "coffee", "gift"))}
        if name in ("Product Added", "Product Viewed"):
            return {**item, "quantity": 1 if name == "Product Viewed" else r.randint(1, 3)}
        if name in ("Checkout Started", "Order Completed"):
            quantity = r.randint(1, 3)
            props: dict[str, Any] = {
                "order_id": f"o{r.randrange(10**9):09d}",
                "revenue": round(price * quantity, 2),
                "currency": "USD",
                "products": [{**item, "quantity": quantity}],
            }
            if r.random() < 0.2:
                props["coupon"] = "WELCOME10"
            return props
        return {"campaign_id": f"cmp-{r.randrange(40)}", "email_id": f"em-{r.randrange(10**6)}"}


def utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("üéóáíó", "ueoaio"))
