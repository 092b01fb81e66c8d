"""A registry's JSON answer, refused when it declares itself something else.

A login page, a proxy's or firewall's error page or a SOAP fault often arrives with
status 200; read as JSON it fails with a confusing parse error, or worse, an HTML page
that happens to parse is taken for data. A declared HTML or XML media type is refused
with a sentence that says what arrived. No Content-Type, or a JSON one (and the
`text/plain` some servers use for JSON), is read as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metareg import log
from metareg.connectors.errors import BrokenBody, MalformedResponse
from metareg.connectors.http import Fetched, HttpClient

_log = log.get_logger("metareg.connectors")

NOT_JSON = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")


def json_body(fetched: Fetched) -> Any:
    """The decoded JSON body of `fetched`, or MalformedResponse saying why not."""
    declared = fetched.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared in NOT_JSON or declared.endswith("+xml"):
        raise MalformedResponse(
            f"the registry answered {declared}, not JSON (a login or proxy page?)",
            url=fetched.url,
        )
    return fetched.json()


def fetch_json(
    http: HttpClient,
    url: str,
    params: Mapping[str, Any] | None = None,
    missing_ok: bool = False,
) -> Any:
    """GET `url` and decode its JSON body, repeating the request (with the client's
    backoff, up to its `max_attempts`) when the body arrives broken: a registry or a
    proxy that cuts a body short usually answers whole a moment later. With
    `missing_ok`, a 404 answers None (the registry does not serve that resource)."""
    attempt = 0
    statuses = frozenset({200, 404}) if missing_ok else frozenset({200})
    while True:
        try:
            fetched = http.get(url, params, ok_statuses=statuses)
            return None if fetched.status == 404 else json_body(fetched)
        except BrokenBody:
            attempt += 1
            if attempt >= http.settings.max_attempts:
                raise
            wait = http.backoff(attempt)
            _log.info("retrying broken body", url=url, attempt=attempt, wait=round(wait, 2))
            if http.heartbeat:
                http.heartbeat()
            http.sleep(wait)
