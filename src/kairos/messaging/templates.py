"""The template engine: personalised content for every channel, compiled once, rendered per
message.

A template is a set of Liquid strings, one per field of its channel (email ``subject`` and
``body``; SMS ``text``; push ``title``/``body``/``data``; …). ``compile_template`` checks and
parses them once; ``CompiledTemplate.render(context)`` fills them in for one message. The
benchmark budget (10k emails/s, SMTP included) leaves a few tens of microseconds per
message, so everything expensive happens at compile time and a render is Liquid at most,
plus cheap string work.

**MJML and CSS once.** MJML → HTML (MRML, a Rust port of MJML) and CSS inlining
(css-inline, remote stylesheets never fetched) cost milliseconds, so ``compile_template``
runs them once with the Liquid markup protected: every ``{{ … }}``/``{% … %}`` unit — split
with the Liquid lexer's own regex; ``{% raw %}`` and ``{% comment %}`` blocks are one unit —
becomes an alphanumeric placeholder (``KLQ7X``) that MJML, css-inline and HTML escaping
leave alone, in text and in attribute values alike (which also keeps the quotes of
``default: "there"`` away from MJML's attribute parser). Afterwards the placeholders are
swapped back: the result is the final HTML as one Liquid template (``precompiled``).

That is only right when MJML and the HTML parser keep every unit where the author put it,
so the compiler checks both ends and otherwise falls back to the slow, always-correct path
(Liquid over the source, then MJML, then css-inline, per message; ``precompiled`` is False
and ``fallback_reason`` says why):

- source: units sit in attribute values or in content MJML copies verbatim (``mj-text``,
  ``mj-button``, ``mj-raw``…), not where the HTML parser would move them (directly in a
  ``<table>``/``<tr>``); units between ``mj-section``s are wrapped in ``<mj-raw>`` so that
  MJML closes its Outlook tables around them (not between columns: MJML sizes columns by
  their count); every block (``{% if %}…{% endif %}``, ``for``…) opens, branches and closes
  under one element; an ``assign`` may sit anywhere, comments are dropped;
- output: tags appear exactly once, in source order, outside comments, each block still
  under one element; output statements may be copied (MJML repeats a ``background-color``)
  but never cross a tag; no ``{{``/``{%`` appeared from decoded entities (``&#123;``);
- a last probe renders both paths with an empty context and compares the bodies: MJML
  sometimes decides on content (an empty ``mj-social-element`` loses its text cell), which
  a placeholder, never empty, cannot show.

Known, harmless difference: a section hidden by ``{% if %}`` leaves MJML's media-query and
font rules for its columns in the precompiled ``<head>``, where they match nothing. Font
detection cannot see a font named by a variable (``font-family="{{ … }}"``).

**Rendering.** A precompiled body renders in one of three ways (``strategy``): "flat" — only
output statements: the HTML is static parts joined with the values, each distinct statement
evaluated once per message for the HTML, the text part and the subject together (a dotted
variable with an optional literal ``default`` is a plain dict lookup; anything else, and any
miss, goes through Liquid's own expression objects, so semantics are Liquid's); "hybrid" —
the same with each top-level ``if``/``unless``/``case``/``for`` block rendered by Liquid as
one value (allowed when no tag binds a variable); "liquid" — the general case, one Liquid
render of the final HTML. The tests compare every strategy with the slow path.

**Plain text.** Without a ``text`` field the text part is derived from the HTML: at compile
time over the placeholder HTML (so per message it is one more render, no HTML parsing), or
per message from the rendered HTML when the compile-time conversion lost a tag. Links read
``label (url)`` with the *original* URL, never the tracked one — text parts are rarely
clicked and a tracking URL only hurts readability. (Converted at compile time, a link whose
label or URL renders empty still shows its parentheses.)

**Escaping.** Email HTML renders with Liquid autoescape (markupsafe): ``{{ … }}`` values are
HTML-escaped, string literals written by the template author are not. Subjects, preheaders,
SMS, push, WeChat, in-app and webhook values are not escaped (webhook payloads are
JSON-serialised by the caller). Subjects, preheaders and titles are collapsed to one line.

**Sandbox.** ``include``/``render`` do not exist (templates cannot read files); loop
iterations, output size, local namespace size and context depth are capped (see the
``*_LIMIT`` constants); undefined variables render empty. ``render(strict=True)`` (previews,
test sends) reports every undefined variable that was output or looped over —
``{% if x %}`` and ``| default:`` stay silent, they are how templates handle optional data.

**Tracking.** ``render`` passes each http(s) ``<a href>`` through ``link_rewriter`` (not the
context's unsubscribe/preferences links, not links marked ``data-kairos-notrack``, whose
marker is dropped) and puts the open pixel before ``</body>``. On precompiled bodies the
trackable hrefs are found at compile time (see ``htmltext.mark_links``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from html import escape, unescape
from io import StringIO
from typing import Any, Final, Literal

import css_inline
import mjml
from liquid import BoundTemplate, DictLoader, Environment, Expression, Mode, RenderContext, Undefined
from liquid.builtin.expressions import FilteredExpression, Path, PositionalArgument
from liquid.builtin.expressions import Literal as LiquidLiteral
from liquid.builtin.filters.misc import default as default_filter
from liquid.builtin.output import OutputNode
from liquid.exceptions import LiquidError, OutputStreamLimitError
from liquid.lex import compile_liquid_rules
from liquid.stringify import to_liquid_string
from markupsafe import escape as markup_escape

from kairos.errors import InvalidInput
from kairos.messaging.htmltext import (
    LINK_END,
    LINK_START,
    NOTRACK,
    Site,
    html_to_text,
    insert_pixel,
    mark_links,
    rewrite_links,
    rewrite_marked_links,
    same_markup,
    scan_sites,
    tidy_text,
    trackable,
)

__all__ = [
    "CHANNEL_FIELDS",
    "CONTEXT_DEPTH_LIMIT",
    "LOCAL_NAMESPACE_LIMIT",
    "LOOP_ITERATION_LIMIT",
    "OUTPUT_LIMIT",
    "CompiledTemplate",
    "Rendered",
    "TemplateError",
    "compile_template",
]

# --------------------------------------------------------------------------- limits

LOOP_ITERATION_LIMIT: Final = 10_000  # all loop iterations of one render, nested loops multiply
OUTPUT_LIMIT: Final = 1_000_000  # characters of one rendered field (bytes for captures)
LOCAL_NAMESPACE_LIMIT: Final = 100_000  # bytes (sys.getsizeof) of assign/capture variables
CONTEXT_DEPTH_LIMIT: Final = 30  # nested scopes (for loops, tablerow, captures)

#: field → required?, per channel
CHANNEL_FIELDS: Final[dict[str, dict[str, bool]]] = {
    "email": {"subject": True, "body": True, "format": False, "text": False, "preheader": False},
    "sms": {"text": True},
    "push": {"title": True, "body": True, "data": False, "image": False},
    "wechat": {"template_id": True, "url": False, "data": True},
    "webhook": {"payload": True},
    "inapp": {"title": True, "body": True, "data": False},
}


# --------------------------------------------------------------------------- results & errors


@dataclass(slots=True)
class Rendered:
    """One rendered message. ``content`` is channel-shaped (see ``CompiledTemplate``);
    ``links`` are the original URLs that went through the link rewriter, in order."""

    channel: str
    content: dict[str, Any]
    links: list[str] = field(default_factory=list)


class TemplateError(InvalidInput):
    """Rendering failed (Liquid runtime error, resource limit, MJML error on the slow path,
    or undefined variables in strict mode). Nothing of the message may be sent."""

    code = "template_render_failed"

    def __init__(self, message: str, *, field: str, undefined: Sequence[str] = ()) -> None:
        super().__init__(message, code="template_render_failed")
        self.field = field
        self.undefined = list(undefined)


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field_name}: {message}", code="template_invalid")


# --------------------------------------------------------------------------- Liquid setup


class _Strict:
    """Undefined variables seen during one strict render."""

    __slots__ = ("pending", "report")

    def __init__(self) -> None:
        self.pending: list[tuple[str, int]] = []  # (hint, offset) since the last field
        self.report: list[str] = []


_STRICT: ContextVar[_Strict | None] = ContextVar("kairos_template_strict", default=None)


class _Undefined(Undefined):
    """Renders as empty, like Liquid's default, but notes itself when a strict render is in
    progress and the value is output (``__str__``) or looped over (``__len__``,
    ``__iter__``)."""

    __slots__ = ()

    def _note(self) -> None:
        strict = _STRICT.get()
        if strict is not None:
            hint = self.hint or f"'{self.name}' is undefined"
            strict.pending.append((hint, self.token.start_index if self.token is not None else -1))

    def __str__(self) -> str:
        self._note()
        return ""

    def __iter__(self) -> Any:
        self._note()
        return iter(())

    def __len__(self) -> int:  # how a for loop sizes its (Mapping) target
        self._note()
        return 0

    def __bool__(self) -> bool:  # {% if x %} is how templates test optional data: silent
        return False


class _LimitedBuffer(StringIO):
    """Liquid's own limited buffer UTF-8-encodes every write to count bytes, which costs
    a quarter of a render; counting characters is as good a guard."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._room = limit

    def write(self, s: str, /) -> int:
        self._room -= len(s)
        if self._room < 0:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        return super().write(s)


