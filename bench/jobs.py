"""The work a figure times, run in a child process of one target (revision of metareg).

`python -m bench.jobs KIND` reads its arguments as one JSON line on stdin and prints
its answer as one line `BENCH-ANSWER {json}` (with the metareg file it imported, so
the bench can check which revision ran). Barrier jobs (the workers figures) print
`BENCH-READY` once set up and start timing when a `go` line arrives, so several
children start together. Times are taken here, around the work only: the
interpreter's start and metareg's import are not in them.

metareg is reached through `bench.adapter.locate`, never imported by name, so the same
jobs run against the layout of another revision.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.adapter import capabilities, locate
from bench.harness import ANSWER, READY, quiet_logs


def _engine(url: str, migrate: bool = False) -> Any:
    engine = locate("make_engine")(url)
    if migrate:
        locate("upgrade")(engine)
    return engine


def _manifest(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(path).read_text())
    return document


def _ingest_world(engine: Any, manifest: dict[str, Any]) -> int:
    ingest_files = locate("ingest_files")
    records = 0
    for registry, path in manifest["files"].items():
        report = ingest_files(engine, [Path(path)], registry)
        records += report.lines
        if report.counts.quarantined:
            raise SystemExit(f"{path}: {report.counts.quarantined} lines quarantined")
    return records


def ingest(url: str, manifest: str) -> dict[str, Any]:
    """`metareg ingest` of every registry's file: the function the command runs."""
    engine = _engine(url, migrate=True)
    start = time.perf_counter()
    records = _ingest_world(engine, _manifest(manifest))
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "records": records}


JSON_COLUMNS = frozenset(
    {"sectors", "activity_types", "purposes", "authorized_party_ids", "authorized_entity_ids"}
)


def _drop_triggers(engine: Any) -> None:
    """Drop every trigger of a SQLite index (metareg's columnar copy notes each written
    row with one): the baseline is the driver's executemany and nothing else."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
        for name in list(names):
            connection.exec_driver_sql(f'DROP TRIGGER "{name}"')


def plain(url: str, manifest: str) -> dict[str, Any]:
    """The baseline of ingest and sync: the same rows parsed and inserted with the
    driver's executemany into the current tables of the same kind of database,
    committed every ingest batch; no validation, identity, history or upsert."""
    engine = _engine(url, migrate=True)
    _drop_triggers(engine)  # plain inserts: none of metareg's bookkeeping on write
    tables = locate("current_tables")
    defaults = locate("record_defaults")
    record_uid = locate("record_uid")
    batch = locate("ingest_batch")
    columns = {
        kind: [c.name for c in model.__table__.columns if c.name != "id"]
        for kind, model in tables.items()
    }
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = {
        kind: f"INSERT INTO {model.__tablename__} ({', '.join(columns[kind])}) "
        f"VALUES ({', '.join([marker] * len(columns[kind]))})"
        for kind, model in tables.items()
    }
    slots = {kind: {c: n for n, c in enumerate(cols)} for kind, cols in columns.items()}
    json_slots = {
        kind: [n for n, c in enumerate(cols) if c in JSON_COLUMNS] for kind, cols in columns.items()
    }
    records = 0
    # SQLite's own checkpoints, as the driver has them (metareg's engine moves them to a
    # thread of its own, `metareg.db.checkpoints`, and the dispose ends that thread).
    engine.dispose()
    raw = engine.raw_connection()
    if engine.dialect.name == "sqlite":
        raw.cursor().execute("PRAGMA wal_autocheckpoint=1000")
    start = time.perf_counter()
    try:
        cursor = raw.cursor()
        for registry, path in _manifest(manifest)["files"].items():
            pending: dict[str, list[list[Any]]] = {kind: [] for kind in sql}
            count = 0
            with open(path, "rb") as stream:
                for line in stream:
                    record = orjson.loads(line)
                    kind = record["record_type"]
                    record = {**defaults[kind], **record}  # NOT NULL columns with defaults
                    row = list(map(record.get, columns[kind]))
                    place = slots[kind]
                    row[place["registry_id"]] = registry
                    row[place["uid"]] = record_uid(record)
                    row[place["content_hash"]] = ""
                    for n in json_slots[kind]:
                        if row[n] is not None:
                            row[n] = orjson.dumps(row[n]).decode()
                    pending[kind].append(row)
                    count += 1
                    if count % batch == 0:
                        _flush(cursor, sql, pending)
                        raw.commit()
            _flush(cursor, sql, pending)
            raw.commit()
            records += count
    finally:
        raw.close()
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "records": records}


def _flush(cursor: Any, sql: dict[str, str], pending: dict[str, list[list[Any]]]) -> None:
    for kind, rows in pending.items():
        if rows:
            cursor.executemany(sql[kind], rows)
            rows.clear()


def _dc01_pairs(engine: Any) -> list[list[str]]:
    """Every open DC01 alert as [registry, record_id, registry, record_id], the smaller
    identity first: the shape of the DuckDB baseline's pairs."""
    from sqlalchemy import text

    pairs = []
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT evidence FROM alert WHERE rule = 'DC01' AND status = 'open'")
        )
        for (evidence,) in rows:
            entries = orjson.loads(evidence) if isinstance(evidence, str | bytes) else evidence
            a, b = sorted((e["registry"], e["record_id"]) for e in entries)
            pairs.append([*a, *b])
    return sorted(pairs)


