"""The programme pass loses nothing by its prefilter and its pairing: on random worlds
of ITMO issuances resting on programme units (parsed serials, batch ids, unparsable
texts) and programme statuses, the screened pass finds exactly what judging every
(issuance, status) pair finds, and so does the incremental check. On SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import Engine

from metareg.detection.passes import programmes
from metareg.sync.ingest import ingest_files
from tests.helpers import action, write_jsonl

VERRA = "{batch}-{first}-{last}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
GS = "GS1-1-UG-GS11236-16-2024-{batch}-{first}-{last}"
CDC = "CDC_1_1_1_321_14_{batch}"


def units(rng: random.Random, programme: str) -> str:
    batch = rng.choice((30001, 30002))
    if programme == "CERCARBONO":
        return CDC.format(batch=batch) + rng.choice(("", " 1 to 40"))
    first = rng.randint(1, 200)
    last = first + rng.randint(0, 60)
    return (VERRA if programme == "VCS" else GS).format(batch=batch, first=first, last=last)


def world(rng: random.Random) -> tuple[list[dict], list[dict]]:
    issuances, statuses = [], []
    for n in range(40):
        programme = rng.choice(("VCS", "GS", "CERCARBONO"))
        unit = units(rng, programme)
        issuances.append(
            action(
                f"ISS-{n}",
                n * 1000 + 1,
                n * 1000 + 100,
                underlying_registry_id=programme,
                first_unit_id=unit,
                last_unit_id=unit,
            )
        )
    for n in range(120):
        programme = rng.choice(("VCS", "GS", "CERCARBONO"))
        unit = units(rng, programme)
        statuses.append(
            {
                "record_type": "unit_status",
                "status_id": f"S-{n}",
                "underlying_registry_id": programme,
                "first_unit_id": unit,
                "last_unit_id": unit,
                "status": rng.choice(("issued", "retired", "cancelled", "buffer")),
                "status_date": "2024-05-01",
                "purpose": rng.choice(("voluntary", "article6", "unknown", "compliance")),
                "article6_label": rng.choice(("authorized", "not-authorized", "unknown")),
            }
        )
    return issuances, statuses


def test_the_screened_pass_equals_judging_every_pair(engine: Engine, tmp_path: Path) -> None:
    rng = random.Random(15)
    for round_number in range(3):
        issuances, statuses = world(rng)
        ingest_files(engine, [write_jsonl(tmp_path / f"i{round_number}.jsonl", issuances)], "IDN01")
        ingest_files(engine, [write_jsonl(tmp_path / f"s{round_number}.jsonl", statuses)], "VCS")
        with engine.connect() as connection:
            screened = sorted(f.fingerprint for f in programmes.find(connection))
            every = sorted(f.fingerprint for f in programmes.find_exhaustive(connection))
            some = programmes.find(connection, {"GS"})
        assert screened == every
        assert len(set(screened)) == len(screened)  # each pair once
        assert screened, "the random world raised nothing: the test would prove nothing"
        assert {f.scope for f in some} <= {"unit:GS"}