class _Template(BoundTemplate):
    def _get_buffer(self) -> StringIO:
        return _LimitedBuffer(OUTPUT_LIMIT)


class _Environment(Environment):
    template_class = _Template
    loop_iteration_limit = LOOP_ITERATION_LIMIT
    output_stream_limit = OUTPUT_LIMIT  # applies to captures; renders use _LimitedBuffer
    local_namespace_limit = LOCAL_NAMESPACE_LIMIT
    context_depth_limit = CONTEXT_DEPTH_LIMIT


def _environment(*, autoescape: bool) -> _Environment:
    env = _Environment(
        autoescape=autoescape,
        undefined=_Undefined,
        loader=DictLoader({}),  # nothing to load, and never the file system
        strict_filters=True,
        tolerance=Mode.STRICT,
    )
    # Without these tags a template cannot pull in anything; they fail to parse instead.
    for tag in ("include", "render"):
        env.tags.pop(tag, None)
    return env


_HTML_ENV: Final = _environment(autoescape=True)
_PLAIN_ENV: Final = _environment(autoescape=False)

_Locate = Callable[[int], int | None]  # offset in a parsed source → line in the author's source


def _line_locator(source: str) -> _Locate:
    return lambda offset: source.count("\n", 0, offset) + 1


def _describe(err: LiquidError, locate: _Locate) -> str:
    message = str(err.message)
    token = err.token
    if token is not None and token.start_index >= 0:
        line = locate(token.start_index)
        if line is not None:
            return f"{message} (line {line})"
    return message


