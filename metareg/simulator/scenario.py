"""Scenario files: which simulated registries exist and what happens in their world.

A scenario is a TOML file (examples in `config/scenarios/`). Everything the world
generator needs is read and checked here, so a bad scenario fails before any world is
built, with the file and the offending entry named. The generator itself
(`metareg.simulator.world`) never reads files: it is a pure function of a `Scenario`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from metareg.findings import DETECTION_RULES
from metareg.registries import REGISTRY_ID, is_programme, party_of

# The rules the planter can plant (`simulator.planter.Planter._plant_dcNN`): every
# double-counting rule of the catalogue.
RULE_CODES = DETECTION_RULES
# The programmes whose serial shapes the planter writes (DC15, DC16 plant on them).
PROGRAMME_SHAPES = ("VCS", "GS")
FAULT_KINDS = (
    "slow",
    "down",
    "rate-limit",
    "error",
    "truncate",
    "repeat-pages",
    "reorder",
    "reset-cursor",
    "schema-change",
)
_APPROACH_ID = re.compile(r"^CA\d{4}$")


class ScenarioError(ValueError):
    """The scenario file is missing, not TOML, or describes an impossible world."""


@dataclass(frozen=True)
class RegistrySpec:
    id: str
    name: str
    # Which extra faces the simulated registry shows besides the exchange API.
    publishes_aef: bool = False
    cadt_node: bool = False
    # A crediting programme's registry ([[programmes]]): it publishes `unit_status`
    # records about its units, belongs to no Party, and is synced like the others.
    programme: bool = False

    @property
    def party(self) -> str:
        return party_of(self.id)


@dataclass(frozen=True)
class ApproachSpec:
    """A cooperative approach: one buyer Party acquiring from host Parties."""

    id: str
    name: str
    buyer: str  # registry id of the acquiring Party's registry
    hosts: tuple[str, ...]  # registry ids of the host (first transferring) Parties
    purposes: tuple[str, ...] = ("NDC",)
    timeframe: tuple[int, int] = (2021, 2030)


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    approach: str
    host: str  # registry id
    annual_tco2e: int
    sector: str = "Energy"
    activity_type: str = "Energy efficiency"
    mitigation_type: str = "Emission reductions"
    first_vintage: int | None = None


@dataclass(frozen=True)
class GeneratedProjects:
    """How many extra projects to draw at random, and from what size range."""

    count: int = 0
    min_tco2e: int = 600
    max_tco2e: int = 122_000


@dataclass(frozen=True)
class Injection:
    rule: str
    registry: str
    count: int = 1


@dataclass(frozen=True)
class FaultSpec:
    registry: str
    kind: str
    # Fraction of requests hit (deterministic given the seed); 1.0 = every request.
    probability: float = 1.0
    delay_seconds: float = 1.0  # slow
    retry_after: int = 1  # rate-limit
    status: int = 503  # error
    after_requests: int = 0  # the fault starts after this many requests (schema-change, ...)
    rename: dict[str, str] = field(default_factory=dict)  # schema-change: old -> new


@dataclass(frozen=True)
class ClockSpec:
    """Simulated time when served live: the world is visible up to `start` at once,
    then time moves `days_per_second` simulated days per wall-clock second."""

    start: date
    days_per_second: float = 1.0


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    start: date
    end: date
    registries: tuple[RegistrySpec, ...]
    approaches: tuple[ApproachSpec, ...]
    projects: tuple[ProjectSpec, ...]
    generated: GeneratedProjects
    injections: tuple[Injection, ...]
    faults: tuple[FaultSpec, ...]
    clock: ClockSpec
    grace_days: int = 30
    source: str = ""
    programmes: tuple[RegistrySpec, ...] = ()

    def registry(self, registry_id: str) -> RegistrySpec:
        for spec in (*self.registries, *self.programmes):
            if spec.id == registry_id:
                return spec
        raise KeyError(registry_id)

    def with_seed(self, seed: int) -> Scenario:
        from dataclasses import replace

        return replace(self, seed=seed)


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file."""
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from error
    try:
        return parse_scenario(document, source=str(path))
    except ScenarioError as error:
        raise ScenarioError(f"{path}: {error}") from None