def checks(url: str, as_of: str, increment: str | None, dc01: bool) -> dict[str, Any]:
    """On a copy of a loaded index: the first full check (writes every alert), a repeat
    (the steady state), then `increment`'s records ingested and the incremental check."""
    from datetime import date

    run_checks = locate("run_checks")
    day = date.fromisoformat(as_of)
    engine = _engine(url)
    start = time.perf_counter()
    summary = run_checks(engine, full=True, as_of=day)
    first = time.perf_counter() - start
    opened = dict(summary.open)
    start = time.perf_counter()
    run_checks(engine, full=True, as_of=day)
    repeat = time.perf_counter() - start
    answer: dict[str, Any] = {"first": first, "repeat": repeat, "open_alerts": opened}
    if dc01:
        answer["dc01_pairs"] = _dc01_pairs(engine)
    if increment:
        added = _ingest_world(engine, _manifest(increment))
        start = time.perf_counter()
        summary = run_checks(engine, as_of=day)
        answer["incremental"] = time.perf_counter() - start
        answer["incremental_records"] = added
        answer["incremental_was_full"] = bool(summary.full)
        # The steady state of a correction: the same records again, changed where no
        # finding looks; their ranges and keys are judged again, their alerts confirmed.
        with tempfile.TemporaryDirectory(prefix="bench-corrected-") as folder:
            _ingest_world(engine, _corrected(_manifest(increment), Path(folder)))
            start = time.perf_counter()
            summary = run_checks(engine, as_of=day)
            answer["corrected"] = time.perf_counter() - start
        answer["corrected_changes"] = {
            "opened": sum(summary.opened.values()) + sum(summary.reopened.values()),
            "resolved": sum(summary.resolved.values()),
            "was_full": bool(summary.full),
        }
    engine.dispose()
    return answer