def _parse(env: Environment, source: str, field_name: str) -> BoundTemplate:
    """Parse an author's source; errors name the field and the line."""
    locate = _line_locator(source)
    try:
        template = env.from_string(source)
        # Unknown filters only fail at render time in Liquid; catch typos now.
        for name, spans in template.analyze().filters.items():
            if name not in env.filters:
                line = locate(spans[0].index) if spans else None
                where = f" (line {line})" if line is not None else ""
                raise _invalid(field_name, f"unknown filter '{name}'{where}")
    except LiquidError as err:
        raise _invalid(field_name, _describe(err, locate)) from err
    return template


def _render(template: BoundTemplate, context: Mapping[str, Any], field_name: str, locate: _Locate) -> str:
    try:
        out = template.render(context)
    except LiquidError as err:
        raise TemplateError(f"{field_name}: {_describe(err, locate)}", field=field_name) from err
    except Exception as err:  # a filter meeting odd data; never send half a message
        raise TemplateError(f"{field_name}: {type(err).__name__}: {err}", field=field_name) from err
    strict = _STRICT.get()
    if strict is not None and strict.pending:
        for hint, offset in strict.pending:
            line = locate(offset) if offset >= 0 else None
            strict.report.append(f"{field_name}: {hint}" + (f" (line {line})" if line else ""))
        strict.pending.clear()
    return out


def _has_liquid(text: str) -> bool:
    return "{{" in text or "{%" in text


class _Text:
    """One Liquid string field (subject, SMS text, a JSON leaf…)."""

    __slots__ = ("constant", "field", "locate", "template")

    def __init__(self, env: Environment, source: str, field_name: str) -> None:
        self.field = field_name
        self.constant: str | None = None
        self.template: BoundTemplate | None = None
        self.locate = _line_locator(source)
        if _has_liquid(source):
            self.template = _parse(env, source, field_name)
        else:
            self.constant = source

    def render(self, context: Mapping[str, Any]) -> str:
        if self.template is None:
            return self.constant or ""
        return _render(self.template, context, self.field, self.locate)


def _collapse(text: str) -> str:
    """Subjects and titles: one line, no surrounding space (CR/LF never reach a header)."""
    return " ".join(text.split())


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
        reference = rewrite_links(_to_html(slow.html.render({}), fmt), None)[0]  # drops notrack markers
    except (LiquidError, ValueError, css_inline.InlineError):
        reference = None
    if precompiled is None or reference is None:
        if precompiled is not reference:
            raise _Fallback("the empty-context probe failed on one path only")
        return
    if not same_markup(_body_of(precompiled), _body_of(reference)):
        raise _Fallback("MJML renders empty values differently (empty-context probe)")


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

    text = _derive_text(html, output_sites, considered, units, placeholders) if derive_text else None
    html = mark_links(html, pattern)
    restored = _Restored(html, pattern, source, units, prefix)
    try:
        compiled = _HTML_ENV.from_string(restored.text)
    except LiquidError as err:  # pragma: no cover - the checks above make this unreachable
        raise _Fallback(f"the compiled HTML does not parse: {err.message}") from err
    body = _Body(True, compiled, restored.locate, marked=LINK_START in html)
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


# --------------------------------------------------------------------------- flat rendering

