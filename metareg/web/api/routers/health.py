"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database
answers and its schema is at the current migration heads)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Engine, text

from metareg.db import migrate
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
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        raise ApiProblem(
            503, f"The database does not answer ({type(error).__name__}).", kind="not-ready"
        ) from error
    if not migrate.is_current(engine):
        raise ApiProblem(
            503, "Database migrations are pending: run `metareg db upgrade`.", kind="not-ready"
        )
    return Readiness(status="ready", database="reachable", migrations="current")
