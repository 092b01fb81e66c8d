"""A seeded synthetic world of N blocks, written as canonical JSON Lines per registry.

Each block follows a realistic Article 6.2 action chain, reported by the registry
that would report it:

- the originating (seller) registry issues it (`Issuance`, 30% with the underlying
  programme's Verra serials) and, for 70% of blocks, first transfers it to the buyer
  Party under the cooperative approach's authorization (`First transfer`, sometimes
  of a part only, the rest staying in a government holding account);
- the buyer's registry reports the `Acquisition`, then a `Use` towards its NDC (40%),
  a `Voluntary cancellation` (10%), or keeps it in a holding account;
- every registry reports one holdings snapshot of what it still holds.

That is about 3.4 records a block. About 1% of blocks carry a planted conflict,
cycled through DC01..DC12 so every rule has work to find; the manifest counts them.
The same (size, seed) always writes the same bytes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson

SELLERS = ("IDN", "GHA", "PER", "THA", "SEN", "VUT", "KEN", "MAR")
BUYERS = ("JPN", "CHE", "SGP", "SWE", "KOR", "NOR")
# The world the sync-workers figure shares among workers: 30 registries (issue 18's
# goal), the 40 cooperative approaches spread over 15 sellers and 15 buyers.
WIDE_SELLERS = (*SELLERS, "COL", "CHL", "GEO", "RWA", "MNG", "PHL", "VNM")
WIDE_BUYERS = (*BUYERS, "LIE", "ISL", "NZL", "AUS", "AUT", "BEL", "DNK", "FIN", "LUX")
RULES = tuple(f"DC{n:02d}" for n in range(1, 13))
CONFLICT_RATE = 0.01
AS_OF = "2026-06-30"
START = date(2022, 1, 1)
ALPHA2 = {"IDN": "ID", "GHA": "GH", "PER": "PE", "THA": "TH", "SEN": "SN", "VUT": "VU"}


@dataclass(frozen=True)
class Approach:
    ca: str
    seller: str
    buyer: str

    @property
    def seller_registry(self) -> str:
        return f"{self.seller}01"

    @property
    def buyer_registry(self) -> str:
        return f"{self.buyer}01"

    @property
    def authorization_id(self) -> str:
        return f"{self.seller}-{self.ca}-A1"


@dataclass
class Manifest:
    blocks: int
    seed: int
    files: dict[str, str] = field(default_factory=dict)  # registry -> path
    records: Counter[str] = field(default_factory=Counter)  # registry -> lines
    planted: Counter[str] = field(default_factory=Counter)  # rule -> conflicts planted

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "seed": self.seed,
            "records": self.total_records,
            "planted": dict(sorted(self.planted.items())),
            "files": self.files,
        }


def approaches(
    count: int = 40, sellers: tuple[str, ...] = SELLERS, buyers: tuple[str, ...] = BUYERS
) -> list[Approach]:
    return [
        Approach(f"CA{n + 1:04d}", sellers[n % len(sellers)], buyers[n % len(buyers)])
        for n in range(count)
    ]


class _Writers:
    """One open JSON Lines file per reporting registry."""

    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.folder = folder
        self.manifest = manifest
        self._open: dict[str, BinaryIO] = {}

    def write(self, registry: str, record: dict[str, Any]) -> None:
        stream = self._open.get(registry)
        if stream is None:
            path = self.folder / f"{registry}.jsonl"
            stream = self._open[registry] = path.open("wb", buffering=1 << 20)
            self.manifest.files[registry] = str(path)
        stream.write(orjson.dumps(record) + b"\n")
        self.manifest.records[registry] += 1

    def close(self) -> None:
        for stream in self._open.values():
            stream.close()


def _day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


class _World:
    def __init__(
        self, blocks: int, seed: int, writers: _Writers, manifest: Manifest, cas: list[Approach]
    ) -> None:
        self.rng = random.Random(seed)
        self.blocks = blocks
        self.out = writers
        self.manifest = manifest
        self.cas = cas
        self.next_serial = dict.fromkeys((a.ca for a in self.cas), 1)
        self.next_unit = 100_000_000
        self.last_units: dict[str, tuple[int, int]] = {}  # seller -> last unit range
        self.planted_index = 0

    def authorizations(self) -> None:
        for a in self.cas:
            self.out.write(
                a.seller_registry,
                {
                    "record_type": "authorization",
                    "authorization_id": a.authorization_id,
                    "authorization_date": "2021-06-01",
                    "authorizing_party_id": a.seller,
                    "cooperative_approach_id": a.ca,
                    "authorized_quantity": 10**13,
                    "purposes": ["NDC"],
                    "authorized_party_ids": [a.buyer],
                    "timeframe_start": 2021,
                    "timeframe_end": 2030,
                },
            )

    def run(self) -> None:
        self.authorizations()
        for i in range(self.blocks):
            rule = None
            if self.rng.random() < CONFLICT_RATE:
                rule = RULES[self.planted_index % len(RULES)]
                self.planted_index += 1
                self.manifest.planted[rule] += 1
            self.chain(i, self.cas[i % len(self.cas)], rule)

    def chain(self, i: int, a: Approach, rule: str | None) -> None:
        rng = self.rng
        size = rng.randint(1, 5_000)
        first = self.next_serial[a.ca] + rng.randint(0, 3)
        last = first + size - 1
        self.next_serial[a.ca] = last + 1
        day = (i * 1_300) // max(self.blocks, 1)  # issuance dates spread over ~3.5 years
        vintage = 2019 if rule == "DC09" else rng.randint(2021, 2025)
        block: dict[str, Any] = {
            "cooperative_approach_id": a.ca,
            "party_registry_id": a.seller_registry,
            "first_transferring_party_id": a.seller,
            "first_id": first,
            "last_id": last,
            "vintage": vintage,
        }
        seller, buyer = a.seller_registry, a.buyer_registry
        issuance: dict[str, Any] = {
            "record_type": "action",
            "action_id": f"ISS-{i}",
            "action_date": _day(day),
            "action_type": "Issuance",
            **block,
            "quantity_tco2e": size + (7 if rule == "DC12" else 0),
            "mitigation_type": "Emission reductions",
        }
        if a.seller in ALPHA2 and (rng.random() < 0.3 or rule == "DC03"):
            issuance.update(self.underlying(a, size, reuse=rule == "DC03"))
        self.out.write(seller, issuance)
        if rule == "DC01":
            self.out.write(
                seller,
                {**issuance, "action_id": f"ISS-{i}-DUP", "first_id": (first + last) // 2},
            )

        needs_transfer = ("DC02", "DC05", "DC06", "DC07", "DC08", "DC09", "DC10", "DC11")
        transferred = (rng.random() < 0.7 or rule in needs_transfer) and rule != "DC04"
        if not transferred:
            self.holding(seller, f"{a.seller}-GOV-1", "government-holding", block)
            if rule == "DC04":
                self.holding(seller, f"{a.seller}-GOV-2", "government-holding", block)
            return

        moved = dict(block)
        if rng.random() < 0.2 and size > 1:  # part of the block stays with the seller
            moved["last_id"] = first + size // 2 - 1
            rest = {**block, "first_id": first + size // 2}
            self.holding(seller, f"{a.seller}-GOV-1", "government-holding", rest)
        ft_day = day + rng.randint(10, 120)
        if rule != "DC11":
            self.out.write(
                seller,
                {
                    "record_type": "action",
                    "action_id": f"FT-{i}",
                    "action_date": _day(ft_day),
                    "action_type": "First transfer",
                    "authorization_id": (f"MISSING-{i}" if rule == "DC07" else a.authorization_id),
                    **(moved if rule != "DC02" else {**moved, "vintage": vintage + 1}),
                    "acquiring_party_id": a.buyer,
                },
            )
        if rule != "DC10":
            self.out.write(
                buyer,
                {
                    "record_type": "action",
                    "action_id": f"ACQ-{a.seller}-{i}",
                    "action_date": _day(ft_day + rng.randint(0, 5)),
                    "action_type": "Acquisition",
                    **moved,
                    "transferring_party_id": a.seller,
                },
            )
        fate = rng.random()
        used = fate < 0.5 or rule in ("DC05", "DC06", "DC08")
        if not used:
            self.holding(buyer, f"{a.buyer}-HOLD-1", "holding", moved)
            return
        use_day = ft_day + rng.randint(30, 200)
        if fate < 0.4 or rule in ("DC05", "DC06", "DC08"):
            use = {
                "record_type": "action",
                "action_id": f"USE-{a.seller}-{i}",
                "action_date": _day(use_day),
                "action_type": "Use",
                "authorization_id": a.authorization_id,
                **moved,
                "purpose": "OIMP" if rule == "DC08" else "NDC",
                "using_party_id": a.buyer,
                "ndc_use_year": 2030,
            }
        else:
            use = {
                "record_type": "action",
                "action_id": f"VC-{a.seller}-{i}",
                "action_date": _day(use_day),
                "action_type": "Voluntary cancellation",
                **moved,
                "purpose": "other",
            }
        self.out.write(buyer, use)
        if rule == "DC05":
            self.out.write(buyer, {**use, "action_id": f"USE-{a.seller}-{i}-AGAIN"})
        if rule == "DC06":
            self.out.write(
                buyer,
                {
                    "record_type": "action",
                    "action_id": f"TR-{a.seller}-{i}",
                    "action_date": _day(use_day + 10),
                    "action_type": "Transfer",
                    **moved,
                    "acquiring_party_id": "USA",
                },
            )

    def holding(self, registry: str, account: str, kind: str, block: dict[str, Any]) -> None:
        self.out.write(
            registry,
            {
                "record_type": "holding",
                "as_of": AS_OF,
                "account_id": account,
                "account_type": kind,
                **block,
            },
        )

    def underlying(self, a: Approach, size: int, reuse: bool) -> dict[str, str]:
        if reuse and a.seller in self.last_units:
            start, end = self.last_units[a.seller]
        else:
            start = self.next_unit
            end = start + size - 1
            self.next_unit = end + 1
            self.last_units[a.seller] = (start, end)
        tail = f"VCS-VCU-1507-VER-{ALPHA2[a.seller]}-14-1340-01012021-31122021-1"
        return {
            "underlying_registry_id": "VCS",
            "first_unit_id": f"19385-{start}-{end}-{tail}",
            "last_unit_id": f"19385-{start}-{end}-{tail}",
        }


def generate(folder: Path, blocks: int, seed: int = 7, *, wide: bool = False) -> Manifest:
    """Write the world of `blocks` blocks into `folder` (one .jsonl per registry):
    14 registries, or 30 when `wide` (the same chains over more Parties)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(blocks, seed)
    writers = _Writers(folder, manifest)
    cas = approaches(sellers=WIDE_SELLERS, buyers=WIDE_BUYERS) if wide else approaches()
    try:
        _World(blocks, seed, writers, manifest, cas).run()
    finally:
        writers.close()
    return manifest