def _corrected(manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The manifest of `manifest`'s records, each corrected in a field no rule reads
    (its `sectors`), written to `folder`."""
    files = {}
    for registry, path in manifest["files"].items():
        target = folder / f"{registry}.jsonl"
        with open(path, "rb") as lines, open(target, "wb") as out:
            for line in lines:
                if line.strip():
                    record = orjson.loads(line)
                    record["sectors"] = ["bench-corrected"]
                    out.write(orjson.dumps(record) + b"\n")
        files[registry] = str(target)
    return {**manifest, "files": files}


def _registry(registry: str, base: str) -> Any:
    return locate("registry_config")(
        registry,
        registry,
        registry[:3],
        {
            "connector": {"type": "exchange", "url": f"{base}/{registry}", "page_size": 1000},
            "allow_private_network": True,
        },
    )


def _no_checks(function: Any) -> dict[str, Any]:
    """Revisions before issue 12 ran the checks inside a sync unless told not to
    (`run_checks=False`); later ones never do (the caller runs them after a round)."""
    import inspect

    return {"run_checks": False} if "run_checks" in inspect.signature(function).parameters else {}


def sync(url: str, manifest: str, base: str) -> dict[str, Any]:
    """Each registry of the world synced from the exchange server at `base` (loopback),
    pages of 1,000 (the exchange API's maximum), checks not run (timed on their own)."""
    sync_registry = locate("sync_registry")
    engine = _engine(url, migrate=True)
    records = 0
    start = time.perf_counter()
    for registry in _manifest(manifest)["files"]:
        result = sync_registry(engine, _registry(registry, base), **_no_checks(sync_registry))
        if not result.ok:
            raise SystemExit(f"sync of {registry} failed: {result.error}")
        records += result.received
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "records": records}


def _barrier() -> None:
    print(READY, file=_ANSWERS, flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the bench did not say go")


def sync_worker(url: str, manifest: str, base: str, index: int, claims: str) -> dict[str, Any]:
    """One of several `metareg run`-style workers sharing the registries of a world:
    each goes through the registries largest first (as metareg's rounds take them once
    their sizes are known, `Worker.claim_order`; here, on a first sync, by the size of
    the world's file), claims the next one nobody has claimed (a file created
    exclusively in `claims`, so no registry is synced twice) and syncs it under
    metareg's sync lease. `index` only names the worker."""
    make_worker = locate("sync_worker")
    files = _manifest(manifest)["files"]
    worker = make_worker(
        _engine(url), [_registry(r, base) for r in files], **_no_checks(make_worker)
    )
    order = sorted(worker.registries, key=lambda name: (-Path(files[name]).stat().st_size, name))
    _barrier()
    start, records, synced = time.time(), 0, []
    for registry in order:
        try:
            (Path(claims) / registry).touch(exist_ok=False)
        except FileExistsError:
            continue
        result = worker.sync_one(registry)
        if result is None:
            raise SystemExit(f"{registry}: lease held by another worker although unclaimed")
        if not result.ok:
            raise SystemExit(f"sync of {registry} failed: {result.error}")
        records += result.received
        synced.append(registry)
    return {"start": start, "end": time.time(), "records": records, "synced": synced}


def detection_worker(url: str, as_of: str) -> dict[str, Any]:
    """One process of a partitioned full check: takes partitions until none is left."""
    from datetime import date

    run_partitions = locate("partitioned_check")
    engine = _engine(url)
    _barrier()
    start = time.time()
    run_partitions(engine, as_of=date.fromisoformat(as_of))
    return {"start": start, "end": time.time()}


def checks_full(url: str, as_of: str) -> dict[str, Any]:
    """One full single-process check (not timed): the reference for a partitioned one."""
    from datetime import date

    engine = _engine(url)
    locate("run_checks")(engine, full=True, as_of=date.fromisoformat(as_of))
    engine.dispose()
    return {}


def open_alerts(url: str) -> dict[str, Any]:
    from sqlalchemy import text

    engine = _engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT fingerprint FROM alert WHERE status = 'open'"))
        fingerprints = sorted(row[0] for row in rows)
    return {"fingerprints": fingerprints}


def api_prepare(url: str, sample: int, seed: int) -> dict[str, Any]:
    """An API key on the index, and a seeded sample of its issued blocks to look up."""
    import random

    from sqlalchemy import text

    engine = _engine(url)
    with engine.begin() as connection:
        _, token = locate("create_key")(connection, "bench", "oversight")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT cooperative_approach_id, party_registry_id, first_transferring_party_id, "
                "first_id, last_id, vintage FROM actions WHERE action_type = 'Issuance' "
                "ORDER BY id"
            )
        ).all()
    chosen = random.Random(seed).sample(rows, min(sample, len(rows)))
    return {"token": token, "blocks": [dict(row._mapping) for row in chosen]}