def parse_scenario(document: dict[str, Any], source: str = "") -> Scenario:
    """A scenario from its parsed TOML document (see config/scenarios/*.toml)."""
    world = _table(document, "world")
    _known(world, {"name", "seed", "start", "end", "grace_days"}, "[world]")
    _known(
        document,
        {
            "world",
            "clock",
            "registries",
            "programmes",
            "approaches",
            "projects",
            "generate",
            "inject",
            "faults",
        },
        "the scenario",
    )
    start = _date(world, "start", "world")
    end = _date(world, "end", "world")
    if end <= start:
        raise ScenarioError("[world] end must be after start")
    registries = tuple(_registry(e, n) for n, e in _entries(document, "registries"))
    ids = [r.id for r in registries]
    if not registries:
        raise ScenarioError("a scenario needs at least one [[registries]] entry")
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"a registry is listed twice in {ids}")
    programmes = tuple(_programme(e, n) for n, e in _entries(document, "programmes"))
    if len({p.id for p in programmes}) != len(programmes):
        raise ScenarioError("a programme is listed twice")
    approaches = tuple(_approach(e, n, set(ids)) for n, e in _entries(document, "approaches"))
    if not approaches:
        raise ScenarioError("a scenario needs at least one [[approaches]] entry")
    if len({a.id for a in approaches}) != len(approaches):
        raise ScenarioError("a cooperative approach is listed twice")
    by_id = {a.id: a for a in approaches}
    projects = tuple(_project(e, n, by_id) for n, e in _entries(document, "projects"))
    generate = document.get("generate", {})
    if not isinstance(generate, dict):
        raise ScenarioError("[generate] must be a table")
    _known(generate, {"projects", "min_tco2e", "max_tco2e"}, "[generate]")
    generated = GeneratedProjects(
        count=_int(generate, "projects", 0, "generate", minimum=0),
        min_tco2e=_int(generate, "min_tco2e", 600, "generate", minimum=1),
        max_tco2e=_int(generate, "max_tco2e", 122_000, "generate", minimum=1),
    )
    if generated.max_tco2e < generated.min_tco2e:
        raise ScenarioError("[generate] max_tco2e must be at least min_tco2e")
    if not projects and generated.count == 0:
        raise ScenarioError("the world has no projects: add [[projects]] or [generate] projects")
    injections = tuple(_injection(e, n, set(ids)) for n, e in _entries(document, "inject"))
    faults = tuple(_fault(e, n, set(ids)) for n, e in _entries(document, "faults"))
    clock_table = document.get("clock", {})
    if not isinstance(clock_table, dict):
        raise ScenarioError("[clock] must be a table")
    _known(clock_table, {"start", "days_per_second"}, "[clock]")
    clock = ClockSpec(
        start=_date(clock_table, "start", "clock") if "start" in clock_table else start,
        days_per_second=_float(clock_table, "days_per_second", 1.0, "clock"),
    )
    if not start <= clock.start <= end:
        raise ScenarioError("[clock] start must lie between [world] start and end")
    if clock.days_per_second <= 0:
        raise ScenarioError("[clock] days_per_second must be positive")
    return Scenario(
        name=str(world.get("name", Path(source).stem if source else "scenario")),
        seed=_int(world, "seed", 1, "world"),
        start=start,
        end=end,
        registries=registries,
        approaches=approaches,
        projects=projects,
        generated=generated,
        injections=injections,
        faults=faults,
        clock=clock,
        grace_days=_int(world, "grace_days", 30, "world", minimum=0),
        source=source,
        programmes=programmes,
    )


# --- entry parsers ----------------------------------------------------------------------


def _registry(entry: dict[str, Any], number: int) -> RegistrySpec:
    where = f"registries entry {number}"
    registry_id = str(entry.get("id", ""))
    if not REGISTRY_ID.match(registry_id):
        raise ScenarioError(f"{where}: id {registry_id!r} must look like JPN01")
    _known(entry, {"id", "name", "publishes_aef", "cadt_node"}, where)
    return RegistrySpec(
        id=registry_id,
        name=str(entry.get("name", registry_id)),
        publishes_aef=bool(entry.get("publishes_aef", False)),
        cadt_node=bool(entry.get("cadt_node", False)),
    )


def _programme(entry: dict[str, Any], number: int) -> RegistrySpec:
    where = f"programmes entry {number}"
    programme_id = str(entry.get("id", ""))
    if not is_programme(programme_id) or programme_id not in PROGRAMME_SHAPES:
        raise ScenarioError(
            f"{where}: id {programme_id!r} must be a programme whose serials the simulator "
            f"writes: {', '.join(PROGRAMME_SHAPES)}"
        )
    _known(entry, {"id", "name"}, where)
    return RegistrySpec(id=programme_id, name=str(entry.get("name", programme_id)), programme=True)


def _approach(entry: dict[str, Any], number: int, registries: set[str]) -> ApproachSpec:
    where = f"approaches entry {number}"
    _known(entry, {"id", "name", "buyer", "hosts", "purposes", "timeframe"}, where)
    approach_id = str(entry.get("id", ""))
    if not _APPROACH_ID.match(approach_id):
        raise ScenarioError(f"{where}: id {approach_id!r} must look like CA0001")
    buyer = str(entry.get("buyer", ""))
    if buyer not in registries:
        raise ScenarioError(f"{where}: buyer {buyer!r} is not a [[registries]] id")
    hosts = entry.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        raise ScenarioError(f"{where}: hosts must be a non-empty list of registry ids")
    for host in hosts:
        if host not in registries:
            raise ScenarioError(f"{where}: host {host!r} is not a [[registries]] id")
        if party_of(host) == party_of(buyer):
            raise ScenarioError(f"{where}: host {host} belongs to the buyer's Party")
    purposes = entry.get("purposes", ["NDC"])
    if (
        not isinstance(purposes, list)
        or not purposes
        or not set(purposes)
        <= {
            "NDC",
            "OIMP",
            "IMP",
            "OP",
        }
    ):
        raise ScenarioError(f"{where}: purposes must be a non-empty list of NDC, OIMP, IMP, OP")
    timeframe = entry.get("timeframe", [2021, 2030])
    if (
        not isinstance(timeframe, list)
        or len(timeframe) != 2
        or not all(isinstance(y, int) for y in timeframe)
        or timeframe[0] > timeframe[1]
    ):
        raise ScenarioError(f"{where}: timeframe must be [first year, last year]")
    return ApproachSpec(
        id=approach_id,
        name=str(entry.get("name", approach_id)),
        buyer=buyer,
        hosts=tuple(str(h) for h in hosts),
        purposes=tuple(str(p) for p in purposes),
        timeframe=(timeframe[0], timeframe[1]),
    )


