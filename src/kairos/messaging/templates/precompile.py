"""Email bodies compiled once: Liquid units protected through MJML and css-inline, checked, or the slow path.

See the package docstring (``kairos.messaging.templates``) for the design.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from typing import Final, Literal

import css_inline
import mjml
from liquid import BoundTemplate
from liquid.exceptions import LiquidError
from liquid.lex import compile_liquid_rules

from kairos.messaging.htmltext import (
    LINK_END,
    LINK_START,
    Site,
    dynamic_scheme_urls,
    html_to_text,
    mark_links,
    neutralise_urls,
    rewrite_links,
    same_markup,
    scan_sites,
)
from kairos.messaging.templates.liquid import (
    _HTML_ENV,
    _PLAIN_ENV,
    _has_liquid,
    _invalid,
    _line_locator,
    _Locate,
    _parse,
)

# --------------------------------------------------------------------------- Liquid units

_LIQUID_RULES: Final = compile_liquid_rules()  # the lexer's own regex: same unit boundaries

_BLOCK_OPEN = frozenset({"if", "unless", "case", "for", "tablerow", "capture", "ifchanged"})
_BLOCK_MID = frozenset({"elsif", "else", "when"})
_BLOCK_CLOSE = frozenset({f"end{name}" for name in _BLOCK_OPEN})
_SILENT = frozenset({"assign", "comment", "#", "doc"})  # print nothing: can move to the front
_COMMENTS = frozenset({"comment", "#", "doc"})

_UnitKind = Literal["output", "open", "mid", "close", "stmt"]


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    kind: _UnitKind
    name: str
    group: int = -1  # for open/mid/close: index of the block's opening unit


def _split_units(source: str) -> list[_Unit]:
    units: list[_Unit] = []
    matches = _LIQUID_RULES.finditer(source)
    for m in matches:
        kind = m.lastgroup
        if kind == "output":
            units.append(_Unit(m.start(), m.end(), "output", ""))
        elif kind in ("RAW", "DOC"):
            units.append(_Unit(m.start(), m.end(), "stmt", str(kind).lower()))
        elif kind == "TAG":
            name = m.group("name")
            if name == "comment":  # like the lexer: one unit up to the matching endcomment
                depth, end = 1, len(source)
                for inner in matches:
                    if inner.lastgroup == "TAG":
                        depth += {"comment": 1, "endcomment": -1}.get(inner.group("name"), 0)
                        if depth == 0:
                            end = inner.end()
                            break
                units.append(_Unit(m.start(), end, "stmt", "comment"))
                continue
            unit_kind: _UnitKind = (
                "open"
                if name in _BLOCK_OPEN
                else "mid"
                if name in _BLOCK_MID
                else "close"
                if name in _BLOCK_CLOSE
                else "stmt"
            )
            units.append(_Unit(m.start(), m.end(), unit_kind, name))
    stack: list[int] = []
    for index, unit in enumerate(units):
        if unit.kind == "open":
            unit.group = index
            stack.append(index)
        elif unit.kind == "mid" and stack:
            unit.group = stack[-1]
        elif unit.kind == "close" and stack:
            unit.group = stack.pop()
    return units


def _prelude(source: str, units: list[_Unit]) -> tuple[int, int, list[tuple[int, str]]]:
    """Leading ``assign``/``capture``/comment units that print nothing: they are lifted out
    of the markup (text before ``<mjml>`` or ``<html>`` would upset both parsers) and put
    back at the front of the compiled template. Returns (unit count, end offset, pieces)."""
    count = end = pos = depth = 0
    capture_start = 0
    pieces: list[tuple[int, str]] = []
    for index, unit in enumerate(units):
        if depth == 0:
            if source[pos : unit.start].strip():
                break
            if unit.kind == "stmt" and unit.name in _SILENT:
                pieces.append((unit.start, source[unit.start : unit.end]))
                count, end = index + 1, unit.end
            elif unit.kind == "open" and unit.name == "capture":
                depth, capture_start = 1, unit.start
            else:
                break
        elif unit.kind == "open":
            depth += 1
        elif unit.kind == "close":
            depth -= 1
            if depth == 0:
                pieces.append((capture_start, source[capture_start : unit.end]))
                count, end = index + 1, unit.end
        pos = unit.end
    return count, end, pieces


class _Placeholders:
    """``KLQ<n>X`` tokens (another prefix if the source already contains ``KLQ``)."""

    def __init__(self, source: str) -> None:
        prefix, n = "KLQ", 0
        decoded = unescape(source)  # the HTML parser decodes entities: "&#75;LQ" is "KLQ"
        while prefix in source or prefix in decoded:
            n += 1
            prefix = f"KLQ{chr(ord('A') + n % 26)}{n // 26 or ''}Q"
        self.prefix = prefix
        self.pattern = re.compile(re.escape(prefix) + r"(\d+)X")

    def __call__(self, index: int) -> str:
        return f"{self.prefix}{index}X"


_UNTRIM_START = re.compile(r"^\{([{%])-")
_UNTRIM_END = re.compile(r"-([}%])\}$")


class _Restored:
    """Placeholders swapped back for Liquid markup, with a map from offsets in the result to
    lines of the author's source (for runtime error messages)."""

    def __init__(
        self,
        doc: str,
        pattern: re.Pattern[str],
        source: str,
        units: list[_Unit],
        prefix: Sequence[tuple[int, str]] = (),
        *,
        untrim: bool = False,
    ) -> None:
        parts: list[str] = []
        self._starts: list[int] = []
        self._spans: list[tuple[int, int]] = []  # (length, offset in source)
        size = 0

        def add(text: str, origin: int) -> None:
            nonlocal size
            self._starts.append(size)
            self._spans.append((len(text), origin))
            parts.append(text)
            size += len(text)

        for origin, text in prefix:
            add(text, origin)
        last = 0
        for m in pattern.finditer(doc):
            if m.start() > last:
                parts.append(doc[last : m.start()])
                size += m.start() - last
            unit = units[int(m.group(1))]
            markup = source[unit.start : unit.end]
            if untrim:  # {%- … -%} was meant for the HTML; in text it would join paragraphs
                markup = _UNTRIM_END.sub(r"\1}", _UNTRIM_START.sub(r"{\1", markup))
            add(markup, unit.start)
            last = m.end()
        parts.append(doc[last:])
        self.text = "".join(parts)
        self._source = source

    def locate(self, offset: int) -> int | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        length, origin = self._spans[i]
        if offset - self._starts[i] >= length:
            return None
        return self._source.count("\n", 0, origin + offset - self._starts[i]) + 1


