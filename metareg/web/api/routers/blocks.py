"""`GET /v1/blocks`: search the current block records (actions, or holdings) with
`metareg.oversight.blocks.search_blocks`; `holder` implies holdings. The query
parameters are checked here (types, ranges, which filters go together)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Connection

from metareg.index.state import MIXED, STATES
from metareg.oversight import blocks
from metareg.records.identifiers import APPROACH_ID_PATTERN
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection, settings_of
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["blocks"])

ActionType = Literal[
    "Issuance",
    "Authorization",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Cancellation",
    "Voluntary cancellation",
]
# The derived states (metareg.index.state), offered as the document's enum.
State = Literal[(*STATES, MIXED)]  # type: ignore[valid-type]
Sort = Literal["serial", "-serial", "vintage", "-vintage", "date", "-date"]


class BlockItem(BaseModel):
    identifier: str
    record_type: str
    registry: str
    record_id: str
    quantity: int
    state: str
    record: dict[str, Any]


class BlockPage(BaseModel):
    items: list[BlockItem]
    next_cursor: str | None
    limit: int


@router.get("/blocks", response_model=BlockPage)
def search_blocks(
    cooperative_approach_id: str | None = Query(None, pattern=APPROACH_ID_PATTERN),
    party_registry_id: str | None = Query(
        None, pattern=r"^[A-Z]{3}[0-9]{2}$", description="Originating registry"
    ),
    first_transferring_party_id: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    vintage_from: int | None = Query(None, ge=2000, le=2100),
    vintage_to: int | None = Query(None, ge=2000, le=2100),
    serial_from: int | None = Query(None, ge=1, le=10**18 - 1),
    serial_to: int | None = Query(None, ge=1, le=10**18 - 1),
    action_type: ActionType | None = Query(None),
    state: State | None = Query(None, description="Derived state of the block"),
    holder: str | None = Query(
        None, min_length=1, max_length=256, description="Holding registry id or account id"
    ),
    record_type: Literal["action", "holding"] | None = Query(
        None, description="Default: holding when `holder` is given, else action"
    ),
    sort: Sort = Query("serial"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=2000),
    connection: Connection = Depends(read_connection),
    settings: ApiSettings = Depends(settings_of),
    _caller: Principal = Depends(authorize),
) -> Any:
    kind = record_type or ("holding" if holder else "action")
    if kind == "action" and holder:
        raise ApiProblem(422, "`holder` filters holdings; it cannot go with record_type=action.")
    if kind == "holding" and action_type:
        raise ApiProblem(
            422, "`action_type` filters actions; it cannot go with record_type=holding."
        )
    for low, high, name in (
        (vintage_from, vintage_to, "vintage"),
        (serial_from, serial_to, "serial"),
    ):
        if low is not None and high is not None and low > high:
            raise ApiProblem(422, f"{name}_from must not be greater than {name}_to.")
    filters = blocks.BlockFilters(
        cooperative_approach_id=cooperative_approach_id,
        party_registry_id=party_registry_id,
        first_transferring_party_id=first_transferring_party_id,
        vintage_from=vintage_from,
        vintage_to=vintage_to,
        serial_from=serial_from,
        serial_to=serial_to,
        action_type=action_type,
        state=state,
        holder=holder,
    )
    limit = min(limit, settings.max_page_size)
    try:
        return blocks.search_blocks(
            connection, kind, filters, sort=sort, limit=limit, cursor=cursor
        )
    except blocks.InvalidCursor as error:
        raise ApiProblem(422, str(error), kind="invalid-cursor") from error
