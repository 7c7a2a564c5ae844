"""Where ledgerbridge may connect: shop URLs must be https on public addresses.

A site URL pointing at loopback, a private network or a link-local address (cloud metadata)
is refused unless the site explicitly allows private networks — the sandboxes on 127.0.0.1
need that allowance, and so does a shop on the same LAN. Checked when a site is saved and
again before every request (a hostname can change what it resolves to).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ledgerbridge.errors import ConfigError


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052/8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo client, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public unicast address: loopback, private, link-local (cloud metadata),
    shared/CGNAT space, reserved, multicast, unspecified — or an IPv6 address standing for
    such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_private(embedded):
            return True
    return (
        not address.is_global
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_url(url: str, *, allow_private_network: bool, resolve: bool = True) -> str:
    """``url`` normalized (no trailing slash) if ledgerbridge may connect to it; else ConfigError.

    Without the allowance: https only, and no address the host resolves to may be private.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not a web address (expected https://your-shop.example).")
    if parts.username or parts.password:
        raise ConfigError("Put credentials in the key fields, not in the shop URL.")
    if not allow_private_network:
        if parts.scheme != "https":
            raise ConfigError(
                f"{url} is not https. Shop URLs must use https (keys travel with every request); "
                "allow private networks on the site only for a sandbox or a shop on your LAN."
            )
        if resolve:
            for address in _addresses(parts.hostname):
                if is_private(address):
                    raise ConfigError(
                        f"{parts.hostname} resolves to {address}, a loopback or private address. "
                        "Allow private networks on the site if this is intended."
                    )
    return url.strip().rstrip("/")
