"""Local stand-ins for Twilio, FCM (and Google's OAuth token endpoint), WeChat and a webhook
receiver: real HTTP servers on 127.0.0.1, recording every request.

Adapters reach them only through their ``base_url`` / ``token_uri`` settings, so the code
under test is the production code. Each fake checks credentials the way the real service
does, answers in the real service's format, and has knobs for the failures tests need.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import orjson

from kairos.messaging.channels.webhook import verify_signature

Reply = tuple[int, dict[str, str], bytes]


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"content-type": "application/json", **(headers or {})}, orjson.dumps(body)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    notes: dict[str, Any] = field(default_factory=dict)  # what the fake concluded

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return orjson.loads(self.body)


class FakeServer:
    """A ``ThreadingHTTPServer`` on a free port, answering with ``handle``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self._counter = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real providers: the client pools

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = Request(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake.lock:
                    fake.requests.append(request)
                status, headers, payload = fake.handle(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.stopped = False
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_id(self) -> int:
        return next(self._counter)

    def stop(self) -> None:
        """Stop listening: from now on connections are refused."""
        if self.stopped:
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError


class TwilioFake(FakeServer):
    """Programmable Messaging: ``POST /2010-04-01/Accounts/{sid}/Messages.json``."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        # Twilio's test numbers: +15005550001 is invalid, +15005550009 cannot receive SMS
        self.replies: dict[str, Reply] = {
            "+15005550001": self.error(
                400, 21211, "The 'To' number +15005550001 is not a valid phone number."
            ),
            "+15005550009": self.error(400, 21614, "'To' number is not a valid mobile number"),
        }

    @staticmethod
    def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        return json_reply(status, {**body, "status": status}, headers)

    def handle(self, request: Request) -> Reply:
        if (
            request.method != "POST"
            or request.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        ):
            return self.error(404, 20404, "The requested resource was not found")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return self.error(401, 20003, "Authenticate")
        form = request.form()
        if (
            not form.get("To")
            or not form.get("Body")
            or not (form.get("From") or form.get("MessagingServiceSid"))
        ):
            return self.error(400, 21604, "A 'To', 'Body' and 'From' or 'MessagingServiceSid' are required")
        if form["To"] in self.replies:
            return self.replies[form["To"]]
        sid = f"SM{self.next_id():032x}"
        return json_reply(201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"]})


class FcmFake(FakeServer):
    """FCM HTTP v1 ``messages:send`` plus Google's OAuth token endpoint at ``/token``."""

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

    def __init__(self, project_id: str, client_email: str, public_key: Any) -> None:
        super().__init__()
        self.project_id, self.client_email, self.public_key = project_id, client_email, public_key
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.refuse_every_token = False
        self.expires_in = 3600
        self.replies: dict[str, Reply] = {}  # by registration token

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @staticmethod
    def error(
        status: int, state: str, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        details = (
            [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]
            if code
            else []
        )
        return json_reply(
            status,
            {"error": {"code": status, "message": message, "status": state, "details": details}},
            headers,
        )

    def handle(self, request: Request) -> Reply:
        if request.path == "/token":
            return self._token(request)
        if request.path != f"/v1/projects/{self.project_id}/messages:send":
            return self.error(404, "NOT_FOUND", "Requested entity was not found.")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.refuse_every_token or bearer not in self.valid_tokens:
            return self.error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        message = request.json()["message"]
        token = message["token"]
        if token in self.replies:
            return self.replies[token]
        if token.startswith("unregistered"):
            return self.error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        return json_reply(200, {"name": f"projects/{self.project_id}/messages/{self.next_id()}"})

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return json_reply(400, {"error": "unsupported_grant_type"})
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                issuer=self.client_email,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as exc:
            return json_reply(400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"})
        if claims["scope"] != self.SCOPE or claims["exp"] - claims["iat"] > 3600:
            return json_reply(400, {"error": "invalid_scope", "error_description": "bad scope or lifetime"})
        request.notes["claims"] = claims
        request.notes["kid"] = jwt.get_unverified_header(form["assertion"]).get("kid")
        with self.lock:
            self.tokens_issued += 1
            token = f"ya29.fake-{self.tokens_issued}"
            self.valid_tokens.add(token)
        return json_reply(200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"})

    def revoke_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def sends(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith(":send")]


class WechatFake(FakeServer):
    """Official Account API: ``GET /cgi-bin/token`` and ``POST /cgi-bin/message/template/send``."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        super().__init__()
        self.app_id, self.app_secret = app_id, app_secret
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.refuse_every_token = False
        self.replies: dict[str, dict[str, Any]] = {  # by openid
            "o-unfollowed": {"errcode": 43004, "errmsg": "require subscribe"},
            "o-invalid": {"errcode": 40003, "errmsg": "invalid openid"},
            "o-busy": {"errcode": -1, "errmsg": "system error"},
            "o-quota": {"errcode": 45009, "errmsg": "reach max api daily quota limit"},
            "o-badtemplate": {"errcode": 40037, "errmsg": "invalid template_id"},
        }

    def handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/cgi-bin/token":
            q = request.query
            if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id:
                return json_reply(200, {"errcode": 40013, "errmsg": "invalid appid"})
            if q.get("secret") != self.app_secret:
                return json_reply(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            with self.lock:
                self.tokens_issued += 1
                token = f"wx-token-{self.tokens_issued}"
                self.valid_tokens.add(token)
            return json_reply(200, {"access_token": token, "expires_in": 7200})
        if request.method == "POST" and request.path == "/cgi-bin/message/template/send":
            token = request.query.get("access_token", "")
            if token in self.expired_tokens:
                return json_reply(200, {"errcode": 42001, "errmsg": "access_token expired"})
            if self.refuse_every_token or token not in self.valid_tokens:
                return json_reply(200, {"errcode": 40001, "errmsg": "invalid credential"})
            body = request.json()
            if body["touser"] in self.replies:
                return json_reply(200, self.replies[body["touser"]])
            return json_reply(200, {"errcode": 0, "errmsg": "ok", "msgid": 200228000 + self.next_id()})
        return 404, {}, b"not found"

    def expire_tokens(self) -> None:
        """Tokens issued so far now answer 42001, as when WeChat expires one early."""
        with self.lock:
            self.expired_tokens |= self.valid_tokens
            self.valid_tokens.clear()

    def sends(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/send")]


def independent_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks signing, written from the spec without the adapter's code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


class WebhookReceiver(FakeServer):
    """A receiver verifying Standard Webhooks signatures; the path picks the answer."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def handle(self, request: Request) -> Reply:
        h = request.headers
        msg_id, ts, sig = (
            h.get("webhook-id", ""),
            h.get("webhook-timestamp", ""),
            h.get("webhook-signature", ""),
        )
        request.notes["verified"] = verify_signature(
            self.secret, msg_id, ts, request.body, sig, tolerance=300
        )
        request.notes["verified_independently"] = any(
            hmac.compare_digest(s, independent_signature(self.secret, msg_id, ts, request.body))
            for s in sig.split()
        )
        if not request.notes["verified"]:
            return 401, {}, b"bad signature"
        path = request.path
        if path == "/gone":
            return 410, {}, b"endpoint removed"
        if path == "/redirect":
            return 302, {"location": "/ok"}, b""
        if path == "/busy":
            return 503, {"retry-after": formatdate(usegmt=True)}, b"try later"
        if path == "/limited":
            return 429, {"retry-after": "30"}, b"slow down"
        if path == "/bad":
            return 400, {}, b'{"error": "unknown event type"}'
        return 200, {"content-type": "application/json"}, b'{"ok": true}'
