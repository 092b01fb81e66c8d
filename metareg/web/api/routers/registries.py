"""`/v1/registries`: who is configured or reporting, and how their sync is doing.

Public callers see each registry's public fields and a one-word sync status; with the
oversight role they also see its configuration (never a secret: connector auth
settings and anything that looks like a credential are dropped) and the full sync
health of the core `sync_state` table.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Connection, select

from metareg import log
from metareg.db.tables.index import Registry, SyncState
from metareg.registries import RegistryConfigError, load_registries
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection, settings_of
from metareg.web.auth import OVERSIGHT, Principal
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["registries"])

_registry = Registry.__table__  # type: ignore[attr-defined]
_sync = SyncState.__table__  # type: ignore[attr-defined]

# Setting names that may carry credentials: never shown, whatever the connector.
SECRET_NAME = re.compile(
    r"auth|token|secret|password|passwd|credential|key|header|cookie|cert", re.IGNORECASE
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


class SyncHealth(BaseModel):
    status: str  # ok | failing | never
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    consecutive_failures: int | None = None
    records_received: int | None = None
    records_quarantined: int | None = None
    lag_seconds: float | None = None
    last_error: str | None = None


class RegistryOut(BaseModel):
    id: str
    party_id: str
    name: str
    configured: bool
    in_index: bool
    sync: SyncHealth
    configuration: dict[str, Any] | None = None  # oversight only


def without_secrets(value: Any) -> Any:
    """Configuration with every credential-like setting removed (recursively)."""
    if isinstance(value, dict):
        return {
            key: without_secrets(item)
            for key, item in value.items()
            if not SECRET_NAME.search(str(key))
        }
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(r"\g<scheme>***@", value)
    return value


def _status(sync: Any) -> str:
    if sync is None or (sync.last_success_at is None and sync.last_attempt_at is None):
        return "never"
    if sync.consecutive_failures:
        return "failing"
    return "ok"


def _scrub(text: str | None) -> str | None:
    if text is None:
        return None
    masked = log.redact_secrets(None, "", {"text": text})["text"]
    return str(_URL_USERINFO.sub(r"\g<scheme>***@", masked))[:1000]


def registries_view(
    connection: Connection, settings: ApiSettings, principal: Principal
) -> list[RegistryOut]:
    try:
        configs = {c.id: c for c in load_registries(settings.config / "registries.toml")}
    except RegistryConfigError as error:
        raise ApiProblem(503, f"The registries configuration is unreadable: {error}") from error
    stored = {row.id: row for row in connection.execute(select(_registry))}
    syncs = {row.registry_id: row for row in connection.execute(select(_sync))}
    full = principal.at_least(OVERSIGHT)
    out: list[RegistryOut] = []
    for registry_id in sorted(set(configs) | set(stored)):
        config, row, sync = (
            configs.get(registry_id),
            stored.get(registry_id),
            syncs.get(registry_id),
        )
        health = SyncHealth(
            status=_status(sync), last_success_at=sync.last_success_at if sync else None
        )
        if full and sync is not None:
            health = SyncHealth(
                status=health.status,
                last_success_at=sync.last_success_at,
                last_attempt_at=sync.last_attempt_at,
                consecutive_failures=sync.consecutive_failures,
                records_received=sync.records_received,
                records_quarantined=sync.records_quarantined,
                lag_seconds=sync.lag_seconds,
                last_error=_scrub(sync.last_error),
            )
        name = (config.name if config else "") or (row.name if row else "")
        out.append(
            RegistryOut(
                id=registry_id,
                party_id=config.party_id
                if config
                else str(getattr(row, "party_id", registry_id[:3])),
                name=name,
                configured=config is not None,
                in_index=row is not None,
                sync=health,
                configuration=without_secrets(config.settings) if full and config else None,
            )
        )
    return out


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