# --------------------------------------------------------------------------- email bodies

# MJML elements whose content MJML copies verbatim into the output.
_MJ_VERBATIM = frozenset(
    {
        "mj-text",
        "mj-button",
        "mj-raw",
        "mj-table",
        "mj-navbar-link",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-social-element",
        "mj-title",
        "mj-preview",
    }
)
# Between the children of these, a unit can stand alone in an <mj-raw>: MJML renders each
# section as a self-contained block (Outlook tables closed and reopened around it). Not
# between columns: MJML sizes columns by their number, so a conditional column changes
# its siblings (the tests caught that), and not in mj-wrapper (MRML puts raw content into
# an Outlook conditional comment there).
_MJ_BETWEEN_BLOCKS = frozenset({"mj-body"})
# Text directly inside these is moved elsewhere by the HTML parser (foster parenting).
_MOVED_TEXT = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup", "select", "html", "head"})
_FULL_DOCUMENT = re.compile(r"<(?:!doctype|html|head|body)[\s>]", re.I)

# Keep <style> (media queries, :hover) and <link> in the head; inline what can be inlined.
_INLINER: Final = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=True, keep_link_tags=True
)


class _Fallback(Exception):
    """The body cannot be precompiled; the reason is the message."""


class _MjmlFailed(_Fallback):
    pass


def _to_html(markup: str, fmt: str) -> str:
    """MJML → HTML (for ``mjml``), then CSS inlining, then short lines. Raises ValueError or
    InlineError."""
    if fmt == "mjml":
        markup = mjml.mjml2html(markup)
    return _TAG_GAP.sub("\\1\n", _INLINER.inline(markup))


