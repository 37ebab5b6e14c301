"""Compiled templates per channel and ``compile_template``.

See the package docstring (``kairos.messaging.templates``) for the design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import css_inline

from kairos.errors import InvalidInput
from kairos.messaging.htmltext import (
    NOTRACK,
    html_to_text,
    insert_pixel,
    insert_preheader,
    neutralise_urls,
    rewrite_links,
    rewrite_marked_links,
    tidy_text,
)
from kairos.messaging.templates.flat import (
    _Exprs,
    _flat_document,
    _flat_field,
)
from kairos.messaging.templates.liquid import (
    _DEADLINE,
    _PLAIN_ENV,
    _STRICT,
    CHANNEL_FIELDS,
    RENDER_TIMEOUT,
    SOURCE_LIMIT,
    Rendered,
    TemplateError,
    TemplateTooComplex,
    _collapse,
    _deadline_from_now,
    _has_liquid,
    _invalid,
    _render,
    _Strict,
    _Text,
    deadline,
)
from kairos.messaging.templates.precompile import (
    _compile_body,
    _strip_markers,
    _to_html,
)

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
        timer = _DEADLINE.set(_deadline_from_now(RENDER_TIMEOUT))  # see ``liquid.deadline``
        try:
            if not strict:
                return self._render(context, link_rewriter, open_pixel_url)
            state = _Strict()
            reset = _STRICT.set(state)
            try:
                rendered = self._render(context, link_rewriter, open_pixel_url)
            finally:
                _STRICT.reset(reset)
        finally:
            _DEADLINE.reset(timer)
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
        if body.scan_urls:  # contact data never yields a javascript: link (see htmltext)
            html = neutralise_urls(html)
        if open_pixel_url:
            html = insert_pixel(html, open_pixel_url)

        preheader: str | None = None
        if self._flat_preheader is not None:
            preheader = _collapse(self._flat_preheader.render(plain_values))
        elif self._preheader is not None:
            preheader = _collapse(self._preheader.render(context))
        if preheader:  # the hidden preview text; the text part (derived above) leaves it out
            html = insert_preheader(html, preheader)
        content: dict[str, Any] = {"subject": subject, "html": html, "text": text}
        if preheader is not None:
            content["preheader"] = preheader
        return Rendered("email", content, links)


def _optional_text(fields: Mapping[str, Any], name: str) -> _Text | None:
    value = fields.get(name)
    return None if value is None else _Text(_PLAIN_ENV, value, name)


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
        if _source_size(value) > SOURCE_LIMIT:
            raise InvalidInput(f"{name}: longer than {SOURCE_LIMIT // 1024} KB", code="template_too_large")
    with deadline(RENDER_TIMEOUT):  # one budget for the body's probes and the check below
        compiled = _compile(channel, fields, precompile)
        _check_limits(compiled)
    return compiled


def _source_size(value: Any) -> int:
    """Characters of a field as written: a string, or the keys and strings of a JSON value."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(len(str(k)) + _source_size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_source_size(v) for v in value)
    return 8


def _check_limits(compiled: CompiledTemplate) -> None:
    """A template that exceeds a resource limit with nothing defined (every loop over a
    literal range, every ``assign`` of literals runs) would fail for every message: refuse it
    now. Other errors of an empty render (a filter meeting missing data) are left to each
    message, as before."""
    try:
        compiled.render({})
    except TemplateTooComplex as err:
        raise TemplateTooComplex(err.message, field=err.field) from None
    except TemplateError:
        pass


def _compile(channel: str, fields: Mapping[str, Any], precompile: bool) -> CompiledTemplate:
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
