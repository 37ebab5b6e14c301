"""The email ``preheader``: the hidden preview text right after ``<body>``, in HTML and MJML
templates, in previews and in the mail sent; never in the plain-text part."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kairos.messaging.htmltext import PREHEADER_STYLE, insert_preheader
from kairos.messaging.templates import compile_template
from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, email_template, make_contact
from tests.messaging.test_templates import ctx

PREHEADER = "Only for {{ contact.first_name }} & friends <3"
SHOWN = "Only for Ann &amp; friends &lt;3"
DIV = f'<div style="{PREHEADER_STYLE}">{SHOWN}</div>'

HTML_BODY = (
    "<html><body><p>Hi {{ contact.first_name }}</p><a href='https://shop.example/'>Shop</a></body></html>"
)
MJML_BODY = (
    "<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ contact.first_name }}</mj-text>"
    "<mj-button href='https://shop.example/'>Shop</mj-button></mj-column></mj-section></mj-body></mjml>"
)
#: a Liquid block around a component: MJML cannot keep it, every message takes the slow path
MJML_SLOW = (
    "<mjml><mj-body><mj-section><mj-column>{% if contact.first_name %}<mj-text>Hi {{ contact.first_name }}"
    "</mj-text>{% endif %}</mj-column></mj-section></mj-body></mjml>"
)


def _right_after_body(html: str) -> None:
    body = re.search(r"<body\b[^>]*>", html)
    assert body is not None, html
    assert html[body.end() :].startswith(DIV), html[body.end() : body.end() + 300]
    assert html.count(SHOWN) == 1


@pytest.mark.parametrize(
    ("fmt", "body", "precompile"),
    [("html", HTML_BODY, True), ("html", HTML_BODY, False), ("mjml", MJML_BODY, True),
     ("mjml", MJML_BODY, False), ("mjml", MJML_SLOW, True)],
)  # fmt: skip
def test_the_preheader_is_the_hidden_text_right_after_body(fmt: str, body: str, precompile: bool) -> None:
    compiled = compile_template(
        "email", {"subject": "s", "format": fmt, "body": body, "preheader": PREHEADER}, precompile=precompile
    )
    assert compiled.strategy == ("slow" if body == MJML_SLOW or not precompile else compiled.strategy)
    tracked = compiled.render(
        ctx(),
        link_rewriter=lambda url: "https://t.example/c?u=" + url,
        open_pixel_url="https://t.example/o.gif",
    ).content
    plain = compiled.render(ctx()).content
    for content in (tracked, plain):
        assert content["preheader"] == "Only for Ann & friends <3"
        _right_after_body(content["html"])
        assert "Only for" not in content["text"]  # the text part does not repeat it
        assert content["text"].startswith("Hi Ann")


def test_an_explicit_text_part_and_no_preheader_are_left_alone() -> None:
    fields = {"subject": "s", "format": "html", "body": HTML_BODY, "text": "Hi {{ contact.first_name }}"}
    content = compile_template("email", {**fields, "preheader": PREHEADER}).render(ctx()).content
    assert content["text"] == "Hi Ann"
    _right_after_body(content["html"])
    without = compile_template("email", fields).render(ctx()).content
    assert "preheader" not in without and "display:none" not in without["html"]
    empty = compile_template("email", {**fields, "preheader": "{{ contact.nothing }}"}).render(ctx()).content
    assert empty["preheader"] == "" and "display:none" not in empty["html"]


def test_insert_preheader_finds_the_body_tag() -> None:
    div = f'<div style="{PREHEADER_STYLE}">a&lt;b</div>'
    assert insert_preheader("<p>x</p>", "a<b") == div + "<p>x</p>"
    assert insert_preheader("<BODY class='a>b'>x</BODY>", "a<b") == f"<BODY class='a>b'>{div}x</BODY>"
    assert insert_preheader('<body\nstyle="m">x', "a<b") == f'<body\nstyle="m">{div}x'
    assert insert_preheader("<bodyx><body>x", "a<b") == f"<bodyx><body>{div}x"


@pytest.mark.parametrize("fmt", ["html", "mjml"])
def test_the_preview_shows_the_preheader(api: Api, fmt: str) -> None:
    body = {"subject": "s", "format": fmt, "body": HTML_BODY if fmt == "html" else MJML_BODY,
            "preheader": PREHEADER}  # fmt: skip
    r = api.post("/templates", {"name": "t", "channel": "email", "fields": body})
    assert r.status_code == 201, r.text
    cid = make_contact(api, external_id="ann", first_name="Ann", email="ann@example.com")
    r = api.post(f"/templates/{r.json()['id']}/preview", {"contact_id": cid})
    assert r.status_code == 200, r.text
    content = r.json()["content"]
    _right_after_body(content["html"])
    assert "Only for" not in content["text"]


@pytest.mark.parametrize("fmt", ["html", "mjml"])
def test_the_sent_mail_carries_the_preheader(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker, fmt: str
) -> None:
    tid = email_template(api, format=fmt, body=HTML_BODY if fmt == "html" else MJML_BODY, preheader=PREHEADER)
    cid = make_contact(api, external_id="ann", first_name="Ann", email="ann@example.com")
    r = api.post(
        "/messages", {"contact_id": cid, "channel": "email", "template_id": tid, "transactional": False}
    )
    assert r.status_code == 202, r.text
    worker.run_once()
    [got] = smtp.recorder.to("ann@example.com")
    html = got.message.get_body(("html",)).get_content()
    text = got.message.get_body(("plain",)).get_content()
    _right_after_body(html)
    assert "Only for" not in text and text.startswith("Hi Ann")
