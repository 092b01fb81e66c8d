"""Which network addresses metareg may talk to: the one definition of "not public".

Connectors (fetching from registries) and webhooks (posting to subscribers) both
refuse loopback, link-local (cloud metadata at 169.254.169.254), private, multicast,
reserved and unspecified addresses unless their configuration explicitly allows a
private network; each wraps these helpers in its own error type.
"""

from __future__ import annotations

import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostUnresolvable(ValueError):
    """The host name does not resolve (or is not a valid name at all)."""


def literal_address(host: str) -> Address | None:
    """The address a host names literally (`127.0.0.1`, `[::1]`), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve_addresses(host: str) -> list[Address]:
    """Every address `host` stands for: itself when literal, else what DNS answers."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as error:
        raise HostUnresolvable(f"host {host!r} does not resolve: {error}") from error
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def is_non_public(address: Address) -> bool:
    """True for any address that is not on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form that carries an IPv4 address (::ffff:a.b.c.d, 6to4 2002:ab:cd::)
        # reaches that IPv4 host: judge the host.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            address = embedded
    return bool(
        # Not global covers what the flags below miss, e.g. the carrier-grade NAT range
        # 100.64.0.0/10 (neither private nor reserved, yet never on the internet).
        not address.is_global
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
