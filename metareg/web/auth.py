"""Who may call what, for the API and the dashboard alike: the roles, the one route ->
least-role table, and the one key -> principal lookup.

Roles are ordered: `public` (no key) < `oversight` (read everything) < `admin`
(acknowledge alerts, manage webhooks and keys, review the quarantine). `ROUTE_ROLES` is the single,
declarative source of access: every route of the app (API and dashboard) must appear
in it (a route missing from it is refused, fail closed), and the table-driven tests
walk it. The API checks a key sent in the `X-API-Key` header per request
(`metareg.web.api.auth`), the dashboard one kept in a cookie (`metareg.web.dashboard.auth`);
both turn the key into a caller with `principal_for`, so a key check has one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from sqlalchemy import Connection

from metareg import log
from metareg.oversight import keys

KEY_HEADER = "X-API-Key"


class Role(IntEnum):
    public = 0
    oversight = 1
    admin = 2


PUBLIC, OVERSIGHT, ADMIN = Role.public, Role.oversight, Role.admin

# (method, route path template) -> the least role that may call it.
ROUTE_ROLES: dict[tuple[str, str], Role] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,  # its script and styles: the static /docs-assets mount
    ("GET", "/v1/itmos/{identifier}"): OVERSIGHT,
    ("GET", "/v1/blocks"): OVERSIGHT,
    ("GET", "/v1/registries"): PUBLIC,  # public fields only below oversight
    ("GET", "/v1/registries/{registry_id}"): PUBLIC,
    ("GET", "/v1/cooperative-approaches"): PUBLIC,
    ("GET", "/v1/stats"): PUBLIC,
    ("POST", "/v1/checks/authorization"): OVERSIGHT,
    ("GET", "/v1/units/{programme}/{serial}"): OVERSIGHT,
    ("GET", "/v1/alerts"): OVERSIGHT,
    ("GET", "/v1/alerts/counts"): PUBLIC,
    ("GET", "/v1/alerts/{alert_id}"): OVERSIGHT,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): ADMIN,
    ("GET", "/v1/feeds/alerts.json"): OVERSIGHT,
    ("GET", "/v1/feeds/alerts.atom"): OVERSIGHT,
    ("GET", "/v1/feeds/alerts/stream"): OVERSIGHT,
    ("GET", "/v1/webhooks"): ADMIN,
    ("POST", "/v1/webhooks"): ADMIN,
    ("DELETE", "/v1/webhooks/{subscription_id}"): ADMIN,
    ("GET", "/v1/aef/{party}/{year}"): OVERSIGHT,
    ("GET", "/v1/keys"): ADMIN,
    ("POST", "/v1/keys"): ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): ADMIN,
    ("GET", "/v1/quarantine"): ADMIN,
    ("GET", "/v1/quarantine/{entry_id}"): ADMIN,
    ("POST", "/v1/quarantine/dismiss"): ADMIN,
    ("POST", "/v1/quarantine/reprocess"): ADMIN,
    ("GET", "/v1/withdrawals/held"): OVERSIGHT,
    ("POST", "/v1/registries/{registry_id}/withdrawals/confirm"): ADMIN,
    # The dashboard's pages (its login form and assets are open to everyone).
    ("GET", "/dashboard/login"): PUBLIC,
    ("POST", "/dashboard/login"): PUBLIC,
    ("POST", "/dashboard/logout"): PUBLIC,
    ("GET", "/dashboard/static/{name}"): PUBLIC,
    ("GET", "/dashboard/public"): PUBLIC,  # aggregates only (metareg.oversight.public)
    ("GET", "/dashboard"): OVERSIGHT,
    ("GET", "/dashboard/alerts"): OVERSIGHT,
    ("GET", "/dashboard/alerts/{alert_id}"): OVERSIGHT,
    ("POST", "/dashboard/alerts/{alert_id}/acknowledge"): ADMIN,
    ("GET", "/dashboard/itmo"): OVERSIGHT,
    ("GET", "/dashboard/events"): OVERSIGHT,
    ("GET", "/dashboard/quarantine"): ADMIN,
    ("GET", "/dashboard/quarantine/{entry_id}"): ADMIN,
    ("POST", "/dashboard/quarantine/dismiss"): ADMIN,
    ("POST", "/dashboard/quarantine/reprocess"): ADMIN,
}


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    key_id: int | None = None
    key_name: str | None = None

    def at_least(self, role: Role) -> bool:
        return self.role >= role


PUBLIC_PRINCIPAL = Principal(PUBLIC)


def principal_for(connection: Connection, token: str) -> Principal | None:
    """The caller holding `token`, or None when no active key has it (unknown or revoked)."""
    found = keys.find_caller(connection, token)
    if found is None:
        return None
    # Only real keys: registering whatever a caller sends would let anyone grow the
    # secret list (and the cost of every log line) without bound.
    log.register_secret(token)
    key_id, name, role = found
    return Principal(Role[role], key_id, name)


def unchanged_key(key_id: int | None, role: Role) -> Callable[[Connection], bool]:
    """For a long-lived response (an event stream): a check that the key it was opened
    with is still active and still has the same role. The stream runs it on its own
    connection before each delivery and heartbeat and ends when it says False, so a
    revocation (or a role change) ends open streams within one poll."""

    def check(connection: Connection) -> bool:
        if key_id is None:
            return role == PUBLIC
        now = keys.active_role(connection, key_id)
        return now is not None and Role[now] == role

    return check


def route_keys(app: Any) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves, HEAD aside: what `ROUTE_ROLES` must
    cover. Walks included routers too (FastAPI keeps them nested)."""
    try:
        from fastapi.routing import iter_route_contexts

        routes: Any = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI flattens included routers itself
        routes = app.routes
    found: set[tuple[str, str]] = set()
    for route in routes:
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if path and method != "HEAD":
                found.add((method, path))
    return found
