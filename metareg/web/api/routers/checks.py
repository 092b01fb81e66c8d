"""`POST /v1/checks/authorization`: may these ITMOs be used for this purpose by this
Party? The answer is `metareg.oversight.checks.check_authorization`'s."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from metareg.oversight.checks import ProposedUse, check_authorization
from metareg.web.api.auth import authorize_read
from metareg.web.api.deps import read_connection
from metareg.web.auth import Principal

router = APIRouter(prefix="/v1", tags=["checks"])


class CheckRequest(BaseModel):
    identifier: str = Field(
        max_length=200, description="Unit or block, e.g. CA0001-IDN01-IDN-1-1000-2023"
    )
    purpose: Literal["NDC", "OIMP"]
    using_party_id: str = Field(pattern=r"^[A-Z]{3}$")
    using_entity_id: str | None = Field(None, min_length=1, max_length=256)
    date: dt.date | None = Field(None, description="Date of the intended use (default: today)")
    authorization_id: str | None = Field(
        None, min_length=1, max_length=256, description="Default: the one the first transfer names"
    )


class Reason(BaseModel):
    code: str
    outcome: Literal["failed", "passed", "unknown"]
    message: str
    severity: str | None = None
    evidence: list[dict[str, str]] = []


class CheckAnswer(BaseModel):
    decision: Literal["allowed", "denied", "unknown"]
    identifier: str
    purpose: str
    using_party_id: str
    using_entity_id: str | None
    date: dt.date
    reasons: list[Reason]
    authorization: dict[str, Any] | None
    authorized_quantity: float | None
    quantity_first_transferred: float | None
    quantity_available: float | None
    alerts: list[dict[str, Any]]


@router.post("/checks/authorization", response_model=CheckAnswer)
def authorization_check(
    body: CheckRequest,
    connection: Connection = Depends(read_connection),
    _caller: Principal = Depends(authorize_read),
) -> Any:
    return check_authorization(connection, ProposedUse(**body.model_dump()))
