"""Liquid for Kairos templates: the sandboxed environments, limits, strict mode, results and errors.

See the package docstring (``kairos.messaging.templates``) for the design.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from typing import Any, Final

from liquid import BoundTemplate, DictLoader, Environment, Expression, Mode, RenderContext, Undefined
from liquid.ast import Node
from liquid.builtin.expressions.primitive import RangeLiteral
from liquid.exceptions import LiquidError, OutputStreamLimitError, ResourceLimitError
from liquid.token import Token

from kairos.errors import InvalidInput

# --------------------------------------------------------------------------- limits

LOOP_ITERATION_LIMIT: Final = 10_000  # all loop iterations of one render, nested loops multiply
OUTPUT_LIMIT: Final = 1_000_000  # characters of one rendered field (bytes for captures)
LOCAL_NAMESPACE_LIMIT: Final = 100_000  # bytes (sys.getsizeof) of assign/capture variables
CONTEXT_DEPTH_LIMIT: Final = 30  # nested scopes (for loops, tablerow, captures)
SOURCE_LIMIT: Final = 512 * 1024  # characters of one template field as written (JSON: all leaves)
STRING_LIMIT: Final = OUTPUT_LIMIT  # characters of any string a filter is given or makes
ARRAY_LIMIT: Final = 100_000  # items of a range literal, or of any sequence a filter is given or makes
INTEGER_BITS_LIMIT: Final = 256  # bits of any integer a filter is given or makes (~10^77)
RENDER_TIMEOUT: Final = 2.0  # seconds of Liquid per message (all fields), and per compile

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
        super().__init__(message, code=self.code)
        self.field = field
        self.undefined = list(undefined)


class TemplateTooComplex(TemplateError):
    """A resource limit was reached (loop iterations, output, string, list or number sizes,
    the render deadline): the template does too much work for one message."""

    code = "template_too_complex"


class _LimitReached(ResourceLimitError):
    """A Kairos resource limit (sizes, ranges, the deadline), raised inside Liquid so that it
    carries the token and line like Liquid's own limits."""


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


# ------------------------------------------------------------ resource limits beyond Liquid's

#: the monotonic deadline of the Liquid work in progress (see ``deadline``)
_DEADLINE: ContextVar[float | None] = ContextVar("kairos_template_deadline", default=None)
_clock: Callable[[], float] = time.monotonic  # a stopwatch, not business time (tests replace it)


