"""`/v1/stats` and `/v1/cooperative-approaches`: aggregates, fit for the public role
(no account ids, no evidence)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection

from metareg.oversight.alerts import open_by_severity
from metareg.oversight.totals import index_totals
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection
from metareg.web.auth import Principal

router = APIRouter(prefix="/v1", tags=["stats"])


class CaTotals(BaseModel):
    cooperative_approach_id: str
    quantity_by_state: dict[str, int]
    provisional: bool = False  # RECORDS.md: a provisional approach (CAP-...) is marked


class VintageTotals(BaseModel):
    vintage: int
    quantity_by_state: dict[str, int]


class PartyTotals(BaseModel):
    party_id: str  # the first transferring Party
    quantity_by_state: dict[str, int]


class Stats(BaseModel):
    change_sequence: int | None
    by_state: dict[str, int]
    by_cooperative_approach: list[CaTotals]
    by_vintage: list[VintageTotals]
    by_party: list[PartyTotals]
    open_alerts: dict[str, int]  # by severity


class CooperativeApproach(BaseModel):
    cooperative_approach_id: str
    registries: list[str]
    parties: list[str]
    authorizations: int
    authorized_quantity: float
    quantity_by_state: dict[str, int]
    provisional: bool = False  # RECORDS.md: a provisional approach (CAP-...) is marked


@router.get("/stats", response_model=Stats)
def stats(
    connection: Connection = Depends(read_connection), _caller: Principal = Depends(authorize)
) -> Any:
    totals = index_totals(connection)
    return {**totals, "open_alerts": open_by_severity(connection)}


@router.get("/cooperative-approaches", response_model=list[CooperativeApproach])
def cooperative_approaches(
    connection: Connection = Depends(read_connection), _caller: Principal = Depends(authorize)
) -> Any:
    return index_totals(connection)["cooperative_approaches"]
