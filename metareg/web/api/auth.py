"""Who may call what: roles, the one route -> minimal role table, and the dependency.

Roles are ordered: `public` (no key) < `oversight` (read everything) < `admin`
(acknowledge alerts, manage webhooks and keys). `ROUTE_ROLES` is the single,
declarative source of access: every route of the app must appear in it (a route
missing from it is refused, fail closed), and the table-driven tests walk it.

A caller presents a key in the `X-API-Key` header. A wrong or revoked key is a 401,
never a silent downgrade to public: a client with a broken key should notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy import Connection, Engine

from metareg import log
from metareg.oversight import keys
from metareg.web.api.deps import read_connection
from metareg.web.api.ratelimit import RateLimiter
from metareg.web.problems import ApiProblem

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
    ("GET", "/v1/itmos/{identifier}"): OVERSIGHT,
    ("GET", "/v1/blocks"): OVERSIGHT,
    ("GET", "/v1/registries"): PUBLIC,  # public fields only below oversight
    ("GET", "/v1/registries/{registry_id}"): PUBLIC,
    ("GET", "/v1/cooperative-approaches"): PUBLIC,
    ("GET", "/v1/stats"): PUBLIC,
    ("POST", "/v1/checks/authorization"): OVERSIGHT,
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
}


def register_route_role(method: str, path: str, role: Role) -> None:
    """For routers mounted from elsewhere (the dashboard): add their rows to the table."""
    ROUTE_ROLES[(method.upper(), path)] = role


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    key_id: int | None = None
    key_name: str | None = None

    def at_least(self, role: Role) -> bool:
        return self.role >= role


PUBLIC_PRINCIPAL = Principal(PUBLIC)

_key_header = APIKeyHeader(
    name=KEY_HEADER, auto_error=False, description="An API key from `metareg keys create`."
)
key_header = _key_header  # for a route that checks the key itself (`authorize_on`)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _principal(
    request: Request, token: str | None, connection: Connection | None = None
) -> Principal:
    """The caller of `token`, looked up on `connection` when the request already holds
    one (a pool checkout less), else on a short connection of its own."""
    if not token:
        return PUBLIC_PRINCIPAL
    if connection is not None:
        found = keys.find_key(connection, token)
    else:
        with _engine(request).connect() as own:
            found = keys.find_key(own, token)
    if found is not None:
        # Only real keys: registering whatever a caller sends would let anyone grow the
        # secret list (and the cost of every log line) without bound.
        log.register_secret(token)
    if found is None:
        raise ApiProblem(
            401,
            "The API key is unknown or revoked.",
            kind="invalid-key",
            headers={"WWW-Authenticate": KEY_HEADER},
        )
    return Principal(Role[found["role"]], found["id"], found["name"])


def _rate_limit(request: Request, principal: Principal) -> None:
    if principal.role != PUBLIC:
        return
    limiter: RateLimiter = request.app.state.public_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        seconds = max(1, int(wait + 0.999))
        raise ApiProblem(
            429,
            f"Public callers are limited; retry in {seconds} s or use an API key.",
            kind="rate-limited",
            headers={"Retry-After": str(seconds)},
        )


def _refuse(principal: Principal, needed: Role) -> ApiProblem:
    if principal.role == PUBLIC:
        return ApiProblem(
            401,
            f"This needs an API key with the {needed.name} role (header {KEY_HEADER}).",
            kind="key-required",
            headers={"WWW-Authenticate": KEY_HEADER},
        )
    return ApiProblem(
        403,
        f"This needs the {needed.name} role; the key has {principal.role.name}.",
        kind="role-too-low",
    )


def authorize(request: Request, token: str | None = Security(_key_header)) -> Principal:
    """The caller, checked against `ROUTE_ROLES` for the matched route (fail closed)."""
    return _authorized(request, _principal(request, token))


def authorize_read(
    request: Request,
    token: str | None = Security(_key_header),
    connection: Connection = Depends(read_connection),
) -> Principal:
    """`authorize` for routes that also take `read_connection`: the key is looked up on
    the request's own read connection (FastAPI resolves it once per request), instead
    of checking out a second one. The hottest reads use it; declare the connection
    before the caller so the order of checks (capacity, then key) is `authorize`'s."""
    return authorize_on(request, token, connection)


def authorize_on(request: Request, token: str | None, connection: Connection) -> Principal:
    """`authorize_read`'s check, called by a route that holds `connection` itself: it
    must take the token with `Security(key_header)` (so the document shows the key)
    and call this before reading anything."""
    return _authorized(request, _principal(request, token, connection))


def _authorized(request: Request, principal: Principal) -> Principal:
    _rate_limit(request, principal)
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    needed = ROUTE_ROLES.get((request.method.upper(), str(path)))
    if needed is None:
        raise ApiProblem(403, "This route has no access rule, so nobody may call it.")
    if not principal.at_least(needed):
        raise _refuse(principal, needed)
    return principal


def require_role(role: str | Role) -> Callable[..., Any]:
    """A dependency for routes outside the table (e.g. the dashboard's pages)."""
    needed = role if isinstance(role, Role) else Role[role]

    def dependency(request: Request, token: str | None = Security(_key_header)) -> Principal:
        principal = _principal(request, token)
        _rate_limit(request, principal)
        if not principal.at_least(needed):
            raise _refuse(principal, needed)
        return principal

    return dependency


Caller = Depends(authorize)


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


def document_access(openapi: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI document which operations need a key: for public routes the key
    is optional (an empty security requirement means "anonymous is fine"), and every
    operation's description names its least role, from `ROUTE_ROLES`."""
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            role = ROUTE_ROLES.get((method.upper(), path))
            if role is None:
                continue
            requirements = operation.get("security") or []
            if role == PUBLIC and requirements and {} not in requirements:
                operation["security"] = [{}, *requirements]
            note = f"Least role: `{role.name}`."
            description = operation.get("description") or ""
            operation["description"] = f"{description}\n\n{note}".strip()
    return openapi