def _deadline_from_now(seconds: float) -> float:
    """The deadline ``seconds`` from now, or the one in force if sooner."""
    at = _clock() + seconds
    current = _DEADLINE.get()
    return at if current is None or at < current else current


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Liquid run inside this block must be done within ``seconds`` (an enclosing, sooner
    deadline stays). Checked before every node Liquid renders (so every loop iteration) and
    every filter call; the size limits keep the work between two checks small."""
    reset = _DEADLINE.set(_deadline_from_now(seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(reset)


def _check_deadline() -> None:
    at = _DEADLINE.get()
    if at is not None and _clock() > at:
        raise _LimitReached("render time limit reached (the template does too much work)", token=None)


def _check_value(value: Any, what: str) -> None:
    """Strings, sequences and numbers stay within the limits (one cheap test per value)."""
    if isinstance(value, str):
        if len(value) > STRING_LIMIT:
            raise _LimitReached(f"{what} is longer than {STRING_LIMIT:,} characters", token=None)
    elif isinstance(value, int):
        if value.bit_length() > INTEGER_BITS_LIMIT:
            raise _LimitReached(f"{what} is a number too large", token=None)
    elif isinstance(value, Decimal):
        if value.is_finite() and abs(value.adjusted()) > 1000:
            raise _LimitReached(f"{what} is a number too large", token=None)
    elif isinstance(value, list | tuple | dict | range | set | frozenset):
        try:
            size = len(value)
        except OverflowError:  # a range beyond sys.maxsize
            size = ARRAY_LIMIT + 1
        if size > ARRAY_LIMIT:
            raise _LimitReached(f"{what} has more than {ARRAY_LIMIT:,} items", token=None)


def _check_join(items: Any, separator: Any) -> None:
    """``join`` builds its string in one call: add up the size first (stopping early)."""
    if not isinstance(items, list | tuple | range):
        return
    total = len(str(separator)) * max(len(items) - 1, 0)
    for item in items:
        if total > STRING_LIMIT:
            break
        if isinstance(item, str):
            total += len(item)
        else:
            _check_value(item, "an item")
            total += len(str(item))
    if total > STRING_LIMIT:
        raise _LimitReached(f"join would make a string longer than {STRING_LIMIT:,} characters", token=None)


def _check_replace(value: Any, args: Sequence[Any]) -> None:
    """``replace`` multiplies: the size of the result is known before it is made."""
    if not isinstance(value, str) or len(args) < 1:
        return
    old, new = str(args[0]), str(args[1]) if len(args) > 1 else ""
    count = value.count(old) if old else len(value) + 1
    if len(value) + count * (len(new) - len(old)) > STRING_LIMIT:
        raise _LimitReached(
            f"replace would make a string longer than {STRING_LIMIT:,} characters", token=None
        )


_PRECHECKS: Final[dict[str, Callable[[Any, Sequence[Any]], None]]] = {
    "join": lambda value, args: _check_join(value, args[0] if args else " "),
    "replace": _check_replace,
}


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    precheck = _PRECHECKS.get(name)

    def call(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        _check_value(value, f"the input of {name}")
        for arg in args:
            _check_value(arg, f"an argument of {name}")
        if precheck is not None:
            precheck(value, args)
        result = func(value, *args, **kwargs)
        _check_value(result, f"the result of {name}")
        return result

    return call


class _BoundedRange(RangeLiteral):
    """``(a..b)`` longer than ``ARRAY_LIMIT`` is an error. Python's range is lazy, but
    ``contains`` with a non-integer scans it item by item in C, where no deadline reaches."""

    __slots__ = ()

    def _make_range(self, start: Any, stop: Any) -> range:
        made = super()._make_range(start, stop)
        _check_value(made, "a range")
        return made


def _bound_ranges(nodes: Sequence[Node], context: RenderContext) -> None:
    """Swap every range literal of a parsed template for ``_BoundedRange`` (same slots)."""
    stack: list[Node] = list(nodes)
    exprs: list[Expression] = []
    while stack:
        node = stack.pop()
        exprs.extend(node.expressions())
        stack.extend(node.children(context, include_partials=False))
    while exprs:
        expr = exprs.pop()
        if type(expr) is RangeLiteral:
            expr.__class__ = _BoundedRange
        exprs.extend(expr.children())


class _Context(RenderContext):
    """Liquid's render context with the Kairos limits: filters are guarded, and the deadline
    is checked each time Liquid looks at ``disabled_tags`` — before rendering any node."""

    __slots__ = ("_disabled",)

    @property  # type: ignore[override]
    def disabled_tags(self) -> list[str]:
        _check_deadline()
        return self._disabled

    @disabled_tags.setter
    def disabled_tags(self, value: list[str]) -> None:
        self._disabled = value

    def filter(self, name: str, token: Token | None) -> Callable[..., object]:
        return _guarded(name, super().filter(name, token))


class _Template(BoundTemplate):
    context_class = _Context

    def _get_buffer(self) -> StringIO:
        return _LimitedBuffer(OUTPUT_LIMIT)


class _Environment(Environment):
    template_class = _Template
    loop_iteration_limit = LOOP_ITERATION_LIMIT
    output_stream_limit = OUTPUT_LIMIT  # applies to captures; renders use _LimitedBuffer
    local_namespace_limit = LOCAL_NAMESPACE_LIMIT
    context_depth_limit = CONTEXT_DEPTH_LIMIT

    def from_string(self, source: str, *args: Any, **kwargs: Any) -> BoundTemplate:
        template = super().from_string(source, *args, **kwargs)
        _bound_ranges(template.nodes, _Context(template))
        return template


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
    except ResourceLimitError as err:
        raise TemplateTooComplex(f"{field_name}: {_describe(err, locate)}", field=field_name) from err
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
