"""Previews of unsaved templates (`POST /templates/preview`), the sample offer of previews
and test sends (`offer_id`), and previews without tracking — what the console's template
editor asks for while a template is written."""

from __future__ import annotations

from typing import Any

from kairos.worker.loop import Worker
from tests.conftest import Api
from tests.messaging.conftest import SmtpServer, make_contact

MJML = (
    "<mjml><mj-body><mj-section><mj-column>"
    "<mj-text>Hi {{ contact.first_name }}, your code is {{ offer.code }} ({{ offer.display }} off)</mj-text>"
    '<mj-button href="https://shop.example/sale">Shop</mj-button>'
    "</mj-column></mj-section></mj-body></mjml>"
)


def draft(api: Api, channel: str, fields: dict[str, Any], **options: Any) -> Any:
    return api.post("/templates/preview", {"channel": channel, "fields": fields, **options})


def test_an_unsaved_template_renders_for_a_contact_like_a_saved_one(api: Api) -> None:
    cid = make_contact(api, email="mei@example.com", first_name="Mei", traits={"tier": "gold"})
    fields = {"subject": "{{ contact.first_name }}, {{ contact.tier }} perks", "format": "html",
              "body": '<p>Hi {{ contact.first_name }}</p><a href="https://shop.example/x">x</a>',
              "preheader": "For {{ contact.first_name }}"}  # fmt: skip
    r = draft(api, "email", fields, contact_id=cid)
    assert r.status_code == 200, r.text
    content = r.json()["content"]
    assert content["subject"] == "Mei, gold perks" and content["preheader"] == "For Mei"
    assert "Hi Mei" in content["html"] and "/t/c/" in content["html"] and "/t/o/" in content["html"]
    assert "Hi Mei" in content["text"]

    saved = api.post("/templates", {"name": "perks", "channel": "email", "fields": fields}).json()["id"]
    assert api.post(f"/templates/{saved}/preview", {"contact_id": cid}).json() == r.json()
    assert api.get("/templates").json()["data"] == [
        api.get(f"/templates/{saved}").json()
    ]  # nothing else saved

    # without tracking: the links as written and no open pixel
    untracked = draft(api, "email", fields, contact_id=cid, tracking=False).json()["content"]["html"]
    assert (
        "/t/c/" not in untracked and "/t/o/" not in untracked and 'href="https://shop.example/x"' in untracked
    )

    sms = draft(api, "sms", {"text": "{{ contact.first_name }}: 你好"}, contact_id=cid)
    assert sms.json() == {"content": {"text": "Mei: 你好"}}
    empty = draft(api, "push", {"title": "Hi {{ contact.first_name | default: 'there' }}", "body": "New"})
    assert empty.json()["content"]["title"] == "Hi there"  # no contact: an empty one


def test_errors_name_the_field_or_the_variables(api: Api) -> None:
    cid = make_contact(api, email="ann@example.com", first_name="Ann")
    broken = draft(
        api, "email", {"subject": "Hi {{ contact.first_name", "body": "<p>x</p>", "format": "html"}
    )
    assert (broken.status_code, broken.json()["code"]) == (422, "template_invalid")
    assert broken.json()["message"].startswith("subject:")
    missing = draft(api, "sms", {})
    assert (missing.status_code, missing.json()["message"]) == (422, "text: is required")
    unknown = draft(api, "sms", {"text": "x", "title": "y"})
    assert unknown.json()["message"].startswith("title: not a field of sms templates")

    strict = draft(api, "sms", {"text": "Hi {{ contact.nickname }}"}, contact_id=cid)
    assert (strict.status_code, strict.json()["code"]) == (422, "template_render_failed")
    assert "contact.nickname" in strict.json()["message"]
    lenient = draft(api, "sms", {"text": "Hi {{ contact.nickname }}"}, contact_id=cid, strict=False)
    assert lenient.json()["content"]["text"] == "Hi"

    assert draft(api, "sms", {"text": "x"}, contact_id=999_999).status_code == 404
    assert draft(api, "fax", {"text": "x"}).status_code == 422
    assert draft(api, "sms", {"text": "x"}, offer_id=999_999).json()["code"] == "offer_not_found"


def test_the_sample_offer_shows_the_contacts_code_else_the_static_code_else_a_sample(api: Api) -> None:
    ann = make_contact(api, email="ann@example.com", first_name="Ann", locale="en")
    bo = make_contact(api, email="bo@example.com", first_name="Bo")
    pool = api.post("/offers", {"key": "ten", "name": "10% off", "kind": "discount_percent", "value": 10,
                                "coupon_mode": "pool"}).json()  # fmt: skip
    assert (
        api.post(f"/offers/{pool['id']}/codes/import", {"codes": ["ANNCODE1", "SPARE002"]}).status_code == 201
    )
    assert api.post(f"/offers/{pool['id']}/assign", {"contact_id": ann}).json()["code"] == "ANNCODE1"
    static = api.post("/offers", {"key": "welcome", "name": "Welcome", "kind": "discount_amount", "value": 5,
                                  "currency": "EUR", "coupon_mode": "static", "static_code": "WELCOME5"}).json()  # fmt: skip

    def code(contact: int | None, offer: int) -> str:
        r = draft(
            api, "email", {"subject": "x", "body": MJML}, contact_id=contact, offer_id=offer, strict=False
        )
        assert r.status_code == 200, r.text
        return str(r.json()["content"]["text"])

    assert "your code is ANNCODE1 (10% off)" in code(ann, pool["id"])
    assert "your code is SAMPLE00" in code(bo, pool["id"])  # Bo holds none: nothing is assigned
    assert "your code is SAMPLE00" in code(None, pool["id"])
    assert "your code is WELCOME5 (€5 off)" in code(bo, static["id"])
    assert api.get(f"/offers/{pool['id']}").json()["given"] == 1

    # without an offer, strict mode names what is missing
    r = draft(api, "email", {"subject": "x", "body": MJML}, contact_id=ann)
    assert r.status_code == 422 and "offer.code" in r.json()["message"]


def test_a_test_send_carries_the_sample_offer(
    api: Api, smtp: SmtpServer, email_channel: dict[str, Any], worker: Worker
) -> None:
    cid = make_contact(api, email="cleo@example.com", first_name="Cleo")
    static = api.post("/offers", {"key": "welcome", "name": "Welcome", "kind": "gift", "coupon_mode": "static",
                                  "static_code": "HELLO"}).json()  # fmt: skip
    tid = api.post("/templates", {"name": "coupon", "channel": "email",
                                  "fields": {"subject": "Code {{ offer.code }}", "body": MJML}}).json()["id"]  # fmt: skip
    r = api.post(f"/templates/{tid}/test-send", {"contact_id": cid, "offer_id": static["id"]})
    assert r.status_code == 202, r.text
    worker.run_once()
    [mail] = smtp.recorder.to("cleo@example.com")
    assert mail.message["Subject"] == "[Test] Code HELLO"
    other = api.post(f"/templates/{tid}/test-send", {"contact_id": cid, "offer_id": 999_999})
    assert (other.status_code, other.json()["code"]) == (404, "offer_not_found")
