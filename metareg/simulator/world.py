"""The world generator: a pure, seeded function from a scenario to every record.

`generate_world(scenario)` returns a `World`: for each simulated registry, the records
it publishes (authorizations and actions, each with the simulated day it appears) and
its yearly holdings snapshots, plus the ground truth of the conflicts planted in it.
The same scenario and seed always give the same world, byte for byte.

The clean part of the world is built so that no rule of RULES.md fires on it: serials
never overlap, quantities equal the serial count, every first transfer and use names an
authorization of its approach that allows its purpose, Party and vintage, authorized
quantities cover every first transfer, every transfer is acquired within days, nothing
moves after it is used, and holdings follow the transfers. Only `planter` adds conflicts.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from metareg.records.canonical import record_uid
from metareg.registries import party_of
from metareg.simulator.ledger import (
    SNAPSHOT_PUBLISH_DELAY,
    AuthorizationPlan,
    Ledger,
    Lot,
    Movement,
    PlantedHolding,
    Published,
    day_after,
    snapshot_dates,
)
from metareg.simulator.planter import PendingConflict, Planter, programme_serial, unit_status
from metareg.simulator.scenario import ApproachSpec, ProjectSpec, Scenario

# What JCM projects look like: (activity, sector, typical size class).
PROJECT_KINDS: tuple[tuple[str, str], ...] = (
    ("Waste heat recovery", "Energy"),
    ("Solar PV", "Energy"),
    ("Energy-efficient chillers", "Energy"),
    ("LED street lighting", "Energy"),
    ("Biomass boiler", "Energy"),
    ("Hotel energy management", "Energy"),
    ("Mini hydro", "Energy"),
    ("Inverter air conditioners", "Energy"),
    ("Landfill methane recovery", "Waste"),
    ("Efficient cold storage", "Energy"),
)

ACCOUNT_SUFFIX = {
    "government-holding": "GOV-01",
    "holding": "HOLD-01",
    "retirement": "RET-01",
    "cancellation": "CAN-01",
}


def account_id(registry: str, account_type: str) -> str:
    return f"{registry}-{ACCOUNT_SUFFIX[account_type]}"


@dataclass(frozen=True)
class Snapshot:
    registry: str
    as_of: date
    published: date
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Evidence:
    registry: str
    record_type: str
    record_id: str

    def as_dict(self) -> dict[str, str]:
        return {
            "registry": self.registry,
            "record_type": self.record_type,
            "record_id": self.record_id,
        }


@dataclass(frozen=True)
class PlantedConflict:
    """One conflict the checks must find: its rule and the evidence the alert carries."""

    rule: str
    registry: str  # the registry the scenario planted it in
    day: date  # when the offending record appears
    evidence: tuple[Evidence, ...]


@dataclass
class World:
    scenario: Scenario
    records: dict[str, list[Published]]  # per registry, in commit order
    snapshots: dict[str, list[Snapshot]]  # per registry, by as_of
    conflicts: list[PlantedConflict] = field(default_factory=list)

    @property
    def registry_ids(self) -> list[str]:
        return [r.id for r in (*self.scenario.registries, *self.scenario.programmes)]

    def visible(self, registry: str, today: date) -> list[Published]:
        """The records the registry has published by `today`, in commit order."""
        return [p for p in self.records.get(registry, []) if p.published <= today]

    def snapshot(self, registry: str, today: date, as_of: date | None = None) -> Snapshot | None:
        """The latest snapshot published by `today` (or the one of `as_of`)."""
        found = None
        for snap in self.snapshots.get(registry, []):
            if snap.published > today:
                break
            if as_of is None or snap.as_of == as_of:
                found = snap
        return found


def generate_world(scenario: Scenario) -> World:
    """Every record of the scenario's world, clean except for what it plants."""
    rng = random.Random(scenario.seed)
    ledger = Ledger([r.id for r in (*scenario.registries, *scenario.programmes)])
    plans = {
        (approach.id, host): AuthorizationPlan(
            f"{party_of(host)}-{approach.id}-A01", approach, host, scenario.start
        )
        for approach in scenario.approaches
        for host in approach.hosts
    }
    approaches = {a.id: a for a in scenario.approaches}
    projects = list(scenario.projects) + _draw_projects(scenario, rng)
    for project in projects:
        _simulate_project(ledger, scenario, approaches[project.approach], project, plans, rng)
    _programme_market(ledger, scenario, random.Random(scenario.seed * 31 + 7))
    planter = Planter(ledger, scenario, plans, random.Random(scenario.seed * 7919 + 1))
    pending = planter.plant_all()
    extra_plans = planter.extra_plans
    _publish_authorizations(ledger, [*plans.values(), *extra_plans])
    snapshots = _snapshots(ledger, scenario)
    records = {
        registry: sorted(ledger.records.get(registry, []), key=lambda p: (p.published, p.seq))
        for registry in ledger.registries
    }
    world = World(scenario, records, snapshots)
    world.conflicts = [_resolved(world, item) for item in pending]
    return world


