"""How the API app is put on the network (uvicorn), in one place for `metareg serve`,
`metareg run --api` and `metareg demo`.

Forwarded headers (`X-Forwarded-For`, `X-Forwarded-Proto`) decide the client address
the public rate limit keys on, so they are believed only from the reverse proxies named
in `ApiSettings.trusted_proxies` (none by default). uvicorn's own default believes them
from 127.0.0.1, which let any caller reaching the API through loopback (a local proxy
passing the header on, a tunnel, another process) pick a fresh rate-limit bucket per
request.

Each answer goes out in one write (`http_protocol`): uvicorn's httptools protocol sends
the status line and headers, then the body, each as its own system call and, with
Nagle off, its own TCP segment; its transport here holds the headers until the body
comes and writes them together.
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
        **{"http": http_protocol(), **options},
    )


class _CoalescedWrites:
    """A transport that holds a write until the next one or the next turn of the event
    loop, whichever comes first: an answer's headers go out with its body, at once,
    and a lone write at the next turn (every other call goes to the transport itself,
    after what is pending where order matters)."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: Any, loop: Any) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        if len(self._pending) > 1:
            self._flush()  # an answer's headers and its body: out at once, together
        else:
            self._loop.call_soon(self._flush)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size()) + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def http_protocol() -> Any:
    """uvicorn's httptools protocol, its writes coalesced (`_CoalescedWrites`); uvicorn's
    own choice where httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class CoalescedHttpTools(HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:
            coalesced: Any = _CoalescedWrites(transport, self.loop)
            super().connection_made(coalesced)

    return CoalescedHttpTools
