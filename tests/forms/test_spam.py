"""Spam protection of hosted forms beyond the honeypot and the render timestamp: the
per-client rate limit (counted in the database, on a keyed hash of the address) and the
optional CAPTCHA, verified against a local HTTP server speaking the providers' siteverify
API. The clock is driven; nothing sleeps."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings
from kairos.crypto import Keyring
from kairos.forms.captcha import PROVIDERS
from kairos.forms.service import client_hash, purge_rate_hits
from kairos.forms.tables import form as form_table
from kairos.forms.tables import form_rate_hit
from kairos.worker.loop import Worker
from kairos.workspaces.service import CreatedWorkspace
from tests.conftest import Api
from tests.forms.test_forms import contacts, form_events, post, render
from tests.messaging.conftest import email_template
from tests.messaging.fake_providers import FakeServer, Reply, Request, json_reply

HOME_IP = "203.0.113.7"
OTHER_IP = "198.51.100.23"
SECRET = "0x4AAAAAAA-test-secret"
SITE_KEY = "0x4AAAAAAA-site_key.1"


def lead(n: int) -> dict[str, str]:
    return {"email": f"lead{n}@example.com"}


def rate_hits(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(form_rate_hit).order_by(form_rate_hit.c.id)
        return [dict(r._mapping) for r in conn.execute(q)]


def from_ip(client: TestClient, ip: str) -> TestClient:
    """Another client of the same (already started) app, connecting from ``ip``."""
    return TestClient(client.app, client=(ip, 50000))


def submit(client: TestClient, clock: FixedClock, form: dict[str, Any], **fields: str) -> httpx.Response:
    """Render the form, wait like a person (3 s), submit it."""
    hidden = render(client, form)
    clock.advance(timedelta(seconds=3))
    return post(client, form, hidden, **fields)


def submit_at(
    client: TestClient, clock: FixedClock, at: datetime, form: dict[str, Any], **fields: str
) -> httpx.Response:
    """``submit`` with the POST at instant ``at``."""
    clock.set(at - timedelta(seconds=3))
    return submit(client, clock, form, **fields)


def make_form(api: Api, key: str = "demo", **extra: Any) -> dict[str, Any]:
    r = api.post(
        "/forms",
        {"key": key, "name": "Book a demo", "fields": [{"name": "email", "type": "email", "required": True}]}
        | extra,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


# --- rate limit --------------------------------------------------------------------------


def test_rate_limit_per_client_across_the_window(
    client: TestClient, api: Api, engine: Engine, clock: FixedClock, workspace: CreatedWorkspace
) -> None:
    form = make_form(api)
    assert form["rate_limit"] == {"max": 5, "window_seconds": 600}  # the default
    home, other = from_ip(client, HOME_IP), from_ip(client, OTHER_IP)
    t0 = clock.now()
    for n in range(5):  # at t0, t0 + 10 s, … t0 + 40 s
        r = submit_at(home, clock, t0 + timedelta(seconds=10 * n), form, **lead(n))
        assert r.status_code == 200 and "Thank you" in r.text, r.text
    assert len(contacts(engine)) == 5 and len(form_events(engine)) == 5

    over = submit_at(home, clock, t0 + timedelta(seconds=100), form, **lead(99))
    assert over.status_code == 429
    assert "Too many submissions from your network. Please try again in 9 minutes." in over.text
    assert "class='kairos-form'" in over.text and "value='lead99@example.com'" in over.text
    assert over.headers["retry-after"] == "500"  # the first hit expires at t0 + 600 s
    # nothing of the refused submission is stored
    assert [c["email"] for c in contacts(engine)] == [f"lead{n}@example.com" for n in range(5)]
    assert len(form_events(engine)) == 5 and len(rate_hits(engine)) == 5

    # another address is another client
    r = submit_at(other, clock, t0 + timedelta(seconds=110), form, **lead(6))
    assert r.status_code == 200, r.text
    assert len(form_events(engine)) == 6

    # one second before the first hit expires: still refused; at expiry: accepted
    r = submit_at(home, clock, t0 + timedelta(seconds=599), form, **lead(7))
    assert r.status_code == 429 and r.headers["retry-after"] == "1", r.headers
    r = submit_at(home, clock, t0 + timedelta(seconds=600), form, **lead(8))
    assert r.status_code == 200, r.text
    # and the one after it counts again: four hits still in the window plus this one
    r = submit_at(home, clock, t0 + timedelta(seconds=601), form, **lead(9))
    assert r.status_code == 429 and r.headers["retry-after"] == "9", r.headers
    assert "lead8@example.com" in {c["email"] for c in contacts(engine)}
    assert "lead7@example.com" not in {c["email"] for c in contacts(engine)}

    # the stored client is a keyed hash of workspace and address, never the address
    hits = rate_hits(engine)
    keyring = Keyring("test-secret")
    mine = client_hash(keyring, workspace.id, HOME_IP)
    assert {h["client_hash"] for h in hits} == {mine, client_hash(keyring, workspace.id, OTHER_IP)}
    assert all(HOME_IP not in str(h) and OTHER_IP not in str(h) for h in hits)
    assert mine != client_hash(Keyring("another-secret"), workspace.id, HOME_IP)
    # checking deleted the client's expired hit (the first one) and recorded the new one
    assert sum(h["client_hash"] == mine for h in hits) == 5


def test_rate_limit_is_per_form_and_configurable(
    client: TestClient, api: Api, engine: Engine, clock: FixedClock
) -> None:
    strict = make_form(api, "strict", rate_limit={"max": 1, "window_seconds": 60})
    free = make_form(api, "free", rate_limit=None)
    assert free["rate_limit"] is None and strict["rate_limit"] == {"max": 1, "window_seconds": 60}
    assert submit(client, clock, strict, **lead(1)).status_code == 200
    r = submit(client, clock, strict, **lead(2))
    assert r.status_code == 429 and r.headers["retry-after"] == "57"
    for n in range(3, 10):  # no limit: more than the default allows
        assert submit(client, clock, free, **lead(n)).status_code == 200
    assert len(rate_hits(engine)) == 1  # hits are only kept for limited forms

    # lifting the limit and setting one again
    assert api.patch(f"/forms/{strict['id']}", {"rate_limit": None}).json()["rate_limit"] is None
    assert submit(client, clock, strict, **lead(10)).status_code == 200
    changed = api.patch(f"/forms/{strict['id']}", {"rate_limit": {"max": 3, "window_seconds": 3600}})
    assert changed.status_code == 200 and changed.json()["rate_limit"]["max"] == 3
    assert api.patch(f"/forms/{strict['id']}", {"name": "Renamed"}).json()["rate_limit"]["max"] == 3
    assert submit(client, clock, strict, **lead(11)).status_code == 200


def test_invalid_input_does_not_count(
    client: TestClient, api: Api, engine: Engine, clock: FixedClock
) -> None:
    form = make_form(api, rate_limit={"max": 1, "window_seconds": 600})
    for _ in range(3):
        assert submit(client, clock, form, email="not-an-email").status_code == 422
    assert rate_hits(engine) == []
    assert submit(client, clock, form, **lead(1)).status_code == 200


def test_worker_purges_old_hits(client: TestClient, api: Api, engine: Engine, clock: FixedClock) -> None:
    form = make_form(api, rate_limit={"max": 10, "window_seconds": 60})
    assert submit(client, clock, form, **lead(1)).status_code == 200
    clock.advance(timedelta(hours=12))
    assert submit(client, clock, form, **lead(2)).status_code == 200  # deletes the expired first hit
    assert len(rate_hits(engine)) == 1
    assert submit(from_ip(client, OTHER_IP), clock, form, **lead(3)).status_code == 200
    worker = Worker(engine, clock)
    assert worker.run_once()["form_rate_purge"] == 0  # nothing a day old yet
    assert len(rate_hits(engine)) == 2
    clock.advance(timedelta(hours=24))
    assert worker.run_once()["form_rate_purge"] == 2
    assert rate_hits(engine) == []
    with engine.begin() as conn:  # the domain function, idempotent
        assert purge_rate_hits(conn, clock.now()) == 0


def test_client_hash_groups_addresses() -> None:
    k = Keyring("test-secret")
    assert client_hash(k, 1, "2001:db8:1:2::1") == client_hash(k, 1, "2001:db8:1:2:ffff::9")  # one /64
    assert client_hash(k, 1, "2001:db8:1:2::1") != client_hash(k, 1, "2001:db8:1:3::1")
    assert client_hash(k, 1, "::ffff:203.0.113.7") == client_hash(k, 1, "203.0.113.7")
    assert client_hash(k, 1, "203.0.113.7") != client_hash(k, 1, "203.0.113.8")
    assert client_hash(k, 1, "203.0.113.7") != client_hash(k, 2, "203.0.113.7")  # per workspace
    assert len(client_hash(k, 1, None)) == 32 and "203" not in client_hash(k, 1, "203.0.113.7")


@pytest.mark.parametrize(
    "limit",
    [
        {"max": 0, "window_seconds": 60},
        {"max": 1001, "window_seconds": 60},
        {"max": 5, "window_seconds": 0},
        {"max": 5, "window_seconds": 86401},
        {"max": -1, "window_seconds": 60},
    ],
)
def test_bad_rate_limit_is_422(api: Api, limit: dict[str, Any]) -> None:
    form = make_form(api)
    for r in (
        api.patch(f"/forms/{form['id']}", {"rate_limit": limit}),
        api.post("/forms", {"key": "x", "name": "x", "fields": [{"name": "email", "type": "email"}],
                            "rate_limit": limit}),
    ):  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json() == {"code": "invalid_rate_limit", "message": r.json()["message"]}
    for missing in ({"max": 5}, {"window_seconds": 60}):
        r = api.patch(f"/forms/{form['id']}", {"rate_limit": missing})
        assert r.status_code == 422 and set(r.json()) == {"code", "message"}
    assert api.get(f"/forms/{form['id']}").json()["rate_limit"] == {"max": 5, "window_seconds": 600}


# --- CAPTCHA -----------------------------------------------------------------------------


class SiteverifyFake(FakeServer):
    """The siteverify API shared by Turnstile, hCaptcha and reCAPTCHA: a form POST of
    ``secret``, ``response`` and optional ``remoteip``, answered with JSON ``success`` (and
    ``error-codes``). Tokens are single-use, as with the real services."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.valid: set[str] = set()
        self.used: set[str] = set()

    def token(self) -> str:
        value = secrets.token_urlsafe(24)
        self.valid.add(value)
        return value

    def handle(self, request: Request) -> Reply:
        close = {"connection": "close"}  # a stopped fake must not keep serving a pooled connection
        if request.method != "POST" or not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return 405, close, b""
        form = request.form()
        if form.get("secret") != self.secret:
            return json_reply(200, {"success": False, "error-codes": ["invalid-input-secret"]}, close)
        token = form.get("response", "")
        if token in self.used:
            return json_reply(200, {"success": False, "error-codes": ["timeout-or-duplicate"]}, close)
        if token not in self.valid:
            return json_reply(200, {"success": False, "error-codes": ["invalid-input-response"]}, close)
        self.valid.discard(token)
        self.used.add(token)
        return json_reply(200, {"success": True, "hostname": "testserver"}, close)