def iter_records(manifest: Manifest) -> Any:
    """(registry, parsed record) for every line, file by file (for baselines)."""
    for registry, path in manifest.files.items():
        with open(path, "rb") as stream:
            for line in stream:
                yield registry, orjson.loads(line)


def increment(folder: Path, blocks: int, count: int, tag: str, seed: int = 7) -> Manifest:
    """`count` new records for the world of `blocks` blocks, as a registry would send
    them after the initial load: half issue new blocks past the world's serials, half
    transfer parts of ranges the world already holds (so the incremental check must
    look at the neighbourhood of existing blocks)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-{tag}")
    manifest = Manifest(0, seed)
    writers = _Writers(folder, manifest)
    cas = approaches()
    top = max(blocks // len(cas), 1) * 2_503  # about where each CA's serials end
    try:
        for k in range(count):
            a = cas[rng.randrange(len(cas))]
            if k % 2 == 0:
                first = top + 10_000 + rng.randrange(10**9)
                action_type = "Issuance"
                extra: dict[str, Any] = {"quantity_tco2e": 100}
                registry = a.seller_registry
            else:
                first = 1 + rng.randrange(top)
                action_type = "First transfer"
                extra = {"authorization_id": a.authorization_id, "acquiring_party_id": a.buyer}
                registry = a.seller_registry
            writers.write(
                registry,
                {
                    "record_type": "action",
                    "action_id": f"INC-{tag}-{k}",
                    "action_date": "2026-05-01",
                    "action_type": action_type,
                    "cooperative_approach_id": a.ca,
                    "party_registry_id": a.seller_registry,
                    "first_transferring_party_id": a.seller,
                    "first_id": first,
                    "last_id": first + 99,
                    "vintage": 2024,
                    **extra,
                },
            )
    finally:
        writers.close()
    return manifest
