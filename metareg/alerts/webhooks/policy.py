"""The one place that decides whether metareg may POST to a URL.

Webhook targets are supplied by people, so a careless or hostile subscription could
make metareg call services on its own network (server-side request forgery). By
default only http(s) URLs whose host resolves to public addresses are allowed;
loopback, link-local, private, multicast, reserved and unspecified addresses are
refused unless the subscription (or the configuration) explicitly allows private
targets. The security work extends this function; nothing else decides.

When a subscription is saved the URL is checked without DNS (a literal private
address, in any spelling a resolver reads without DNS (`2130706433`, `0x7f.1`,
`127.1`, `0177.0.0.1`, `0`, `127。0。0。1`; `metareg.netpolicy.literal_address`), or a
local name (also `localhost.` and full-width forms) is refused at once; a name that does
not resolve today may tomorrow); before each delivery it is checked again with the name
resolved, since what a name points at can change.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from metareg.netpolicy import (
    Address,
    HostUnresolvable,
    canonical_host,
    is_non_public,
    literal_address,
    resolve_addresses,
)


class UrlNotAllowed(ValueError):
    """The URL may not be a webhook target."""


LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa")


def _addresses(host: str) -> list[Address]:
    try:
        return resolve_addresses(host)
    except HostUnresolvable as error:
        raise UrlNotAllowed(str(error)) from error


def check_url(url: str, *, allow_private: bool = False, resolve: bool = True) -> str:
    """Return the URL if metareg may POST to it, else raise UrlNotAllowed saying why.
    `resolve=False` skips DNS (used when saving a subscription)."""
    if not isinstance(url, str) or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UrlNotAllowed("the URL must be text without spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as error:
        raise UrlNotAllowed(f"not a URL: {error}") from error
    if parts.scheme not in ("http", "https"):
        raise UrlNotAllowed(f"the URL must be http or https, not {parts.scheme or 'none'!r}")
    if not host:
        raise UrlNotAllowed("the URL has no host")
    if parts.username or parts.password:
        raise UrlNotAllowed("the URL must not carry credentials (use the signing secret)")
    if literal_address(host) is None:
        try:
            host.encode("idna")
        except UnicodeError as error:
            raise UrlNotAllowed(f"host {host!r} is not a valid host name") from error
    if allow_private:
        return url
    try:
        name = canonical_host(host)  # `localhost.`, `ｌｏｃａｌｈｏｓｔ` are localhost too
    except UnicodeError as error:
        raise UrlNotAllowed(f"host {host!r} is not a valid host name") from error
    local = name == "localhost" or name.endswith(LOCAL_NAMES)
    literal = literal_address(host)
    if local or (literal is not None and is_non_public(literal)):
        raise UrlNotAllowed(
            f"host {host} is a loopback, link-local or private address; set allow_private "
            "for this subscription to allow it"
        )
    if not resolve:
        return url
    for address in _addresses(host):
        if is_non_public(address):
            raise UrlNotAllowed(
                f"host {parts.hostname} is a loopback, link-local or private address "
                f"({address}); set allow_private for this subscription to allow it"
            )
    return url
