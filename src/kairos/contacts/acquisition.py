"""Acquisition source: where a contact came from (docs/leads.md, "Acquisition source").

A *touch* is read from a ``page`` call or a ``form_submitted`` event: the UTM parameters
(Segment's ``context.campaign``, else the page URL's query string), the ad click ids
(``gclid``, ``msclkid``, ``fbclid`` …), and the referrer (``properties.referrer``, else
``context.page.referrer``). It gets a source, a medium and a channel group computed like
Google Analytics' default channel groups (``channel_of``). A referrer on the page's own
host is navigation inside the site: such a visit counts as direct.

Each contact keeps two touches in ``contact_acquisition``:

- the **first** touch: the earliest visit (direct included), never replaced by a later one;
- the **last** touch: the latest non-direct visit ("last non-direct click": returning by a
  bookmark does not erase the campaign that brought the person); until a non-direct one
  arrives, the first (direct) visit — so repeated direct visits write nothing.

Ingest computes each contact's touches of the batch in Python (parsing, cached per URL and
referrer; no query per message), reads the stored touches of the batch's contacts (one
``SELECT … WHERE contact_id IN``), and writes only the contacts whose touches move with one
executemany upsert whose ``ON CONFLICT … DO UPDATE … WHERE`` keeps the earlier first and the
later last touch in SQL; then it marks those contacts updated (one ``UPDATE … WHERE id IN
(SELECT …)``), so the worker re-evaluates the segments and scoring rules reading them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Connection, and_, bindparam, case, delete, literal_column, or_, select, update

from kairos.contacts.tables import contact, contact_acquisition
from kairos.db.dialect import FastStatement, chunks, insert_on_conflict, time_converter

#: the channel groups, in the order rules are tried (``channel_of``)
CHANNELS = (
    "direct", "paid_search", "paid_social", "display", "paid_other", "organic_social",
    "organic_search", "referral", "email", "affiliates", "sms", "other",
)  # fmt: skip
TOUCHES = ("first", "last")
#: a touch's values, as columns ``{touch}_{field}`` and segment attributes
#: ``acquisition.{touch}.{field}``
FIELDS = ("channel", "source", "medium", "campaign", "term", "content", "referrer", "landing_url", "at")
UTM = {"source": "utm_source", "medium": "utm_medium", "campaign": "utm_campaign",
       "term": "utm_term", "content": "utm_content"}  # fmt: skip
#: Segment's ``context.campaign`` names the campaign ``name``
_CONTEXT_KEYS = {"source": "source", "medium": "medium", "campaign": "name", "term": "term",
                 "content": "content"}  # fmt: skip
#: the event a form submission records (``kairos.forms.service.submit``)
FORM_EVENT = "form_submitted"
DIRECT_SOURCE = "(direct)"
DIRECT_MEDIUM = "(none)"
MAX_VALUE = 255
MAX_URL = 2000

#: ad click ids (auto-tagging) → (source, medium) when the URL has no UTM values
CLICK_IDS: dict[str, tuple[str, str]] = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "dclid": ("google", "display"),
    "msclkid": ("bing", "cpc"),
    "fbclid": ("facebook", "paid_social"),
    "ttclid": ("tiktok", "paid_social"),
    "li_fat_id": ("linkedin", "paid_social"),
    "twclid": ("twitter", "paid_social"),
}
#: search engines: registered domain → source name
SEARCH_ENGINES = {
    "google.com": "google", "bing.com": "bing", "search.yahoo.com": "yahoo", "duckduckgo.com": "duckduckgo",
    "baidu.com": "baidu", "yandex.ru": "yandex", "yandex.com": "yandex", "ecosia.org": "ecosia",
    "naver.com": "naver", "sogou.com": "sogou", "so.com": "360", "sm.cn": "shenma", "ask.com": "ask",
    "search.brave.com": "brave", "qwant.com": "qwant", "startpage.com": "startpage",
    "seznam.cz": "seznam", "daum.net": "daum", "search.yahoo.co.jp": "yahoo", "search.aol.com": "aol",
}  # fmt: skip
#: social networks: registered domain → source name
SOCIAL_SITES = {
    "facebook.com": "facebook", "fb.com": "facebook", "fb.me": "facebook", "instagram.com": "instagram",
    "twitter.com": "twitter", "t.co": "twitter", "x.com": "twitter", "linkedin.com": "linkedin",
    "lnkd.in": "linkedin", "youtube.com": "youtube", "youtu.be": "youtube", "pinterest.com": "pinterest",
    "reddit.com": "reddit", "tiktok.com": "tiktok", "weibo.com": "weibo", "weibo.cn": "weibo",
    "weixin.qq.com": "wechat", "zhihu.com": "zhihu", "xiaohongshu.com": "xiaohongshu",
    "douyin.com": "douyin", "bilibili.com": "bilibili", "vk.com": "vk", "quora.com": "quora",
    "threads.net": "threads", "snapchat.com": "snapchat", "tumblr.com": "tumblr",
    "whatsapp.com": "whatsapp", "line.me": "line", "discord.com": "discord", "medium.com": "medium",
}  # fmt: skip
#: google.de, google.co.uk, m.baidu.com, uk.search.yahoo.com …: a name and a country's domain
_SEARCH_HOST = re.compile(
    r"^(?:m\.)?(google|yandex|bing|baidu|(?:[a-z]{2}\.)?search\.yahoo)\.[a-z]{2,3}(?:\.[a-z]{2})?$"
)
_COUNTRY_OR_MOBILE = re.compile(r"^(?:m|[a-z]{2})\.")
_SEARCH_NAMES = frozenset(SEARCH_ENGINES.values())
_SOCIAL_NAMES = frozenset(SOCIAL_SITES.values()) | {"fb", "ig", "x", "weixin", "wechat"}
_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
_EMAIL = re.compile(r"email|e-mail|e_mail|e mail|newsletter")


@dataclass(slots=True)
class Touch:
    at: datetime
    channel: str
    source: str | None
    medium: str | None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    referrer: str | None = None
    landing_url: str | None = None

    @property
    def direct(self) -> bool:
        return self.channel == "direct"


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host.removeprefix("www.") or None


def _known(host: str, sites: dict[str, str]) -> str | None:
    """The name of the site ``host`` belongs to (the domain itself or a subdomain of it)."""
    parts = host.split(".")
    for i in range(len(parts) - 1):
        name = sites.get(".".join(parts[i:]))
        if name is not None:
            return name
    return None


def search_engine(host: str) -> str | None:
    """The search engine of a host: the engine's own (``google.com``), its mobile or a
    country's (``m.baidu.com``, ``cn.bing.com``); not its other services (``mail.google.com``)."""
    found = SEARCH_ENGINES.get(host) or SEARCH_ENGINES.get(_COUNTRY_OR_MOBILE.sub("", host))
    if found is None and (m := _SEARCH_HOST.match(host)):
        found = "yahoo" if m.group(1).endswith("yahoo") else m.group(1)
    return found