#: The whitespace between a tag's name and its first attribute. css-inline writes a whole
#: document on one line of 10 KB and more; SMTP allows 998 bytes, so such a body would need
#: quoted-printable (~40 µs per message). A line break there means exactly what the space
#: meant to every HTML parser, and it is outside any attribute value, so the lines become
#: short and the body can go as 8-bit text.
_TAG_GAP = re.compile(r"(<[a-zA-Z][a-zA-Z0-9:-]*)[ \t\r\n]+(?=[^\s>/])")


def _check_source_site(site: Site, unit: _Unit, fmt: str, fragment: bool) -> bool:
    """Can this unit stay where it is through MJML and the HTML parser? Raises _Fallback
    when not; returns True when it must be wrapped in <mj-raw>."""
    if site.where == "attr":
        return False
    if site.where != "text":
        raise _Fallback(f"Liquid markup inside a {site.where}")
    path = site.path
    is_output = unit.kind == "output"  # e.g. a value in CSS: fine; a tag there is not
    # An assign prints nothing: wherever the parser moves it, only its order relative to
    # the other units matters, and the output check verifies that.
    movable = unit.kind == "stmt" and unit.name == "assign"
    if fmt == "mjml":
        mj = max((i for i, name in enumerate(path) if name.startswith("mj")), default=-1)
        if mj < 0:
            raise _Fallback("Liquid markup outside <mjml>")
        element, html_path = path[mj], path[mj + 1 :]
        if element in _MJ_BETWEEN_BLOCKS and not html_path:
            return True
        if element == "mj-style":
            if is_output:
                return False
            raise _Fallback("Liquid tags inside <mj-style>")
        if element not in _MJ_VERBATIM:
            if movable:
                return True
            raise _Fallback(f"Liquid markup directly inside <{element}>")
        inner = html_path[-1] if html_path else ("table" if element == "mj-table" else "")
    else:
        if not path and not fragment:
            raise _Fallback("Liquid markup outside <html>")
        inner = path[-1] if path else ""
    if inner in _MOVED_TEXT and not movable:
        raise _Fallback(f"Liquid markup directly inside <{inner}>")
    if inner in ("style", "script") and not is_output:
        raise _Fallback(f"Liquid tags inside <{inner}>")
    return False


def _check_blocks(sites: dict[int, Site], units: list[_Unit], which: str) -> None:
    """Every block opens, branches and closes under the same element (or attribute)."""
    for index, site in sites.items():
        unit = units[index]
        if unit.kind in ("mid", "close") and unit.group >= 0:
            opening = sites.get(unit.group)
            if opening is None or (opening.where, opening.key) != (site.where, site.key):
                raise _Fallback(f"a {{% {units[unit.group].name} %}} block spans elements in the {which}")


def _check_sequence(found: Sequence[int], considered: Sequence[int], units: list[_Unit]) -> None:
    """Tags exactly once and in order; output statements at least once, each between the
    same tags as in the source."""
    tags = [i for i in considered if units[i].kind != "output"]
    before: dict[int, int] = {}
    last = -1
    for i in considered:
        if units[i].kind == "output":
            before[i] = last
        else:
            last = i
    k, last, outputs = 0, -1, set()
    for i in found:
        if i in before:
            if before[i] != last:
                raise _Fallback("an output statement moved across a tag")
            outputs.add(i)
        elif k < len(tags) and tags[k] == i:
            k, last = k + 1, i
        else:
            raise _Fallback("Liquid tags were dropped, duplicated or reordered")
    if k != len(tags) or len(outputs) != len(before):
        raise _Fallback("Liquid markup was dropped")


@dataclass(slots=True)
class _FlatSource:
    """A precompiled body that renders as flat parts (see ``_hybrid_ok``), as placeholder
    documents."""

    html: str
    text: str | None
    pattern: re.Pattern[str]
    units: list[_Unit]
    source: str


@dataclass(slots=True)
class _Body:
    precompiled: bool
    html: BoundTemplate  # the final HTML (precompiled) or the source (slow path)
    locate: _Locate
    text: BoundTemplate | None = None  # the derived plain text, when precompiled
    text_locate: _Locate | None = None
    reason: str | None = None
    marked: bool = False  # trackable hrefs carry htmltext's link markers
    #: the rendered HTML needs ``neutralise_urls``: a URL attribute outside the link markers
    #: takes its scheme from Liquid (always on the slow path)
    scan_urls: bool = True
    flat: _FlatSource | None = None


