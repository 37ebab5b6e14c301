"""Templates cannot exhaust the server: sizes, ranges, loops and render time are bounded, a
template past a limit is a clear 422, compiling happens with no transaction open, and
contact data never turns into a script URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Engine, event

from kairos.messaging import service
from kairos.messaging.htmltext import unsafe_url
from kairos.messaging.templates import SOURCE_LIMIT, TemplateTooComplex, compile_template
from kairos.messaging.templates import liquid as liquid_module
from tests.conftest import Api
from tests.messaging.conftest import make_contact


def sms(api: Api, text: str) -> Any:
    return api.post("/templates", {"name": "t", "channel": "sms", "fields": {"text": text}})


def assert_too_complex(r: Any, words: str) -> None:
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "template_too_complex"
    assert words in r.json()["message"]


# --------------------------------------------------------------------------- resource limits


def test_a_huge_range_is_refused_at_save_without_being_built(api: Api) -> None:
    # the review's case: 34 s and 1.35 GB to save before
    r = sms(api, "{% assign r=(1..10000000) %}{{ r | join:',' | size }}")
    assert_too_complex(r, "range has more than 100,000 items")
    r = sms(api, "{% if (1..1000000000000) contains 'x' %}y{% endif %}")  # a scan in C
    assert_too_complex(r, "range")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (  # 4,096 items joined with 32,768 characters: one C call, 134 MB
            "{% assign a = 'x' | split: ',' %}{% for i in (1..12) %}{% assign a = a | concat: a %}{% endfor %}"
            "{% assign b = 'b' %}{% for i in (1..15) %}{% assign b = b | append: b %}{% endfor %}"
            "{{ a | join: b | size }}",
            "join would make a string longer",
        ),
        (  # replace multiplies: 600 x 4,096 characters in one call
            "{% assign s = 'aaaaaaaaaaaaaaaaaaaa' | append: 'aaaaaaaaaaaaaaaaaaaa' %}{% assign b = 'b' %}"
            "{% for i in (1..12) %}{% assign b = b | append: b %}{% endfor %}"
            "{% assign s = s | append: s | append: s | append: s | append: s %}"
            "{{ s | append: s | append: s | replace: 'a', b | size }}",
            "replace would make a string longer",
        ),
        (  # squaring a number 40 times would never end
            "{% assign x = 2 %}{% for i in (1..40) %}{% assign x = x | times: x %}{% endfor %}{{ x }}",
            "number too large",
        ),
    ],
)
def test_filters_that_multiply_sizes_are_bounded_before_they_run(
    api: Api, text: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the size guards are under test, not the deadline: a stopped stopwatch keeps a slow,
    # loaded machine from hitting the 2 s render limit first
    monkeypatch.setattr(liquid_module, "_clock", lambda: 0.0)
    assert_too_complex(sms(api, text), words)


def test_a_render_has_a_deadline(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each loop stays under the iteration limit, but together they are endless work; the
    deadline (2 s) is checked before every node. A stopwatch that advances 10 ms per look
    stands in for a slow render."""
    ticks = count()
    monkeypatch.setattr(liquid_module, "_clock", lambda: next(ticks) / 100)
    r = sms(api, "{% for i in (1..10000) %}{% endfor %}" * 50)
    assert_too_complex(r, "render time limit reached")


