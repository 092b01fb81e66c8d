"""`/v1/quarantine` (admin): review what the index refused, as `metareg quarantine` does,
through `metareg.oversight.quarantine`: list and show entries (source, location, every
reason), reprocess them with the current source profiles, dismiss them with a note."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from metareg.oversight import quarantine as service
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of, read_connection, settings_of
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["quarantine"])

ENTRY_ID = Path(..., ge=1, le=2**63 - 1)
# In a JSON body an id stays within I-JSON's exact integers (RFC 7493: up to 2**53),
# which every client's number type carries unchanged; the index's ids are far below.
EntryId = Annotated[int, Field(ge=1, le=2**53)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such entry"}}


class Reason(BaseModel):
    path: str
    message: str


class EntryOut(BaseModel):
    id: int
    registry_id: str
    source: str
    location: str
    reasons: list[Reason]
    status: str
    received_at: str | None
    profile: str | None
    reprocessable: bool
    reviewed_by: str | None
    reviewed_at: str | None
    note: str | None
    raw: str | None = None  # one entry only: the input exactly as received


class Dismissal(BaseModel):
    ids: list[EntryId] = Field(min_length=1, max_length=service.MAX_LIMIT)
    # Not only blanks (the service refuses those): stated in the document, so a client
    # reading it knows (JSON Schema's `pattern` matches anywhere in the string).
    note: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class Dismissed(BaseModel):
    dismissed: int


class Reprocessing(BaseModel):
    ids: list[EntryId] | None = Field(None, max_length=service.MAX_LIMIT)  # None: every one
    registry_id: str | None = Field(None, pattern=r"^[A-Z]{3}[0-9]{2}$")


class Reprocessed(BaseModel):
    accepted: list[int]
    skipped: list[int]
    still_failing: dict[str, list[Reason]]


def _who(caller: Principal) -> str:
    return f"key {caller.key_id} ({caller.key_name})"


@router.get("/quarantine", response_model=list[EntryOut], response_model_exclude_none=True)
def list_entries(
    status: Literal["unreviewed", "reviewed", "reprocessed", "all"] = Query("unreviewed"),
    registry_id: str | None = Query(None, pattern=r"^[A-Z]{3}[0-9]{2}$"),
    source: str | None = Query(None, max_length=1000),
    limit: int = Query(100, ge=1, le=service.MAX_LIMIT),
    after: int = Query(0, ge=0, le=2**63 - 1),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    return service.list_quarantine(
        connection,
        status=None if status == "all" else status,
        registry_id=registry_id,
        source=source,
        limit=limit,
        after_id=after,
    )


@router.get(
    "/quarantine/{entry_id}",
    response_model=EntryOut,
    responses=NOT_FOUND,
)
def show_entry(
    entry_id: int = ENTRY_ID,
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    entry = service.show_quarantine(connection, entry_id)
    if entry is None:
        raise ApiProblem(404, f"No quarantine entry {entry_id}.")
    return entry


@router.post("/quarantine/dismiss", response_model=Dismissed, responses=NOT_FOUND)
def dismiss(
    body: Dismissal, engine: Engine = Depends(engine_of), caller: Principal = Depends(authorize)
) -> Any:
    try:
        return {"dismissed": service.dismiss_entries(engine, body.ids, body.note, _who(caller))}
    except service.QuarantineError as error:
        raise ApiProblem(404 if "no quarantine entry" in str(error) else 422, str(error)) from None


@router.post("/quarantine/reprocess", response_model=Reprocessed, responses=NOT_FOUND)
def reprocess(
    body: Reprocessing,
    engine: Engine = Depends(engine_of),
    settings: ApiSettings = Depends(settings_of),
    caller: Principal = Depends(authorize),
) -> Any:
    try:
        report = service.reprocess_entries(
            engine, body.ids, body.registry_id, _who(caller), settings.config
        )
    except service.QuarantineError as error:
        raise ApiProblem(404, str(error)) from None
    return report.as_dict()
