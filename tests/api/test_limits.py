"""Request bodies over a route's limit are refused with ``413 request_too_large`` before
they are read into memory, on the management API and on public endpoints alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kairos.api.limits import PUBLIC_LIMIT, limit_for
from tests.conftest import Api


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"x" * n


def test_limits_by_route() -> None:
    assert limit_for("/api/v1/contacts", 2_000_000) == 2_000_000
    assert limit_for("/api/v1/segments/7/members/import", 2_000_000) == 50 * 1024 * 1024
    assert limit_for("/api/v1/offers/3/codes/import", 2_000_000) == 8 * 1024 * 1024
    assert limit_for("/f/1/signup", 2_000_000) == PUBLIC_LIMIT
    assert limit_for("/hooks/reports/tok", 2_000_000) == PUBLIC_LIMIT


def test_a_declared_oversized_management_body_is_refused_unread(api: Api) -> None:
    body = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    r = api.http.post(
        "/api/v1/segments",
        content=body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "request_too_large"
    assert api.get("/segments").json()["data"] == []


def test_a_chunked_oversized_body_is_cut_off(api: Api) -> None:
    """No Content-Length (chunked): refused as soon as the bytes received pass the limit."""
    r = api.http.post(
        "/api/v1/templates",
        content=_chunks(3 * 1024 * 1024),
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


@pytest.mark.parametrize("path", ["/f/1/signup", "/hooks/reports/whatever", "/inbox/v1/messages/1/read"])
def test_public_endpoints_take_small_bodies_only(client: TestClient, path: str) -> None:
    big = b"a=" + b"x" * (PUBLIC_LIMIT + 1)
    r = client.post(path, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


def test_a_chunked_form_post_is_cut_off(client: TestClient) -> None:
    """A public form reads its body before it knows the form: unbounded, this is where a
    150 MB POST was buffered whole."""
    r = client.post(
        "/f/1/signup",
        content=_chunks(PUBLIC_LIMIT + 10),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


def test_a_body_within_the_limit_goes_through(api: Api) -> None:
    r = api.post("/segments", {"name": "x" * 100, "definition": {"root": {"type": "tag", "tag": "vip"}}})
    assert r.status_code == 201, r.text