def _compile_body(source: str, fmt: str, *, precompile: bool, derive_text: bool) -> _Body:
    slow = _Body(False, _parse(_HTML_ENV, source, "body"), _line_locator(source))
    if not precompile:
        slow.reason = "precompilation disabled"
        _validate_slow(slow, fmt)
        return slow
    try:
        body = _precompile(source, fmt, derive_text=derive_text)
        _probe(body, slow, fmt)
        return body
    except _MjmlFailed as err:
        _validate_slow(slow, fmt, str(err))
        slow.reason = str(err)
    except _Fallback as err:
        _validate_slow(slow, fmt)
        slow.reason = str(err)
    return slow


def _probe(fast: _Body, slow: _Body, fmt: str) -> None:
    """A last differential check: both paths rendered with nothing defined (every value
    empty, every condition false, every loop empty). MJML sometimes decides on content —
    an ``mj-social-element`` without text loses its text cell — which a placeholder, never
    empty, cannot show. Only the body is compared: for a hidden section the precompiled
    head keeps MJML's unused media-query and font rules, which match nothing."""
    try:
        precompiled = _strip_markers(fast.html.render({}))
    except LiquidError:
        precompiled = None
    try:
        reference = neutralise_urls(
            rewrite_links(_to_html(slow.html.render({}), fmt), None)[0]
        )  # drops notrack
    except (LiquidError, ValueError, css_inline.InlineError):
        reference = None
    if precompiled is None or reference is None:
        if precompiled is not reference:
            raise _Fallback("the empty-context probe failed on one path only")
        return
    if not same_markup(_body_of(precompiled), _body_of(reference)):
        raise _Fallback("MJML renders empty values differently (empty-context probe)")


def _strip_markers(html: str) -> str:
    return html.replace(LINK_START, "").replace(LINK_END, "")


def _body_of(page: str) -> str:
    start = page.find("<body")
    return page[start:] if start >= 0 else page


def _validate_slow(body: _Body, fmt: str, mjml_error: str | None = None) -> None:
    """The slow path must at least work for an empty context, or the body is invalid."""
    try:
        _to_html(body.html.render({}), fmt)
    except (ValueError, css_inline.InlineError) as err:
        what = "MJML" if fmt == "mjml" else "HTML"
        raise _invalid("body", f"{what} error: {mjml_error or err}") from err
    except LiquidError:
        pass  # a runtime matter (a limit, a filter on empty data): reported per render