def _resolved(world: World, pending: PendingConflict) -> PlantedConflict:
    """A planted conflict with its holding evidence named by the snapshot it is in."""
    resolved: list[Evidence] = []
    for item in pending.evidence:
        if isinstance(item, PlantedHolding):
            resolved.append(Evidence(item.registry, "holding", _latest_uid(world, item)))
        else:
            resolved.append(Evidence(*item))
    return PlantedConflict(pending.rule, pending.registry, pending.day, tuple(resolved))


def _latest_uid(world: World, planted: PlantedHolding) -> str:
    snapshot = world.snapshot(planted.registry, world.scenario.end)
    assert snapshot is not None, "plant windows end before the last snapshot"
    for row in snapshot.rows:
        if row["account_id"] == planted.account_id and row["first_id"] == planted.block["first_id"]:
            return record_uid(row)
    raise AssertionError("planted holding missing from the latest snapshot")


# --- the clean world --------------------------------------------------------------------


def _draw_projects(scenario: Scenario, rng: random.Random) -> list[ProjectSpec]:
    drawn: list[ProjectSpec] = []
    low, high = math.log(scenario.generated.min_tco2e), math.log(scenario.generated.max_tco2e)
    for number in range(1, scenario.generated.count + 1):
        approach = scenario.approaches[rng.randrange(len(scenario.approaches))]
        host = approach.hosts[rng.randrange(len(approach.hosts))]
        activity, sector = PROJECT_KINDS[rng.randrange(len(PROJECT_KINDS))]
        drawn.append(
            ProjectSpec(
                name=f"{activity} #{number} ({party_of(host)})",
                approach=approach.id,
                host=host,
                annual_tco2e=max(1, int(round(math.exp(rng.uniform(low, high)), -1))),
                sector=sector,
                activity_type=activity,
                first_vintage=scenario.start.year - 1 + rng.randrange(2),
            )
        )
    return drawn


def _simulate_project(
    ledger: Ledger,
    scenario: Scenario,
    approach: ApproachSpec,
    project: ProjectSpec,
    plans: dict[tuple[str, str], AuthorizationPlan],
    rng: random.Random,
) -> None:
    """Issue each vintage of the project and carry it through its life."""
    authorization = plans[(approach.id, project.host)].authorization_id
    buyer, host = approach.buyer, project.host
    first_vintage = max(project.first_vintage or scenario.start.year - 1, approach.timeframe[0])
    last_vintage = min(scenario.end.year - 1, approach.timeframe[1])
    for vintage in range(first_vintage, last_vintage + 1):
        issued = date(vintage + 1, 1 + rng.randrange(11), 1 + rng.randrange(28))
        quantity = max(1, round(project.annual_tco2e * rng.uniform(0.8, 1.05)))
        if issued < scenario.start or issued > scenario.end:
            continue
        lot, _ = ledger.issue(
            {
                "approach": approach.id,
                "host": host,
                "vintage": vintage,
                "mitigation_type": project.mitigation_type,
                "sector": project.sector,
                "activity_type": project.activity_type,
            },
            quantity,
            issued,
        )
        authorized = day_after(issued, 1 + rng.randrange(7))
        _emit(
            ledger,
            scenario,
            host,
            "AUT",
            authorized,
            "Authorization",
            lot,
            lot.first_id,
            lot.last_id,
            {"authorization_id": authorization, "action_subtype": "Authorization"},
        )
        _transfer_lot(ledger, scenario, lot, buyer, authorization, authorized, rng)


