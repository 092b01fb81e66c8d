"""A registry's JSON answer, refused when it declares itself something else.

A login page, a proxy's or firewall's error page or a SOAP fault often arrives with
status 200; read as JSON it fails with a confusing parse error, or worse, an HTML page
that happens to parse is taken for data. A declared HTML or XML media type is refused
with a sentence that says what arrived. No Content-Type, or a JSON one (and the
`text/plain` some servers use for JSON), is read as JSON.
"""

from __future__ import annotations

from typing import Any

from metareg.connectors.errors import MalformedResponse
from metareg.connectors.http import Fetched

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