# Filters whose result does not depend on the environment's autoescape setting: an output
# statement made of a variable and these gives the same text in the HTML and the text part,
# so it is evaluated once for both.
_NEUTRAL_FILTERS = frozenset(
    {
        "default", "upcase", "downcase", "capitalize", "strip", "lstrip", "rstrip", "size",
        "plus", "minus", "times", "divided_by", "modulo", "round", "floor", "ceil", "abs",
        "at_least", "at_most", "first", "last", "url_encode",
    }
)  # fmt: skip


def _output_expression(env: Environment, markup: str) -> Expression:
    node = env.from_string(markup).nodes[0]
    assert isinstance(node, OutputNode)
    return node.expression


def _shareable(expression: Expression, env: Environment) -> bool:
    if not isinstance(expression, FilteredExpression) or not isinstance(expression.left, Path):
        return False
    for f in expression.filters or ():
        func = env.filters.get(f.name)
        if f.name not in _NEUTRAL_FILTERS or func is None:
            return False
        if getattr(func, "with_environment", False) or getattr(func, "with_context", False):
            return False
    return True


_MISSING: Final = object()


@dataclass(slots=True)
class _Step:
    """How one distinct output statement is evaluated."""

    html: Expression | None  # parsed by the autoescaping environment, when HTML needs it
    plain: Expression | None  # parsed by the plain one, when text needs it and cannot share
    share: bool  # the plain value is the HTML expression's value, unescaped
    field: str
    line: int
    path: tuple[str, ...] | None = None  # fast lookup: a dotted variable…
    default: object = _MISSING  # …with an optional `default: <literal>`


def _fast_path(expression: Expression, env: Environment) -> tuple[tuple[str, ...], object] | None:
    """``a.b.c`` or ``a.b.c | default: <literal>``: looked up with plain item access, falling
    back to Liquid whenever that raises (missing key, wrong type) — so that undefined values,
    ``size``/``first``/``last`` and built-ins keep Liquid's exact behaviour."""
    if not isinstance(expression, FilteredExpression) or not isinstance(expression.left, Path):
        return None
    path = expression.left.path
    if not all(isinstance(p, str) and p not in ("size", "first", "last") for p in path):
        return None
    filters = expression.filters or []
    if not filters:
        return tuple(map(str, path)), _MISSING
    if len(filters) != 1 or filters[0].name != "default" or env.filters.get("default") is not default_filter:
        return None
    args = filters[0].args
    if len(args) != 1 or not isinstance(args[0], PositionalArgument):
        return None
    literal = args[0].value
    if not isinstance(literal, LiquidLiteral):
        return None
    # a literal's value depends on the environment only (Markup under autoescape)
    return tuple(map(str, path)), literal.evaluate(RenderContext(env.from_string("")))


