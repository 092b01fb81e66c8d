"""`create_exchange_app(source)`: the exchange API over any FeedSource, as an ASGI app.

Deliberately small: parameter checks, optional auth, RFC 9457 problems, and nothing
else, so the simulator can wrap it in fault-injection middleware and a registry can
serve it in front of its own database.

Pages are serialized with orjson straight into the response: FastAPI's default path
(`dataclasses.asdict` deep-copying every record, then `jsonable_encoder` visiting every
value in Python) took about half the server's time for a page of 1,000 records, and
on a shared machine the server's CPU is taken from the syncing client.
"""

from __future__ import annotations

import hmac
from dataclasses import fields
from typing import Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from metareg.exchange.source import CursorGone, FeedSource

PROBLEM_BASE = "https://metareg.example/problems"
MAX_LIMIT = 1000


def problem(status: int, kind: str, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": f"{PROBLEM_BASE}/{kind}", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _encode_other(value: Any) -> Any:
    """What orjson does not serialize itself (a Decimal from a database-backed source):
    converted the way FastAPI's own encoder would."""
    return jsonable_encoder(value)


def json_response(body: Any) -> Response:
    """`body` as a JSON response, serialized once by orjson (dataclasses shallowly)."""
    content = orjson.dumps(body, default=_encode_other, option=orjson.OPT_NON_STR_KEYS)
    return Response(content, media_type="application/json")


def _fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, without `asdict`'s deep copy of every record."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def create_exchange_app(
    source: FeedSource,
    *,
    bearer_token: str | None = None,
    api_key: str | None = None,
    api_key_header: str = "X-API-Key",
) -> FastAPI:
    """The exchange API serving `source`. With `bearer_token` or `api_key`, every request
    must carry it (401 when missing, 403 when wrong)."""
    app = FastAPI(title="metareg registry exchange API", version="1", docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        if bearer_token is None and api_key is None:
            return await call_next(request)
        given: str | None = None
        expected = bearer_token or api_key
        if bearer_token is not None:
            header = request.headers.get("authorization", "")
            given = header[7:] if header.lower().startswith("bearer ") else None
        else:
            given = request.headers.get(api_key_header)
        if not given:
            return problem(401, "unauthorized", "credentials required")
        assert expected is not None
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return problem(403, "forbidden", "credentials refused")
        return await call_next(request)

    @app.get("/exchange/v1/info", response_model=None)
    def info() -> Response:
        return json_response(source.info())

    @app.get("/exchange/v1/changes", response_model=None)
    def changes(cursor: str | None = None, limit: int = Query(500, ge=1, le=MAX_LIMIT)) -> Response:
        try:
            page = source.changes(cursor, limit)
        except CursorGone as error:
            return problem(410, "cursor-expired", "cursor no longer accepted", str(error))
        if page.reset:
            return json_response(
                {"items": [], "next_cursor": None, "has_more": False, "reset": True}
            )
        body = {k: v for k, v in _fields(page).items() if k != "reset" and v is not None}
        body.setdefault("next_cursor", cursor)
        return json_response(body)

    @app.get("/exchange/v1/holdings", response_model=None)
    def holdings(
        as_of: str | None = None,
        cursor: str | None = None,
        limit: int = Query(500, ge=1, le=MAX_LIMIT),
    ) -> Response:
        return json_response(_fields(source.holdings(as_of, cursor, limit)))

    @app.get("/exchange/v1/totals", response_model=None)
    def totals() -> Response:
        return json_response(_fields(source.totals()))

    @app.get("/exchange/v1/blocks", response_model=None)
    def blocks(
        cooperative_approach_id: str | None = None,
        vintage: int | None = None,
        cursor: str | None = None,
        limit: int = Query(500, ge=1, le=MAX_LIMIT),
    ) -> Response:
        return json_response(
            _fields(source.blocks(cooperative_approach_id, vintage, cursor, limit))
        )

    return app
