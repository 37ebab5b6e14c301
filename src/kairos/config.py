"""Settings, read from ``KAIROS_*`` environment variables (and an optional ``.env`` file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAIROS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./kairos.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user:pw@host/db",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs public links and encrypts provider secrets. If unset, a random key is "
        "generated once and kept in .kairos_secret (mode 0600) in the working directory.",
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of this server")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field(
        "text",
        description="json: one JSON object per log line (time, level, logger, message, exc_info) "
        "for serve and worker",
    )
    metrics_key: SecretStr | None = Field(
        None,
        description="Bearer token that GET /metrics requires (Prometheus format); unset: /metrics "
        "is 404 on the main port",
    )
    metrics_port: int | None = Field(
        None,
        description="Admin port on which kairos worker (and a single-process kairos serve) also "
        "serves /metrics without a key, bound to metrics_host",
    )
    metrics_host: str = Field("127.0.0.1", description="Interface of the metrics admin port")
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = Field(
        "NORMAL",
        description="NORMAL survives process crashes (WAL); FULL also survives power loss.",
    )
    db_pool_size: int = 10
    ingest_max_batch: int = Field(
        5000, description="Most messages the ingest writer appends to the ingest log in one transaction"
    )
    ingest_processor: bool = Field(
        True,
        description="Run the ingest-log processor inside each serve process (false: a separate "
        "`kairos ingest process` does it, on a core of its own)",
    )
    event_retention_days: int = Field(
        0,
        ge=0,
        description="Delete events whose timestamp is older than this many days (0: keep them "
        "all). On PostgreSQL whole months are dropped; aggregates (daily counts, scores, "
        "computed traits) are kept",
    )
    ingest_poll_interval: float = Field(
        1.0,
        description="Seconds between a server's looks for ingest-log rows other processes left "
        "(its own appends are processed at once)",
    )
    ingest_process_batch: int = Field(
        2000,
        description="Most messages the ingest processor makes events of in one transaction (larger: "
        "more throughput; smaller: on SQLite, appends wait less for the write lock)",
    )
    worker_interval: float = Field(0.5, description="Seconds between worker passes when idle")
    api_page_max: int = 1000
    max_request_bytes: int = Field(
        2 * 1024 * 1024,
        ge=1024,
        description="Largest management API request body (413 request_too_large above it); imports "
        "and public endpoints have their own limits (docs/security.md)",
    )
    allow_private_targets: bool = Field(
        False,
        description="Let outbound connections to user-configured targets — webhook URLs, SMTP "
        "hosts, provider base URLs and token URIs (Twilio, FCM, WeChat) — reach loopback, private, "
        "link-local and metadata addresses. Off: SSRF protection. For on-premises relays and "
        "providers, and tests with local fakes.",
    )
    webhook_allow_private: bool = Field(
        False, description="Former name of allow_private_targets, still honoured (either turns it on)"
    )
    unsubscribe_mailbox: str | None = Field(
        None,
        description="Address for the mailto: of List-Unsubscribe (RFC 8058 keeps the https one-click "
        "link as the one that acts); unset: only the https link is offered",
    )
    dispatch_batch: int = Field(500, description="Messages the dispatcher claims per pass")
    cors_origins: str = Field(
        "*", description="Origins allowed to call the ingest API from browsers (comma-separated)"
    )
    captcha_verify_url: str | None = Field(
        None,
        description="Send every form CAPTCHA verification (Turnstile, hCaptcha, reCAPTCHA "
        "siteverify) to this URL instead of the provider's: tests, or an egress gateway",
    )
    form_frame_ancestors: str = Field(
        "",
        description="Origins allowed to embed hosted forms and landing pages in an iframe "
        "(space-separated, e.g. 'https://www.acme.example'); empty: no site may frame them. "
        "Unsubscribe and preference pages are never framed",
        pattern=r"^\s*((https?://[A-Za-z0-9.*:\[\]-]+|'self')(\s+|$))*$",
    )
    simulation_timeout: float = Field(
        2.0,
        description="Seconds a journey simulation may run (its rolled-back transaction holds "
        "SQLite's write lock); longer is a 422 simulation_too_long",
    )

    @model_validator(mode="after")
    def _private_targets_alias(self) -> Self:
        # KAIROS_WEBHOOK_ALLOW_PRIVATE is the switch's old name: either turns it on, and both
        # attributes then read the same
        self.allow_private_targets = self.webhook_allow_private = (
            self.allow_private_targets or self.webhook_allow_private
        )
        return self

    def base_url_problem(self) -> str | None:
        """Why ``base_url`` is unfit for links in messages, or None. Plain http breaks RFC 8058
        one-click unsubscribe (mail providers only POST to https) and exposes the signed links
        on the wire; loopback http (a development machine) is accepted."""
        parts = urlsplit(self.base_url)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
            return None
        return (
            f"KAIROS_BASE_URL={self.base_url!r} is not an https URL: one-click unsubscribe "
            "(RFC 8058) needs https, and unsubscribe, preference and tracking links would travel "
            "in clear. Set KAIROS_BASE_URL to the server's public https URL"
        )

    def resolved_secret_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = Path(".kairos_secret")
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