class _Exprs:
    """The values of an email's flat fields (subject, HTML, text…), computed once per
    message: each distinct output statement is evaluated with Liquid's own expression
    objects — the same semantics as a render, without walking nodes and writing buffers;
    plain variables (with an optional literal default), most of a marketing email, skip
    even that. A hybrid's top-level blocks are rendered by Liquid."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._html: list[Expression | None] = []
        self._plain: list[Expression | None] = []
        self._where: list[tuple[str, int]] = []  # (field, line) for error messages
        self._plan: list[_Step] = []
        self._blocks: list[tuple[int, BoundTemplate, _Locate, bool]] = []
        self._base_html = _HTML_ENV.from_string("")
        self._base_plain = _PLAIN_ENV.from_string("")

    def __len__(self) -> int:
        return len(self._where)

    @property
    def has_blocks(self) -> bool:
        return bool(self._blocks)

    def add_block(self, template: BoundTemplate, locate: _Locate, field_name: str, *, html: bool) -> int:
        """A top-level block of a hybrid: rendered by Liquid, used as one value."""
        index = len(self._where)
        self._html.append(None)
        self._plain.append(None)
        self._where.append((field_name, 0))
        self._blocks.append((index, template, locate, html))
        return index

    def add(self, markup: str, field_name: str, line: int, *, html: bool) -> int:
        index = self._ids.get(markup)
        if index is None:
            index = self._ids[markup] = len(self._where)
            self._html.append(None)
            self._plain.append(None)
            self._where.append((field_name, line))
        if html and self._html[index] is None:
            self._html[index] = _output_expression(_HTML_ENV, markup)
        if not html and self._plain[index] is None:
            self._plain[index] = _output_expression(_PLAIN_ENV, markup)
        return index

    def finish(self) -> None:
        self._plan = []
        blocks = {index for index, *_ in self._blocks}
        for index, (he, pe, (field_name, line)) in enumerate(
            zip(self._html, self._plain, self._where, strict=True)
        ):
            if index in blocks:
                self._plan.append(_Step(None, None, False, field_name, line))
                continue
            share = he is not None and pe is not None and _shareable(he, _HTML_ENV)
            step = _Step(he, None if share else pe, share, field_name, line)
            if he is None or pe is None or share:  # one evaluation serves both
                env, expression = (_HTML_ENV, he) if he is not None else (_PLAIN_ENV, pe)
                fast = _fast_path(expression, env) if expression is not None else None
                if fast is not None:
                    step.path, step.default = fast
            self._plan.append(step)

    def evaluate(self, context: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """(HTML-escaped values, plain values), by expression id. Values are exact ``str``:
        Markup's methods would escape their arguments in later string work."""
        size = len(self._plan)
        html_values = [""] * size
        plain_values = [""] * size
        html_ctx = plain_ctx = None
        strict = _STRICT.get()
        for i, step in enumerate(self._plan):
            value: Any = _MISSING
            if step.path is not None:
                try:
                    value = context
                    for key in step.path:
                        value = value[key]
                except Exception:  # not there, or not a mapping: let Liquid decide
                    value = _MISSING
                else:
                    if step.default is not _MISSING:
                        value = default_filter(value, step.default)
                    if type(value) is str:
                        if step.html is not None:
                            html_values[i] = str(markup_escape(value))
                        plain_values[i] = value
                        continue
            try:
                if step.html is not None:
                    if value is _MISSING:
                        html_ctx = html_ctx or RenderContext(self._base_html, globals=context)
                        value = step.html.evaluate(html_ctx)
                    html_values[i] = str(to_liquid_string(value, True))
                    if step.share:
                        plain_values[i] = str(to_liquid_string(value, False))
                elif step.plain is not None and value is not _MISSING:  # fast-path value
                    plain_values[i] = str(to_liquid_string(value, False))
                if step.plain is not None and (step.html is not None or value is _MISSING):
                    plain_ctx = plain_ctx or RenderContext(self._base_plain, globals=context)
                    plain_values[i] = str(to_liquid_string(step.plain.evaluate(plain_ctx), False))
            except LiquidError as err:
                raise TemplateError(
                    f"{step.field}: {err.message} (line {step.line})", field=step.field
                ) from err
            except Exception as err:  # a filter meeting odd data
                raise TemplateError(f"{step.field}: {type(err).__name__}: {err}", field=step.field) from err
            if strict is not None and strict.pending:
                strict.report.extend(f"{step.field}: {hint} (line {step.line})" for hint, _ in strict.pending)
                strict.pending.clear()
        for i, template, locate, html in self._blocks:
            rendered = _render(template, context, self._where[i][0], locate)
            if html:
                html_values[i] = rendered
            else:
                plain_values[i] = rendered
        return html_values, plain_values


class _Flat:
    """A field as static text and slots, per message a join. A slot holds an output
    statement's value or, in a hybrid, the Liquid rendering of a top-level block.

    In HTML, the link markers of ``mark_links`` become boundaries: each tracked href in the
    static text is a known range of parts, rewritten without searching the document; only
    block renderings that contain links are searched."""

    __slots__ = ("field", "links", "parts", "slots")

    def __init__(
        self, field_name: str, parts: list[str], ids: list[int], scanned: Collection[int] = ()
    ) -> None:
        self.field = field_name
        self.parts: list[str] = []
        self.slots: list[tuple[int, int]] = []  # (position in parts, value id)
        # in document order: (start, end) href range, or (position, -1) for a block to search
        self.links: list[tuple[int, int]] = []
        link_start = -1
        for k, part in enumerate(parts):
            if k:
                if ids[k - 1] in scanned:
                    self.links.append((len(self.parts), -1))
                self.slots.append((len(self.parts), ids[k - 1]))
                self.parts.append("")
            for piece in _LINK_MARKER.split(part):
                if piece == LINK_START:
                    link_start = len(self.parts)
                elif piece == LINK_END:
                    self.links.append((link_start, len(self.parts)))
                elif piece:
                    self.parts.append(piece)

    def render(
        self,
        values: list[str],
        rewriter: Callable[[str], str] | None = None,
        skip: Collection[str] = (),
        links: list[str] | None = None,
    ) -> str:
        buf = self.parts.copy()
        for position, index in self.slots:
            buf[position] = values[index]
        for start, end in self.links:
            if end < 0:  # a block: its links are still marked
                buf[start], found = rewrite_marked_links(buf[start], rewriter, skip)
                if links is not None:
                    links += found
            elif rewriter is not None:
                url = trackable(buf[start] if end - start == 1 else "".join(buf[start:end]), skip)
                if url is not None:
                    if links is not None:
                        links.append(url)
                    buf[start] = escape(rewriter(url))
                    for k in range(start + 1, end):
                        buf[k] = ""
        out = "".join(buf)
        if len(out) > OUTPUT_LIMIT:
            raise TemplateError(f"{self.field}: output stream limit reached", field=self.field)
        return out