@pytest.fixture
def siteverify() -> Iterator[SiteverifyFake]:
    fake = SiteverifyFake(SECRET)
    yield fake
    fake.stop()


@pytest.fixture
def captcha_client(
    settings: Settings, engine: Engine, clock: FixedClock, siteverify: SiteverifyFake
) -> Iterator[TestClient]:
    """The app with the providers' siteverify URL pointed at the local fake."""
    configured = settings.model_copy(update={"captcha_verify_url": siteverify.url + "/siteverify"})
    with TestClient(create_app(configured, clock=clock)) as c:
        yield c


@pytest.fixture
def captcha_api(captcha_client: TestClient, workspace: CreatedWorkspace) -> Api:
    return Api(captcha_client, workspace.api_key)


def captcha_form(api: Api, provider: str = "turnstile") -> dict[str, Any]:
    return make_form(api, captcha={"provider": provider, "site_key": SITE_KEY, "secret": SECRET})


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_captcha_widget_and_accepted_token(
    captcha_client: TestClient,
    captcha_api: Api,
    engine: Engine,
    clock: FixedClock,
    siteverify: SiteverifyFake,
    provider: str,
) -> None:
    form = captcha_form(captcha_api, provider)
    p = PROVIDERS[provider]
    page = captcha_client.get(form["url"]).text
    assert f"<div class='{p.widget_class}' data-sitekey='{SITE_KEY}'></div>" in page
    assert f"<script src='{p.script}' async defer></script>" in page
    assert SECRET not in page

    home = from_ip(captcha_client, HOME_IP)
    token = siteverify.token()
    r = submit(home, clock, form, **lead(1), **{p.response_field: token})
    assert r.status_code == 200 and "Thank you" in r.text, r.text
    [call] = siteverify.requests
    assert call.method == "POST" and call.path == "/siteverify"
    assert call.form() == {"secret": SECRET, "response": token, "remoteip": HOME_IP}
    assert [c["email"] for c in contacts(engine)] == ["lead1@example.com"]
    assert len(form_events(engine)) == 1


