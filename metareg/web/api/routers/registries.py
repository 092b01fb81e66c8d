"""`/v1/registries`: who is configured or reporting, and how their sync is doing
(`metareg.oversight.registries`).

Public callers see each registry's public fields and a one-word sync status; with the
oversight role they also see its configuration (never a secret: connector auth
settings and anything that looks like a credential are dropped) and the full sync
health of the core `sync_state` table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection

from metareg.oversight.registries import RegistryStatus, registry_statuses
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection, settings_of
from metareg.web.auth import OVERSIGHT, Principal
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["registries"])


class SyncHealth(BaseModel):
    status: str  # ok | failing | never
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    consecutive_failures: int | None = None
    records_received: int | None = None
    records_quarantined: int | None = None
    lag_seconds: float | None = None
    last_error: str | None = None
    # oversight only: `status` split as `metareg status` shows it (ok | quarantining |
    # failing | stale | never), and the largest share of a page the last sync quarantined
    health: str | None = None
    quarantine_share: float | None = None


class RegistryOut(BaseModel):
    id: str
    party_id: str
    name: str
    configured: bool
    in_index: bool
    sync: SyncHealth
    configuration: dict[str, Any] | None = None  # oversight only


def registries_view(
    connection: Connection, settings: ApiSettings, principal: Principal
) -> list[RegistryOut]:
    found = registry_statuses(connection, settings.config)
    full = principal.at_least(OVERSIGHT)
    return [_shaped(registry, full) for registry in found]


def _shaped(registry: RegistryStatus, full: bool) -> RegistryOut:
    sync = registry.sync
    if full and sync is not None:
        health = SyncHealth(
            status=registry.status,
            last_success_at=sync["last_success_at"],
            last_attempt_at=sync["last_attempt_at"],
            consecutive_failures=sync["consecutive_failures"],
            records_received=sync["records_received"],
            records_quarantined=sync["records_quarantined"],
            lag_seconds=sync["lag_seconds"],
            last_error=sync["last_error"],
            health=registry.health(datetime.now(UTC)),
            quarantine_share=registry.quarantine_share,
        )
    else:
        health = SyncHealth(
            status=registry.status, last_success_at=sync["last_success_at"] if sync else None
        )
    return RegistryOut(
        id=registry.id,
        party_id=registry.party_id,
        name=registry.name,
        configured=registry.configured,
        in_index=registry.in_index,
        sync=health,
        configuration=registry.configuration if full else None,
    )


@router.get("/registries", response_model=list[RegistryOut], response_model_exclude_none=True)
def list_registries(
    connection: Connection = Depends(read_connection),
    settings: ApiSettings = Depends(settings_of),
    caller: Principal = Depends(authorize),
) -> list[RegistryOut]:
    return registries_view(connection, settings, caller)


@router.get(
    "/registries/{registry_id}",
    response_model=RegistryOut,
    response_model_exclude_none=True,
    responses={404: {"description": "No such registry"}},
)
def get_registry(
    registry_id: str,
    connection: Connection = Depends(read_connection),
    settings: ApiSettings = Depends(settings_of),
    caller: Principal = Depends(authorize),
) -> RegistryOut:
    for registry in registries_view(connection, settings, caller):
        if registry.id == registry_id:
            return registry
    raise ApiProblem(404, f"No registry {registry_id!r} is configured or in the index.")
