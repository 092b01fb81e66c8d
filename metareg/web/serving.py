"""How the API app is put on the network (uvicorn), in one place for `metareg serve`,
`metareg run --api` and `metareg demo`.

Forwarded headers (`X-Forwarded-For`, `X-Forwarded-Proto`) decide the client address
the public rate limit keys on, so they are believed only from the reverse proxies named
in `ApiSettings.trusted_proxies` (none by default). uvicorn's own default believes them
from 127.0.0.1, which let any caller reaching the API through loopback (a local proxy
passing the header on, a tunnel, another process) pick a fresh rate-limit bucket per
request.
"""

from __future__ import annotations

from typing import Any

from metareg.web.settings import ApiSettings


def uvicorn_config(app: Any, settings: ApiSettings, **options: Any) -> Any:
    """A `uvicorn.Config` for `app` honouring `settings.trusted_proxies`."""
    import uvicorn  # here: the rest of the package need not load the web server

    trusted = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or [],
        **options,
    )