def test_captcha_refusals_store_nothing(
    captcha_client: TestClient,
    captcha_api: Api,
    engine: Engine,
    clock: FixedClock,
    siteverify: SiteverifyFake,
) -> None:
    form = captcha_form(captcha_api, "hcaptcha")
    field = PROVIDERS["hcaptcha"].response_field

    missing = submit(captcha_client, clock, form, **lead(1))
    assert missing.status_code == 422 and "Please complete the verification" in missing.text
    assert siteverify.requests == []  # no token: the provider is not asked

    forged = submit(captcha_client, clock, form, **lead(2), **{field: "forged-token"})
    assert forged.status_code == 422 and "did not succeed" in forged.text
    assert "value='lead2@example.com'" in forged.text and "class='h-captcha'" in forged.text

    token = siteverify.token()
    assert submit(captcha_client, clock, form, **lead(3), **{field: token}).status_code == 200
    replayed = submit(captcha_client, clock, form, **lead(4), **{field: token})
    assert replayed.status_code == 422
    assert [c["email"] for c in contacts(engine)] == ["lead3@example.com"]
    assert len(form_events(engine)) == 1 and len(rate_hits(engine)) == 1

    siteverify.stop()  # the provider is down: fail closed
    down = submit(captcha_client, clock, form, **lead(5), **{field: siteverify.token()})
    assert down.status_code == 503 and "cannot be reached" in down.text
    assert "value='lead5@example.com'" in down.text
    assert [c["email"] for c in contacts(engine)] == ["lead3@example.com"]
    assert len(form_events(engine)) == 1 and len(rate_hits(engine)) == 1


