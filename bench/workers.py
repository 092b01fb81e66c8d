"""Work that a figure times in a child process, so its peak RSS is its own.

`python -m bench.workers KIND URL MANIFEST` runs one job and prints one JSON line:
{"seconds": ..., "records": ...}. The parent reads the child's peak RSS from wait4.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from metareg.db.engine import make_engine
from metareg.db.tables.index import CURRENT_TABLES
from metareg.records.canonical import DEFAULTS, record_uid
from metareg.sync.ingest import DEFAULT_BATCH, ingest_files


def ingest(url: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """`metareg ingest` of every registry's file: the function the command runs."""
    engine = make_engine(url)
    records = 0
    start = time.perf_counter()
    for registry, path in manifest["files"].items():
        report = ingest_files(engine, [Path(path)], registry)
        records += report.lines
        if report.counts.quarantined:
            raise SystemExit(f"{path}: {report.counts.quarantined} lines quarantined")
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "records": records}


def plain_insert(url: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """The floor: the same rows parsed and inserted with the driver's executemany into
    the current tables of the same kind of database, committed every ingest batch; no
    validation, identity, history or upsert."""
    engine = make_engine(url)
    columns = {
        kind: [c.name for c in model.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
        for kind, model in CURRENT_TABLES.items()
    }
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = {
        kind: f"INSERT INTO {model.__tablename__} ({', '.join(columns[kind])}) "  # type: ignore[attr-defined]
        f"VALUES ({', '.join([marker] * len(columns[kind]))})"
        for kind, model in CURRENT_TABLES.items()
    }
    json_columns = {"sectors", "activity_types", "purposes", "authorized_party_ids"}
    json_columns.add("authorized_entity_ids")
    slots = {kind: {c: n for n, c in enumerate(cols)} for kind, cols in columns.items()}
    json_slots = {
        kind: [n for n, c in enumerate(cols) if c in json_columns] for kind, cols in columns.items()
    }
    records = 0
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for registry, path in manifest["files"].items():
            pending: dict[str, list[list[Any]]] = {kind: [] for kind in sql}
            count = 0
            with open(path, "rb") as stream:
                for line in stream:
                    record = orjson.loads(line)
                    kind = record["record_type"]
                    record = {**DEFAULTS[kind], **record}  # NOT NULL columns with defaults
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
                    if count % DEFAULT_BATCH == 0:
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


def sync(url: str, manifest: dict[str, Any], base: str) -> dict[str, Any]:
    """Each registry of the world synced from the exchange server at `base` (loopback),
    pages of 1,000 (the exchange API's maximum), checks not run (timed on their own)."""
    from metareg.registries import RegistryConfig
    from metareg.sync.engine import sync_registry

    engine = make_engine(url)
    records = 0
    start = time.perf_counter()
    for registry in manifest["files"]:
        config = RegistryConfig(
            registry,
            registry,
            registry[:3],
            {
                "connector": {"type": "exchange", "url": f"{base}/{registry}", "page_size": 1000},
                "allow_private_network": True,
            },
        )
        result = sync_registry(engine, config)
        if not result.ok:
            raise SystemExit(f"sync of {registry} failed: {result.error}")
        records += result.received
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "records": records}


JOBS: dict[str, Any] = {"ingest": ingest, "plain_insert": plain_insert, "sync": sync}


def run_worker(kind: str, url: str, manifest: Path, *extra: str) -> dict[str, Any]:
    """Run a job in a child process: its JSON answer plus `peak_rss_mb`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.workers", kind, url, str(manifest), *extra],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"bench worker {kind} failed (exit {process.returncode})")
    answer: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    answer["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return answer


def main(argv: list[str]) -> None:
    kind, url, manifest, *extra = argv
    answer = JOBS[kind](url, json.loads(Path(manifest).read_text()), *extra)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
