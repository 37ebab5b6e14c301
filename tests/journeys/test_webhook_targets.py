"""Journey webhook and notify_sales CRM URLs pass the SSRF guard when the journey is saved,
not only when a message is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api


def _definition(node: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": {"type": "api"}, "start": "a", "nodes": {"a": node}}


NODES = {
    "webhook": lambda url: {"type": "webhook", "url": url, "payload": {"id": "{{ contact.id }}"}},
    "notify_sales": lambda url: {
        "type": "notify_sales",
        "owners": ["sales@acme.example"],
        "webhook_url": url,
    },
}


@pytest.mark.parametrize("kind", sorted(NODES))
@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::ffff:10.0.0.5]/", "file:///etc/passwd"])  # fmt: skip
def test_an_internal_url_is_refused_when_the_journey_is_saved(strict_api: Api, kind: str, url: str) -> None:
    r = strict_api.post("/journeys", {"name": "crm", "definition": _definition(NODES[kind](url))})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "url_not_allowed" and r.json()["message"].startswith("nodes.a.")
    assert strict_api.get("/journeys").json()["data"] == []

    ok = strict_api.post("/journeys", {"name": "crm", "definition": _definition({"type": "exit"})}).json()
    r = strict_api.patch(f"/journeys/{ok['id']}", {"definition": _definition(NODES[kind](url))})
    assert (r.status_code, r.json()["code"]) == (422, "url_not_allowed")


def test_a_public_url_is_accepted(strict_api: Api) -> None:
    r = strict_api.post(
        "/journeys",
        {"name": "crm", "definition": _definition(NODES["webhook"]("https://93.184.215.14/hook"))},
    )
    assert r.status_code == 201, r.text
