"""Which network addresses metareg may talk to: the one definition of "not public".

Connectors (fetching from registries) and webhooks (posting to subscribers) both
refuse loopback, link-local (cloud metadata at 169.254.169.254), private, multicast,
reserved and unspecified addresses unless their configuration explicitly allows a
private network; each wraps these helpers in its own error type.
"""

from __future__ import annotations

import ipaddress
import re
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostUnresolvable(ValueError):
    """The host name does not resolve (or is not a valid name at all)."""


def canonical_host(host: str) -> str:
    """The host as the network stack will see it: without brackets, IDNA-mapped (so
    full-width letters and digits and the ideographic full stops `。` `．` `｡` become
    ASCII and `.`), lower-case, without the trailing dot of a fully qualified name.
    Raises UnicodeError for a host that is not a valid name at all."""
    host = host.strip("[]")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return host.lower().rstrip(".")


_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")


def _number(part: str) -> int | None:
    """One part of a numeric IPv4 spelling: hex (`0x7f`), octal (`0177`) or decimal."""
    if not _NUMBER.fullmatch(part):
        return None
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of the numeric spellings that resolvers (inet_aton) and browsers
    (the WHATWG URL standard) accept besides dotted quads: `2130706433`, `0x7f.1`,
    `127.1`, `0177.0.0.1`, `0`. None for anything else (a name)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> Address | None:
    """The address a host names literally (`127.0.0.1`, `[::1]`, and every other
    spelling a resolver reads as an address without asking DNS: `2130706433`,
    `0x7f.1`, `127.1`, `0177.0.0.1`, `0`, `127。0。0。1`), else None."""
    try:
        host = canonical_host(host)
    except UnicodeError:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _numeric_ipv4(host)


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