_LINK_MARKER = re.compile(f"({re.escape(LINK_START)}|{re.escape(LINK_END)})")


def _flat_document(doc: str, flat: _FlatSource, exprs: _Exprs, field_name: str, *, html: bool) -> _Flat:
    """Split a placeholder document into static text, top-level output statements (values)
    and top-level blocks (each a small Liquid template of its own)."""
    parts: list[str] = []
    ids: list[int] = []
    scanned: set[int] = set()
    last = depth = block_start = 0
    for m in flat.pattern.finditer(doc):
        unit = flat.units[int(m.group(1))]
        if depth == 0 and unit.kind == "output":
            parts.append(doc[last : m.start()])
            line = flat.source.count("\n", 0, unit.start) + 1
            ids.append(exprs.add(flat.source[unit.start : unit.end], field_name, line, html=html))
            last = m.end()
        elif unit.kind == "open":
            if depth == 0:
                parts.append(doc[last : m.start()])
                block_start = m.start()
            depth += 1
        elif unit.kind == "close":
            depth -= 1
            if depth == 0:
                block = doc[block_start : m.end()]
                restored = _Restored(block, flat.pattern, flat.source, flat.units, untrim=not html)
                env = _HTML_ENV if html else _PLAIN_ENV
                ids.append(
                    exprs.add_block(env.from_string(restored.text), restored.locate, field_name, html=html)
                )
                if LINK_START in block:
                    scanned.add(ids[-1])
                last = m.end()
    parts.append(doc[last:])
    return _Flat(field_name, parts, ids, scanned)


def _flat_field(source: str, exprs: _Exprs, field_name: str) -> _Flat | None:
    """A plain-text field (subject…) as a _Flat, when it has output statements only."""
    units = _split_units(source)
    if not units or any(u.kind != "output" or _trims(source, u) for u in units):
        return None
    parts: list[str] = []
    ids: list[int] = []
    last = 0
    for unit in units:
        parts.append(source[last : unit.start])
        line = source.count("\n", 0, unit.start) + 1
        ids.append(exprs.add(source[unit.start : unit.end], field_name, line, html=False))
        last = unit.end
    parts.append(source[last:])
    return _Flat(field_name, parts, ids)


# --------------------------------------------------------------------------- compiled templates


class CompiledTemplate:
    """A template ready to render, for one channel.

    ``content`` of the result, per channel — email: ``subject``, ``html``, ``text``,
    ``preheader`` (when given); sms: ``text``; push: ``title``, ``body``, ``data``,
    ``image`` (when given); wechat: ``template_id``, ``url`` (None when not given),
    ``data`` as ``{key: {"value": …}}``; webhook: ``payload``; inapp: ``title``, ``body``,
    ``data``. Subjects, preheaders and titles are collapsed to one line; bodies are stripped.
    """

    channel: str = ""
    #: True unless the email body renders on the slow path (Liquid, then MJML, per message)
    precompiled: bool = True
    #: why the body could not be precompiled
    fallback_reason: str | None = None
    #: True when the plain-text part is a compiled template (no HTML parsing per message)
    text_precompiled: bool = True
    #: how an email body renders: "flat" (output statements only: a join), "hybrid" (flat,
    #: with top-level blocks rendered by Liquid), "liquid" (one Liquid template of the
    #: final HTML), "slow" (Liquid, MJML and CSS inlining per message); "fields" elsewhere
    strategy: str = "fields"

    def render(
        self,
        context: Mapping[str, Any],
        *,
        link_rewriter: Callable[[str], str] | None = None,
        open_pixel_url: str | None = None,
        strict: bool = False,
    ) -> Rendered:
        """Render for one message. ``context`` holds ``contact``, ``computed``, ``event``,
        ``payload``, ``message``, ``links``…; ``link_rewriter`` and ``open_pixel_url`` apply
        to email HTML. Raises ``TemplateError``; with ``strict``, also when a variable that
        is output or looped over is undefined (all of them are listed)."""
        if not strict:
            return self._render(context, link_rewriter, open_pixel_url)
        state = _Strict()
        reset = _STRICT.set(state)
        try:
            rendered = self._render(context, link_rewriter, open_pixel_url)
        finally:
            _STRICT.reset(reset)
        if state.report:
            report = list(dict.fromkeys(state.report))
            field_name = report[0].split(":", 1)[0]
            raise TemplateError(
                "undefined variables: " + "; ".join(report), field=field_name, undefined=report
            )
        return rendered

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        raise NotImplementedError


def _skip_urls(context: Mapping[str, Any]) -> tuple[str, ...]:
    links = context.get("links")
    if not isinstance(links, Mapping):
        return ()
    return tuple(
        url
        for key in ("unsubscribe_url", "preferences_url")
        if isinstance(url := links.get(key), str) and url
    )


