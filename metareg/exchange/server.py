"""`create_exchange_app(source)`: the exchange API over any FeedSource, as an ASGI app.

Deliberately small: parameter checks, optional auth, RFC 9457 problems, and nothing
else, so the simulator can wrap it in fault-injection middleware and a registry can
serve it in front of its own database.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from metareg.exchange.source import CursorGone, FeedSource

PROBLEM_BASE = "https://metareg.example/problems"
MAX_LIMIT = 1000


def problem(status: int, kind: str, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": f"{PROBLEM_BASE}/{kind}", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


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

    @app.get("/exchange/v1/info")
    def info() -> dict[str, Any]:
        return source.info()

    @app.get("/exchange/v1/changes", response_model=None)
    def changes(
        cursor: str | None = None, limit: int = Query(500, ge=1, le=MAX_LIMIT)
    ) -> Response | dict[str, Any]:
        try:
            page = source.changes(cursor, limit)
        except CursorGone as error:
            return problem(410, "cursor-expired", "cursor no longer accepted", str(error))
        if page.reset:
            return {"items": [], "next_cursor": None, "has_more": False, "reset": True}
        body = {k: v for k, v in asdict(page).items() if k != "reset" and v is not None}
        body.setdefault("next_cursor", cursor)
        return body

    @app.get("/exchange/v1/holdings")
    def holdings(
        as_of: str | None = None,
        cursor: str | None = None,
        limit: int = Query(500, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        return asdict(source.holdings(as_of, cursor, limit))

    @app.get("/exchange/v1/totals")
    def totals() -> dict[str, Any]:
        return asdict(source.totals())

    @app.get("/exchange/v1/blocks")
    def blocks(
        cooperative_approach_id: str | None = None,
        vintage: int | None = None,
        cursor: str | None = None,
        limit: int = Query(500, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        return asdict(source.blocks(cooperative_approach_id, vintage, cursor, limit))

    return app
