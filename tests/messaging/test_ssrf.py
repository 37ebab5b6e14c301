"""The SSRF guard on webhook targets: at configuration time and on the address connected to."""

from __future__ import annotations

import base64
import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kairos.errors import InvalidInput
from kairos.messaging.channels import ChannelOptions, Outgoing, webhook
from kairos.messaging.ssrf import TargetNotAllowed, address_allowed, check_url
from tests.messaging.fake_providers import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
LOOKUPS: list[str] = []
REFUSED = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/hook",
    "http://10.1.2.3/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://0/",
    "http://localhost/",
    "HTTP://LOCALHOST:9200/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form of 169.254.169.254
    "http://[2002:a00:1::]/",  # 6to4 form of 10.0.0.1
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[str]], None]:
    """Answer chosen names with chosen addresses (in turn, when several lists are given);
    everything else goes to the real resolver. ``LOOKUPS`` records the names asked for."""
    answers: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo
    LOOKUPS.clear()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        LOOKUPS.append(str(host))
        if host in answers:
            queue = answers[host]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def add(name: str, addresses: list[str]) -> None:
        answers.setdefault(name, []).append(addresses)

    return add


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(SECRET)
    yield fake
    fake.stop()


def channel(allow_private: bool) -> webhook.WebhookChannel:
    options = ChannelOptions(allow_private_targets=allow_private, timeout=5.0)
    return webhook.WebhookChannel(webhook.Settings(), webhook.Secrets(signing_secret=SECRET), options)


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_and_metadata_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetNotAllowed) as caught:
        check_url(url, allow_private=False)
    assert isinstance(caught.value, InvalidInput) and caught.value.code == "url_not_allowed"
    check_url(url, allow_private=True)  # the operator may allow them


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
        "javascript:alert(1)",
        "//example.com/x",
        "not a url",
        "http://user:secret@example.com/",
        "http://:secret@example.com/",
        "http:///path-only",
    ],
)
def test_only_plain_http_urls_are_accepted_even_when_private_targets_are_allowed(url: str) -> None:
    with pytest.raises(TargetNotAllowed):
        check_url(url, allow_private=True)


def test_public_addresses_and_names_are_accepted(fake_dns: Callable[[str, list[str]], None]) -> None:
    fake_dns("hooks.example.com", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
    check_url("https://hooks.example.com/kairos", allow_private=False)
    check_url("http://93.184.216.34:8080/x", allow_private=False)
    check_url("http://[2606:2800:220:1:248:1893:25c8:1946]/", allow_private=False)


def test_a_name_with_any_private_address_is_refused(fake_dns: Callable[[str, list[str]], None]) -> None:
    fake_dns("mixed.example.com", ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(TargetNotAllowed, match="not public") as caught:
        check_url("https://mixed.example.com/", allow_private=False)
    assert "10.0.0.5" not in caught.value.message  # internal DNS is not disclosed


def test_a_name_that_does_not_resolve_is_refused(fake_dns: Callable[[str, list[str]], None]) -> None:
    with pytest.raises(TargetNotAllowed, match="cannot resolve"):
        check_url("https://no-such-host.invalid/", allow_private=False)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b:1::1", False),
        ("2002:7f00:1::", False),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
        ("fec0::1", False),
        ("ff02::1", False),
        ("::", False),
        ("0.0.0.0", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
    ],
)
def test_address_classification(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address)) is allowed


def test_the_webhook_adapter_refuses_private_targets_at_send_time(receiver: WebhookReceiver) -> None:
    port = receiver.port
    targets = [f"http://127.0.0.1:{port}/ok", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"]
    targets += [f"http://[::1]:{port}/", f"http://0x7f000001:{port}/", f"http://localhost:{port}/ok"]
    guarded = channel(allow_private=False)
    results = guarded.send([Outgoing(i, f"k{i}", t, {"payload": {}}) for i, t in enumerate(targets)])
    guarded.close()
    assert [(r.status, r.error, r.outage) for r in results] == [
        ("failed", "target address not allowed", False)
    ] * 6
    assert receiver.requests == []

    allowed = channel(allow_private=True)
    assert (
        allowed.send([Outgoing(1, "k1", f"http://127.0.0.1:{port}/ok", {"payload": {}})])[0].status == "sent"
    )
    allowed.close()


def test_dns_rebinding_is_caught_on_the_address_connected_to(
    receiver: WebhookReceiver, fake_dns: Callable[[str, list[str]], None]
) -> None:
    url = f"http://rebind.example.com:{receiver.port}/ok"
    fake_dns("rebind.example.com", ["93.184.216.34"])  # when the URL is configured
    fake_dns("rebind.example.com", ["127.0.0.1"])  # when the request is sent
    check_url(url, allow_private=False)
    guarded = channel(allow_private=False)
    result = guarded.send([Outgoing(1, "k1", url, {"payload": {}})])[0]
    guarded.close()
    assert (result.status, result.error) == ("failed", "target address not allowed")
    assert receiver.requests == []


def test_the_request_goes_to_the_checked_address_under_the_original_host_name(
    receiver: WebhookReceiver, fake_dns: Callable[[str, list[str]], None]
) -> None:
    fake_dns("hooks.internal.example", ["127.0.0.1"])
    allowed = channel(allow_private=True)
    result = allowed.send(
        [Outgoing(1, "k1", f"http://hooks.internal.example:{receiver.port}/ok", {"payload": {}})]
    )[0]
    allowed.close()
    assert result.status == "sent"
    assert LOOKUPS.count("hooks.internal.example") == 1  # checked once, then the address itself is dialled
    assert receiver.requests[0].headers["host"] == f"hooks.internal.example:{receiver.port}"
    assert receiver.requests[0].notes["verified"]


def test_urls_with_credentials_or_other_schemes_fail_at_send_time() -> None:
    guarded = channel(allow_private=True)
    results = guarded.send(
        [
            Outgoing(1, "k1", "http://u:p@127.0.0.1/", {"payload": {}}),
            Outgoing(2, "k2", "file:///etc/passwd", {"payload": {}}),
        ]
    )
    guarded.close()
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("invalid webhook URL" in (r.error or "") for r in results)
