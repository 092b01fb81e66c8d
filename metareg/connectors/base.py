"""What a connector is: given its configuration and the last committed cursor, it yields
pages of canonical records (and withdrawals), each with the cursor after it.

A connector knows its registry's wire format and nothing about the index: the sync
engine validates, writes and commits each page with its cursor in one transaction, so a
connector must make `pages(cursor)` resume exactly after the page whose cursor it gave.

Complete listings. A source that lists *everything* (a full resync of a change feed, a
holdings snapshot, a file export) marks its first page `pass_start` and its last page
`pass_end` with a `scope`; the engine then withdraws the records of that scope the
listing no longer contains (RECORDS.md: absent from a full snapshot = withdrawn).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from metareg.connectors.http import HttpClient, HttpSettings

SCOPE_RECORDS = "records"  # actions and authorizations


def holdings_scope(as_of: str) -> str:
    return f"holdings:{as_of}"


@dataclass(slots=True)
class Item:
    """One thing a registry said: a canonical record or a withdrawal envelope
    (`{"record_type": "withdrawal", "of": {...}}`), with its raw text and location."""

    value: Any
    raw: str
    location: str
    problems: list[str] = field(default_factory=list)  # unreadable: quarantined with these
    # provisional cooperative approaches the mapping met (`mapping.ApproachNote`s), stored
    # with the page
    approaches: list[Any] = field(default_factory=list)
    # a profile's row: what `metareg quarantine reprocess` maps again (`mapping.row_origin`)
    origin: dict[str, Any] | None = None


@dataclass(slots=True)
class Page:
    items: list[Item]
    cursor: str | None  # the cursor after this page: where pages() resumes
    reset: bool = False  # the registry asks for a full resync (items are ignored)
    scope: str = SCOPE_RECORDS
    pass_start: bool = False
    pass_end: bool = False
    lag_seconds: float | None = None  # how far behind the registry's newest change


@dataclass(frozen=True)
class ConnectorConfig:
    """A registry's connector settings (its `[registries.connector]` table)."""

    registry_id: str
    party_id: str
    kind: str
    options: dict[str, Any]
    http: HttpSettings
    allow_private_network: bool = False

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def require(self, name: str) -> Any:
        from metareg.connectors.errors import ConfigurationError

        if name not in self.options or self.options[name] in (None, ""):
            raise ConfigurationError(f"{self.registry_id}: connector needs '{name}'")
        return self.options[name]


@dataclass(frozen=True)
class Totals:
    """A registry's own figures for reconciliation (exchange `/totals`)."""

    as_of: str
    rows: list[dict[str, Any]] = field(default_factory=list)


class Connector(ABC):
    """Subclasses set `kind` and implement `pages`; reconciliation is optional."""

    kind: ClassVar[str]
    # Whether a large sync may read the rest of its pages in a child process, where the
    # connector is built again and resumes from a cursor (`sync.reading`): true for a
    # paged API; a file export would be fetched and parsed again from its start.
    reads_in_child: ClassVar[bool] = False

    def __init__(self, config: ConnectorConfig, http: HttpClient) -> None:
        self.config = config
        self.http = http

    @abstractmethod
    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages after `cursor` (None = from the beginning, a full listing)."""

    def totals(self) -> Totals | None:
        """The registry's totals per cooperative approach and vintage, if it serves them."""
        return None

    def blocks(self, cooperative_approach_id: str, vintage: int) -> Iterator[dict[str, Any]]:
        """The registry's current blocks of one approach and vintage, if it serves them."""
        return iter(())

    def close(self) -> None:
        self.http.close()
