"""The one place that decides whether metareg may fetch a URL.

A registry's configuration names where to fetch; a hostile or mistaken entry (or a
redirect) must not make metareg read its own network: loopback, link-local (cloud
metadata at 169.254.169.254), private, multicast and reserved addresses are refused
unless the registry's configuration says `allow_private_network = true` (tests and the
simulator run on loopback). The HTTP client checks every request and every redirect hop.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from metareg.connectors.errors import ConfigurationError
from metareg.netpolicy import Address, HostUnresolvable, is_non_public, resolve_addresses

ALLOWED_SCHEMES = frozenset({"http", "https"})


class UrlNotAllowed(ConfigurationError):
    """The URL is not one metareg may fetch."""


def _addresses(host: str) -> list[Address]:
    try:
        return resolve_addresses(host)
    except HostUnresolvable as error:
        raise UrlNotAllowed(f"cannot resolve host {host!r}: {error}") from error


def check_url(url: str, *, allow_private_network: bool = False) -> str:
    """Return `url` when metareg may fetch it; raise UrlNotAllowed (a configuration
    error) otherwise. Every address the host resolves to must be public."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UrlNotAllowed(f"URL scheme must be http or https: {url!r}")
    if not parts.hostname:
        raise UrlNotAllowed(f"URL has no host: {url!r}")
    if parts.username or parts.password:
        raise UrlNotAllowed("credentials in a URL are refused: use the auth settings")
    if allow_private_network:
        return url
    for address in _addresses(parts.hostname):
        if is_non_public(address):
            raise UrlNotAllowed(
                f"{parts.hostname} resolves to a non-public address ({address}); set "
                "allow_private_network = true in this registry's entry to allow it"
            )
    return url
