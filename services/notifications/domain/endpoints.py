"""Which endpoint URLs a subscription may use, so the service cannot be aimed at internal addresses.

The URL is checked when a subscription is made; the addresses its host resolves to are checked again
before every attempt (a name can be pointed somewhere else later).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _is_loopback_name(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


def _plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refused_address(address: Address, *, allow_loopback: bool) -> str | None:
    """The reason a resolved address is refused, or None."""
    address = _plain(address)
    if address.is_loopback:
        return None if allow_loopback else "loopback addresses are allowed only in development"
    if (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    ):
        return "must not point at a private, link-local or reserved address"
    return None


def check_endpoint_url(url: str, *, allow_loopback: bool) -> str | None:
    """The reason an endpoint URL is refused, or None when it is acceptable."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        return "must be an absolute http(s) URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment:
        return "must not carry a fragment"
    try:
        address: Address | None = _plain(ipaddress.ip_address(host))
    except ValueError:
        address = None
    is_loopback = _is_loopback_name(host) or (address is not None and address.is_loopback)
    if is_loopback:
        return None if allow_loopback else "loopback addresses are allowed only in development"
    if parts.scheme != "https":
        return "must use https"
    if address is not None:
        return refused_address(address, allow_loopback=allow_loopback)
    if "." not in host.strip("."):
        return "must be a fully qualified host name"
    return None
