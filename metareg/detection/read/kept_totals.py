"""DC09's all-time totals kept between checks, and what a changed action counted then.

DC09 compares running totals of first transfers with an authorization's quantity; an
incremental check that re-judges a key from the date its changes start needs the
units first transferred before that date. Summing them reads every first transfer of
the key (at 1M blocks, ~17k index entries per key of the bench world), so the checks
keep each key's all-time total as of the watermark they judged
(`detection_first_transfer_total`, written by `metareg.checks.first_transfer_totals`).

The next incremental check continues a kept total exactly: the total now is the total
then, less what the changed actions counted at the watermark (the last history version
of each at or before it: its payload, or nothing after a withdrawal), plus what they
count now (their current rows). Unchanged actions count the same at both ends. The
units before a date are then the total less the first transfers from that date on,
which the check reads anyway (`action_date` is never null).
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import Connection, bindparam, select

from metareg.db.tables.alerts import FirstTransferTotal
from metareg.db.tables.index import RecordVersion
from metareg.db.upsert import batched
from metareg.detection.rules.dc09_authorization_exceeded import COUNTED
from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Identity

LOOKUP_CHUNK = 500

totals_table = FirstTransferTotal
history = RecordVersion
NamedKey = tuple[str, str]  # (cooperative approach, authorization id)

_KEPT = select(
    totals_table.c.cooperative_approach_id,
    totals_table.c.authorization_id,
    totals_table.c.units,
).where(totals_table.c.upto == bindparam("upto"))
_VERSIONS_UPTO = (
    select(history.c.uid, history.c.payload)
    .where(
        history.c.registry_id == bindparam("registry"),
        history.c.record_type == "action",
        history.c.uid.in_(bindparam("uids", expanding=True)),
        history.c.id <= bindparam("upto"),
    )
    .order_by(history.c.id)
)


def kept(connection: Connection, keys: Iterable[NamedKey], upto: int) -> dict[NamedKey, int]:
    """The kept totals of these keys that hold as of `upto` (a watermark)."""
    wanted = set(keys)
    if not wanted:
        return {}
    found = connection.execute(_KEPT, {"upto": upto})
    return {(ca, aid): int(units) for ca, aid, units in found if (ca, aid) in wanted}


def counted(record: BlockRecord | None, key: NamedKey) -> int:
    """The units an action counts towards the key's total (0: not a first transfer of
    the key, or no action)."""
    if (
        record is None
        or record.action_type != COUNTED
        or (record.cooperative_approach_id, record.authorization_id) != key
    ):
        return 0
    return record.quantity


def counted_at(
    connection: Connection, identities: Iterable[Identity], upto: int
) -> dict[Identity, tuple[NamedKey, int] | None]:
    """What each action counted as of `upto`: (its key, units) where its version then
    was a first transfer naming an authorization, None otherwise (another action type,
    withdrawn, or not yet reported)."""
    by_registry: dict[str, set[str]] = {}
    for registry_id, record_type, uid in identities:
        if record_type == "action":
            by_registry.setdefault(registry_id, set()).add(uid)
    found: dict[Identity, tuple[NamedKey, int] | None] = {}
    for registry_id, uids in sorted(by_registry.items()):
        for chunk in batched(sorted(uids), LOOKUP_CHUNK):
            last: dict[str, str | None] = dict.fromkeys(chunk)
            params = {"registry": registry_id, "uids": chunk, "upto": upto}
            for uid, payload in connection.execute(_VERSIONS_UPTO, params):
                last[uid] = payload  # in id order: the last one stays
            for uid, payload in last.items():
                found[(registry_id, "action", uid)] = _counted_payload(payload)
    return found


def _counted_payload(payload: str | None) -> tuple[NamedKey, int] | None:
    if payload is None:
        return None
    record = orjson.loads(payload)
    authorization_id = record.get("authorization_id")
    if record.get("action_type") != COUNTED or not authorization_id:
        return None
    key = (str(record["cooperative_approach_id"]), str(authorization_id))
    return key, int(record["last_id"]) - int(record["first_id"]) + 1
