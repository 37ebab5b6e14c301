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
The preheader is also written into the HTML, escaped, as the hidden preview ``<div>`` right
after ``<body>`` (``htmltext.insert_preheader``), after the text part was derived.

**Sandbox.** ``include``/``render`` do not exist (templates cannot read files); loop
iterations, output size, local namespace size and context depth are capped (see the
``*_LIMIT`` constants), range literals, and every filter's input, arguments and result
(``join``/``replace`` sized before they run) are bounded, and one message's Liquid shares
a deadline (``RENDER_TIMEOUT``) checked before every node and filter call; past a limit:
``TemplateTooComplex``. ``compile_template`` renders once with nothing defined and refuses a
template that hits a limit then. Undefined variables render empty. ``render(strict=True)`` (previews,
test sends) reports every undefined variable that was output or looped over —
``{% if x %}`` and ``| default:`` stay silent, they are how templates handle optional data.

**Tracking.** ``render`` passes each http(s) ``<a href>`` through ``link_rewriter`` (not the
context's unsubscribe/preferences links, not links marked ``data-kairos-notrack``, whose
marker is dropped) and puts the open pixel before ``</body>``. Script and data URLs
(``htmltext.unsafe_url``) in URL attributes become ``#``: static ones at compile time, marked
hrefs per message, and the whole HTML is scanned per message only when another URL
attribute takes its scheme from Liquid (or on the slow path). On precompiled bodies the
trackable hrefs are found at compile time (see ``htmltext.mark_links``).
"""

from kairos.messaging.templates.compiled import CompiledTemplate, compile_template
from kairos.messaging.templates.liquid import (
    CHANNEL_FIELDS,
    CONTEXT_DEPTH_LIMIT,
    LOCAL_NAMESPACE_LIMIT,
    LOOP_ITERATION_LIMIT,
    OUTPUT_LIMIT,
    RENDER_TIMEOUT,
    SOURCE_LIMIT,
    Rendered,
    TemplateError,
    TemplateTooComplex,
)

__all__ = [
    "CHANNEL_FIELDS",
    "CONTEXT_DEPTH_LIMIT",
    "LOCAL_NAMESPACE_LIMIT",
    "LOOP_ITERATION_LIMIT",
    "OUTPUT_LIMIT",
    "RENDER_TIMEOUT",
    "SOURCE_LIMIT",
    "CompiledTemplate",
    "Rendered",
    "TemplateError",
    "TemplateTooComplex",
    "compile_template",
]
