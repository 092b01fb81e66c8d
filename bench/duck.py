"""The DuckDB baseline: what a data engineer would write instead of metareg's full check.

`python -m bench.duck load WORLD_FOLDER DUCKDB_FILE` loads a generated world's JSON
Lines into a DuckDB file (once per size, not timed): the current blocks, i.e. every
action (the generator never reports one twice) and each registry's latest holdings
snapshot, with their reporting registry and identity, in file order.

`python -m bench.duck check DUCKDB_FILE` is the timed part, run in a fresh process:
it opens the file and computes, per (cooperative approach, originating registry),

- the overlap clusters: maximal runs of overlapping blocks (window functions: a
  running maximum of `last_id` in `first_id` order starts a new cluster wherever a
  block begins past every block before it), counted with the blocks they hold;
- the DC01 pairs: two distinct `Issuance` actions whose ranges overlap (joined within
  their cluster only, so the join never goes quadratic in a pair).

It prints one JSON line: seconds from opening the file to the last result fetched,
the counts, and every DC01 pair as [registry, action_id, registry, action_id] (the
smaller identity first), which the bench compares with metareg's DC01 alerts.
This module imports nothing of metareg: the baseline is the same for every revision.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

COLUMNS = {
    "record_type": "VARCHAR",
    "action_id": "VARCHAR",
    "action_type": "VARCHAR",
    "cooperative_approach_id": "VARCHAR",
    "party_registry_id": "VARCHAR",
    "first_id": "BIGINT",
    "last_id": "BIGINT",
    "as_of": "VARCHAR",
    "account_id": "VARCHAR",
}

LOAD = (
    """
CREATE TABLE records AS
SELECT regexp_extract(filename, '([^/]+)\\.jsonl$', 1) AS registry, *
FROM read_json($files, format = 'newline_delimited', columns = $columns, filename = true)
""",
    """
CREATE TABLE blocks AS
SELECT cooperative_approach_id AS ca, party_registry_id AS reg, first_id, last_id,
       registry, action_id AS uid, action_type = 'Issuance' AS is_issuance
FROM records WHERE record_type = 'action'
UNION ALL
SELECT h.cooperative_approach_id, h.party_registry_id, h.first_id, h.last_id,
       h.registry, h.as_of || '|' || h.account_id || '|' || h.first_id, false
FROM records h
JOIN (SELECT registry, max(as_of) AS as_of FROM records
      WHERE record_type = 'holding' GROUP BY registry) latest USING (registry, as_of)
WHERE h.record_type = 'holding'
""",
    "DROP TABLE records",
)

# One order for both windows (ties broken by identity), so a cluster's start and its
# running count see the rows in the same sequence.
CLUSTERS = """
CREATE TEMP TABLE clustered AS
WITH reach AS (
  SELECT *, max(last_id) OVER (
      PARTITION BY ca, reg ORDER BY first_id, last_id, registry, uid
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM blocks)
SELECT *, sum(CASE WHEN reach IS NULL OR first_id > reach THEN 1 ELSE 0 END) OVER (
      PARTITION BY ca, reg ORDER BY first_id, last_id, registry, uid
      ROWS UNBOUNDED PRECEDING) AS cluster
FROM reach
"""

CLUSTER_COUNTS = """
SELECT count(*), coalesce(sum(n), 0) FROM (
  SELECT count(*) AS n FROM clustered GROUP BY ca, reg, cluster HAVING count(*) > 1)
"""

DC01_PAIRS = """
WITH issuances AS (SELECT * FROM clustered WHERE is_issuance)
SELECT a.registry, a.uid, b.registry, b.uid
FROM issuances a JOIN issuances b USING (ca, reg, cluster)
WHERE (a.registry, a.uid) < (b.registry, b.uid)
  AND a.first_id <= b.last_id AND b.first_id <= a.last_id
"""


def load(world: Path, database: Path) -> dict[str, Any]:
    import duckdb

    database.unlink(missing_ok=True)
    files = sorted(str(path) for path in world.glob("*.jsonl"))
    with duckdb.connect(str(database)) as connection:
        connection.execute(LOAD[0], {"files": files, "columns": COLUMNS})
        for statement in LOAD[1:]:
            connection.execute(statement)
        (blocks,) = connection.execute("SELECT count(*) FROM blocks").fetchone() or (0,)
        connection.execute("CHECKPOINT")
    return {"blocks": blocks}


def check(database: Path) -> dict[str, Any]:
    import duckdb

    start = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        connection.execute(CLUSTERS)
        clusters, clustered_blocks = connection.execute(CLUSTER_COUNTS).fetchone() or (0, 0)
        pairs = connection.execute(DC01_PAIRS).fetchall()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "clusters": clusters,
        "clustered_blocks": int(clustered_blocks),
        "dc01_pairs": sorted([list(pair) for pair in pairs]),
        "threads": _threads(),
    }


def _threads() -> int:
    import duckdb

    with duckdb.connect() as connection:
        (threads,) = connection.execute("SELECT current_setting('threads')").fetchone() or (0,)
    return int(threads)


def main(argv: list[str]) -> None:
    command, *paths = argv
    if command == "load":
        answer = load(Path(paths[0]), Path(paths[1]))
    elif command == "check":
        answer = check(Path(paths[0]))
    else:
        raise SystemExit(f"unknown command {command!r} (load | check)")
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
