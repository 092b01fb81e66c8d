"""The HTTP client every connector shares: auth, retries, size cap, URL checks.

- Each attempt's failure is classified by `errors.classify_*`; RATE_LIMITED waits the
  server's `Retry-After` (capped), TRANSIENT waits a bounded exponential backoff with full
  jitter; anything else, or the last attempt, raises ConnectorError.
- Bodies are streamed and refused past `max_response_bytes` (a declared Content-Length
  over the cap is refused before reading), so a hostile registry cannot exhaust memory.
- Every response has a total deadline of `timeout_seconds` (`total_timeout_seconds`
  when set), not only per read: httpx's timeouts apply to each read, so a body sent
  one byte a second would never time out. Once the headers arrive, a timer shuts the
  response's socket down at the deadline (httpx exposes it as the response's
  `network_stream`), which ends a read blocked on a trickling registry; the body loop
  checks the deadline between chunks too. An expired deadline is TRANSIENT (retried
  with backoff, up to `max_attempts`): a stuck registry holds a worker at most
  `max_attempts` deadlines plus the backoff waits.
- Redirects are followed by hand, each hop checked by `urls.check_url`.
- Every client shares one SSL context, built on first use: httpx would otherwise load
  the CA bundle for each client (~6% of a sync's time), even for http:// registries.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from metareg import log
from metareg.connectors.auth import AuthSettings
from metareg.connectors.errors import (
    RETRYABLE,
    BrokenBody,
    ConnectorError,
    CursorExpired,
    ErrorClass,
    classify_exception,
    classify_status,
)
from metareg.connectors.urls import check_url

DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "metareg/0.1 (+https://metareg.example)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

_log = log.get_logger("metareg.connectors.http")


@dataclass(frozen=True)
class HttpSettings:
    """Transport settings of one registry (keys of its `[registries.connector]` table)."""

    timeout_seconds: float = 30.0
    total_timeout_seconds: float | None = None  # the whole response; default timeout_seconds
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_attempts: int = 5
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 60.0
    max_retry_after_seconds: float = 300.0
    allow_private_network: bool = False
    auth: AuthSettings = field(default_factory=AuthSettings)
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, allow_private_network: bool) -> HttpSettings:
        return cls(
            timeout_seconds=float(raw.get("timeout_seconds", 30.0)),
            total_timeout_seconds=(
                float(raw["total_timeout_seconds"]) if "total_timeout_seconds" in raw else None
            ),
            max_response_bytes=int(raw.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)),
            max_attempts=max(1, int(raw.get("max_attempts", 5))),
            backoff_base_seconds=float(raw.get("backoff_base_seconds", 0.5)),
            backoff_max_seconds=float(raw.get("backoff_max_seconds", 60.0)),
            max_retry_after_seconds=float(raw.get("max_retry_after_seconds", 300.0)),
            allow_private_network=allow_private_network,
            auth=AuthSettings.parse(raw.get("auth")),
            headers={str(k): str(v) for k, v in dict(raw.get("headers", {})).items()},
        )


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as error:
            raise BrokenBody(f"body is not JSON: {error}", url=self.url) from error


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), once
    per process. An SSLContext is safe to share between clients and threads."""
    return httpx.create_ssl_context()


class HttpClient:
    """One registry's HTTP access. `sleep` and `transport` are injectable for tests;
    `heartbeat` is called before every wait (the sync engine renews its lease there)."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.heartbeat = heartbeat
        self._client = httpx.Client(
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            transport=transport,
            verify=shared_ssl_context(),
            headers={"User-Agent": USER_AGENT, **settings.headers},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        ceiling = min(
            self.settings.backoff_max_seconds, self.settings.backoff_base_seconds * 2**attempt
        )
        return random.uniform(0, ceiling)

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
    ) -> Fetched:
        """GET with retries; returns a response whose status is in `ok_statuses` (304 may
        be added by callers that send If-None-Match) or raises ConnectorError."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                fetched = self._once(url, clean, headers or {})
                kind = None if fetched.status in ok_statuses else classify_status(fetched.status)
                if kind is None and fetched.status not in ok_statuses:
                    kind = ErrorClass.MALFORMED
            except ConnectorError:
                raise
            except httpx.HTTPError as error:
                fetched, kind = None, classify_exception(error)
                detail = f"{type(error).__name__}: {error}"
            if kind is None and fetched is not None:
                return fetched
            assert kind is not None
            if fetched is not None:
                detail = _problem_detail(fetched)
                if kind is ErrorClass.CURSOR_EXPIRED:
                    raise CursorExpired(detail)
            attempt += 1
            if kind not in RETRYABLE or attempt >= self.settings.max_attempts:
                raise ConnectorError(
                    kind,
                    detail,
                    status=fetched.status if fetched is not None else None,
                    url=url,
                )
            wait = self.backoff(attempt)
            if kind is ErrorClass.RATE_LIMITED and fetched is not None:
                asked = retry_after_seconds(fetched.headers.get("Retry-After"))
                if asked is not None:
                    wait = min(asked, self.settings.max_retry_after_seconds)
            _log.info("retrying", url=url, kind=str(kind), attempt=attempt, wait=round(wait, 2))
            if self.heartbeat:
                self.heartbeat()
            self.sleep(wait)

    @property
    def total_timeout(self) -> float:
        total = self.settings.total_timeout_seconds
        return self.settings.timeout_seconds if total is None else total

    def _once(self, url: str, params: Mapping[str, Any], headers: Mapping[str, str]) -> Fetched:
        current = url
        query: Mapping[str, Any] | None = params
        deadline = time.monotonic() + self.total_timeout
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(current, allow_private_network=self.settings.allow_private_network)
            request_headers = {**self.settings.auth.headers(), **headers}
            with self._client.stream(
                "GET", current, params=query, headers=request_headers
            ) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = str(response.url.join(response.headers["location"]))
                    query = None  # the Location carries its own query
                    continue
                with _Watchdog(response, deadline) as watchdog:
                    try:
                        content = self._read_capped(response, current, deadline)
                    except httpx.HTTPError:
                        if watchdog.fired:
                            raise self._expired(current) from None
                        raise
                return Fetched(str(response.url), response.status_code, response.headers, content)
        raise ConnectorError(ErrorClass.CONFIG, f"more than {MAX_REDIRECTS} redirects", url=url)

    def _expired(self, url: str) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(
            f"the response took longer than {self.total_timeout:g} s in total "
            "(total_timeout_seconds)"
        )

    def _read_capped(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        cap = self.settings.max_response_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise ConnectorError(
                ErrorClass.TOO_LARGE, f"declared {declared} bytes, limit {cap}", url=url
            )
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise self._expired(url)
            total += len(chunk)
            if total > cap:
                raise ConnectorError(ErrorClass.TOO_LARGE, f"body over {cap} bytes", url=url)
            chunks.append(chunk)
        return b"".join(chunks)


class _Watchdog:
    """Shuts a response's socket down at `deadline`, ending a read that a trickling
    body would otherwise keep alive (each read gets its own timeout in httpx)."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        stream = response.extensions.get("network_stream")
        if stream is not None:
            self._socket = stream.get_extra_info("socket")
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed: the read has ended
                self._socket.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()


def _problem_detail(fetched: Fetched) -> str:
    """A short reason for a failed response: the RFC 9457 title/detail when given."""
    text = ""
    try:
        body = orjson.loads(fetched.content[:65536]) if fetched.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
        text = ": ".join(parts)
    return f"HTTP {fetched.status}" + (f" {text}" if text else "")