def raw_lookups(url: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The floors under the API's GET, each block's range looked up closed loop on one
    connection, (latencies in ms, lookups/s) of each:

    - `index`: the index's own range query (`metareg.index.query.intersecting`, what
      the endpoint starts from), as the bench measured it before issue 18;
    - `driver`: the same lookups in plain SQL on the driver connection (no SQLAlchemy,
      no dicts): the current actions and holdings whose range meets the block, found
      through the (approach, registry, first_id) index bounded below by the pair's
      longest block, computed once before timing as a data engineer would."""
    engine = _engine(url)
    found = {"index": _index_lookups(engine, blocks), "driver": _driver_lookups(engine, blocks)}
    engine.dispose()
    return found


def _closed_loop(blocks: list[dict[str, Any]], lookup: Any) -> dict[str, Any]:
    latencies = []
    start = time.perf_counter()
    for block in blocks:
        t0 = time.perf_counter()
        lookup(block)
        latencies.append((time.perf_counter() - t0) * 1000)
    return {"latencies_ms": latencies, "rate": len(blocks) / (time.perf_counter() - start)}


def _index_lookups(engine: Any, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    intersecting = locate("range_query")
    with engine.connect() as connection:
        return _closed_loop(
            blocks,
            lambda b: intersecting(
                connection,
                b["cooperative_approach_id"],
                b["party_registry_id"],
                b["first_id"],
                b["last_id"],
            ),
        )


def _driver_lookups(engine: Any, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    tables = locate("current_tables")
    names = [tables[kind].__tablename__ for kind in ("action", "holding")]
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    union = " UNION ALL ".join(
        f"SELECT cooperative_approach_id, party_registry_id, last_id - first_id AS span FROM {name}"
        for name in names
    )
    lookups = [
        f"SELECT * FROM {name} WHERE cooperative_approach_id = {marker} "
        f"AND party_registry_id = {marker} AND first_id >= {marker} AND first_id <= {marker} "
        f"AND last_id >= {marker} ORDER BY first_id"
        for name in names
    ]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            f"SELECT cooperative_approach_id, party_registry_id, max(span) FROM ({union}) spans "
            "GROUP BY cooperative_approach_id, party_registry_id"
        )
        spans = {(ca, registry): span for ca, registry, span in cursor.fetchall()}

        def lookup(block: dict[str, Any]) -> None:
            ca, registry = block["cooperative_approach_id"], block["party_registry_id"]
            low = block["first_id"] - spans[(ca, registry)]
            for sql in lookups:
                cursor.execute(sql, (ca, registry, low, block["last_id"], block["first_id"]))
                cursor.fetchall()

        return _closed_loop(blocks, lookup)
    finally:
        raw.close()


# The programmes figure's world: `blocks` ITMO issuances of UNITS programme units each,
# 100 to a Verra batch, and `ranges` programme statuses (ranges) over those units,
# spread evenly over the issuances (5 a block by default: 1M blocks, 5M ranges).
PROGRAMME_UNITS = 1_000
PROGRAMME_PIECES = 5
PROGRAMME_SERIAL = "{batch}-{first}-{last}-VCS-VCU-1507-VER-ID-14-1340-01012022-31122022-0"
PROGRAMME_ITMO_REGISTRY = "IDN01"
PROGRAMME_SOURCE = "VCS"
# Records a bulk planting writes in one transaction (the ingest writes 5,000).
PLANT_BATCH = 20_000


def programme_planted(blocks: int) -> int:
    """The conflicts the world of `blocks` plants: a voluntary retirement on every 50th
    block (DC15), a not-authorized label on every 70th that is not a 50th (DC16)."""
    return sum(1 for n in range(blocks) if n % 50 == 0 or n % 70 == 0)


def _pieces(blocks: int, ranges: int, n: int) -> int:
    return ranges // blocks + (1 if n < ranges % blocks else 0)


def programme_records(
    blocks: int, ranges: int
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    """The world's records (canonical, as a registry and the programme would send them):
    `blocks` ITMO issuances resting on Verra units and `ranges` statuses about those
    units, each issuance's 1,000 units cut into its share of the statuses: most issued
    and labelled authorized or retired for Article 6; every 50th block's last piece
    retired for a voluntary claim (DC15), every 70th's labelled not authorized (DC16)."""
    if not 0 < blocks <= ranges <= blocks * PROGRAMME_UNITS:
        raise SystemExit(
            f"programme ranges must be between the blocks and {PROGRAMME_UNITS:,} a block"
        )

    def itmos() -> Iterator[dict[str, Any]]:
        for n in range(blocks):
            batch, first = 10_000 + n // 100, (n % 100) * PROGRAMME_UNITS + 1
            serial = PROGRAMME_SERIAL.format(
                batch=batch, first=first, last=first + PROGRAMME_UNITS - 1
            )
            yield {
                "record_type": "action",
                "action_id": f"ISS-{n}",
                "action_date": "2024-02-01",
                "action_type": "Issuance",
                "cooperative_approach_id": "CA0001",
                "party_registry_id": PROGRAMME_ITMO_REGISTRY,
                "first_transferring_party_id": "IDN",
                "first_id": n * PROGRAMME_UNITS + 1,
                "last_id": (n + 1) * PROGRAMME_UNITS,
                "vintage": 2022,
                "underlying_registry_id": "VCS",
                "first_unit_id": serial,
                "last_unit_id": serial,
            }

    def statuses() -> Iterator[dict[str, Any]]:
        for n in range(blocks):
            batch, first = 10_000 + n // 100, (n % 100) * PROGRAMME_UNITS + 1
            pieces = _pieces(blocks, ranges, n)
            for j in range(pieces):
                low = first + j * PROGRAMME_UNITS // pieces
                high = first + (j + 1) * PROGRAMME_UNITS // pieces - 1
                serial = PROGRAMME_SERIAL.format(batch=batch, first=low, last=high)
                status: dict[str, Any] = {
                    "record_type": "unit_status",
                    "status_id": f"S-{n}-{j}",
                    "underlying_registry_id": "VCS",
                    "first_unit_id": serial,
                    "status": "issued",
                    "status_date": "2023-06-01",
                    "article6_label": "authorized",
                }
                if j == pieces - 1:
                    if n % 50 == 0:
                        status |= {"status": "retired", "purpose": "voluntary"}
                    elif n % 70 == 0:
                        status["article6_label"] = "not-authorized"
                    else:
                        status |= {"status": "retired", "purpose": "article6"}
                status["last_unit_id"] = serial
                yield status

    return itmos(), statuses()


