"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database
answers and its schema is at the current migration heads)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Engine

from metareg.oversight.readiness import not_ready
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", response_model=Health)
def healthz(_caller: Principal = Depends(authorize)) -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"description": "Not ready"}})
def readyz(
    engine: Engine = Depends(engine_of), _caller: Principal = Depends(authorize)
) -> Readiness:
    reason = not_ready(engine)
    if reason is not None:
        raise ApiProblem(503, reason, kind="not-ready")
    return Readiness(status="ready", database="reachable", migrations="current")