def test_limits_that_depend_on_data_fail_the_preview_with_a_422(api: Api) -> None:
    r = sms(api, "{% assign r = (1..payload.n) %}{{ r | join: ',' | size }}")
    assert r.status_code == 201, r.text  # with no data the range is empty
    tid = r.json()["id"]
    ok = api.post(f"/templates/{tid}/preview", {"payload": {"n": 3}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["content"]["text"] == "5"
    assert_too_complex(api.post(f"/templates/{tid}/preview", {"payload": {"n": 10_000_000}}), "range")


def test_at_send_time_a_message_past_a_limit_fails_with_the_reason() -> None:
    """The dispatcher fails a message whose render raises ``InvalidInput`` with its message;
    a limit is one, with a code of its own."""
    compiled = compile_template("sms", {"text": "{% for x in (1..payload.n) %}{{ x }}{% endfor %}"})
    with pytest.raises(TemplateTooComplex) as err:
        compiled.render({"payload": {"n": 50_000}})
    assert err.value.code == "template_too_complex"
    assert err.value.message == "text: loop iteration limit reached (line 1)"


def test_a_template_field_is_at_most_512_kb(api: Api) -> None:
    r = sms(api, "x" * (SOURCE_LIMIT + 1))
    assert r.status_code == 422, r.text
    assert r.json() == {"code": "template_too_large", "message": "text: longer than 512 KB"}
    big = {"k": "x" * SOURCE_LIMIT}
    r = api.post("/templates", {"name": "w", "channel": "webhook", "fields": {"payload": big}})
    assert r.status_code == 422 and r.json()["code"] == "template_too_large"


# --------------------------------------------------------------------------- no transaction


@pytest.fixture
def open_transactions(engine: Engine) -> Iterator[list[int]]:
    """How many transactions of the engine are open right now (one counter, one thread)."""
    count_ = [0]

    def began(conn: Any) -> None:
        count_[0] += 1

    def ended(conn: Any) -> None:
        count_[0] -= 1

    listeners = [("begin", began), ("commit", ended), ("rollback", ended)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    yield count_
    for name, fn in listeners:
        event.remove(engine, name, fn)


def test_templates_compile_with_no_transaction_open(
    api: Api, monkeypatch: pytest.MonkeyPatch, open_transactions: list[int]
) -> None:
    """On SQLite a write transaction holds the only write lock: a compile inside one stalled
    ingest for every workspace."""
    seen: list[int] = []
    real = service.compile_template

    def compile_and_look(channel: str, fields: Any) -> Any:
        seen.append(open_transactions[0])
        return real(channel, fields)

    monkeypatch.setattr(service, "compile_template", compile_and_look)
    r = sms(api, "Hi {{ contact.first_name }}")
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = api.patch(f"/templates/{tid}", {"fields": {"text": "Hello {{ contact.first_name }}"}})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert seen == [0, 0]


# --------------------------------------------------------------------------- script URLs


BODY = (
    "<html><body>"
    '<p><a href="{{ contact.website }}">site</a> <a data-kairos-notrack href="{{ contact.blog }}">blog</a></p>'
    '<p><img src="{{ contact.avatar }}" alt="me"><img src="data:image/png;base64,iVBORw0KGgo=" alt="logo"></p>'
    '<p><a href="https://shop.example/{{ contact.website }}">shop</a></p>'
    "</body></html>"
)
EVIL = {
    "website": "javascript:alert(1)",
    "blog": "  JaVaScript:alert(2)",
    "avatar": "data:text/html,<script>",
}


@pytest.mark.parametrize("precompile", [True, False])
@pytest.mark.parametrize("fmt", ["html", "mjml"])
def test_contact_data_never_yields_a_script_url(fmt: str, precompile: bool) -> None:
    body = (
        BODY
        if fmt == "html"
        else f"<mjml><mj-body><mj-section><mj-column><mj-text>{BODY[12:-14]}</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    compiled = compile_template("email", {"subject": "s", "body": body, "format": fmt}, precompile=precompile)
    for rewriter in (None, lambda url: "https://t.example/c"):
        html = compiled.render({"contact": EVIL}, link_rewriter=rewriter).content["html"]
        urls = re.findall(r'(?:href|src)="([^"]*)"', html)
        assert not [u for u in urls if u.lower().startswith(("javascript", " javascript", "data:text"))]
        assert html.count('href="#"') == 2 and 'src="#"' in html
        assert 'src="data:image/png;base64,iVBORw0KGgo="' in html  # the author's own image stays
    safe = {
        "website": "https://ann.example",
        "blog": "https://blog.example",
        "avatar": "https://img.example/a.png",
    }
    html = compiled.render({"contact": safe}).content["html"]
    assert 'href="https://ann.example"' in html and 'src="https://img.example/a.png"' in html


@pytest.mark.parametrize(
    ("url", "unsafe"),
    [
        ("javascript:alert(1)", True), (" JaVa\tScRipt:x", True), ("\x01javascript:x", True),
        ("&#106;avascript:x", True), ("java&#x09;script:x", True), ("javascript&colon;x", True),
        ("vbscript:x", True), ("data:text/html,<script>", True), ("https://x.example/javascript:", False),
        ("/path:x", False), ("mailto:a@example.com", False), ("#top", False),
    ],
)  # fmt: skip
def test_script_urls_are_recognised_as_a_browser_reads_them(url: str, unsafe: bool) -> None:
    assert unsafe_url(url) is unsafe


def test_the_author_own_script_links_are_dropped_too() -> None:
    compiled = compile_template(
        "email",
        {
            "subject": "s",
            "format": "html",
            "body": '<html><body><a href="javascript:void(0)">x</a></body></html>',
        },
    )
    assert 'href="#"' in compiled.render({}).content["html"]


def test_a_preview_never_shows_a_script_link(api: Api) -> None:
    cid = make_contact(api, email="ann@example.com", traits={"website": "javascript:alert(document.cookie)"})
    fields = {
        "subject": "s",
        "format": "html",
        "body": '<html><body><a href="{{ contact.traits.website }}">me</a></body></html>',
    }
    r = api.post("/templates", {"name": "e", "channel": "email", "fields": fields})
    assert r.status_code == 201, r.text
    r = api.post(f"/templates/{r.json()['id']}/preview", {"contact_id": cid})
    assert r.status_code == 200, r.text
    html = r.json()["content"]["html"]
    assert "javascript" not in html and 'href="#">me</a>' in html
