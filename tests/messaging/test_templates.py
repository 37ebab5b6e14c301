"""The template engine: per-channel rendering, the MJML precompilation (checked against the
slow path), escaping, tracking hooks, the derived text part, limits and errors."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kairos.errors import InvalidInput
from kairos.messaging.htmltext import html_to_text, insert_pixel, rewrite_links
from kairos.messaging.templates import (
    OUTPUT_LIMIT,
    CompiledTemplate,
    TemplateError,
    compile_template,
)


def ctx(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "contact": {
            "id": 7,
            "email": "ann@example.com",
            "phone": "+4915112345678",
            "first_name": "Ann",
            "last_name": "Lee",
            "timezone": "Europe/Berlin",
            "locale": "de",
            "lifecycle_stage": "customer",
            "score": 12,
            "plan": "pro",
            "traits": {"plan": "pro"},
        },
        "computed": {"orders": 3},
        "event": {"name": "product_viewed", "properties": {"product_name": "Blue Mug", "slug": "blue-mug"}},
        "payload": {"coupon": "AUTUMN"},
        "message": {"id": 99},
        "links": {
            "unsubscribe_url": "https://k.example/u/7?sig=a&v=1",
            "preferences_url": "https://k.example/p/7",
            "view_in_browser_url": "https://k.example/v/7",
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(context.get(key), dict):
            context[key] = {**context[key], **value}
        else:
            context[key] = value
    return context


def tracker(url: str) -> str:
    return "https://t.example/c?u=" + url


def both_paths(fields: dict[str, Any]) -> tuple[CompiledTemplate, CompiledTemplate]:
    fast = compile_template("email", fields)
    slow = compile_template("email", fields, precompile=False)
    assert not slow.precompiled
    return fast, slow


# --------------------------------------------------------------------------- channels

CHANNEL_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "sms",
        {"text": "Hi {{ contact.first_name }}, code {{ payload.coupon }}\n"},
        {"text": "Hi Ann, code AUTUMN"},
    ),
    ("sms", {"text": "Hi {{ contact.nickname | default: 'there' }} & <you>"}, {"text": "Hi there & <you>"}),
    (
        "push",
        {
            "title": "Hi\n{{ contact.first_name }}",
            "body": "{{ event.properties.product_name }} is back",
            "data": {"slug": "{{ event.properties.slug }}", "kind": "restock"},
        },
        {"title": "Hi Ann", "body": "Blue Mug is back", "data": {"slug": "blue-mug", "kind": "restock"}},
    ),
    (
        "push",
        {"title": "T", "body": "B", "image": "https://cdn.example/{{ event.properties.slug }}.png"},
        {"title": "T", "body": "B", "data": {}, "image": "https://cdn.example/blue-mug.png"},
    ),
    (
        "wechat",
        {
            "template_id": "TPL-1",
            "url": "https://shop.example/{{ event.properties.slug }}",
            "data": {"first": "{{ contact.first_name }}", "keyword1": "{{ computed.orders }}"},
        },
        {
            "template_id": "TPL-1",
            "url": "https://shop.example/blue-mug",
            "data": {"first": {"value": "Ann"}, "keyword1": {"value": "3"}},
        },
    ),
    (
        "wechat",
        {"template_id": "TPL-2", "data": {"k": "v"}},
        {"template_id": "TPL-2", "url": None, "data": {"k": {"value": "v"}}},
    ),
    (
        "webhook",
        {
            "payload": {
                "id": "{{ contact.id }}",
                "name": "{{ contact.first_name }} <{{ contact.email }}>",
                "n": 3,
                "ok": True,
                "none": None,
                "tags": ["a", "{{ contact.plan }}"],
                "nested": {"x": "{{ message.id }}"},
            }
        },
        {
            "payload": {
                "id": "7",
                "name": "Ann <ann@example.com>",
                "n": 3,
                "ok": True,
                "none": None,
                "tags": ["a", "pro"],
                "nested": {"x": "99"},
            }
        },
    ),
    (
        "inapp",
        {
            "title": " Welcome  back\r\n{{ contact.first_name }} ",
            "body": "You have {{ computed.orders }} orders",
            "data": {"cta": "{{ links.preferences_url }}", "n": 1},
        },
        {
            "title": "Welcome back Ann",
            "body": "You have 3 orders",
            "data": {"cta": "https://k.example/p/7", "n": 1},
        },
    ),
    ("inapp", {"title": "T", "body": "B"}, {"title": "T", "body": "B", "data": {}}),
]


@pytest.mark.parametrize(("channel", "fields", "expected"), CHANNEL_CASES)
def test_channels_render_their_content(
    channel: str, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    rendered = compile_template(channel, fields).render(ctx())
    assert rendered.channel == channel
    assert rendered.content == expected
    assert rendered.links == []


def test_webhook_payloads_are_fresh_objects_per_render() -> None:
    compiled = compile_template("webhook", {"payload": {"list": [1, 2], "obj": {"a": "b"}}})
    first = compiled.render(ctx()).content["payload"]
    first["list"].append(3)
    first["obj"]["a"] = "changed"
    assert compiled.render(ctx()).content["payload"] == {"list": [1, 2], "obj": {"a": "b"}}


def test_a_plain_html_email() -> None:
    compiled = compile_template(
        "email",
        {
            "subject": "Hello {{ contact.first_name }}",
            "format": "html",
            "preheader": "For {{ contact.first_name }}\n only",
            "body": "<html><head><style>.x { color: red }</style></head><body><p class='x'>Hi {{ contact.first_name }}</p></body></html>",
        },
    )
    assert compiled.precompiled
    content = compiled.render(ctx()).content
    assert content["subject"] == "Hello Ann"
    assert content["preheader"] == "For Ann only"
    assert '<p\nclass="x" style="color: red;">Hi Ann</p>' in content["html"]
    assert content["text"] == "Hi Ann"


def test_an_explicit_text_part_wins() -> None:
    compiled = compile_template(
        "email",
        {"subject": "s", "format": "html", "body": "<p>x</p>", "text": " Hi {{ contact.first_name }} \n"},
    )
    assert compiled.render(ctx()).content["text"] == "Hi Ann"


# --------------------------------------------------------------------------- precompilation

NEWSLETTER = """<mjml>
  <mj-head>
    <mj-title>News for {{ contact.first_name | default: "you" }}</mj-title>
    <mj-preview>Picked for {{ contact.first_name | default: "you" }}</mj-preview>
    <mj-style inline="inline">.hero h1 { color: #123456; } .price div { font-weight: bold; }</mj-style>
    <mj-style>@media (max-width: 480px) { .hero h1 { font-size: 20px !important; } }</mj-style>
  </mj-head>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text align="right"><a href="{{ links.view_in_browser_url }}">View online</a></mj-text>
        <mj-text css-class="hero">
          <h1>Hello {{ contact.first_name | default: "there" }}</h1>
          <p>You liked {{ event.properties.product_name | default: "our mugs" }} — here is more.</p>
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-image src="https://cdn.example/{{ event.properties.slug | default: 'mug' }}.jpg" alt="{{ event.properties.product_name }}" href="https://shop.example/p/{{ event.properties.slug }}?utm_source=nl&amp;utm_medium=email" />
        <mj-text css-class="price">€19 <a href="mailto:help@shop.example">help</a> <a href="#top">top</a></mj-text>
        <mj-button href="https://shop.example/cart?add={{ event.properties.slug }}">Buy now</mj-button>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text>
          <a href="{{ links.preferences_url }}">Preferences</a> · <a href="{{ links.unsubscribe_url }}">Unsubscribe</a>
          <a data-kairos-notrack href="https://shop.example/legal">Legal</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


class _Tree(HTMLParser):
    """A document as parse events (tags with their attributes, decoded text, comments), to
    compare two serialisations that may spell characters differently (``&#39;`` vs ``'``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "data":
            self.events[-1] = ("data", self.events[-1][1] + data)
        else:
            self.events.append(("data", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))


def tree(page: str) -> list[tuple[Any, ...]]:
    parser = _Tree()
    parser.feed(page)
    parser.close()
    return parser.events


# (context, exact): with markup characters in values the two paths may spell entities
# differently (html5ever re-serialises the slow path's values), so those compare as trees.
CONTEXTS = [
    (ctx(), True),
    (ctx(contact={"first_name": None}, event=None), True),
    (ctx(contact={"first_name": 42}, event={"properties": {"product_name": "Mug", "slug": "a-b"}}), True),
    ({}, True),
    (
        ctx(
            contact={"first_name": "Zoë O'Neil"},
            event={"properties": {"product_name": 'Tom & "Jerry" <mug>', "slug": "a&b"}},
        ),
        False,
    ),
    (
        ctx(
            contact={"first_name": "<script>x</script>"},
            links={"unsubscribe_url": "https://k.example/u?x=<1>&y=2"},
        ),
        False,
    ),
]


@pytest.mark.parametrize(("context", "exact"), CONTEXTS)
def test_the_precompiled_mjml_renders_exactly_like_the_slow_path(
    context: dict[str, Any], exact: bool
) -> None:
    fields = {"subject": "Hi {{ contact.first_name }}", "body": NEWSLETTER}
    fast, slow = both_paths(fields)
    assert fast.precompiled, fast.fallback_reason
    assert fast.text_precompiled
    for kwargs in ({}, {"link_rewriter": tracker, "open_pixel_url": "https://t.example/o.gif?m=1&x=2"}):
        a = fast.render(context, **kwargs)  # type: ignore[arg-type]
        b = slow.render(context, **kwargs)  # type: ignore[arg-type]
        if exact:
            assert a.content["html"] == b.content["html"]
        assert tree(a.content["html"]) == tree(b.content["html"])
        assert a.links == b.links
        assert a.content["subject"] == b.content["subject"]
        if context.get("event"):
            # the compile-time conversion cannot know that a link's label or URL will be
            # empty, so only populated contexts give the same text as converting per message
            assert a.content["text"] == b.content["text"]


def test_mjml_output_is_inlined_and_personalised() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    out = compiled.render(ctx()).content["html"]
    assert re.search(r'<h1\sstyle="[^"]*color: #123456', out)  # <mj-style inline> ended up inline
    assert "@media (max-width: 480px)" in out  # non-inlinable CSS stays in <head>
    assert "<title>News for Ann</title>" in out
    assert 'src="https://cdn.example/blue-mug.jpg"' in out
    assert 'alt="Blue Mug"' in out
    assert "{{" not in out and "{%" not in out and "KLQ" not in out


BLOCKS = """<mjml><mj-body>
  {% assign name = contact.first_name | default: "friend" %}
  {% if contact.lifecycle_stage == "customer" %}
  <mj-section background-color="#eeeeee"><mj-column><mj-text>Welcome back, {{ name }}!</mj-text></mj-column></mj-section>
  {% elsif contact.lifecycle_stage == "lead" %}
  <mj-section><mj-column><mj-text>Hi {{ name }}, ready to start?</mj-text></mj-column></mj-section>
  {% else %}
  <mj-section><mj-column><mj-text>Hello {{ name }}</mj-text></mj-column></mj-section>
  {% endif %}
  {% if computed.orders > 2 %}<mj-section><mj-column><mj-text>Loyal: {{ computed.orders }} orders</mj-text></mj-column></mj-section>{% endif %}
  <mj-section><mj-column><mj-text>
    <ul>{% for p in event.properties.recent %}<li><a href="https://shop.example/{{ p | url_encode }}">{{ p }}</a></li>{% endfor %}</ul>
    <p class="{% if contact.score > 10 %}hot{% else %}cold{% endif %}">Score {{ contact.score }}</p>
  </mj-text></mj-column></mj-section>
</mj-body></mjml>"""


@pytest.mark.parametrize(
    "context",
    [
        ctx(event={"properties": {"recent": ["Mug", "Bowl & Plate"]}}),
        ctx(contact={"lifecycle_stage": "lead", "score": 3}, computed={"orders": 1}),
        ctx(contact={"lifecycle_stage": "churned", "first_name": ""}, event={"properties": {"recent": []}}),
        {},
    ],
)
def test_liquid_blocks_around_mjml_sections_precompile_correctly(context: dict[str, Any]) -> None:
    fast, slow = both_paths({"subject": "s", "body": BLOCKS})
    assert fast.precompiled, fast.fallback_reason
    a = fast.render(context, link_rewriter=tracker)
    b = slow.render(context, link_rewriter=tracker)
    assert a.content["html"] == b.content["html"]
    assert a.links == b.links
    assert a.content["text"] == b.content["text"]


def test_the_rendered_branches_are_the_right_ones() -> None:
    compiled = compile_template("email", {"subject": "s", "body": BLOCKS})
    text = compiled.render(ctx(event={"properties": {"recent": ["Mug", "Bowl"]}})).content["text"]
    assert "Welcome back, Ann!" in text and "ready to start" not in text
    assert "Loyal: 3 orders" in text
    assert "- Mug (https://shop.example/Mug)\n- Bowl (https://shop.example/Bowl)" in text
    lead = compiled.render(
        ctx(contact={"lifecycle_stage": "lead", "first_name": None, "score": 3}, computed={"orders": 1}),
        link_rewriter=tracker,
    )
    assert "Hi friend, ready to start?" in lead.content["text"]
    assert 'class="cold"' in lead.content["html"] and "Loyal" not in lead.content["html"]


HYBRID = """<mjml><mj-body>
  <mj-section><mj-column><mj-text>Hi {{ contact.first_name | default: "there" }} <a href="{{ links.view_in_browser_url }}">online</a></mj-text></mj-column></mj-section>
  {% if contact.lifecycle_stage == "customer" %}
  <mj-section><mj-column><mj-text>Welcome back{% if contact.score > 10 %}, VIP{% endif %}!
    <ul>{% for p in event.properties.recent %}<li><a href="https://shop.example/p/{{ p | url_encode }}?a=1&amp;b=2">{{ p }}</a></li>{% endfor %}</ul>
  </mj-text></mj-column></mj-section>
  {% endif %}
  <mj-section><mj-column>
    <mj-button href="https://shop.example/{% case contact.plan %}{% when 'pro' %}pro{% else %}upgrade{% endcase %}">Go</mj-button>
    <mj-text><a href="{{ links.unsubscribe_url }}">Unsubscribe</a></mj-text>
  </mj-column></mj-section>
</mj-body></mjml>"""


@pytest.mark.parametrize(
    "context",
    [
        ctx(event={"properties": {"recent": ["Mug", "Bowl & Plate"]}}),
        ctx(contact={"score": 3, "plan": "free"}),
        ctx(contact={"lifecycle_stage": "lead"}),
        {},
    ],
)
def test_a_hybrid_body_renders_like_the_slow_path(context: dict[str, Any]) -> None:
    fast, slow = both_paths({"subject": "Hi {{ contact.first_name }}", "body": HYBRID})
    assert fast.strategy == "hybrid" and slow.strategy == "slow"
    a = fast.render(context, link_rewriter=tracker, open_pixel_url="https://t.example/o")
    b = slow.render(context, link_rewriter=tracker, open_pixel_url="https://t.example/o")
    assert a.content["html"] == b.content["html"]
    assert a.content["subject"] == b.content["subject"]
    assert a.links == b.links
    if context:  # without URLs the compile-time text keeps the links' empty parentheses
        assert a.content["text"] == b.content["text"]


def test_strategies() -> None:
    assert compile_template("email", {"subject": "s", "body": NEWSLETTER}).strategy == "flat"
    assert compile_template("email", {"subject": "s", "body": BLOCKS}).strategy == "liquid"  # assign
    assert compile_template("sms", {"text": "x"}).strategy == "fields"


def test_a_conditional_section_with_its_own_layout_only_leaves_unused_head_css() -> None:
    body = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>A</mj-text></mj-column></mj-section>"
        "{% if show %}<mj-section><mj-column><mj-text>B</mj-text></mj-column><mj-column><mj-text>C</mj-text></mj-column></mj-section>{% endif %}"
        "</mj-body></mjml>"
    )
    fast, slow = both_paths({"subject": "s", "body": body})
    assert fast.precompiled
    shown = {"show": True}
    assert fast.render(shown).content["html"] == slow.render(shown).content["html"]
    a, b = fast.render({}).content["html"], slow.render({}).content["html"]
    # MJML emits the media query of every column width it saw; the precompiled head keeps
    # the half-width rule of the hidden section, which then matches nothing
    assert a[a.index("<body") :] == b[b.index("<body") :]
    assert "mj-column-per-50" in a[: a.index("<body")] and "mj-column-per-50" not in b


def test_comments_and_assigns_may_sit_anywhere() -> None:
    body = (
        "<mjml><mj-body>{% comment %}<mj-section>{% endcomment %}<mj-section>{% # note %}<mj-column>"
        "{% assign n = contact.first_name | upcase %}<mj-text>Hi {{ n }}</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    fast, slow = both_paths({"subject": "s", "body": body})
    assert fast.precompiled, fast.fallback_reason
    assert fast.render(ctx()).content["html"] == slow.render(ctx()).content["html"]
    assert fast.render(ctx()).content["text"] == "Hi ANN"


def test_whitespace_control_does_not_glue_text_paragraphs() -> None:
    body = "<html><body><p>One</p>{%- if contact.vip -%}<p>Two</p>{%- endif -%}<p>Three</p></body></html>"
    compiled = compile_template("email", {"subject": "s", "format": "html", "body": body})
    assert compiled.precompiled and compiled.text_precompiled
    out = compiled.render(ctx(contact={"vip": True})).content
    assert "<p>One</p><p>Two</p><p>Three</p>" in out["html"]
    assert out["text"] == "One\n\nTwo\n\nThree"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # inside an <mj-column> MJML renders children as table rows: text there is moved
        (
            "<mjml><mj-body><mj-section><mj-column>{% if contact.vip %}<mj-text>VIP</mj-text>{% endif %}"
            "<mj-text>All</mj-text></mj-column></mj-section></mj-body></mjml>",
            "directly inside <mj-column>",
        ),
        # a conditional column: MJML sizes columns by how many there are
        (
            "<mjml><mj-body><mj-section><mj-column><mj-text>A</mj-text></mj-column>{% if contact.vip %}"
            "<mj-column><mj-text>VIP</mj-text></mj-column>{% endif %}</mj-section></mj-body></mjml>",
            "directly inside <mj-section>",
        ),
        # a block opening in one element and closing in another
        (
            "<mjml><mj-body><mj-section><mj-column><mj-text>{% if contact.vip %}A</mj-text>"
            "<mj-text>B{% endif %}</mj-text></mj-column></mj-section></mj-body></mjml>",
            "spans elements",
        ),
        # rows of a table: the HTML parser would move the tags out of the table
        (
            "<mjml><mj-body><mj-section><mj-column><mj-table>{% for p in items %}<tr><td>{{ p }}</td></tr>{% endfor %}"
            "</mj-table></mj-column></mj-section></mj-body></mjml>",
            "directly inside <table>",
        ),
        # a value MJML parses as a number
        (
            "<mjml><mj-body><mj-section><mj-column><mj-image src='x.png' width='{{ w }}px' /></mj-column></mj-section></mj-body></mjml>",
            "dropped",
        ),
    ],
)
def test_placements_mjml_would_break_fall_back_to_the_slow_path(body: str, reason: str) -> None:
    compiled = compile_template("email", {"subject": "s", "body": body})
    assert not compiled.precompiled
    assert compiled.fallback_reason is not None and reason in compiled.fallback_reason
    out = compiled.render({"contact": {"vip": True}, "items": ["a", "b"], "w": 100})
    assert "{{" not in out.content["html"] and "KLQ" not in out.content["html"]


def test_the_fallback_renders_correctly() -> None:
    body = (
        "<mjml><mj-body><mj-section><mj-column>{% if contact.vip %}<mj-text>VIP only</mj-text>{% endif %}"
        "<mj-text>For all, {{ contact.first_name }}</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    compiled = compile_template("email", {"subject": "s", "body": body})
    assert not compiled.precompiled and not compiled.text_precompiled
    vip = compiled.render(ctx(contact={"vip": True})).content
    assert "VIP only" in vip["html"] and vip["text"] == "VIP only\n\nFor all, Ann"
    assert "VIP only" not in compiled.render(ctx()).content["html"]


def test_an_html_body_with_blocks_and_a_table_loop() -> None:
    body = (
        "<html><body>{% if contact.vip %}<div>VIP {{ contact.first_name }}</div>{% endif %}"
        "<table><tr><td>Head</td></tr>{% for p in items %}<tr><td>{{ p }}</td></tr>{% endfor %}</table></body></html>"
    )
    compiled = compile_template("email", {"subject": "s", "format": "html", "body": body})
    assert not compiled.precompiled and "<table>" in (compiled.fallback_reason or "")
    out = compiled.render({"contact": {"vip": True, "first_name": "Ann"}, "items": ["a", "b"]}).content[
        "html"
    ]
    assert "<div>VIP Ann</div>" in out and "<td>a</td></tr><tr><td>b</td>" in out


def test_entities_that_decode_to_liquid_delimiters_stay_text() -> None:
    body = "<p>Write &#123;&#123; name }} in your template, {{ contact.first_name }}</p>"
    fast, slow = both_paths({"subject": "s", "format": "html", "body": body})
    assert not fast.precompiled  # the decoded "{{" must not become Liquid
    assert "{{ name }} in your template, Ann" in fast.render(ctx()).content["html"]
    assert fast.render(ctx()).content["html"] == slow.render(ctx()).content["html"]


def test_a_leading_assign_is_lifted_out_of_the_markup() -> None:
    body = '{% assign who = contact.first_name | default: "friend" %}\n<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ who }}</mj-text></mj-column></mj-section></mj-body></mjml>'
    fast, slow = both_paths({"subject": "s", "body": body})
    assert fast.precompiled, fast.fallback_reason
    for context in (ctx(), {}):
        assert fast.render(context).content["html"] == slow.render(context).content["html"]
    assert fast.render(ctx()).content["text"] == "Hi Ann"


def test_literal_placeholder_lookalikes_in_the_source_are_kept() -> None:
    body = "<p>Order KLQ1X and KLQ22X: {{ contact.first_name }}</p>"
    compiled = compile_template("email", {"subject": "s", "format": "html", "body": body})
    assert compiled.precompiled
    assert "<p>Order KLQ1X and KLQ22X: Ann</p>" in compiled.render(ctx()).content["html"]
    encoded = compile_template(
        "email", {"subject": "s", "format": "html", "body": "<p>&#75;LQ0X {{ contact.first_name }}</p>"}
    )
    assert encoded.precompiled
    assert "<p>KLQ0X Ann</p>" in encoded.render(ctx()).content["html"]


# --------------------------------------------------------------------------- escaping & subjects


def test_html_is_autoescaped_but_subject_and_text_are_not() -> None:
    compiled = compile_template(
        "email",
        {
            "subject": "Hi {{ contact.first_name }}",
            "body": "<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ contact.first_name }} {{ 'it&apos;s <b>ok</b>' }}</mj-text></mj-column></mj-section></mj-body></mjml>",
        },
    )
    content = compiled.render(ctx(contact={"first_name": "<script>alert(1)</script>"})).content
    assert "<script>" not in content["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content["html"]
    assert "<b>ok</b>" in content["html"]  # a literal written by the author is trusted
    assert content["subject"] == "Hi <script>alert(1)</script>"
    assert content["text"].startswith("Hi <script>alert(1)</script>")


@pytest.mark.parametrize("name", ["Ann\r\nBcc: evil@example.com", "Ann\nX", "  Ann\t\t", "Ann\u2028X"])
def test_cr_lf_never_survive_into_a_subject(name: str) -> None:
    compiled = compile_template(
        "email", {"subject": "Hi\r\n {{ contact.first_name }}  !", "format": "html", "body": "<p>x</p>"}
    )
    subject = compiled.render(ctx(contact={"first_name": name})).content["subject"]
    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
    assert subject.startswith("Hi Ann") and "  " not in subject


# --------------------------------------------------------------------------- tracking


def test_link_rewriting_skips_mailto_anchors_notrack_and_unsubscribe() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    out = compiled.render(ctx(), link_rewriter=tracker, open_pixel_url="https://t.example/o.gif")
    assert out.links == [
        "https://k.example/v/7",
        "https://shop.example/p/blue-mug?utm_source=nl&utm_medium=email",  # &amp; unescaped
        "https://shop.example/cart?add=blue-mug",
    ]
    page = out.content["html"]
    assert (
        'href="https://t.example/c?u=https://shop.example/p/blue-mug?utm_source=nl&amp;utm_medium=email"'
        in page
    )
    assert 'href="mailto:help@shop.example"' in page and 'href="#top"' in page
    assert 'href="https://k.example/u/7?sig=a&amp;v=1"' in page  # unsubscribe untouched
    assert 'href="https://k.example/p/7"' in page  # preferences untouched
    assert 'href="https://shop.example/legal"' in page and "data-kairos-notrack" not in page


def test_without_a_rewriter_links_stay_and_the_notrack_marker_goes() -> None:
    for precompile in (True, False):
        compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER}, precompile=precompile)
        out = compiled.render(ctx())
        assert out.links == []
        assert "data-kairos-notrack" not in out.content["html"]
        assert 'href="https://shop.example/cart?add=blue-mug"' in out.content["html"]
        assert "\x02" not in out.content["html"] and "\x03" not in out.content["html"]


def test_a_value_cannot_forge_a_link_marker() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    out = compiled.render(ctx(contact={"first_name": "\x02<x\x03>"}), link_rewriter=tracker)
    assert len(out.links) == 3
    assert "\x02&lt;x\x03&gt;" in out.content["html"]


def test_rewrite_links_on_hand_written_html() -> None:
    page = (
        "<p><A HREF=\"https://a.example/x?a=1&amp;b=2\" class=x>a</A> <a href='https://b.example'>b</a> "
        '<a href="tel:+1">t</a> <a data-kairos-notrack="" href="https://c.example">c</a> <a name="n">n</a> '
        '<a href="https://u.example/u">u</a></p>'
    )
    out, links = rewrite_links(page, lambda u: f"T<{u}>", skip=("https://u.example/u",))
    assert links == ["https://a.example/x?a=1&b=2", "https://b.example"]
    assert 'HREF="T&lt;https://a.example/x?a=1&amp;b=2&gt;" class=x' in out
    assert 'href="T&lt;https://b.example&gt;"' in out
    assert '<a href="https://c.example">c</a>' in out
    assert '<a href="https://u.example/u">u</a>' in out


def test_the_open_pixel_goes_right_before_the_body_end() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    page = compiled.render(ctx(), open_pixel_url="https://t.example/o.gif?m=1&x=2").content["html"]
    pixel = '<img src="https://t.example/o.gif?m=1&amp;x=2" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />'
    assert page.count(pixel) == 1
    assert page.endswith(pixel + "</body></html>")
    assert (
        insert_pixel("<p>x</p>", "u")
        == '<p>x</p><img src="u" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />'
    )
    assert insert_pixel("<BODY>x</BODY >", "u").startswith("<BODY>x<img src=")


# --------------------------------------------------------------------------- text part


def test_the_derived_text_part_is_readable() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    text = compiled.render(ctx(), link_rewriter=tracker).content["text"]
    assert "Hello Ann" in text and "You liked Blue Mug — here is more." in text
    assert "View online (https://k.example/v/7)" in text  # original URLs, not tracked ones
    assert "Buy now (https://shop.example/cart?add=blue-mug)" in text
    assert "Unsubscribe (https://k.example/u/7?sig=a&v=1)" in text
    assert "https://t.example" not in text
    assert "<" not in text and "{" not in text and "color" not in text and "@media" not in text
    assert "Picked for" not in text  # the hidden preheader
    assert "\n\n\n" not in text


def test_a_text_part_converted_per_message_still_shows_original_urls() -> None:
    # "{" + "{" across two elements: converting at compile time would invent Liquid
    body = "<p><b>{</b>{ literal <a href='https://x.example/{{ contact.id }}'>go</a> {{ contact.first_name }}</p>"
    compiled = compile_template("email", {"subject": "s", "format": "html", "body": body})
    assert compiled.precompiled and not compiled.text_precompiled
    out = compiled.render(ctx(), link_rewriter=tracker)
    assert out.content["text"] == "{{ literal go (https://x.example/7) Ann"
    assert out.links == ["https://x.example/7"]


def test_html_to_text_structure() -> None:
    page = (
        "<html><head><title>T</title><style>p{color:red}</style><script>x()</script></head><body>"
        "<h1>Title</h1><p>One   two<br>three</p><ul><li>a</li><li>b</li></ul><ol><li>x</li><li>y</li></ol>"
        '<p><a href="https://e.example/x?a=1&amp;b=2">Shop</a> <a href="mailto:a@b">mail</a> '
        '<a href="https://e.example/img"><img src="i.png" alt="Product"></a> <a href="https://same.example">https://same.example</a></p>'
        '<div style="display:none">hidden</div><hr><p>&copy; 2026&nbsp;Co</p></body></html>'
    )
    assert html_to_text(page) == (
        "Title\n\nOne two\nthree\n\n- a\n- b\n\n1. x\n2. y\n\n"
        "Shop (https://e.example/x?a=1&b=2) mail Product (https://e.example/img) https://same.example\n\n"
        "---\n\n© 2026 Co"
    )


# --------------------------------------------------------------------------- limits, strict, errors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{% for i in (1..1000000) %}x{% endfor %}", "range has more than 100,000 items"),
        ("{% for i in (1..100000) %}x{% endfor %}", "loop iteration limit"),
        ("{% for i in (1..200) %}{% for j in (1..200) %}x{% endfor %}{% endfor %}", "loop iteration limit"),
        ("{% for i in (1..5000) %}{{ payload.big }}{% endfor %}", "output stream limit"),
        (
            "{% assign s = payload.big %}{% for i in (1..20) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}",
            "namespace limit",
        ),
    ],
)
def test_resource_limits_fail_fast_with_a_clear_error(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:  # at compile time when data plays no part
        compile_template("sms", {"text": body}).render({"payload": {"big": "x" * 1000}})
    assert err.value.code == "template_too_complex"
    assert err.value.field == "text"
    assert message in err.value.message


def test_a_huge_value_cannot_blow_up_a_flat_email() -> None:
    compiled = compile_template("email", {"subject": "s", "body": NEWSLETTER})
    with pytest.raises(TemplateError, match="output stream limit"):
        compiled.render(ctx(contact={"first_name": "x" * (OUTPUT_LIMIT // 4)}))


def test_undefined_variables_render_empty_but_strict_mode_reports_them() -> None:
    fields = {
        "subject": "Hi {{ contact.nickname }}",
        "body": "<mjml><mj-body><mj-section><mj-column><mj-text>{{ contact.first_name | default: 'x' }}\n"
        "{% if event.missing %}never{% endif %}{{ event.properties.colour }}</mj-text></mj-column></mj-section></mj-body></mjml>",
    }
    for precompile in (True, False):
        compiled = compile_template("email", fields, precompile=precompile)
        assert compiled.render(ctx()).content["subject"] == "Hi"
        with pytest.raises(TemplateError) as err:
            compiled.render(ctx(), strict=True)
        assert err.value.undefined == [
            "subject: contact.nickname is undefined (line 1)",
            "body: event.properties.colour is undefined (line 2)",
        ], precompile
        compiled.render(ctx(contact={"nickname": "A"}, event={"properties": {"colour": "blue"}}), strict=True)


def test_strict_mode_in_loops_and_other_channels() -> None:
    compiled = compile_template(
        "sms",
        {"text": "{% for p in event.products %}{{ p }}{% endfor %}{{ payload.code | default: 'none' }}"},
    )
    assert compiled.render({}).content["text"] == "none"
    with pytest.raises(TemplateError, match="'event' is undefined"):
        compiled.render({}, strict=True)


@pytest.mark.parametrize(
    ("channel", "fields", "message"),
    [
        ("email", {"subject": "Hi {{ contact.first_name", "body": "<p>x</p>", "format": "html"}, "subject: "),
        (
            "email",
            {"subject": "s", "body": "<mjml><mj-body>\n{% if x %}\n</mj-body></mjml>"},
            "body: expected tag endif",
        ),
        (
            "email",
            {"subject": "s", "body": "line1\n{{ x | nosuchfilter }}", "format": "html"},
            "body: unknown filter 'nosuchfilter' (line 2)",
        ),
        (
            "email",
            {"subject": "s", "body": "a\n\n{% include 'header' %}", "format": "html"},
            "body: unexpected tag 'include' (line 3)",
        ),
        (
            "email",
            {"subject": "s", "body": "{% render 'x' %}", "format": "html"},
            "body: unexpected tag 'render'",
        ),
        (
            "email",
            {
                "subject": "s",
                "body": "<mjml><mj-body><mj-section><mj-column><mj-text>unclosed <b></mj-text></mj-column></mj-section></mj-body></mjml>",
            },
            "body: MJML error",
        ),
        ("email", {"subject": "s", "body": "<p>x</p>", "format": "markdown"}, "format: "),
        ("email", {"body": "<p>x</p>"}, "subject: is required"),
        ("email", {"subject": " ", "body": "<p>x</p>"}, "subject: must not be empty"),
        ("email", {"subject": "s", "body": "b", "colour": "red"}, "colour: not a field of email templates"),
        ("sms", {"text": "{% for x in y %}"}, "text: "),
        ("push", {"title": "t", "body": "b", "data": {"k": "{{ x | bad }}"}}, "data.k: unknown filter 'bad'"),
        ("push", {"title": "t", "body": "b", "data": {"k": 1}}, "data.k: must be a string"),
        ("wechat", {"template_id": "t", "data": {"k": "{% endif %}"}}, "data.k: "),
        ("webhook", {"payload": {"a": ["{{ x | nope }}"]}}, "payload.a[0]: unknown filter 'nope'"),
        ("webhook", {"payload": {"a": {1, 2}}}, "payload.a: set is not JSON"),
        ("inapp", {"title": "t", "body": "{{ }}"}, "body: "),
        ("fax", {"text": "x"}, "unknown channel"),
    ],
)
def test_bad_templates_are_invalid_input_naming_the_field(
    channel: str, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        compile_template(channel, fields)
    assert not isinstance(err.value, TemplateError)
    assert err.value.code == "template_invalid"
    assert message in err.value.message


@pytest.mark.parametrize("tag", ["{% if x %}a{% endif %}", ""])  # the Liquid and the flat renderer
def test_runtime_errors_name_the_field_and_the_source_line(tag: str) -> None:
    body = f"<mjml><mj-body><mj-section><mj-column>\n<mj-text>{tag}\n{{{{ 10 | divided_by: contact.zero }}}}</mj-text>\n</mj-column></mj-section></mj-body></mjml>"
    for precompile in (True, False):
        compiled = compile_template("email", {"subject": "s", "body": body}, precompile=precompile)
        with pytest.raises(TemplateError) as err:
            compiled.render({"contact": {"zero": 0}})
        assert err.value.field == "body"
        assert "divided_by: can't divide by 0 (line 3)" in err.value.message, precompile


# --------------------------------------------------------------------------- no network


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"p { color: red; }")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def css_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_remote_stylesheets_are_never_fetched(css_server: str) -> None:
    _Recorder.hits = []
    html_body = f'<html><head><link rel="stylesheet" href="{css_server}/a.css"><style>@import url({css_server}/b.css);</style></head><body><p>Hi {{{{ contact.first_name }}}}</p></body></html>'
    mjml_body = f'<mjml><mj-head><mj-font name="X" href="{css_server}/font.css" /></mj-head><mj-body><mj-section><mj-column><mj-text font-family="X">Hi {{{{ contact.first_name }}}}</mj-text></mj-column></mj-section></mj-body></mjml>'
    for fields in (
        {"subject": "s", "format": "html", "body": html_body},
        {"subject": "s", "body": mjml_body},
    ):
        for precompile in (True, False):
            compiled = compile_template("email", fields, precompile=precompile)
            page = compiled.render(ctx()).content["html"]
            assert "Hi Ann" in page
            assert "color: red" not in page
    assert _Recorder.hits == []


def test_email_html_has_short_lines_so_it_can_travel_as_8bit() -> None:
    # css-inline writes one line per document; SMTP allows 998 bytes per line
    cards = "".join(
        f'<mj-section><mj-column><mj-text css-class="c">Card {i} for {{{{ contact.first_name }}}}</mj-text>'
        f'<mj-button href="https://shop.example/p/{i}">Buy</mj-button></mj-column></mj-section>'
        for i in range(30)
    )
    source = f'<mjml><mj-head><mj-style inline="inline">.c {{ color: #c00 }}</mj-style></mj-head><mj-body>{cards}</mj-body></mjml>'
    html = (
        compile_template("email", {"subject": "s", "body": source})
        .render({"contact": {"first_name": "Ann"}})
        .content["html"]
    )
    assert len(html) > 10_000
    assert max(map(len, html.split("\n"))) < 998
    assert "Card 29 for Ann" in html
