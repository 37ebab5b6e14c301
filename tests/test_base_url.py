"""A server whose public URL is not https says so at startup: RFC 8058 one-click unsubscribe
needs https, and the signed links would travel in clear."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kairos.api.app import create_app
from kairos.clock import FixedClock
from kairos.config import Settings


@pytest.mark.parametrize(
    ("url", "fit"),
    [
        ("https://kairos.acme.example", True),
        ("https://kairos.acme.example:8443/prefix", True),
        ("http://127.0.0.1:8000", True),  # development: exempt
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://kairos.acme.example", False),
        ("http://10.0.0.5:8000", False),
        ("kairos.acme.example", False),
        ("https://", False),
    ],
)
def test_base_url_must_be_https_except_on_loopback(url: str, fit: bool) -> None:
    problem = Settings(base_url=url, _env_file=None).base_url_problem()  # type: ignore[call-arg]
    assert (problem is None) == fit
    if not fit:
        assert problem is not None and "KAIROS_BASE_URL" in problem and "RFC 8058" in problem


def test_the_server_warns_at_startup(
    settings: Settings, engine: Engine, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="kairos.api.app"),
        TestClient(
            create_app(settings.model_copy(update={"base_url": "http://kairos.acme.example"}), clock=clock)
        ),
    ):
        pass
    assert [r.levelno for r in caplog.records if "KAIROS_BASE_URL" in r.getMessage()] == [logging.WARNING]
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="kairos.api.app"),
        TestClient(
            create_app(settings.model_copy(update={"base_url": "https://kairos.acme.example"}), clock=clock)
        ),
    ):
        pass
    assert not [r for r in caplog.records if "KAIROS_BASE_URL" in r.getMessage()]
