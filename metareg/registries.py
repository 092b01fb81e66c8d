"""Participating registries: read from config/registries.toml, kept in the index.

A registry belongs to the Party whose alpha-3 code begins its id (RULES.md:
`JPN01` belongs to `JPN`), and acts for that Party and for the Parties of its
`acts_for` entry (RECORDS.md "Who may state an authorization": the international
registry, a shared CAD Trust node), e.g. `acts_for = ["VUT", "TUV"]`. Later sections
of the same file add each registry's connector and schedule; this module reads only
what every registry has.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from metareg.db.tables.index import Registry
from metareg.db.upsert import upsert

REGISTRY_ID = re.compile(r"^[A-Z]{3}[0-9]{2}$")
# A crediting programme's registry (RECORDS.md `unit_status`): its id is the
# programme's own (VCS, GS, ACR, CAR, ART, CERCARBONO, ISOMETRIC, JCM, A6.4M) and it
# belongs to no Party. Never of the Party registry shape.
PROGRAMME_ID = re.compile(r"^[A-Z][A-Z0-9.]{1,15}$")
PARTY_ID = re.compile(r"^[A-Z]{3}$")
PARTY = "party"
PROGRAMME = "programme"
_registry = Registry


class RegistryConfigError(ValueError):
    """The registries file is missing, unreadable or names a registry wrongly."""


def party_of(registry_id: str) -> str:
    """The Party a registry belongs to ("" for a programme's registry)."""
    return "" if is_programme(registry_id) else registry_id[:3]


def is_programme(registry_id: str) -> bool:
    """Whether the id names a crediting programme's registry rather than a Party's."""
    return not REGISTRY_ID.match(registry_id or "") and bool(PROGRAMME_ID.match(registry_id or ""))


def kind_of(registry_id: str) -> str:
    return PROGRAMME if is_programme(registry_id) else PARTY


def check_registry_id(registry_id: str) -> str:
    """A Party registry id (JPN01) or a programme id (VCS); anything else is refused."""
    if not REGISTRY_ID.match(registry_id or "") and not is_programme(registry_id):
        raise RegistryConfigError(
            f"registry id {registry_id!r} must be an ISO 3166 alpha-3 code and two digits, "
            "e.g. JPN01, or a crediting programme's id (capitals, digits and dots, e.g. VCS)"
        )
    return registry_id


def check_party_registry_id(registry_id: str) -> str:
    if not REGISTRY_ID.match(registry_id or ""):
        raise RegistryConfigError(
            f"registry id {registry_id!r} must be an ISO 3166 alpha-3 code and two digits, "
            "e.g. JPN01"
        )
    return registry_id


def check_programme_id(programme_id: str) -> str:
    if not is_programme(programme_id):
        raise RegistryConfigError(
            f"programme id {programme_id!r} must be the programme's own id in capitals, "
            "digits and dots (e.g. VCS, GS, ACR, CERCARBONO), not a Party registry id"
        )
    return programme_id


@dataclass(frozen=True)
class RegistryConfig:
    id: str
    name: str
    party_id: str
    settings: dict[str, Any] = field(default_factory=dict)  # connector, schedule, ...
    acts_for: tuple[str, ...] = ()  # Parties besides its own it states authorizations for
    kind: str = PARTY  # or PROGRAMME: a crediting programme's registry ([[programmes]])


def load_registries(path: Path) -> list[RegistryConfig]:
    """Every [[registries]] entry of the file, then every [[programmes]] entry (a
    crediting programme's registry, polled the same way); a missing file means none."""
    if not path.exists():
        return []
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RegistryConfigError(f"{path}: not valid TOML: {error}") from error
    entries = document.get("registries", [])
    if not isinstance(entries, list):
        raise RegistryConfigError(f"{path}: 'registries' must be an array of tables")
    programmes = document.get("programmes", [])
    if not isinstance(programmes, list):
        raise RegistryConfigError(f"{path}: 'programmes' must be an array of tables")
    configs: list[RegistryConfig] = []
    programme_configs: list[RegistryConfig] = []
    seen: set[str] = set()
    for number, entry in enumerate(programmes, start=1):
        if not isinstance(entry, dict) or "id" not in entry:
            raise RegistryConfigError(f"{path}: programmes entry {number} has no id")
        try:
            programme_id = check_programme_id(str(entry["id"]))
        except RegistryConfigError as error:
            raise RegistryConfigError(f"{path}: {error}") from error
        if programme_id in seen:
            raise RegistryConfigError(f"{path}: programme {programme_id} is listed twice")
        seen.add(programme_id)
        settings = {k: v for k, v in entry.items() if k not in ("id", "name")}
        programme_configs.append(
            RegistryConfig(programme_id, str(entry.get("name", "")), "", settings, (), PROGRAMME)
        )
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "id" not in entry:
            raise RegistryConfigError(f"{path}: registries entry {number} has no id")
        registry_id = check_party_registry_id(str(entry["id"]))
        if registry_id in seen:
            raise RegistryConfigError(f"{path}: registry {registry_id} is listed twice")
        seen.add(registry_id)
        party = str(entry.get("party", party_of(registry_id)))
        if party != party_of(registry_id):
            raise RegistryConfigError(
                f"{path}: registry {registry_id} must belong to Party {party_of(registry_id)}, "
                f"not {party}"
            )
        acts_for = _acts_for(entry.get("acts_for", []), f"{path}: registry {registry_id}")
        settings = {k: v for k, v in entry.items() if k not in ("id", "name", "party", "acts_for")}
        configs.append(
            RegistryConfig(registry_id, str(entry.get("name", "")), party, settings, acts_for)
        )
    return configs + programme_configs


def _acts_for(value: Any, where: str) -> tuple[str, ...]:
    """An `acts_for` entry: a list of alpha-3 Party codes (its own Party is implied)."""
    if not isinstance(value, list) or not all(
        isinstance(p, str) and PARTY_ID.match(p) for p in value
    ):
        raise RegistryConfigError(
            f"{where}: acts_for must be a list of ISO 3166 alpha-3 codes, e.g. "
            f'["VUT", "TUV"], not {value!r}'
        )
    return tuple(sorted(set(value)))


def ensure_registry(
    connection: Connection, registry_id: str, name: str = "", origin: str = "ingest"
) -> None:
    """Add the registry to the index if it is not there yet (its Party from its id)."""
    check_registry_id(registry_id)
    exists = connection.execute(select(_registry.c.id).where(_registry.c.id == registry_id)).first()
    if exists is None:
        upsert(
            connection,
            _registry,
            [
                {
                    "id": registry_id,
                    "party_id": party_of(registry_id),
                    "name": name,
                    "origin": origin,
                    "created_at": datetime.now(UTC),
                    "kind": kind_of(registry_id),
                }
            ],
            key=("id",),
            update=(),
        )


def store_configured(connection: Connection, configs: list[RegistryConfig]) -> None:
    """Make the index's registry table agree with the configuration file."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": c.id,
            "party_id": c.party_id,
            "name": c.name,
            "origin": "config",
            "created_at": now,
            "acts_for": list(c.acts_for),
            "kind": c.kind,
        }
        for c in configs
    ]
    upsert(
        connection,
        _registry,
        rows,
        key=("id",),
        update=("party_id", "name", "origin", "acts_for", "kind"),
    )


def acts_for(connection: Connection) -> dict[str, list[str]]:
    """Registry id -> the Parties of its `acts_for` entry, for the registries that have
    one (the others act for their own Party only)."""
    rows = connection.execute(select(_registry.c.id, _registry.c.acts_for))
    return {registry_id: sorted(parties) for registry_id, parties in rows if parties}