def social_site(host: str) -> str | None:
    return _known(host, SOCIAL_SITES)


def _is_search(source: str) -> bool:
    return source in _SEARCH_NAMES or search_engine(source) is not None


def _is_social(source: str) -> bool:
    return source in _SOCIAL_NAMES or social_site(source) is not None


def channel_of(source: str | None, medium: str | None) -> str:
    """The default channel group of a source and medium, by Google Analytics' rules, the
    first that matches (case-insensitive; docs/leads.md lists them)."""
    s = (source or "").strip().lower()
    m = (medium or "").strip().lower()
    if s in ("", DIRECT_SOURCE) and m in ("", DIRECT_MEDIUM, "(not set)"):
        return "direct"
    search, social = _is_search(s), _is_social(s)
    paid = bool(_PAID_MEDIUM.match(m))
    if search and paid:
        return "paid_search"
    if social and paid:
        return "paid_social"
    if m in _DISPLAY_MEDIA:
        return "display"
    if paid:
        return "paid_other"
    if social or m in _SOCIAL_MEDIA:
        return "organic_social"
    if search or m == "organic":
        return "organic_search"
    if m in ("referral", "app", "link"):
        return "referral"
    if _EMAIL.search(s) or _EMAIL.search(m):
        return "email"
    if m == "affiliate":
        return "affiliates"
    if s == "sms" or m == "sms":
        return "sms"
    return "other"


def _text(value: Any, limit: int = MAX_VALUE) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def touch_of(
    at: datetime,
    url: str | None,
    referrer: str | None,
    campaign: dict[str, Any] | None = None,
) -> Touch:
    """The touch of a visit to ``url`` from ``referrer``; ``campaign``: UTM values already
    parsed (Segment's ``context.campaign``: source, medium, name, term, content), which win
    over the URL's query string."""
    given = tuple(_text(campaign.get(key)) for key in _CONTEXT_KEYS.values()) if campaign else None
    return Touch(at, *_classify(_text(url, MAX_URL), _text(referrer, MAX_URL), given))


#: (url, referrer, UTM values) → a touch's fields but its instant: visits repeat the same few
#: landing pages and referrers, and parsing URLs is most of what a touch costs
_Fields = tuple[str, str | None, str | None, str | None, str | None, str | None, str | None, str | None]


