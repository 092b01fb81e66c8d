"""The API's access check, per request: the key in the `X-API-Key` header, the public
rate limit, and the route's least role from `metareg.web.auth.ROUTE_ROLES`.

A wrong or revoked key is a 401, never a silent downgrade to public: a client with a
broken key should notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from metareg.web.api.deps import engine_of, read_connection, reading, reading_inline
from metareg.web.api.ratelimit import RateLimiter
from metareg.web.auth import (
    KEY_HEADER,
    PUBLIC,
    PUBLIC_PRINCIPAL,
    ROUTE_ROLES,
    Principal,
    Role,
    principal_for,
)
from metareg.web.problems import ApiProblem

key_header = APIKeyHeader(
    name=KEY_HEADER, auto_error=False, description="An API key from `metareg keys create`."
)


def _principal(
    request: Request, token: str | None, connection: Connection | None = None
) -> Principal:
    """The caller of `token`, looked up on `connection` when the request already holds
    one (a pool checkout less), else on a short connection of its own."""
    if not token:
        return PUBLIC_PRINCIPAL
    if connection is not None:
        found = principal_for(connection, token)
    else:
        with engine_of(request).connect() as own:
            found = principal_for(own, token)
    if found is None:
        raise ApiProblem(
            401,
            "The API key is unknown or revoked.",
            kind="invalid-key",
            headers={"WWW-Authenticate": KEY_HEADER},
        )
    return found


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


def authorize(request: Request, token: str | None = Security(key_header)) -> Principal:
    """The caller, checked against `ROUTE_ROLES` for the matched route (fail closed)."""
    return _authorized(request, _principal(request, token))


def authorize_read(
    request: Request,
    token: str | None = Security(key_header),
    connection: Connection = Depends(read_connection),
) -> Principal:
    """`authorize` for routes that also take `read_connection`: the key is looked up on
    the request's own read connection (FastAPI resolves it once per request), instead
    of checking out a second one. The hottest reads use it; declare the connection
    before the caller so the order of checks (capacity, then key) is `authorize`'s."""
    return authorize_on(request, token, connection)


async def authorized_read(
    request: Request, token: str | None = Security(key_header)
) -> AsyncIterator[Connection]:
    """`read_connection` and `authorize_read` in one dependency, for the hottest reads:
    on the event loop when a read slot is free and reads are short
    (`ApiSettings.inline_reads`), else one trip to a worker thread to wait for the slot,
    connect and check the key. Same checks in the same order (capacity, then key), all
    before the request body is validated. The route runs its reads on the loop when
    `inline_reads(request)`, in a worker thread otherwise."""
    with reading_inline(request) as connection:
        if connection is not None:
            authorize_on(request, token, connection)
            yield connection
            return
    held = reading(request)

    def enter() -> Connection:
        connection = held.__enter__()
        try:
            authorize_on(request, token, connection)
        except BaseException as error:
            held.__exit__(type(error), error, error.__traceback__)
            raise
        return connection

    connection = await run_in_threadpool(enter)
    try:
        yield connection
    except BaseException as error:
        await run_in_threadpool(held.__exit__, type(error), error, error.__traceback__)
        raise
    await run_in_threadpool(held.__exit__, None, None, None)


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
