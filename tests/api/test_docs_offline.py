"""The API reference pages work without the internet: their scripts and styles are served
by Kairos itself, not loaded from a CDN (a new user offline saw a blank /docs)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_reference_pages_load_their_assets_from_this_server(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
    assert assets, html.text[:500]
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 10_000, url