def _precompile(source: str, fmt: str, *, derive_text: bool) -> _Body:
    units = _split_units(source)
    placeholders = _Placeholders(source)
    pattern = placeholders.pattern
    lifted, markup_start, prefix = _prelude(source, units)
    # Comments print nothing and may sit anywhere: they simply leave.
    considered = [i for i in range(lifted, len(units)) if units[i].name not in _COMMENTS]
    kept = set(considered)
    for i in considered:
        if units[i].name == "raw" and (
            "<" in source[units[i].start : units[i].end] or "&" in source[units[i].start : units[i].end]
        ):
            raise _Fallback("markup inside {% raw %}")  # the slow path would run it through MJML

    parts: list[str] = []
    last = markup_start
    for i in range(lifted, len(units)):
        parts += (source[last : units[i].start], placeholders(i) if i in kept else "")
        last = units[i].end
    parts.append(source[last:])
    protected = "".join(parts)

    # -- where the author put each unit
    fragment = fmt == "html" and not _FULL_DOCUMENT.search(protected)
    source_sites = {s.unit: s for s in scan_sites(protected, pattern)}
    wrap: list[Site] = []
    for i in considered:
        if _check_source_site(source_sites[i], units[i], fmt, fragment):
            wrap.append(source_sites[i])
    _check_blocks(source_sites, units, "template")
    for site in reversed(wrap):  # stand-alone units between MJML blocks
        token = placeholders(site.unit)
        end = site.start + len(token)
        protected = f"{protected[: site.start]}<mj-raw>{token}</mj-raw>{protected[end:]}"

    # -- the expensive part, once
    try:
        html = _to_html(protected, fmt)
    except ValueError as err:
        raise _MjmlFailed(str(err)) from err
    except css_inline.InlineError as err:
        raise _Fallback(f"CSS inlining failed: {err}") from err

    # -- did every unit survive, in place?
    if _has_liquid(html):
        raise _Fallback("the HTML contains literal {{ or {% (decoded entities)")
    output_sites = scan_sites(html, pattern)
    _check_sequence([s.unit for s in output_sites], considered, units)
    tag_sites: dict[int, Site] = {}
    for site in output_sites:
        if units[site.unit].kind != "output":
            if site.where not in ("text", "attr"):
                raise _Fallback(f"a Liquid tag ended up inside a {site.where}")
            tag_sites[site.unit] = site
    _check_blocks(tag_sites, units, "HTML")

    html = neutralise_urls(html, pattern)  # the author's own script URLs, once
    text = _derive_text(html, output_sites, considered, units, placeholders) if derive_text else None
    html = mark_links(html, pattern)
    restored = _Restored(html, pattern, source, units, prefix)
    try:
        compiled = _HTML_ENV.from_string(restored.text)
    except LiquidError as err:  # pragma: no cover - the checks above make this unreachable
        raise _Fallback(f"the compiled HTML does not parse: {err.message}") from err
    body = _Body(
        True,
        compiled,
        restored.locate,
        marked=LINK_START in html,
        scan_urls=dynamic_scheme_urls(html, pattern),
    )
    if text is not None:
        restored = _Restored(text, pattern, source, units, prefix, untrim=True)
        try:
            body.text = _PLAIN_ENV.from_string(restored.text)
            body.text_locate = restored.locate
        except LiquidError:  # pragma: no cover - same checks as the HTML
            text = None
    if not lifted and _hybrid_ok(source, units, considered):
        body.flat = _FlatSource(html, text, pattern, units, source)
    return body


_HYBRID_BLOCKS = frozenset({"if", "unless", "case", "for", "tablerow"})


def _hybrid_ok(source: str, units: list[_Unit], considered: list[int]) -> bool:
    """Whether the body can render as flat parts with top-level blocks done by Liquid:
    no tag binds a variable (top-level values are looked up in the context directly, and
    each block renders in a fresh Liquid context), and no top-level unit trims whitespace
    (the trim would reach into flat text)."""
    depth = 0
    for i in considered:
        unit = units[i]
        if unit.kind == "stmt" and unit.name not in ("break", "continue"):
            return False
        if unit.kind == "open" and unit.name not in _HYBRID_BLOCKS:
            return False
        top = depth == 0 or (unit.kind == "close" and depth == 1)
        depth += {"open": 1, "close": -1}.get(unit.kind, 0)
        if top and _trims(source, unit):
            return False
    return True


def _trims(source: str, unit: _Unit) -> bool:
    """Whitespace control (``{{-``, ``-}}``) — which flat rendering does not emulate."""
    return source.startswith(("{{-", "{%-"), unit.start) or source.endswith(("-}}", "-%}"), 0, unit.end)


def _derive_text(
    html: str,
    output_sites: list[Site],
    considered: list[int],
    units: list[_Unit],
    placeholders: _Placeholders,
) -> str | None:
    """Plain text converted once from the placeholder HTML (still with placeholders), or
    None when it cannot be. Tags in attributes other than a link's href are dropped with
    their attribute (whole blocks: a block never spans attributes); anything else missing
    means per-message conversion."""
    pattern = placeholders.pattern
    zero_width = {placeholders(i) for i in considered if units[i].kind in ("mid", "close", "stmt")}
    text = html_to_text(html, pattern, zero_width)
    if _has_liquid(text):
        return None
    dropped = {
        s.unit
        for s in output_sites
        if s.where == "attr" and units[s.unit].kind in ("open", "mid", "close") and s.attr != "href"
    }
    expected = [i for i in considered if units[i].kind != "output" and i not in dropped]
    found = [int(m.group(1)) for m in pattern.finditer(text) if units[int(m.group(1))].kind != "output"]
    return text if found == expected else None
