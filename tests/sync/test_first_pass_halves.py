"""The first pass over a large JSON Lines file made in two halves at once
(`metareg.records.batches`: `named_in` here, `named_from` in the reading process,
`repeated_lines` put together): whatever line the file is split at, the identities
named more than once and their last lines are exactly those of the one-process pass
(`identity_index`), so the batches, and what the writer makes of them, are the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metareg.records.batches import (
    identity_index,
    middle_line,
    named_from,
    named_in,
    repeated_lines,
)
from metareg.records.files import MAX_LINE_BYTES
from metareg.sync import ingest
from metareg.sync.ingest import first_pass
from tests.reliability.test_lying_files import AUTHORIZATION, action

HOLDING = {
    "record_type": "holding",
    "as_of": "2026-06-30",
    "account_id": "acct-1",
    "account_type": "holding",
    "cooperative_approach_id": "CA-1",
    "party_registry_id": "GHA01",
    "first_transferring_party_id": "GHA",
    "first_id": 1,
    "last_id": 10,
    "vintage": 2022,
}


def tangled(path: Path) -> Path:
    """Identities named again within each half and across them, a holding named again
    with its numbers written as floats (the same identity once normalized), a tombstone,
    and lines no pass can name: blank, not JSON, not UTF-8, too long."""
    lines = [json.dumps(AUTHORIZATION).encode()]
    lines += [json.dumps(action(n)).encode() for n in range(1, 12)]
    lines += [json.dumps(HOLDING).encode(), b"", b"{not json", b"\xff\xfe not utf-8"]
    lines += [json.dumps(action(3, quantity_tco2e=7)).encode()]  # again, near
    lines += [b"x" * (MAX_LINE_BYTES + 10)]
    lines += [json.dumps(action(n)).encode() for n in range(12, 20)]
    lines += [json.dumps({**HOLDING, "first_id": 1.0, "last_id": 10.0}).encode()]
    lines += [json.dumps(action(5, quantity_tco2e=9)).encode()]  # again, far
    lines += [
        json.dumps(
            {"record_type": "withdrawal", "of": {"record_type": "action", "action_id": "A-1"}}
        ).encode(),
        json.dumps(action(14, quantity_tco2e=2)).encode(),
        b"",
    ]
    path.write_bytes(b"\n".join(lines) + b"\n" + json.dumps(action(19)).encode())  # no last LF
    return path


def line_starts(path: Path) -> list[int]:
    data = path.read_bytes()
    return [n + 1 for n, byte in enumerate(data[:-1]) if byte == ord("\n")]


def split_at(path: Path, start: int) -> dict[int, int]:
    (second,) = list(named_from(str(path), start))
    return {hash(key): line for key, line in repeated_lines(named_in(path, start), second).items()}


def test_every_split_of_the_file_finds_what_one_pass_finds(tmp_path: Path) -> None:
    path = tangled(tmp_path / "tangled.jsonl")
    whole = identity_index(path)
    assert len(whole) == 6  # A-1, A-3, A-5, A-14, A-19 and the holding: the premise
    starts = line_starts(path)
    assert len(starts) > 30
    for start in starts:
        assert split_at(path, start) == whole, f"split at byte {start}"


def test_the_file_is_split_at_a_line_near_its_middle(tmp_path: Path) -> None:
    path = tangled(tmp_path / "tangled.jsonl")
    middle = middle_line(path)
    assert middle is not None and middle in line_starts(path)
    assert middle >= path.stat().st_size // 2
    # The ingest's first pass (the second half in a child process) finds the same.
    repeated = first_pass(path)
    assert repeated is not None
    assert {hash(key): line for key, line in repeated.items()} == identity_index(path)


def test_a_file_that_does_not_split_is_read_whole_by_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    large = tangled(tmp_path / "tangled.jsonl")  # past the size the halves are made to
    monkeypatch.setattr(ingest, "SPLIT_BYTES", large.stat().st_size - 1)
    assert first_pass(large) is None
    csv = tmp_path / "rows.csv"
    csv.write_text("record_type,action_id\naction,A-1\naction,A-1\n")
    one_line = tmp_path / "one.jsonl"
    one_line.write_bytes(json.dumps(action(1)).encode())  # no line starts past its middle
    assert middle_line(csv) is None and first_pass(csv) is None
    assert middle_line(one_line) is None and first_pass(one_line) is None