def programme_files(folder: Path, blocks: int, ranges: int) -> dict[str, Path]:
    """The world as JSON Lines files, one per reporting registry (what `metareg
    ingest` reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for registry, records in zip(
        (PROGRAMME_ITMO_REGISTRY, PROGRAMME_SOURCE), programme_records(blocks, ranges), strict=True
    ):
        files[registry] = folder / f"{registry}.jsonl"
        with files[registry].open("wb") as out:
            for record in records:
                out.write(orjson.dumps(record) + b"\n")
    return files


def plant(engine: Any, registry: str, records: Iterable[dict[str, Any]], source: str) -> int:
    """Write `records` into the index as `metareg ingest` of a file `source` holding
    them, one a line, would on a fresh index (every record new): the same current rows,
    derived unit ranges, history rows, registry and block spans, built by the index
    writer's own row makers, but inserted in bulk with no lookup of what is there and no
    validation (the records are the generator's, valid by construction;
    tests/test_bench_smoke.py holds the planted index equal to the ingested one)."""
    writer_class = locate("index_writer")
    incoming = locate("incoming").from_record
    write_rows = locate("write_rows")
    tables = locate("current_tables")
    history = locate("history_table").__table__
    history_columns = locate("history_columns")
    with engine.begin() as connection:
        locate("ensure_registry")(connection, registry)
    written = 0
    records = iter(records)
    while True:
        chunk = list(itertools.islice(records, PLANT_BATCH))
        if not chunk:
            return written
        with engine.begin() as connection:
            writer = writer_class(connection, registry, source)
            kinds: dict[str, list[Any]] = {}
            past = []
            for number, record in enumerate(chunk, start=written + 1):
                op = incoming(record, orjson.dumps(record).decode(), f"line {number}")
                past.append(writer._history_row(op, "new", None))
                kinds.setdefault(op.record_type, []).append(writer._current_row(op.record_type, op))
            write_rows(connection, history, history_columns, past, batch_size=PLANT_BATCH)
            for kind, rows in kinds.items():
                columns = writer._columns[kind]
                write_rows(
                    connection, tables[kind].__table__, columns, rows, batch_size=PLANT_BATCH
                )
                if kind in ("action", "holding"):
                    writer._widen_spans(columns, rows)
        written += len(chunk)


def programmes(url: str, blocks: int, ranges: int | None = None) -> dict[str, Any]:
    """On a fresh index of `blocks` ITMO issuances and `ranges` (5 x `blocks` unless
    given) programme ranges, planted in bulk: the DC15/DC16 pass over everything, and
    the DC03 pass over the same index (each the fastest of three, alternating, on a new
    connection; and the faster of two on one warm connection)."""
    ranges = ranges or blocks * PROGRAMME_PIECES
    engine = _engine(url, migrate=True)
    start = time.perf_counter()
    itmos, statuses = programme_records(blocks, ranges)
    plant(engine, PROGRAMME_ITMO_REGISTRY, itmos, "bench:itmos.jsonl")
    plant(engine, PROGRAMME_SOURCE, statuses, "bench:statuses.jsonl")
    planting = time.perf_counter() - start
    # Each pass three times, alternating, the fastest of each kept, each on a new
    # connection: SQLite's page cache empty, as a check finds it after any write (a
    # write by another connection empties it), the operating system's file cache warm.
    # Then twice more on one connection (its page cache warm: what a repeat check on
    # an unchanged index may see), for context.
    times: dict[str, list[float]] = {"programme_pass": [], "units_pass": []}
    warm: dict[str, list[float]] = {"programme_pass": [], "units_pass": []}
    found: list[Any] = []
    for _ in range(3):
        for name in times:
            engine.dispose()
            with engine.connect() as connection:
                start = time.perf_counter()
                answer = locate(name)(connection)
                times[name].append(time.perf_counter() - start)
            if name == "programme_pass":
                found = answer
    with engine.connect() as connection:
        for _ in range(2):
            for name in warm:
                start = time.perf_counter()
                locate(name)(connection)
                warm[name].append(time.perf_counter() - start)
    engine.dispose()
    programme_seconds, units_seconds = min(times["programme_pass"]), min(times["units_pass"])
    expected = programme_planted(blocks)
    if len(found) != expected:
        raise SystemExit(f"the programme pass found {len(found)} conflicts, {expected} planted")
    return {
        "programme_pass": programme_seconds,
        "units_pass": units_seconds,
        "programme_pass_warm": min(warm["programme_pass"]),
        "units_pass_warm": min(warm["units_pass"]),
        "findings": len(found),
        "blocks": blocks,
        "ranges": ranges,
        "planting": planting,
    }


def migrate(url: str) -> dict[str, Any]:
    _engine(url, migrate=True).dispose()
    return {}


def probe() -> dict[str, Any]:
    """What this revision offers the figures (see bench.adapter.NEEDS)."""
    return {"capabilities": capabilities()}


JOBS: dict[str, Any] = {
    "ingest": ingest,
    "plain": plain,
    "checks": checks,
    "sync": sync,
    "sync_worker": sync_worker,
    "detection_worker": detection_worker,
    "checks_full": checks_full,
    "open_alerts": open_alerts,
    "api_prepare": api_prepare,
    "raw_lookups": raw_lookups,
    "programmes": programmes,
    "migrate": migrate,
    "probe": probe,
}

# The answer line goes to the real stdout; everything else a job prints (logs, rich
# output) goes to stderr, so the pipe the bench reads never fills with chatter.
_ANSWERS = os.fdopen(os.dup(1), "w")


def main(argv: list[str]) -> None:
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    quiet_logs()
    (kind,) = argv
    arguments = json.loads(sys.stdin.readline())
    answer = JOBS[kind](**arguments)
    import metareg

    answer["metareg_file"] = metareg.__file__
    print(ANSWER + json.dumps(answer), file=_ANSWERS, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
