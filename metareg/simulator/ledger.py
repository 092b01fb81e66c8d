"""The simulated world's ledger: every record each registry publishes, and when.

Both the clean world generator and the planter write through a `Ledger`, so
identifiers (action ids, serial numbers) are allocated in one place and the world stays
a pure function of the scenario and its seed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from metareg.records.canonical import record_uid
from metareg.registries import party_of
from metareg.simulator.scenario import ApproachSpec, Scenario

# Serials of planted lots start here, far from the clean world's, so a planted conflict
# never touches a clean record by accident (the ground truth stays exact).
PLANT_SERIAL_BASE = 90_000_001
SNAPSHOT_PUBLISH_DELAY = timedelta(days=5)


@dataclass(frozen=True)
class Published:
    """One record as a registry publishes it: visible from `published` on."""

    registry: str
    published: date
    seq: int  # global tie-break: the registry's commit order within a day
    record: dict[str, Any]

    @property
    def uid(self) -> str:
        return record_uid(self.record)


@dataclass
class Lot:
    """An issued block: the unit every later action takes a part of."""

    approach: str
    host: str  # originating registry id
    first_id: int
    last_id: int
    vintage: int
    issued: date
    mitigation_type: str
    sector: str
    activity_type: str
    planted: bool = False

    @property
    def quantity(self) -> int:
        return self.last_id - self.first_id + 1

    def block(self, first_id: int | None = None, last_id: int | None = None) -> dict[str, Any]:
        """The block fields of a part of this lot (the whole lot by default)."""
        first = self.first_id if first_id is None else first_id
        last = self.last_id if last_id is None else last_id
        assert self.first_id <= first <= last <= self.last_id, "a part must lie in its lot"
        return {
            "cooperative_approach_id": self.approach,
            "party_registry_id": self.host,
            "first_transferring_party_id": party_of(self.host),
            "first_id": first,
            "last_id": last,
            "vintage": self.vintage,
            "metric": "GHG",
            "quantity_tco2e": last - first + 1,
            "mitigation_type": self.mitigation_type,
            "sectors": [self.sector],
            "activity_types": [self.activity_type],
        }


@dataclass
class Movement:
    """A clean-world change of where a part of a lot sits, for the holdings snapshots."""

    day: date
    registry: str
    account_type: str  # where the range arrives
    lot: Lot
    first_id: int
    last_id: int
    leaves: str | None = None  # registry the range leaves (None: newly issued)
    leaves_account: str | None = None


@dataclass
class PlantedHolding:
    """A holding row a planted conflict adds to every snapshot from `since` on."""

    registry: str
    since: date
    account_id: str
    account_type: str
    block: dict[str, Any]


@dataclass(frozen=True)
class AuthorizationPlan:
    """An authorization the world will publish; its quantity is set once all transfers
    under it are known, so that it always covers them."""

    authorization_id: str
    approach: ApproachSpec
    host: str
    day: date
    fixed_quantity: int | None = None

    def record(self, quantity: int) -> dict[str, Any]:
        """The authorization as its host registry publishes it (version 1)."""
        return {
            "record_type": "authorization",
            "authorization_id": self.authorization_id,
            "authorization_date": self.day.isoformat(),
            "authorizing_party_id": party_of(self.host),
            "cooperative_approach_id": self.approach.id,
            "version": 1,
            "authorized_quantity": quantity,
            "metric": "GHG",
            "purposes": list(self.approach.purposes),
            "authorized_party_ids": [party_of(self.approach.buyer)],
            "timeframe_start": self.approach.timeframe[0],
            "timeframe_end": self.approach.timeframe[1],
            "terms": f"Authorized under {self.approach.name}",
            "status": "active",
        }


@dataclass
class Ledger:
    registries: list[str]
    records: dict[str, list[Published]] = field(default_factory=lambda: defaultdict(list))
    lots: list[Lot] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    planted_holdings: list[PlantedHolding] = field(default_factory=list)
    _seq: int = 0
    _action_numbers: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _serials: dict[tuple[str, str], int] = field(default_factory=dict)

    def publish(self, registry: str, day: date, record: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        self.records[registry].append(Published(registry, day, self._seq, record))
        return record

    def action_id(self, registry: str, kind: str) -> str:
        self._action_numbers[(registry, kind)] += 1
        return f"{registry}-{kind}-{self._action_numbers[(registry, kind)]:06d}"

    def allocate(self, approach: str, host: str, quantity: int, planted: bool = False) -> int:
        """The first serial of a new block in (approach, originating registry)."""
        key = (approach, host if not planted else f"{host}#plant")
        start = self._serials.get(key, PLANT_SERIAL_BASE if planted else 1)
        self._serials[key] = start + quantity
        return start

    def issue(
        self,
        lot_template: dict[str, Any],
        quantity: int,
        day: date,
        reporter: str | None = None,
        planted: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Lot, dict[str, Any]]:
        """Issue a new lot in its originating registry (or `reporter`) and publish it."""
        approach, host = lot_template["approach"], lot_template["host"]
        first = self.allocate(approach, host, quantity, planted)
        lot = Lot(
            approach=approach,
            host=host,
            first_id=first,
            last_id=first + quantity - 1,
            vintage=lot_template["vintage"],
            issued=day,
            mitigation_type=lot_template.get("mitigation_type", "Emission reductions"),
            sector=lot_template.get("sector", "Energy"),
            activity_type=lot_template.get("activity_type", "Energy efficiency"),
            planted=planted,
        )
        self.lots.append(lot)
        registry = reporter or host
        record = self.action(registry, "ISS", day, "Issuance", lot.block(), extra or {})
        if not planted:
            self.movements.append(
                Movement(day, host, "government-holding", lot, first, lot.last_id)
            )
        return lot, record

    def action(
        self,
        registry: str,
        kind: str,
        day: date,
        action_type: str,
        block: dict[str, Any],
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "record_type": "action",
            "action_id": self.action_id(registry, kind),
            "action_date": day.isoformat(),
            "action_type": action_type,
            **block,
            **fields,
        }
        return self.publish(registry, day, record)


def day_after(day: date, days: int) -> date:
    return day + timedelta(days=days)


def snapshot_dates(scenario: Scenario) -> list[date]:
    """Every 31 December whose snapshot is published within the world."""
    return [
        date(year, 12, 31)
        for year in range(scenario.start.year, scenario.end.year + 1)
        if scenario.start <= date(year, 12, 31)
        and date(year, 12, 31) + SNAPSHOT_PUBLISH_DELAY <= scenario.end
    ]
