"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API returns, whether raised on purpose (`ApiProblem`), by FastAPI's
request validation, by a malformed ITMO identifier or by a bug, has the same shape:
`type`, `title`, `status`, `detail`, `instance`, plus named extension members (e.g.
`part` for the identifier part that is wrong, `errors` for validation failures).
A 500 never carries the exception text: it may hold data a caller must not see.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from metareg import log
from metareg.records.identifiers import IdentifierError
from metareg.registries import RegistryConfigError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:metareg:problem:"  # a URN: no documentation site to point at yet

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """The RFC 9457 body; extension members are allowed."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class ApiProblem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    kind: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


async def _on_api_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiProblem)
    return problem_response(
        request,
        error.status,
        error.detail,
        kind=error.kind,
        title=error.title,
        headers=error.headers,
        **error.extensions,
    )


async def _on_identifier(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IdentifierError)
    return problem_response(
        request,
        422,
        str(error),
        kind="invalid-identifier",
        title="Invalid ITMO identifier",
        part=error.part,
    )


async def _on_registry_config(request: Request, error: Exception) -> JSONResponse:
    """registries.toml cannot be read: the API and the dashboard cannot say who is who."""
    return problem_response(request, 503, f"The registries configuration is unreadable: {error}")


async def _on_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": _location(item.get("loc", ())), "message": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors) or "invalid request"
    return problem_response(request, 422, detail, kind="invalid-request", errors=errors)


async def _on_http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return problem_response(
        request,
        error.status_code,
        str(error.detail),
        headers=dict(error.headers) if error.headers else None,
    )


async def _on_pool_timeout(request: Request, error: Exception) -> JSONResponse:
    """No pooled connection in time (a path outside the read gate): overloaded, not broken."""
    return problem_response(
        request,
        503,
        "The API is at capacity; retry shortly.",
        kind="overloaded",
        headers={"Retry-After": "1"},
    )


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.get_logger("metareg.web.api").error(
        "unhandled error", path=request.url.path, error=type(error).__name__, exc_info=error
    )
    return problem_response(request, 500, "The server failed to answer; the error is logged.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiProblem, _on_api_problem)
    app.add_exception_handler(IdentifierError, _on_identifier)
    app.add_exception_handler(RegistryConfigError, _on_registry_config)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(PoolTimeout, _on_pool_timeout)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_schema_ref() -> dict[str, str]:
    return {"$ref": "#/components/schemas/Problem"}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Make every 4xx/5xx response of the OpenAPI document a problem+json `Problem`."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema()
    for path_item in openapi.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if status[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_schema_ref()}}
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return openapi
