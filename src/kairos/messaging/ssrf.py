"""Server-side request forgery (SSRF) guard for the targets users configure: webhook URLs,
provider base URLs and token URIs (Twilio, FCM, WeChat), SMTP hosts.

Such a target is typed by a workspace user, but the connection leaves from our server,
inside our network: unguarded, ``http://169.254.169.254/latest/meta-data/`` or
``http://localhost:5432/`` turns webhooks into a proxy to internal services, a provider
base URL hands the provider credentials to a local listener, and an SMTP host:port check
becomes a port scanner
(https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html).

Only globally routable unicast addresses are allowed, unless the operator allows private
targets (``KAIROS_ALLOW_PRIVATE_TARGETS``, formerly ``KAIROS_WEBHOOK_ALLOW_PRIVATE``, for
on-premises relays, receivers and tests). The check is on *resolved addresses*, never on
the spelling of the host, so ``localhost``, ``0x7f000001``, ``[::ffff:127.0.0.1]`` or a
public name pointing at 10.0.0.5 are all caught.

``check_url`` and ``check_host`` validate a target when it is configured.
``GuardedTransport`` (HTTP) and ``connect_tcp`` (SMTP) validate again when a connection is
opened and connect to exactly the address they checked (the Host header and TLS SNI keep
the original name), so a name cannot resolve to a public address for the check and rebind
to a private one for the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from kairos.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use translation


class TargetNotAllowed(InvalidInput):
    """A URL or address the server must not send requests to."""

    code = "url_not_allowed"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address stands for (IPv4-mapped) or tunnels to (6to4, Teredo)."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    return [v4 for v4 in found if v4 is not None]


def address_allowed(ip: IPAddress) -> bool:
    """Whether requests may go to ``ip``: a globally routable unicast address, also through
    IPv4-mapped, 6to4, Teredo and NAT64 forms."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:
            # decided by the IPv4 address it translates to (IPv6-only hosts with DNS64 see
            # every IPv4 site this way); the prefix itself lies in ::/8, "reserved"
            return address_allowed(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _NAT64_LOCAL or ip.is_site_local:
            return False
        if not all(address_allowed(v4) for v4 in _embedded_ipv4(ip)):
            return False
    # is_global alone misses multicast; the explicit list is belt and braces across versions
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def parse_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL without credentials, parsed the way httpx will send it."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetNotAllowed(f"invalid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https"):
        raise TargetNotAllowed("only http and https URLs are allowed")
    if parsed.userinfo:
        raise TargetNotAllowed("URLs with credentials (user:password@) are not allowed")
    if not parsed.host:
        raise TargetNotAllowed("the URL has no host")
    # raw_host is what httpcore connects to: IDNA-encoded, IPv6 without brackets
    return parsed.raw_host.decode("ascii"), parsed.port or (443 if parsed.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in resolver order; raises ``OSError`` when none."""
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(sockaddr[0])
            if ip not in addresses:
                addresses.append(ip)
    if not addresses:
        raise OSError(f"{host} has no IPv4 or IPv6 address")
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise ``TargetNotAllowed`` (an ``InvalidInput``, code ``url_not_allowed``) unless the
    server may send requests to ``url``."""
    host, port = parse_target(url)
    check_host(host, port, allow_private=allow_private)


def check_host(host: str, port: int, *, allow_private: bool) -> None:
    """Raise ``TargetNotAllowed`` unless the server may connect to ``host``:``port`` (every
    address the name resolves to must be public)."""
    if allow_private:
        return
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise TargetNotAllowed(f"cannot resolve {host}") from exc
    if not all(address_allowed(ip) for ip in addresses):
        # which address is not said: that would let users map our internal DNS
        raise TargetNotAllowed(f"{host} resolves to an address that is not public")


def connect_tcp(host: str, port: int, *, timeout: float, allow_private: bool) -> socket.socket:
    """A TCP connection to ``host``:``port`` like ``socket.create_connection``, to an address
    that was resolved and checked here (so no DNS rebinding between check and connect).

    Raises ``TargetNotAllowed`` when a resolved address is not public (and private targets
    are not allowed), ``OSError`` when the name does not resolve or no address answers."""
    try:
        addresses = resolve(host, port)
    except UnicodeError as exc:
        raise OSError(f"cannot resolve {host}") from exc
    if not allow_private and not all(address_allowed(ip) for ip in addresses):
        raise TargetNotAllowed("target address not allowed")
    error: OSError | None = None
    for ip in addresses:  # like socket.create_connection: the first that answers
        try:
            return socket.create_connection((str(ip), port), timeout=timeout)
        except OSError as exc:
            error = exc
    assert error is not None
    raise error


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous network backend, resolving and checking each new connection
    once and connecting to the checked address."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not self.allow_private and not all(address_allowed(ip) for ip in addresses):
            raise TargetNotAllowed("target address not allowed")
        error: httpcore.ConnectError | None = None
        for ip in addresses:  # like socket.create_connection: the first that answers
            try:
                return self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise TargetNotAllowed("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An ``httpx`` transport whose connections go through ``GuardedBackend``.

    Environment proxies are ignored (``trust_env=False``): through a proxy we would check
    the proxy's address, and the proxy would resolve the target name itself.
    """

    def __init__(self, *, allow_private: bool, limits: httpx.Limits = httpx.Limits()) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx has no public hook for the network backend: its connection pool (still
        # unused) is replaced by an identical one with ours. Tests cover that this holds.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private),
        )
