"""Planting double counting: each rule of RULES.md, a given number of times, on purpose.

Every planted conflict lives on its own fresh lot (serials from `PLANT_SERIAL_BASE`,
never touched by the clean world), so it raises exactly the alerts listed in its ground
truth and nothing else. Each planting is a short story a real registry could tell:

- DC01 the registry issues serials the originating registry already issued;
- DC02 it records an authorization of a block under the wrong vintage;
- DC03 it issues a new block resting on underlying VCS units already issued on;
- DC04 it lists in its holdings a block another holder still lists;
- DC05 it uses (or cancels) units the buyer already used;
- DC06 it lists used units in a holding account of a later snapshot;
- DC07 it cancels naming an authorization nobody published;
- DC08 it uses units for a purpose their authorization does not allow;
- DC09 (an originating registry) it first-transfers beyond a small authorization; (any
  other) it uses units whose vintage lies outside the authorization's timeframe;
- DC10 it transfers units to a Party whose registry never acquires them;
- DC11 it acquires units the other Party's registry never transferred;
- DC12 it records a voluntary cancellation whose quantity disagrees with its serials;
- DC13 (an originating registry) it first-transfers under an authorization of its own
  given three days later; (any other) it uses units under such an authorization;
- DC14 it restates another Party's authorization with another quantity;
- DC15 (an originating registry) it issues a block resting on programme units (fresh
  batch) that the scenario's crediting programme reports retired in part for a
  voluntary claim; the programme also retires other units of the batch for Article 6
  and units just past the block (touching), which raise nothing;
- DC16 it issues a block resting on programme units the programme labels not
  authorized for Article 6 (beside units it labels authorized, which raise nothing);
- DC17 it lists in its holdings a block the originating registry never issued.

Dates are drawn between the world's start and the last holdings snapshot, and at least
a grace period plus two weeks before the world's end, so DC10/DC11 are due when checked
"as of" the world's end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from metareg.registries import party_of
from metareg.simulator.ledger import (
    AuthorizationPlan,
    Ledger,
    Lot,
    PlantedHolding,
    day_after,
    snapshot_dates,
)
from metareg.simulator.scenario import ApproachSpec, Scenario, ScenarioError

PLANT_LOT_SIZE = (200, 5_000)
VERRA_SERIAL = "{batch}-{n}-{n}-VCS-VCU-1507-VER-{country}-1-{project}-01012022-31122022-0"
# Serials of whole blocks in the programmes' real shapes (metareg.records.serials).
PROGRAMME_SERIALS = {
    "VCS": "{batch}-{first}-{last}-VCS-VCU-1507-VER-{country}-14-{project}-01012022-31122022-0",
    "GS": "GS1-1-{country}-GS{project}-16-2022-{batch}-{first}-{last}",
}
# Batches of the programme units planted on (the DC03 plants use batch 20231).
PROGRAMME_BATCH_BASE = 40_001


def programme_serial(programme: str, batch: int, first: int, last: int, country: str) -> str:
    """A block of a programme's units, written in the programme's own serial shape."""
    return PROGRAMME_SERIALS[programme].format(
        batch=batch, first=first, last=last, country=country, project=batch % 10_000
    )


def unit_status(
    status_id: str,
    programme: str,
    serial: str,
    status: str,
    day: date,
    **fields: Any,
) -> dict[str, Any]:
    """A `unit_status` record (RECORDS.md) of the programme about one block of units."""
    return {
        "record_type": "unit_status",
        "status_id": status_id,
        "underlying_registry_id": programme,
        "first_unit_id": serial,
        "last_unit_id": serial,
        "status": status,
        "status_date": day.isoformat(),
        **fields,
    }


@dataclass
class PendingConflict:
    """A planted conflict; its holding evidence is named once the snapshots exist
    (`world.generate_world` resolves it)."""

    rule: str
    registry: str
    day: date
    evidence: list[tuple[str, str, str] | PlantedHolding]


class Planter:
    def __init__(
        self,
        ledger: Ledger,
        scenario: Scenario,
        plans: dict[tuple[str, str], AuthorizationPlan],
        rng: random.Random,
    ) -> None:
        self.ledger = ledger
        self.scenario = scenario
        self.plans = plans
        self.rng = rng
        self.extra_plans: list[AuthorizationPlan] = []
        self._vcs_next = 100_000_001
        self._batch_next = PROGRAMME_BATCH_BASE

    # --- the window and the actors ----------------------------------------------------

    def _window(self) -> tuple[date, date]:
        snapshots = snapshot_dates(self.scenario)
        if not snapshots:
            raise ScenarioError(
                "cannot plant conflicts: the world must contain at least one 31 December "
                "holdings snapshot (make [world] end later)"
            )
        low = self.scenario.start + timedelta(days=10)
        high = min(
            snapshots[-1] - timedelta(days=10),
            self.scenario.end - timedelta(days=self.scenario.grace_days + 14),
        )
        if high <= low:
            raise ScenarioError(
                "cannot plant conflicts: the world is too short (a planted conflict needs a "
                "holdings snapshot after it and a grace period before the world's end)"
            )
        return low, high

    def _setting(self, registry: str) -> tuple[ApproachSpec, str, str]:
        """(approach, originating registry, buyer registry) for a conflict planted in
        `registry`: its own approach when it originates units, else one it buys in."""
        approaches = self.scenario.approaches
        for approach in approaches:
            if registry in approach.hosts:
                return approach, registry, approach.buyer
        for approach in approaches:
            if registry == approach.buyer:
                return approach, approach.hosts[0], approach.buyer
        approach = approaches[0]
        return approach, approach.hosts[0], approach.buyer

    def _lot(
        self, approach: ApproachSpec, host: str, day: date, size: int = 0, **extra: Any
    ) -> tuple[Lot, str]:
        vintage = extra.pop("vintage", None) or min(
            max(day.year - 1, approach.timeframe[0]), approach.timeframe[1]
        )
        size = size or self.rng.randint(*PLANT_LOT_SIZE)
        lot, record = self.ledger.issue(
            {"approach": approach.id, "host": host, "vintage": vintage},
            size,
            day,
            planted=True,
            extra=extra,
        )
        return lot, record["action_id"]

    def _authorization(self, approach: ApproachSpec, host: str) -> str:
        return self.plans[(approach.id, host)].authorization_id

    def _first_transfer_and_acquire(
        self,
        lot: Lot,
        approach: ApproachSpec,
        day: date,
        authorization: str,
        first: int | None = None,
        last: int | None = None,
    ) -> str:
        first = lot.first_id if first is None else first
        last = lot.last_id if last is None else last
        record = self.ledger.action(
            lot.host,
            "FT",
            day,
            "First transfer",
            lot.block(first, last),
            {
                "authorization_id": authorization,
                "acquiring_party_id": party_of(approach.buyer),
                "action_subtype": "First transfer to another Party",
            },
        )
        self.ledger.action(
            approach.buyer,
            "ACQ",
            day_after(day, 1),
            "Acquisition",
            lot.block(first, last),
            {"transferring_party_id": party_of(lot.host)},
        )
        return str(record["action_id"])

    def _use(
        self,
        registry: str,
        lot: Lot,
        day: date,
        authorization: str,
        buyer: str,
        first: int | None = None,
        last: int | None = None,
        purpose: str = "NDC",
    ) -> str:
        record = self.ledger.action(
            registry,
            "USE",
            day,
            "Use",
            lot.block(first, last),
            {
                "authorization_id": authorization,
                "purpose": purpose,
                "using_party_id": party_of(buyer),
                "ndc_use_year": day.year,
            },
        )
        return str(record["action_id"])

    def _other_party(self, registry: str, prefer: str) -> str:
        """A Party with a simulated registry, other than `registry`'s own."""
        if party_of(prefer) != party_of(registry):
            return party_of(prefer)
        for spec in self.scenario.registries:
            if spec.party != party_of(registry):
                return spec.party
        raise ScenarioError(
            f"cannot plant a transfer conflict in {registry}: no other Party's registry"
        )

    # --- planting ---------------------------------------------------------------------

    def plant_all(self) -> list[PendingConflict]:
        low, high = self._window()
        span = (high - low).days
        jobs = [
            (inj.rule, inj.registry) for inj in self.scenario.injections for _ in range(inj.count)
        ]
        pending: list[PendingConflict] = []
        for index, (rule, registry) in enumerate(jobs):
            # Spread plantings over the window so the live demo sees them arrive in turn.
            offset = (span * (index + 1)) // (len(jobs) + 1) + self.rng.randrange(-3, 4)
            day = low + timedelta(days=max(0, min(span, offset)))
            planter = getattr(self, f"_plant_{rule.lower()}")
            pending.append(planter(registry, day))
        return pending

    def _plant_dc01(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        lot, issued = self._lot(approach, host, day)
        half = lot.quantity // 2
        return self._planted_action(
            "DC01",
            registry,
            day_after(day, 3),
            "ISS",
            "Issuance",
            lot.block(lot.first_id + half, lot.last_id),
            {},
            before=((host, "action", issued),),
        )

    def _plant_dc02(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        lot, issued = self._lot(approach, host, day)
        block = lot.block()
        low, high = approach.timeframe
        block["vintage"] = lot.vintage + 1 if lot.vintage + 1 <= high else lot.vintage - 1
        assert low <= block["vintage"] <= high
        return self._planted_action(
            "DC02",
            registry,
            day_after(day, 2),
            "AUT",
            "Authorization",
            block,
            {"action_subtype": "Authorization"},
            before=((host, "action", issued),),
        )

    def _vcs(self, first: int, last: int, country: str) -> dict[str, str]:
        return {
            "underlying_registry_id": "VCS",
            "first_unit_id": VERRA_SERIAL.format(
                batch=20231, n=first, country=country, project=4321
            ),
            "last_unit_id": VERRA_SERIAL.format(batch=20231, n=last, country=country, project=4321),
        }

    def _plant_dc03(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        units = self.rng.randint(100, 1_000)
        start = self._vcs_next
        self._vcs_next += units * 3
        country = party_of(host)[:2]
        lot, issued = self._lot(
            approach, host, day, size=units, **self._vcs(start, start + units - 1, country)
        )
        # A different block (fresh serials) resting on half the same underlying units.
        second_lot = self.ledger.allocate(approach.id, host, units, planted=True)
        shift = units // 2
        return self._planted_action(
            "DC03",
            registry,
            day_after(day, 20),
            "ISS",
            "Issuance",
            lot.block(lot.first_id, lot.first_id + units - 1)
            | {"first_id": second_lot, "last_id": second_lot + units - 1},
            self._vcs(start + shift, start + shift + units - 1, country),
            before=((host, "action", issued),),
        )

    def _plant_dc04(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        lot, _ = self._lot(approach, host, day)
        original = PlantedHolding(host, day, f"{host}-GOV-01", "government-holding", lot.block())
        other_account = f"{registry}-HOLD-01" if registry != host else f"{registry}-HOLD-09"
        duplicate = PlantedHolding(registry, day, other_account, "holding", lot.block())
        self.ledger.planted_holdings += [original, duplicate]
        return PendingConflict("DC04", registry, day, [original, duplicate])

    def _plant_dc05(self, registry: str, day: date) -> PendingConflict:
        approach, host, buyer = self._setting(registry)
        authorization = self._authorization(approach, host)
        lot, _ = self._lot(approach, host, day)
        self._first_transfer_and_acquire(lot, approach, day_after(day, 2), authorization)
        used = self._use(buyer, lot, day_after(day, 5), authorization, buyer)
        part = (lot.first_id + lot.quantity // 3, lot.last_id)
        if registry == buyer:
            again = self._use(buyer, lot, day_after(day, 9), authorization, buyer, *part)
        else:
            again = self.ledger.action(
                registry,
                "VCN",
                day_after(day, 9),
                "Voluntary cancellation",
                lot.block(*part),
                {"purpose": "OMGE", "action_subtype": "Voluntary cancellation to deliver OMGE"},
            )["action_id"]
        return PendingConflict(
            "DC05",
            registry,
            day_after(day, 9),
            [(buyer, "action", used), (registry, "action", again)],
        )

    def _plant_dc06(self, registry: str, day: date) -> PendingConflict:
        approach, host, buyer = self._setting(registry)
        authorization = self._authorization(approach, host)
        lot, _ = self._lot(approach, host, day)
        self._first_transfer_and_acquire(lot, approach, day_after(day, 2), authorization)
        used = self._use(buyer, lot, day_after(day, 5), authorization, buyer)
        account = f"{registry}-HOLD-01"
        holding = PlantedHolding(registry, day_after(day, 6), account, "holding", lot.block())
        self.ledger.planted_holdings.append(holding)
        return PendingConflict(
            "DC06", registry, day_after(day, 6), [(buyer, "action", used), holding]
        )

    def _plant_dc07(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        missing = f"{party_of(registry)}-{approach.id}-X{self.rng.randrange(100, 999)}"
        lot, _ = self._lot(approach, host, day)
        return self._planted_action(
            "DC07",
            registry,
            day_after(day, 4),
            "CAN",
            "Cancellation",
            lot.block(),
            {"authorization_id": missing, "purpose": "OMGE", "using_party_id": party_of(registry)},
        )

    def _plant_dc08(self, registry: str, day: date) -> PendingConflict:
        approach, host, buyer = self._setting(registry)
        allowed = set(approach.purposes)
        purpose = next((p for p in ("OIMP", "NDC") if p not in allowed), None)
        if purpose is None:
            raise ScenarioError(
                f"cannot plant DC08 under {approach.id}: it authorizes both NDC and OIMP"
            )
        authorization = self._authorization(approach, host)
        lot, _ = self._lot(approach, host, day)
        return self._use_beyond(
            "DC08", registry, lot, day_after(day, 4), (host, authorization), buyer, purpose
        )

    def _plant_dc09(self, registry: str, day: date) -> PendingConflict:
        approach, host, buyer = self._setting(registry)
        if registry == host:
            # A small authorization of its own, first-transferred past its quantity.
            plan = self._extra_plan(approach, host, self.scenario.start, fixed_quantity=1_000)
            lot, _ = self._lot(approach, host, day, size=1_400)
            lot_first = lot.first_id
            self._first_transfer_and_acquire(
                lot, approach, day_after(day, 2), plan.authorization_id, lot_first, lot_first + 599
            )
            over = self._first_transfer_and_acquire(
                lot,
                approach,
                day_after(day, 5),
                plan.authorization_id,
                lot_first + 600,
                lot_first + 1_299,
            )
            return PendingConflict(
                "DC09",
                registry,
                day_after(day, 5),
                [
                    (host, "action", over),
                    (host, "authorization", f"{plan.authorization_id}#v1"),
                ],
            )
        authorization = self._authorization(approach, host)
        outside = approach.timeframe[0] - 2
        lot, _ = self._lot(approach, host, day, vintage=outside)
        return self._use_beyond(
            "DC09", registry, lot, day_after(day, 4), (host, authorization), buyer
        )

    def _use_beyond(
        self,
        rule: str,
        registry: str,
        lot: Lot,
        day: date,
        authorization: tuple[str, str],
        buyer: str,
        purpose: str = "NDC",
    ) -> PendingConflict:
        """`registry` uses the lot under an authorization (its host registry and id) that
        does not allow the use."""
        host, authorization_id = authorization
        used = self._use(registry, lot, day, authorization_id, buyer, purpose=purpose)
        evidence: list[tuple[str, str, str] | PlantedHolding] = [
            (registry, "action", used),
            (host, "authorization", f"{authorization_id}#v1"),
        ]
        return PendingConflict(rule, registry, day, evidence)

    def _plant_dc10(self, registry: str, day: date) -> PendingConflict:
        return self._unmatched("DC10", registry, day, "TRF", "Transfer")

    def _plant_dc11(self, registry: str, day: date) -> PendingConflict:
        return self._unmatched("DC11", registry, day, "ACQ", "Acquisition")

    def _unmatched(
        self, rule: str, registry: str, day: date, kind: str, action_type: str
    ) -> PendingConflict:
        """A transfer whose acquisition (or an acquisition whose transfer) the other
        Party's registry never records: the other Party is the approach's buyer for a
        transfer and its host for an acquisition, unless that is `registry`'s own."""
        approach, host, buyer = self._setting(registry)
        lot, _ = self._lot(approach, host, day)
        if action_type == "Transfer":
            field, prefer = "acquiring_party_id", buyer if registry != buyer else host
        else:
            field, prefer = "transferring_party_id", host if registry != host else buyer
        counterpart = self._other_party(registry, prefer)
        return self._planted_action(
            rule, registry, day_after(day, 3), kind, action_type, lot.block(), {field: counterpart}
        )

    def _plant_dc12(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        lot, _ = self._lot(approach, host, day)
        block = lot.block()
        block["quantity_tco2e"] = lot.quantity + self.rng.choice((-100, -10, 10, 1_000))
        return self._planted_action(
            "DC12",
            registry,
            day_after(day, 3),
            "VCN",
            "Voluntary cancellation",
            block,
            {"purpose": "OMGE", "action_subtype": "Voluntary cancellation to deliver OMGE"},
        )

    def _plant_dc13(self, registry: str, day: date) -> PendingConflict:
        approach, host, buyer = self._setting(registry)
        plan = self._extra_plan(approach, host, day_after(day, 3))
        lot, _ = self._lot(approach, host, day)
        if registry == host:
            acted = self._first_transfer_and_acquire(lot, approach, day, plan.authorization_id)
        else:
            acted = self._use(registry, lot, day, plan.authorization_id, buyer)
        return PendingConflict(
            "DC13",
            registry,
            plan.day,
            [(registry, "action", acted), (host, "authorization", f"{plan.authorization_id}#v1")],
        )

    def _plant_dc14(self, registry: str, day: date) -> PendingConflict:
        plan = next(
            (p for _, p in sorted(self.plans.items()) if party_of(p.host) != party_of(registry)),
            None,
        )
        if plan is None:
            raise ScenarioError(
                f"cannot plant DC14 in {registry}: no other Party's registry authorizes"
            )
        self.ledger.publish(registry, day, plan.record(10**9))
        uid = f"{plan.authorization_id}#v1"
        return PendingConflict(
            "DC14",
            registry,
            day,
            [(registry, "authorization", uid), (plan.host, "authorization", uid)],
        )

    def _programme(self, rule: str) -> str:
        if not self.scenario.programmes:
            raise ScenarioError(
                f"cannot plant {rule}: the scenario has no crediting programme ([[programmes]])"
            )
        return self.scenario.programmes[0].id

    def _resting_lot(
        self, rule: str, registry: str, day: date
    ) -> tuple[str, str, Lot, str, int, int, str]:
        """A fresh lot issued by the originating registry, resting on a fresh batch of the
        programme's units 1..n: (programme, host, lot, issuance id, batch, n, country)."""
        approach, host, _ = self._setting(registry)
        programme = self._programme(rule)
        units = self.rng.randint(100, 1_000)
        batch = self._batch_next
        self._batch_next += 1
        country = party_of(host)[:2]
        serial = programme_serial(programme, batch, 1, units, country)
        lot, issued = self._lot(
            approach,
            host,
            day,
            size=units,
            underlying_registry_id=programme,
            first_unit_id=serial,
            last_unit_id=serial,
        )
        # The programme issued the whole batch (labelled authorized) before.
        self.ledger.publish(
            programme,
            day_after(day, -30),
            unit_status(
                f"{programme}-ISS-{batch}",
                programme,
                serial,
                "issued",
                day_after(day, -30),
                article6_label="authorized",
                quantity=units,
            ),
        )
        return programme, host, lot, issued, batch, units, country

    def _plant_dc15(self, registry: str, day: date) -> PendingConflict:
        programme, host, _lot, issued, batch, units, country = self._resting_lot(
            "DC15", registry, day
        )
        third = units // 3

        def status(suffix: str, first: int, last: int, **fields: Any) -> str:
            status_id = f"{programme}-{suffix}-{batch}"
            serial = programme_serial(programme, batch, first, last, country)
            self.ledger.publish(
                programme,
                day_after(day, 10),
                unit_status(status_id, programme, serial, "retired", day_after(day, 10), **fields),
            )
            return status_id

        # For Article 6, and just past the block (touching): nothing to flag.
        status("A6", 1, third, purpose="article6", article6_label="authorized")
        status("NEXT", units + 1, units + 50, purpose="voluntary")
        claimed = status(
            "RET",
            third + 1,
            2 * third,
            purpose="voluntary",
            article6_label="authorized",
            beneficiary="A company's voluntary claim",
        )
        return PendingConflict(
            "DC15",
            registry,
            day_after(day, 10),
            [(host, "action", issued), (programme, "unit_status", claimed)],
        )

    def _plant_dc16(self, registry: str, day: date) -> PendingConflict:
        programme, host, _lot, issued, batch, units, country = self._resting_lot(
            "DC16", registry, day
        )
        # The programme relabels part of the batch: not authorized for Article 6.
        status_id = f"{programme}-LBL-{batch}"
        serial = programme_serial(programme, batch, units // 2, units, country)
        self.ledger.publish(
            programme,
            day_after(day, 5),
            unit_status(
                status_id,
                programme,
                serial,
                "issued",
                day_after(day, 5),
                article6_label="not-authorized",
            ),
        )
        return PendingConflict(
            "DC16",
            registry,
            day_after(day, 5),
            [(host, "action", issued), (programme, "unit_status", status_id)],
        )

    def _plant_dc17(self, registry: str, day: date) -> PendingConflict:
        approach, host, _ = self._setting(registry)
        size = self.rng.randint(*PLANT_LOT_SIZE)
        first = self.ledger.allocate(approach.id, host, size, planted=True)
        vintage = min(max(day.year - 1, approach.timeframe[0]), approach.timeframe[1])
        never_issued = Lot(
            approach.id,
            host,
            first,
            first + size - 1,
            vintage,
            day,
            "Emission reductions",
            "Energy",
            "Energy efficiency",
            planted=True,
        )
        account = f"{registry}-HOLD-17"
        held = PlantedHolding(registry, day, account, "holding", never_issued.block())
        self.ledger.planted_holdings.append(held)
        return PendingConflict("DC17", registry, day, [held])

    def _extra_plan(
        self, approach: ApproachSpec, host: str, day: date, fixed_quantity: int | None = None
    ) -> AuthorizationPlan:
        """A further authorization of `host` under the approach, published with the others."""
        plan = AuthorizationPlan(
            f"{party_of(host)}-{approach.id}-A{len(self.extra_plans) + 2:02d}",
            approach,
            host,
            day,
            fixed_quantity=fixed_quantity,
        )
        self.extra_plans.append(plan)
        return plan

    def _planted_action(
        self,
        rule: str,
        registry: str,
        day: date,
        kind: str,
        action_type: str,
        block: dict[str, Any],
        fields: dict[str, Any],
        before: tuple[tuple[str, str, str], ...] = (),
    ) -> PendingConflict:
        """The conflict `registry` completes by publishing one action on `day`: its
        evidence is the records `before` it and that action."""
        record = self.ledger.action(registry, kind, day, action_type, block, fields)
        return PendingConflict(
            rule, registry, day, [*before, (registry, "action", record["action_id"])]
        )
