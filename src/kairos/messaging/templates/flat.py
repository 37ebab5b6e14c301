"""Flat rendering: a precompiled body as static parts joined with the values of its output statements.

See the package docstring (``kairos.messaging.templates``) for the design.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any, Final

from liquid import BoundTemplate, Environment, Expression, RenderContext
from liquid.builtin.expressions import FilteredExpression, Path, PositionalArgument
from liquid.builtin.expressions import Literal as LiquidLiteral
from liquid.builtin.filters.misc import default as default_filter
from liquid.builtin.output import OutputNode
from liquid.exceptions import LiquidError, ResourceLimitError
from liquid.stringify import to_liquid_string
from markupsafe import escape as markup_escape

from kairos.messaging.htmltext import (
    LINK_END,
    LINK_START,
    rewrite_marked_links,
    trackable,
    unsafe_url,
)
from kairos.messaging.templates.liquid import (
    _HTML_ENV,
    _PLAIN_ENV,
    _STRICT,
    OUTPUT_LIMIT,
    TemplateError,
    TemplateTooComplex,
    _Context,
    _Locate,
    _render,
)
from kairos.messaging.templates.precompile import (
    _FlatSource,
    _Restored,
    _split_units,
    _trims,
)

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
                        html_ctx = html_ctx or _Context(self._base_html, globals=context)
                        value = step.html.evaluate(html_ctx)
                    html_values[i] = str(to_liquid_string(value, True))
                    if step.share:
                        plain_values[i] = str(to_liquid_string(value, False))
                elif step.plain is not None and value is not _MISSING:  # fast-path value
                    plain_values[i] = str(to_liquid_string(value, False))
                if step.plain is not None and (step.html is not None or value is _MISSING):
                    plain_ctx = plain_ctx or _Context(self._base_plain, globals=context)
                    plain_values[i] = str(to_liquid_string(step.plain.evaluate(plain_ctx), False))
            except LiquidError as err:
                error = TemplateTooComplex if isinstance(err, ResourceLimitError) else TemplateError
                raise error(f"{step.field}: {err.message} (line {step.line})", field=step.field) from err
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
            else:
                raw = buf[start] if end - start == 1 else "".join(buf[start:end])
                url = trackable(raw, skip) if rewriter is not None else None
                if url is not None and rewriter is not None:
                    if links is not None:
                        links.append(url)
                    buf[start] = escape(rewriter(url))
                elif unsafe_url(raw):  # a contact's "javascript:…" never becomes a link
                    buf[start] = "#"
                else:
                    continue
                for k in range(start + 1, end):
                    buf[k] = ""
        out = "".join(buf)
        if len(out) > OUTPUT_LIMIT:
            raise TemplateTooComplex(f"{self.field}: output stream limit reached", field=self.field)
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
