"""`GET /v1/units/{programme}/{serial}`: both sides of a range of a crediting
programme's units, by the programme's serial (a Verra or Gold Standard serial, an ACR
range, a batch id) or by an ITMO identifier: the ITMO blocks resting on the units and
what the programme reports about them (`metareg.oversight.programmes.units_view`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy import Connection

from metareg.oversight.programmes import units_view
from metareg.web.api.auth import authorize_read
from metareg.web.api.deps import read_connection
from metareg.web.auth import Principal

router = APIRouter(prefix="/v1", tags=["units"])


class RestingBlock(BaseModel):
    identifier: str
    registry: str
    action_id: str
    action_date: str | None
    underlying_registry_id: str | None
    first_unit_id: str | None
    last_unit_id: str | None


class UnitsOut(BaseModel):
    programme: str
    units: str
    itmo_blocks: list[RestingBlock]
    statuses: list[dict[str, Any]]


@router.get("/units/{programme}/{serial}", response_model=UnitsOut)
def get_units(
    programme: str = Path(
        ...,
        pattern=r"^[A-Za-z][A-Za-z0-9.]{1,15}$",
        description="The programme (VCS, GS, ACR, CAR, ART, CERCARBONO, ISOMETRIC, ...), or "
        "ITMO for an ITMO identifier",
    ),
    serial: str = Path(
        ...,
        max_length=300,
        description="The programme's serial, e.g. 19385-941467007-941467431-VCS-VCU-1507-VER-"
        "ET-14-1340-01012020-31122020-1 or ACR-FR-1129-2025-2917-30932 to 35143, a batch id, "
        "or an ITMO identifier",
    ),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize_read),
) -> Any:
    return units_view(
        connection, programme.upper() if programme.lower() == "itmo" else programme, serial
    )
