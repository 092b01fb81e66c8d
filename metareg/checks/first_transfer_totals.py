"""Keeping DC09's totals between checks (`detection_first_transfer_total`).

After each check the table holds, per authorization key, the units first transferred
under it as of the watermark the check judged (`upto`), for the keys whose total that
check knows: a full check keeps the totals its authorization pass summed; an
incremental check keeps those it continued or summed, carries the others forward
unless a first transfer of their key changed, and drops every row it cannot vouch for.
A row is read only while its `upto` is the watermark a check starts from
(`detection.read.kept_totals`), so a check that does not keep the totals (a partitioned
one) leaves rows that are never read again.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, update

from metareg.db.tables.alerts import FirstTransferTotal
from metareg.db.upsert import upsert
from metareg.detection.passes.scope import Detected

totals_table = FirstTransferTotal
# The column is a 64-bit integer: a total past it (blocks of 10**18 units: `db.sums`)
# is not kept, and the next check sums that key again.
STORABLE = 2**63 - 1
_DELETE_KEY = delete(totals_table).where(
    totals_table.c.cooperative_approach_id == bindparam("key_ca"),
    totals_table.c.authorization_id == bindparam("key_aid"),
)


def keep(connection: Connection, detected: Detected, since: int | None, upto: int) -> None:
    """Keep the totals of a check that judged the index as of `upto`: a full check
    (`since` None) or an incremental one from watermark `since`."""
    t = totals_table.c
    storable = {k: units for k, units in detected.first_transferred.items() if units <= STORABLE}
    if since is None:
        connection.execute(delete(totals_table))
    else:
        dropped = (detected.totals_changed | set(detected.first_transferred)) - set(storable)
        if dropped:
            connection.execute(
                _DELETE_KEY, [{"key_ca": ca, "key_aid": aid} for ca, aid in sorted(dropped)]
            )
        connection.execute(delete(totals_table).where(t.upto != since))
        connection.execute(update(totals_table).where(t.upto == since).values(upto=upto))
    rows = [
        {"cooperative_approach_id": ca, "authorization_id": aid, "units": units, "upto": upto}
        for (ca, aid), units in sorted(storable.items())
    ]
    upsert(connection, totals_table, rows, key=("cooperative_approach_id", "authorization_id"))
