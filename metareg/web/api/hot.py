"""The API's two hottest requests answered before the framework's per-request work.

`GET /v1/itmos/{identifier}` and `POST /v1/checks/authorization` with an API key spent
about as much CPU in FastAPI's middleware, routing and dependency solving as in their
own reads (measured in-process on 100k blocks: 0.4 ms of a 1.1 ms GET). `HotRoutes`, an
ASGI middleware, answers them itself with the routes' own functions (the key check,
the read slot, `answer_on` and `answer_check`, the same serialization), but only when
everything succeeds: on any error (an unknown key, a malformed identifier or body, an
ITMO nothing covers, no free read slot, a bug) it hands the untouched request to the
app, which answers it as it always did. Both reads change nothing, so running one again
is harmless; every answer, success or problem, is the app's own, byte for byte.

Only requests the fast path can answer exactly as the routes do are taken: keyed
callers (the public rate limit stays with the app, so no request is counted twice),
reads on the event loop (`ApiSettings.inline_reads`, SQLite), no `root_path`, and for
the check a JSON body of `application/json` no larger than `MAX_CHECK_BODY`.

It is the outermost layer of the app's middleware stack (`metareg.web.app` puts it
there), inside FastAPI's own entry (so telemetry, when configured, still sees every
request): the error, exception-telemetry and body-limit layers it passes by only act on
an exception or a body limit, and it answers only when nothing raised. The answer is
sent as the two ASGI messages Starlette's `Response` sends (same headers, same order).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metareg.oversight.checks import ProposedAction
from metareg.web.api.auth import authorize_on
from metareg.web.api.deps import reading_inline
from metareg.web.api.routers.checks import CheckRequest, answer_bytes, answer_check
from metareg.web.api.routers.itmos import JSON_HEADER, describe_bytes
from metareg.web.auth import KEY_HEADER

ITMO_PATH = "/v1/itmos/{identifier}"
ITMO_PREFIX = "/v1/itmos/"
CHECK_PATH = "/v1/checks/authorization"
MAX_CHECK_BODY = 16 * 1024  # a check's fields are short: larger bodies go to the app
_KEY = KEY_HEADER.lower().encode("latin-1")
_JSON = b"application/json"


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a header, as Starlette's `Headers.get` finds it."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


class HotRoutes:
    """The ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and scope["app"].state.hot_routes
            and scope["app"].state.inline_reads  # else the routes read in worker threads
        ):
            method, path = scope["method"], scope["path"]
            if method == "GET" and path.startswith(ITMO_PREFIX):
                if await self._itmo(scope, receive, send, path[len(ITMO_PREFIX) :]):
                    return
            elif method == "POST" and path == CHECK_PATH:
                replay = await self._check(scope, receive, send)
                if replay is None:
                    return
                receive = replay
        await self.app(scope, receive, send)

    def _route(self, scope: Scope, method: str, path: str) -> Any:
        """The app's route for (method, path template), as routing puts it in the scope
        (the key check reads its path); None if the app has no such route."""
        key = (method, path)
        if key not in self._routes:
            try:
                from fastapi.routing import iter_route_contexts

                routes: Any = iter_route_contexts(scope["app"].routes)
            except ImportError:  # older FastAPI flattens included routers itself
                routes = scope["app"].routes
            for route in routes:
                if getattr(route, "path", None) == path and method in (route.methods or ()):
                    self._routes[key] = route
                    break
            else:
                return None
        return self._routes[key]

    def _request(self, scope: Scope, route: Any, **path_params: str) -> Request:
        return Request({**scope, "route": route, "path_params": path_params})

    async def _itmo(self, scope: Scope, receive: Receive, send: Send, identifier: str) -> bool:
        """Answer the GET if it can be done exactly as the route does; False: not done."""
        token = _header(scope, _KEY)
        route = self._route(scope, "GET", ITMO_PATH)
        if not token or not identifier or "/" in identifier or route is None:
            return False
        request = self._request(scope, route, identifier=identifier)
        try:
            with reading_inline(request) as connection:
                if connection is None:
                    return False
                body = describe_bytes(connection, request, token.decode("latin-1"), identifier)
        except Exception:  # the app answers it, as it always did
            return False
        await _send_json(send, body)
        return True

    async def _check(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer the check if it can be done exactly as the route does (None); else a
        `receive` that gives the app the request body again."""
        token = _header(scope, _KEY)
        route = self._route(scope, "POST", CHECK_PATH)
        if not token or _header(scope, b"content-type") != _JSON or route is None:
            return receive
        messages: list[Message] = []
        size, complete = 0, False
        while not complete and size <= MAX_CHECK_BODY:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            complete = not message.get("more_body", False)
        if complete and size <= MAX_CHECK_BODY:
            body = b"".join(m.get("body", b"") for m in messages)
            answer = self._answer_check(scope, route, token.decode("latin-1"), body)
            if answer is not None:
                await _send_json(send, answer)
                return None
        return _replaying(messages, receive)

    def _answer_check(self, scope: Scope, route: Any, token: str, body: bytes) -> bytes | None:
        request = self._request(scope, route)
        try:
            # As the route reads its body: json.loads, then the model (python mode).
            checked = CheckRequest.model_validate(json.loads(body))
            with reading_inline(request) as connection:
                if connection is None:
                    return None
                authorize_on(request, token, connection)
                answer = answer_check(connection, ProposedAction(**checked.model_dump()))
        except Exception:  # the app answers it, as it always did
            return None
        return answer_bytes(answer)


async def _send_json(send: Send, body: bytes) -> None:
    """A 200 with `body` as `Response(body, media_type="application/json")` sends it."""
    headers = [(b"content-length", str(len(body)).encode("latin-1")), JSON_HEADER]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` giving `messages` first, then what the client sends next."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
