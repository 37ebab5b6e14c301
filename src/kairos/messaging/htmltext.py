"""HTML helpers of the template engine: plain-text conversion, link tracking, the open
pixel, and a small markup scanner that tells where a placeholder sits in a document.

None of this is a full HTML parser, and none of it needs to be: every document these
functions see per message has been serialised by css-inline (html5ever), so tag names are
lower case, attributes are double-quoted and the element tree is balanced. The scanner also
reads template *sources* (MJML, hand-written HTML) at compile time, where it only has to be
good enough to reject placements it does not understand; a rejected template still renders
correctly, on the slow path (see ``templates.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser
from typing import Literal

__all__ = [
    "Site",
    "html_to_text",
    "insert_pixel",
    "mark_links",
    "neutralise_urls",
    "rewrite_links",
    "rewrite_marked_links",
    "same_markup",
    "scan_sites",
    "tidy_text",
    "trackable",
    "unsafe_url",
]

# --------------------------------------------------------------------------- scanner

VOID_ELEMENTS = frozenset(
    (
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    )
)
# Elements whose content is not markup: skip straight to their end tag.
RAW_TEXT_ELEMENTS = frozenset({"style", "script", "title", "textarea", "xmp", "mj-style"})

_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment, including MSO conditional comments
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<[!?][^>]*+>"  # doctype, processing instruction
    r"|</([A-Za-z][^\s/>]*+)[^>]*+>"  # end tag: group 1
    r"|<([A-Za-z][^\s/>]*+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>",  # start tag: 2, 3
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")

Where = Literal["text", "attr", "tag", "comment"]


@dataclass(frozen=True, slots=True)
class Site:
    """Where one placeholder occurrence sits in a document.

    ``key`` identifies the container: for ``text`` the instance ids of the open elements
    (two sites with equal keys are siblings under the same element), for ``attr`` the tag's
    serial number and the attribute's index. ``path`` names the open elements, outermost
    first (for ``attr`` it ends with the tag carrying the attribute).
    """

    start: int
    unit: int
    where: Where
    key: tuple[int, ...]
    path: tuple[str, ...]
    attr: str = ""  # the attribute's name, for ``attr``


def scan_sites(doc: str, placeholder: re.Pattern[str]) -> list[Site]:
    """Every match of ``placeholder`` (group 1: the unit number) in ``doc``, with its site."""
    sites: list[Site] = []
    stack: list[tuple[str, int]] = []
    serial = 0

    def emit(start: int, end: int, where: Where, key: tuple[int, ...], path: tuple[str, ...]) -> None:
        for m in placeholder.finditer(doc, start, end):
            sites.append(Site(m.start(), int(m.group(1)), where, key, path))

    def text_context() -> tuple[tuple[int, ...], tuple[str, ...]]:
        return tuple(s for _, s in stack), tuple(n for n, _ in stack)

    pos, size = 0, len(doc)
    while pos < size:
        m = _MARKUP.search(doc, pos)
        text_end = m.start() if m else size
        if text_end > pos:
            emit(pos, text_end, "text", *text_context())
        if m is None:
            break
        if m.group(2) is not None:  # start tag
            serial += 1
            name = m.group(2).lower()
            attrs_start = m.start(3)
            attrs = m.group(3)
            if placeholder.search(doc, attrs_start, m.end()):
                _attribute_sites(doc, placeholder, attrs, attrs_start, serial, stack, name, sites)
            if not attrs.rstrip().endswith("/") and name not in VOID_ELEMENTS:
                stack.append((name, serial))
                if name in RAW_TEXT_ELEMENTS:
                    close = re.compile(rf"</{re.escape(name)}[\s>/]", re.I).search(doc, m.end())
                    content_end = close.start() if close else size
                    emit(m.end(), content_end, "text", *text_context())
                    pos = content_end
                    continue
        elif m.group(1) is not None:  # end tag
            emit(m.start(), m.end(), "tag", *text_context())
            name = m.group(1).lower()
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i:]
                    break
        else:
            emit(m.start(), m.end(), "comment", *text_context())
        pos = m.end()
    return sites


def _attribute_sites(
    doc: str,
    placeholder: re.Pattern[str],
    attrs: str,
    offset: int,
    serial: int,
    stack: list[tuple[str, int]],
    name: str,
    sites: list[Site],
) -> None:
    path = (*(n for n, _ in stack), name)
    spans: list[tuple[int, int, int, str]] = []
    for index, a in enumerate(_ATTRIBUTE.finditer(attrs)):
        for group in (2, 3, 4):
            if a.group(group) is not None:
                spans.append((offset + a.start(group), offset + a.end(group), index, a.group(1).lower()))
    for m in placeholder.finditer(doc, offset, offset + len(attrs)):
        for start, end, index, attr in spans:
            if start <= m.start() and m.end() <= end:
                sites.append(Site(m.start(), int(m.group(1)), "attr", (serial, index), path, attr))
                break
        else:  # a placeholder standing for an attribute name or a whole attribute
            sites.append(Site(m.start(), int(m.group(1)), "tag", (serial,), path))


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("<", tag, *(f"{k}={v}" for k, v in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("/", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "":
            data = self.events.pop()[1] + data
        self.events.append(("", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("!", data))


def same_markup(a: str, b: str) -> bool:
    """Equal documents, however their characters are spelled (``&#39;`` or ``'``)."""
    if a == b:
        return True
    events = []
    for page in (a, b):
        parser = _Events()
        parser.feed(page)
        parser.close()
        events.append(parser.events)
    return events[0] == events[1]


# --------------------------------------------------------------------------- text


_BLOCK_GAP = {  # element → blank lines it wants around it (1: line break, 2: paragraph)
    # rows are paragraphs: in MJML output every block (text, image, button) is a row
    **dict.fromkeys(("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "ul", "ol", "blockquote"), 2),
    **dict.fromkeys(("div", "li", "td", "th", "section", "article", "header", "footer"), 1),
    **dict.fromkeys(("center", "dl", "dt", "dd", "pre", "address", "figure", "main", "nav"), 1),
}
_SKIPPED = frozenset({"head", "style", "script", "title", "template", "noscript", "xml"})
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f"), None)
_UNLINKED = ("#", "mailto:", "tel:", "sms:", "javascript:", "data:", "cid:")


class _TextConverter(HTMLParser):
    """Readable text: paragraphs and line breaks from block elements, ``text (url)`` for
    links, ``- `` for list items; nothing from ``<head>``, styles, scripts, comments or
    elements hidden with ``display:none`` (the preheader)."""

    def __init__(self, markers: re.Pattern[str] | None = None, zero_width: Collection[str] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.markers = markers if zero_width else None
        self.zero_width = zero_width
        self.out: list[str] = []
        self.gap = 0  # line breaks owed before the next text
        self.stack: list[str] = []
        self.skip_depth = 0  # > 0: inside a skipped element, at this stack depth
        self.pre = 0
        self.links: list[tuple[int, str]] = []  # (len(out) at <a>, href)
        self.lists: list[int] = []  # ordered-list counters (-1: unordered)

    # -- output
    def _block(self, gap: int) -> None:
        self.gap = max(self.gap, gap)

    def _write(self, text: str) -> None:
        if not text:
            return
        if self.gap:
            if self.out:
                self.out.append("\n" * self.gap)
            self.gap = 0
            text = text.lstrip(" ")
            if not text:
                return
        elif self.out and self.out[-1].endswith((" ", "\n")) and text.startswith(" "):
            text = text[1:]
            if not text:
                return
        if not self.out and not text.strip():
            return
        self.out.append(text)

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        void = tag in VOID_ELEMENTS
        if not void:
            self.stack.append(tag)
        if self.skip_depth:
            return
        attributes = dict(attrs)
        if tag in _SKIPPED or _HIDDEN.search(attributes.get("style") or ""):
            if not void:
                self.skip_depth = len(self.stack)
            return
        if tag == "br":
            self.out.append("\n")
            self.gap = 0
        elif tag == "hr":
            self._block(1)
            self._write("---")
            self._block(1)
        elif tag == "img":
            # an image inside a link is the link's label (product cards)
            alt = (attributes.get("alt") or "").strip()
            if self.links and alt:
                self._write(alt)
        elif tag == "a":
            self.links.append((len(self.out), (attributes.get("href") or "").strip()))
        elif tag in ("ul", "ol"):
            self.lists.append(0 if tag == "ol" else -1)
            self._block(2 if len(self.lists) == 1 else 1)
        elif tag == "li":
            self._block(1)
            counter = self.lists[-1] if self.lists else -1
            if counter >= 0:
                self.lists[-1] += 1
                self._write(f"{counter + 1}. ")
            else:
                self._write("- ")
        elif tag == "pre":
            self.pre += 1
            self._block(2)
        elif tag in _BLOCK_GAP:
            self._block(_BLOCK_GAP[tag])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        depth = len(self.stack) - self.stack[::-1].index(tag) - 1
        del self.stack[depth:]
        if self.skip_depth:
            if depth < self.skip_depth:
                self.skip_depth = 0
            return
        if tag == "a" and self.links:
            start, href = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href and not href.lower().startswith(_UNLINKED) and label != href:
                self._write(f" ({href})" if label else href)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._block(2 if not self.lists else 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._block(2)
        elif tag in _BLOCK_GAP:
            self._block(_BLOCK_GAP[tag])

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        data = data.translate(_INVISIBLE)
        if self.markers is not None:
            last = 0
            for m in self.markers.finditer(data):
                if m.group() in self.zero_width:
                    self._text(data[last : m.start()])
                    self.out.append(m.group())  # in place: owed line breaks stay owed
                    last = m.end()
            data = data[last:]
        self._text(data)

    def _text(self, data: str) -> None:
        if self.pre:
            self._write(data.replace("\u00a0", " "))
        else:
            self._write(_SPACES.sub(" ", data))


_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_BLANK_RUN = re.compile(r"\n\s*\n")  # a literal first character: the regex engine skips fast


def tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, no surrounding blank space. Also
    applied per message to a derived text template, whose tags leave empty lines behind."""
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("", text)
    return _BLANK_RUN.sub("\n\n", text).strip()


def html_to_text(html: str, markers: re.Pattern[str] | None = None, zero_width: Collection[str] = ()) -> str:
    """The plain-text alternative of an HTML email (see ``_TextConverter``).

    Compile time, over HTML with placeholders: the ``markers`` matches listed in
    ``zero_width`` (Liquid tags that close a block or print nothing) are written where they
    stand without taking the line breaks owed to the following text — otherwise a
    ``{% endfor %}`` after ``<li>…</li>`` would pull the item's line break into the loop
    body twice. Placeholders of opening tags and of output behave as words."""
    converter = _TextConverter(markers, zero_width)
    converter.feed(html)
    converter.close()
    return tidy_text("".join(converter.out))


# --------------------------------------------------------------------------- tracking

# Possessive quantifiers (3.11+) keep these linear on long style attributes.
_A_TAG = re.compile(r"<[aA]\s(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+>")
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*+)"|'([^']*+)'|([^\s"'>]++))""", re.I)
_NOTRACK = re.compile(
    r"""\s+data-kairos-notrack(?:\s*=\s*(?:"[^"]*+"|'[^']*+'|[^\s"'>]++))?(?=[\s/>])""", re.I
)
NOTRACK = "data-kairos-notrack"


def rewrite_links(
    html: str, rewriter: Callable[[str], str] | None, skip: Collection[str] = ()
) -> tuple[str, list[str]]:
    """Point every tracked ``<a href>`` at ``rewriter(url)``; return the HTML and the
    original URLs rewritten, in document order.

    Only ``http(s)`` links are tracked; ``skip`` (the unsubscribe and preference links)
    and links carrying ``data-kairos-notrack`` are left alone, and the marker attribute is
    removed whether or not a rewriter is given. URLs are HTML-unescaped before the rewriter
    sees them (``&amp;`` → ``&``) and the result is escaped on the way back in.
    """
    parts: list[str] = []
    links: list[str] = []
    last = 0
    for tag in _A_TAG.finditer(html):
        text = tag.group()
        new = text
        if NOTRACK in text:  # html5ever lower-cases attribute names
            new = _NOTRACK.sub("", text)
        elif rewriter is not None:
            href = _HREF.search(text)
            if href is not None:
                raw = href.group(2) if href.group(2) is not None else href.group(3) or href.group(4) or ""
                url = trackable(raw, skip)
                if url is not None:
                    links.append(url)
                    new = (
                        f'{text[: href.start()]}{href.group(1)}"{escape(rewriter(url))}"{text[href.end() :]}'
                    )
        if new is not text:
            parts.append(html[last : tag.start()])
            parts.append(new)
            last = tag.end()
    if not parts:
        return html, links
    parts.append(html[last:])
    return "".join(parts), links


# Precompiled templates carry their trackable hrefs between these markers, placed at compile
# time, so a render finds them with a one-character str.find (memchr) instead of a regex
# over the whole document. A rendered value cannot forge one: autoescape turns the "<" and
# ">" into entities, and a stray \x02 or \x03 not followed by them is skipped.
LINK_START = "\x02<"
LINK_END = "\x03>"
_HTTP = ("http://", "https://")


def trackable(raw: str, skip: Collection[str]) -> str | None:
    """The URL of an href attribute value (as written in HTML) when it is to be tracked:
    http(s) and not one of ``skip``."""
    if "&" in raw:
        # html.unescape is a regex pass; hrefs usually only hold &amp;
        url = raw.replace("&amp;", "&") if "&" not in raw.replace("&amp;", "") else unescape(raw)
    else:
        url = raw
    url = url.strip()
    return url if url[:8].lower().startswith(_HTTP) and url not in skip else None


def mark_links(html: str, dynamic: re.Pattern[str]) -> str:
    """Compile time: wrap the href of each trackable ``<a>`` in the link markers and drop
    ``data-kairos-notrack`` (whose link is then left alone). ``dynamic`` matches the
    placeholders of Liquid markup: such hrefs are only known per message."""
    parts: list[str] = []
    last = 0
    for tag in _A_TAG.finditer(html):
        text = tag.group()
        if NOTRACK in text:
            new = _NOTRACK.sub("", text)
        else:
            href = _HREF.search(text)
            if href is None or href.group(2) is None:  # html5ever always double-quotes
                continue
            value = href.group(2)
            if not dynamic.search(value) and not unescape(value).strip().lower().startswith(_HTTP):
                continue
            new = f"{text[: href.start(2)]}{LINK_START}{value}{LINK_END}{text[href.end(2) :]}"
        parts += (html[last : tag.start()], new)
        last = tag.end()
    parts.append(html[last:])
    return "".join(parts)


def rewrite_marked_links(
    html: str, rewriter: Callable[[str], str] | None, skip: Collection[str] = ()
) -> tuple[str, list[str]]:
    """Per message, for ``mark_links`` output: like ``rewrite_links``; always removes the
    markers."""
    parts: list[str] = []
    links: list[str] = []
    pos = 0
    find = html.find
    start = find("\x02")
    while start >= 0:
        if html[start + 1 : start + 2] != "<":
            start = find("\x02", start + 1)
            continue
        end = find("\x03", start + 2)
        while end >= 0 and html[end + 1 : end + 2] != ">":
            end = find("\x03", end + 1)
        if end < 0:  # pragma: no cover - markers come in pairs
            break
        raw = html[start + 2 : end]
        parts.append(html[pos:start])
        if rewriter is not None and (url := trackable(raw, skip)) is not None:
            links.append(url)
            raw = escape(rewriter(url))
        elif unsafe_url(raw):  # a contact's "javascript:…" never becomes a link
            raw = "#"
        parts.append(raw)
        pos = end + 2
        start = find("\x02", pos)
    if not parts:
        return html, links
    parts.append(html[pos:])
    return "".join(parts), links


# --------------------------------------------------------------------------- script URLs

#: Attributes whose value a mail client or browser may load or follow as a URL.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "background", "poster", "cite", "xlink:href",
     "lowsrc", "dynsrc", "longdesc", "data", "ping", "srcset", "usemap", "manifest"}
)  # fmt: skip
_UNSAFE_SCHEMES = ("javascript", "vbscript", "data")
_SAFE_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpe?g|webp|bmp)[;,]", re.I)
_URL_JUNK = str.maketrans("", "", "\t\n\r")  # URL parsers drop these anywhere
_SCHEME_END = re.compile(r"[:/?#]")
_START_TAG = re.compile(r"<([A-Za-z][^\s/>]*+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>")
_URL_ATTR = re.compile(r'(\s([a-zA-Z:-]+)\s*=\s*)"([^"]*+)"')


def unsafe_url(raw: str, *, image: bool = False) -> bool:
    """Whether an attribute value (as written in HTML) is a ``javascript:``, ``vbscript:`` or
    ``data:`` URL — the way a browser reads it: entities decoded, leading controls and
    spaces ignored, tabs and line breaks ignored anywhere. With ``image`` (``<img src>``),
    ``data:image/png|gif|jpeg|webp|bmp`` is allowed (not SVG, which can carry script)."""
    if ":" not in raw and "&" not in raw:  # no scheme (an entity could hide the colon)
        return False
    url = (unescape(raw) if "&" in raw else raw).translate(_URL_JUNK).lstrip("".join(map(chr, range(33))))
    end = _SCHEME_END.search(url)
    if end is None or end.group() != ":":
        return False
    scheme = url[: end.start()].lower()
    if scheme not in _UNSAFE_SCHEMES:
        return False
    return not (image and _SAFE_DATA_IMAGE.match(url))


def neutralise_urls(html: str, dynamic: re.Pattern[str] | None = None) -> str:
    """Replace every script or data URL in a URL attribute (``URL_ATTRIBUTES``) with ``#``
    (see ``unsafe_url``). ``dynamic`` matches Liquid placeholders at compile time: a value
    whose scheme a placeholder decides is left for the per-message check."""
    parts: list[str] = []
    last = 0
    for tag in _START_TAG.finditer(html):
        attrs = tag.group(2)
        if "=" not in attrs:
            continue
        name = tag.group(1).lower()
        changed = False
        new: list[str] = []
        pos = 0
        for a in _URL_ATTR.finditer(attrs):
            attr = a.group(2).lower()
            if attr not in URL_ATTRIBUTES:
                continue
            value = a.group(3)
            if dynamic is not None and (m := dynamic.search(value)) is not None:
                value = value[: m.start()]  # the static prefix decides alone, or nothing does
            if unsafe_url(value, image=attr == "src" and name == "img"):
                new += (attrs[pos : a.start()], f'{a.group(1)}"#"')
                pos, changed = a.end(), True
        if changed:
            new.append(attrs[pos:])
            parts += (html[last : tag.start(2)], "".join(new))
            last = tag.end(2)
    if not parts:
        return html
    parts.append(html[last:])
    return "".join(parts)


def dynamic_scheme_urls(html: str, dynamic: re.Pattern[str]) -> bool:
    """Compile time: whether a URL attribute whose scheme depends on Liquid (a placeholder
    before any ``:/?#``) is left that the link markers do not cover (an ``<a href>`` without
    ``data-kairos-notrack`` is marked, and checked per message)."""
    for tag in _START_TAG.finditer(html):
        attrs = tag.group(2)
        if not dynamic.search(attrs):
            continue
        name = tag.group(1).lower()
        for a in _URL_ATTR.finditer(attrs):
            attr = a.group(2).lower()
            if attr not in URL_ATTRIBUTES or (m := dynamic.search(a.group(3))) is None:
                continue
            if _SCHEME_END.search(a.group(3), 0, m.start()) is not None:
                continue  # the scheme is written out: https://…{{ x }}
            if name == "a" and attr == "href" and NOTRACK not in attrs:
                continue
            return True
    return False


_BODY_END = re.compile(r"</body\s*>", re.I)


def insert_pixel(html: str, url: str) -> str:
    """Add the 1x1 open-tracking image right before ``</body>`` (at the end without one)."""
    pixel = (
        f'<img src="{escape(url)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px" />'
    )
    at = html.rfind("</body>")  # what html5ever writes; the regex is for hand-made HTML
    if at < 0:
        ends = [m.start() for m in _BODY_END.finditer(html)]
        if not ends:
            return html + pixel
        at = ends[-1]
    return f"{html[:at]}{pixel}{html[at:]}"


_BODY_START = re.compile(r"""<body\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I)
#: The hidden preview text ("preheader") as email clients expect it: the first text of the
#: body, invisible everywhere (Outlook needs ``mso-hide``; some clients ignore display:none).
PREHEADER_STYLE = (
    "display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;"
    "opacity:0;overflow:hidden;mso-hide:all;"
)


def insert_preheader(html: str, preheader: str) -> str:
    """Add the hidden preview text (HTML-escaped) right after ``<body …>`` (at the start
    without one)."""
    div = f'<div style="{PREHEADER_STYLE}">{escape(preheader)}</div>'
    at = html.find("<body")  # what html5ever writes; the regex also reads <BODY …>
    found = (_BODY_START.match(html, at) if at >= 0 else None) or _BODY_START.search(html)
    if found is None:
        return div + html
    return f"{html[: found.end()]}{div}{html[found.end() :]}"
