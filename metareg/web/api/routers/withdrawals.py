"""`/v1/withdrawals`: withdrawals held back because a complete listing would have
withdrawn more than the registry's allowed share (SY04); an admin confirms them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from metareg.oversight import withdrawals
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of, read_connection
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["registries"])


class HeldOut(BaseModel):
    registry_id: str
    scope: str
    withdraw_count: int
    current_count: int
    share_limit: float
    held_at: str


class Confirmed(BaseModel):
    registry_id: str
    scopes: list[str]
    withdrawn: int


@router.get("/withdrawals/held", response_model=list[HeldOut])
def list_held(
    connection: Connection = Depends(read_connection), _caller: Principal = Depends(authorize)
) -> Any:
    return withdrawals.held(connection)


@router.post(
    "/registries/{registry_id}/withdrawals/confirm",
    response_model=Confirmed,
    responses={404: {"description": "Nothing held back for this registry"}},
)
def confirm(
    registry_id: str = Path(..., min_length=1, max_length=16),
    engine: Engine = Depends(engine_of),
    caller: Principal = Depends(authorize),
) -> Any:
    try:
        return withdrawals.confirm(
            engine, registry_id, by=f"api key {caller.key_id} ({caller.key_name})"
        )
    except withdrawals.NothingHeld as error:
        raise ApiProblem(404, str(error)) from error
