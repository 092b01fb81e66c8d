"""The one table that decides what a failed request means for a sync.

Every connector goes through the shared HTTP client, which classifies each failure
here; the sync engine acts on the class, never on status codes:

| class          | cause                                           | what happens                  |
|----------------|-------------------------------------------------|-------------------------------|
| CONFIG         | 401, 403, 404 on the base URL, refused URL      | stop now; SY01 once stale     |
| RATE_LIMITED   | 429                                             | wait `Retry-After`, retry     |
| TRANSIENT      | 5xx, timeouts, connection errors, 408           | backoff with jitter, retry    |
| CURSOR_EXPIRED | 410 Gone (problem type `.../cursor-expired`)    | full resync from the start    |
| MALFORMED      | a body that is not the documented shape, 4xx    | stop; the cursor is not moved |
| TOO_LARGE      | a response over `max_response_bytes`            | stop; never read into memory  |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import httpx

from metareg.log import mask_secrets


class ErrorClass(StrEnum):
    CONFIG = "configuration"
    RATE_LIMITED = "rate-limited"
    TRANSIENT = "transient"
    CURSOR_EXPIRED = "cursor-expired"
    MALFORMED = "malformed"
    TOO_LARGE = "too-large"


RETRYABLE = frozenset({ErrorClass.RATE_LIMITED, ErrorClass.TRANSIENT})

_BY_STATUS: dict[int, ErrorClass] = {
    401: ErrorClass.CONFIG,
    403: ErrorClass.CONFIG,
    404: ErrorClass.CONFIG,
    407: ErrorClass.CONFIG,
    408: ErrorClass.TRANSIENT,
    410: ErrorClass.CURSOR_EXPIRED,
    413: ErrorClass.TOO_LARGE,
    429: ErrorClass.RATE_LIMITED,
}


def classify_status(status: int) -> ErrorClass | None:
    """The class of an HTTP status, or None when the response is a success."""
    if status < 400:
        return None
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ErrorClass.TRANSIENT
    return ErrorClass.MALFORMED


def classify_exception(error: Exception) -> ErrorClass:
    """Transport failures: all transient except a malformed URL or protocol."""
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ErrorClass.CONFIG
    if isinstance(error, httpx.DecodingError):
        return ErrorClass.MALFORMED
    return ErrorClass.TRANSIENT


class ConnectorError(Exception):
    """A fetch failed for good (after any retries); `kind` says what the engine does."""

    def __init__(
        self, kind: ErrorClass, message: str, *, status: int | None = None, url: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its class, arguments and attributes whatever its `__init__` takes:
        # a sync reading in a child process raises its errors in the parent.
        return _restore, (type(self), self.args, self.__dict__)

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        code = f" HTTP {self.status}" if self.status else ""
        # A registry may quote our credentials back in its error body: the message goes
        # into the stored sync state and the API, not only the (masked) logs.
        return mask_secrets(f"{self.kind}{code}: {self.args[0]}{where}")


def _restore(cls: type[ConnectorError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigurationError(ConnectorError):
    """The registry's configuration is wrong (credentials, URL, connector settings)."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__(ErrorClass.CONFIG, message, status=status, url=url)


class MalformedResponse(ConnectorError):
    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(ErrorClass.MALFORMED, message, url=url)


class BrokenBody(MalformedResponse):
    """A body that does not parse as JSON: often cut short in transit, so the request
    is worth repeating (bounded, with backoff) before the sync gives up on it."""


class CursorExpired(ConnectorError):
    def __init__(self, message: str = "the registry no longer accepts this cursor") -> None:
        super().__init__(ErrorClass.CURSOR_EXPIRED, message, status=410)
