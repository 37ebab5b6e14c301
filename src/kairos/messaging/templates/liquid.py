"""Liquid for Kairos templates: the sandboxed environments, limits, strict mode, results and errors.

See the package docstring (``kairos.messaging.templates``) for the design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, Final

from liquid import BoundTemplate, DictLoader, Environment, Mode, Undefined
from liquid.exceptions import LiquidError, OutputStreamLimitError

from kairos.errors import InvalidInput

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
