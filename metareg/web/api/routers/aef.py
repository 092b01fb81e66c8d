"""`GET /v1/aef/{party}/{year}`: the AEF tables 2-4 of a Party and reported year, built
from the index, as JSON, a zip of CSVs or an XLSX workbook (`format`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Connection

from metareg.oversight.aef import XLSX_MEDIA_TYPE, build_aef, to_csv_zip, to_xlsx
from metareg.oversight.alerts import rule_codes_by_record
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection
from metareg.web.auth import Principal

router = APIRouter(prefix="/v1", tags=["aef"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}


class AefTableOut(BaseModel):
    table: int
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]


class AefOut(BaseModel):
    party_id: str
    reported_year: int
    # RECORDS.md: the provisional cooperative approaches (CAP-...) its tables name.
    provisional_cooperative_approaches: list[str] = []
    tables: list[AefTableOut]


@router.get(
    "/aef/{party}/{year}",
    response_model=AefOut,
    responses={200: {"content": {"application/zip": _BINARY, XLSX_MEDIA_TYPE: _BINARY}}},
)
def aef_export(
    party: str = Path(..., pattern=r"^[A-Z]{3}$", description="ISO 3166 alpha-3, e.g. JPN"),
    year: int = Path(..., ge=2000, le=2100, description="Reported year"),
    format: Literal["json", "csv", "xlsx"] = Query("json"),
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize),
) -> Any:
    report = build_aef(connection, party, year, checks=rule_codes_by_record)
    stem = f"aef_{party}_{year}"
    if format == "csv":
        return Response(
            to_csv_zip(report),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{stem}.zip"'},
        )
    if format == "xlsx":
        return Response(
            to_xlsx(report),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    return report.as_json()
