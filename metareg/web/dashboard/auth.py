"""Who is looking at the dashboard: an API key kept in a cookie.

Browsers cannot send the API's `X-API-Key` header on page loads, so the dashboard's
login form takes a key once and keeps it in an HttpOnly, SameSite=Strict cookie; every
page then checks it exactly as the API would (same key store, same roles). Forms that
change something (acknowledge) also carry a token derived from the key, so another site
cannot make a logged-in browser post them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from metareg.web.auth import KEY_HEADER, Role, principal_for

COOKIE = "metareg_key"


@dataclass(frozen=True)
class Viewer:
    role: Role
    key_id: int | None
    key_name: str | None
    csrf: str
    # Browsers send cookies on their own (so cookie-borne requests need the form token);
    # a key in the X-API-Key header was put there on purpose by the caller.
    via_cookie: bool = True

    def may(self, role: Role) -> bool:
        return self.role >= role


@dataclass(frozen=True)
class LoginRequired:
    """No usable key: the page sends the browser to the login form, saying why."""

    reason: str = ""


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"metareg-dashboard-form", hashlib.sha256).hexdigest()[:32]


def token_of(request: Request) -> str | None:
    return request.headers.get(KEY_HEADER) or request.cookies.get(COOKIE) or None


def lookup(engine: Engine, token: str, via_cookie: bool = True) -> Viewer | None:
    with engine.connect() as connection:
        found = principal_for(connection, token)
    if found is None:
        return None
    return Viewer(found.role, found.key_id, found.key_name, csrf_token(token), via_cookie)


def viewer(request: Request) -> Viewer | LoginRequired:
    """The logged-in viewer (oversight or admin), or why the browser must log in."""
    token = token_of(request)
    if not token:
        return LoginRequired()
    engine: Engine = request.app.state.engine
    found = lookup(engine, token, via_cookie=not request.headers.get(KEY_HEADER))
    if found is None:
        return LoginRequired("That key is unknown or revoked.")
    if not found.may(Role.oversight):
        return LoginRequired("The dashboard needs a key with the oversight role.")
    return found
