"""A registry reporting blocks of the largest serial range under one authorization.

A block holds up to 10**18 - 1 units, so eleven first transfers of such blocks pass
2**63, past every 64-bit integer: SQLite's `sum()` raised "integer overflow" on them,
which stopped the full check (DC09's totals), the incremental one, the authorization
check (a server error) and a sync's reconciliation of the registry's totals. Each must
go on and count them exactly, on both backends.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from metareg.checks.runner import run_checks
from metareg.records.identifiers import MAX_SERIAL
from metareg.sync.reconcile import index_totals
from tests.api.conftest import AUTH_ID, Api, idn_records
from tests.helpers import action


def _first_transfers(numbers: range) -> list[dict[str, Any]]:
    return [
        action(
            f"FT-{n}",
            1,
            MAX_SERIAL,
            "First transfer",
            action_date="2024-03-15",
            authorization_id=AUTH_ID,
            acquiring_party_id="JPN",
        )
        for n in numbers
    ]


def test_first_transfers_past_64_bits_are_judged_answered_and_reconciled(api: Api) -> None:
    api.ingest(
        "IDN01",
        [
            idn_records()[0],  # the API world's authorization: 200,000 units, NDC, JPN
            action("ISS-1", 1, MAX_SERIAL, action_date="2024-02-01"),
            *_first_transfers(range(10)),
        ],
    )
    day = date(2025, 1, 1)
    first = run_checks(api.engine, as_of=day)
    assert first.full
    assert first.open.get("DC09"), first.open  # 10 * (10**18 - 1) units of 200,000

    api.ingest("IDN01", _first_transfers(range(10, 11)))
    later = run_checks(api.engine, as_of=day)
    assert not later.full
    assert later.open.get("DC09"), later.open
    assert later.resolved.get("DC09", 0) == 0

    total = 11 * MAX_SERIAL
    assert total > 2**63
    body = {  # one more first transfer: the authorization is spent many times over
        "identifier": "CA0001-IDN01-IDN-1-10-2023",
        "action_type": "First transfer",
        "acquiring_party_id": "JPN",
        "authorization_id": AUTH_ID,
        "purpose": "NDC",
        "date": "2025-01-15",
    }
    response = api.client.post("/v1/checks/authorization", json=body, headers=api.oversight)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["quantity_first_transferred"] == float(total)
    assert answer["authorized_quantity"] == 200000
    assert answer["quantity_available"] == float(200000 - total)
    assert answer["decision"] == "denied"
    assert {r["code"] for r in answer["reasons"] if r["outcome"] == "failed"} >= {"DC09"}

    with api.engine.connect() as connection:
        totals = index_totals(connection, "IDN01")
    assert totals[("action", "CA0001", 2023, "First transfer")] == (11, total)
    assert totals[("action", "CA0001", 2023, "Issuance")] == (1, MAX_SERIAL)