@lru_cache(maxsize=4096)
def _classify(url: str | None, referrer: str | None, given: tuple[str | None, ...] | None) -> _Fields:
    query: dict[str, list[str]] = {}
    if url and "?" in url:
        try:
            query = parse_qs(urlsplit(url).query)
        except ValueError:
            query = {}
    utm = {
        field: (given[i] if given else None) or _text(next(iter(query.get(param, [])), None))
        for i, (field, param) in enumerate(UTM.items())
    }
    ref_host = _host(referrer)
    if ref_host is not None and ref_host == _host(url):
        referrer = ref_host = None  # navigation inside the site
    click = next((CLICK_IDS[k] for k in CLICK_IDS if query.get(k)), None) if query else None
    source, medium = utm["source"], utm["medium"]
    if source is None and medium is None:
        if click is not None:
            source, medium = click
        elif ref_host is not None:
            if (name := search_engine(ref_host)) is not None:
                source, medium = name, "organic"
            elif (name := social_site(ref_host)) is not None:
                source, medium = name, "social"
            else:
                source, medium = ref_host[:MAX_VALUE], "referral"
        else:
            source, medium = DIRECT_SOURCE, DIRECT_MEDIUM
    elif source is None:
        source = click[0] if click is not None else (ref_host[:MAX_VALUE] if ref_host else None)
    elif medium is None and click is not None:
        medium = click[1]
    channel = channel_of(source, medium)
    return channel, source, medium, utm["campaign"], utm["term"], utm["content"], referrer, url


def message_touch(kind: str, name: str | None, properties: dict[str, Any], context: dict[str, Any] | None,
                  at: datetime) -> Touch | None:  # fmt: skip
    """The touch a message makes: a ``page`` call or a ``form_submitted`` track; else None."""
    if kind != "page" and not (kind == "track" and name == FORM_EVENT):
        return None
    ctx = context or {}
    page = _dict(ctx.get("page"))
    url = _text(properties.get("url"), MAX_URL) or _text(page.get("url"), MAX_URL)
    referrer = _text(properties.get("referrer"), MAX_URL) or _text(page.get("referrer"), MAX_URL)
    return touch_of(at, url, referrer, _dict(ctx.get("campaign")))


def _later_last(new: Touch, old: Touch) -> bool:
    """Does ``new`` replace ``old`` as the last touch (last non-direct click)? A direct visit
    only stands in while there is no other, and then the earliest one does: so the pages a
    returning visitor opens by hand write nothing."""
    if new.direct:
        return old.direct and new.at < old.at
    return old.direct or new.at > old.at


def combine(touches: Sequence[Touch]) -> tuple[Touch, Touch]:
    """The first and last touch of a contact's touches (none empty)."""
    first = last = touches[0]
    for t in touches[1:]:
        if t.at < first.at:
            first = t
        if _later_last(t, last):
            last = t
    return first, last


# --- writing ------------------------------------------------------------------------------

_COLUMNS = (
    "contact_id", "workspace_id",
    *(f"{touch}_{f}" for touch in TOUCHES for f in FIELDS),
    "updated_at",
)  # fmt: skip


def _upsert(conn: Connection) -> Any:
    """Insert a contact's touches; on an existing row keep the earlier first touch and the
    later last touch (``_later_last`` in SQL), and touch ``updated_at`` only when one moved."""
    t = contact_acquisition
    ins = insert_on_conflict(conn, t).values({c: bindparam(c) for c in _COLUMNS})
    new = ins.excluded
    direct: Any = literal_column("'direct'")  # a constant in the statement (FastStatement binds only rows)
    earlier = new.first_at < t.c.first_at
    later = or_(
        and_(new.last_channel != direct, or_(t.c.last_channel == direct, new.last_at > t.c.last_at)),
        and_(new.last_channel == direct, t.c.last_channel == direct, new.last_at < t.c.last_at),
    )
    sets: dict[str, Any] = {}
    for touch, moved in (("first", earlier), ("last", later)):
        for f in FIELDS:
            col = f"{touch}_{f}"
            sets[col] = case((moved, new[col]), else_=t.c[col])
    sets["updated_at"] = new.updated_at
    return ins.on_conflict_do_update(index_elements=[t.c.contact_id], set_=sets, where=or_(earlier, later))


_UPSERT = FastStatement(_upsert, _COLUMNS)
_BUMP = (
    update(contact)
    .where(
        contact.c.id.in_(
            select(contact_acquisition.c.contact_id).where(
                contact_acquisition.c.contact_id.in_(bindparam("ids", expanding=True)),
                contact_acquisition.c.updated_at == bindparam("now"),
            )
        )
    )
    .values(updated_at=bindparam("now"))
)


