"""`metareg serve`: the oversight API over HTTP (uvicorn).

`serve_api` is also what `metareg run --api` calls to serve the API beside the sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from metareg.cli.context import options

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from metareg.web.settings import ApiSettings


def serve_api(
    engine: Engine,
    settings: ApiSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_json: bool = False,
) -> None:
    """Run the API in this process until interrupted."""
    import uvicorn  # here, not at module level: other commands need not load the web stack

    from metareg import log
    from metareg.web.app import create_app
    from metareg.web.serving import uvicorn_config

    app = create_app(engine, settings=settings)
    log.get_logger("metareg.web.api").info("serving the oversight API", host=host, port=port)
    config = uvicorn_config(
        app, settings, host=host, port=port, log_level="info", access_log=not log_json
    )
    uvicorn.Server(config).run()


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    public_rate: int = typer.Option(
        120, "--public-rate", help="Requests a minute per address for callers without a key."
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Public URL of the API, for links in feeds."
    ),
    trusted_proxy: list[str] = typer.Option(
        [],
        "--trusted-proxy",
        help="Address or network of a reverse proxy whose X-Forwarded-For is believed "
        "(repeatable; default none: the rate limit keys on the connecting address).",
    ),
) -> None:
    """Serve the oversight API (OpenAPI document at /openapi.json, docs at /docs)."""
    from metareg.web.settings import ApiSettings

    opts = options(ctx)
    settings = ApiSettings(
        config=opts.config,
        public_requests_per_minute=public_rate,
        base_url=base_url or f"http://{host}:{port}",
        trusted_proxies=tuple(trusted_proxy),
    )
    serve_api(opts.engine(create=True), settings, host, port, opts.json_logs)
