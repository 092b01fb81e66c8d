"""`/v1/keys`: admins list, create (the token is shown once) and revoke API keys."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from metareg.oversight import keys
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of, read_connection
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["keys"])


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    hint: str
    created_at: str
    revoked_at: str | None


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["oversight", "admin"]


class CreatedKey(KeyOut):
    token: str  # shown once; only its hash is stored


@router.get("/keys", response_model=list[KeyOut])
def list_keys(
    connection: Connection = Depends(read_connection), _caller: Principal = Depends(authorize)
) -> Any:
    return keys.list_keys(connection)


@router.post("/keys", response_model=CreatedKey, status_code=201)
def create_key(
    body: NewKey, engine: Engine = Depends(engine_of), _caller: Principal = Depends(authorize)
) -> Any:
    try:
        with engine.begin() as connection:
            created, token = keys.create_key(connection, body.name, body.role)
    except keys.KeyUsageError as error:
        raise ApiProblem(422, str(error)) from error
    return {**created, "token": token}


@router.delete("/keys/{key_id}", status_code=204, responses={404: {"description": "No such key"}})
def revoke_key(
    key_id: int = Path(..., ge=1, le=2**63 - 1),
    engine: Engine = Depends(engine_of),
    _caller: Principal = Depends(authorize),
) -> Response:
    with engine.begin() as connection:
        revoked = keys.revoke_key(connection, key_id)
    if not revoked:
        raise ApiProblem(404, f"No active key with id {key_id}.")
    return Response(status_code=204)
