"""HTML of hosted forms and landing pages. Every value written by a marketer or a visitor is
escaped; the only scripts are the fixed inline one copying the Segment anonymous id cookie and,
on a form with a CAPTCHA, its provider's widget script (a fixed URL)."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from markupsafe import Markup

from kairos.forms import captcha
from kairos.forms.service import HONEYPOT, MAX_URL, PAGE_URL, REFERRER, TIMESTAMP
from kairos.messaging.templates import compile_template

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin:.75rem 0 .25rem}input,select{font-size:1rem;padding:.4rem;width:100%;"
    "box-sizing:border-box}input[type=checkbox]{width:auto}button{font-size:1rem;padding:.5rem 1rem;"
    "margin-top:1rem}.kairos-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
    ".kairos-error{color:#b00020}"
)

#: the form's own look, scoped to it: a landing page's template has none of the page's
#: style, and its honeypot must stay out of sight there too
_FORM_STYLE = (
    "<style>.kairos-form label{display:block;margin:.75rem 0 .25rem}"
    ".kairos-form input,.kairos-form select{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}"
    ".kairos-form input[type=checkbox]{width:auto}.kairos-form button{font-size:1rem;padding:.5rem 1rem;"
    "margin-top:1rem}.kairos-form .kairos-hp{position:absolute;left:-10000px;width:1px;height:1px;"
    "overflow:hidden}.kairos-form .kairos-error{color:#b00020}</style>"
)

#: fills the hidden anonymous_id input from analytics.js' cookie when the page can read it
_ANON_SCRIPT = (
    "<script>(function(){var m=document.cookie.match(/(?:^|; )ajs_anonymous_id=([^;]*)/);"
    "if(!m)return;var v=decodeURIComponent(m[1]).replace(/^\"|\"$/g,'');"
    "var i=document.querySelectorAll('input[name=anonymous_id]');"
    "for(var k=0;k<i.length;k++){if(!i[k].value)i[k].value=v;}})();</script>"
)
#: its CSP hash: the pages' Content-Security-Policy allows this script and no other inline one
_ANON_DIGEST = hashlib.sha256(_ANON_SCRIPT.removeprefix("<script>").removesuffix("</script>").encode())
ANON_SCRIPT_HASH = "sha256-" + base64.b64encode(_ANON_DIGEST.digest()).decode()


def page(title: str, body: str, status: int = 200) -> tuple[str, int]:
    """A complete small HTML document (``body`` is already HTML)."""
    t = html.escape(title)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{t}</title><style>{_STYLE}</style></head><body><h1>{t}</h1>{body}</body></html>",
        status,
    )


def _input(f: dict[str, Any], fid: str, value: str) -> str:
    name = html.escape(f["name"])
    if f["type"] == "hidden":  # UTM and the like: the link's query parameter, else the default
        return f"<input type='hidden' name='{name}' value='{html.escape(value or f.get('value') or '')}'>"
    req = " required" if f["required"] else ""
    label = html.escape(f["label"])
    if f["type"] == "checkbox":
        checked = " checked" if value else ""
        return f"<label><input type='checkbox' name='{name}' value='yes'{checked}{req}> {label}</label>"
    head = f"<label for='{fid}'>{label}{' *' if f['required'] else ''}</label>"
    if f["type"] == "select":
        options = "".join(
            f"<option value='{html.escape(o)}'{' selected' if o == value else ''}>{html.escape(o)}</option>"
            for o in f["options"]
        )
        return f"{head}<select id='{fid}' name='{name}'{req}><option value=''></option>{options}</select>"
    auto = {"email": "email", "phone": "tel", "first_name": "given-name", "last_name": "family-name"}
    ac = f" autocomplete='{auto[f['name']]}'" if f["name"] in auto else ""
    extra = " step='any' inputmode='decimal'" if f["type"] == "number" else " maxlength='1000'"
    if f["type"] == "date":
        extra = ""
    return (
        f"{head}<input id='{fid}' type='{f['type']}' name='{name}' value='{html.escape(value)}'"
        f"{extra}{ac}{req}>"
    )


def form_html(
    form: dict[str, Any],
    *,
    action: str,
    token: str,
    anonymous_id: str | None = None,
    return_url: str | None = None,
    values: dict[str, list[str]] | None = None,
    error: str | None = None,
    script: bool = True,
    page_url: str | None = None,
    referrer: str | None = None,
) -> str:
    """The ``<form>`` element with its fields, consent checkboxes, the CAPTCHA widget (if the
    form has one), the signed render timestamp, the honeypot and the anonymous id (prefilled,
    else from the cookie). ``script=False``: without the cookie-reading script (previews,
    shown where no script runs). ``page_url`` and ``referrer``: the page the form was shown
    on and the page that led there, sent back with the submission for its acquisition source
    (``PAGE_URL``, ``REFERRER``)."""
    values = values or {}
    parts = [_FORM_STYLE, f"<form class='kairos-form' method='post' action='{html.escape(action)}'>"]
    if error:
        parts.append(f"<p class='kairos-error' role='alert'>{html.escape(error)}</p>")
    for i, f in enumerate(form["fields"]):
        value = (values.get(f["name"]) or [""])[0]
        control = _input(f, "kf-" + str(form["id"]) + "-" + str(i), value)
        parts.append(control if f["type"] == "hidden" else f"<div>{control}</div>")
    ticked = set(values.get("consent", []))
    for c in form["consent"]:
        checked = " checked" if str(c["topic_id"]) in ticked else ""
        req = " required" if c["required"] else ""
        parts.append(
            f"<div><label><input type='checkbox' name='consent' value='{c['topic_id']}'{checked}{req}> "
            f"{html.escape(c['label'])}</label></div>"
        )
    config = form.get("captcha")
    if config:
        provider = captcha.PROVIDERS[config["provider"]]
        parts.append(
            f"<div class='{provider.widget_class}' data-sitekey='{html.escape(config['site_key'])}'></div>"
            f"<script src='{provider.script}' async defer></script>"
        )
    parts.append(
        f"<input type='hidden' name='{TIMESTAMP}' value='{html.escape(token)}'>"
        f"<input type='hidden' name='anonymous_id' value='{html.escape(anonymous_id or '')}'>"
    )
    if return_url:
        parts.append(f"<input type='hidden' name='return_url' value='{html.escape(return_url)}'>")
    for name, given in ((PAGE_URL, page_url), (REFERRER, referrer)):
        if given:
            parts.append(f"<input type='hidden' name='{name}' value='{html.escape(given[:MAX_URL])}'>")
    parts.append(
        f"<div class='kairos-hp' aria-hidden='true'><label>Leave this empty"
        f"<input type='text' name='{HONEYPOT}' tabindex='-1' autocomplete='off' value=''></label></div>"
        "<button type='submit'>Submit</button></form>" + (_ANON_SCRIPT if script else "")
    )
    return "".join(parts)


def thank_you(form: dict[str, Any]) -> tuple[str, int]:
    return page("Thank you", f"<p>{html.escape(form['success_message'] or 'Thank you!')}</p>")


def landing_page_html(
    page_row: dict[str, Any], template_fields: dict[str, Any], form: str | None, url: str
) -> str:
    """The template's body rendered with ``{page, form}``; ``form`` is inserted as HTML. No
    link rewriting and no open pixel: a page view is recorded by the request itself."""
    compiled = compile_template("email", template_fields)
    context = {
        "page": {"title": page_row["title"], "slug": page_row["slug"], "url": url},
        "form": Markup(form or ""),  # our own HTML, every value in it escaped
    }
    html_doc: str = compiled.render(context).content["html"]
    return html_doc
