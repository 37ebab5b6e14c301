"""The built console is served at ``/`` with a strict Content-Security-Policy; API and public
routes are never shadowed by it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kairos.api.console import ConsoleApp


@pytest.fixture
def built(client: TestClient, tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="root"></div><script src="/assets/app-1.js">'
    )
    (tmp_path / "assets" / "app-1.js").write_text("console.log('hi')")
    client.app.console = ConsoleApp(tmp_path)  # type: ignore[attr-defined]
    return tmp_path


def test_the_console_is_served_with_its_routes_falling_back_to_the_app(
    client: TestClient, built: Path
) -> None:
    for path in ("/", "/contacts", "/contacts/42", "/setup?token=x"):
        r = client.get(path)
        assert r.status_code == 200 and 'id="root"' in r.text, path
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    asset = client.get("/assets/app-1.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/assets/../../etc/passwd").status_code in (200, 404)  # never outside the build
    assert "root:" not in client.get("/assets/../../etc/passwd").text


def test_api_and_public_routes_are_not_the_consoles(client: TestClient, built: Path) -> None:
    assert client.get("/api/v1/segments").json()["code"] == "unauthorized"
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/t/o/forged").headers["content-type"] == "image/gif"
    assert client.get("/openapi.json").json()["info"]["title"] == "Kairos"


def test_an_unbuilt_console_says_how_to_build_it(client: TestClient, tmp_path: Path) -> None:
    client.app.console = ConsoleApp(tmp_path / "nothing")  # type: ignore[attr-defined]
    r = client.get("/")
    assert r.status_code == 404 and "make console" in r.text