class _EmailTemplate(CompiledTemplate):
    channel = "email"

    def __init__(self, fields: Mapping[str, Any], *, precompile: bool) -> None:
        fmt = fields.get("format", "mjml")
        if fmt not in ("mjml", "html"):
            raise _invalid("format", f"must be 'mjml' or 'html', not {fmt!r}")
        self.format: str = fmt
        self._subject = _Text(_PLAIN_ENV, fields["subject"], "subject")
        self._preheader = _optional_text(fields, "preheader")
        self._text = _optional_text(fields, "text")
        self._body = body = _compile_body(
            fields["body"], fmt, precompile=precompile, derive_text=self._text is None
        )
        self.precompiled = body.precompiled
        self.fallback_reason = body.reason
        self.text_precompiled = self._text is not None or body.text is not None

        # Flat fields share one table of output statements, evaluated once per message.
        self._exprs = exprs = _Exprs()
        self._flat_subject = _flat_field(fields["subject"], exprs, "subject")
        self._flat_preheader = (
            _flat_field(fields["preheader"], exprs, "preheader") if self._preheader else None
        )
        self._flat_text = _flat_field(fields["text"], exprs, "text") if self._text else None
        self._flat_html = self._flat_body_text = None
        if body.flat is not None:
            self._flat_html = _flat_document(body.flat.html, body.flat, exprs, "body", html=True)
            if body.flat.text is not None:
                self._flat_body_text = _flat_document(body.flat.text, body.flat, exprs, "body", html=False)
        exprs.finish()
        if self._flat_html is not None:
            self.strategy = "hybrid" if exprs.has_blocks else "flat"
        else:
            self.strategy = "liquid" if body.precompiled else "slow"

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        body = self._body
        html_values, plain_values = self._exprs.evaluate(context) if len(self._exprs) else ([], [])

        if self._flat_subject is not None:
            subject = _collapse(self._flat_subject.render(plain_values))
        else:
            subject = _collapse(self._subject.render(context))

        links: list[str] = []
        skip = _skip_urls(context) if link_rewriter is not None else ()
        if self._flat_html is not None:
            html = self._flat_html.render(html_values, link_rewriter, skip, links)
        else:
            html = _render(body.html, context, "body", body.locate)
            if not body.precompiled:
                try:
                    html = _to_html(html, self.format)
                except (ValueError, css_inline.InlineError) as err:
                    what = "MJML" if self.format == "mjml" else "HTML"
                    raise TemplateError(f"body: {what} error: {err}", field="body") from err

        if self._flat_text is not None:
            text = self._flat_text.render(plain_values).strip()
        elif self._text is not None:
            text = self._text.render(context).strip()
        elif self._flat_body_text is not None:
            text = self._flat_body_text.render(plain_values)
            # compiled tidy; only an empty or multi-line value can leave blank runs behind
            if any(not plain_values[i] or "\n" in plain_values[i] for _, i in self._flat_body_text.slots):
                text = tidy_text(text)
            else:
                text = text.strip()
        elif body.text is not None:
            text = tidy_text(_render(body.text, context, "body", body.text_locate or body.locate))
        else:  # converted from the HTML before tracking: the text shows the original URLs
            if self._flat_html is not None:
                untracked = self._flat_html.render(html_values) if link_rewriter is not None else html
            else:
                untracked = _strip_markers(html) if body.marked else html
            text = html_to_text(untracked)

        if self._flat_html is not None:
            pass  # links rewritten by the join
        elif body.marked:
            html, links = rewrite_marked_links(html, link_rewriter, skip)
        elif not body.precompiled and (link_rewriter is not None or NOTRACK in html):
            html, links = rewrite_links(html, link_rewriter, skip)
        if open_pixel_url:
            html = insert_pixel(html, open_pixel_url)

        content: dict[str, Any] = {"subject": subject, "html": html, "text": text}
        if self._flat_preheader is not None:
            content["preheader"] = _collapse(self._flat_preheader.render(plain_values))
        elif self._preheader is not None:
            content["preheader"] = _collapse(self._preheader.render(context))
        return Rendered("email", content, links)


def _optional_text(fields: Mapping[str, Any], name: str) -> _Text | None:
    value = fields.get(name)
    return None if value is None else _Text(_PLAIN_ENV, value, name)


def _strip_markers(html: str) -> str:
    return html.replace(LINK_START, "").replace(LINK_END, "")


class _SmsTemplate(CompiledTemplate):
    channel = "sms"

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._text = _Text(_PLAIN_ENV, fields["text"], "text")

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        return Rendered("sms", {"text": self._text.render(context).strip()})


def _string_map(value: Any, field_name: str) -> dict[str, _Text]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(field_name, "must be an object of strings")
    compiled: dict[str, _Text] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _invalid(f"{field_name}.{key}", "must be a string")
        compiled[key] = _Text(_PLAIN_ENV, item, f"{field_name}.{key}")
    return compiled


