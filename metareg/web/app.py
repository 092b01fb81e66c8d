"""The oversight API application.

`create_app(engine)` builds one FastAPI app over an index engine: the API's routers
under /v1 (and the health probes), the dashboard's pages under /dashboard. The two
never import each other; what both need (roles and keys, settings, problem documents)
sits beside this module, and what both read comes from `metareg.oversight`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import ASGIApp

import metareg
from metareg.web import problems
from metareg.web.api import auth
from metareg.web.api.deps import ConnectionGate, LoopConnection
from metareg.web.api.hot import HotRoutes
from metareg.web.api.ratelimit import RateLimiter
from metareg.web.api.routers import (
    aef,
    alerts,
    blocks,
    checks,
    health,
    itmos,
    keys,
    quarantine,
    registries,
    stats,
    units,
    webhooks,
    withdrawals,
)
from metareg.web.dashboard import dashboard_router
from metareg.web.settings import ApiSettings

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No key, or an unknown or revoked key"},
    403: {"description": "The key's role is too low"},
    422: {"description": "Invalid request (the problem names what is wrong)"},
    429: {"description": "Rate limit of the public role reached"},
    500: {"description": "Server error"},
    503: {"description": "At capacity: retry after `Retry-After` seconds"},
}

API_ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    itmos.router,
    blocks.router,
    registries.router,
    stats.router,
    checks.router,
    alerts.router,
    webhooks.router,
    aef.router,
    keys.router,
    quarantine.router,
    units.router,
    withdrawals.router,
)


DOCS_ASSETS = "/docs-assets"


def install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, their scripts and styles served from
    the `fastapi-offline` package's copy under /docs-assets: they work without internet."""
    from importlib.resources import files

    assets = str(files("fastapi_offline").joinpath("static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a proxy that mounts us under a path
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title}: Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title}: ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


class _OversightApp(FastAPI):
    """FastAPI with `HotRoutes` as the outermost layer of its middleware stack: the
    two hottest requests, when they succeed, are answered before the other layers."""

    def build_middleware_stack(self) -> ASGIApp:
        return HotRoutes(super().build_middleware_stack())


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Once the server has started: everything loaded so far (modules, routes, models,
    compiled statements) is moved out of the garbage collector's sight (`gc.freeze`),
    so a full collection during a request walks only what requests made, not the
    whole application: the pauses that set the API's tail latency. At shutdown the
    event loop's read connection is closed."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
    app.state.loop_connection.close()


def create_app(
    engine: Engine | None = None,
    *,
    settings: ApiSettings | None = None,
) -> FastAPI:
    """The API over `engine` (default: the configured index, migrated on open)."""
    if engine is None:
        from metareg.index.open import open_index

        engine = open_index()
    settings = settings or ApiSettings()
    app = _OversightApp(
        title="metareg oversight API",
        version=getattr(metareg, "__version__", "0.1.0"),
        description=(
            "One index of every participating registry's ITMOs (Paris Agreement Article 6.2), "
            "with double-counting alerts, authorization checks and the Agreed Electronic "
            "Format. Send an API key in the `X-API-Key` header; without one you are `public`."
        ),
        docs_url=None,  # served below from packaged assets, never a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,  # no OAuth here; one route less to guard
        lifespan=_lifespan,
    )
    install_docs(app)
    app.state.engine = engine
    app.state.settings = settings
    app.state.connection_gate = ConnectionGate.for_engine(engine, settings.overload_wait_seconds)
    inline = settings.inline_reads
    app.state.inline_reads = engine.dialect.name == "sqlite" if inline is None else inline
    app.state.loop_connection = LoopConnection(engine)
    app.state.public_limiter = RateLimiter(
        settings.public_requests_per_minute, settings.public_burst
    )
    problems.install(app)
    app.state.hot_routes = True  # HotRoutes answers the two hottest requests (see below)
    for router in API_ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    app.include_router(dashboard_router())  # the pages for people, under /dashboard

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = auth.document_access(problems.document_problems(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
