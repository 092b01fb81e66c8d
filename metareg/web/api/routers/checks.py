"""`POST /v1/checks/authorization`: may these ITMOs be first transferred, or used for
this purpose by this Party? The answer is
`metareg.oversight.checks.check_authorization`'s.

The answer is serialized once with orjson, shaped exactly like `CheckAnswer` (the
documented model; a test holds the two together: the same bytes as the model's own
serialization), instead of being validated into the model and dumped again on every
request."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from metareg.oversight.checks import InvalidProposal, ProposedAction, check_authorization
from metareg.records.identifiers import IdentifierError, is_provisional, parse_itmo
from metareg.web.api.auth import authorized_read
from metareg.web.api.deps import inline_reads
from metareg.web.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["checks"])

PARTY = r"^[A-Z]{3}$"


class CheckRequest(BaseModel):
    identifier: str = Field(
        max_length=300,
        description="Unit or block, e.g. CA0001-IDN01-IDN-1-1000-2023, or the underlying "
        "programme's serial (a Verra or Gold Standard serial, an ACR range): every ITMO block "
        "resting on those units is checked",
    )
    programme: str | None = Field(
        None,
        pattern=r"^[A-Z][A-Z0-9.]{1,15}$",
        description="The programme whose serial `identifier` is (VCS, GS, ACR, ...); default: "
        "an ITMO identifier, or the programme the serial's shape names",
    )
    action_type: Literal["First transfer", "Use", "Cancellation"] | None = Field(
        None,
        description="The action proposed. Default: a Use for purpose NDC, a Cancellation "
        "for OIMP (as the AEF records them). A Party asks before it first transfers too.",
    )
    purpose: Literal["NDC", "OIMP"] | None = Field(
        None, description="Required for a Use or Cancellation"
    )
    using_party_id: str | None = Field(
        None, pattern=PARTY, description="Required for a Use or Cancellation"
    )
    using_entity_id: str | None = Field(None, min_length=1, max_length=256)
    acquiring_party_id: str | None = Field(
        None,
        pattern=PARTY,
        description="A First transfer's buyer; none for a first transfer for OIMP whose "
        "action_subtype is Authorization, Issuance or Use or cancellation",
    )
    action_subtype: str | None = Field(
        None, min_length=1, max_length=256, description="The AEF action subtype"
    )
    date: dt.date | None = Field(None, description="Date of the intended action (default: today)")
    authorization_id: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="Default, for a Use or Cancellation: the one the units' first transfer "
        "names (a First transfer must name it)",
    )


class Reason(BaseModel):
    code: str
    outcome: Literal["failed", "passed", "unknown"]
    message: str
    severity: str | None = None
    alert_id: str | None = Field(None, description="CK04: the unresolved critical alert")
    evidence: list[dict[str, str]] = []


class CheckAnswer(BaseModel):
    decision: Literal["allowed", "denied", "unknown"]
    identifier: str
    action_type: str
    purpose: str | None
    using_party_id: str | None
    using_entity_id: str | None
    acquiring_party_id: str | None
    date: dt.date
    reasons: list[Reason]
    authorization: dict[str, Any] | None = Field(
        description="The version judging the action: in force on its date (a use: when its "
        "units were first transferred), stated by a registry acting for the authorizing Party"
    )
    authorized_quantity: float | None
    quantity_first_transferred: float | None
    quantity_available: float | None
    alerts: list[dict[str, Any]]
    itmo_blocks: list[str] = Field(
        [], description="The ITMO blocks checked (those resting on a programme serial's units)"
    )
    programme: dict[str, Any] | None = Field(
        None,
        description="What the underlying programme reports about the units: {programme, "
        "units, statuses (its unit_status records)}",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def provisional(self) -> bool:
        """RECORDS.md: units of a provisional cooperative approach (CAP-...) are marked."""
        try:
            return is_provisional(parse_itmo(self.identifier).cooperative_approach_id)
        except IdentifierError:
            return False


@router.post("/checks/authorization", response_model=CheckAnswer)
async def authorization_check(
    request: Request,
    body: CheckRequest,
    connection: Connection = Depends(authorized_read),
) -> Any:
    # The key is checked (and a read slot held) before the body is validated, as with
    # `read_connection` and `authorize_read`; no worker-thread hop when reads are short.
    proposal = ProposedAction(**body.model_dump())
    if inline_reads(request):
        answer = answer_check(connection, proposal)
    else:
        answer = await run_in_threadpool(answer_check, connection, proposal)
    return Response(answer_bytes(answer), media_type="application/json")


def answer_check(connection: Connection, proposal: ProposedAction) -> dict[str, Any]:
    try:
        return check_authorization(connection, proposal)
    except InvalidProposal as error:
        raise ApiProblem(
            422,
            str(error),
            kind="invalid-request",
            errors=[
                {"location": f"body.{p.path.removeprefix('$.')}", "message": p.message}
                for p in error.problems
            ],
        ) from error


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _reason(reason: dict[str, Any]) -> dict[str, Any]:
    """A reason as `Reason` writes it (every field, in its order)."""
    return {
        "code": reason["code"],
        "outcome": reason["outcome"],
        "message": reason["message"],
        "severity": reason.get("severity"),
        "alert_id": reason.get("alert_id"),
        "evidence": reason.get("evidence", []),
    }


def _provisional(identifier: str) -> bool:
    """`CheckAnswer.provisional`: only an identifier holding "CAP-" can name one (the
    approach is a part of the text), so the others are not parsed again."""
    if "CAP-" not in identifier:
        return False
    try:
        return is_provisional(parse_itmo(identifier).cooperative_approach_id)
    except IdentifierError:
        return False


def answer_bytes(answer: dict[str, Any]) -> bytes:
    """`check_authorization`'s answer as JSON, byte for byte what `CheckAnswer` would
    write (its fields in order, its quantities as floats, the computed `provisional`)."""
    body = {
        "decision": answer["decision"],
        "identifier": answer["identifier"],
        "action_type": answer["action_type"],
        "purpose": answer["purpose"],
        "using_party_id": answer["using_party_id"],
        "using_entity_id": answer["using_entity_id"],
        "acquiring_party_id": answer["acquiring_party_id"],
        "date": answer["date"],
        "reasons": [_reason(reason) for reason in answer["reasons"]],
        "authorization": answer["authorization"],
        "authorized_quantity": _float(answer["authorized_quantity"]),
        "quantity_first_transferred": _float(answer["quantity_first_transferred"]),
        "quantity_available": _float(answer["quantity_available"]),
        "alerts": answer["alerts"],
        "itmo_blocks": answer.get("itmo_blocks", []),
        "programme": answer.get("programme"),
        "provisional": _provisional(answer["identifier"]),
    }
    # pydantic writes an aware UTC datetime with "Z", as OPT_UTC_Z does.
    return orjson.dumps(body, default=jsonable_encoder, option=orjson.OPT_UTC_Z)