class _PushTemplate(CompiledTemplate):
    channel = "push"

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._title = _Text(_PLAIN_ENV, fields["title"], "title")
        self._body = _Text(_PLAIN_ENV, fields["body"], "body")
        self._data = _string_map(fields.get("data"), "data")
        self._image = _Text(_PLAIN_ENV, fields["image"], "image") if fields.get("image") is not None else None

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        content: dict[str, Any] = {
            "title": _collapse(self._title.render(context)),
            "body": self._body.render(context).strip(),
            "data": {key: text.render(context) for key, text in self._data.items()},
        }
        if self._image is not None:
            content["image"] = self._image.render(context).strip()
        return Rendered("push", content)


class _WechatTemplate(CompiledTemplate):
    channel = "wechat"

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._template_id: str = fields["template_id"]
        self._url = _Text(_PLAIN_ENV, fields["url"], "url") if fields.get("url") is not None else None
        self._data = _string_map(fields["data"], "data")

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        return Rendered(
            "wechat",
            {
                "template_id": self._template_id,
                "url": self._url.render(context).strip() if self._url is not None else None,
                "data": {key: {"value": text.render(context)} for key, text in self._data.items()},
            },
        )


_Json = Callable[[Mapping[str, Any]], Any]


def _compile_json(value: Any, path: str) -> _Json:
    """A renderer for a JSON-able structure whose string leaves are Liquid templates.
    Containers are rebuilt per render so callers may mutate what they get."""
    if isinstance(value, str):
        if not _has_liquid(value):
            return lambda context: value
        return _Text(_PLAIN_ENV, value, path).render
    if value is None or isinstance(value, bool | int | float):
        return lambda context: value
    if isinstance(value, Mapping):
        items: list[tuple[str, _Json]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise _invalid(path, f"object keys must be strings, not {key!r}")
            items.append((key, _compile_json(item, f"{path}.{key}")))
        return lambda context: {key: render(context) for key, render in items}
    if isinstance(value, list | tuple):
        renders = [_compile_json(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return lambda context: [render(context) for render in renders]
    raise _invalid(path, f"{type(value).__name__} is not JSON")


class _WebhookTemplate(CompiledTemplate):
    channel = "webhook"

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._payload = _compile_json(fields["payload"], "payload")

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        return Rendered("webhook", {"payload": self._payload(context)})


class _InappTemplate(CompiledTemplate):
    channel = "inapp"

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._title = _Text(_PLAIN_ENV, fields["title"], "title")
        self._body = _Text(_PLAIN_ENV, fields["body"], "body")
        data = fields.get("data")
        if data is not None and not isinstance(data, Mapping):
            raise _invalid("data", "must be an object")
        self._data = _compile_json(data or {}, "data")

    def _render(
        self,
        context: Mapping[str, Any],
        link_rewriter: Callable[[str], str] | None,
        open_pixel_url: str | None,
    ) -> Rendered:
        return Rendered(
            "inapp",
            {
                "title": _collapse(self._title.render(context)),
                "body": self._body.render(context).strip(),
                "data": self._data(context),
            },
        )


_STRING_FIELDS: Final = frozenset(
    {"subject", "body", "format", "text", "preheader", "title", "image", "template_id", "url"}
)


def compile_template(channel: str, fields: Mapping[str, Any], *, precompile: bool = True) -> CompiledTemplate:
    """Check and compile a template's fields for ``channel`` (see ``CHANNEL_FIELDS``).

    Raises ``InvalidInput`` (code ``template_invalid``) naming the field and the Liquid or
    MJML error. ``precompile=False`` forces the slow email path (for comparisons/debugging).
    """
    spec = CHANNEL_FIELDS.get(channel)
    if spec is None:
        raise InvalidInput(f"unknown channel {channel!r}", code="template_invalid")
    unknown = sorted(set(fields) - set(spec))
    if unknown:
        raise _invalid(unknown[0], f"not a field of {channel} templates (fields: {', '.join(spec)})")
    for name, required in spec.items():
        value = fields.get(name)
        if value is None:
            if required:
                raise _invalid(name, "is required")
            continue
        if name in _STRING_FIELDS and not isinstance(value, str):
            raise _invalid(name, "must be a string")
        if required and isinstance(value, str) and not value.strip():
            raise _invalid(name, "must not be empty")
    if channel == "email":
        return _EmailTemplate(fields, precompile=precompile)
    if channel == "sms":
        return _SmsTemplate(fields)
    if channel == "push":
        return _PushTemplate(fields)
    if channel == "wechat":
        return _WechatTemplate(fields)
    if channel == "webhook":
        return _WebhookTemplate(fields)
    return _InappTemplate(fields)
