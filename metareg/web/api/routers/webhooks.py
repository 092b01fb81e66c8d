"""`/v1/webhooks`: admins list, add and remove webhook subscriptions
(`metareg.alerts.webhooks.subscriptions`). Secrets go in, never come out; a URL that
resolves to a private address is refused here (only the CLI or config may allow it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from metareg.alerts.webhooks import subscriptions
from metareg.web.api.auth import authorize
from metareg.web.api.deps import engine_of, read_connection
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["webhooks"])

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class NewSubscription(BaseModel):
    id: str = Field(pattern=NAME_PATTERN, description="A name for the subscription")
    url: str = Field(pattern=r"^https?://[^\s/@]+", max_length=2000)
    secret: str = Field(min_length=16, max_length=500, description="Signs each delivery")
    rules: list[str] | None = None
    severities: list[str] | None = None
    cooperative_approach_ids: list[str] | None = None
    registries: list[str] | None = None
    active: bool = True


class SubscriptionOut(BaseModel):
    id: str
    url: str
    rules: list[str] | None
    severities: list[str] | None
    cooperative_approach_ids: list[str] | None
    registries: list[str] | None
    allow_private: bool
    active: bool
    origin: str
    created_at: str | None


@router.get("/webhooks", response_model=list[SubscriptionOut])
def list_webhooks(
    connection: Connection = Depends(read_connection), _caller: Principal = Depends(authorize)
) -> Any:
    return subscriptions.list_subscriptions(connection)


@router.post("/webhooks", response_model=SubscriptionOut, status_code=201)
def add_webhook(
    body: NewSubscription,
    engine: Engine = Depends(engine_of),
    _caller: Principal = Depends(authorize),
) -> Any:
    subscription = subscriptions.Subscription(**body.model_dump(), origin="api")
    try:
        with engine.begin() as connection:
            return subscriptions.save_subscription(connection, subscription)
    except subscriptions.SubscriptionError as error:
        raise ApiProblem(422, str(error), kind="invalid-subscription") from error
    except ValueError as error:  # e.g. a host name the resolver cannot even encode (IDNA)
        raise ApiProblem(
            422, f"The URL's host cannot be checked: {error}", kind="invalid-subscription"
        ) from error


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=204,
    responses={404: {"description": "No such subscription"}},
)
def remove_webhook(
    subscription_id: str = Path(..., pattern=NAME_PATTERN),
    engine: Engine = Depends(engine_of),
    _caller: Principal = Depends(authorize),
) -> Response:
    with engine.begin() as connection:
        removed = subscriptions.remove_subscription(connection, subscription_id)
    if not removed:
        raise ApiProblem(404, f"No webhook subscription {subscription_id!r}.")
    return Response(status_code=204)
