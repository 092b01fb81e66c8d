"""`GET /v1/itmos/{identifier}`: everything the index knows about a unit or block.

The current records covering it, its state derived from the action chain, every
record's history with provenance (which registry said what, when, and each
correction or withdrawal), the authorizations its actions name, and the open alerts
that touch it. A malformed identifier is a 422 naming the wrong part.

This is the API's hottest read, so it keeps its statements few and prebuilt: the
histories of all covering records come from one statement (not one per record), and
the answer is serialized once with orjson, shaped exactly like `ItmoOut` (the
documented model; a test holds the two together) instead of being validated into the
model and dumped again on every request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import APIRouter, Path, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, select
from starlette.concurrency import run_in_threadpool

from metareg.db.tables.index import RecordVersion
from metareg.index import query
from metareg.index.state import derive_segments, overall_state, quantity_by_state
from metareg.oversight.alerts import unresolved_touching
from metareg.records.identifiers import parse_itmo
from metareg.web.api.auth import authorize_on, key_header
from metareg.web.api.deps import reading
from metareg.web.problems import ApiProblem

_history = RecordVersion.__table__  # type: ignore[attr-defined]

router = APIRouter(prefix="/v1", tags=["itmos"])

_SERIAL = "[1-9][0-9]{0,17}"
IDENTIFIER_PATTERN = (
    f"^CA[0-9]{{4}}-[A-Z]{{3}}[0-9]{{2}}-[A-Z]{{3}}-{_SERIAL}(-{_SERIAL})?-(20[0-9]{{2}}|2100)$"
)


class BlockOut(BaseModel):
    cooperative_approach_id: str
    party_registry_id: str
    first_transferring_party_id: str
    first_id: int
    last_id: int
    vintage: int
    quantity: int


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


# Built once: every covering record's versions in one round trip. The IN lists narrow by
# the identity index (registry_id, record_type, uid); exact identities are picked after.
_HISTORIES = (
    select(_history)
    .where(
        _history.c.registry_id.in_(bindparam("registries", expanding=True)),
        _history.c.record_type.in_(bindparam("record_types", expanding=True)),
        _history.c.uid.in_(bindparam("uids", expanding=True)),
    )
    .order_by(_history.c.id)
)


def histories(
    connection: Connection, identities: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(registry, record_type, uid) -> every version, oldest first, with its provenance;
    the same entries as `metareg.index.query.history` gives for each identity alone."""
    wanted: dict[tuple[str, str, str], list[dict[str, Any]]] = {i: [] for i in identities}
    if not wanted:
        return wanted
    rows = connection.execute(
        _HISTORIES,
        {
            "registries": sorted({i[0] for i in wanted}),
            "record_types": sorted({i[1] for i in wanted}),
            "uids": sorted({i[2] for i in wanted}),
        },
    )
    for row in rows:
        versions = wanted.get((row.registry_id, row.record_type, row.uid))
        if versions is None:
            continue  # another combination of the listed registries, types and ids
        versions.append(query.version_dict(row))
    return wanted


def describe_itmo(connection: Connection, identifier: str) -> dict[str, Any]:
    block = parse_itmo(identifier)
    ca, registry = block.cooperative_approach_id, block.party_registry_id
    found = query.intersecting(connection, ca, registry, block.first_id, block.last_id)
    if not found:
        raise ApiProblem(
            404,
            f"No current record of the index covers {block.text()}.",
            kind="not-in-index",
        )
    versions = histories(
        connection, ((i["registry"], i["record_type"], i["record_id"]) for i in found)
    )
    for item in found:
        item["history"] = versions[(item["registry"], item["record_type"], item["record_id"])]
    named = {i["record"]["authorization_id"] for i in found if i["record"].get("authorization_id")}
    segments = derive_segments(block.first_id, block.last_id, found)
    return {
        "identifier": block.text(),
        "block": {
            "cooperative_approach_id": ca,
            "party_registry_id": registry,
            "first_transferring_party_id": block.first_transferring_party_id,
            "first_id": block.first_id,
            "last_id": block.last_id,
            "vintage": block.vintage,
            "quantity": block.quantity,
        },
        "state": {
            "state": overall_state(segments),
            "quantity_by_state": quantity_by_state(segments),
            "segments": [segment.as_dict() for segment in segments],
        },
        "records": found,
        "authorizations": query.authorizations(connection, ca, named),
        "alerts": unresolved_touching(connection, ca, registry, block.first_id, block.last_id),
    }


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
    # One trip to a worker thread for the whole request, where sync dependencies took
    # four (the connection's entry and exit, the key, the handler), each ~50 us of CPU
    # and a GIL handoff under load. The steps and their order are the dependencies'
    # (`read_connection`, then `authorize_read`): nothing here can fail validation first.
    return await run_in_threadpool(answer_itmo, request, token, identifier)


def answer_itmo(request: Request, token: str | None, identifier: str) -> Response:
    with reading(request) as connection:
        authorize_on(request, token, connection)
        body = json_bytes(describe_itmo(connection, identifier))
    return Response(body, media_type="application/json")


def json_bytes(body: Any) -> bytes:
    """The body as JSON, as FastAPI's encoder would write it for what orjson lacks."""
    return orjson.dumps(body, default=jsonable_encoder)