def _project(
    entry: dict[str, Any], number: int, approaches: dict[str, ApproachSpec]
) -> ProjectSpec:
    where = f"projects entry {number}"
    _known(
        entry,
        {
            "name",
            "approach",
            "host",
            "annual_tco2e",
            "sector",
            "activity_type",
            "mitigation_type",
            "first_vintage",
        },
        where,
    )
    approach = approaches.get(str(entry.get("approach", "")))
    if approach is None:
        raise ScenarioError(f"{where}: approach {entry.get('approach')!r} is not defined")
    host = str(entry.get("host", ""))
    if host not in approach.hosts:
        raise ScenarioError(f"{where}: host {host!r} is not a host of {approach.id}")
    mitigation = str(entry.get("mitigation_type", "Emission reductions"))
    if mitigation not in ("Emission reductions", "Removals", "Emission reductions and removals"):
        raise ScenarioError(f"{where}: unknown mitigation_type {mitigation!r}")
    first_vintage = entry.get("first_vintage")
    return ProjectSpec(
        name=str(entry.get("name", f"project {number}")),
        approach=approach.id,
        host=host,
        annual_tco2e=_int(entry, "annual_tco2e", 0, where, minimum=1),
        sector=str(entry.get("sector", "Energy")),
        activity_type=str(entry.get("activity_type", "Energy efficiency")),
        mitigation_type=mitigation,
        first_vintage=int(first_vintage) if first_vintage is not None else None,
    )


def _injection(entry: dict[str, Any], number: int, registries: set[str]) -> Injection:
    where = f"inject entry {number}"
    _known(entry, {"rule", "registry", "count"}, where)
    rule = str(entry.get("rule", ""))
    if rule not in RULE_CODES:
        raise ScenarioError(f"{where}: rule {rule!r} is not one of {', '.join(RULE_CODES)}")
    registry = str(entry.get("registry", ""))
    if registry not in registries:
        raise ScenarioError(f"{where}: registry {registry!r} is not a [[registries]] id")
    return Injection(rule, registry, _int(entry, "count", 1, where, minimum=1))


def _fault(entry: dict[str, Any], number: int, registries: set[str]) -> FaultSpec:
    where = f"faults entry {number}"
    _known(
        entry,
        {
            "registry",
            "kind",
            "probability",
            "delay_seconds",
            "retry_after",
            "status",
            "after_requests",
            "rename",
        },
        where,
    )
    registry = str(entry.get("registry", ""))
    if registry not in registries:
        raise ScenarioError(f"{where}: registry {registry!r} is not a [[registries]] id")
    kind = str(entry.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{where}: kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
    probability = _float(entry, "probability", 1.0, where)
    if not 0.0 <= probability <= 1.0:
        raise ScenarioError(f"{where}: probability must be between 0 and 1")
    status = _int(entry, "status", 503, where)
    if kind == "error" and not 500 <= status <= 599:
        raise ScenarioError(f"{where}: an error fault's status must be 5xx")
    rename = entry.get("rename", {"action_date": "date"} if kind == "schema-change" else {})
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        raise ScenarioError(f"{where}: rename must map field names to new names")
    return FaultSpec(
        registry=registry,
        kind=kind,
        probability=probability,
        delay_seconds=_float(entry, "delay_seconds", 1.0, where),
        retry_after=_int(entry, "retry_after", 1, where, minimum=0),
        status=status,
        after_requests=_int(entry, "after_requests", 0, where, minimum=0),
        rename={str(k): str(v) for k, v in rename.items()},
    )


# --- small readers ----------------------------------------------------------------------


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise ScenarioError(f"missing [{name}] table")
    return value


def _entries(document: dict[str, Any], name: str) -> list[tuple[int, dict[str, Any]]]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise ScenarioError(f"'{name}' must be an array of tables ([[{name}]])")
    return list(enumerate(value, start=1))


def _known(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _date(table: dict[str, Any], key: str, where: str) -> date:
    value = table.get(key)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ScenarioError(f"[{where}] {key} must be a date (YYYY-MM-DD)")


def _int(
    table: dict[str, Any], key: str, default: int, where: str, minimum: int | None = None
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}: {key} must be an integer")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{where}: {key} must be at least {minimum}")
    return value


def _float(table: dict[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: {key} must be a number")
    return float(value)
