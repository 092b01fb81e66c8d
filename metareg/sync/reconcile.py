"""Reconciliation, like the Kyoto transaction log's daily one: totals first, then blocks.

For one registry: its own totals per (record type, cooperative approach, vintage[, action
type]) are compared with what the index holds from it; for each approach and vintage whose
figures differ, its blocks are listed and compared one by one. The outcome is kept in
`sync_reconciliation` (and returned): the checks raise SY02 with its figures when it found
differences and resolve it after a clean comparison (`metareg.checks.operational`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from metareg import log
from metareg.connectors import build_connector
from metareg.connectors.base import Connector
from metareg.db.sums import UnitsSelect
from metareg.db.tables.index import Action, Holding
from metareg.db.tables.sync import SyncReconciliation
from metareg.db.upsert import upsert
from metareg.records.canonical import dumps, normalize, record_uid
from metareg.registries import RegistryConfig

_log = log.get_logger("metareg.sync.reconcile")
_actions = Action
_holdings = Holding
_results = SyncReconciliation
MAX_LISTED = 20  # block differences named in an alert; the count is always complete

TotalsKey = tuple[str, str, int, str | None]  # record_type, approach, vintage, action_type


@dataclass
class ReconcileReport:
    registry_id: str
    status: str = "ok"  # ok | mismatch | unsupported
    totals: list[dict[str, Any]] = field(default_factory=list)  # rows that differ
    missing_in_index: list[list[Any]] = field(default_factory=list)
    extra_in_index: list[list[Any]] = field(default_factory=list)
    block_differences: int = 0

    @property
    def differences(self) -> int:
        return len(self.totals) + self.block_differences


# Per (approach, vintage[, action type]): blocks and units, the units exact past 2**63
# (`db.sums.UnitsSelect`: a registry's blocks may hold up to 10**18 units each).
_ACTION_TOTALS = UnitsSelect(
    lambda sums: (
        select(
            _actions.c.cooperative_approach_id,
            _actions.c.vintage,
            _actions.c.action_type,
            func.count(),
            *sums,
        )
        .where(_actions.c.registry_id == bindparam("registry"))
        .group_by(_actions.c.cooperative_approach_id, _actions.c.vintage, _actions.c.action_type)
    ),
    _actions.c.last_id - _actions.c.first_id + 1,
)
_HOLDING_TOTALS = UnitsSelect(
    lambda sums: (
        select(_holdings.c.cooperative_approach_id, _holdings.c.vintage, func.count(), *sums)
        .where(_holdings.c.registry_id == bindparam("registry"))
        .group_by(_holdings.c.cooperative_approach_id, _holdings.c.vintage)
    ),
    _holdings.c.last_id - _holdings.c.first_id + 1,
)


def index_totals(connection: Connection, registry_id: str) -> dict[TotalsKey, tuple[int, int]]:
    out: dict[TotalsKey, tuple[int, int]] = {}
    params = {"registry": registry_id}
    for ca, vintage, action_type, blocks, total in _ACTION_TOTALS.rows(connection, params):
        out[("action", ca, int(vintage), action_type)] = (int(blocks), total)
    for ca, vintage, blocks, total in _HOLDING_TOTALS.rows(connection, params):
        out[("holding", ca, int(vintage), None)] = (int(blocks), total)
    return out


def _registry_totals(rows: list[dict[str, Any]]) -> dict[TotalsKey, tuple[int, int]]:
    out: dict[TotalsKey, tuple[int, int]] = {}
    for row in rows:
        key: TotalsKey = (
            str(row["record_type"]),
            str(row["cooperative_approach_id"]),
            int(row["vintage"]),
            row.get("action_type") if row["record_type"] == "action" else None,
        )
        out[key] = (int(row["blocks"]), int(row["units"]))
    return out


def _index_blocks(
    connection: Connection, registry_id: str, ca: str, vintage: int
) -> set[tuple[str, str, int, int]]:
    found: set[tuple[str, str, int, int]] = set()
    for record_type, table in (("action", _actions), ("holding", _holdings)):
        rows = connection.execute(
            select(table.c.uid, table.c.first_id, table.c.last_id).where(
                table.c.registry_id == registry_id,
                table.c.cooperative_approach_id == ca,
                table.c.vintage == vintage,
            )
        )
        found |= {(record_type, uid, int(first), int(last)) for uid, first, last in rows}
    return found


def _registry_blocks(connector: Connector, ca: str, vintage: int) -> set[tuple[str, str, int, int]]:
    found: set[tuple[str, str, int, int]] = set()
    for block in connector.blocks(ca, vintage):
        uid = record_uid(normalize(block))
        found.add((block["record_type"], uid, int(block["first_id"]), int(block["last_id"])))
    return found


def reconcile_registry(
    engine: Engine,
    registry: RegistryConfig,
    connector: Connector | None = None,
    *,
    now: datetime | None = None,
) -> ReconcileReport:
    now = now or datetime.now(UTC)
    report = ReconcileReport(registry.id)
    own = connector is None
    connector = connector or build_connector(registry)
    try:
        theirs = connector.totals()
        if theirs is None:
            report.status = "unsupported"
        else:
            _compare(engine, registry.id, connector, _registry_totals(theirs.rows), report)
    finally:
        if own:
            connector.close()
    _store(engine, report, now)
    return report


def _compare(
    engine: Engine,
    registry_id: str,
    connector: Connector,
    theirs: dict[TotalsKey, tuple[int, int]],
    report: ReconcileReport,
) -> None:
    with engine.connect() as connection:
        ours = index_totals(connection, registry_id)
    to_list: dict[tuple[str, int], None] = {}
    for key in sorted(set(theirs) | set(ours), key=lambda k: tuple(str(p) for p in k)):
        registry_figures = theirs.get(key, (0, 0))
        index_figures = ours.get(key, (0, 0))
        if registry_figures != index_figures:
            report.totals.append(
                {
                    "record_type": key[0],
                    "cooperative_approach_id": key[1],
                    "vintage": key[2],
                    "action_type": key[3],
                    "registry_blocks": registry_figures[0],
                    "registry_units": registry_figures[1],
                    "index_blocks": index_figures[0],
                    "index_units": index_figures[1],
                }
            )
            to_list[(key[1], key[2])] = None
    for ca, vintage in to_list:
        registry_blocks = _registry_blocks(connector, ca, vintage)
        with engine.connect() as connection:
            index_blocks = _index_blocks(connection, registry_id, ca, vintage)
        missing = sorted(registry_blocks - index_blocks)
        extra = sorted(index_blocks - registry_blocks)
        report.block_differences += len(missing) + len(extra)
        report.missing_in_index += [list(b) for b in missing[:MAX_LISTED]]
        report.extra_in_index += [list(b) for b in extra[:MAX_LISTED]]
    if report.differences:
        report.status = "mismatch"


def _store(engine: Engine, report: ReconcileReport, now: datetime) -> None:
    details = {
        "totals": report.totals,
        "block_differences": report.block_differences,
        "missing_in_index": report.missing_in_index[:MAX_LISTED],
        "extra_in_index": report.extra_in_index[:MAX_LISTED],
    }
    with engine.begin() as connection:
        upsert(
            connection,
            _results,
            [
                {
                    "registry_id": report.registry_id,
                    "last_run_at": now,
                    "status": report.status,
                    "differences": report.differences,
                    "summary": dumps(details),
                }
            ],
            key=("registry_id",),
            update=("last_run_at", "status", "differences", "summary"),
        )
    _log.info(
        "reconciled",
        registry=report.registry_id,
        status=report.status,
        differences=report.differences,
    )
