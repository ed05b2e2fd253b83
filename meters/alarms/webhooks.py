"""Webhook targets that cannot be turned against the server's own network.

A webhook URL is a request the server makes for whoever saved it, so a target that resolves to a
loopback, private, link-local, multicast, reserved or otherwise non-public address is refused
(unless an admin lists its host in ``ALARM_WEBHOOK_ALLOWED_HOSTS``). The check runs when the
channel is saved and again at every send; the send then connects to the very address it checked,
so a DNS answer that changes in between (rebinding) cannot redirect it. Redirects are not
followed, and what answered is logged for the admin, never echoed back to the caller.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(ValueError):
    """The target is not an address the platform may post to; the reason says why."""


@dataclass(frozen=True)
class Target:
    """A checked webhook target: where to connect, and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _allowed_hosts() -> set[str]:
    return {host.lower() for host in getattr(settings, "ALARM_WEBHOOK_ALLOWED_HOSTS", [])}


def non_public_reason(address: IPAddress) -> str:
    """Why ``address`` may not be a webhook target, or "" when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for flag in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{flag}"):
            return flag.replace("_", "-")
    return "" if address.is_global else "not public"


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookRefused(f"the host {host!r} does not resolve") from exc
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def webhook_target(url: str) -> Target:
    """Check ``url`` now (scheme, host, every address it resolves to); raise WebhookRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookRefused(f"not a valid URL: {exc}") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookRefused("a webhook target is an http:// or https:// URL with a host")
    addresses = _resolve(host, port)
    if not addresses:
        raise WebhookRefused(f"the host {host!r} does not resolve")
    if host not in _allowed_hosts():
        for address in addresses:
            reason = non_public_reason(address)
            if reason:
                raise WebhookRefused(
                    f"the host {host!r} resolves to a {reason} address; webhooks go to public "
                    "addresses only (an admin may allow a host in ALARM_WEBHOOK_ALLOWED_HOSTS)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As _PinnedHTTP, with TLS verified against the host name (SNI and certificate)."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def webhook_post(url: str, payload: dict[str, Any], timeout: float) -> str:
    """POST ``payload`` as JSON; returns "delivered", raises OSError/WebhookRefused otherwise.

    The error says only that it was not delivered: the status, the connection error and the
    address are logged for the admin, not returned to whoever pressed "test"."""
    target = webhook_target(url)
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=json.dumps(payload).encode(), headers={
            "Content-Type": "application/json", "User-Agent": "kpm-fleet"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        logger.warning("webhook %s (%s) failed: %s", url, target.address, exc)
        raise OSError("not delivered") from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        logger.warning("webhook %s (%s) answered HTTP %s", url, target.address, status)
        raise OSError("not delivered")
    return "delivered"
