"""Security headers of every public HTML page (unsubscribe, preference centre, confirmation,
hosted forms, landing pages): the one place that sets them (docs/security.md).

- ``Content-Security-Policy``: nothing loads or runs unless listed. Pages may use inline
  styles and images from anywhere over https; forms add the hash of their one inline script
  and their CAPTCHA provider's script and frame origins, and may post to (and be redirected
  to) their return URLs' origins; landing pages also take stylesheets and fonts over https
  (MJML's web fonts). ``frame-ancestors 'none'`` unless ``KAIROS_FORM_FRAME_ANCESTORS``
  lets sites embed forms and landing pages; the unsubscribe and preference pages are never
  framed (clickjacking).
- ``X-Frame-Options: DENY`` whenever framing is refused (browsers without CSP level 2).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (page URLs carry
  signed tokens and anonymous ids), ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

#: what each CAPTCHA widget loads, from the providers' CSP guides
CAPTCHA_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "turnstile": {
        "script-src": ("https://challenges.cloudflare.com",),
        "frame-src": ("https://challenges.cloudflare.com",),
    },
    "hcaptcha": {
        "script-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
        "frame-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
        "style-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
        "connect-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
    },
    "recaptcha": {
        "script-src": ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"),
        "frame-src": ("https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"),
    },
}


def page_headers(
    *,
    sources: Mapping[str, Iterable[str]] | None = None,
    frame_ancestors: Iterable[str] = (),
) -> dict[str, str]:
    """The headers of a public HTML page; ``sources`` adds CSP sources per directive,
    ``frame_ancestors`` the origins that may frame it (none: it cannot be framed)."""
    policy: dict[str, list[str]] = {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
    }
    for directive, values in (sources or {}).items():
        current = policy.setdefault(directive, [])
        current.extend(v for v in values if v not in current)
    ancestors = list(dict.fromkeys(frame_ancestors))
    policy["frame-ancestors"] = ancestors or ["'none'"]
    headers = {
        "Content-Security-Policy": "; ".join(f"{d} {' '.join(v)}" for d, v in policy.items()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if not ancestors:
        headers["X-Frame-Options"] = "DENY"
    return headers


def form_sources(form: dict[str, Any] | None, script_hash: str) -> dict[str, list[str]]:
    """CSP sources a hosted form needs: its inline script, its CAPTCHA, and the origins of
    its return URLs (a redirect after a form post is checked against ``form-action``)."""
    sources: dict[str, list[str]] = {"script-src": [f"'{script_hash}'"]}
    if form is None:
        return sources
    captcha = form.get("captcha")
    if captcha:
        for directive, values in CAPTCHA_SOURCES.get(captcha["provider"], {}).items():
            sources.setdefault(directive, []).extend(values)
    origins = []
    for url in form.get("return_urls") or []:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.netloc:
            origins.append(f"https://{parts.netloc.lower()}")
    if origins:
        sources["form-action"] = sorted(set(origins))
    return sources


#: landing pages are marketer-authored HTML: stylesheets and web fonts over https too
LANDING_PAGE_SOURCES: dict[str, tuple[str, ...]] = {"style-src": ("https:",), "font-src": ("https:", "data:")}
