"""CAPTCHA providers of hosted forms: Cloudflare Turnstile, hCaptcha and Google reCAPTCHA (v2
checkbox or invisible) (docs/forms.md).

All three work alike: the page loads the provider's script and a ``<div>`` with the site key;
the widget adds a token to the form under a provider-specific field name; the server posts
``secret``, ``response`` (the token) and ``remoteip`` to the provider's siteverify endpoint
and gets JSON with ``success``. A provider that cannot be reached, or answers anything but
JSON, fails closed: the submission is refused as ``captcha_unavailable``, never let through.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from kairos.errors import InvalidInput, Unavailable

log = logging.getLogger(__name__)

#: seconds for the whole siteverify exchange; the visitor is waiting
TIMEOUT = 5.0


@dataclass(frozen=True)
class Provider:
    name: str
    script: str  # the widget's script
    widget_class: str  # the <div> the script turns into a widget
    response_field: str  # the form field the widget fills with its token
    verify_url: str  # siteverify: form POST secret, response, remoteip → JSON {success}


PROVIDERS = {
    p.name: p
    for p in (
        Provider(
            "turnstile",
            "https://challenges.cloudflare.com/turnstile/v0/api.js",
            "cf-turnstile",
            "cf-turnstile-response",
            "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        ),
        Provider(
            "hcaptcha",
            "https://js.hcaptcha.com/1/api.js",
            "h-captcha",
            "h-captcha-response",
            "https://api.hcaptcha.com/siteverify",
        ),
        Provider(
            "recaptcha",
            "https://www.google.com/recaptcha/api.js",
            "g-recaptcha",
            "g-recaptcha-response",
            "https://www.google.com/recaptcha/api/siteverify",
        ),
    )
}

_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """One pooled client per process (connections to the providers are reused). Redirects
    are not followed: siteverify does not redirect, and the secret must go nowhere else."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers={"user-agent": "kairos"})
        return _client


def _remote_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(ip or ""))
    except ValueError:
        return None


def verify(
    provider_name: str,
    secret: str,
    values: dict[str, list[str]],
    ip: str | None,
    *,
    verify_url: str | None = None,
) -> None:
    """Check the widget's token in a submission with the provider. Raises ``InvalidInput``
    (``captcha_required``, ``captcha_failed``) or ``Unavailable`` (``captcha_unavailable``)."""
    provider = PROVIDERS[provider_name]
    token = (values.get(provider.response_field) or [""])[0].strip()
    if not token:
        raise InvalidInput(
            "Please complete the verification (CAPTCHA) before submitting.", code="captcha_required"
        )
    data = {"secret": secret, "response": token}
    remote_ip = _remote_ip(ip)
    if remote_ip is not None:
        data["remoteip"] = remote_ip
    url = verify_url or provider.verify_url
    try:
        response = _http().post(url, data=data)
        answer: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("captcha %s: siteverify failed: %s", provider_name, type(exc).__name__)
        answer = None
    else:
        if answer is None:
            log.warning("captcha %s: siteverify answered HTTP %s", provider_name, response.status_code)
    if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
        raise Unavailable(
            "The verification service (CAPTCHA) cannot be reached right now; please try again in a "
            "few minutes.",
            code="captcha_unavailable",
        )
    if not answer["success"]:
        codes = answer.get("error-codes")
        log.warning("captcha %s: token rejected (%s)", provider_name, codes)
        raise InvalidInput(
            "The verification (CAPTCHA) did not succeed; please try again.", code="captcha_failed"
        )