def _row(
    contact_id: int, workspace_id: int, first: Touch, last: Touch, now: datetime, t: Any
) -> tuple[Any, ...]:
    values: list[Any] = [contact_id, workspace_id]
    for touch in (first, last):
        values.extend(
            (touch.channel, touch.source, touch.medium, touch.campaign, touch.term, touch.content,
             touch.referrer, touch.landing_url, t(touch.at))
        )  # fmt: skip
    values.append(t(now))
    return tuple(values)


def record_touches(
    conn: Connection, workspace_id: int, touches: dict[int, list[Touch]], now: datetime
) -> None:
    """Keep each contact's first and last touch given its new ``touches`` (contact id →
    touches of a batch): one read of the stored ones, one upsert of those that move, and
    those contacts marked updated, so the worker re-evaluates what reads them."""
    if not touches:
        return
    ca = contact_acquisition.c
    held: dict[int, tuple[datetime, Touch]] = {}  # the stored first touch's instant, last touch
    for part in chunks(sorted(touches)):
        for cid, first_at, channel, last_at in conn.execute(
            select(ca.contact_id, ca.first_at, ca.last_channel, ca.last_at).where(ca.contact_id.in_(part))
        ):
            held[cid] = (first_at, Touch(at=last_at, channel=channel, source=None, medium=None))
    t = time_converter(conn)
    rows, written = [], []
    for cid, found in sorted(touches.items()):
        first, last = combine(found)
        stored = held.get(cid)
        # most page views change nothing stored: those are not written (the upsert decides
        # again in SQL, against what a concurrent transaction may have stored meanwhile)
        if stored is None or first.at < stored[0] or _later_last(last, stored[1]):
            rows.append(_row(cid, workspace_id, first, last, now, t))
            written.append(cid)
    _UPSERT.execute(conn, rows)
    for part in chunks(written):
        conn.execute(_BUMP, {"ids": list(part), "now": now})


def merge_touches(conn: Connection, pairs: Sequence[tuple[int, int]], now: datetime) -> None:
    """Merges (loser, survivor), in order: the survivor keeps the earliest first touch and
    the latest last touch of both; the loser's row goes."""
    ids = {i for pair in pairs for i in pair}
    rows: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        for r in conn.execute(select(contact_acquisition).where(contact_acquisition.c.contact_id.in_(part))):
            rows[r.contact_id] = dict(r._mapping)
    if not any(loser in rows for loser, _ in pairs):
        return
    changed: dict[int, dict[str, Any]] = {}
    for loser, survivor in pairs:
        lost = rows.pop(loser, None)
        if lost is None:
            continue
        kept = rows.get(survivor)
        if kept is None:
            kept = {**lost, "contact_id": survivor}
        else:
            first = _touch(kept, "first")
            if _touch(lost, "first").at < first.at:
                first = _touch(lost, "first")
            last = _touch(kept, "last")
            if _later_last(_touch(lost, "last"), last):
                last = _touch(lost, "last")
            kept = {**kept, **_columns("first", first), **_columns("last", last)}
        kept["updated_at"] = now
        rows[survivor] = changed[survivor] = kept
    losers = {loser for loser, _ in pairs}
    survivors = [r for cid, r in changed.items() if cid not in losers]
    for part in chunks(losers | {r["contact_id"] for r in survivors}):
        conn.execute(delete(contact_acquisition).where(contact_acquisition.c.contact_id.in_(part)))
    if survivors:
        conn.execute(contact_acquisition.insert(), survivors)


def _touch(row: dict[str, Any], touch: str) -> Touch:
    return Touch(**{f: row[f"{touch}_{f}"] for f in FIELDS})


def _columns(touch: str, t: Touch) -> dict[str, Any]:
    return {f"{touch}_{f}": getattr(t, f) for f in FIELDS}


# --- reading ------------------------------------------------------------------------------


def acquisition_of(conn: Connection, contact_id: int) -> dict[str, Any] | None:
    """``{first: {...}, last: {...}}`` of a contact, or None before any attributed visit."""
    row = conn.execute(
        select(contact_acquisition).where(contact_acquisition.c.contact_id == contact_id)
    ).first()
    if row is None:
        return None
    values = row._mapping
    return {touch: {f: values[f"{touch}_{f}"] for f in FIELDS} for touch in TOUCHES}


def attribute_column(name: str) -> Any | None:
    """``acquisition.first.channel`` → the column ``first_channel`` (None: not one)."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] + "." != PREFIX or parts[1] not in TOUCHES or parts[2] not in FIELDS:
        return None
    return contact_acquisition.c[f"{parts[1]}_{parts[2]}"]


#: segment attributes are named ``acquisition.{touch}.{field}``
PREFIX = "acquisition."
ATTRIBUTES = tuple(f"{PREFIX}{touch}.{f}" for touch in TOUCHES for f in FIELDS)
