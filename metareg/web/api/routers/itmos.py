"""`GET /v1/itmos/{identifier}`: everything the index knows about a unit or block
(`metareg.oversight.itmos.describe_itmo`). A malformed identifier is a 422 naming the
wrong part; an identifier no current record covers is a 404.

This is the API's hottest read: the answer is serialized once with orjson, shaped
exactly like `ItmoOut` (the documented model; a test holds the two together) instead
of being validated into the model and dumped again on every request.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Path, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, computed_field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from metareg.oversight.itmos import NotInIndex, describe_itmo
from metareg.records.identifiers import is_provisional
from metareg.web.api.auth import authorize_on, key_header
from metareg.web.api.deps import reading, reading_inline
from metareg.web.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["itmos"])

_SERIAL = "[1-9][0-9]{0,17}"
IDENTIFIER_PATTERN = (
    f"^(CA[0-9]{{4}}|CAP-[A-Z0-9][A-Z0-9-]{{0,31}})-[A-Z]{{3}}[0-9]{{2}}-[A-Z]{{3}}-"
    f"{_SERIAL}(-{_SERIAL})?-(20[0-9]{{2}}|2100)$"
)


class BlockOut(BaseModel):
    cooperative_approach_id: str
    party_registry_id: str
    first_transferring_party_id: str
    first_id: int
    last_id: int
    vintage: int
    quantity: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def provisional(self) -> bool:
        """RECORDS.md: a provisional cooperative approach (CAP-...) is marked so."""
        return is_provisional(self.cooperative_approach_id)


class HistoryEntry(BaseModel):
    sequence: int
    change: str
    content_hash: str | None
    record: dict[str, Any] | None
    raw: str | None
    source: str
    received_at: str | None


class RecordOut(BaseModel):
    registry: str
    record_type: str
    record_id: str
    record: dict[str, Any]
    history: list[HistoryEntry]


class AuthorizationOut(BaseModel):
    registry: str
    record_type: str
    record_id: str
    record: dict[str, Any]


class StateOut(BaseModel):
    state: str
    quantity_by_state: dict[str, int]
    segments: list[dict[str, Any]]


class ItmoOut(BaseModel):
    identifier: str
    block: BlockOut
    state: StateOut
    records: list[RecordOut]
    authorizations: list[AuthorizationOut]
    alerts: list[dict[str, Any]]  # the open or acknowledged alerts on these units


@router.get(
    "/itmos/{identifier}",
    response_model=ItmoOut,
    responses={404: {"description": "No current record covers it"}},
)
async def get_itmo(
    request: Request,
    identifier: str = Path(
        ...,
        description="Unit `CA0001-IDN01-IDN-1001-2023` or block `CA0001-IDN01-IDN-1001-2000-2023`",
        # Documented, not enforced by FastAPI: parse_itmo's 422 names the wrong part.
        json_schema_extra={"pattern": IDENTIFIER_PATTERN},
    ),
    token: str | None = Security(key_header),
) -> Any:
    # The steps and their order are the dependencies' (`read_connection`, then
    # `authorize_read`): nothing here can fail validation first. On the event loop when
    # a read slot is free and reads are short (`ApiSettings.inline_reads`); otherwise
    # one trip to a worker thread for the whole request, where sync dependencies took
    # four (the connection's entry and exit, the key, the handler).
    with reading_inline(request) as connection:
        if connection is not None:
            return answer_on(connection, request, token, identifier)
    return await run_in_threadpool(answer_itmo, request, token, identifier)


def answer_itmo(request: Request, token: str | None, identifier: str) -> Response:
    with reading(request) as connection:
        return answer_on(connection, request, token, identifier)


JSON_HEADER = (b"content-type", b"application/json")


def answer_on(
    connection: Connection, request: Request, token: str | None, identifier: str
) -> Response:
    return Response(
        describe_bytes(connection, request, token, identifier), media_type="application/json"
    )


def describe_bytes(
    connection: Connection, request: Request, token: str | None, identifier: str
) -> bytes:
    """The caller checked, then the answer's body (a 200's); a problem is raised."""
    authorize_on(request, token, connection)
    try:
        return json_bytes(describe_itmo(connection, identifier))
    except NotInIndex as missing:
        raise ApiProblem(404, str(missing), kind="not-in-index") from missing


def json_bytes(body: Any) -> bytes:
    """The body as JSON, as FastAPI's encoder would write it for what orjson lacks."""
    return orjson.dumps(body, default=jsonable_encoder)