def _transfer_lot(
    ledger: Ledger,
    scenario: Scenario,
    lot: Lot,
    buyer: str,
    authorization: str,
    after: date,
    rng: random.Random,
) -> None:
    """First-transfer a share of the lot to the buyer in one or two tranches; the buyer
    acquires each within days, later uses part of it and cancels a little for OMGE."""
    share = max(1, round(lot.quantity * rng.uniform(0.5, 0.9)))
    tranches = [share] if share < 2 or rng.random() < 0.5 else [share // 2, share - share // 2]
    start, day = lot.first_id, after
    for size in tranches:
        first, last = start, start + size - 1
        start = last + 1
        day = day_after(day, 14 + rng.randrange(60))
        transferred = _emit(
            ledger,
            scenario,
            lot.host,
            "FT",
            day,
            "First transfer",
            lot,
            first,
            last,
            {
                "action_subtype": "First transfer to another Party",
                "authorization_id": authorization,
                "acquiring_party_id": party_of(buyer),
            },
        )
        if not transferred:
            return
        acquired = day_after(day, 1 + rng.randrange(10))
        if not _emit(
            ledger,
            scenario,
            buyer,
            "ACQ",
            acquired,
            "Acquisition",
            lot,
            first,
            last,
            {"transferring_party_id": party_of(lot.host)},
        ):
            continue
        ledger.movements.append(
            Movement(
                acquired,
                buyer,
                "government-holding",
                lot,
                first,
                last,
                leaves=lot.host,
                leaves_account="government-holding",
            )
        )
        size = last - first + 1
        used = round(size * rng.uniform(0.5, 0.95)) if rng.random() < 0.75 else 0
        cancelled = max(1, round(size * 0.02)) if rng.random() < 0.4 and size - used > 1 else 0
        if used:
            use_day = day_after(acquired, 30 + rng.randrange(270))
            if _emit(
                ledger,
                scenario,
                buyer,
                "USE",
                use_day,
                "Use",
                lot,
                first,
                first + used - 1,
                {
                    "authorization_id": authorization,
                    "purpose": "NDC",
                    "using_party_id": party_of(buyer),
                    "ndc_use_year": use_day.year,
                },
            ):
                ledger.movements.append(
                    Movement(
                        use_day,
                        buyer,
                        "retirement",
                        lot,
                        first,
                        first + used - 1,
                        leaves=buyer,
                        leaves_account="government-holding",
                    )
                )
        if cancelled:
            cancel_day = day_after(acquired, 30 + rng.randrange(200))
            if _emit(
                ledger,
                scenario,
                buyer,
                "CAN",
                cancel_day,
                "Cancellation",
                lot,
                last - cancelled + 1,
                last,
                {
                    "action_subtype": "Voluntary cancellation to deliver OMGE",
                    "authorization_id": authorization,
                    "purpose": "OMGE",
                    "using_party_id": party_of(buyer),
                },
            ):
                ledger.movements.append(
                    Movement(
                        cancel_day,
                        buyer,
                        "cancellation",
                        lot,
                        last - cancelled + 1,
                        last,
                        leaves=buyer,
                        leaves_account="government-holding",
                    )
                )


def _emit(
    ledger: Ledger,
    scenario: Scenario,
    registry: str,
    kind: str,
    day: date,
    action_type: str,
    lot: Lot,
    first: int,
    last: int,
    fields: dict[str, Any],
) -> bool:
    """Publish an action on a part of a lot, unless it falls after the world's end
    (every later step depends on this one, so the caller stops the chain there)."""
    if day > scenario.end:
        return False
    if action_type == "First transfer":
        ledger.movements.append(
            Movement(
                day,
                "",
                "in-transit",
                lot,
                first,
                last,
                leaves=lot.host,
                leaves_account="government-holding",
            )
        )
    ledger.action(registry, kind, day, action_type, lot.block(first, last), fields)
    return True


def _publish_authorizations(ledger: Ledger, plans: list[AuthorizationPlan]) -> None:
    """Publish each authorization with a quantity covering every first transfer under it
    (with headroom, as Parties authorize ahead of transfers)."""
    transferred: dict[str, int] = defaultdict(int)
    for records in ledger.records.values():
        for item in records:
            record = item.record
            if record.get("action_type") == "First transfer":
                transferred[record["authorization_id"]] += (
                    record["last_id"] - record["first_id"] + 1
                )
    for plan in plans:
        quantity = plan.fixed_quantity
        if quantity is None:
            quantity = int(
                math.ceil((transferred[plan.authorization_id] * 1.25 + 1) / 10_000) * 10_000
            )
        ledger.publish(plan.host, plan.day, plan.record(quantity))


# --- crediting programmes ---------------------------------------------------------------

MARKET_BATCH_BASE = 90_001
MARKET_BATCHES = 6


def _programme_market(ledger: Ledger, scenario: Scenario, rng: random.Random) -> None:
    """Each crediting programme's own business, on batches no ITMO rests on: issuances
    (some labelled authorized for Article 6, some not) and retirements for voluntary
    claims, compliance and Article 6. None of it concerns an ITMO, so none raises."""
    for programme in scenario.programmes:
        for number in range(MARKET_BATCHES):
            batch = MARKET_BATCH_BASE + number
            units = rng.randint(500, 5_000)
            day = scenario.start + timedelta(
                days=rng.randint(0, (scenario.end - scenario.start).days)
            )
            label = rng.choice(("authorized", "not-authorized", "unknown"))
            serial = programme_serial(programme.id, batch, 1, units, "KE")
            ledger.publish(
                programme.id,
                day,
                unit_status(
                    f"{programme.id}-MKT-{batch}",
                    programme.id,
                    serial,
                    "issued",
                    day,
                    article6_label=label,
                    quantity=units,
                ),
            )
            retired = programme_serial(programme.id, batch, 1, units // 2, "KE")
            purpose = rng.choice(("voluntary", "compliance", "corsia", "article6"))
            later = min(day + timedelta(days=rng.randint(1, 90)), scenario.end)
            ledger.publish(
                programme.id,
                later,
                unit_status(
                    f"{programme.id}-MKT-RET-{batch}",
                    programme.id,
                    retired,
                    "retired",
                    later,
                    purpose=purpose,
                    article6_label=label,
                    quantity=units // 2,
                ),
            )


# --- holdings ---------------------------------------------------------------------------


def _snapshots(ledger: Ledger, scenario: Scenario) -> dict[str, list[Snapshot]]:
    movements = sorted(ledger.movements, key=lambda m: m.day)
    out: dict[str, list[Snapshot]] = {r: [] for r in ledger.registries}
    for as_of in snapshot_dates(scenario):
        positions = _positions([m for m in movements if m.day <= as_of])
        for registry in ledger.registries:
            rows = [
                _holding_row(as_of, registry, account_type, lot, first, last)
                for (where, account_type), ranges in sorted(positions.items(), key=lambda kv: kv[0])
                if where == registry
                for lot, first, last in sorted(
                    ranges, key=lambda r: (r[0].approach, r[0].host, r[1])
                )
            ]
            rows += [
                _planted_row(as_of, planted)
                for planted in ledger.planted_holdings
                if planted.registry == registry and planted.since <= as_of
            ]
            out[registry].append(
                Snapshot(registry, as_of, as_of + SNAPSHOT_PUBLISH_DELAY, tuple(rows))
            )
    return out


def _positions(movements: list[Movement]) -> dict[tuple[str, str], list[tuple[Lot, int, int]]]:
    """Where every part of every clean lot sits after these movements."""
    positions: dict[tuple[str, str], list[tuple[Lot, int, int]]] = defaultdict(list)
    for move in movements:
        if move.leaves is not None and move.leaves_account is not None:
            _take(
                positions[(move.leaves, move.leaves_account)], move.lot, move.first_id, move.last_id
            )
        if move.registry:
            positions[(move.registry, move.account_type)].append(
                (move.lot, move.first_id, move.last_id)
            )
    return {key: value for key, value in positions.items() if value}


def _take(ranges: list[tuple[Lot, int, int]], lot: Lot, first: int, last: int) -> None:
    """Remove [first, last] of the lot from an account's ranges (splitting as needed)."""
    kept: list[tuple[Lot, int, int]] = []
    for held_lot, a, b in ranges:
        if held_lot is not lot or b < first or last < a:
            kept.append((held_lot, a, b))
            continue
        if a < first:
            kept.append((held_lot, a, first - 1))
        if last < b:
            kept.append((held_lot, last + 1, b))
    ranges[:] = kept


def _holding_row(
    as_of: date, registry: str, account_type: str, lot: Lot, first: int, last: int
) -> dict[str, Any]:
    return {
        "record_type": "holding",
        "as_of": as_of.isoformat(),
        "account_id": account_id(registry, account_type),
        "account_type": account_type,
        **lot.block(first, last),
    }


def _planted_row(as_of: date, planted: PlantedHolding) -> dict[str, Any]:
    return {
        "record_type": "holding",
        "as_of": as_of.isoformat(),
        "account_id": planted.account_id,
        "account_type": planted.account_type,
        **planted.block,
    }