def test_captcha_provider_answering_garbage_fails_closed(
    captcha_client: TestClient,
    captcha_api: Api,
    engine: Engine,
    clock: FixedClock,
    siteverify: SiteverifyFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = captcha_form(captcha_api)
    field = PROVIDERS["turnstile"].response_field
    for reply in (
        (500, {"connection": "close"}, b"oops"),
        (200, {"connection": "close"}, b"<html>not json</html>"),
        json_reply(200, {"ok": True}, {"connection": "close"}),
    ):
        monkeypatch.setattr(siteverify, "handle", lambda request, reply=reply: reply)
        r = submit(captcha_client, clock, form, **lead(1), **{field: siteverify.token()})
        assert r.status_code == 503, (reply, r.text)
    assert contacts(engine) == [] and form_events(engine) == []


def test_captcha_secret_is_never_returned(
    captcha_client: TestClient, captcha_api: Api, engine: Engine, siteverify: SiteverifyFake
) -> None:
    created = captcha_api.post(
        "/forms",
        {
            "key": "demo",
            "name": "Book a demo",
            "fields": [{"name": "email", "type": "email"}],
            "captcha": {"provider": "turnstile", "site_key": SITE_KEY, "secret": SECRET},
        },
        headers={"Idempotency-Key": "create-demo"},
    )
    assert created.status_code == 201, created.text
    form = created.json()
    assert form["captcha"] == {"provider": "turnstile", "site_key": SITE_KEY}
    assert form["captcha_secret_set"] is True
    with engine.connect() as conn:
        stored = conn.execute(select(form_table.c.captcha_secret)).scalar_one()
    assert SECRET not in stored and Keyring("test-secret").decrypt(stored) == {"secret": SECRET}

    answers = [
        created,
        captcha_api.get(f"/forms/{form['id']}"),
        captcha_api.get("/forms"),
        captcha_api.patch(f"/forms/{form['id']}", {"name": "Renamed"}),
        # the same provider without a secret keeps the stored one
        captcha_api.patch(
            f"/forms/{form['id']}", {"captcha": {"provider": "turnstile", "site_key": "other"}}
        ),
        captcha_api.post(  # an idempotent replay
            "/forms",
            {
                "key": "demo",
                "name": "Book a demo",
                "fields": [{"name": "email", "type": "email"}],
                "captcha": {"provider": "turnstile", "site_key": SITE_KEY, "secret": SECRET},
            },
            headers={"Idempotency-Key": "create-demo"},
        ),
    ]
    for r in answers:
        assert r.status_code in (200, 201), r.text
        assert SECRET not in r.text and stored not in r.text and 'captcha_secret"' not in r.text
        data = r.json()
        for item in data.get("data", [data]):
            assert item["captcha_secret_set"] is True
    assert answers[4].json()["captcha"]["site_key"] == "other"
    with engine.connect() as conn:
        kept = conn.execute(select(form_table.c.captcha_secret)).scalar_one()
    assert Keyring("test-secret").decrypt(kept) == {"secret": SECRET}

    removed = captcha_api.patch(f"/forms/{form['id']}", {"captcha": None})
    assert removed.json()["captcha"] is None and removed.json()["captcha_secret_set"] is False
    page = captcha_client.get(form["url"]).text
    assert "cf-turnstile" not in page and "challenges.cloudflare.com" not in page


def test_landing_page_embeds_the_captcha(captcha_client: TestClient, captcha_api: Api) -> None:
    form = captcha_form(captcha_api, "recaptcha")
    tid = email_template(captcha_api, "lp", body="<html><body>{{ form }}</body></html>")
    r = captcha_api.post(
        "/landing-pages", {"slug": "demo", "title": "Demo", "template_id": tid, "form_id": form["id"]}
    )
    assert r.status_code == 201, r.text
    page = captcha_client.get(r.json()["url"]).text
    assert f"<div class='g-recaptcha' data-sitekey='{SITE_KEY}'></div>" in page
    assert "https://www.google.com/recaptcha/api.js" in page and SECRET not in page


@pytest.mark.parametrize(
    "config",
    [
        {"provider": "recaptcha-v3", "site_key": SITE_KEY, "secret": SECRET},
        {"provider": "turnstile", "site_key": "", "secret": SECRET},
        {"provider": "turnstile", "site_key": "bad key'><script>", "secret": SECRET},
        {"provider": "turnstile", "site_key": SITE_KEY},
        {"provider": "turnstile", "site_key": SITE_KEY, "secret": "   "},
    ],
)
def test_bad_captcha_config_is_422(api: Api, config: dict[str, Any]) -> None:
    r = api.post(
        "/forms", {"key": "x", "name": "x", "fields": [{"name": "email", "type": "email"}], "captcha": config}
    )
    assert r.status_code == 422, r.text
    assert r.json() == {"code": "invalid_captcha", "message": r.json()["message"]}
    assert api.get("/forms").json()["data"] == []


def test_switching_captcha_provider_needs_its_secret(api: Api) -> None:
    form = make_form(api, captcha={"provider": "turnstile", "site_key": SITE_KEY, "secret": SECRET})
    r = api.patch(f"/forms/{form['id']}", {"captcha": {"provider": "hcaptcha", "site_key": SITE_KEY}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_captcha"
    plain = make_form(api, key="plain")
    r = api.patch(f"/forms/{plain['id']}", {"captcha": {"provider": "hcaptcha", "site_key": SITE_KEY}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_captcha"
    r = api.patch(
        f"/forms/{form['id']}", {"captcha": {"provider": "hcaptcha", "site_key": SITE_KEY, "secret": "new"}}
    )
    assert r.status_code == 200 and r.json()["captcha"]["provider"] == "hcaptcha"
